"""Prescriptions: the work queue, intake, and one prescription (data entry; verification with the DUR panel)."""

from typing import Any

import reflex as rx

from components.forms import form_alert, labelled, text_field
from components.keys import queue_keys
from pages.prescription_fills import fill_card
from pages.prescription_refills import refill_card, transfer_card
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.prescriptions import (
    FIELD_LABELS,
    SOURCES,
    AccuracyRow,
    AlertRow,
    Choice,
    EventRow,
    IntakeState,
    QueueItem,
    QueueState,
    ReadRow,
    RxState,
    StatusTab,
)


def native_select(choices: Any, name: str, field_id: str, default: Any = "", blank: str = "") -> rx.Component:
    """A plain <select> posted with the form (the options come from the server)."""
    return rx.el.select(
        rx.el.option(blank, value="") if blank else rx.fragment(),
        rx.foreach(choices, lambda c: rx.el.option(c.label, value=c.id)),
        name=name,
        id=field_id,
        default_value=default,
        style={"width": "100%", "padding": "0.4em", "border_radius": "6px"},
    )


# --- the queue ---------------------------------------------------------------------------------------


def status_tab(tab: StatusTab) -> rx.Component:
    return rx.button(
        tab.label,
        rx.badge(tab.count, variant="soft", class_name="rx-tab-count"),
        variant=rx.cond(QueueState.status_filter == tab.status, "solid", "soft"),
        size="1",
        id="rx-tab-" + rx.cond(tab.status == "", "open", tab.status),
        on_click=QueueState.show_status(tab.status),
    )


def queue_row(item: QueueItem) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(item.rx_number, href=f"{routes.PRESCRIPTION}?id=" + item.id, class_name="rx-link"),
        ),
        rx.table.cell(item.patient),
        rx.table.cell(item.drug),
        rx.table.cell(item.prescriber),
        rx.table.cell(rx.badge(item.status_label, variant="soft"), rx.text(item.reason, size="1", color_scheme="gray")),
        rx.table.cell(item.received),
        class_name="rx-queue-row",
    )


def accuracy_row(row: AccuracyRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.field),
        rx.table.cell(row.confirmed),
        rx.table.cell(row.right),
        rx.table.cell(row.rate),
        class_name="ocr-accuracy-row",
    )


def accuracy_report() -> rx.Component:
    """How often OCR read each field right, over the chain's confirmed readings."""
    return rx.card(
        rx.vstack(
            rx.heading("How often OCR reads each field right", size="4"),
            rx.text("Over the chain's confirmed prescription images (a correction counts as wrong).", size="1"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(*[rx.table.column_header_cell(h) for h in ("Field", "Confirmed", "Right", "Rate")])
                ),
                rx.table.body(rx.foreach(QueueState.accuracy, accuracy_row)),
                size="1",
                width="100%",
                id="ocr-accuracy",
            ),
            width="100%",
        ),
        width="100%",
    )


def queue_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.hstack(
                rx.heading("Prescriptions", size="6", id="rx-queue-title"),
                rx.spacer(),
                rx.link(
                    rx.button("Unclaimed fills", variant="soft", id="rx-unclaimed"), href=routes.PRESCRIPTIONS_UNCLAIMED
                ),
                rx.cond(
                    QueueState.can_portal_queue,
                    rx.link(
                        rx.button("Portal requests", variant="soft", id="rx-portal-requests"),
                        href=routes.PRESCRIPTION_REQUESTS,
                    ),
                ),
                rx.cond(
                    QueueState.can_enter,
                    rx.link(rx.button("New prescription", id="rx-new"), href=routes.PRESCRIPTION_NEW),
                ),
                rx.cond(
                    QueueState.can_supply_emergency,
                    rx.link(
                        rx.button("Emergency supply", variant="soft", id="rx-emergency-supply"),
                        href=routes.EMERGENCY_SUPPLY,
                    ),
                ),
                width="100%",
                wrap="wrap",
                align="center",
            ),
            queue_keys(),
            rx.text(
                "The branch's queue, oldest first. / searches; the arrow keys move through the prescriptions; "
                "Enter opens one.",
                size="2",
                color_scheme="gray",
            ),
            rx.flex(rx.foreach(QueueState.tabs, status_tab), wrap="wrap", spacing="2"),
            rx.form(
                rx.hstack(
                    rx.input(
                        id="rx-queue-search",
                        name="q",
                        placeholder="Rx number, patient or drug",
                        default_value=QueueState.query,
                        auto_complete="off",
                        auto_focus=True,
                        width="20em",
                    ),
                    rx.button("Search", type="submit", variant="soft"),
                ),
                on_submit=QueueState.search,
            ),
            form_alert(QueueState.error, "rx-queue-error"),
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(h)
                            for h in ("Rx", "Patient", "Drug", "Prescriber", "Status", "Received")
                        ]
                    )
                ),
                rx.table.body(rx.foreach(QueueState.items, queue_row)),
                width="100%",
                id="rx-queue",
            ),
            rx.hstack(
                rx.button("Previous", variant="soft", disabled=QueueState.page == 0, on_click=QueueState.previous_page),
                rx.button("Next", variant="soft", disabled=~QueueState.has_more, on_click=QueueState.next_page),
            ),
            rx.cond(QueueState.accuracy.length() > 0, accuracy_report()),
            width="100%",
            spacing="3",
        ),
        on_branch_change=QueueState.switch_branch,
    )


# --- intake ------------------------------------------------------------------------------------------


def patient_match(choice: Choice) -> rx.Component:
    return rx.button(
        choice.label,
        variant="soft",
        size="1",
        class_name="rx-patient-match",
        on_click=IntakeState.choose_patient(choice.id),
    )


INTAKE_UPLOAD = "rx-intake-upload"
# The file input opens the camera on a phone or tablet (the dropzone renders the input, so the attribute
# is set on it once the page is there).
CAPTURE_SCRIPT = (
    "document.querySelectorAll('#rx-intake-upload input[type=file]')"
    ".forEach(i => i.setAttribute('capture', 'environment'))"
)


def intake_original() -> rx.Component:
    """The photo, scan or fax of the prescription: OCR reads it and fills the fields for a person to check."""
    return rx.vstack(
        rx.text(
            "The prescription's photo, scan or fax (JPEG, PNG or PDF, at most 10 MB): it is read for you, then "
            "you check each field.",
            size="2",
            color_scheme="gray",
        ),
        rx.upload.root(
            rx.button("Take or choose a photo", variant="soft", type="button", id="rx-intake-photo"),
            rx.foreach(rx.selected_files(INTAKE_UPLOAD), lambda f: rx.text(f, size="1", class_name="rx-intake-file")),
            id=INTAKE_UPLOAD,
            accept={"image/*": [], "application/pdf": [".pdf"]},
            max_files=1,
            on_mount=rx.call_script(CAPTURE_SCRIPT),
        ),
        rx.button(
            "Receive with the photo",
            type="button",
            id="rx-receive-photo",
            on_click=IntakeState.receive_original(rx.upload_files(upload_id=INTAKE_UPLOAD)),
        ),
        width="100%",
    )


def incoming_transfer_card() -> rx.Component:
    """A pharmacist records a prescription transferred in from another pharmacy (for the patient chosen above):
    the other pharmacy, its pharmacist and Rx number, and the original's dates and refills."""
    fields = [
        ("pharmacy_name", "Pharmacy name", "text"),
        ("pharmacy_address", "Address", "text"),
        ("pharmacy_phone", "Phone", "text"),
        ("pharmacy_npi", "NPI", "text"),
        ("pharmacy_dea", "DEA (controlled)", "text"),
        ("other_pharmacist", "Their pharmacist", "text"),
        ("other_rx_number", "Their Rx number", "text"),
        ("drug_written", "Drug as written", "text"),
        ("sig_written", "Sig", "text"),
        ("quantity", "Quantity", "text"),
        ("days_supply", "Days' supply", "text"),
        ("date_written", "Date written", "date"),
        ("refills_authorized", "Refills authorized", "text"),
        ("refills_remaining", "Refills remaining", "text"),
        ("first_filled_on", "First filled", "date"),
        ("last_filled_on", "Last filled", "date"),
    ]
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Or: a transfer from another pharmacy", size="4"),
                rx.text(
                    "For the patient chosen above. The prescriber and the catalog medicine are chosen next, in data "
                    "entry; a pharmacist then verifies it.",
                    size="2",
                    color_scheme="gray",
                ),
                rx.flex(
                    *[
                        text_field(label, f"incoming-{name.replace('_', '-')}", name=name, type=kind, width="15em")
                        for name, label, kind in fields
                    ],
                    wrap="wrap",
                    spacing="2",
                ),
                rx.el.label(
                    rx.hstack(
                        rx.el.input(type="checkbox", name="electronic", id="incoming-electronic"),
                        rx.text("An electronic prescription (a CII only so, and never filled)", size="2"),
                    )
                ),
                form_alert(IntakeState.transfer_error, "incoming-error"),
                rx.button("Record the transfer in", type="submit", id="incoming-submit"),
                width="100%",
            ),
            on_submit=IntakeState.receive_transfer,
        ),
        width="100%",
        id="incoming-transfer",
    )


def intake_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Receive a prescription", size="6", id="rx-intake-title"),
            rx.text("At branch ", rx.text.strong(IntakeState.current_branch), size="2", color_scheme="gray"),
            form_alert(IntakeState.error, "rx-intake-error"),
            rx.card(
                rx.vstack(
                    rx.heading("1. The patient", size="4"),
                    rx.form(
                        rx.hstack(
                            rx.input(id="rx-patient-search", name="q", placeholder="Name, phone or date of birth"),
                            rx.button("Find", type="submit", id="rx-patient-find", variant="soft"),
                        ),
                        on_submit=IntakeState.find_patient,
                    ),
                    rx.flex(rx.foreach(IntakeState.patient_matches, patient_match), wrap="wrap", spacing="2"),
                    rx.text(
                        "Patient: ",
                        rx.text.strong(rx.cond(IntakeState.patient_label, IntakeState.patient_label, "none chosen")),
                        id="rx-patient-chosen",
                    ),
                    rx.form(
                        rx.hstack(
                            text_field("New patient's full name", "new-patient-name", name="full_name"),
                            text_field("Date of birth", "new-patient-birth", name="date_of_birth", type="date"),
                            text_field(
                                "Allergies", "new-patient-allergies", name="allergies", placeholder="e.g. penicillin"
                            ),
                            align="end",
                            width="100%",
                        ),
                        rx.el.label(
                            rx.hstack(
                                rx.el.input(type="checkbox", name="none_known", id="new-patient-none-known"),
                                rx.text("Asked: no known allergies", size="2"),
                            )
                        ),
                        rx.button("Register and choose", type="submit", id="rx-register-patient", variant="soft"),
                        on_submit=IntakeState.register_patient,
                        reset_on_submit=True,
                    ),
                    width="100%",
                ),
                width="100%",
            ),
            rx.card(
                rx.form(
                    rx.vstack(
                        rx.heading("2. The prescription", size="4"),
                        labelled(
                            "Received by",
                            rx.el.select(
                                *[rx.el.option(label, value=value) for value, label in SOURCES],
                                name="source",
                                id="rx-source",
                                style={"padding": "0.4em"},
                                on_change=IntakeState.choose_source,
                            ),
                            "rx-source",
                        ),
                        labelled(
                            "Notes",
                            rx.text_area(id="rx-notes", name="notes", on_blur=IntakeState.keep_notes),
                            "rx-notes",
                        ),
                        intake_original(),
                        rx.button("Receive without a photo", type="submit", id="rx-receive", variant="soft"),
                        width="100%",
                    ),
                    on_submit=IntakeState.receive,
                ),
                width="100%",
            ),
            rx.cond(IntakeState.can_transfer, incoming_transfer_card()),
            width="100%",
            max_width="52em",
            spacing="4",
        )
    )


# --- one prescription --------------------------------------------------------------------------------


def fact(label: str, value: Any, field_id: str) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray", width="10em", flex_shrink="0"),
        rx.text(value, size="2", id=field_id),
        width="100%",
    )


def details_card() -> rx.Component:
    r = RxState.record
    return rx.card(
        rx.vstack(
            rx.heading("As entered", size="4"),
            fact("Patient", r["patient"], "rx-patient"),
            fact("Prescriber", r["prescriber"], "rx-prescriber-name"),
            fact("Drug as written", r["drug_written"], "rx-drug-written"),
            fact("Dispense", r["medicine"], "rx-medicine"),
            fact("Sig as written", r["sig_written"], "rx-sig-written"),
            fact("Label", r["sig_expanded"], "rx-sig-expanded"),
            rx.cond(r["sig_unknown"], fact("Not understood", r["sig_unknown"], "rx-sig-unknown")),
            fact("Quantity", r["quantity"] + " " + r["quantity_unit"], "rx-quantity"),
            fact("Days' supply", r["days_supply"], "rx-days"),
            fact("Refills", r["refills"], "rx-refills"),
            fact("Written", r["date_written"], "rx-written"),
            fact("Expires", r["expires_on"], "rx-expires"),
            rx.cond(r["schedule"], fact("Controlled", r["schedule"], "rx-schedule")),
            rx.cond(r["earliest_fill_date"], fact("Earliest fill", r["earliest_fill_date"], "rx-earliest")),
            rx.cond(r["daw"], fact("DAW", "Dispense as written", "rx-daw")),
            fact("Received by", r["source"], "rx-source-shown"),
            rx.cond(r["notes"], fact("Notes", r["notes"], "rx-notes-shown")),
            spacing="1",
            width="100%",
        ),
        width="100%",
    )


def entry_card() -> rx.Component:
    r = RxState.record
    return rx.card(
        rx.vstack(
            rx.heading("Data entry", size="4"),
            rx.form(
                rx.hstack(
                    rx.input(name="prescriber_q", id="rx-prescriber-search", placeholder="Find a prescriber"),
                    rx.button("Find", type="submit", variant="soft", id="rx-prescriber-find"),
                ),
                on_submit=RxState.search_prescribers,
            ),
            rx.form(
                rx.hstack(
                    text_field("Drug as written", "rx-drug", name="drug_written", default_value=r["drug_written"]),
                    text_field("Strength", "rx-strength", name="strength", default_value=r["strength"]),
                    rx.button("Find in catalog", type="submit", variant="soft", id="rx-find-medicine"),
                    align="end",
                    width="100%",
                ),
                on_submit=RxState.find_medicine,
                key=RxState.form_key.to_string() + "-match",
            ),
            rx.form(
                rx.vstack(
                    labelled(
                        "Prescriber",
                        native_select(RxState.prescribers, "prescriber_id", "rx-prescriber", r["prescriber_id"], "—"),
                        "rx-prescriber",
                    ),
                    labelled(
                        "Catalog medicine",
                        native_select(
                            RxState.medicine_choices, "medicine_id", "rx-medicine-choice", r["medicine_id"], "—"
                        ),
                        "rx-medicine-choice",
                        hint="Same ingredients and release; a brand written may be filled generically unless DAW.",
                    ),
                    rx.el.input(type="hidden", name="drug_written", value=r["drug_written"]),
                    rx.el.input(type="hidden", name="strength", value=r["strength"]),
                    text_field("Sig", "rx-sig", name="sig_written", default_value=r["sig_written"]),
                    rx.hstack(
                        text_field("Quantity", "rx-qty", name="quantity", default_value=r["quantity"]),
                        text_field("Unit", "rx-unit", name="quantity_unit", default_value=r["quantity_unit"]),
                        text_field(
                            "Days' supply",
                            "rx-days-supply",
                            name="days_supply",
                            default_value=r["days_supply"],
                            hint="Empty: computed from the sig",
                        ),
                        text_field(
                            "Refills", "rx-refills-input", name="refills_authorized", default_value=r["refills"]
                        ),
                        width="100%",
                    ),
                    rx.hstack(
                        text_field(
                            "Date written",
                            "rx-date-written",
                            name="date_written",
                            type="date",
                            default_value=r["date_written"],
                        ),
                        text_field(
                            "Earliest fill (CII series)",
                            "rx-earliest-input",
                            name="earliest_fill_date",
                            type="date",
                            default_value=r["earliest_fill_date"],
                        ),
                        width="100%",
                    ),
                    rx.el.label(
                        rx.hstack(
                            rx.el.input(type="checkbox", name="daw", id="rx-daw-input", default_checked=r["daw"] != ""),
                            rx.text("Dispense as written (no generic substitution)", size="2"),
                        )
                    ),
                    labelled(
                        "Notes",
                        rx.text_area(id="rx-notes-input", name="notes", default_value=r["notes"]),
                        "rx-notes-input",
                    ),
                    rx.hstack(
                        rx.button("Save", type="submit", id="rx-save"),
                        rx.button(
                            "Send for verification",
                            type="button",
                            variant="soft",
                            id="rx-submit",
                            on_click=RxState.submit,
                        ),
                    ),
                    width="100%",
                ),
                on_submit=RxState.save,
                key=RxState.form_key.to_string() + "-" + r["key"],
            ),
            rx.cond(
                RxState.can_enter,
                rx.form(
                    rx.hstack(
                        text_field("New prescriber", "new-prescriber-name", name="full_name"),
                        text_field("Credentials", "new-prescriber-credentials", name="credentials"),
                        text_field("NPI", "new-prescriber-npi", name="npi"),
                        text_field("DEA", "new-prescriber-dea", name="dea_number"),
                        rx.button("Add", type="submit", variant="soft", id="rx-add-prescriber"),
                        align="end",
                        width="100%",
                    ),
                    on_submit=RxState.add_prescriber,
                    reset_on_submit=True,
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def alert_item(alert: AlertRow, index: Any) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.badge(
                alert.severity,
                color_scheme=rx.match(
                    alert.severity, ("contraindicated", "red"), ("major", "red"), ("moderate", "orange"), "gray"
                ),
            ),
            rx.badge(alert.type, variant="outline"),
            rx.text(alert.with_, weight="bold", size="2"),
        ),
        rx.text(alert.summary, size="2"),
        rx.text("Source: ", alert.source, size="1", color_scheme="gray"),
        rx.cond(
            alert.needs_resolution,
            rx.input(
                name="override-" + index.to_string(),
                id="override-" + index.to_string(),
                placeholder="Reason for overriding (signed), or hold or cancel instead",
                width="100%",
                class_name="rx-override",
            ),
        ),
        padding="0.6em",
        border=f"1px solid {rx.color('gray', 5)}",
        border_radius="8px",
        width="100%",
        class_name="rx-alert",
        data_severity=alert.severity,
        data_type=alert.type,
    )


def verification_card() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Drug-use review", size="4", id="rx-dur-title"),
                rx.text(
                    "Allergies: ",
                    RxState.allergies,
                    size="2",
                    id="rx-allergies",
                ),
                rx.text("Checked against:", size="2", color_scheme="gray"),
                rx.foreach(RxState.active, lambda a: rx.text("• " + a, size="2", class_name="rx-active")),
                rx.cond(RxState.alerts.length() == 0, rx.text("No alerts.", size="2", id="rx-no-alerts")),
                rx.foreach(RxState.alerts, alert_item),
                rx.foreach(RxState.unknown, lambda u: rx.text("Not checked: " + u, size="2", color_scheme="orange")),
                rx.cond(
                    RxState.in_verification & RxState.can_verify,
                    rx.vstack(
                        rx.cond(
                            RxState.two_person_blocked,
                            rx.callout(
                                "You entered this prescription; the chain requires another pharmacist to verify it.",
                                color_scheme="orange",
                            ),
                        ),
                        rx.text("You sign: ", rx.text.em(RxState.meaning), size="2", id="rx-meaning"),
                        rx.hstack(
                            rx.input(
                                type="password",
                                name="password",
                                id="rx-sign-password",
                                placeholder="Your password, to sign",
                                auto_complete="current-password",
                            ),
                            rx.button("Verify and sign", type="submit", id="rx-verify", color_scheme="green"),
                        ),
                        width="100%",
                    ),
                ),
                width="100%",
            ),
            on_submit=RxState.verify,
            reset_on_submit=False,
        ),
        width="100%",
    )


def reason_form(label: str, button: str, handler: Any, form_id: str, kinds: bool = False) -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="reason", id=f"{form_id}-reason", placeholder=label, width="22em"),
            rx.el.select(
                rx.el.option("On hold", value="hold"),
                rx.el.option("Waiting for prescriber", value="prescriber"),
                name="kind",
                id=f"{form_id}-kind",
            )
            if kinds
            else rx.fragment(),
            rx.button(button, type="submit", variant="soft", id=f"{form_id}-submit"),
        ),
        on_submit=handler,
        reset_on_submit=True,
    )


def event_row(event: EventRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(event.when),
        rx.table.cell(event.action),
        rx.table.cell(event.status),
        rx.table.cell(event.reason),
        rx.table.cell(event.who),
        class_name="rx-event",
    )


ORIGINAL_UPLOAD = "rx-original-upload"


def original_card() -> rx.Component:
    """The original beside the entered data: the image, a PDF to open, or the upload while in entry."""
    return rx.card(
        rx.vstack(
            rx.heading("Original", size="4"),
            rx.cond(
                RxState.image_src != "",
                rx.cond(
                    RxState.image_is_pdf,
                    rx.link("Open the PDF", href=RxState.image_src, download="prescription.pdf", id="rx-original-pdf"),
                    rx.image(src=RxState.image_src, width="100%", id="rx-original-image", alt="The prescription"),
                ),
                rx.text("No image of the original.", size="2", color_scheme="gray"),
            ),
            rx.cond(
                RxState.editable & RxState.can_enter & (RxState.image_src == ""),
                rx.vstack(
                    rx.upload.root(
                        rx.button("Choose the scan or photo", variant="soft", type="button"),
                        rx.foreach(rx.selected_files(ORIGINAL_UPLOAD), lambda f: rx.text(f, size="1")),
                        id=ORIGINAL_UPLOAD,
                        accept={
                            "image/png": [".png"],
                            "image/jpeg": [".jpg", ".jpeg"],
                            "application/pdf": [".pdf"],
                        },
                        max_files=1,
                    ),
                    rx.button(
                        "Attach",
                        variant="soft",
                        id="rx-original-attach",
                        on_click=RxState.upload_original(rx.upload_files(upload_id=ORIGINAL_UPLOAD)),
                    ),
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


# Focusing a field shows its box on the image, in the browser (no round trip per focus).
FOCUS_STYLES = {f"&:has(#ocr-{name}:focus) #ocr-box-{name}": {"display": "block"} for name in FIELD_LABELS}


def box_overlay(row: ReadRow) -> rx.Component:
    return rx.cond(
        row.has_box,
        rx.box(
            id=f"ocr-box-{row.name}",
            class_name="ocr-box",
            position="absolute",
            left=row.left,
            top=row.top,
            width=row.width,
            height=row.height,
            display="none",
            border="3px solid var(--orange-9)",
            background="rgba(255, 165, 0, 0.15)",
            pointer_events="none",
        ),
    )


def read_field(row: ReadRow) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.el.label(row.label, html_for=f"ocr-{row.name}", font_weight="500", font_size="0.9em"),
            rx.cond(
                row.low,
                rx.badge("check", color_scheme="orange", class_name="ocr-low"),
                rx.badge(row.confidence, color_scheme="green", variant="soft"),
            ),
            align="center",
        ),
        rx.input(
            id=f"ocr-{row.name}",
            name=f"ocr-{row.name}",
            default_value=row.value,
            width="100%",
            class_name=rx.cond(row.low, "ocr-field ocr-field-low", "ocr-field"),
            style=rx.cond(row.low, {"outline": "2px solid var(--orange-8)"}, {}),
        ),
        spacing="1",
        width="100%",
    )


def confirmed_field(row: ReadRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.label),
        rx.table.cell(row.value),
        rx.table.cell(row.confirmed_value),
        rx.table.cell(rx.cond(row.corrected, rx.badge("corrected", color_scheme="orange"), "right")),
        class_name=rx.cond(row.corrected, "ocr-corrected", "ocr-right"),
    )


def reading_card() -> rx.Component:
    """What OCR read: progress while the worker reads; then the image (zoomable, the focused field's box
    marked) beside the fields to confirm or correct; once confirmed, what was corrected."""
    return rx.card(
        rx.vstack(
            rx.heading("Read from the original", size="4"),
            rx.text(RxState.reading_progress, size="2", id="rx-reading-progress"),
            rx.cond(RxState.reading_status == "queued", rx.spinner(size="2")),
            rx.text(RxState.reading_note, size="1", color_scheme="gray", id="rx-reading-note"),
            rx.cond(
                (RxState.reading_status == "read") & RxState.can_enter & RxState.editable,
                rx.flex(
                    rx.vstack(
                        rx.hstack(
                            rx.button("−", on_click=RxState.zoom_out, variant="soft", size="1", id="ocr-zoom-out"),
                            rx.text(RxState.zoom, "%", size="1"),
                            rx.button("+", on_click=RxState.zoom_in, variant="soft", size="1", id="ocr-zoom-in"),
                        ),
                        rx.box(
                            rx.box(
                                rx.image(src=RxState.page_src, width="100%", id="ocr-page", alt="The prescription"),
                                rx.foreach(RxState.reading_fields, box_overlay),
                                position="relative",
                                width=f"{RxState.zoom}%",
                            ),
                            overflow="auto",
                            max_height="75vh",
                            width="100%",
                            border="1px solid var(--gray-6)",
                        ),
                        width="100%",
                    ),
                    rx.form(
                        rx.vstack(
                            rx.foreach(RxState.reading_fields, read_field),
                            rx.button("Confirm and send for verification", type="submit", id="ocr-confirm"),
                            width="100%",
                        ),
                        on_submit=RxState.confirm_reading,
                        width="100%",
                    ),
                    spacing="4",
                    width="100%",
                    direction=rx.breakpoints(initial="column", md="row"),
                    class_name="ocr-confirm",
                    style=FOCUS_STYLES,
                ),
            ),
            rx.cond(
                RxState.reading_status == "confirmed",
                rx.table.root(
                    rx.table.header(
                        rx.table.row(*[rx.table.column_header_cell(h) for h in ("Field", "Read", "Confirmed", "")])
                    ),
                    rx.table.body(rx.foreach(RxState.reading_fields, confirmed_field)),
                    size="1",
                    width="100%",
                    id="ocr-confirmed",
                ),
            ),
            width="100%",
        ),
        width="100%",
        id="rx-reading",
    )


def rx_page() -> rx.Component:
    r = RxState.record
    return with_shell(
        rx.vstack(
            rx.link("← Queue", href=routes.PRESCRIPTIONS),
            form_alert(RxState.error, "rx-error"),
            rx.cond(
                RxState.status != "",
                rx.vstack(
                    rx.hstack(
                        rx.heading(r["rx_number"], size="6", id="rx-number"),
                        rx.badge(r["status"], size="2", id="rx-status"),
                        rx.text(r["status_reason"], size="2", color_scheme="gray", id="rx-status-reason"),
                        align="center",
                    ),
                    rx.text(r["patient"], " · ", r["branch"], size="2", color_scheme="gray"),
                    rx.flex(
                        original_card(),
                        details_card(),
                        rx.cond(RxState.can_verify, verification_card()),
                        spacing="3",
                        width="100%",
                        direction=rx.breakpoints(initial="column", md="row"),
                    ),
                    rx.cond(RxState.reading_status != "", reading_card()),
                    rx.cond(
                        RxState.signed.length() > 0,
                        rx.card(
                            rx.vstack(
                                rx.heading("Verification as signed", size="4"),
                                rx.foreach(
                                    RxState.signed, lambda line: rx.text(line, size="2", class_name="rx-signed")
                                ),
                                width="100%",
                            ),
                            width="100%",
                        ),
                    ),
                    rx.cond(RxState.editable & RxState.can_enter, entry_card()),
                    fill_card(),
                    refill_card(),
                    transfer_card(RxState.transferable),
                    rx.cond(
                        RxState.can_enter
                        & ~RxState.closed
                        & ~RxState.held
                        & (RxState.status != "fill")
                        & (RxState.status != "filled")
                        & (RxState.status != "ready_for_pickup"),
                        reason_form("Why hold it", "Hold", RxState.hold, "rx-hold", kinds=True),
                    ),
                    rx.cond(
                        RxState.held & RxState.can_enter, rx.button("Resume", on_click=RxState.resume, id="rx-resume")
                    ),
                    rx.cond(
                        RxState.in_verification & RxState.can_verify,
                        reason_form("What to correct", "Back to data entry", RxState.return_to_entry, "rx-return"),
                    ),
                    rx.cond(
                        RxState.can_cancel & ~RxState.closed,
                        reason_form("Why cancel it", "Cancel prescription", RxState.cancel, "rx-cancel"),
                    ),
                    rx.heading("History", size="4"),
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                *[rx.table.column_header_cell(h) for h in ("When", "What", "Now", "Why", "Who")]
                            )
                        ),
                        rx.table.body(rx.foreach(RxState.events, event_row)),
                        width="100%",
                        size="1",
                        id="rx-history",
                    ),
                    width="100%",
                    spacing="3",
                ),
            ),
            width="100%",
            spacing="3",
        )
    )
