"""The staff dashboard inside the shell."""

import reflex as rx

from components.health import health_panel
from components.layout import staff_shell
from pharmacy_saas.state.dashboard import DashboardState


def dashboard_page() -> rx.Component:
    return rx.cond(
        DashboardState.loaded,
        staff_shell(
            rx.vstack(
                rx.heading("Dashboard", size="6", id="dashboard-title"),
                rx.text("Welcome back, ", DashboardState.user_name, ".", color_scheme="gray"),
                health_panel(
                    DashboardState.services, DashboardState.all_healthy, DashboardState.refresh_health
                ),
                spacing="4",
                width="100%",
            ),
            tenant_name=DashboardState.tenant_name,
            user_name=DashboardState.user_name,
            role_label=DashboardState.role_label,
            branch_names=DashboardState.branch_names,
            current_branch=DashboardState.current_branch,
            on_branch_change=DashboardState.choose_branch,
            on_sign_out=DashboardState.sign_out,
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )
