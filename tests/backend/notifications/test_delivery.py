"""The notifications queue (issue 18 §3): sealed rows written once per business event, suppression with a
reason, delivery with retries through a provider that is down and comes back (sent exactly once), the
provider's reason captured, the circuit breaker, and the delivery log with resend."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from backend.core.errors import Conflict, PermissionDenied
from backend.core.queue import redis_connection
from backend.core.settings import reset_settings_cache
from backend.jobs.service import relay_once
from backend.notifications import delivery
from backend.notifications.delivery import MessageStatus, deliver_message, queue_patient_message
from backend.notifications.disclosure import MessageKind, render
from backend.notifications.notify import Channel, breaker_open, record_outcome
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session
from tests.backend.notifications.conftest import message_row
from tests.helpers import start_cli, stop, wait_until

PHONE = "+15555550100"
# Own numbers for the tests with a worker: its relay hands over every chain's committed messages.
RETRY_PHONE, BREAKER_PHONE = "+15555550101", "+15555550102"


def ready(medicine: str = "Sertraline 50 mg"):
    return render(
        MessageKind.READY_FOR_PICKUP,
        {"branch": "Main Street", "chain": "Corner Pharmacy", "medicine": medicine, "rx_number": "B1-9"},
        chain_allows=False,
        patient_consented=False,
    )


def queue(chain, *, channel=Channel.SMS, address=PHONE, consented=True, key="event-1"):
    return run_in_tenant(
        TenantContext.system(chain.tenant_id), queue_patient_message, patient_id=None, message=ready(),
        channel=channel, address=address, consented=consented, dedupe_key=key,
    )  # fmt: skip


def as_role(chain, role: str) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role=role)


@pytest.fixture
def settings(monkeypatch):
    def configure(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        reset_settings_cache()

    redis_connection().flushdb()
    yield configure
    monkeypatch.undo()
    reset_settings_cache()


def test_a_message_is_sealed_and_one_event_writes_one_row(committed_tenant, sms_gateway):
    chain, _ = committed_tenant("notify-seal")
    first = queue(chain)
    again = queue(chain)
    assert first.created and not again.created and again.id == first.id and first.status is MessageStatus.QUEUED
    row = message_row(chain.tenant_id, first.id)
    assert PHONE.encode() not in bytes(row.recipient_enc) and b"Main Street" not in bytes(row.body_enc)
    assert row.recipient_hint == "***0100" and row.attempts == 0
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        jobs = session.execute(
            text("SELECT count(*) FROM outbox WHERE job_name = :j AND queue = 'notifications'"),
            {"j": delivery.DISPATCH_JOB},
        ).scalar_one()
    assert jobs == 1


def test_only_a_rendered_message_is_queued_for_a_patient(committed_tenant):
    chain, _ = committed_tenant("notify-free")
    with pytest.raises(TypeError):
        run_in_tenant(
            TenantContext.system(chain.tenant_id), queue_patient_message, patient_id=None,
            message="Your sertraline is ready", channel=Channel.EMAIL, address="p@example.com", consented=True,
            dedupe_key="free",
        )  # fmt: skip


def test_suppressed_with_the_reason_when_it_cannot_be_sent(committed_tenant, settings, mail_sink):
    chain, _ = committed_tenant("notify-suppress")
    settings(SMS_URL="")
    no_consent = queue(chain, consented=False, key="a")
    no_phone = queue(chain, address="", key="b")
    not_configured = queue(chain, key="c")
    no_email = queue(chain, channel=Channel.EMAIL, address="", key="d")
    assert {no_consent.status, no_phone.status, not_configured.status, no_email.status} == {MessageStatus.SUPPRESSED}
    assert no_consent.reason == delivery.NO_CONSENT
    assert no_phone.reason == "No mobile number on file" and no_email.reason == "No e-mail address on file"
    assert "SMS_URL is not set" in not_configured.reason
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        assert session.execute(text("SELECT count(*) FROM outbox WHERE job_name = :j"),
                               {"j": delivery.DISPATCH_JOB}).scalar_one() == 0  # fmt: skip


def test_the_providers_reason_is_captured_and_the_last_try_marks_it_failed(committed_tenant, settings, mail_sink):
    from devtools.services import free_port

    chain, _ = committed_tenant("notify-reason")
    settings(MAIL_URL=f"mailto://127.0.0.1:{free_port()}?from=no-reply@pharmacy.test&mode=insecure",
             NOTIFY_TIMEOUT_SECONDS=2)  # fmt: skip
    queued = queue(chain, channel=Channel.EMAIL, address="pat.ient@example.com")
    assert deliver_message(str(chain.tenant_id), str(queued.id)) == "failed"  # a direct call is the last try
    row = message_row(chain.tenant_id, queued.id)
    assert row.status == "failed" and row.attempts == 1 and row.sent_at is None
    assert "Connection error" in row.reason and "pat.ient@example.com" not in row.reason
    assert deliver_message(str(chain.tenant_id), str(queued.id)) == "already failed"  # never sent twice


def test_an_sms_is_sent_through_the_gateway_once(committed_tenant, sms_gateway, settings):
    chain, _ = committed_tenant("notify-sms")
    queued = queue(chain)
    assert deliver_message(str(chain.tenant_id), str(queued.id)) == "sent"
    assert deliver_message(str(chain.tenant_id), str(queued.id)) == "already sent"
    [sms] = sms_gateway.to(PHONE)
    assert "ready for pickup at Main Street" in sms["message"] and "ertraline" not in sms["message"]
    row = message_row(chain.tenant_id, queued.id)
    assert (row.status, row.attempts, row.reason) == ("sent", 1, "") and row.sent_at is not None


def test_a_refusal_by_the_gateway_is_recorded_with_its_reason(committed_tenant, sms_gateway, settings):
    chain, _ = committed_tenant("notify-refused")
    sms_gateway.refuse = True
    queued = queue(chain)
    assert deliver_message(str(chain.tenant_id), str(queued.id)) == "failed"
    row = message_row(chain.tenant_id, queued.id)
    assert "Invalid number" in row.reason and PHONE not in row.reason and "0100" not in row.reason


@pytest.fixture
def notifications_worker(sms_gateway, settings):
    settings(NOTIFY_RETRY_INTERVALS="1,1,2,2", NOTIFY_BREAKER_FAILURES=3, NOTIFY_BREAKER_SECONDS=2,
             NOTIFY_TIMEOUT_SECONDS=2)  # fmt: skip
    process = start_cli("worker", "--queues", "notifications", log_name="test-notifications-worker")
    yield sms_gateway
    stop(process)


def test_provider_down_then_back_is_retried_and_delivered_exactly_once(committed_tenant, notifications_worker):
    gateway = notifications_worker
    chain, _ = committed_tenant("notify-retry")
    gateway.stop()
    queued = queue(chain, address=RETRY_PHONE)
    assert relay_once(redis_connection()) >= 1
    failed_once = wait_until(lambda: message_row(chain.tenant_id, queued.id).attempts >= 1, message="a first try")
    assert failed_once
    row = message_row(chain.tenant_id, queued.id)
    assert row.status == "queued" and "Connection error" in row.reason  # waiting for its retry
    gateway.start()
    wait_until(lambda: message_row(chain.tenant_id, queued.id).status == "sent", message="the retried delivery")
    assert len(gateway.to(RETRY_PHONE)) == 1
    assert message_row(chain.tenant_id, queued.id).attempts >= 2


@pytest.fixture
def worker_and_scheduler(sms_gateway, settings):
    """What `make run` starts: workers without a scheduler child, and one `pharmacy-saas scheduler`."""
    settings(NOTIFY_RETRY_INTERVALS="1,1,2,2", NOTIFY_BREAKER_FAILURES=3, NOTIFY_BREAKER_SECONDS=2,
             NOTIFY_TIMEOUT_SECONDS=2)  # fmt: skip
    worker = start_cli("worker", "--queues", "notifications", "--no-scheduler", log_name="test-notifications-w2")
    scheduler = start_cli("scheduler", "--queues", "notifications", log_name="test-notifications-scheduler")
    yield sms_gateway
    stop(worker)
    stop(scheduler)


def test_the_breaker_opens_and_a_skipped_message_is_delivered_later(committed_tenant, worker_and_scheduler):
    notifications_worker = worker_and_scheduler
    chain, _ = committed_tenant("notify-breaker")
    redis = redis_connection()
    for _ in range(3):
        record_outcome(redis, chain.tenant_id, Channel.SMS, sent=False)
    assert breaker_open(redis, chain.tenant_id, Channel.SMS)
    assert not breaker_open(redis, chain.tenant_id, Channel.EMAIL)  # per channel
    queued = queue(chain, address=BREAKER_PHONE)
    # Skipped while open: no attempt is counted, the message stays queued.
    assert deliver_message(str(chain.tenant_id), str(queued.id)) == "skipped"
    row = message_row(chain.tenant_id, queued.id)
    assert (row.status, row.attempts) == ("queued", 0) and not notifications_worker.to(BREAKER_PHONE)
    assert relay_once(redis) >= 1  # its first delivery job, while the breaker may still be open
    wait_until(lambda: message_row(chain.tenant_id, queued.id).status == "sent", message="the later delivery")
    assert len(notifications_worker.to(BREAKER_PHONE)) == 1


def test_the_delivery_log_shows_no_body_and_a_failed_message_can_be_resent(committed_tenant, sms_gateway, settings):
    chain, _ = committed_tenant("notify-log")
    sms_gateway.refuse = True
    failed = queue(chain)
    deliver_message(str(chain.tenant_id), str(failed.id))
    queue(chain, channel=Channel.EMAIL, address="", key="none")
    owner = as_role(chain, "owner")
    entries = run_in_tenant(owner, delivery.delivery_log)
    assert {(e.channel, e.status) for e in entries} == {(Channel.SMS, "failed"), (Channel.EMAIL, "suppressed")}
    shown = run_in_tenant(owner, delivery.delivery_log, status="failed")
    assert [e.recipient for e in shown] == ["***0100"] and shown[0].kind_label == "Prescription ready for pickup"
    assert "Main Street" not in repr(entries)  # the body is never in the log
    assert run_in_tenant(owner, delivery.delivery_log, channel="email", kind="ready_for_pickup")[0].reason
    with pytest.raises(PermissionDenied):
        run_in_tenant(as_role(chain, "pharmacist"), delivery.delivery_log)
    with pytest.raises(PermissionDenied):
        run_in_tenant(as_role(chain, "technician"), delivery.resend, failed.id)
    sms_gateway.refuse = False
    again = run_in_tenant(as_role(chain, "manager"), delivery.resend, failed.id)
    assert again.status is MessageStatus.QUEUED and again.reason == ""
    with pytest.raises(Conflict):
        run_in_tenant(owner, delivery.resend, failed.id)  # only a failed one
    assert deliver_message(str(chain.tenant_id), str(failed.id)) == "sent"
    row = message_row(chain.tenant_id, failed.id)
    assert (row.status, row.attempts) == ("sent", 2) and len(sms_gateway.to(PHONE)) == 1
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        audit = session.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'notifications.resent' AND entity_id = :id"),
            {"id": str(failed.id)},
        ).scalar_one()
    assert audit == 1


def test_a_key_rotation_reseals_the_messages_and_they_still_send(committed_tenant, sms_gateway, db):
    from backend.protection.rotation import rotate_chain
    from tests.backend.protection.test_rotation import versions

    chain, _ = committed_tenant("notify-rotate")
    queued = queue(chain)
    done = rotate_chain(chain.tenant_id, reencrypt=True, batch=10)
    assert done.retired == [1]
    for column in delivery.SEALED:
        assert versions(db, "notification_messages", column, chain.tenant_id) == {2}, column
    assert deliver_message(str(chain.tenant_id), str(queued.id)) == "sent"
    assert "ready for pickup at Main Street" in sms_gateway.to(PHONE)[-1]["message"]


def test_only_the_queue_hands_messages_to_notify():
    """Patient messages reach a provider only from `deliver_message`, which sends what `render` wrote."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    callers = set()
    for path in (root / "backend").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            # `notify(...)` by its name (apprise's own `sender.notify(...)` in notify.py and mail.py is not it)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "notify":
                callers.add(str(path.relative_to(root)))
    # channels.py: the owner's "Send test" (a fixed text to the address the owner types, never a patient's)
    assert callers == {"backend/notifications/delivery.py", "backend/notifications/channels.py"}
