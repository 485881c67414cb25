"""The schedule registry: which outbox jobs run periodically, per branch or per chain, at which local time.

A schedule names a job its own domain handles (`@job`); the platform tick (backend/schedules/service.py)
writes one outbox job per (job, branch, local date or month). Add a schedule here, with its handler in
its own domain, and list the handler's module in backend/job_handlers.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import StrEnum

from backend.inventory.digest import DIGEST_JOB
from backend.prescriptions.refill_reminder import REFILL_REMINDER_JOB
from backend.prescriptions.unclaimed_reminder import UNCLAIMED_REMINDER_JOB
from backend.retention.service import REVIEW_JOB


class Cadence(StrEnum):
    """How often a schedule runs: once a local day (period 2026-12-05), or once a month (period 2026-12)."""

    DAILY = "daily"
    MONTHLY = "monthly"


@dataclass(frozen=True)
class Schedule:
    job_name: str
    label: str
    cadence: Cadence
    local_time: time  # in the branch's time zone (chain-wide jobs: UTC)
    per_branch: bool
    # Catch-up: how many missed periods a tick writes after downtime (the oldest beyond are skipped).
    catch_up: int

    @property
    def when(self) -> str:
        if self.cadence == Cadence.MONTHLY:
            return f"monthly, on the 1st at {self.local_time:%H:%M}" + ("" if self.per_branch else " UTC")
        return f"daily at {self.local_time:%H:%M}" + (" (branch time)" if self.per_branch else " UTC")


SCHEDULES: tuple[Schedule, ...] = (
    Schedule(DIGEST_JOB, "Expiry and low-stock digest", Cadence.DAILY, time(7, 0), per_branch=True, catch_up=7),
    # a reminder of yesterday's list is stale: after downtime only the latest day is written
    Schedule(
        UNCLAIMED_REMINDER_JOB, "Unclaimed fills reminder", Cadence.DAILY, time(9, 0), per_branch=True, catch_up=1
    ),
    # one reminder per fill (its dedupe key), due within a few days: after downtime the latest day suffices
    Schedule(
        REFILL_REMINDER_JOB, "Refill reminders to patients", Cadence.DAILY, time(10, 0), per_branch=True, catch_up=1
    ),  # fmt: skip
    Schedule(REVIEW_JOB, "Records retention review", Cadence.MONTHLY, time(3, 0), per_branch=False, catch_up=1),
)
