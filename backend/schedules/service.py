"""The platform tick: what is due for each chain and branch, written once as outbox jobs.

RQ's own cron keeps its schedule in memory (two of them enqueue twice, a missed run is never caught up,
times are UTC) and jobs enqueued straight into RQ skip the outbox and the tenant context. Instead:

- `tick(now)` lists the active chains on the platform path (a listed, audited caller), then, per chain, in
  a tenant transaction as the system, `write_due_runs` computes what is due up to `now` in each branch's
  local time and inserts `scheduled_runs` rows with ON CONFLICT DO NOTHING on (chain, job, branch, period).
  Only for the rows it inserted does it write the outbox job, in the same transaction: a job runs once
  however many workers or ticks there are (a concurrent tick waits on the unique key, then skips).
- Catch-up: a tick after downtime writes each missed period once, up to the schedule's `catch_up` periods
  back (daily jobs: 7 days; the monthly review: the current month only). A branch or chain gets nothing
  due before it was created.
- The tick runs every TICK_MINUTES from RQ's scheduler (backend/schedules/runner.py) and from
  `pharmacy-saas schedule tick [--now ISO]`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session, col, select

from backend.core.logging import log_event
from backend.core.models import utc_now
from backend.jobs.service import enqueue_job
from backend.schedules.registry import SCHEDULES, Cadence, Schedule
from tenants.context import TenantContext
from tenants.models import Tenant, TenantStatus
from tenants.roles import require
from tenants.session import platform_session, run_in_tenant

log = logging.getLogger(__name__)

TICK_MINUTES = 5
TICK_REASON = "scheduled jobs: the tick lists the active chains to write what is due in each"


@dataclass(frozen=True)
class WrittenRun:
    job_name: str
    branch_id: str | None
    period: str
    due_at: datetime
    outbox_id: str


@dataclass(frozen=True)
class TickResult:
    chains: int
    written: list[WrittenRun]
    failed_chains: list[str]


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):  # a zone the database holds but this host does not know: UTC, not a crash
        return ZoneInfo("UTC")


def _month_start(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _candidates(schedule: Schedule, zone: ZoneInfo, now: datetime, ahead: int = 0) -> list[tuple[str, datetime]]:
    """(period, due_at in UTC) for the periods around `now`, oldest first: `catch_up` back, `ahead` forward."""
    today = now.astimezone(zone).date()
    out = []
    for offset in range(-schedule.catch_up, ahead + 1):
        if schedule.cadence == Cadence.MONTHLY:
            day = _month_start(today, -offset)
            period = f"{day:%Y-%m}"
        else:
            day = today + timedelta(days=offset)
            period = day.isoformat()
        due = datetime.combine(day, schedule.local_time, tzinfo=zone).astimezone(UTC)
        out.append((period, due))
    return out


def due_periods(schedule: Schedule, zone: ZoneInfo, now: datetime, not_before: datetime) -> list[tuple[str, datetime]]:
    """The periods due by `now` (at most `catch_up` of them, the latest), none due before `not_before`."""
    due = [(p, at) for p, at in _candidates(schedule, zone, now) if at <= now and at >= not_before]
    return due[-schedule.catch_up :]


def next_due(schedule: Schedule, zone: ZoneInfo, now: datetime) -> datetime:
    """When the schedule runs next after `now` (UTC)."""
    return next(at for _, at in _candidates(schedule, zone, now, ahead=2) if at > now)


def _scopes(session: Session, schedule: Schedule) -> list[tuple[uuid.UUID | None, ZoneInfo, datetime]]:
    """(branch or None for the chain, zone, created_at) the schedule runs for."""
    if not schedule.per_branch:
        created = session.execute(text("SELECT created_at FROM tenants")).scalar_one()
        return [(None, ZoneInfo("UTC"), created)]
    rows = session.execute(text("SELECT id, time_zone, created_at FROM branches WHERE is_active ORDER BY name")).all()
    return [(row.id, _zone(row.time_zone), row.created_at) for row in rows]


def write_due_runs(session: Session, ctx: TenantContext, now: datetime) -> list[WrittenRun]:
    """Insert every due (job, branch, period) of this chain not written yet, and its outbox job. Idempotent:
    a second call (or a concurrent one, which waits on the unique key) writes nothing."""
    require(ctx, "schedules.run")
    written = []
    for schedule in SCHEDULES:
        for branch_id, zone, created in _scopes(session, schedule):
            for period, due_at in due_periods(schedule, zone, now, created):
                run_id = session.execute(
                    text(
                        "INSERT INTO scheduled_runs (tenant_id, id, job_name, branch_id, period, due_at) "
                        "VALUES (:t, :id, :job, :b, :p, :due) "
                        "ON CONFLICT ON CONSTRAINT scheduled_runs_once DO NOTHING RETURNING id"
                    ),
                    {
                        "t": ctx.tenant_id,
                        "id": uuid.uuid4(),
                        "job": schedule.job_name,
                        "b": branch_id,
                        "p": period,
                        "due": due_at,
                    },
                ).scalar()
                if run_id is None:
                    continue  # written by an earlier (or concurrent) tick
                args = {"branch_id": str(branch_id), "period": period} if branch_id is not None else {}
                outbox_id = enqueue_job(session, ctx, schedule.job_name, **args)
                session.execute(
                    text("UPDATE scheduled_runs SET outbox_id = :o WHERE id = :id"), {"o": outbox_id, "id": run_id}
                )
                written.append(
                    WrittenRun(schedule.job_name, str(branch_id) if branch_id else None, period, due_at, str(outbox_id))
                )
    return written


def active_chains(*, only: Collection[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """The platform path: every active chain's id (suspended chains run nothing)."""
    with platform_session(reason=TICK_REASON, actor="scheduler") as session:
        query = select(Tenant.id).where(Tenant.status == TenantStatus.ACTIVE).order_by(col(Tenant.created_at))
        ids = list(session.exec(query).all())
    return [t for t in ids if only is None or t in only]


def tick(now: datetime | None = None, *, only: Collection[uuid.UUID] | None = None) -> TickResult:
    """Write what is due up to `now` (default: the current time) for every active chain (or `only` these).
    One chain's failure is logged and does not stop the others; the next tick tries it again."""
    now = now or utc_now()
    if now.tzinfo is None:
        raise ValueError("tick needs an aware time (UTC)")
    chains = active_chains(only=only)
    written: list[WrittenRun] = []
    failed = []
    for tenant_id in chains:
        try:
            written += run_in_tenant(TenantContext.system(tenant_id), write_due_runs, now)
        except Exception as exc:  # noqa: BLE001 - one chain's trouble must not stop the others' schedules
            log_event(log, "schedule.chain_failed", logging.ERROR, tenant=str(tenant_id), error=type(exc).__name__)
            failed.append(str(tenant_id))
    log_event(log, "schedule.tick", chains=len(chains), written=len(written), failed=len(failed))
    return TickResult(len(chains), written, failed)


@dataclass(frozen=True)
class ScheduleLine:
    """One row of Settings > Scheduled jobs: a job for a branch (or the whole chain)."""

    job_name: str
    label: str
    when: str
    branch: str  # the branch's name, or "Whole chain"
    time_zone: str
    next_run: datetime  # UTC; shown in `time_zone`
    last_period: str | None
    last_due: datetime | None
    last_status: str | None  # the outbox job's: pending, relayed, done, failed
    last_error: str | None


def list_schedules(session: Session, ctx: TenantContext, now: datetime | None = None) -> list[ScheduleLine]:
    """What is scheduled for this chain, per job and branch the member may see, with the next and last run."""
    require(ctx, "schedules.view")
    now = now or utc_now()
    last = {
        (row.job_name, row.branch_id): row
        for row in session.execute(
            text(
                "SELECT DISTINCT ON (r.job_name, r.branch_id) r.job_name, r.branch_id, r.period, r.due_at, "
                "o.status, o.last_error FROM scheduled_runs r "
                "LEFT JOIN outbox o ON o.tenant_id = r.tenant_id AND o.id = r.outbox_id "
                "ORDER BY r.job_name, r.branch_id, r.due_at DESC"
            )
        ).all()
    }
    branches = session.execute(text("SELECT id, name, time_zone FROM branches WHERE is_active ORDER BY name")).all()
    lines = []
    for schedule in SCHEDULES:
        scopes = (
            [(row.id, row.name, row.time_zone or "UTC") for row in branches if ctx.can_see_branch(row.id)]
            if schedule.per_branch
            else [(None, "Whole chain", "UTC")]
        )
        for branch_id, name, zone_name in scopes:
            found = last.get((schedule.job_name, branch_id))
            lines.append(
                ScheduleLine(
                    schedule.job_name,
                    schedule.label,
                    schedule.when,
                    name,
                    zone_name,
                    next_due(schedule, _zone(zone_name), now),
                    found.period if found else None,
                    found.due_at if found else None,
                    found.status if found else None,
                    found.last_error if found else None,
                )
            )
    return lines
