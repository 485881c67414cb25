"""Stop messages: the page a patient message's opt-out link opens (confirm with a button; a GET changes nothing)."""

from __future__ import annotations

import reflex as rx

from pages.portal import portal_frame
from pharmacy_saas.state.portal_optout import PortalOptoutState as S


def portal_stop_page() -> rx.Component:
    how = rx.cond(S.channel_word != "", " by " + S.channel_word, "")
    return portal_frame(
        rx.vstack(
            rx.heading("Stop messages", size="6", id="stop-heading"),
            rx.cond(
                S.stopped,
                rx.callout(
                    rx.text("Done. ", S.chain_name, " will not send you more messages", how, "."),
                    icon="check",
                    color_scheme="grass",
                    id="stop-done",
                ),
                rx.vstack(
                    rx.text("Stop messages from ", S.chain_name, how, "?", size="4", id="stop-question"),
                    rx.text(
                        "You can still call or visit the pharmacy, and ask staff to turn messages on again.",
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.button(
                        "Stop messages",
                        size="3",
                        width="100%",
                        color_scheme="red",
                        on_click=S.confirm,
                        id="stop-confirm",
                    ),  # fmt: skip
                    spacing="3",
                    width="100%",
                ),
            ),
            rx.cond(
                S.stop_error != "",
                rx.callout(S.stop_error, icon="info", color_scheme="amber", id="stop-error"),
            ),
            spacing="4",
            width="100%",
        )
    )
