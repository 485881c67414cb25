"""The recall trace: who received a lot (patient, contact, fill or bill, date, quantity, branch)."""

import reflex as rx

from components.forms import form_alert
from components.tables import data_table
from pages.shell import with_shell
from pharmacy_saas.state.recall import OutcomeRow, ProductChoice, RecallState, RecipientRow


def recipient_row(row: RecipientRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.patient, weight="medium"), rx.text(row.born, size="1", color_scheme="gray")),
        rx.table.cell(row.contact, rx.text("consents to contact: ", row.consent, size="1", color_scheme="gray")),
        rx.table.cell(rx.text(row.kind, size="1", color_scheme="gray"), rx.link(row.reference, href=row.link)),
        rx.table.cell(row.when),
        rx.table.cell(row.quantity, text_align="right"),
        rx.table.cell(row.branch),
        rx.table.cell(row.status),
        class_name="recall-row",
    )


def outcome_row(row: OutcomeRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.patient, class_name="broadcast-patient"),
        rx.table.cell(row.branch),
        rx.table.cell(rx.badge(row.outcome), class_name="broadcast-outcome"),
        rx.table.cell(rx.text(row.channels, size="1")),
        class_name="broadcast-row",
    )


def confirm_box() -> rx.Component:
    return rx.callout.root(
        rx.vstack(
            rx.text(
                "Send the recall message to the ",
                rx.text.strong(RecallState.patients),
                " patient(s) above, on every channel each can be reached on, and an e-mail to the managers and "
                "pharmacists of their branches? A lot is notified once: this cannot be undone or repeated.",
            ),
            rx.hstack(
                rx.button("Send the recall message", color_scheme="red", on_click=RecallState.notify,
                          id="broadcast-confirm"),
                rx.button("Cancel", variant="soft", on_click=RecallState.cancel_notify, id="broadcast-cancel"),
            ),
        ),
        color_scheme="amber",
        id="broadcast-confirm-box",
    )  # fmt: skip


def broadcast_panel() -> rx.Component:
    count = lambda label, value, key: rx.text(label, ": ", rx.text.strong(value, id=f"broadcast-{key}"))  # noqa: E731
    return rx.vstack(
        rx.heading("Recall message", size="4"),
        rx.text(RecallState.broadcast_note, size="2", color_scheme="gray"),
        rx.progress(value=RecallState.progress, max=100, id="broadcast-progress", width="24em"),
        rx.hstack(
            count("Waiting", RecallState.queued, "queued"),
            count("Sent", RecallState.sent, "sent"),
            count("Failed", RecallState.refused, "failed"),
            count("Not sent (no consent or address)", RecallState.suppressed, "suppressed"),
            spacing="4",
            wrap="wrap",
        ),
        rx.cond(
            RecallState.done,
            rx.vstack(
                rx.text("Done. ", id="broadcast-done", weight="medium"),
                rx.text(
                    rx.text.strong(RecallState.reached, id="report-reached"), " patient(s) reached, ",
                    rx.text.strong(RecallState.failed, id="report-failed"), " failed, ",
                    rx.text.strong(RecallState.no_contact, id="report-no-contact"),
                    " with no contact: phone those not reached (listed first).",
                ),
                data_table(
                    ("Patient", "Branch", "Outcome", "Messages"),
                    rx.foreach(RecallState.report, outcome_row),
                    table_id="broadcast-report",
                ),
                width="100%",
            ),
            rx.text("Sending… the page follows the progress.", size="2", id="broadcast-sending"),
        ),
        width="100%",
        id="broadcast-panel",
    )  # fmt: skip


def notify_controls() -> rx.Component:
    return rx.cond(
        RecallState.broadcast_id != "",
        broadcast_panel(),
        rx.cond(
            RecallState.can_notify,
            rx.cond(
                RecallState.confirming,
                confirm_box(),
                rx.button(
                    "Notify everyone who received this lot", color_scheme="red", on_click=RecallState.ask_notify,
                    id="recall-notify",
                ),
            ),
        ),
    )  # fmt: skip


def choice_button(choice: ProductChoice) -> rx.Component:
    return rx.button(
        choice.label, variant="soft", on_click=RecallState.choose(choice.medicine_id), class_name="recall-choice"
    )


def search_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(
                name="lot_number",
                id="recall-lot",
                placeholder="Lot number from the recall notice",
                auto_complete="off",
                width="18em",
            ),
            rx.button("Trace", type="submit", id="recall-search"),
        ),
        on_submit=RecallState.search,
    )


def recall_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Recall trace", size="6", id="recall-title"),
            rx.text(
                "Who received a lot: each fill and counter sale to a patient. Every patient listed is written "
                "to the patient access log (recall trace).",
                size="2",
                color_scheme="gray",
            ),
            search_form(),
            form_alert(RecallState.error, "recall-error"),
            rx.cond(
                RecallState.choices.length() > 0,
                rx.vstack(
                    rx.text("Lot ", rx.text.strong(RecallState.lot), " is used by several makers. Which medicine?"),
                    rx.hstack(rx.foreach(RecallState.choices, choice_button), wrap="wrap"),
                    id="recall-choices",
                ),
            ),
            rx.cond(
                RecallState.traced,
                rx.vstack(
                    rx.heading("Lot ", RecallState.lot, " of ", RecallState.product, size="4", id="recall-heading"),
                    rx.text(
                        rx.text.strong(RecallState.patients, id="recall-patients"),
                        " patient(s) received this lot.",
                    ),
                    data_table(
                        ("Patient", "Contact", "Fill / bill", "Date", "Quantity", "Branch", "State"),
                        rx.foreach(RecallState.rows, recipient_row),
                        table_id="recall-table",
                    ),
                    notify_controls(),
                    width="100%",
                ),
            ),
            spacing="4",
            width="100%",
        )
    )
