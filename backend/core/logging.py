"""JSON-lines logging with request context (trace id, tenant, user), never secrets or patient data."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

trace_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("trace_id", default=None)
tenant_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant", default=None)
user_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("user", default=None)

# Keys that must never reach a log line, whatever a caller passes in `extra`.
_REDACTED_KEYS = {"password", "password_hash", "secret", "token", "authorization", "api_key"}
# Patient data never belongs in a log either (the patient access log in the database records who saw what).
_REDACTED_KEYS |= {"full_name", "date_of_birth", "phone", "email", "address", "allergies", "notes"}


def new_trace_id() -> str:
    return uuid.uuid4().hex[:16]


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "event": record.getMessage(),
            "trace_id": trace_id_var.get(),
            "tenant": tenant_var.get(),
            "user": user_var.get(),
        }
        for key, value in getattr(record, "fields", {}).items():
            line[key] = "[redacted]" if key.lower() in _REDACTED_KEYS else value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(service: str, level: str = "INFO", *, json_lines: bool = True) -> None:
    """Send this process's logs to stderr as JSON lines (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_pharmacy", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._pharmacy = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter(service) if json_lines else logging.Formatter("%(levelname)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("alembic", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log a named event with structured fields."""
    logger.log(level, event, extra={"fields": fields})
