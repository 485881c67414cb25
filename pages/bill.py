"""The bill page (/bills/view?id=): lines with lots, payments, credit notes, PDFs, for billing.refund a refund and,
for claims.manage, the insurance claim."""

import reflex as rx

from components.forms import form_alert
from components.tables import data_table
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.bill import (
    REFUND_REASON_HINT,
    BillState,
    BillViewLine,
    CoverageChoice,
    CreditNoteRow,
    PaymentRow,
)


def line_row(line: BillViewLine) -> rx.Component:
    return rx.table.row(
        rx.table.cell(line.line_no),
        rx.table.cell(line.description),
        rx.table.cell(line.quantity),
        rx.table.cell(line.amount),
        rx.table.cell(line.lots, class_name="bill-lots"),
        rx.table.cell(line.refundable),
        class_name="bill-line",
    )


def payment_row(payment: PaymentRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(payment.when),
        rx.table.cell(payment.method),
        rx.table.cell(payment.amount),
        rx.table.cell(payment.tendered),
        rx.table.cell(payment.change),
        rx.table.cell(payment.reference),
    )


def credit_note_row(note: CreditNoteRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(note.number),
        rx.table.cell(note.when),
        rx.table.cell(note.lines),
        rx.table.cell(note.total),
        rx.table.cell(note.refunded),
        rx.table.cell(note.reason),
        class_name="bill-credit-note",
    )


def refund_line(line: BillViewLine) -> rx.Component:
    return rx.table.row(
        rx.table.cell(line.description),
        rx.table.cell(line.refundable),
        rx.table.cell(
            rx.input(
                name="qty-" + line.line_no.to_string(),
                id="refund-qty-" + line.line_no.to_string(),
                type="number",
                min=0,
                max=line.refundable,
                default_value="0",
                width="6em",
            )
        ),
        rx.table.cell(
            rx.checkbox(
                "unopened: back on its lot",
                name="restock-" + line.line_no.to_string(),
                id="refund-restock-" + line.line_no.to_string(),
                default_checked=True,
            )
        ),
    )


def refund_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Refund", size="4"),
                rx.text(
                    "A credit note refunds the units returned; unopened ones go back on the lot they were sold from.",
                    size="2",
                    color_scheme="gray",
                ),
                data_table(
                    ("Medicine", "Refundable", "Return", "Restock"),
                    rx.foreach(BillState.lines, refund_line),
                    table_id="refund-lines",
                    size="1",
                ),
                rx.el.label("Reason", html_for="refund-reason", font_weight="500", font_size="0.9em"),
                rx.input(name="reason", id="refund-reason", placeholder="e.g. unopened, wrong strength", width="100%"),
                rx.text(REFUND_REASON_HINT, size="1", color_scheme="gray"),
                rx.hstack(
                    rx.el.select(
                        rx.el.option("Cash", value="cash"),
                        rx.el.option("Other (terminal or voucher)", value="other"),
                        rx.el.option("Card", value="card"),
                        name="refund_method",
                        id="refund-method",
                    ),
                    rx.input(name="reference", id="refund-reference", placeholder="Reference (other)"),
                ),
                form_alert(BillState.refund_error, "refund-error"),
                rx.button("Issue credit note and refund", type="submit", id="refund-submit", color_scheme="red"),
                width="100%",
            ),
            on_submit=BillState.refund,
            reset_on_submit=True,
        ),
        width="100%",
        id="refund-form",
    )


def coverage_option(coverage: CoverageChoice) -> rx.Component:
    return rx.el.option(coverage.label, value=coverage.id)


def claim_form() -> rx.Component:
    """Draft the insurer's portion: the patient pays the rest (copay = amount due − claimed)."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Claim insurance", size="4"),
                rx.hstack(
                    rx.el.select(
                        rx.foreach(BillState.claim_coverages, coverage_option),
                        name="coverage_id",
                        id="claim-coverage",
                        aria_label="Coverage",
                    ),
                    rx.input(
                        value=BillState.claim_amount,
                        on_change=BillState.set_claim_amount,
                        id="claim-amount",
                        placeholder="Claimed amount",
                        input_mode="decimal",
                        auto_complete="off",
                    ),
                    rx.text("Copay ", rx.text.strong(BillState.claim_copay, id="claim-copay"), size="2"),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                form_alert(BillState.claim_error, "claim-error"),
                rx.button("Draft claim", type="submit", id="claim-draft"),
                width="100%",
            ),
            on_submit=BillState.draft_claim,
        ),
        width="100%",
        id="claim-form",
    )


def claim_card() -> rx.Component:
    """The bill's claim: its status, Submit while it is a draft, and the way to its history on /claims."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Insurance claim", size="4"),
                rx.badge(BillState.claim_status_label, id="bill-claim-status", size="2"),
                align="center",
            ),
            rx.text(BillState.claim_summary, size="2"),
            form_alert(BillState.claim_error, "claim-error"),
            rx.hstack(
                rx.cond(
                    BillState.can_claim & BillState.claim_is_draft,
                    rx.button("Submit claim", on_click=BillState.submit_claim, id="bill-claim-submit"),
                ),
                rx.link("Follow it on the claims page", href=routes.CLAIMS, id="bill-claim-link"),
                align="center",
                spacing="3",
            ),
            width="100%",
        ),
        width="100%",
        id="claim-card",
    )


def payment_form() -> rx.Component:
    """Split tenders: each payment is recorded on its own; the bill is paid when they cover it."""
    return rx.card(
        rx.form(
            rx.vstack(
                rx.heading("Take a payment", size="4"),
                rx.hstack(
                    rx.select(["cash", "other"], name="method", default_value="cash", id="payment-method"),
                    rx.input(name="tendered", placeholder="Amount", id="payment-tendered", input_mode="decimal"),
                    rx.input(name="reference", placeholder="Reference (voucher, terminal slip)", id="payment-ref"),
                    rx.button("Record", type="submit", id="payment-submit"),
                    wrap="wrap",
                    width="100%",
                ),
                rx.cond(
                    BillState.payment_error != "",
                    rx.text(BillState.payment_error, color_scheme="red", size="2", id="payment-error"),
                ),
                width="100%",
            ),
            on_submit=BillState.take_payment,
            reset_on_submit=True,
            width="100%",
        ),
        width="100%",
    )


def bill_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.link("← Bills", href=routes.BILLS, id="bill-back"),
            rx.hstack(
                rx.heading("Bill ", rx.el.span(BillState.number, id="bill-number"), size="6"),
                rx.badge(BillState.status_label, id="bill-status", size="2"),
                rx.spacer(),
                rx.button("Receipt PDF", id="bill-receipt", variant="soft", on_click=BillState.download_receipt),
                rx.button("Invoice (A4)", id="bill-invoice", variant="soft", on_click=BillState.download_invoice),
                align="center",
                width="100%",
            ),
            rx.text(
                "Total ",
                rx.text.strong(BillState.total_due),
                " · paid ",
                BillState.amount_paid,
            ),
            rx.heading("Lines", size="4"),
            data_table(
                ("#", "Medicine", "Quantity", "Amount", "Lots", "Refundable"),
                rx.foreach(BillState.lines, line_row),
                table_id="bill-lines",
                size="1",
            ),
            rx.heading("Payments", size="4"),
            data_table(
                ("When", "Method", "Applied", "Tendered", "Change", "Reference"),
                rx.foreach(BillState.payments, payment_row),
                table_id="bill-payments",
                size="1",
            ),
            rx.heading("Credit notes", size="4"),
            data_table(
                ("Number", "When", "Lines", "Credited", "Refunded", "Reason"),
                rx.foreach(BillState.credit_notes, credit_note_row),
                table_id="bill-credit-notes",
                size="1",
            ),
            rx.cond(BillState.payable, payment_form()),
            rx.cond(BillState.claim_id != "", claim_card()),
            rx.cond(BillState.claimable, claim_form()),
            rx.cond(BillState.refundable, refund_form()),
            width="100%",
            spacing="4",
        )
    )
