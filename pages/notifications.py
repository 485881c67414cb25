"""Messages sent (owner, managers): the delivery log of the chain's e-mails and texts, never their text."""

import reflex as rx

from components.tables import data_table
from pages.shell import with_shell
from pharmacy_saas.state.notifications import (
    CHANNEL_CHOICES,
    KIND_CHOICES,
    STATUS_CHOICES,
    NotificationRow,
    NotificationsState,
)

STATUS_COLORS = (("sent", "grass"), ("failed", "red"), ("suppressed", "gray"))


def _select(name: str, label: str, everything: str, choices: list[tuple[str, str]]) -> rx.Component:
    return rx.el.select(
        rx.el.option(everything, value=""),
        *[rx.el.option(text, value=value) for value, text in choices],
        name=name,
        id=f"notifications-{name}",
        aria_label=label,
    )


def filters() -> rx.Component:
    return rx.form(
        rx.hstack(
            _select("kind", "Kind of message", "Every kind", KIND_CHOICES),
            _select("channel", "Channel", "E-mail and text", CHANNEL_CHOICES),
            _select("status", "Status", "Every status", STATUS_CHOICES),
            rx.button("Show", type="submit", size="2", id="notifications-filter"),
            rx.button("Refresh", type="button", size="2", variant="soft", on_click=NotificationsState.refresh),
            spacing="2",
            wrap="wrap",
            align="center",
        ),
        on_submit=NotificationsState.filter,
    )


def message_row(row: NotificationRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(row.created),
        rx.table.cell(row.kind),
        rx.table.cell(row.channel),
        rx.table.cell(row.recipient, class_name="notification-recipient"),
        rx.table.cell(
            rx.badge(
                row.status, color_scheme=rx.match(row.status, *STATUS_COLORS, "blue"), class_name="notification-status"
            )
        ),
        rx.table.cell(rx.text(row.reason, size="1", class_name="notification-reason")),
        rx.table.cell(row.attempts),
        rx.table.cell(rx.cond(row.sent != "", row.sent, row.last_attempt)),
        rx.table.cell(
            rx.cond(
                row.failed & NotificationsState.can_resend,
                rx.button(
                    "Send again",
                    size="1",
                    variant="soft",
                    on_click=NotificationsState.resend(row.id),
                    class_name="notification-resend",
                ),
            )
        ),
        class_name="notification-row",
        id="notification-" + row.id,
    )


def notifications_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Messages sent", size="6", id="notifications-title"),
            rx.text(
                "E-mails and text messages the pharmacy sent or tried to send: a message the provider refused is "
                "tried again at growing intervals, then marked failed with the provider's reason. Suppressed "
                "ones were never sent (no consent, no address on file, or the channel not set up). The "
                "messages' text is not shown here.",
                size="2",
                color_scheme="gray",
            ),
            filters(),
            rx.cond(
                NotificationsState.log_error != "",
                rx.callout(NotificationsState.log_error, icon="triangle-alert", color_scheme="red"),
            ),
            rx.box(
                data_table(
                    ("Queued", "Message", "Channel", "To", "Status", "Reason", "Tries", "Sent / last try", ""),
                    rx.foreach(NotificationsState.messages, message_row),
                    table_id="notifications-log",
                ),
                width="100%",
                overflow_x="auto",
            ),
            rx.cond(
                NotificationsState.messages.length() == 0,
                rx.text("No messages.", color_scheme="gray", id="notifications-none"),
            ),
            width="100%",
            spacing="4",
        )
    )
