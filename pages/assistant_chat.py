"""The assistant chat, shown on its page and in the side panel on every staff page (answers rendered as
safe markdown: components/chat.py)."""

import reflex as rx

from components.chat import SAFE_MARKDOWN, chat_bubble
from pharmacy_saas.state.assistant import AssistantState


def answer_footer(m: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.cond(
            m.tools.length() > 0,
            rx.hstack(
                rx.foreach(m.tools, lambda t: rx.badge(t, variant="soft", class_name="tool-used")),
                wrap="wrap",
            ),
        ),
        rx.cond(
            m.sources.length() > 0,
            rx.vstack(
                rx.text("Sources", size="1", weight="bold"),
                rx.foreach(
                    m.sources,
                    lambda s: rx.cond(
                        s.url != "",
                        rx.link(s.title, href=s.url, is_external=True, size="1", class_name="source"),
                        rx.text(s.title, size="1", class_name="source"),
                    ),
                ),
                spacing="1",
            ),
        ),
        rx.hstack(
            rx.text(m.engine, size="1", color_scheme="gray"),
            rx.spacer(),
            rx.icon_button(
                rx.icon("thumbs-up", size=14),
                size="1",
                variant=rx.cond(m.rating == "up", "solid", "ghost"),
                on_click=AssistantState.rate(m.id, True),
                aria_label="Helpful",
                class_name="rate-up",
            ),
            rx.icon_button(
                rx.icon("thumbs-down", size=14),
                size="1",
                variant=rx.cond(m.rating == "down", "solid", "ghost"),
                on_click=AssistantState.rate(m.id, False),
                aria_label="Not helpful",
                class_name="rate-down",
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            m.rating != "",
            rx.form(
                rx.hstack(
                    rx.el.input(type="hidden", name="message_id", value=m.id.to(str)),
                    rx.input(name="comment", placeholder="What was wrong or right? (optional)", size="1", width="100%"),
                    rx.button("Send", size="1", variant="soft", type="submit"),
                    width="100%",
                ),
                on_submit=AssistantState.comment,
                reset_on_submit=True,
                width="100%",
            ),
        ),
        spacing="2",
        width="100%",
    )


def message_bubble(m: rx.Var) -> rx.Component:
    return chat_bubble(m, "member", answer_footer(m), "chat")


def chat_view(input_id: str) -> rx.Component:
    """Messages, then the question box. `input_id` differs between the page and the side panel."""
    return rx.vstack(
        rx.foreach(AssistantState.messages, message_bubble),
        rx.cond(
            AssistantState.thinking,
            rx.vstack(
                rx.box(
                    rx.text(AssistantState.pending_question, white_space="pre-wrap"),
                    align_self="flex-end",
                    background="var(--accent-3)",
                    padding="0.6em 0.9em",
                    border_radius="12px",
                ),
                rx.cond(
                    AssistantState.streaming_text != "",
                    rx.card(
                        rx.markdown(AssistantState.streaming_text, component_map=SAFE_MARKDOWN),
                        width="100%",
                        class_name="chat-streaming",
                    ),
                    rx.hstack(rx.spinner(size="1"), rx.text("Checking…", size="2", color_scheme="gray")),
                ),
                width="100%",
            ),
        ),
        rx.cond(
            AssistantState.error != "",
            rx.callout(AssistantState.error, icon="triangle-alert", color_scheme="red", width="100%"),
        ),
        rx.form(
            rx.hstack(
                rx.input(
                    name="question",
                    id=input_id,
                    placeholder="Ask about stock, expiry, interactions, what a medicine is for…",
                    width="100%",
                    auto_complete="off",
                    max_length=500,
                ),
                rx.button("Ask", type="submit", id=f"{input_id}-send", loading=AssistantState.thinking),
                width="100%",
            ),
            on_submit=AssistantState.send,
            reset_on_submit=True,
            width="100%",
        ),
        rx.text(
            "The assistant reads your chain's data with your permissions. It gives no dosing advice beyond the "
            "label it cites: ask a pharmacist.",
            size="1",
            color_scheme="gray",
        ),
        spacing="3",
        width="100%",
    )


def conversation_list() -> rx.Component:
    return rx.vstack(
        rx.button("New conversation", variant="soft", on_click=AssistantState.new_conversation, width="100%"),
        rx.link("Your chain's documents", href="/assistant/documents", size="2", id="documents-link"),
        rx.foreach(
            AssistantState.conversations,
            lambda c: rx.button(
                c["title"],
                variant=rx.cond(c["id"] == AssistantState.conversation_id, "solid", "ghost"),
                on_click=AssistantState.open_conversation(c["id"]),
                width="100%",
                justify="start",
                class_name="conversation",
            ),
        ),
        width="16em",
        spacing="1",
    )


def assistant_panel() -> rx.Component:
    """The side panel: a button at the bottom right of every staff page opens the same chat."""
    return rx.drawer.root(
        rx.drawer.trigger(
            rx.icon_button(
                rx.icon("message-circle", size=22),
                size="4",
                radius="full",
                position="fixed",
                bottom="1.5em",
                right="1.5em",
                z_index="50",
                aria_label="Open the assistant",
                id="assistant-open",
                on_click=AssistantState.open_panel,
            )
        ),
        rx.drawer.overlay(),
        rx.drawer.portal(
            rx.drawer.content(
                rx.vstack(
                    rx.hstack(
                        rx.heading("Assistant", size="4"),
                        rx.spacer(),
                        rx.button("New", size="1", variant="soft", on_click=AssistantState.new_conversation),
                        rx.drawer.close(rx.icon_button(rx.icon("x"), size="1", variant="ghost", aria_label="Close")),
                        width="100%",
                    ),
                    rx.box(chat_view("panel-question"), overflow_y="auto", width="100%", flex="1"),
                    height="100%",
                    width="100%",
                    padding="1em",
                ),
                width="min(30em, 100vw)",
                height="100%",
                right="0",
                top="0",
                background="var(--color-panel-solid)",
                id="assistant-panel",
            )
        ),
        direction="right",
    )
