"""Form pieces: a labelled field with its error beside it, and a form-level alert."""

from __future__ import annotations

from typing import Any

import reflex as rx


def field_error(message: Any, field_id: str) -> rx.Component:
    return rx.cond(
        message,
        rx.text(message, color_scheme="red", size="2", id=f"{field_id}-error", role="alert"),
    )


def labelled(label: str, control: rx.Component, field_id: str, error: Any = None, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500", font_size="0.9em"),
        control,
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        field_error(error, field_id) if error is not None else rx.fragment(),
        spacing="1",
        width="100%",
    )


def text_field(
    label: str, field_id: str, error: Any = None, hint: str = "", *, name: str | None = None, **props: Any
) -> rx.Component:
    """An input labelled for `field_id`, posted as `name` (defaults to the id)."""
    props.setdefault("width", "100%")
    return labelled(label, rx.input(id=field_id, name=name or field_id, **props), field_id, error, hint)


def form_alert(message: Any, alert_id: str) -> rx.Component:
    return rx.cond(
        message,
        rx.callout(message, icon="triangle-alert", color_scheme="red", id=alert_id, width="100%"),
    )
