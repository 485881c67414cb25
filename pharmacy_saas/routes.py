"""Every route of the app in one place, so links and redirects never drift."""

LANDING = "/"
SIGN_IN = "/signin"
SIGN_UP = "/signup"
DASHBOARD = "/dashboard"
STAFF = "/staff"
SETTINGS = "/settings"
BRANCHES = "/settings/branches"
PATIENT_MESSAGES = "/settings/patient-messages"  # which kinds of patient message may name the medicine
MESSAGE_TEMPLATES = "/settings/message-templates"  # the wording of patient messages, quiet hours (owner)
SCHEDULES = "/settings/schedules"  # scheduled jobs: what runs by itself, next and last run (owner, manager)
NOTIFICATION_CHANNELS = "/settings/notifications"  # the chain's e-mail, SMS and webhook channels (owner)
RETENTION = "/settings/retention"  # records retention: periods, legal holds, disposal (owner)
AUDIT = "/audit"
SUSPENDED = "/suspended"
ACCOUNT = "/account"
INVENTORY = "/inventory"
MEDICINE = "/inventory/medicine"
CATALOG_EDIT = "/inventory/catalog/edit"
ALERTS = "/inventory/alerts"
PURCHASING = "/inventory/orders"
REORDER = "/inventory/reorder"  # the bulk editor of a branch's reorder levels
INVENTORY_CSV = "/inventory/csv"
RECALL_TRACE = "/inventory/recall"  # ?batch=<batch id>, or ?lot=<number>[&medicine=<id>]: who received a lot
ASSISTANT = "/assistant"
INTERACTIONS = "/interactions"
ASSISTANT_DOCUMENTS = "/assistant/documents"
POS = "/pos"
BILLS = "/bills"  # ?branch=&start=&end= (a report's day), ?patient= (a patient's purchases)
BILL_VIEW = "/bills/view"  # ?id=<bill id>: lines with lots, payments, credit notes, PDFs, refunds
REPORTS = "/reports"
NOTIFICATIONS = "/notifications"  # the delivery log of e-mails and texts, resend a failed one (owner, managers)
FEEDBACK = "/feedback"  # customers' ratings and comments per branch (owner, managers)
CLAIMS = "/claims"
PATIENTS = "/patients"
PATIENT = "/patients/record"
PRESCRIPTIONS = "/prescriptions"  # ?status=: the branch's work queue
PRESCRIPTION_NEW = "/prescriptions/new"  # intake
PRESCRIPTION = "/prescriptions/rx"  # ?id=: data entry, verification with DUR, history
EMERGENCY_SUPPLY = "/prescriptions/emergency-supply"  # ?medicine=&patient=: the pharmacist's signed supply
CONTROLLED = "/controlled"  # the register, biennial inventory, CII orders, theft or loss, PMP export
PRESCRIPTIONS_UNCLAIMED = "/prescriptions/unclaimed"  # checked fills not picked up: return to stock
PRESCRIPTION_REQUESTS = "/prescriptions/requests"  # portal refill requests: accept, deny, close after a call
FORGOT = "/forgot"
RESET = "/reset"
INVITE = "/invite"

# HTTP endpoints the browser navigates to (full page loads, so cookies change).
COOKIE_EXCHANGE = "/api/v1/auth/exchange"
SIGNED_OUT = "/api/v1/auth/signed-out"

# The public refill portal (issue 17): one per chain, by its slug. Pages take the slug from the address.
PORTAL = "/portal/[slug]"  # the chain's front page: branches, hours, the three things a customer comes for
PORTAL_REFILL = "/portal/[slug]/refill"
PORTAL_PRESCRIPTIONS = "/portal/[slug]/prescriptions"  # verify by a one-time code, then my prescriptions
PORTAL_UPLOAD = "/portal/[slug]/upload"  # a verified customer sends a photo of a new prescription
PORTAL_ASK = "/portal/[slug]/ask"  # the customer assistant (issue 17 §5)
PORTAL_FEEDBACK = "/portal/[slug]/feedback"  # ?fill=: a verified customer rates the visit of a pickup
PORTAL_STOP = "/portal/[slug]/stop/[stop_code]"  # a message's "stop messages" link (confirm with a button)


def portal_path(slug: str, page: str = "") -> str:
    """The address of a chain's portal page (`page` "" for its front page, else "refill", ...)."""
    return f"/portal/{slug}" + (f"/{page}" if page else "")


PLATFORM = "/platform"
PLATFORM_SIGN_IN = "/platform/signin"
