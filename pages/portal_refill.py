"""The portal's refill request form, phone first: the details on the label, a pick-up branch, a note."""

from __future__ import annotations

from typing import Any

import reflex as rx

from components.forms import field_error
from pages.portal import portal_frame
from pharmacy_saas.state.portal_refill import HONEYPOT, PortalRefillState


def _field(label: str, name: str, control: rx.Component, hint: str = "") -> rx.Component:
    field_id = f"pr-{name.replace('_', '-')}"
    return rx.vstack(
        rx.el.label(label, html_for=field_id, font_weight="500"),
        control,
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        field_error(PortalRefillState.errors[name], field_id),
        spacing="1",
        width="100%",
    )


def _input(name: str, **props: Any) -> rx.Component:
    field_id = f"pr-{name.replace('_', '-')}"
    return rx.input(
        id=field_id,
        name=name,
        size="3",
        width="100%",
        aria_invalid=rx.cond(PortalRefillState.errors.contains(name), "true", "false"),
        aria_describedby=f"{field_id}-error",
        **props,
    )


def _honeypot() -> rx.Component:
    """A field people never see or reach (off screen, out of the tab order); naive bots fill it."""
    return rx.el.div(
        rx.el.label("Website", html_for="pr-website"),
        rx.el.input(id="pr-website", name=HONEYPOT, type="text", tab_index=-1, auto_complete="off"),
        aria_hidden="true",
        style={"position": "absolute", "left": "-10000px", "width": "1px", "height": "1px", "overflow": "hidden"},
    )


def _form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Request a refill", size="6", id="pr-title"),
            rx.text("Use the details printed on your prescription label.", color_scheme="gray"),
            _field(
                "Rx number",
                "rx_number",
                _input(
                    "rx_number",
                    placeholder="e.g. B1-000123",
                    auto_complete="off",
                    auto_capitalize="characters",
                    required=True,
                ),
                "On the label, usually above the medicine's name.",
            ),
            _field(
                "Date of birth",
                "date_of_birth",
                _input("date_of_birth", type="date", placeholder="YYYY-MM-DD", auto_complete="bday", required=True),
            ),
            _field(
                "Last name",
                "last_name",
                _input("last_name", auto_complete="family-name", auto_capitalize="words", required=True),
            ),
            _field(
                "Pick up at",
                "branch_id",
                rx.el.select(
                    rx.el.option("The pharmacy that filled it", value=""),
                    rx.foreach(PortalRefillState.pick_up, lambda b: rx.el.option(b["name"], value=b["id"])),
                    id="pr-branch-id",
                    name="branch_id",
                    style={"width": "100%", "padding": "0.6em", "font_size": "16px", "border_radius": "6px"},
                ),
            ),
            _field(
                "Note for the pharmacy (optional)",
                "note",
                rx.text_area(id="pr-note", name="note", max_length=500, rows="3", width="100%", size="3"),
                "At most 500 characters.",
            ),
            _honeypot(),
            rx.cond(
                PortalRefillState.limited,
                rx.callout(
                    PortalRefillState.limited,
                    icon="clock",
                    color_scheme="amber",
                    id="pr-limited",
                    width="100%",
                    role="alert",
                ),
            ),
            rx.button(
                "Send request",
                type="submit",
                size="3",
                width="100%",
                loading=PortalRefillState.busy,
                # Not before the page is live: a native submit would put the details in the address.
                disabled=~PortalRefillState.is_hydrated,
                id="pr-submit",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=PortalRefillState.submit_refill,
        method="post",  # and never in a URL even then
        id="pr-form",
        width="100%",
    )


def _done() -> rx.Component:
    return rx.vstack(
        rx.callout(
            PortalRefillState.confirmed,
            icon="circle-check",
            color_scheme="teal",
            id="pr-confirmation",
            width="100%",
            role="status",
        ),
        rx.hstack(
            rx.button("Request another refill", variant="soft", on_click=PortalRefillState.another, id="pr-another"),
            rx.link("Back to the pharmacy", href=PortalRefillState.home_href),
            align="center",
            spacing="4",
            wrap="wrap",
        ),
        spacing="4",
        width="100%",
    )


def portal_refill_page() -> rx.Component:
    return portal_frame(rx.cond(PortalRefillState.confirmed, _done(), _form()))
