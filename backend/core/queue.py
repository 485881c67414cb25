"""Redis and RQ helpers: one connection factory, JSON-only job arguments, clear errors."""

from __future__ import annotations

import functools
import os
from typing import Any

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, Worker
from rq.serializers import JSONSerializer
from rq.worker import BaseWorker

from backend.core.errors import ServiceUnavailable
from backend.core.logging import redact
from backend.core.settings import get_settings


def redis_connection(url: str | None = None) -> Redis:
    """A Redis client that fails fast instead of hanging when the server is away."""
    return Redis.from_url(
        url or get_settings().REDIS_URL,
        socket_connect_timeout=3,
        socket_timeout=10,
        health_check_interval=30,
    )


def shared_redis() -> Redis:
    """One pooled client per process (and Redis URL) for per-request work such as rate limits:
    a new client per call would open a TCP connection each time. Forked children start their own."""
    return _client_for(get_settings().REDIS_URL)


@functools.lru_cache(maxsize=4)
def _client_for(url: str) -> Redis:
    return redis_connection(url)


os.register_at_fork(after_in_child=_client_for.cache_clear)


def redis_unreachable_message(exc: BaseException) -> str:
    return (
        f"Cannot reach Redis ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
        "Set REDIS_URL to a reachable server, e.g. redis://127.0.0.1:6379/0."
    )


def check_redis(connection: Redis) -> None:
    """Raise ServiceUnavailable with one clear line if Redis does not answer."""
    try:
        connection.ping()
    except (RedisConnectionError, RedisError, OSError) as exc:
        raise ServiceUnavailable(redis_unreachable_message(exc)) from exc


def job_queue(name: str, connection: Redis) -> Queue:
    """An RQ queue whose jobs carry JSON (ids only), never pickled objects."""
    return Queue(name, connection=connection, serializer=JSONSerializer)


# --- workers whose failure reports carry no identifier (issue 16, the minimum necessary) ---------------
# RQ keeps a failed job's traceback in Redis (the job's result, the failed-job registry, webhooks): an
# exception message or a SQL error can hold a patient's e-mail, phone or date of birth. Its log line is
# redacted by the logging setup; this redacts what it stores.


class _RedactedFailures(BaseWorker):
    def handle_job_failure(  # type: ignore[override]
        self, job: Any, queue: Queue, started_job_registry: Any = None, exc_string: str = "", execution: Any = None
    ) -> None:
        super().handle_job_failure(job, queue, started_job_registry, redact(exc_string), execution)


class RedactingWorker(_RedactedFailures, Worker):
    """rq.Worker (a fork per job) with its stored failures redacted."""


class RedactingSimpleWorker(_RedactedFailures, SimpleWorker):
    """rq.SimpleWorker (jobs in-process) with its stored failures redacted."""
