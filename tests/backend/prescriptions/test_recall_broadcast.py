"""The recall broadcast (issue 18 §6): "notify everyone who received this lot" reaches exactly the patients of
that lot, each on the channels they can be reached on, delivered by a real worker to the SMTP sink and the SMS
gateway stand-in; the branch's manager gets a staff e-mail naming no patient; a second click notifies nobody
again; the report says who was reached and who must be phoned; a cashier cannot start one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from backend.core.errors import PermissionDenied, ValidationFailed
from backend.core.queue import redis_connection
from backend.core.settings import reset_settings_cache
from backend.patients.service import create_patient
from backend.prescriptions import fills, recall_broadcast
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session
from tests.backend.notifications.conftest import SmsGateway
from tests.backend.prescriptions.conftest import Pharmacy, stock
from tests.backend.prescriptions.test_fills import receive
from tests.e2e.test_prescriptions import member
from tests.helpers import start_cli, stop, wait_until

EMAIL = "erin.email@example.com"
PHONE = "+15555550177"


@dataclass
class Lot:
    pharmacy: Pharmacy
    erin: str  # e-mail on file, consents to be contacted
    sam: str  # mobile number only, consents
    nora: str  # no contact details
    other: str  # got lot B
    manager_email: str


def patient(p: Pharmacy, name: str, **contact: object) -> str:
    return run_in_tenant(
        p.owner, create_patient, full_name=name, date_of_birth="1970-01-02", home_branch_id=p.branch, **contact
    ).id


def fill_for(p: Pharmacy, patient_id: str) -> None:
    rx = p.on_profile(patient_id, "lisinopril", quantity="30")
    p.run(p.technician, fills.fill_prescription, rx.id)


def lot_given_to_three(p: Pharmacy) -> Lot:
    suffix = uuid.uuid4().hex[:5]
    receive(p, "lisinopril", "RC-1", 90)
    erin = patient(p, f"Erin Email{suffix}", email=EMAIL, contact_consent=True)
    sam = patient(p, f"Sam Sms{suffix}", phone=PHONE, contact_consent=True)
    nora = patient(p, f"Nora Nocontact{suffix}")
    for someone in (erin, sam, nora):
        fill_for(p, someone)
    receive(p, "lisinopril", "RC-2", 60)
    other = patient(p, f"Olga Other{suffix}", email="olga.other@example.com", contact_consent=True)
    fill_for(p, other)
    manager_email, _ = member(p.owner, "manager", "Mona Manager")
    return Lot(p, erin, sam, nora, other, manager_email)


@pytest.fixture
def gateway(monkeypatch) -> Iterator[SmsGateway]:
    gateway = SmsGateway().start()
    monkeypatch.setenv("SMS_URL", gateway.url)
    monkeypatch.setenv("NOTIFY_RETRY_INTERVALS", "1,1,2")
    monkeypatch.setenv("NOTIFY_TIMEOUT_SECONDS", "2")
    reset_settings_cache()
    redis_connection().flushdb()
    yield gateway
    gateway.stop()
    monkeypatch.undo()
    reset_settings_cache()


@pytest.fixture
def workers(gateway) -> Iterator[SmsGateway]:
    """The outbox relay and a worker on both queues, as `make run` starts them."""
    worker = start_cli("worker", "--queues", "default,notifications", log_name="test-recall-worker")
    relay = start_cli("relay", "--interval", "0.2", log_name="test-recall-relay")
    yield gateway
    stop(relay)
    stop(worker)


def messages(tenant_id: object) -> list[tuple[str, str, str, str]]:
    with tenant_session(TenantContext.system(tenant_id)) as session:  # type: ignore[arg-type]
        rows = session.execute(
            text("SELECT coalesce(patient_id::text, '') AS p, kind, channel, status FROM notification_messages "
                 "WHERE dedupe_key LIKE 'recall:%' ORDER BY kind, p, channel")
        ).all()  # fmt: skip
    return [(r.p, r.kind, r.channel, r.status) for r in rows]


def test_a_recall_reaches_exactly_the_patients_of_the_lot_once(committed_tenant, workers, mail_sink):
    gateway = workers
    chain, _ = committed_tenant("recall-cast", branches=2)
    lot = lot_given_to_three(stock(chain))
    p = lot.pharmacy
    lisinopril = p.medicines["lisinopril"]

    first = p.run(p.pharmacist, recall_broadcast.start_broadcast, "rc-1", lisinopril)
    again = p.run(p.owner, recall_broadcast.start_broadcast, "RC-1", lisinopril)  # a second click, another member
    assert first.created and not again.created and again.id == first.id and first.patients == 3

    done = wait_until(
        lambda: (found := p.run(p.pharmacist, recall_broadcast.broadcast_progress, first.id)).done and found,
        timeout=60, message="the broadcast to be sent",
    )  # fmt: skip
    assert done.counts == {"queued": 0, "sent": 2, "failed": 0, "suppressed": 1} and done.percent == 100
    assert done.broadcast.staff_messages == 1

    rows = messages(chain.tenant_id)
    assert sorted(r for r in rows if r[1] == "lot_recall") == sorted([
        (lot.erin, "lot_recall", "email", "sent"),
        (lot.sam, "lot_recall", "sms", "sent"),
        (lot.nora, "lot_recall", "email", "suppressed"),
    ])  # fmt: skip
    assert lot.other not in {r[0] for r in rows}
    # Delivered once each, through the real SMTP server and the SMS gateway; the minimum message (no detail
    # allowed by the chain): no medicine, no lot number.
    [mail] = mail_sink.to(EMAIL)
    assert "being recalled" in mail_sink.text(mail) and "RC-1" not in mail_sink.text(mail)
    [sms] = gateway.to(PHONE)
    assert "being recalled" in sms["message"] and "isinopril" not in sms["message"]
    assert not mail_sink.to("olga.other@example.com")
    [staff] = wait_until(
        lambda: [m for m in mail_sink.to(lot.manager_email) if str(m["Subject"]).startswith("Recall")],
        message="the manager's e-mail",
    )
    body = mail_sink.text(staff)
    assert "Lot RC-1 of Lisinopril 10 mg is recalled; 3 patient(s) of" in body and "Erin" not in body

    report = p.run(p.pharmacist, recall_broadcast.broadcast_report, "RC-1", lisinopril)
    outcome = {o.patient_id: o for o in report.patients}
    assert set(outcome) == {lot.erin, lot.sam, lot.nora}
    assert (report.count("sent"), report.count("failed"), report.count("no contact")) == (2, 0, 1)
    assert outcome[lot.nora].outcome == "no contact" and outcome[lot.nora].patient_name.startswith("Nora")
    assert outcome[lot.nora].channels[0].reason == "The patient has not agreed to be contacted"
    assert outcome[lot.erin].channels[0].recipient == "e***@example.com"
    assert report.patients[0].patient_id == lot.nora  # those to phone first

    # Clicking again after it went out still sends nothing more.
    p.run(p.pharmacist, recall_broadcast.start_broadcast, "RC-1", lisinopril)
    assert len(messages(chain.tenant_id)) == len(rows) and len(mail_sink.to(EMAIL)) == 1
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        assert session.execute(text("SELECT count(*) FROM recall_broadcasts")).scalar_one() == 1
        started = session.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'recall.broadcast_started'")
        ).scalar_one()
        logged = session.execute(
            text("SELECT count(DISTINCT patient_id) FROM patient_access_log WHERE reason = 'recall trace'")
        ).scalar_one()
    assert started == 1 and logged == 3


def test_a_cashier_or_technician_cannot_start_a_broadcast_and_an_empty_lot_is_refused(pharmacy):
    p = pharmacy
    receive(p, "lisinopril", "RC-9", 10)
    for role in ("cashier", "technician", "manager"):
        ctx = TenantContext(tenant_id=p.chain.tenant_id, user_id=uuid.uuid4(), role=role)
        with pytest.raises(PermissionDenied):
            p.run(ctx, recall_broadcast.start_broadcast, "RC-9", p.medicines["lisinopril"])
    with pytest.raises(ValidationFailed, match="Nobody received lot RC-9"):
        p.run(p.pharmacist, recall_broadcast.start_broadcast, "RC-9", p.medicines["lisinopril"])
    with pytest.raises(ValidationFailed, match="choose the medicine"):
        p.run(p.pharmacist, recall_broadcast.start_broadcast, "RC-9", "")


def test_the_job_writes_in_batches_and_a_rerun_writes_nothing_twice(pharmacy, monkeypatch, mail_sink):
    from backend.jobs.registry import handler_for

    p = pharmacy
    receive(p, "lisinopril", "RC-3", 90)
    people = [patient(p, f"Batch Person{i}", email=f"batch{i}@example.com", contact_consent=True) for i in range(3)]
    for someone in people:
        fill_for(p, someone)
    monkeypatch.setattr(recall_broadcast, "BATCH", 2)
    started = p.run(p.pharmacist, recall_broadcast.start_broadcast, "RC-3", p.medicines["lisinopril"])
    system = TenantContext.system(p.chain.tenant_id)
    write = handler_for(recall_broadcast.BROADCAST_JOB)
    assert p.run(system, write, broadcast_id=started.id, after="") == "wrote 2 patients, more to come"
    last = sorted(people)[1]
    assert p.run(system, write, broadcast_id=started.id, after=last).startswith("wrote 1 patients")
    assert p.run(system, write, broadcast_id=started.id, after="") == "already written"
    progress = p.run(p.pharmacist, recall_broadcast.broadcast_progress, started.id)
    assert progress.broadcast.written and progress.broadcast.patients_written == 3
    assert sum(progress.counts.values()) == 3
