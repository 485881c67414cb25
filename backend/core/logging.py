"""JSON-lines logging with request context (trace id, tenant, user), never secrets or patient data."""

from __future__ import annotations

import contextvars
import json
import logging
import re
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
_REDACTED_KEYS |= {"patient_name", "first_name", "last_name", "dob", "member_id", "group_number", "to", "recipient"}


# --- redaction: identifiers out of every log line and error report ---------------------------------------
# Structured fields are redacted by key (above). Free text (a message, an exception, a traceback, a job's
# failure) is redacted by shape: e-mail addresses, phone numbers, dates (a date of birth looks like any
# other date, so every date goes), Rx numbers, and the value after a patient field's name
# (`'email': '...'`, `phone=...`). A patient's name in free text has no shape: it is kept out by never
# logging records or SQL parameters (the engines hide them) rather than caught here.
_PATIENT_FIELD_NAMES = "|".join(
    sorted(_REDACTED_KEYS - {"to", "recipient", "token", "secret", "authorization", "api_key"}, key=len, reverse=True)
)
# (pattern, replacement, characters of which the text must contain one for the pattern to be worth running:
# most log lines have no '@' or date, and skipping a pattern is what keeps a line's redaction in microseconds)
_SHAPES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"datetime\.date(?:time)?\([^)]*\)"), "[date]", "("),
    (
        re.compile(
            rf"(?<!\w)(['\"]?)({_PATIENT_FIELD_NAMES})\1(\s*[:=]\s*)('[^']*'|\"[^\"]*\"|\[[a-z]+\]|[^\s,;)}}\]]+)"
        ),
        r"\1\2\1\3[redacted]",
        ":=",
    ),
    # Credentials in free text: a library's debug line of its request (apprise logs an SMS gateway's payload
    # with its access token), `password=...`, and the user:password part of a URL (a chain's provider URL).
    (
        re.compile(
            r"(?<![\w])(['\"]?)((?:access_|auth_|api_|client_|refresh_)?(?:token|secret|password|passwd|api_?key|"
            r"apikey|authorization|credentials?))\1(\s*[:=]\s*)((?:Bearer|Basic|Token)\s+[^\s,;&)}\]]+|'[^']*'|\"[^\"]*\"|\[[a-z]+\]|[^\s,;&)}\]]+)",
            re.IGNORECASE,
        ),
        r"\1\2\1\3[redacted]",
        ":=",
    ),
    (re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"), "[redacted]", "@"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), "[email]", "@"),
    (re.compile(r"(?<!\d)(?:\d{4}-\d\d?-\d\d?|\d\d?/\d\d?/\d{2,4})(?!\d)"), "[date]", "-/"),
    (re.compile(r"(?<![\w-])[A-Z][A-Z0-9]{0,9}-\d{6}(?!\d)"), "[rx]", "-"),
    (re.compile(r"(?<![\w.:-])\+?\(?\d[\d ().-]{5,18}\d(?![\w:-])"), "[phone]", "0123456789"),
]
_DIGITS = re.compile(r"\d")


def _phone_or_not(match: re.Match[str]) -> str:
    found = match.group(0)
    return "[phone]" if 7 <= len(_DIGITS.findall(found)) <= 15 else found


def redact(value: str) -> str:
    """`value` with e-mail addresses, phone numbers, dates, Rx numbers and patient field values replaced."""
    if not value:
        return value
    for pattern, replacement, needs in _SHAPES:
        if not any(c in value for c in needs):
            continue
        value = pattern.sub(_phone_or_not if replacement == "[phone]" else replacement, value)
    return value


def redact_field(key: str, value: Any) -> Any:
    if key.lower() in _REDACTED_KEYS:
        return "[redacted]"
    return redact(value) if isinstance(value, str) else value


_plain_record_factory = logging.getLogRecordFactory()


def _redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every log record of the process, redacted as it is made: whichever handler or library writes it
    (ours, RQ's, the web server's), its message and traceback carry no identifier."""
    record = _plain_record_factory(*args, **kwargs)
    try:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
    except Exception:  # noqa: BLE001 - a record that cannot be formatted keeps its own (logging reports it)
        return record
    return record


def install_redaction() -> None:
    """Redact every log record this process makes from now on (idempotent)."""
    logging.setLogRecordFactory(_redacted_record)


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
            line[key] = redact_field(key, value)
        if record.exc_text:
            line["exc"] = record.exc_text
        elif record.exc_info:
            line["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


def configure_logging(service: str, level: str = "INFO", *, json_lines: bool = True) -> None:
    """Send this process's logs to stderr as JSON lines (idempotent), identifiers redacted."""
    install_redaction()
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
