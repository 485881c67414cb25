"""The super-admin console and its sign-in."""

import reflex as rx

from components.forms import form_alert, text_field
from components.layout import brand
from components.tables import data_table
from pharmacy_saas.state.platform import MIN_REASON, REASON_HINT, PlatformSignInState, PlatformState


def platform_sign_in_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    brand(),
                    rx.heading("Platform console", size="6"),
                    rx.text(
                        "For Pharmacy Cloud staff. Two-factor sign-in is required.",
                        size="2",
                        color_scheme="gray",
                    ),
                    text_field("E-mail", "email", type="email", required=True, auto_complete="username"),
                    text_field(
                        "Password",
                        "password",
                        type="password",
                        required=True,
                        auto_complete="current-password",
                    ),
                    text_field(
                        "Code from the authenticator app",
                        "code",
                        required=True,
                        auto_complete="one-time-code",
                        input_mode="numeric",
                    ),
                    form_alert(PlatformSignInState.error, "platform-sign-in-error"),
                    rx.button(
                        "Sign in",
                        type="submit",
                        width="100%",
                        loading=PlatformSignInState.busy,
                        id="platform-sign-in",
                    ),
                    spacing="3",
                    width="100%",
                ),
                on_submit=PlatformSignInState.sign_in,
                reset_on_submit=False,
            ),
            width="100%",
            max_width="420px",
        ),
        padding_top="4em",
    )


def tenant_row(tenant: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(tenant["name"], weight="medium"), rx.text(tenant["slug"], size="1", color_scheme="gray")),
        rx.table.cell(rx.badge(tenant["status"], color_scheme=rx.cond(tenant["status"] == "active", "grass", "red"))),
        rx.table.cell(tenant["plan"]),
        rx.table.cell(tenant["branches"]),
        rx.table.cell(tenant["users"]),
        rx.table.cell(tenant["events"]),
        rx.table.cell(tenant["last"]),
        rx.table.cell(rx.button("Manage", size="1", variant="soft", on_click=PlatformState.select(tenant["id"]))),
        class_name="tenant-row",
        data_slug=tenant["slug"],
    )


def suspend_dialog() -> rx.Component:
    """Suspending is asked twice: a chain's every member is stopped at their next click."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Suspend ", PlatformState.selected_name, "?"),
            rx.alert_dialog.description(
                "Every member of this chain is refused at their next click and its API tokens stop working "
                "until you reactivate it. Its data stays. The owner will read your reason: ",
                rx.text.strong(PlatformState.pending_reason),
            ),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button("Cancel", variant="soft", color_scheme="gray", on_click=PlatformState.cancel_suspend)
                ),
                rx.alert_dialog.action(
                    rx.button(
                        "Suspend the chain",
                        color_scheme="red",
                        on_click=PlatformState.confirm_suspend,
                        id="confirm-suspend",
                    )
                ),
                spacing="3",
                justify="end",
                padding_top="1em",
            ),
            id="suspend-dialog",
        ),
        # Controlled by the server only (no on_open_change): closing through Radix as well would race
        # the confirm click and could drop the pending reason before the suspension is made.
        open=PlatformState.confirm_open,
    )


def manage_panel() -> rx.Component:
    return rx.card(
        rx.vstack(
            suspend_dialog(),
            rx.heading(PlatformState.selected_name, size="4", id="selected-tenant"),
            form_alert(PlatformState.error, "platform-error"),
            rx.form(
                rx.hstack(
                    text_field(
                        "Reason",
                        "status_reason",
                        name="reason",
                        required=True,
                        placeholder="Unpaid invoice INV-2026-114",
                        hint=REASON_HINT,
                    ),
                    rx.button(
                        rx.cond(PlatformState.selected_status == "suspended", "Reactivate", "Suspend…"),
                        type="submit",
                        color_scheme=rx.cond(PlatformState.selected_status == "suspended", "grass", "red"),
                        id="change-status",
                    ),
                    align="end",
                    width="100%",
                ),
                on_submit=PlatformState.change_status,
                reset_on_submit=True,
            ),
            rx.form(
                rx.hstack(
                    text_field(
                        "Support reason (shown to the owner)",
                        "support_reason",
                        name="reason",
                        required=True,
                        placeholder="Ticket 4312: stock counts look wrong",
                        hint=f"At least {MIN_REASON} characters.",
                    ),
                    text_field("Minutes", "support_minutes", name="minutes", default_value="30", width="90px"),
                    rx.button("Open support access", type="submit", id="support-access"),
                    align="end",
                    width="100%",
                ),
                on_submit=PlatformState.support_access,
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def platform_page() -> rx.Component:
    return rx.box(
        rx.hstack(
            brand(),
            rx.badge("platform console", color_scheme="amber"),
            rx.spacer(),
            rx.text(PlatformState.admin_name, size="2"),
            rx.link(rx.button("Sign out", variant="outline"), href="/api/v1/auth/signed-out"),
            padding="1em 2em",
            align="center",
            border_bottom=f"1px solid {rx.color('gray', 4)}",
        ),
        rx.vstack(
            rx.heading("Pharmacy chains", size="6", id="platform-title"),
            rx.form(
                rx.hstack(
                    rx.input(name="search", placeholder="Search by name or slug", id="tenant-search"),
                    rx.button("Search", type="submit"),
                ),
                on_submit=PlatformState.find,
            ),
            rx.cond(PlatformState.selected_id != "", manage_panel()),
            data_table(
                ("Chain", "Status", "Plan", "Branches", "Users", "Events (30 d)", "Last activity", ""),
                rx.foreach(PlatformState.tenants, tenant_row),
            ),
            spacing="4",
            padding="1.5em 2em",
            width="100%",
        ),
    )
