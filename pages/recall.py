"""The recall trace: who received a lot (patient, contact, fill or bill, date, quantity, branch)."""

import reflex as rx

from components.forms import form_alert
from components.tables import data_table
from pages.shell import with_shell
from pharmacy_saas.state.recall import ProductChoice, RecallState, RecipientRow


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
                    width="100%",
                ),
            ),
            spacing="4",
            width="100%",
        )
    )
