"""App assembly only: the Reflex app, every page, and the REST API at /api/v1."""

import reflex as rx

from backend.api import SecurityHeaders, create_api
from backend.job_handlers import register_job_handlers
from pages.account import account_page
from pages.alerts import alerts_page
from pages.assistant import assistant_page
from pages.assistant_documents import documents_page
from pages.audit import audit_page
from pages.bill import bill_page
from pages.bills import bills_page
from pages.branches import branches_page
from pages.catalog import catalog_page
from pages.claims import claims_page
from pages.controlled import controlled_page
from pages.dashboard import dashboard_page
from pages.emergency_supply import emergency_supply_page
from pages.feedback import feedback_page
from pages.imports import imports_page
from pages.interactions import interactions_page
from pages.inventory import inventory_page, medicine_page
from pages.invite import invite_page
from pages.landing import landing_page, suspended_page
from pages.message_templates import message_templates_page
from pages.notification_channels import notification_channels_page
from pages.notifications import notifications_page
from pages.password_reset import forgot_page, reset_page
from pages.patient_messages import patient_messages_page
from pages.patients import patient_page, patients_page
from pages.platform import platform_page, platform_sign_in_page
from pages.portal import portal_home_page
from pages.portal_chat import portal_chat_page
from pages.portal_customer import portal_prescriptions_page, portal_upload_page
from pages.portal_feedback import portal_feedback_page
from pages.portal_optout import portal_stop_page
from pages.portal_refill import portal_refill_page
from pages.portal_requests import portal_requests_page
from pages.pos import pos_page
from pages.prescription_unclaimed import unclaimed_page
from pages.prescriptions import intake_page, queue_page, rx_page
from pages.purchasing import purchasing_page
from pages.recall import recall_page
from pages.reorder import reorder_page
from pages.reports import reports_page
from pages.retention import retention_page
from pages.schedules import schedules_page
from pages.settings import settings_page
from pages.signin import sign_in_page
from pages.signup import sign_up_page
from pages.staff import staff_page
from pharmacy_saas import routes
from pharmacy_saas.state.account import AccountPageState
from pharmacy_saas.state.alerts import AlertsState
from pharmacy_saas.state.assistant import AssistantState
from pharmacy_saas.state.assistant_documents import DocumentsState
from pharmacy_saas.state.audit import AuditState
from pharmacy_saas.state.auth import PasswordResetState, SignInState
from pharmacy_saas.state.bill import BillState
from pharmacy_saas.state.bills import BillsState
from pharmacy_saas.state.branches import BranchesState
from pharmacy_saas.state.catalog import CatalogState
from pharmacy_saas.state.channels import ChannelsState
from pharmacy_saas.state.claims import ClaimsState
from pharmacy_saas.state.controlled import ControlledState
from pharmacy_saas.state.customer import CustomerState
from pharmacy_saas.state.dashboard import DashboardState
from pharmacy_saas.state.emergency import EmergencySupplyState
from pharmacy_saas.state.error_report import report_backend_error
from pharmacy_saas.state.feedback import FeedbackState
from pharmacy_saas.state.fills import FillState
from pharmacy_saas.state.imports import ImportState
from pharmacy_saas.state.interactions import InteractionsState
from pharmacy_saas.state.inventory import InventoryState, MedicineState
from pharmacy_saas.state.invite import InviteState
from pharmacy_saas.state.message_templates import MessageTemplatesState
from pharmacy_saas.state.notifications import NotificationsState
from pharmacy_saas.state.patient_copy import PatientCopyState
from pharmacy_saas.state.patient_messages import PatientMessagesState
from pharmacy_saas.state.patients import PatientRecordState, PatientsState
from pharmacy_saas.state.platform import PlatformState
from pharmacy_saas.state.portal import PortalState
from pharmacy_saas.state.portal_chat import PortalChatState
from pharmacy_saas.state.portal_feedback import PortalFeedbackState
from pharmacy_saas.state.portal_optout import PortalOptoutState
from pharmacy_saas.state.portal_queue import PortalQueueState
from pharmacy_saas.state.portal_refill import PortalRefillState
from pharmacy_saas.state.pos import CounterState
from pharmacy_saas.state.prescriptions import IntakeState, QueueState, RxState
from pharmacy_saas.state.purchasing import PurchasingState
from pharmacy_saas.state.recall import RecallState
from pharmacy_saas.state.refills import RefillState
from pharmacy_saas.state.reorder import MedicineLevelsState, ReorderEditorState
from pharmacy_saas.state.reports import ReportsState
from pharmacy_saas.state.retention import RetentionState
from pharmacy_saas.state.schedules import SchedulesState
from pharmacy_saas.state.settings import SettingsState
from pharmacy_saas.state.staff import StaffState
from pharmacy_saas.state.suspended import SuspendedState
from pharmacy_saas.state.unclaimed import UnclaimedState

# Handlers enqueue jobs (invitations, password resets, CSV imports): every job's handler is known first.
register_job_handlers()
# The theme is configured in rxconfig.py (RadixThemesPlugin).
# The favicon is assets/favicon.ico, served by the app like every other asset (no CDN).
app = rx.App(
    api_transformer=[create_api(), SecurityHeaders],
    head_components=[
        rx.el.link(rel="icon", href="/favicon.ico", sizes="any"),
        # Installable app and web push (docs/notifications.md): served from assets/ at the root, no CDN.
        rx.el.link(rel="manifest", href="/manifest.json"),
        rx.el.link(rel="apple-touch-icon", href="/icon-192.png"),
        rx.el.meta(name="theme-color", content="#0d9488"),
        rx.el.script(src="/push.js", defer=True),
    ],
    backend_exception_handler=report_backend_error,  # a reference for the member, a redacted log (issue 16)
)
app.add_page(landing_page, route=routes.LANDING, title="Pharmacy Cloud")
app.add_page(sign_in_page, route=routes.SIGN_IN, title="Sign in · Pharmacy Cloud", on_load=SignInState.on_sign_in_page)
app.add_page(sign_up_page, route=routes.SIGN_UP, title="Sign up · Pharmacy Cloud")
app.add_page(invite_page, route=routes.INVITE, title="Invitation · Pharmacy Cloud", on_load=InviteState.load)
app.add_page(dashboard_page, route=routes.DASHBOARD, title="Dashboard · Pharmacy Cloud", on_load=DashboardState.load)
app.add_page(staff_page, route=routes.STAFF, title="Staff · Pharmacy Cloud", on_load=StaffState.load)
app.add_page(settings_page, route=routes.SETTINGS, title="Settings · Pharmacy Cloud", on_load=SettingsState.load)
app.add_page(branches_page, route=routes.BRANCHES, title="Branches · Pharmacy Cloud", on_load=BranchesState.load)
app.add_page(
    patient_messages_page,
    route=routes.PATIENT_MESSAGES,
    title="Patient messages · Pharmacy Cloud",
    on_load=PatientMessagesState.load,
)
app.add_page(
    retention_page,
    route=routes.RETENTION,
    title="Records retention · Pharmacy Cloud",
    on_load=RetentionState.load,
)
app.add_page(
    notification_channels_page,
    route=routes.NOTIFICATION_CHANNELS,
    title="Notifications · Pharmacy Cloud",
    on_load=ChannelsState.load,
)
app.add_page(
    message_templates_page,
    route=routes.MESSAGE_TEMPLATES,
    title="Message templates · Pharmacy Cloud",
    on_load=MessageTemplatesState.load,
)
app.add_page(portal_stop_page, route=routes.PORTAL_STOP, title="Stop messages", on_load=PortalOptoutState.load_stop)
app.add_page(
    schedules_page,
    route=routes.SCHEDULES,
    title="Scheduled jobs · Pharmacy Cloud",
    on_load=SchedulesState.load,
)
app.add_page(audit_page, route=routes.AUDIT, title="Audit log · Pharmacy Cloud", on_load=AuditState.load)
app.add_page(suspended_page, route=routes.SUSPENDED, title="Suspended · Pharmacy Cloud", on_load=SuspendedState.load)
app.add_page(account_page, route=routes.ACCOUNT, title="My account · Pharmacy Cloud", on_load=AccountPageState.load)
app.add_page(
    forgot_page,
    route=routes.FORGOT,
    title="Reset password · Pharmacy Cloud",
    on_load=PasswordResetState.clear,
)
app.add_page(reset_page, route=routes.RESET, title="New password · Pharmacy Cloud", on_load=PasswordResetState.clear)
app.add_page(portal_home_page, route=routes.PORTAL, title="Pharmacy", on_load=PortalState.load_home)
app.add_page(portal_chat_page, route=routes.PORTAL_ASK, title="Ask the pharmacy", on_load=PortalChatState.load_chat)
app.add_page(
    portal_feedback_page, route=routes.PORTAL_FEEDBACK, title="Rate your visit", on_load=PortalFeedbackState.load
)
app.add_page(portal_prescriptions_page, route=routes.PORTAL_PRESCRIPTIONS, title="My prescriptions",
             on_load=CustomerState.load_prescriptions)  # fmt: skip
app.add_page(portal_upload_page, route=routes.PORTAL_UPLOAD, title="Send a prescription",
             on_load=[CustomerState.load_home, CustomerState.load_upload])  # fmt: skip
app.add_page(
    portal_refill_page, route=routes.PORTAL_REFILL, title="Request a refill", on_load=PortalRefillState.load_refill
)
app.add_page(platform_sign_in_page, route=routes.PLATFORM_SIGN_IN, title="Platform console · sign in")
app.add_page(platform_page, route=routes.PLATFORM, title="Platform console", on_load=PlatformState.load)
app.add_page(inventory_page, route=routes.INVENTORY, title="Inventory · Pharmacy Cloud", on_load=InventoryState.load)
app.add_page(
    medicine_page,
    route=routes.MEDICINE,
    title="Medicine · Pharmacy Cloud",
    on_load=[MedicineState.load, MedicineLevelsState.load],
)
app.add_page(catalog_page, route=routes.CATALOG_EDIT, title="Catalog · Pharmacy Cloud", on_load=CatalogState.load)
app.add_page(alerts_page, route=routes.ALERTS, title="Stock alerts · Pharmacy Cloud", on_load=AlertsState.load)
app.add_page(
    purchasing_page, route=routes.PURCHASING, title="Purchase orders · Pharmacy Cloud", on_load=PurchasingState.load
)
app.add_page(
    reorder_page, route=routes.REORDER, title="Reorder levels · Pharmacy Cloud", on_load=ReorderEditorState.load
)
app.add_page(imports_page, route=routes.INVENTORY_CSV, title="Inventory CSV · Pharmacy Cloud", on_load=ImportState.load)
app.add_page(recall_page, route=routes.RECALL_TRACE, title="Recall trace · Pharmacy Cloud", on_load=RecallState.load)
app.add_page(
    emergency_supply_page,
    route=routes.EMERGENCY_SUPPLY,
    title="Emergency supply · Pharmacy Cloud",
    on_load=EmergencySupplyState.load,
)
app.add_page(
    assistant_page, route=routes.ASSISTANT, title="Assistant · Pharmacy Cloud", on_load=AssistantState.load_page
)
app.add_page(pos_page, route=routes.POS, title="Counter · Pharmacy Cloud", on_load=CounterState.load)
app.add_page(bills_page, route=routes.BILLS, title="Bills · Pharmacy Cloud", on_load=BillsState.load)
app.add_page(bill_page, route=routes.BILL_VIEW, title="Bill · Pharmacy Cloud", on_load=BillState.load)
app.add_page(reports_page, route=routes.REPORTS, title="Reports · Pharmacy Cloud", on_load=ReportsState.load)
app.add_page(feedback_page, route=routes.FEEDBACK, title="Feedback · Pharmacy Cloud", on_load=FeedbackState.load)
app.add_page(
    notifications_page,
    route=routes.NOTIFICATIONS,
    title="Messages sent · Pharmacy Cloud",
    on_load=NotificationsState.load,
)
app.add_page(claims_page, route=routes.CLAIMS, title="Claims · Pharmacy Cloud", on_load=ClaimsState.load)
app.add_page(
    documents_page,
    route=routes.ASSISTANT_DOCUMENTS,
    title="Assistant documents · Pharmacy Cloud",
    on_load=DocumentsState.load,
)
app.add_page(patients_page, route=routes.PATIENTS, title="Patients · Pharmacy Cloud", on_load=PatientsState.load)
app.add_page(
    patient_page,
    route=routes.PATIENT,
    title="Patient · Pharmacy Cloud",
    on_load=[PatientRecordState.load, PatientCopyState.load],  # issue 16: the patient's copy section
)
app.add_page(queue_page, route=routes.PRESCRIPTIONS, title="Prescriptions · Pharmacy Cloud", on_load=QueueState.load)
app.add_page(
    intake_page, route=routes.PRESCRIPTION_NEW, title="New prescription · Pharmacy Cloud", on_load=IntakeState.load
)
app.add_page(
    rx_page,
    route=routes.PRESCRIPTION,
    title="Prescription · Pharmacy Cloud",
    on_load=[RxState.load, FillState.load, RefillState.load],
)
app.add_page(
    unclaimed_page,
    route=routes.PRESCRIPTIONS_UNCLAIMED,
    title="Unclaimed fills · Pharmacy Cloud",
    on_load=UnclaimedState.load,
)
app.add_page(
    portal_requests_page,
    route=routes.PRESCRIPTION_REQUESTS,
    title="Portal requests · Pharmacy Cloud",
    on_load=PortalQueueState.load,
)
app.add_page(
    controlled_page,
    route=routes.CONTROLLED,
    title="Controlled substances · Pharmacy Cloud",
    on_load=ControlledState.load,
)
app.add_page(
    interactions_page,
    route=routes.INTERACTIONS,
    title="Interaction checker · Pharmacy Cloud",
    on_load=InteractionsState.load,
)
