"""Named job handlers. A handler takes (session, ctx, **ids) and must be idempotent."""

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
    load_handlers()
    try:
        return _HANDLERS[name]
    except KeyError:
        raise LookupError(f"no handler registered for job {name!r}") from None


def load_handlers() -> None:
    """Import every domain's handlers (the worker does it once, before it forks work-horses)."""
    # Domains register their handlers on import; list each domain's tasks module here.
    import backend.accounts.tasks  # noqa: F401
    import backend.inventory.csv_import  # noqa: F401
    import backend.jobs.tasks  # noqa: F401
    import backend.prescriptions.reading  # noqa: F401
