"""The "Patient's copy" section of the record page (owners): requests with their due date, producing the
copy (PDF and JSON), recording its delivery. HIPAA gives 30 days from the request to deliver it."""

from __future__ import annotations

import reflex as rx

from components.forms import form_alert
from components.tables import data_table
from pharmacy_saas.state.patient_copy import CopyRequestRow, PatientCopyState


def delivery_form(row: CopyRequestRow) -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.el.input(type="hidden", name="request_id", value=row.id),
            rx.el.select(
                rx.el.option("How was it delivered?", value=""),
                rx.el.option("Handed over", value="handed_over"),
                rx.el.option("E-mailed", value="emailed"),
                rx.el.option("Posted", value="posted"),
                name="method",
                class_name="copy-delivery-method",
                aria_label="Delivery method",
            ),
            rx.input(name="note", placeholder="Note (optional)", class_name="copy-delivery-note", width="14em"),
            rx.button("Record delivery", type="submit", size="1", class_name="copy-delivery-submit"),
            spacing="2",
            wrap="wrap",
        ),
        on_submit=PatientCopyState.deliver,
        key=PatientCopyState.form_key,
    )


def request_row(row: CopyRequestRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.asked),
        rx.table.cell(
            rx.cond(row.overdue, rx.badge(row.due_on + " (overdue)", color_scheme="red"), rx.text(row.due_on)),
            class_name="copy-due",
        ),
        rx.table.cell(row.status, class_name="copy-status"),
        rx.table.cell(row.produced),
        rx.table.cell(rx.cond(row.can_deliver, delivery_form(row), rx.text(row.delivered)), class_name="copy-delivery"),
        class_name="copy-request-row",
    )


def request_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="requested_on", id="copy-requested-on", type="date", aria_label="Day the patient asked"),
            rx.el.select(
                rx.el.option("The patient", value="patient"),
                rx.el.option("A personal representative", value="representative"),
                name="asked_by",
                id="copy-asked-by",
                aria_label="Who asked",
            ),
            rx.input(name="note", id="copy-request-note", placeholder="Note (optional)", width="16em"),
            rx.button("Record request", type="submit", variant="outline", id="copy-record-request"),
            spacing="2",
            wrap="wrap",
        ),
        on_submit=PatientCopyState.record,
        key=PatientCopyState.form_key,
        width="100%",
    )


def copy_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Patient's copy", size="4"),
            rx.text(
                "Everything the chain holds about this patient as a PDF and a JSON file. The copy must be "
                "delivered within 30 days of the request (HIPAA right of access). Producing it is written to "
                "the access log.",
                size="2",
                color_scheme="gray",
            ),
            rx.hstack(
                rx.button("Produce copy", on_click=PatientCopyState.produce, id="copy-produce"),
                rx.text("answers the oldest open request, or records one made today", size="1", color_scheme="gray"),
                align="center",
            ),
            request_form(),
            form_alert(PatientCopyState.error, "copy-error"),
            data_table(
                ("Asked", "Due by", "Status", "Produced", "Delivery"),
                rx.foreach(PatientCopyState.requests, request_row),
                table_id="copy-requests",
                size="1",
            ),
            width="100%",
        ),
        width="100%",
        id="copy-card",
    )


def copy_section() -> rx.Component:
    return rx.cond(PatientCopyState.can_copy, copy_card())
