"""The "Notify me" card: turn on notifications (web push) on this device, and the devices that get them.

Used by My account (staff) and My prescriptions (portal customers); the state's `enable_push` makes the
browser subscribe (assets/push.js) and `remove_push` forgets one device.
"""

from __future__ import annotations

from typing import Any

import reflex as rx


def push_card(state: Any, title: str, explanation: str, button: str) -> rx.Component:
    def device(row: rx.Var) -> rx.Component:
        return rx.hstack(
            rx.icon("bell-ring", size=16),
            rx.text(row["device"], " · since ", row["since"], size="2"),
            rx.spacer(),
            rx.button("Stop", size="1", variant="ghost", on_click=state.remove_push(row["id"]), class_name="push-stop"),
            width="100%",
            align="center",
            class_name="push-device",
        )

    return rx.card(
        rx.vstack(
            rx.heading(title, size="4"),
            rx.text(explanation, size="2"),
            rx.button(
                rx.icon("bell"),
                button,
                on_click=state.enable_push,
                id="push-enable",
                size="3",
                style={"height": "auto", "min_height": "40px", "white_space": "normal", "padding_block": "8px"},
            ),  # a long label wraps inside the button on a phone
            rx.cond(
                state.push_error,
                rx.callout(state.push_error, icon="triangle-alert", color_scheme="red", id="push-error"),
            ),
            rx.foreach(state.push_devices, device),
            spacing="2",
            width="100%",
        ),
        width="100%",
        id="push-card",
    )
