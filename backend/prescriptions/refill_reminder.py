"""The daily refill reminder to patients of one branch (issue 18 §4): "a prescription of yours is due".

A scheduled job (backend/schedules): the tick writes it once per branch and local date (10:00 branch time).
For each patient who opted in (`patients.refill_reminders`, set by the customer in the portal) and each of
their prescriptions at this branch that is refillable with refills left, the last dispensing's days' supply
runs out on (first fill of that dispensing, local date) + days_supply. When that day is within
`REMINDER_DAYS` days of the run's date (or passed at most `REMINDER_DAYS` days ago, so a run missed during
downtime still reminds), one REFILL_DUE message is written on the patient's reminder channel with the dedupe
key `refill_due:<prescription>:<fill>`: one reminder per fill, however many runs see it.

The message comes from `message_for_patient` (the medicine, Rx number and date only where the chain allows
detail for the kind and the patient consented); no consent to be contacted or no address on the channel:
written `suppressed` with the reason, like every patient message.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import text
from sqlmodel import Session

from backend.jobs.registry import job
from backend.notifications.delivery import queue_patient_message
from backend.notifications.disclosure import MessageKind
from backend.notifications.notify import Channel
from backend.patients.contact_preferences import contact_address
from backend.patients.message_consent import message_for_patient
from backend.patients.service import identities
from backend.prescriptions.enums import RxStatus
from tenants.context import TenantContext

REFILL_REMINDER_JOB = "prescriptions.refill_reminder"
REMINDER_DAYS = 3  # remind this many days before the last fill's days' supply runs out (not a chain setting yet)

_DUE = """
SELECT r.id, r.rx_number, r.patient_id, r.days_supply, p.reminder_channel, f.id AS fill_id,
       (f.filled_at AT TIME ZONE br.time_zone)::date + r.days_supply AS runs_out,
       coalesce(m.generic_name || ' ' || m.strength, r.drug_written) AS medicine
FROM prescriptions r
JOIN patients p ON p.tenant_id = r.tenant_id AND p.id = r.patient_id
JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id
LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id
JOIN LATERAL (
    SELECT x.id, x.filled_at FROM prescription_fills x
    WHERE x.tenant_id = r.tenant_id AND x.prescription_id = r.id AND x.status <> 'returned'
    ORDER BY x.dispensing DESC, x.filled_at, x.id LIMIT 1
) f ON true
WHERE r.branch_id = :b AND p.refill_reminders AND r.refills_remaining > 0 AND r.days_supply IS NOT NULL
  AND r.status = ANY(:s)
  AND (f.filled_at AT TIME ZONE br.time_zone)::date + r.days_supply BETWEEN :earliest AND :latest
ORDER BY r.id
"""


@job(REFILL_REMINDER_JOB)
def send_refill_reminders(session: Session, ctx: TenantContext, *, branch_id: str, period: str) -> str:
    """Write one refill reminder per due fill of the branch's opted-in patients (a fill reminded is skipped)."""
    branch = session.execute(
        text("SELECT b.name, b.phone, t.name AS chain FROM branches b JOIN tenants t ON t.id = b.tenant_id "
             "WHERE b.id = :b"), {"b": uuid.UUID(branch_id)}
    ).first()  # fmt: skip
    if branch is None:
        return "no such branch"
    day = date.fromisoformat(period)
    rows = session.execute(
        text(_DUE),
        {
            "b": uuid.UUID(branch_id), "s": [s.value for s in RxStatus.refillable()],
            "earliest": day - timedelta(days=REMINDER_DAYS), "latest": day + timedelta(days=REMINDER_DAYS),
        },
    ).all()  # fmt: skip
    people = identities(session, ctx, [r.patient_id for r in rows], contact=True)
    written = 0
    for r in rows:
        person = people[r.patient_id]
        channel = Channel.SMS if r.reminder_channel == Channel.SMS.value else Channel.EMAIL
        values = {
            "branch": branch.name, "branch_phone": branch.phone or "", "chain": branch.chain,
            "medicine": r.medicine, "rx_number": r.rx_number, "due_date": f"{r.runs_out:%b %d}",
        }  # fmt: skip
        message = message_for_patient(session, ctx, str(r.patient_id), MessageKind.REFILL_DUE, values)
        queued = queue_patient_message(
            session, ctx, patient_id=r.patient_id, message=message, channel=channel,
            address=contact_address(person, channel), consented=person.contact_consent,
            dedupe_key=f"refill_due:{r.id}:{r.fill_id}", branch_id=branch_id,
        )  # fmt: skip
        written += int(queued.created)
    return f"{written} reminder(s) written"
