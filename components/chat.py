"""Chat messages, shared by the staff assistant and the portal's customer assistant.

Answers are rendered as markdown without raw HTML (react-markdown escapes it; no rehype-raw plugin)
and images are never loaded (an external image in a model's answer is a classic way to leak data):
an image becomes a "[image not shown]" note. Links keep react-markdown's URL sanitising
(no javascript: URLs).
"""

from __future__ import annotations

import reflex as rx


def _no_image(*_children: object, **_props: object) -> rx.Component:
    return rx.text("[image not shown]", as_="span", color_scheme="gray", class_name="blocked-image")


SAFE_MARKDOWN = {
    "img": _no_image,
    "pre": lambda *children, **_props: rx.el.pre(*children, white_space="pre-wrap"),
    "code": lambda *children, **_props: rx.code(*children),
}


def chat_bubble(m: rx.Var, asker: str, footer: rx.Component, class_prefix: str) -> rx.Component:
    """One message: the asker's question on the right as plain text, an answer as safe markdown with its
    `footer` (tools and rating for staff, sources for customers)."""
    return rx.cond(
        m.author == asker,
        rx.box(
            rx.text(m.body, white_space="pre-wrap"),
            align_self="flex-end",
            background="var(--accent-3)",
            padding="0.6em 0.9em",
            border_radius="12px",
            max_width="85%",
            class_name=f"{class_prefix}-question",
        ),
        rx.card(
            rx.vstack(rx.markdown(m.body, component_map=SAFE_MARKDOWN), footer, spacing="2", width="100%"),
            width="100%",
            class_name=f"{class_prefix}-answer",
        ),
    )
