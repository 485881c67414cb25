"""Ready for pickup (issue 18): a fill that passes the final check puts one message to the patient on the
channel they chose — text or e-mail — written without the medicine by default, once per fill; no consent to be
contacted, or no number for a text, writes it suppressed with the reason; a portal request's fill is told by
the portal instead."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from backend.core.errors import PermissionDenied, ValidationFailed
from backend.jobs.registry import handler_for
from backend.notifications.delivery import deliver_message
from backend.patients.contact_preferences import message_preferences, set_message_preferences
from backend.patients.service import create_patient
from backend.prescriptions import fills
from backend.prescriptions.fills import READY_JOB
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.backend.notifications.conftest import sms_gateway  # noqa: F401 - the SMS gateway stand-in
from tests.backend.prescriptions.test_fills import fill, receive

PHONE = "+15555550188"


def checked_fill(pharmacy, db, patient_id: str):
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE medicines SET barcode = '00093711101' WHERE id = :m"),
               {"m": pharmacy.medicines["lisinopril"]})  # fmt: skip
    receive(pharmacy, "lisinopril", "L1", 60)
    rx = pharmacy.on_profile(patient_id, "lisinopril", quantity="30")
    done = fill(pharmacy, rx.id)
    pharmacy.run(pharmacy.pharmacist, fills.final_check, done.id, "00093711101")
    return done


def ready_jobs(db, tenant_id) -> list[str]:
    db.execute(text("RESET ROLE"))
    rows = db.execute(
        text("SELECT payload FROM outbox WHERE job_name = :j AND tenant_id = :t"), {"j": READY_JOB, "t": tenant_id}
    )
    return [r.payload["fill_id"] for r in rows]


def message(db, fill_id: str):
    db.execute(text("RESET ROLE"))
    return db.execute(
        text("SELECT channel, status, reason, recipient_hint FROM notification_messages WHERE dedupe_key = :k"),
        {"k": f"fill.ready:{fill_id}"},
    ).one()


def test_a_checked_fill_texts_the_patient_who_chose_texts_once(pharmacy, db, sms_gateway):  # noqa: F811
    patient = run_in_tenant(
        pharmacy.owner, create_patient, full_name="Tess Texter", date_of_birth="1980-02-03",
        home_branch_id=pharmacy.branch, phone=PHONE, email="tess@example.com", contact_consent=True,
    ).id  # fmt: skip
    chosen = pharmacy.run(pharmacy.pharmacist, set_message_preferences, patient, channel="sms", refill_reminders=True)
    assert (chosen.channel, chosen.refill_reminders) == ("sms", True)
    done = checked_fill(pharmacy, db, patient)
    assert ready_jobs(db, pharmacy.chain.tenant_id) == [str(done.id)]  # put on the outbox by the final check
    system = TenantContext.system(pharmacy.chain.tenant_id)
    tell = handler_for(READY_JOB)
    assert pharmacy.run(system, tell, fill_id=str(done.id)) == "queued"
    assert pharmacy.run(system, tell, fill_id=str(done.id)) == "queued"  # a retried job: the same one message
    sent = message(db, str(done.id))
    assert (sent.channel, sent.status, sent.recipient_hint) == ("sms", "queued", "***0188")
    count = db.execute(
        text("SELECT count(*) FROM notification_messages WHERE dedupe_key = :k"), {"k": f"fill.ready:{done.id}"}
    )
    assert count.scalar_one() == 1
    [message_id] = db.execute(
        text("SELECT id FROM notification_messages WHERE dedupe_key = :k"), {"k": f"fill.ready:{done.id}"}
    )
    assert deliver_message(str(pharmacy.chain.tenant_id), str(message_id.id)) == "sent"
    [texted] = sms_gateway.to(PHONE)
    assert "ready for pickup" in str(texted) and "isinopril" not in str(texted)  # no medicine by default


def test_no_consent_or_no_number_is_written_suppressed_with_the_reason(pharmacy, db):
    quiet = run_in_tenant(
        pharmacy.owner, create_patient, full_name="Quinn Quiet", date_of_birth="1981-02-03",
        home_branch_id=pharmacy.branch, email="quinn@example.com",
    ).id  # fmt: skip
    done = checked_fill(pharmacy, db, quiet)
    system = TenantContext.system(pharmacy.chain.tenant_id)
    assert pharmacy.run(system, handler_for(READY_JOB), fill_id=str(done.id)) == "suppressed"
    assert message(db, str(done.id)).reason == "The patient has not agreed to be contacted"


def test_preferences_are_checked_and_staff_only(pharmacy, db):
    patient = pharmacy.patient()
    with pytest.raises(ValidationFailed, match="e-mail or text"):
        pharmacy.run(pharmacy.pharmacist, set_message_preferences, patient, channel="pigeon", refill_reminders=True)
    assert pharmacy.run(pharmacy.pharmacist, message_preferences, patient).channel == "email"  # unchanged
    cashier = TenantContext(tenant_id=pharmacy.chain.tenant_id, user_id=pharmacy.chain.owner_user_id, role="cashier")
    with pytest.raises(PermissionDenied):
        run_in_tenant(cashier, set_message_preferences, patient, channel="sms", refill_reminders=False)
