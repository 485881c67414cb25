"""Page frames: the public frame and the staff shell (sidebar, header, content)."""

from __future__ import annotations

from typing import Any

import reflex as rx

NAV_ITEMS: list[tuple[str, str, str]] = [
    # label, icon, route. The shell shows an item only when its route is among the routes the role may
    # open (ShellState.allowed_routes, from the permission each page checks on the server).
    ("Dashboard", "layout-dashboard", "/dashboard"),
    ("Inventory", "package", "/inventory"),
    ("Point of sale", "shopping-cart", "/pos"),
    ("Bills", "receipt", "/bills"),
    ("Patients", "contact", "/patients"),
    ("Prescriptions", "clipboard-list", "/prescriptions"),
    ("Portal requests", "inbox", "/prescriptions/requests"),
    ("Controlled substances", "lock", "/controlled"),
    ("Reports", "chart-column", "/reports"),
    ("Feedback", "message-square-heart", "/feedback"),
    ("Messages sent", "send", "/notifications"),
    ("Claims", "shield-check", "/claims"),
    ("Assistant", "message-circle", "/assistant"),
    ("Interactions", "pill", "/interactions"),
    ("Staff", "users", "/staff"),
    ("Audit log", "scroll-text", "/audit"),
    ("Settings", "settings", "/settings"),
    ("My account", "user-round", "/account"),
]


def brand() -> rx.Component:
    return rx.hstack(
        rx.icon("pill", size=22, color=rx.color("teal", 10)),
        rx.heading("Pharmacy Cloud", size="4", weight="bold"),
        align="center",
        spacing="2",
    )


def public_frame(*children: rx.Component) -> rx.Component:
    """The frame of signed-out pages."""
    return rx.box(
        rx.hstack(
            rx.link(brand(), href="/", underline="none", color="inherit"),
            rx.spacer(),
            rx.hstack(
                rx.link(rx.button("Sign in", variant="soft", id="nav-sign-in"), href="/signin"),
                rx.link(rx.button("Sign up", id="nav-sign-up"), href="/signup"),
                spacing="2",
            ),
            padding="1em 2em",
            align="center",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
        ),
        rx.box(*children, padding=["1em", "2em"], max_width="1100px", margin="0 auto"),
        min_height="100vh",
    )


def nav_link(label: str, icon: str, route: str) -> rx.Component:
    content = rx.hstack(rx.icon(icon, size=18), rx.text(label, size="3"), spacing="3", align="center")
    return rx.link(
        rx.box(content, padding="0.5em 0.75em", border_radius="8px", _hover={"background": rx.color("teal", 3)}),
        href=route,
        underline="none",
        color="inherit",
        class_name="nav-link",
    )


def sidebar(allowed_routes: Any) -> rx.Component:
    return rx.vstack(
        brand(),
        rx.divider(),
        *[rx.cond(allowed_routes.contains(route), nav_link(label, icon, route)) for label, icon, route in NAV_ITEMS],
        spacing="1",
        padding="1.25em 1em",
        width="230px",
        min_width="230px",
        height="100vh",
        position="sticky",
        top="0",
        border_right=f"1px solid {rx.color('gray', 4)}",
        display=["none", "none", "flex"],  # hidden on phones; the header menu takes over
    )


def mobile_menu(allowed_routes: Any) -> rx.Component:
    return rx.box(
        rx.menu.root(
            rx.menu.trigger(rx.icon_button(rx.icon("menu"), variant="ghost", aria_label="Menu")),
            rx.menu.content(
                *[
                    rx.cond(allowed_routes.contains(route), rx.menu.item(label, on_click=rx.redirect(route)))
                    for label, _, route in NAV_ITEMS
                ]
            ),
        ),
        display=["block", "block", "none"],
    )


def staff_shell(
    *children: rx.Component,
    tenant_name: Any,
    user_name: Any,
    role_label: Any,
    branch_names: Any,
    current_branch: Any,
    on_branch_change: Any,
    on_sign_out: Any,
    chain_names: Any = None,
    on_chain_change: Any = None,
    allowed_routes: Any = None,
) -> rx.Component:
    """The signed-in frame: sidebar navigation (only the pages in `allowed_routes`), a header with chain
    and branch, and content."""
    chain_switcher = (
        rx.cond(
            chain_names.length() > 1,
            rx.select(
                chain_names,
                value=tenant_name,
                on_change=on_chain_change,
                id="chain-select",
                aria_label="Pharmacy chain",
            ),
        )
        if chain_names is not None
        else rx.fragment()
    )
    header = rx.hstack(
        mobile_menu(allowed_routes),
        rx.vstack(
            rx.text(tenant_name, weight="bold", size="4", id="header-tenant"),
            rx.text(user_name, " · ", role_label, size="2", color_scheme="gray", id="header-user"),
            spacing="0",
        ),
        rx.spacer(),
        chain_switcher,
        rx.select(
            branch_names,
            value=current_branch,
            on_change=on_branch_change,
            id="branch-select",
            aria_label="Branch",
        ),
        rx.button(rx.icon("log-out", size=16), "Sign out", variant="outline", on_click=on_sign_out, id="sign-out"),
        align="center",
        padding="0.75em 1.5em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        spacing="3",
        wrap="wrap",
    )
    return rx.hstack(
        sidebar(allowed_routes),
        rx.vstack(
            header,
            rx.box(
                *children,
                padding="1.5em",
                # Room below the last field for the floating assistant button (bottom right), which
                # otherwise sits on a form's last row — the pickup signature box on a tablet.
                padding_bottom="6em",
                width="100%",
            ),
            spacing="0",
            width="100%",
            min_width="0",
        ),
        spacing="0",
        align="start",
        width="100%",
    )


def sign_out_everywhere_card(on_click: Any, button_id: str) -> rx.Component:
    """Ends every session of the signed-in person (a lost phone, a shared counter PC)."""
    return rx.card(
        rx.hstack(
            rx.text("Signed in on a device you no longer use?"),
            rx.spacer(),
            rx.button("Sign out everywhere", variant="outline", color_scheme="red", on_click=on_click, id=button_id),
            align="center",
        ),
        width="100%",
    )
