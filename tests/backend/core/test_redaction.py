"""Logs and error reports carry no patient identifier (issue 16, the minimum necessary), one test per path:
an exception while handling a patient request (REST), a job failure (RQ worker and the outbox row), the
REST error responses, and PostHog (Reflex's telemetry, the only PostHog client in the product)."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.accounts.api_tokens import create_token
from backend.api import create_api
from backend.core.logging import JsonFormatter, install_redaction, log_event, redact
from backend.core.queue import RedactingSimpleWorker, job_queue, redis_connection
from backend.jobs.registry import job
from backend.jobs.service import enqueue_job, relay_once
from tenants.context import TenantContext
from tenants.session import tenant_session

EMAIL, PHONE, DOB, RX = "jane.roe@example.com", "+12125550147", "1961-04-12", "B1-004711"
IDENTIFIERS = (EMAIL, PHONE, "212-555-0147", "(212) 555-0147", DOB, "04/12/1961", RX)
LEAKY = f"could not reach {EMAIL} / {PHONE} / (212) 555-0147, born {DOB} (04/12/1961), Rx {RX}"


def assert_clean(written: str) -> None:
    for identifier in IDENTIFIERS:
        assert identifier not in written, f"{identifier} leaked into: {written[:500]}"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the product's JSON log handler writes, for this test."""
    install_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_shapes_are_redacted_and_ids_are_not():
    assert redact(LEAKY) == "could not reach [email] / [phone] / [phone], born [date] ([date]), Rx [rx]"
    params = "{'full_name': 'Jane Roe', 'date_of_birth': datetime.date(1961, 4, 12), 'notes': 'x'}"
    assert redact(params) == "{'full_name': [redacted], 'date_of_birth': [redacted], 'notes': [redacted]}"
    kept = f"job {uuid.UUID(int=12345)} trace 4f3a9b2c1d0e5f67 bill B1-2026-000123 took 1234 ms, 12.50 USD"
    assert redact(kept) == kept  # ids, traces, bill numbers, amounts: what an operator needs stays


def test_a_log_line_with_identifiers_in_its_message_fields_and_exception(log_lines):
    log = logging.getLogger("tests.redaction")
    try:
        raise ValueError(LEAKY)
    except ValueError:
        log.exception("failed for %s", EMAIL)
    log_event(log, "patient.updated", email=EMAIL, note=f"called {PHONE}", full_name="Jane Roe")
    written = log_lines.getvalue()
    assert_clean(written)
    assert "Jane Roe" not in written
    lines = [json.loads(line) for line in written.splitlines()]
    assert lines[0]["event"] == "failed for [email]" and "ValueError" in lines[0]["exc"]
    assert lines[1]["email"] == "[redacted]" and lines[1]["note"] == "called [phone]"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api(), raise_server_exceptions=False) as test_client:
        yield test_client


def owner_of(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def test_an_exception_in_a_patient_request_logs_and_answers_no_identifier(
    client, committed_tenant, log_lines, monkeypatch
):
    chain, _ = committed_tenant("redact-rest")
    auth = {"Authorization": f"Bearer {create_token(owner_of(chain), 'redaction', ['admin']).token}"}

    def broken(session, ctx, patient_id):
        raise RuntimeError(LEAKY)

    monkeypatch.setattr("backend.patients.api.get_patient", broken)
    answer = client.get(f"/api/v1/patients/{uuid.uuid4()}", headers=auth)
    assert answer.status_code == 500
    assert answer.json()["error"] == "internal" and "Quote reference" in answer.json()["message"]
    reference = answer.json()["message"].split("reference ")[1].split(" ")[0]
    assert_clean(answer.text)
    written = log_lines.getvalue()
    assert "RuntimeError" in written and reference in written  # the operator finds it by the reference
    assert_clean(written)


def test_a_refused_patient_body_is_not_echoed_back(client, committed_tenant):
    chain, _ = committed_tenant("redact-422")
    auth = {"Authorization": f"Bearer {create_token(owner_of(chain), 'redaction', ['admin']).token}"}
    body = {"full_name": "Jane Roe", "date_of_birth": DOB, "home_branch_id": str(chain.branch_ids[0])}
    body |= {"email": [EMAIL], "phone": {"number": PHONE}}  # the wrong types: FastAPI refuses the body
    answer = client.post("/api/v1/patients", json=body, headers={**auth, "Idempotency-Key": "redact-422-0001"})
    assert answer.status_code == 422
    assert {tuple(e["loc"]) for e in answer.json()["detail"]} >= {("body", "email"), ("body", "phone")}
    assert_clean(answer.text)
    assert "Jane Roe" not in answer.text


@job("tests.redaction_fails")
def _fails_with_identifiers(session, ctx, *, patient_id: str) -> None:
    raise RuntimeError(f"notifying patient {patient_id} failed: {LEAKY}")


def test_a_failed_job_logs_and_stores_no_identifier(committed_tenant, log_lines):
    chain, _ = committed_tenant("redact-job")
    ctx = owner_of(chain)
    with tenant_session(ctx) as session:
        outbox_id = enqueue_job(session, ctx, "tests.redaction_fails", patient_id=str(uuid.uuid4()))
    connection = redis_connection()
    assert relay_once(connection) >= 1
    queue = job_queue("default", connection)
    worker = RedactingSimpleWorker([queue], connection=connection, serializer=queue.serializer)
    worker.work(burst=True)
    written = log_lines.getvalue()
    assert "RuntimeError" in written  # the failure is logged...
    assert_clean(written)  # ...without the identifiers
    failed = [queue.fetch_job(i) for i in queue.failed_job_registry.get_job_ids()]
    stored = [j.latest_result().exc_string for j in failed if j is not None and j.latest_result()]
    assert any("RuntimeError" in s for s in stored)
    for exc_string in stored:
        assert_clean(exc_string)
    with tenant_session(ctx) as session:
        last_error = session.execute(text("SELECT last_error FROM outbox WHERE id = :i"), {"i": outbox_id}).scalar()
    assert last_error and "RuntimeError" in last_error
    assert_clean(last_error)


def test_posthog_gets_no_event_at_all(monkeypatch):
    """Reflex's telemetry is the only PostHog client here; rxconfig turns it off, so nothing is sent, not
    even an error event whose context names a patient."""
    from reflex.utils import telemetry
    from reflex_base.config import get_config

    assert get_config().telemetry_enabled is False
    sent: list[object] = []
    monkeypatch.setattr(telemetry, "_send_event", sent.append)
    telemetry.send("error", context=LEAKY)
    assert telemetry._send("error", None, context=LEAKY) is False  # noqa: SLF001
    assert sent == []
