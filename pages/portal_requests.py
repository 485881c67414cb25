"""Portal requests: refills customers asked for on the portal, for the pick-up branch's staff to accept (a
fill), deny with a reason, or close after calling the customer. Blocks that wrap, buttons in reach on a
tablet; the customer's note is shown as plain text (never markup)."""

import reflex as rx

from components.forms import form_alert
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.portal_queue import PortalQueueState, PortalRow


def _facts(row: PortalRow) -> rx.Component:
    return rx.flex(
        rx.link(row.rx_number, href=f"{routes.PRESCRIPTION}?id=" + row.prescription_id, size="3", weight="bold"),
        rx.text(row.patient, size="3", weight="medium", class_name="portal-patient"),
        rx.text(row.drug, size="2"),
        rx.text("Refills left: ", row.refills_left, size="2"),
        rx.badge(row.source, color_scheme="blue"),
        rx.text("Pick up: ", row.branch, size="2"),
        rx.badge(row.status_label, color_scheme=rx.cond(row.status == "call_customer", "orange", "gray")),
        rx.text(row.age, " ago", size="1", color_scheme="gray"),
        wrap="wrap",
        spacing="3",
        align="center",
    )


def _note(row: PortalRow) -> rx.Component:
    return rx.cond(
        row.note != "",
        rx.box(
            rx.text("Customer's note", size="1", color_scheme="gray"),
            rx.text(row.note, size="2", white_space="pre-wrap", class_name="portal-note"),
            padding="0.4em 0.6em",
            background=rx.color("gray", 3),
            border_radius="6px",
            width="100%",
        ),
    )


def _id(row: PortalRow) -> rx.Component:
    return rx.el.input(type="hidden", name="request_id", value=row.id)


def open_row(row: PortalRow) -> rx.Component:
    return rx.vstack(
        _facts(row),
        rx.cond(
            row.status == "call_customer",
            rx.text(
                "Why call: ",
                row.why_call,
                " · Phone: ",
                rx.cond(row.phone != "", row.phone, "none on file"),
                size="2",
                color_scheme="orange",
                class_name="portal-why-call",
            ),
        ),  # fmt: skip
        _note(row),
        rx.flex(
            rx.cond(
                row.status == "pending",
                rx.button(
                    "Accept and fill", size="3", on_click=PortalQueueState.accept(row.id), class_name="portal-accept"
                ),
                rx.form(
                    rx.flex(
                        _id(row),
                        rx.input(name="note", placeholder="What was said on the call", size="3", min_width="14em"),
                        rx.button("Close after calling", type="submit", size="3", variant="soft"),
                        wrap="wrap",
                        spacing="2",
                    ),
                    on_submit=PortalQueueState.close_after_call,
                    reset_on_submit=True,
                    class_name="portal-close",
                ),
            ),
            rx.form(
                rx.flex(
                    _id(row),
                    rx.input(name="reason", placeholder="Reason for denying", size="3", min_width="14em"),
                    rx.button("Deny", type="submit", size="3", color_scheme="red", variant="soft"),
                    wrap="wrap",
                    spacing="2",
                ),
                on_submit=PortalQueueState.deny,
                reset_on_submit=True,
                class_name="portal-deny",
            ),
            wrap="wrap",
            spacing="3",
            align="center",
        ),
        spacing="2",
        padding_y="0.8em",
        border_top="1px solid var(--gray-a5)",
        width="100%",
        class_name="portal-request",
    )


def decided_row(row: PortalRow) -> rx.Component:
    return rx.vstack(
        _facts(row),
        rx.text(row.decided, size="2"),
        rx.cond(row.fill_code != "", rx.text("Fill ", row.fill_code, size="2", class_name="portal-fill")),
        rx.cond(row.reason != "", rx.text(row.reason, size="2", color_scheme="gray", white_space="pre-wrap")),
        rx.cond(row.told != "", rx.text(row.told, size="1", color_scheme="gray")),
        _note(row),
        spacing="1",
        padding_y="0.6em",
        border_top="1px solid var(--gray-a5)",
        width="100%",
        class_name="portal-decided",
    )


def portal_requests_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.link("← Queue", href=routes.PRESCRIPTIONS),
            rx.heading("Portal requests", size="6", id="portal-requests-title"),
            rx.text(
                "Refills customers asked for on the portal, to be picked up at this branch, oldest first. Accepting "
                "fills the prescription (a refill is used); a denial needs a reason. The customer is e-mailed the "
                "outcome (the medicine is named only where the chain allows it and they consented).",
                size="2",
                color_scheme="gray",
            ),
            form_alert(PortalQueueState.error, "portal-requests-error"),
            rx.cond(
                PortalQueueState.open_rows.length() == 0,
                rx.text("No open requests.", size="2", id="portal-requests-none"),
                rx.vstack(
                    rx.foreach(PortalQueueState.open_rows, open_row), spacing="0", width="100%", id="portal-open"
                ),
            ),
            rx.heading("Decided in the last 7 days", size="4"),
            rx.vstack(
                rx.foreach(PortalQueueState.decided_rows, decided_row), spacing="0", width="100%", id="portal-decided"
            ),
            width="100%",
            spacing="3",
        ),
        on_branch_change=PortalQueueState.switch_branch,
    )
