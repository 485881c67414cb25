"""Unclaimed fills: checked and not picked up within the chain's N days, each with its return to stock."""

import reflex as rx

from components.forms import form_alert
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.unclaimed import UnclaimedRow, UnclaimedState


def unclaimed_row(row: UnclaimedRow) -> rx.Component:
    """One unclaimed fill as a block that wraps, its return button beside it on any screen (a wide table
    hid the button off the right edge of a phone)."""
    return rx.flex(
        rx.flex(
            rx.text.strong(row.code, size="2"),
            rx.link(row.rx_number, href=f"{routes.PRESCRIPTION}?id=" + row.prescription_id, size="2"),
            rx.text(row.patient, size="2", weight="medium"),
            rx.text(row.drug, " · Qty ", row.quantity, size="2"),
            rx.text("Lots: ", row.lots, size="2"),
            rx.text("Checked ", row.checked, size="1", color_scheme="gray"),
            rx.badge("Waiting ", row.waiting, color_scheme="orange"),
            wrap="wrap",
            spacing="3",
            align="center",
        ),
        rx.cond(
            UnclaimedState.can_return,
            rx.button(
                "Return to stock",
                size="2",
                color_scheme="orange",
                on_click=UnclaimedState.return_to_stock(row.id),
                class_name="unclaimed-return",
            ),
        ),
        wrap="wrap",
        spacing="3",
        align="center",
        justify="between",
        padding_y="0.6em",
        border_top="1px solid var(--gray-a5)",
        width="100%",
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
                rx.vstack(
                    rx.foreach(UnclaimedState.rows, unclaimed_row), spacing="0", width="100%", id="unclaimed-fills"
                ),
            ),
            width="100%",
            spacing="3",
        ),
        on_branch_change=UnclaimedState.switch_branch,
    )
