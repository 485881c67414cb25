"""The assistant's full page: conversations on the left, the chat on the right."""

import reflex as rx

from pages.assistant_chat import chat_view, conversation_list
from pages.shell import with_shell


def assistant_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Assistant", size="6", id="assistant-title"),
            rx.hstack(
                conversation_list(),
                rx.box(chat_view("assistant-question"), flex="1"),
                align="start",
                width="100%",
                spacing="5",
            ),
            width="100%",
            spacing="4",
        )
    )
