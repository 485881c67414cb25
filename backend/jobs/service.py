"""Writing jobs to the outbox, relaying them to RQ, and running them in the worker.

Why an outbox: the job row commits (or rolls back) with the business change that caused it, so a
rolled-back sale sends nothing and a Redis outage loses nothing; the relay retries until Redis
is back. Jobs carry ids only and run under the tenant recorded on their row.
"""

from __future__ import annotations

import inspect
import logging
import time
import uuid
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import text
from sqlmodel import Session, select

from backend.core.database import open_session
from backend.core.logging import log_event, redact
from backend.core.models import utc_now
from backend.core.queue import job_queue
from backend.jobs.models import OutboxJob, OutboxStatus
from backend.jobs.registry import handler_for
from tenants.context import TenantContext
from tenants.roles import require
from tenants.session import tenant_session

log = logging.getLogger(__name__)

RUNNER = "backend.jobs.service.run_outbox_job"
# A job whose worker died mid-run (or that raised) runs again, at once: jobs are idempotent, and a few
# immediate tries ride out a killed worker without needing RQ's scheduler for delayed retries.
JOB_RETRIES = 3
_ALLOWED_PAYLOAD_TYPES = (str, int, bool, type(None))


def enqueue_job(
    session: Session, ctx: TenantContext, job_name: str, *, queue: str = "default", **ids: Any
) -> uuid.UUID:
    """Write a job to the outbox inside the caller's transaction; it runs after commit."""
    require(ctx, "jobs.enqueue")
    handler_for(job_name)  # fail now, not in the worker, for a job nobody handles
    for key, value in ids.items():
        if not isinstance(value, _ALLOWED_PAYLOAD_TYPES):
            raise TypeError(f"job argument {key!r} must be an id or scalar, not {type(value).__name__}")
    row = OutboxJob(tenant_id=ctx.tenant_id, job_name=job_name, queue=queue, payload=dict(ids))
    session.add(row)
    session.flush()
    return row.id


def relay_once(redis: Redis, *, batch: int = 100) -> int:
    """Move committed pending outbox rows to RQ. Returns how many were handed over.

    The rows stay locked until Redis has accepted every job; if Redis fails, the transaction
    rolls back and the rows remain pending for the next pass. A crash between enqueue and commit
    can hand a job over twice, which is why jobs are idempotent (run_outbox_job checks `done`).
    """
    # The relay role may only claim and mark outbox rows (migration 0023): it reads no job's payload
    # and no other table, and the app role can no longer list or silence other chains' jobs.
    with open_session("relay") as session:
        claimed = session.execute(text("SELECT * FROM outbox_claim(:n)"), {"n": batch}).all()
        if not claimed:
            return 0
        for row in claimed:
            job_queue(row.queue, redis).enqueue(
                RUNNER,
                str(row.tenant_id),
                str(row.id),
                job_id=f"outbox-{row.id}",
                description=f"{row.job_name} (outbox {row.id})",
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
                retry=Retry(max=JOB_RETRIES),
            )
        session.execute(
            text("SELECT outbox_mark_relayed(CAST(:ids AS uuid[]))"),
            {"ids": [str(row.id) for row in claimed]},
        )
    log_event(log, "outbox.relayed", count=len(claimed))
    return len(claimed)


def relay_forever(redis: Redis, *, interval: float = 0.5, stop_after: float | None = None) -> None:
    """Poll the outbox; keep going through Redis or database blips (they are logged, not fatal)."""
    started = time.monotonic()
    while stop_after is None or time.monotonic() - started < stop_after:
        try:
            moved = relay_once(redis)
        except (RedisError, OSError) as exc:
            log_event(log, "outbox.relay_redis_unavailable", logging.WARNING, error=type(exc).__name__)
            moved = 0
            time.sleep(min(5.0, interval * 4))
        except Exception as exc:  # noqa: BLE001 - the relay must outlive any single failure
            log_event(log, "outbox.relay_failed", logging.ERROR, error=type(exc).__name__)
            moved = 0
            time.sleep(min(5.0, interval * 4))
        if not moved:
            time.sleep(interval)


def run_outbox_job(tenant_id: str, outbox_id: str) -> str:
    """RQ entry point: run one outbox job under its tenant, exactly once in effect."""
    ctx = TenantContext.system(uuid.UUID(tenant_id))
    try:
        with tenant_session(ctx) as session:
            row = session.exec(select(OutboxJob).where(OutboxJob.id == uuid.UUID(outbox_id)).with_for_update()).first()
            if row is None:
                return "missing"  # RLS hides other tenants' rows, so a forged id finds nothing
            if row.status == OutboxStatus.DONE:
                return "already done"
            handler = handler_for(row.job_name)
            extra = {"outbox_id": outbox_id} if "outbox_id" in inspect.signature(handler).parameters else {}
            handler(session, ctx, **row.payload, **extra)
            row.status, row.done_at = OutboxStatus.DONE, utc_now()
            session.add(row)
    except Exception as exc:
        _record_failure(ctx, uuid.UUID(outbox_id), exc)
        raise
    log_event(log, "job.done", job_id=outbox_id)
    return "done"


def _record_failure(ctx: TenantContext, outbox_id: uuid.UUID, exc: Exception) -> None:
    with tenant_session(ctx) as session:
        row = session.exec(select(OutboxJob).where(OutboxJob.id == outbox_id)).first()
        if row is not None and row.status != OutboxStatus.DONE:
            row.last_error = redact(f"{type(exc).__name__}: {str(exc)[:500]}")  # shown to staff: no identifiers
            session.add(row)


def job_status(session: Session, ctx: TenantContext, outbox_id: uuid.UUID) -> str | None:
    """The status of one of the tenant's jobs (None if there is no such job for this tenant: RLS)."""
    return outbox_status(session, outbox_id)


def outbox_status(session: Session, outbox_id: uuid.UUID | None) -> str | None:
    """The status of one of the tenant's jobs in the caller's transaction (None when there is none):
    pending (waiting for the relay), relayed (with a worker), done."""
    if outbox_id is None:
        return None
    return session.exec(select(OutboxJob.status).where(OutboxJob.id == outbox_id)).first()
