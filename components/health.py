"""Service health cards (database, Redis, worker)."""

from __future__ import annotations

from typing import Any

import reflex as rx


def service_card(service: Any) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon(
                rx.cond(service["ok"], "circle-check", "circle-alert"),
                color=rx.cond(service["ok"], rx.color("grass", 10), rx.color("red", 10)),
            ),
            rx.vstack(
                rx.text(service["name"], weight="bold", text_transform="capitalize"),
                rx.text(service["detail"], size="2", color_scheme="gray"),
                spacing="1",
            ),
            rx.spacer(),
            rx.badge(rx.cond(service["ok"], "ok", "down"), color_scheme=rx.cond(service["ok"], "grass", "red")),
            align="center",
            width="100%",
        ),
        class_name="service-health",
        data_service=service["name"],
        width="100%",
    )


def health_panel(services: Any, all_healthy: Any, on_refresh: Any) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("System health", size="4"),
            rx.badge(
                rx.cond(all_healthy, "All services up", "Attention needed"),
                color_scheme=rx.cond(all_healthy, "grass", "amber"),
                id="health-summary",
            ),
            rx.spacer(),
            rx.icon_button(
                rx.icon("refresh-cw", size=16),
                variant="ghost",
                on_click=on_refresh,
                aria_label="Refresh health",
            ),
            width="100%",
            align="center",
        ),
        rx.grid(
            rx.foreach(services, service_card),
            columns=rx.breakpoints(initial="1", md="3"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        spacing="3",
    )
