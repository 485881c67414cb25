"""The daily unclaimed-fill reminder (a scheduled job, issue 18 §4): the branch's staff get the count, the
longest wait, never a patient's name, an Rx number or a fill's code (it contains the Rx number)."""

from __future__ import annotations

from sqlalchemy import text

from backend.jobs.registry import handler_for
from backend.notifications.delivery import deliver_message
from backend.prescriptions.unclaimed import unclaimed_summary
from backend.prescriptions.unclaimed_reminder import UNCLAIMED_REMINDER_JOB
from tenants.context import TenantContext
from tests.backend.notifications.conftest import queued_ids
from tests.backend.prescriptions.test_refills import filled_and_checked
from tests.backend.prescriptions.test_unclaimed import waited


def test_the_reminder_mails_staff_a_count_and_no_patient(pharmacy, db, mail_sink):
    from tests.backend.prescriptions.test_fills import receive

    receive(pharmacy, "lisinopril", "L1", 100, days=400)
    rx, fill = filled_and_checked(pharmacy, db)
    system = TenantContext.system(pharmacy.chain.tenant_id)
    reminder = handler_for(UNCLAIMED_REMINDER_JOB)
    assert pharmacy.run(system, reminder, branch_id=pharmacy.branch, period="2026-12-05") == "nothing unclaimed"
    waited(db, fill.id, 20)
    summary = pharmacy.run(pharmacy.pharmacist, unclaimed_summary, pharmacy.branch)
    assert (summary.count, summary.unclaimed_days, summary.oldest_days) == (1, 14, 20)
    assert pharmacy.run(system, reminder, branch_id=pharmacy.branch, period="2026-12-05") == "queued for 1"
    # run again (a retried job): the same person is not queued twice
    assert pharmacy.run(system, reminder, branch_id=pharmacy.branch, period="2026-12-05") == "queued for 1"
    assert len(queued_ids(pharmacy.chain.tenant_id)) == 1
    for message_id in queued_ids(pharmacy.chain.tenant_id):
        assert deliver_message(str(pharmacy.chain.tenant_id), message_id) == "sent"
    db.execute(text("RESET ROLE"))
    owner_email, patient = db.execute(
        text("SELECT u.email, r.rx_number FROM users u, prescriptions r WHERE u.id = :u AND r.id = :r"),
        {"u": pharmacy.chain.owner_user_id, "r": rx.id},
    ).one()
    [mail] = mail_sink.to(owner_email)
    body = mail_sink.text(mail)
    assert "1 fill waits at" in body and "more than 14 days" in body and "the longest 20 days" in body
    assert patient not in body and "Pat" not in body and "Example" not in body and "1960" not in body
    # at another branch nothing waits: nothing is sent
    assert pharmacy.run(system, reminder, branch_id=pharmacy.other_branch, period="2026-12-05") == "nothing unclaimed"
