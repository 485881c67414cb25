"""Telling a portal customer what became of their refill request (issue 17 §2), by e-mail for now.

The decision (`backend.portal.queue`) puts this job on the outbox in its own transaction. The job writes the
message with `patients.message_consent.message_for_patient`, which names the medicine only when the chain
allows it for the kind and the patient consented to detailed messages, and queues it with
`notifications.delivery.queue_patient_message` for the e-mail on the patient's record (the notifications
queue delivers it, with retries; `customer_told` "emailed" means queued for e-mail). No e-mail on file, or no
consent to be contacted: the message is written `suppressed` with the reason, nothing is sent, and that is
recorded on the request (`customer_told`) and in the audit log. The request's `customer_told` and the
message's dedupe key make the job run once in effect.

Which message: accepted with a fill, "refill request received" (the pharmacy will say when it is ready);
accepted as a renewal request, "needs the prescriber"; denied, "could not fill: contact the branch" (the
staff's reason is never put in a patient message). When the accepted request's fill passes the pharmacist's
final check, `prescriptions.fills.final_check` puts `portal.tell_ready` on the outbox: "ready for pickup",
once (`ready_told`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.validation import as_uuid
from backend.jobs.registry import job
from backend.notifications.delivery import NO_ADDRESS, NO_CONSENT, queue_patient_message
from backend.notifications.disclosure import MessageKind
from backend.notifications.notify import Channel
from backend.notifications.push import portal_url, queue_patient_push
from backend.patients.contact_preferences import contact_address, preferred_channel
from backend.patients.message_consent import message_for_patient
from backend.patients.service import identity_of
from backend.portal.queue import OUTCOME_JOB
from backend.portal.statuses import RefillRequestStatus
from tenants.audit import record_audit
from tenants.context import TenantContext

READY_JOB = "portal.tell_ready"  # named in prescriptions.fills.final_check (which cannot import this module)

_COLUMNS = (
    "SELECT q.id, q.status, q.branch_id, q.patient_id, q.fill_id, q.customer_told, q.ready_told, r.rx_number, "
    "coalesce(m.generic_name || ' ' || m.strength, r.drug_written) AS medicine, "
    "b.name AS branch, b.phone AS branch_phone, t.name AS chain FROM portal_refill_requests q "
    "JOIN prescriptions r ON r.tenant_id = q.tenant_id AND r.id = q.prescription_id "
    "LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
    "JOIN branches b ON b.tenant_id = q.tenant_id AND b.id = q.branch_id "
    "JOIN tenants t ON t.id = q.tenant_id "
)
_ROW = text(_COLUMNS + "WHERE q.id = :id FOR UPDATE OF q")
_BY_FILL = text(_COLUMNS + "WHERE q.fill_id = :f AND q.status = 'accepted' FOR UPDATE OF q")


def _send(session: Session, ctx: TenantContext, row: Any, kind: MessageKind, event: str) -> str:
    """Queue one e-mail of `kind` about the request's prescription (suppressed when it cannot be sent);
    answers what happened."""
    person = identity_of(session, ctx, row.patient_id, contact=True)
    values = {
        "branch": row.branch, "branch_phone": row.branch_phone or "", "chain": row.chain,
        "medicine": row.medicine, "rx_number": row.rx_number,
    }  # fmt: skip
    message = message_for_patient(session, ctx, str(row.patient_id), kind, values)
    queued = queue_patient_message(
        session, ctx, patient_id=row.patient_id, message=message, channel=Channel.EMAIL, address=person.email,
        consented=person.contact_consent, dedupe_key=f"portal.{event}:{row.id}", branch_id=row.branch_id,
    )  # fmt: skip
    # and to each browser the customer subscribed for notifications (web push; the SMS text)
    queue_patient_push(session, ctx, patient_id=row.patient_id, message=message, dedupe_key=f"portal.{event}:{row.id}",
                       url=portal_url(session, ctx))  # fmt: skip
    if queued.reason == NO_CONSENT:
        return "no_consent"
    if queued.reason == NO_ADDRESS[Channel.EMAIL]:
        return "no_email"
    return "emailed" if queued.status != "suppressed" else "not_sent"


def _record(session: Session, ctx: TenantContext, row: Any, kind: MessageKind, result: str) -> None:
    record_audit(
        session, ctx.tenant_id, "portal.customer_told", entity_type="portal_refill_request", entity_id=str(row.id),
        details={"kind": kind.value, "result": result},
    )  # fmt: skip


@job(OUTCOME_JOB)
def tell_outcome(session: Session, ctx: TenantContext, *, request_id: str) -> str:
    """Queue the e-mail telling the customer the decision on their request (once; suppressed when they cannot
    be e-mailed)."""
    row = session.execute(_ROW, {"id": as_uuid(request_id, "request")}).first()
    if row is None:
        return "missing"
    if row.customer_told:
        return f"already {row.customer_told}"
    status = RefillRequestStatus(row.status)
    if status is RefillRequestStatus.ACCEPTED:
        kind = MessageKind.REFILL_REQUEST_RECEIVED if row.fill_id else MessageKind.REFILL_NEEDS_PRESCRIBER
    elif status is RefillRequestStatus.DENIED:
        kind = MessageKind.REFILL_REQUEST_DENIED
    else:
        return "undecided"  # still open, or closed after a call: nothing to e-mail
    result = _send(session, ctx, row, kind, "outcome")
    session.execute(
        text("UPDATE portal_refill_requests SET customer_told = :r, told_at = now() WHERE id = :id"),
        {"r": result, "id": row.id},
    )
    _record(session, ctx, row, kind, result)
    return result


@job(READY_JOB)
def tell_ready(session: Session, ctx: TenantContext, *, fill_id: str) -> str:
    """Queue the e-mail telling the customer their portal request's fill passed its final check (once)."""
    row = session.execute(_BY_FILL, {"f": as_uuid(fill_id, "fill")}).first()
    if row is None:
        return "not a portal request's fill"
    if row.ready_told:
        return f"already {row.ready_told}"
    result = _send(session, ctx, row, MessageKind.READY_FOR_PICKUP, "ready")
    session.execute(
        text("UPDATE portal_refill_requests SET ready_told = :r WHERE id = :id"), {"r": result, "id": row.id}
    )
    _record(session, ctx, row, MessageKind.READY_FOR_PICKUP, result)
    return result


def tell_received(
    session: Session, ctx: TenantContext, patient_id: object, branch_id: str, prescription_id: str
) -> str:
    """ "We received your prescription" to a customer who sent a photo, on the channel they chose, in the
    upload's transaction (the outbox of messages: nothing is sent if the upload rolls back). No medicine: nobody
    has read the photo yet. Answers the message's status."""
    patient = str(patient_id)
    person = identity_of(session, ctx, patient, contact=True)
    where = session.execute(
        text("SELECT b.name, b.phone, t.name AS chain, p.reminder_channel FROM branches b "
             "JOIN tenants t ON t.id = b.tenant_id JOIN patients p ON p.tenant_id = b.tenant_id AND p.id = :p "
             "WHERE b.id = :b"), {"b": as_uuid(branch_id, "branch"), "p": as_uuid(patient, "patient")},
    ).one()  # fmt: skip
    values = {"branch": where.name, "branch_phone": where.phone or "", "chain": where.chain}
    message = message_for_patient(session, ctx, patient, MessageKind.PRESCRIPTION_RECEIVED, values, details_known=False)
    channel = preferred_channel(where.reminder_channel)
    queued = queue_patient_message(
        session, ctx, patient_id=patient_id, message=message, channel=channel,
        address=contact_address(person, channel), consented=person.contact_consent,
        dedupe_key=f"portal.received:{prescription_id}", branch_id=branch_id,
    )  # fmt: skip
    return queued.status.value
