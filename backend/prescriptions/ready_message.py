""" "Your prescription is ready for pickup" to the patient when a fill passes the pharmacist's final check
(issue 18 "done when": a patient gets a ready-for-pickup message on the channel they chose).

`fills.final_check` puts this job on the outbox in its own transaction; a fill made from a portal refill
request is told by the portal instead (`portal.tell_ready`, which also records it on the request). The message
goes on the patient's chosen channel (e-mail unless they asked for texts: `contact_preferences`), written by
`message_for_patient` (no medicine unless the chain allows it and the patient consented) and queued with a
dedupe key per fill, so a retried job writes it once. No consent to be contacted, or no address for the
channel: the message is written `suppressed` with the reason, which the delivery log shows.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from backend.core.validation import as_uuid
from backend.jobs.registry import job
from backend.notifications.delivery import queue_patient_message
from backend.notifications.disclosure import MessageKind
from backend.patients.contact_preferences import contact_address, preferred_channel
from backend.patients.message_consent import message_for_patient
from backend.patients.service import identity_of
from backend.prescriptions.fills import READY_JOB
from tenants.context import TenantContext

_FILL = text(
    "SELECT f.id, f.status, f.branch_id, r.patient_id, r.rx_number, p.reminder_channel, "
    "coalesce(m.generic_name || ' ' || m.strength, r.drug_written) AS medicine, "
    "b.name AS branch, b.phone AS branch_phone, t.name AS chain FROM prescription_fills f "
    "JOIN prescriptions r ON r.tenant_id = f.tenant_id AND r.id = f.prescription_id "
    "JOIN patients p ON p.tenant_id = r.tenant_id AND p.id = r.patient_id "
    "LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
    "JOIN branches b ON b.tenant_id = f.tenant_id AND b.id = f.branch_id "
    "JOIN tenants t ON t.id = f.tenant_id WHERE f.id = :f"
)


@job(READY_JOB)
def tell_ready(session: Session, ctx: TenantContext, *, fill_id: str) -> str:
    """Queue the ready-for-pickup message of one checked fill (once per fill); answers its status."""
    row = session.execute(_FILL, {"f": as_uuid(fill_id, "fill")}).first()
    if row is None:
        return "missing"
    if row.status != "checked":
        return f"not waiting for pickup ({row.status})"  # picked up or returned before the job ran
    person = identity_of(session, ctx, row.patient_id, contact=True)
    channel = preferred_channel(row.reminder_channel)
    values = {
        "branch": row.branch, "branch_phone": row.branch_phone or "", "chain": row.chain,
        "medicine": row.medicine, "rx_number": row.rx_number,
    }  # fmt: skip
    message = message_for_patient(session, ctx, str(row.patient_id), MessageKind.READY_FOR_PICKUP, values)
    queued = queue_patient_message(
        session, ctx, patient_id=row.patient_id, message=message, channel=channel,
        address=contact_address(person, channel), consented=person.contact_consent,
        dedupe_key=f"fill.ready:{row.id}", branch_id=row.branch_id,
    )  # fmt: skip
    return queued.status.value
