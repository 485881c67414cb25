"""The portal's customer assistant: a chat on a phone. Enter sends; answers are markdown without raw HTML
or images (components/chat.py)."""

from __future__ import annotations

import reflex as rx

from components.chat import chat_bubble
from pages.portal import portal_frame
from pharmacy_saas.state.portal_chat import PortalChatState

EXAMPLES = ("When are you open on Saturday?", "What is ibuprofen used for?", "Can I take ibuprofen with aspirin?")


def _sources(m: rx.Var) -> rx.Component:
    return rx.cond(
        m.sources.length() > 0,
        rx.vstack(
            rx.text("Sources", size="1", weight="bold"),
            rx.foreach(
                m.sources,
                lambda s: rx.link(s.title, href=s.url, is_external=True, size="1", class_name="source"),
            ),
            spacing="1",
        ),
    )


def _line(m: rx.Var) -> rx.Component:
    return chat_bubble(m, "customer", _sources(m), "portal-chat")


def portal_chat_page() -> rx.Component:
    return portal_frame(
        rx.vstack(
            rx.heading("Ask the pharmacy", size="5"),
            rx.text(
                "Opening hours, our branches, what a medicine is for, and whether medicines mix. For doses, ask "
                "your pharmacist. Please don't type personal details here; this chat is not saved.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(
                PortalChatState.chat.length() == 0,
                rx.vstack(
                    rx.foreach(
                        list(EXAMPLES),
                        lambda q: rx.button(
                            q, variant="soft", size="2", on_click=PortalChatState.send_example(q), width="100%"
                        ),
                    ),
                    width="100%",
                    spacing="2",
                ),
            ),
            rx.foreach(PortalChatState.chat, _line),
            rx.cond(PortalChatState.thinking, rx.hstack(rx.spinner(size="2"), rx.text("Thinking…", size="2"))),
            rx.cond(
                PortalChatState.chat_error != "",
                rx.callout(PortalChatState.chat_error, icon="info", color_scheme="amber", id="portal-chat-error"),
            ),
            rx.form(
                rx.hstack(
                    rx.input(
                        name="question",
                        placeholder="Ask a question",
                        max_length=500,
                        width="100%",
                        size="3",
                        id="portal-chat-input",
                        auto_complete="off",
                    ),
                    rx.button(
                        rx.icon("send", size=18), type="submit", size="3", aria_label="Send", id="portal-chat-send"
                    ),
                    width="100%",
                ),
                on_submit=PortalChatState.send,
                reset_on_submit=True,
                width="100%",
            ),
            spacing="3",
            width="100%",
            id="portal-chat",
        )
    )
