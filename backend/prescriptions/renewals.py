"""The prescriber's answer to a renewal request, recorded by a pharmacist.

Approved: the prescriber wrote a new prescription. It is a prescription here like any other, for the same
patient, medicine, prescriber, sig and days' supply, with the quantity and refills the prescriber
authorised, written today, received the way the answer came (phone, fax or electronic; a Schedule II only
electronic, 21 CFR 1306.11). It goes to the pharmacist's verification with its drug-use review, as every new
prescription does: the prescriber may have changed the therapy since, and the two-person rule applies. The
old prescription stays as it is (its fills are the record; it had no refills left, had expired or was a
CII, so nothing more is dispensed on it): a refill asked on it names the new one, and auto-refill moves
to the new one.

Denied: the prescriber's reason is required and shown on the prescription. Both answers are prescription
events. Services take `(session, ctx, ...)`; the adapter owns the transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import NotFound, ValidationFailed
from backend.core.validation import as_uuid
from backend.prescriptions.enums import RenewalStatus, RxSource, RxStatus
from backend.prescriptions.refills import _RENEWAL_SQL, Renewal, _renewals
from backend.prescriptions.service import (
    MIN_REASON,
    RefusedTransition,
    _event,
    local_today,
    receive,
    submit_for_verification,
)
from tenants.context import TenantContext
from tenants.roles import require

ANSWER_SOURCES = (RxSource.ELECTRONIC, RxSource.FAX, RxSource.PHONE)

_OPEN = text(
    "SELECT n.id, n.status, n.prescription_id, n.branch_id, r.rx_number, r.patient_id, r.prescriber_id, "
    "r.medicine_id, r.drug_written, r.strength, r.sig_written, r.quantity_unit, r.days_supply, r.daw, "
    "r.schedule, r.status AS rx_status, r.auto_refill, br.time_zone FROM prescription_renewals n "
    "JOIN prescriptions r ON r.tenant_id = n.tenant_id AND r.id = n.prescription_id "
    "JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id WHERE n.id = :id FOR UPDATE OF n, r"
)


def _decision(value: object) -> RenewalStatus:
    try:
        decided = RenewalStatus(str(value))
    except ValueError:
        decided = RenewalStatus.REQUESTED
    if decided is RenewalStatus.REQUESTED:
        raise ValidationFailed("Record the prescriber's answer: approved or denied.", field="decision")
    return decided


def _whole(value: object, field: str, what: str, low: int, high: int) -> int:
    typed = str(value if value is not None else "").strip()
    if not typed.isdigit() or not low <= int(typed) <= high:
        raise ValidationFailed(f"Enter {what} as a whole number from {low} to {high}.", field=field)
    return int(typed)


def _source(value: object, schedule: str | None) -> RxSource:
    try:
        source = RxSource(str(value))
    except ValueError:
        source = RxSource.TRANSFER
    if source not in ANSWER_SOURCES:
        raise ValidationFailed("Say how the new prescription came: electronic, fax or phone.", field="source")
    if schedule == "CII" and source is not RxSource.ELECTRONIC:
        raise ValidationFailed(
            "A Schedule II prescription is never phoned or faxed in for a renewal: it must come electronically.",
            field="source",
        )
    return source


def answer_renewal(
    session: Session,
    ctx: TenantContext,
    renewal_id: str,
    decision: object,
    *,
    reason: object = "",
    quantity: object = None,
    refills: object = None,
    source: object = RxSource.ELECTRONIC,
) -> Renewal:
    """Record the prescriber's answer to an open renewal request: approved with the quantity and refills
    authorised (a new prescription, sent to verification), or denied with the prescriber's reason. Refused,
    writing nothing, when it was already answered or the answer is incomplete."""
    require(ctx, "prescriptions.renew")
    key = as_uuid(renewal_id, "renewal request")
    row = session.execute(_OPEN, {"id": key}).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such renewal request.")
    decided = _decision(decision)
    if RenewalStatus(row.status) is not RenewalStatus.REQUESTED:
        raise RefusedTransition(f"The renewal request for {row.rx_number} was already answered ({row.status}).")
    status = RxStatus(row.rx_status)
    if decided is RenewalStatus.DENIED:
        why = str(reason or "").replace("\x00", "").strip()
        if len(why) < MIN_REASON or len(why) > 500:
            raise ValidationFailed(
                f"Give the prescriber's reason for the denial ({MIN_REASON} to 500 characters).", field="reason"
            )
        _decide(session, ctx, key, RenewalStatus.DENIED, answer_reason=why)
        _event(session, ctx, row.prescription_id, "renewal_denied", status, status, f"prescriber denied: {why}")
        return _answered(session, ctx, key)
    authorised = _whole(quantity, "quantity", "the quantity authorised", 1, 99999)
    refill_count = _whole(refills, "refills", "the refills authorised", 0, 99)
    new = _renewed_prescription(session, ctx, row, _source(source, row.schedule), authorised, refill_count)
    _decide(session, ctx, key, RenewalStatus.APPROVED, renewed_as=uuid.UUID(new.id))
    _event(session, ctx, row.prescription_id, "renewal_approved", status, status, f"renewed as {new.rx_number}")
    if row.auto_refill:  # the patient's wish follows the prescription that is refilled from now on
        session.execute(text("UPDATE prescriptions SET auto_refill = false WHERE id = :p"), {"p": row.prescription_id})
        session.execute(text("UPDATE prescriptions SET auto_refill = true WHERE id = :p"), {"p": uuid.UUID(new.id)})
    return _answered(session, ctx, key)


def _renewed_prescription(
    session: Session, ctx: TenantContext, row: Any, source: RxSource, quantity: int, refills: int
) -> Any:
    """The new prescription: the old one's therapy with the quantity and refills authorised, written today,
    entered and sent to verification (the entry's rules apply: a CII has no refills, CIII-IV at most five)."""
    entry = {
        "prescriber_id": str(row.prescriber_id or ""),
        "medicine_id": str(row.medicine_id or ""),
        "drug_written": row.drug_written,
        "strength": row.strength,
        "sig_written": row.sig_written,
        "quantity": str(quantity),
        "quantity_unit": row.quantity_unit,
        "days_supply": str(row.days_supply or ""),
        "refills_authorized": str(refills),
        "date_written": local_today(row.time_zone).isoformat(),
        "daw": "on" if row.daw else "",
    }
    try:
        new = receive(
            session,
            ctx,
            branch_id=str(row.branch_id),
            patient_id=str(row.patient_id),
            source=source,
            notes=f"Renewal of {row.rx_number}.",
            **entry,
        )
    except ValidationFailed as exc:
        if exc.field == "refills_authorized":  # the form's field is "refills"
            raise ValidationFailed(exc.message, field="refills") from None
        raise
    key = uuid.UUID(new.id)
    _event(session, ctx, key, "renewal_of", RxStatus.DATA_ENTRY, RxStatus.DATA_ENTRY, f"renews {row.rx_number}")
    return submit_for_verification(session, ctx, new.id)


def _decide(
    session: Session,
    ctx: TenantContext,
    key: uuid.UUID,
    status: RenewalStatus,
    *,
    answer_reason: str = "",
    renewed_as: uuid.UUID | None = None,
) -> None:
    session.execute(
        text(
            "UPDATE prescription_renewals SET status = :s, decided_at = now(), answer_reason = :r, "
            "renewed_as = :n, answered_by = :u WHERE id = :id"
        ),
        {"s": status, "r": answer_reason, "n": renewed_as, "u": ctx.user_id, "id": key},
    )


def _answered(session: Session, ctx: TenantContext, key: uuid.UUID) -> Renewal:
    return _renewals(session, ctx, [session.execute(text(_RENEWAL_SQL + "WHERE n.id = :id"), {"id": key}).one()])[0]
