"""An SMS gateway stand-in (SMSEagle's JSON-RPC API, which apprise's smseagle:// speaks) on a local port, and
helpers that deliver a chain's queued notifications in the test process."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy import text

from backend.core.settings import reset_settings_cache
from devtools.services import free_port
from tenants.context import TenantContext
from tenants.session import tenant_session


class SmsGateway:
    """Records each text it accepts; `stop()` makes the provider unreachable, `start()` brings it back on the
    same port, `refuse = True` answers with an error."""

    TOKEN = "teststoken0123456789"

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[dict[str, Any]] = []
        self.refuse = False
        self._server: HTTPServer | None = None

    @property
    def url(self) -> str:
        return f"smseagle://{self.TOKEN}@127.0.0.1:{self.port}"

    def to(self, number: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if number in str(m.get("to", ""))]

    def start(self) -> SmsGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if gateway.refuse:
                    answer, status = {"result": {"error_text": "Invalid number", "status": "error"}}, 200
                else:
                    gateway.messages.append(payload.get("params", {}))
                    answer, status = {"result": [{"message_id": len(gateway.messages), "status": "ok"}]}, 200
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        HTTPServer.allow_reuse_address = True
        self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def sms_gateway(monkeypatch) -> Iterator[SmsGateway]:
    gateway = SmsGateway().start()
    monkeypatch.setenv("SMS_URL", gateway.url)
    reset_settings_cache()
    yield gateway
    gateway.stop()
    monkeypatch.undo()
    reset_settings_cache()


def queued_ids(tenant_id: object) -> list[str]:
    with tenant_session(TenantContext.system(tenant_id)) as session:  # type: ignore[arg-type]
        rows = session.execute(text("SELECT id FROM notification_messages WHERE status = 'queued' ORDER BY created_at"))
        return [str(r.id) for r in rows]


def message_row(tenant_id: object, message_id: object) -> Any:
    with tenant_session(TenantContext.system(tenant_id)) as session:  # type: ignore[arg-type]
        return session.execute(text("SELECT * FROM notification_messages WHERE id = :id"), {"id": message_id}).one()
