"""Settings > Scheduled jobs (issue 18 §4): per job and branch, when it runs, the next run and the last one."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import reflex as rx

from backend.schedules.service import ScheduleLine, list_schedules
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext

OUTCOMES = {
    "pending": "waiting for a worker",
    "relayed": "running",
    "done": "done",
    "failed": "failed",
}


@dataclasses.dataclass
class ScheduleRow:
    job: str
    label: str
    when: str
    branch: str
    next_run: str
    last_run: str  # "" if it never ran
    outcome: str
    failed: bool


def _local(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return ""
    try:
        tz = ZoneInfo(zone)
    except (ValueError, KeyError):
        tz = ZoneInfo("UTC")
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M} {zone}"


def schedule_row(line: ScheduleLine) -> ScheduleRow:
    outcome = OUTCOMES.get(line.last_status or "", "never run") if line.last_period else "never run"
    if line.last_error and line.last_status != "done":
        outcome = f"{outcome}: {line.last_error}" if line.last_status == "failed" else f"{outcome} (retrying)"
    last = f"{line.last_period} (due {_local(line.last_due, line.time_zone)})" if line.last_period else ""
    return ScheduleRow(
        line.job_name,
        line.label,
        line.when,
        line.branch,
        _local(line.next_run, line.time_zone),
        last,
        outcome,
        line.last_status == "failed",
    )


class SchedulesState(ShellState):
    """Settings > Scheduled jobs (owners and managers; a manager sees their branches)."""

    schedules: list[ScheduleRow] = []

    @rx.event
    @guarded("schedules.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.schedules = [schedule_row(line) for line in await transact(ctx, list_schedules)]
