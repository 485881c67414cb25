"""The tick in RQ: every TICK_MINUTES, from RQ's scheduler (`Worker.work(with_scheduler=True)`).

Each tick job, when it starts, schedules the next one with `enqueue_at` under a job id derived from its
time slot (`schedule-tick-<slot>`). RQ keeps scheduled jobs in a sorted set keyed by job id, so two workers
(or a worker restarting) scheduling the same slot make one entry, and RQ's scheduler lock lets one worker
at a time move due jobs to the queue. Should a slot still run twice, nothing is written twice: the tick's
unique key (backend/schedules/service.py) decides what runs. Every worker on the default queue schedules the
next slot when it starts, so the chain of ticks survives a crash or a flushed Redis.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from redis import Redis
from rq import get_current_job

from backend.core.logging import log_event
from backend.core.models import utc_now
from backend.core.queue import job_queue
from backend.schedules.service import TICK_MINUTES, tick

log = logging.getLogger(__name__)

TICK_FUNCTION = "backend.schedules.runner.run_tick"
TICK_QUEUE = "default"
SLOT_SECONDS = TICK_MINUTES * 60


def tick_slot(moment: datetime) -> int:
    return int(moment.timestamp() // SLOT_SECONDS)


def schedule_next_tick(connection: Redis, after: datetime | None = None) -> str:
    """Schedule the tick of the slot after `after` (default: now); returns its job id (the same for any caller)."""
    slot = tick_slot(after or utc_now()) + 1
    job_id = f"schedule-tick-{slot}"
    job_queue(TICK_QUEUE, connection).enqueue_at(
        datetime.fromtimestamp(slot * SLOT_SECONDS, UTC),
        TICK_FUNCTION,
        job_id=job_id,
        description="scheduled jobs tick",
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
    )
    return job_id


def run_tick() -> str:
    """RQ entry point: schedule the next tick first (so a crash here does not end the chain), then tick."""
    current = get_current_job()
    if current is not None:
        schedule_next_tick(current.connection)
    result = tick()
    log_event(log, "schedule.rq_tick", written=len(result.written), failed=len(result.failed_chains))
    return f"{len(result.written)} jobs written for {result.chains} chains"
