"""Refill reminders (issue 18 §4), through the tick: a patient who opted in (in the portal) and whose last fill's
days' supply runs out within REMINDER_DAYS gets one reminder on the channel they chose, not a second one on the
next day's run; a patient who did not opt in gets none."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import text

from backend.core.database import owner_engine
from backend.core.models import utc_now
from backend.jobs.service import run_outbox_job
from backend.patients.customer import set_customer_choices
from backend.prescriptions import fills
from backend.prescriptions.refill_reminder import REFILL_REMINDER_JOB, REMINDER_DAYS
from backend.schedules.registry import SCHEDULES
from backend.schedules.service import tick
from tenants.context import TenantContext
from tenants.session import platform_session, run_in_tenant, tenant_session
from tests.backend.notifications.helpers import deliver_queued
from tests.backend.prescriptions.conftest import Pharmacy, stock
from tests.backend.prescriptions.test_fills import receive
from tests.backend.prescriptions.test_recall_broadcast import patient


@pytest.fixture(autouse=True)
def _no_pending_scheduled_jobs_left_behind():
    """The ticks write other scheduled jobs no relay runs here: marked done so they crowd no other test."""
    yield
    with platform_session(reason="test: scheduled jobs written by the refill reminder tests") as session:
        session.execute(
            text("UPDATE outbox SET status = 'done', done_at = now() WHERE status = 'pending' AND job_name = ANY(:n)"),
            {"n": [schedule.job_name for schedule in SCHEDULES]},
        )


def opted_in(p: Pharmacy, patient_id: str, channel: str = "email") -> None:
    """What the customer does on the portal's "My choices" screen."""
    customer = TenantContext(tenant_id=p.chain.tenant_id, role="customer", patient_id=uuid.UUID(patient_id))
    run_in_tenant(customer, set_customer_choices, refill_reminders=True, channel=channel, detailed_messages=False)


def filled_days_ago(p: Pharmacy, patient_id: str, days: int) -> str:
    rx = p.on_profile(patient_id, "lisinopril", quantity="30", days_supply="30", refills_authorized="2")
    fill = p.run(p.technician, fills.fill_prescription, rx.id)
    # Filled `days` ago and checked (as tests/backend/prescriptions/test_refills.py's filled_and_checked does).
    with owner_engine().begin() as connection:
        connection.execute(
            text(
                "UPDATE prescription_fills SET filled_at = filled_at - make_interval(days => :d), status = 'checked', "
                "checked_at = now(), scanned_barcode = '00000000' WHERE id = :f"
            ),
            {"d": days, "f": fill.id},
        )
        connection.execute(text("UPDATE prescriptions SET status = 'ready_for_pickup' WHERE id = :p"), {"p": rx.id})
    return rx.id


def reminder_runs(tenant_id: uuid.UUID, moment: datetime) -> list[str]:
    written = [r for r in tick(moment, only=[tenant_id]).written if r.job_name == REFILL_REMINDER_JOB]
    return [run_outbox_job(str(tenant_id), str(r.outbox_id)) for r in written]


def reminders(tenant_id: uuid.UUID) -> list[tuple[str, str, str]]:
    with tenant_session(TenantContext.system(tenant_id)) as session:
        rows = session.execute(
            text(
                "SELECT patient_id::text AS p, channel, dedupe_key FROM notification_messages WHERE kind = 'refill_due'"
            )
        ).all()
    return [(r.p, r.channel, r.dedupe_key) for r in rows]


def test_an_opted_in_patient_gets_one_reminder_and_one_who_did_not_gets_none(committed_tenant, mail_sink):
    chain, _ = committed_tenant("refill-remind", branches=2)
    p = stock(chain)
    receive(p, "lisinopril", "RR-1", 200)
    suffix = uuid.uuid4().hex[:5]
    ann = patient(p, f"Ann Optin{suffix}", email=f"ann.{suffix}@example.com", contact_consent=True)
    bob = patient(p, f"Bob Optout{suffix}", email=f"bob.{suffix}@example.com", contact_consent=True)
    opted_in(p, ann)
    tomorrow = utc_now().date() + timedelta(days=1)
    # 30 days' supply filled 28 days before tomorrow: it runs out 2 days after tomorrow's 10:00 run.
    ann_rx = filled_days_ago(p, ann, 27)
    filled_days_ago(p, bob, 27)
    # Ann's second prescription ran out long ago: no reminder for it.
    filled_days_ago(p, ann, 30 + REMINDER_DAYS + 5)

    early = datetime.combine(tomorrow, time(9, 59), tzinfo=UTC)
    assert reminder_runs(chain.tenant_id, early) == []  # not before 10:00 branch time
    assert reminder_runs(chain.tenant_id, early + timedelta(minutes=1)) == ["done", "done"]  # one per branch
    assert reminder_runs(chain.tenant_id, early + timedelta(minutes=6)) == []  # a second tick: nothing new
    [(who, channel, key)] = reminders(chain.tenant_id)
    assert (who, channel) == (ann, "email") and key.startswith(f"refill_due:{ann_rx}:")

    # The next day's run still sees the fill as due: the fill was reminded once, nothing more is written.
    assert reminder_runs(chain.tenant_id, early + timedelta(days=1, minutes=1)) == ["done", "done"]
    assert len(reminders(chain.tenant_id)) == 1

    assert deliver_queued(chain.tenant_id) == ["sent"]
    [mail] = mail_sink.to(f"ann.{suffix}@example.com")
    assert "due for a refill" in mail_sink.text(mail) and "isinopril" not in mail_sink.text(mail)
    assert not mail_sink.to(f"bob.{suffix}@example.com")
