"""Jobs whose worker died in the middle of running them (SIGKILL, the out-of-memory killer, a lost host).

Every outbox job is enqueued with retries (`relay_once`), which covers the common case by itself:
when a work-horse dies and its worker survives, RQ fails the job at once and retries it.

When the whole worker dies, its jobs stay "started" until their heartbeat lapses (about 90 s) and some
worker's periodic maintenance (every 10 minutes) hands them to RQ's abandoned-job handling. A worker
restarted under the same name by its process manager (`pharmacy-saas worker --name`) need not wait:
a registered worker of its own name that never recorded its death is its previous life, so every job
that life was running is abandoned. `reclaim_abandoned_jobs` expires those jobs' registry entries now
and lets RQ's own cleanup retry them (or fail them when no retries are left). Jobs are idempotent
(`run_outbox_job` locks the outbox row and skips it once done), so a retried job takes effect once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import cast

from redis import Redis
from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.executions import WORKER_EXECUTIONS_KEY_TEMPLATE
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.serializers import JSONSerializer
from rq.utils import as_text, parse_composite_key

from backend.core.logging import log_event

log = logging.getLogger(__name__)


def reclaim_abandoned_jobs(connection: Redis, worker_name: str) -> list[str]:
    """Retry the jobs the previous process named `worker_name` was running when it died.

    Call it before the new worker registers. Returns the ids of the jobs handed back to RQ. The name
    must belong to one process slot only: two live workers sharing a name would take each other's jobs.
    """
    key = Worker.redis_worker_namespace_prefix + worker_name
    if not connection.exists(key) or connection.hexists(key, "death"):
        return []  # never ran, stopped cleanly, or its record expired (RQ's maintenance takes those jobs)
    members = cast(set[bytes], connection.smembers(WORKER_EXECUTIONS_KEY_TEMPLATE.format(worker_name)))
    entries = [as_text(entry) for entry in members]
    by_queue: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        job_id, _ = parse_composite_key(entry)
        try:
            job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
        except NoSuchJobError:
            continue
        if job.origin:
            by_queue[job.origin].append(entry)
    reclaimed: list[str] = []
    for queue_name, queue_entries in by_queue.items():
        registry = StartedJobRegistry(queue_name, connection=connection, serializer=JSONSerializer)
        running = [entry for entry in queue_entries if connection.zscore(registry.key, entry) is not None]
        if running:
            # Expired as of now: RQ's cleanup then treats them exactly like jobs whose heartbeat lapsed.
            connection.zadd(registry.key, dict.fromkeys(running, 0))
            registry.cleanup()
            reclaimed += [parse_composite_key(entry)[0] for entry in running]
    previous = Worker.find_by_key(key, connection=connection, serializer=JSONSerializer)
    if previous is not None:
        previous.register_death()  # frees the name for the new worker's registration
    log_event(log, "job.reclaimed_abandoned", logging.WARNING, worker=worker_name, jobs=reclaimed)
    return reclaimed
