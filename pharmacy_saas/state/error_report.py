"""What a member sees, and what the logs keep, when an event handler fails unexpectedly.

Reflex's default shows the exception's text in a toast outside production and logs the traceback; an
exception's text can name a patient (a value that failed a check, a SQL error). Here the member gets a
reference to quote, and the traceback goes to the logs, which redact identifiers (backend.core.logging).
"""

from __future__ import annotations

import logging

import reflex as rx
from reflex.event import EventSpec

from backend.core.logging import new_trace_id

log = logging.getLogger(__name__)


def report_backend_error(exception: Exception) -> EventSpec:
    reference = new_trace_id()
    log.error("app.unexpected_error", exc_info=exception, extra={"fields": {"reference": reference}})
    return rx.toast.error(
        f"Something went wrong on our side. Quote reference {reference} to support.", id="backend_error"
    )
