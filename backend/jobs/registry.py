"""Named job handlers. A handler takes (session, ctx, **ids) and must be idempotent.

Domain agnostic: the domains declare their handlers with `@job(name)`, and the entry points register
them (backend.job_handlers.register_job_handlers) before they enqueue or run a job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JobHandler = Callable[..., Any]

_HANDLERS: dict[str, JobHandler] = {}


def job(name: str) -> Callable[[JobHandler], JobHandler]:
    """Register `fn` as the handler of outbox jobs called `name`."""

    def register(fn: JobHandler) -> JobHandler:
        if name in _HANDLERS and _HANDLERS[name] is not fn:
            raise ValueError(f"job {name!r} registered twice")
        _HANDLERS[name] = fn
        return fn

    return register


def handler_for(name: str) -> JobHandler:
    try:
        return _HANDLERS[name]
    except KeyError:
        raise LookupError(
            f"no handler registered for job {name!r} (did this process call register_job_handlers()?)"
        ) from None
