"""The staff dashboard inside the shell."""

import reflex as rx

from components.health import health_panel
from pages.shell import with_shell
from pharmacy_saas.state.dashboard import DashboardState


def dashboard_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Dashboard", size="6", id="dashboard-title"),
            rx.text("Welcome back, ", DashboardState.user_name, ".", color_scheme="gray"),
            health_panel(DashboardState.services, DashboardState.all_healthy, DashboardState.refresh_health),
            spacing="4",
            width="100%",
        )
    )
