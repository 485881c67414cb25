"""Settings > Scheduled jobs: what runs without a person, per branch, in the branch's local time."""

import reflex as rx

from components.tables import data_table
from pages.shell import with_shell
from pharmacy_saas import routes
from pharmacy_saas.state.schedules import ScheduleRow, SchedulesState


def schedule_row(row: ScheduleRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.label, weight="medium")),
        rx.table.cell(row.branch),
        rx.table.cell(row.when),
        rx.table.cell(row.next_run),
        rx.table.cell(rx.cond(row.last_run != "", row.last_run, "—")),
        rx.table.cell(rx.badge(row.outcome, color_scheme=rx.cond(row.failed, "red", "gray"))),
        class_name="schedule-row",
    )


def schedules_page() -> rx.Component:
    return with_shell(
        rx.vstack(
            rx.link("← Settings", href=routes.SETTINGS),
            rx.heading("Scheduled jobs", size="6", id="schedules-title"),
            rx.text(
                "These run by themselves, in each branch's local time, once per day or month however many "
                "workers there are. After downtime, missed days are caught up (up to 7 days back).",
                size="2",
                color_scheme="gray",
            ),
            data_table(
                ("Job", "Branch", "Runs", "Next run", "Last run", "Outcome"),
                rx.foreach(SchedulesState.schedules, schedule_row),
                table_id="schedules",
            ),
            width="100%",
            spacing="4",
        )
    )
