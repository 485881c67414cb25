"""An unexpected error in an event handler: the member sees a reference, never the exception's text, and the
log line carries no patient identifier (issue 16, the minimum necessary)."""

from __future__ import annotations

import io
import json
import logging

from backend.core.logging import JsonFormatter, install_redaction
from pharmacy_saas.state.error_report import report_backend_error


def test_the_member_sees_a_reference_and_the_log_no_identifier():
    install_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    logging.getLogger().addHandler(handler)
    try:
        try:
            raise ValueError("no match for jane.roe@example.com, +12125550147, born 1961-04-12")
        except ValueError as exc:
            toast = report_backend_error(exc)
    finally:
        logging.getLogger().removeHandler(handler)
    shown = json.dumps(toast.args, default=str) if hasattr(toast, "args") else str(toast)
    assert "Quote reference" in shown
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["event"] == "app.unexpected_error" and line["reference"] in shown
    for identifier in ("jane.roe@example.com", "+12125550147", "1961-04-12"):
        assert identifier not in shown and identifier not in stream.getvalue()
    assert "ValueError: no match for [email], [phone], born [date]" in line["exc"]
