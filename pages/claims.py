"""Insurance claims: the list with status and payer filters, one claim's history and next step, reconciliation."""

import reflex as rx

from components.forms import form_alert
from components.tables import cells_row, data_table, titled_table
from pages.shell import with_shell
from pharmacy_saas.state.claims import (
    ALL,
    DECISIONS,
    REJECTION_REASON_HINT,
    STATUS_LABELS,
    ClaimRow,
    ClaimsState,
    EventRow,
    PayerRow,
    ProblemRow,
    ReconRow,
)

UPLOAD_ID = "claim-responses"


def claim_row(row: ClaimRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(  # a button, not a link: a link's "#" href re-runs the page's on_load, closing the claim
            rx.button(
                row.bill_number, on_click=ClaimsState.open_claim(row.id), variant="ghost", class_name="claim-open"
            )
        ),
        rx.table.cell(row.patient_name),
        rx.table.cell(row.payer_name),
        rx.table.cell(rx.badge(row.status)),
        rx.table.cell(row.claimed),
        rx.table.cell(row.copay),
        rx.table.cell(row.approved),
        rx.table.cell(row.paid),
        rx.table.cell(row.created),
        class_name="claim-row",
    )


def event_row(row: EventRow) -> rx.Component:
    return cells_row(row.when, row.change, row.amount, row.note)


def recon_row(row: ReconRow) -> rx.Component:
    return cells_row(
        row.payer, row.claims, row.claimed, row.awaiting, row.approved, row.received, row.outstanding, row.rejected
    )


def filters() -> rx.Component:
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(id="claims-status", aria_label="Status"),
            rx.select.content(
                rx.select.item("All statuses", value=ALL),
                *[rx.select.item(label, value=status) for status, label in STATUS_LABELS.items()],
            ),
            value=ClaimsState.status_filter,
            on_change=ClaimsState.filter_status,
        ),
        rx.select(
            ClaimsState.payer_options,
            value=ClaimsState.payer_filter,
            on_change=ClaimsState.filter_payer,
            id="claims-payer",
            aria_label="Payer",
        ),
        spacing="2",
    )


def next_step() -> rx.Component:
    """The buttons the open claim's status allows (the service refuses any other step anyway)."""
    return rx.cond(
        ClaimsState.can_manage,
        rx.match(
            ClaimsState.open_step,
            ("submit", rx.button("Mark as submitted", on_click=ClaimsState.submit, id="claim-submit")),
            (
                "decide",
                rx.form(
                    rx.hstack(
                        rx.select.root(
                            rx.select.trigger(aria_label="Decision"),
                            rx.select.content(
                                *[rx.select.item(STATUS_LABELS[d], value=d) for d in DECISIONS],
                            ),
                            name="decision",
                            default_value=DECISIONS[0],
                        ),
                        rx.input(name="approved_amount", placeholder="Approved amount (if partly approved)"),
                        rx.input(name="reason", placeholder=REJECTION_REASON_HINT, min_width="18em"),
                        rx.button("Record decision", type="submit", id="claim-decide"),
                        spacing="2",
                        wrap="wrap",
                    ),
                    on_submit=ClaimsState.decide,
                    reset_on_submit=True,
                ),
            ),
            ("pay", payment_form()),
            rx.fragment(),
        ),
    )


def payment_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="paid_amount", placeholder="Amount the payer paid"),
            rx.button("Record payment", type="submit", id="claim-pay"),
            spacing="2",
        ),
        on_submit=ClaimsState.record_payment,
        reset_on_submit=True,
    )


def claim_detail() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(ClaimsState.open_title, size="4", id="claim-title"),
            rx.text(ClaimsState.open_detail, size="2", color_scheme="gray"),
            next_step(),
            data_table(
                ("When", "Change", "Amount", "Note"),
                rx.foreach(ClaimsState.events, event_row),
                table_id="claim-history",
            ),
            width="100%",
        ),
        width="100%",
    )


def reconciliation() -> rx.Component:
    headers = ("Payer", "Claims", "Claimed", "Awaiting", "Approved (expected)", "Received", "Outstanding", "Rejected")
    return rx.vstack(
        rx.form(
            rx.hstack(
                rx.heading("Reconciliation", size="4"),
                rx.spacer(),
                rx.input(type="date", name="start", default_value=ClaimsState.recon_start, aria_label="From"),
                rx.input(type="date", name="end", default_value=ClaimsState.recon_end, aria_label="To"),
                rx.button("Show", type="submit", variant="soft", id="claims-reconcile"),
                width="100%",
                align="center",
                spacing="2",
            ),
            on_submit=ClaimsState.reconcile,
            width="100%",
        ),
        rx.text("Claims submitted on these days (UTC), per payer.", size="2", color_scheme="gray"),
        data_table(
            headers,
            rx.foreach(ClaimsState.recon_rows, recon_row),
            rx.foreach(ClaimsState.recon_total, recon_row),
            table_id="claims-reconciliation",
        ),
        width="100%",
    )


def problem_row(row: ProblemRow) -> rx.Component:
    return cells_row(row.row, row.column, row.reason)


def exchange() -> rx.Component:
    """No claims network: the claims on screen go out as CSV, the payers' answers come back as CSV."""
    return rx.card(
        rx.vstack(
            rx.heading("Payer files", size="4"),
            rx.text(
                "Export the claims shown above for the payer; import its responses (claim_id or bill_number, "
                "decision, approved_amount, reason, paid_amount).",
                size="2",
                color_scheme="gray",
            ),
            rx.hstack(
                rx.button(
                    rx.icon("download", size=16),
                    "Export shown claims (CSV)",
                    on_click=ClaimsState.export_shown,
                    variant="outline",
                    id="claims-export",
                ),
                rx.upload.root(
                    rx.button("Choose a response CSV", variant="soft", type="button"),
                    id=UPLOAD_ID,
                    accept={"text/csv": [".csv"], "text/plain": [".txt"]},
                    max_files=1,
                ),
                rx.text(rx.foreach(rx.selected_files(UPLOAD_ID), lambda f: rx.text(f)), size="2"),
                rx.button(
                    "Import responses",
                    on_click=ClaimsState.import_responses(rx.upload_files(upload_id=UPLOAD_ID)),
                    id="claims-import",
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.cond(ClaimsState.import_summary != "", rx.text(ClaimsState.import_summary, id="claims-import-summary")),
            rx.cond(
                ClaimsState.import_problems.length() > 0,
                data_table(
                    ("Row", "Column", "Reason"),
                    rx.foreach(ClaimsState.import_problems, problem_row),
                    table_id="claims-import-problems",
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def payer_row(row: PayerRow) -> rx.Component:
    return cells_row(row.name, row.code, row.contact, class_name="payer-row")


def payers_card() -> rx.Component:
    """The insurers the chain bills, and the form to add one."""
    return rx.card(
        rx.vstack(
            rx.heading("Payers", size="4"),
            data_table(
                ("Name", "Code", "Contact"),
                rx.foreach(ClaimsState.payers, payer_row),
                table_id="payers-table",
                size="1",
            ),
            rx.form(
                rx.hstack(
                    rx.input(name="name", id="payer-name", placeholder="Name"),
                    rx.input(name="payer_code", id="payer-code", placeholder="Payer code"),
                    rx.input(name="contact", id="payer-contact", placeholder="Contact (e-mail, phone)"),
                    rx.button("Add payer", type="submit", id="payer-add"),
                    spacing="2",
                    wrap="wrap",
                ),
                on_submit=ClaimsState.add_payer,
                key=ClaimsState.payer_form_key,
                width="100%",
            ),
            form_alert(ClaimsState.payer_error, "payer-error"),
            width="100%",
        ),
        width="100%",
        id="payers-card",
    )


def claims_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.hstack(
                rx.heading("Insurance claims", size="6", id="claims-title"),
                rx.spacer(),
                filters(),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.cond(ClaimsState.error != "", rx.callout(ClaimsState.error, icon="triangle-alert", color_scheme="red")),
            rx.cond(ClaimsState.open_id != "", claim_detail()),
            titled_table(
                "Claims",
                ("Bill", "Patient", "Payer", "Status", "Claimed", "Copay", "Approved", "Paid", "Drafted"),
                rx.foreach(ClaimsState.rows, claim_row),
                table_id="claims-table",
            ),
            rx.cond(ClaimsState.has_more, rx.text("Showing the newest 50: narrow the filters.", size="2")),
            rx.cond(ClaimsState.can_manage, exchange()),
            rx.cond(ClaimsState.can_manage, payers_card()),
            reconciliation(),
            spacing="5",
            width="100%",
        )
    )
