"""The staff dashboard: sales against last week and the previous 30 days, what needs attention, and
service health, each part only for the roles that may see it."""

import reflex as rx

from components.health import health_panel
from pages.shell import with_shell
from pharmacy_saas.state.dashboard import DashboardState

SALES = DashboardState.sales


def figure(label: rx.Var | str, value: rx.Var, value_id: str, *notes: rx.Component) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(label, size="2", color_scheme="gray"),
            rx.heading(value, size="7", id=value_id),
            *notes,
            spacing="1",
        ),
        width="100%",
    )


def change_badge(text: rx.Var, direction: rx.Var, badge_id: str) -> rx.Component:
    return rx.badge(
        rx.match(
            direction,
            ("up", rx.icon("trending-up", size=14)),
            ("down", rx.icon("trending-down", size=14)),
            rx.icon("minus", size=14),
        ),
        text,
        color_scheme=rx.match(direction, ("up", "grass"), ("down", "tomato"), "gray"),
        id=badge_id,
    )


def sales_figures() -> rx.Component:
    return rx.grid(
        figure(
            "Today so far",
            SALES["today"],
            "sales-today",
            rx.text(SALES["today_bills"], size="1", color_scheme="gray"),
            rx.hstack(
                change_badge(SALES["today_change"], SALES["today_up"], "sales-today-change"),
                rx.text(
                    "vs last ",
                    SALES["weekday"],
                    " to this time: ",
                    rx.text.strong(SALES["last_week"], id="sales-last-week"),
                    size="2",
                ),
                wrap="wrap",
                align="center",
            ),
            rx.text("Last ", SALES["weekday"], " all day: ", SALES["last_week_whole"], size="1", color_scheme="gray"),
        ),
        figure(
            "Last 30 days",
            SALES["period"],
            "sales-period",
            rx.text(SALES["days"], " · ", SALES["period_bills"], size="1", color_scheme="gray"),
            rx.hstack(
                change_badge(SALES["period_change"], SALES["period_up"], "sales-period-change"),
                rx.text(
                    "vs ",
                    rx.text.strong(SALES["previous"], id="sales-previous"),
                    " (",
                    SALES["previous_days"],
                    ")",
                    size="2",
                ),
                wrap="wrap",
                align="center",
            ),
        ),
        figure(
            "Gross margin, last 30 days",
            SALES["margin"],
            "sales-margin",
            rx.text(SALES["margin_percent"], size="1", color_scheme="gray"),
        ),
        columns=rx.breakpoints(initial="1", md="3"),
        spacing="3",
        width="100%",
    )


def sales_chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Gross sales per day: the last 30 days against the 30 before", size="3"),
            rx.text(
                rx.text.span("■ ", color=rx.color("teal", 9)),
                "last 30 days   ",
                rx.text.span("■ ", color=rx.color("gray", 7)),
                "the 30 days before (same position in the period)",
                size="1",
                color_scheme="gray",
            ),
            # The same recharts pieces as the reports page (bar chart, grid, axes, tooltip): a line chart
            # and legend would put another 250 KB of script on the page every member opens first.
            rx.recharts.bar_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                rx.recharts.x_axis(data_key="day"),
                rx.recharts.y_axis(),
                rx.recharts.graphing_tooltip(),
                rx.recharts.bar(data_key="30 days before", fill=rx.color("gray", 7)),
                rx.recharts.bar(data_key="last 30 days", fill=rx.color("teal", 9)),
                data=DashboardState.chart,
                height=260,
                width="100%",
            ),
            id="sales-chart",
            width="100%",
        ),
        width="100%",
    )


def attention_item(item: rx.Var) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.text(item["label"], size="2", color_scheme="gray"),
                rx.heading(
                    item["count"],
                    size="6",
                    color=rx.cond(item["active"] == "yes", rx.color("amber", 11), rx.color("gray", 10)),
                    class_name="attention-count",
                ),
                rx.text(item["detail"], size="1", color_scheme="gray"),
                spacing="1",
            ),
            width="100%",
        ),
        href=item["href"],
        underline="none",
        id=item["id"],
        class_name="attention-item",
    )


def dashboard_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.heading("Dashboard", size="6", id="dashboard-title"),
            rx.text("Welcome back, ", DashboardState.user_name, ".", color_scheme="gray"),
            rx.cond(
                DashboardState.error != "",
                rx.callout(DashboardState.error, icon="triangle-alert", color_scheme="red"),
            ),
            rx.cond(
                DashboardState.portal_alert != "",
                rx.callout(
                    DashboardState.portal_alert, icon="triangle-alert", color_scheme="amber", id="portal-volume-alert"
                ),
            ),
            rx.cond(
                DashboardState.can_see_sales & (DashboardState.sales_branch != ""),
                rx.vstack(
                    rx.heading("Sales at ", DashboardState.sales_branch, size="4", id="sales-branch"),
                    rx.text("Gross, issued bills, by the branch's local days.", size="1", color_scheme="gray"),
                    sales_figures(),
                    sales_chart(),
                    width="100%",
                    id="sales-section",
                ),
            ),
            rx.cond(
                DashboardState.attention.length() > 0,
                rx.vstack(
                    rx.heading("Needs attention", size="4"),
                    rx.grid(
                        rx.foreach(DashboardState.attention, attention_item),
                        columns=rx.breakpoints(initial="2", md="4"),
                        spacing="3",
                        width="100%",
                    ),
                    width="100%",
                ),
            ),
            rx.cond(
                DashboardState.can_see_health,
                health_panel(DashboardState.services, DashboardState.all_healthy, DashboardState.refresh_health),
            ),
            spacing="4",
            width="100%",
        ),
        on_branch_change=DashboardState.switch_branch,
    )
