"""Every domain's outbox job handlers, registered by the processes that enqueue or run jobs.

backend/jobs is plumbing (the outbox, the relay, the registry) and imports no domain: importing the
handlers from there made an import loop through accounts, inventory and jobs. Instead each entry point
calls `register_job_handlers()` once at start-up: the Reflex app module, the REST app (`create_api`),
the CLI worker (before it forks work-horses) and the test harness. A new domain with background work
adds its tasks module here; its handlers declare their job names with `@job("domain.action")`.
"""

from __future__ import annotations

import importlib

# Importing a tasks module runs its `@job(...)` decorators, which register the handlers.
HANDLER_MODULES = (
    "backend.accounts.tasks",
    "backend.inventory.csv_import",
    "backend.inventory.digest",
    "backend.jobs.tasks",
    "backend.notifications.delivery",
    "backend.portal.tasks",
    "backend.portal.codes",
    "backend.prescriptions.reading",
    "backend.prescriptions.ready_message",
    "backend.prescriptions.recall_broadcast",
    "backend.prescriptions.refill_reminder",
    "backend.prescriptions.refills",
    "backend.prescriptions.unclaimed_reminder",
    "backend.retention.tasks",
)


def register_job_handlers() -> None:
    """Register every domain's job handlers (idempotent: a second call changes nothing)."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)
