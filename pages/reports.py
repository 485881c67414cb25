"""Sales reports: one branch's local business day in cards, tables and a chart of sales by hour."""

import reflex as rx

from components.tables import cells_row, titled_table
from pages.shell import with_shell
from pharmacy_saas.state.reports import Figure, MedicineRow, PaymentRow, ReportsState, TaxRow


def figure_card(figure: Figure) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(figure.label, size="2", color_scheme="gray"),
            rx.heading(figure.value, size="6", class_name="report-figure"),
            rx.text(figure.hint, size="1", color_scheme="gray"),
            spacing="1",
        )
    )


def payment_row(row: PaymentRow) -> rx.Component:
    return cells_row(row.method, row.payments, row.amount, row.change_due)


def tax_row(row: TaxRow) -> rx.Component:
    return cells_row(row.band, row.net_amount, row.tax_amount)


def medicine_row(row: MedicineRow) -> rx.Component:
    return cells_row(row.description, row.quantity, row.revenue, row.margin, class_name="top-medicine-row")


def sales_by_hour() -> rx.Component:
    return rx.vstack(
        rx.heading("Sales by hour (gross, ", ReportsState.currency, ")", size="4"),
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
            rx.recharts.x_axis(data_key="hour"),
            rx.recharts.y_axis(),
            rx.recharts.graphing_tooltip(),
            rx.recharts.bar(data_key="sales", name="Gross sales", fill=rx.color("teal", 9)),
            data=ReportsState.hours,
            width="100%",
            height=260,
        ),
        width="100%",
        id="sales-by-hour",
    )


def controls() -> rx.Component:
    return rx.hstack(
        rx.input(
            type="date",
            value=ReportsState.day,
            on_change=ReportsState.choose_day,
            id="report-day",
            aria_label="Business day",
        ),
        rx.button("Refresh", on_click=ReportsState.refresh, variant="soft", id="report-refresh"),
        rx.button(
            rx.icon("download", size=16), "CSV", on_click=ReportsState.download_csv, variant="outline", id="report-csv"
        ),
        rx.link(rx.button("The day's bills", variant="outline"), href=ReportsState.day_bills_link, id="report-bills"),
        spacing="2",
        align="center",
    )


def reports_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.hstack(
                rx.heading("Sales report", size="6", id="reports-title"),
                rx.badge(ReportsState.report_branch),
                rx.spacer(),
                controls(),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                ReportsState.report_branch != ReportsState.current_branch,
                rx.callout("You changed branch: press Refresh to see its figures.", icon="info", color_scheme="blue"),
            ),
            rx.cond(
                ReportsState.error != "", rx.callout(ReportsState.error, icon="triangle-alert", color_scheme="red")
            ),
            rx.text(
                "Bills finalized on this local business day of the branch; voided bills are left out. ",
                ReportsState.refunds_note,
                size="2",
                color_scheme="gray",
            ),
            rx.grid(
                rx.foreach(ReportsState.figures, figure_card),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="3",
                width="100%",
            ),
            rx.cond(ReportsState.bills > 0, sales_by_hour()),
            rx.grid(
                titled_table(
                    "Payments",
                    ("Method", "Payments", "Amount", "Change given"),
                    rx.foreach(ReportsState.payments, payment_row),
                    table_id="payments-table",
                ),
                titled_table(
                    "Tax by rate",
                    ("Band", "Net", "Tax"),
                    rx.foreach(ReportsState.taxes, tax_row),
                    table_id="tax-table",
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="5",
                width="100%",
            ),
            titled_table(
                "Top medicines by revenue",
                ("Medicine", "Quantity", "Revenue (net)", "Margin"),
                rx.foreach(ReportsState.top_medicines, medicine_row),
                table_id="top-medicines",
            ),
            spacing="5",
            width="100%",
        )
    )
