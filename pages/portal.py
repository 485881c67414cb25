"""A chain's public refill portal: its front page (phone first: this is where customers are)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from pharmacy_saas.state.portal import PortalState


def portal_frame(*children: rx.Component) -> rx.Component:
    """Every portal page: the chain's name at the top (a link home), then the page, narrow enough for a phone."""
    return rx.box(
        rx.hstack(
            rx.link(
                rx.hstack(
                    rx.icon("pill", size=22, color=rx.color("teal", 10)),
                    rx.heading(PortalState.chain_name, size="5", id="portal-chain"),
                    align="center",
                    spacing="2",
                ),
                href=PortalState.home_href,
                underline="none",
                color="inherit",
            ),
            padding="0.75em 1em",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
        ),
        rx.box(
            rx.cond(
                PortalState.chain_found,
                rx.cond(PortalState.suspended, _closed(), rx.fragment(*children)),
                _unknown(),
            ),
            padding="1em",
            max_width="640px",
            margin="0 auto",
        ),
        min_height="100vh",
    )


def _closed() -> rx.Component:
    return rx.callout(
        PortalState.chain_name + " is not taking online requests at the moment. Please call your pharmacy.",
        icon="info",
        color_scheme="amber",
        id="portal-closed",
    )


def _unknown() -> rx.Component:
    return rx.callout(
        "There is no pharmacy at this address. Check the link on your prescription label.",
        icon="info",
        id="portal-unknown",
    )


def _action(label: str, hint: str, icon: str, href: Any, action_id: str) -> rx.Component:
    return rx.link(
        rx.card(
            rx.hstack(
                rx.icon(icon, size=24, color=rx.color("teal", 10)),
                rx.vstack(
                    rx.text(label, weight="bold", size="4"), rx.text(hint, size="2", color_scheme="gray"), spacing="0"
                ),
                align="center",
                spacing="3",
            ),
            width="100%",
        ),
        href=href,
        underline="none",
        color="inherit",
        width="100%",
        id=action_id,
    )


def _hours(branch: rx.Var) -> rx.Component:
    return rx.el.table(
        rx.el.tbody(
            rx.foreach(
                PortalState.branch_hours[branch["id"]],
                lambda day: rx.el.tr(
                    rx.el.td(day[0], padding_right="1em"),
                    rx.el.td(day[1]),
                ),
            )
        ),
        font_size="0.9em",
    )


def _branch(branch: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(branch["name"], size="4"),
            rx.cond(branch["address"], rx.text(branch["address"], size="2")),
            rx.cond(branch["tel"], rx.link(branch["phone"], href=branch["tel"], size="2")),
            _hours(branch),
            spacing="2",
        ),
        width="100%",
        class_name="portal-branch",
    )


def _actions() -> rx.Component:
    return rx.vstack(
        _action(
            "Request a refill",
            "With the Rx number on your label",
            "refresh-cw",
            PortalState.refill_href,
            "portal-refill",
        ),
        _action(
            "My prescriptions",
            "See your prescriptions and what is ready",
            "list-checks",
            PortalState.prescriptions_href,
            "portal-prescriptions",
        ),
        _action("Send a new prescription", "Take a photo of it", "camera", PortalState.upload_href, "portal-upload"),
        _action("Ask us", "Hours and medicines", "message-circle", PortalState.home_href + "/ask", "portal-ask"),
        spacing="3",
        width="100%",
    )


def portal_home_page() -> rx.Component:
    return portal_frame(
        rx.vstack(
            # The links are built from the chain the page loaded: shown once it has (a tap before that
            # would lead to /portal//refill).
            rx.cond(PortalState.chain_slug != "", _actions(), rx.spinner(size="3", id="portal-loading")),
            rx.heading("Our pharmacies", size="5", margin_top="1em"),
            rx.foreach(PortalState.branches, _branch),
            spacing="3",
            width="100%",
        )
    )
