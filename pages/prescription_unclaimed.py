"""Unclaimed fills: checked and not picked up within the chain's N days, each with its return to stock."""

import reflex as rx

from components.forms import form_alert
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.unclaimed import UnclaimedRow, UnclaimedState


def unclaimed_row(row: UnclaimedRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.code),
        rx.table.cell(rx.link(row.rx_number, href=f"{routes.PRESCRIPTION}?id=" + row.prescription_id)),
        rx.table.cell(row.patient),
        rx.table.cell(row.drug),
        rx.table.cell(row.quantity),
        rx.table.cell(row.lots),
        rx.table.cell(row.checked),
        rx.table.cell(row.waiting),
        rx.table.cell(
            rx.cond(
                UnclaimedState.can_return,
                rx.button(
                    "Return to stock",
                    size="1",
                    color_scheme="orange",
                    on_click=UnclaimedState.return_to_stock(row.id),
                    class_name="unclaimed-return",
                ),
            )
        ),
        class_name="unclaimed-row",
    )


def unclaimed_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.link("← Queue", href=routes.PRESCRIPTIONS),
            rx.heading("Unclaimed fills", size="6", id="unclaimed-title"),
            rx.text(
                "Checked fills not picked up within ",
                rx.el.span(UnclaimedState.days, id="unclaimed-days"),
                " days (the owner sets this in Settings). Returning one puts its units back on the lots they came "
                "from, gives the refill back and reverses the claim.",
                size="2",
                color_scheme="gray",
            ),
            form_alert(UnclaimedState.error, "unclaimed-error"),
            rx.cond(
                UnclaimedState.rows.length() == 0,
                rx.text("Nothing unclaimed.", size="2", id="unclaimed-none"),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            *[
                                rx.table.column_header_cell(h)
                                for h in ("Fill", "Rx", "Patient", "Drug", "Qty", "Lots", "Checked", "Waiting", "")
                            ]
                        )
                    ),
                    rx.table.body(rx.foreach(UnclaimedState.rows, unclaimed_row)),
                    width="100%",
                    id="unclaimed-fills",
                ),
            ),
            width="100%",
            spacing="3",
        ),
        on_branch_change=UnclaimedState.switch_branch,
    )
