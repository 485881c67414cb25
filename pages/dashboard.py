"""The staff dashboard inside the shell."""

import reflex as rx

from components.health import health_panel
from pages.shell import with_shell
from pharmacy_saas.state.dashboard import DashboardState


def stat(label: rx.Var | str, value: rx.Var, stat_id: str, color: str) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.text(label, size="2", color_scheme="gray"),
                rx.heading(value, size="7", color=rx.color(color, 11), id=stat_id),
                spacing="1",
            )
        ),
        href="/inventory/alerts",
        underline="none",
    )


def stock_widgets() -> rx.Component:
    counts = DashboardState.stock_counts
    return rx.grid(
        stat("Low stock", counts["low"], "stat-low", "amber"),
        stat("Expiring within " + counts["window"].to(str) + " days", counts["expiring"], "stat-expiring", "orange"),
        stat("Expired on the shelf", counts["expired"], "stat-expired", "red"),
        stat("Recalled lots in stock", counts["recalled"], "stat-recalled", "red"),
        stat("Stock at risk (cost)", counts["value"], "stat-value", "gray"),
        columns=rx.breakpoints(initial="2", md="5"),
        spacing="3",
        width="100%",
    )


def dashboard_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Dashboard", size="6", id="dashboard-title"),
            rx.text("Welcome back, ", DashboardState.user_name, ".", color_scheme="gray"),
            rx.cond(DashboardState.stock_counts.length() > 0, stock_widgets()),
            health_panel(DashboardState.services, DashboardState.all_healthy, DashboardState.refresh_health),
            spacing="4",
            width="100%",
        )
    )
