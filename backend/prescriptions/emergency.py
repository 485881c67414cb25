"""The pharmacist's emergency supply, and the chain's rule for prescription-only medicine at the counter.

In the US a pharmacist may not sell a prescription-only medicine without a prescription; what a state
allows instead is an emergency supply of a few days of a non-controlled medicine, on the pharmacist's own
authority and record. So an emergency supply is recorded as a prescription:

- source 'emergency_supply', no prescriber (the pharmacist who signs it is its author), no refills,
  never a controlled substance, at most the chain's `emergency_max_days` days' supply;
- verified by that pharmacist with their fresh electronic signature (of the patient's emergency supply:
  `@signable("emergency_supply")`, its id the patient's) and the reason, kept with the verification;
- filled through `fills.fill_prescription` (stock leaves the shelf FEFO, the claim is adjudicated) and
  checked against the stock bottle by `fills.final_check`; its fill then reaches the bill like any other,
  scanned from its label, with the pickup.

Services take `(session, ctx, ...)`; the adapter owns the transaction.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.accounts.signatures import SignatureRefused, require_fresh_signature, signable
from backend.core.errors import NotFound, ValidationFailed
from backend.core.validation import as_uuid
from backend.patients.service import patient_for_history
from backend.prescriptions.enums import RxSource, RxStatus
from backend.prescriptions.fills import fill_prescription, final_check
from backend.prescriptions.service import (
    _event,
    _next_rx_number,
    add_months,
    local_today,
    rx_settings,
)
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import PHARMACIST, require, role_has

MIN_REASON = 10


@signable("emergency_supply")
def _patient_exists(session: Session, entity_id: str) -> bool:
    """An emergency supply is signed for its patient before the record exists."""
    try:
        key = uuid.UUID(str(entity_id))
    except ValueError:
        return False
    return session.execute(text("SELECT 1 FROM patients WHERE id = :p"), {"p": key}).first() is not None


def signature_meaning(medicine: str, quantity: object, patient: str) -> str:
    """The words the pharmacist signs (the form shows them before asking for the password)."""
    return f"supplied {quantity} × {medicine} to {patient} as an emergency supply, without a prescription"


@dataclass(frozen=True)
class EmergencySupply:
    prescription_id: str
    rx_number: str
    fill_id: str
    fill_code: str  # scanned at the counter from the label, like any fill
    patient_id: str
    patient_name: str
    medicine: str
    quantity: int
    days_supply: int


def _whole(value: object, field: str, what: str) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"Enter the {what} as a whole number.", field=field) from None
    if number <= 0:
        raise ValidationFailed(f"The {what} must be more than zero.", field=field)
    return number


def _medicine(session: Session, medicine_id: object) -> Any:
    """The catalog medicine supplied: prescription-only and never controlled."""
    if not str(medicine_id or "").strip():
        raise ValidationFailed("Choose the medicine.", field="medicine_id")
    try:
        key = uuid.UUID(str(medicine_id))
    except ValueError:
        raise ValidationFailed("No such medicine in the catalog.", field="medicine_id") from None
    row = session.execute(
        text("SELECT id, generic_name, strength, schedule, controlled_class FROM medicines WHERE id = :m"),
        {"m": key},
    ).first()
    if row is None:
        raise ValidationFailed("No such medicine in the catalog.", field="medicine_id")
    name = f"{row.generic_name} {row.strength}".strip()
    if row.schedule == "controlled" or row.controlled_class:
        # No state lets a pharmacist supply a controlled substance without a prescription.
        raise ValidationFailed(
            f"{name} is a controlled substance: it is never supplied without a prescription.", field="medicine_id"
        )
    if row.schedule == "otc":
        raise ValidationFailed(f"{name} needs no prescription: sell it at the counter.", field="medicine_id")
    return row


def _patient(session: Session, ctx: TenantContext, patient_id: object) -> Any:
    if not str(patient_id or "").strip():
        raise ValidationFailed("Choose the patient (or register them first).", field="patient_id")
    try:
        return patient_for_history(session, ctx, patient_id, reason="emergency supply")
    except NotFound:
        raise ValidationFailed("No such patient.", field="patient_id") from None


def _text(value: object, field: str, limit: int, missing: str, least: int = 1) -> str:
    said = " ".join(str(value or "").replace("\x00", "").split())
    if len(said) < least:
        raise ValidationFailed(missing, field=field)
    if len(said) > limit:
        raise ValidationFailed(f"At most {limit} characters here.", field=field)
    return said


def record_emergency_supply(
    session: Session,
    ctx: TenantContext,
    *,
    branch_id: str,
    patient_id: str,
    medicine_id: str,
    quantity: object,
    days_supply: object,
    sig: object,
    reason: object,
    signature_id: str,
    barcode: object,
) -> EmergencySupply:
    """A pharmacist's emergency supply: recorded as a prescription (no prescriber, no refills), verified with
    their signature and reason, filled FEFO and checked against the scanned stock bottle, so its fill is
    ready to sell at the counter. Refused, with nothing written: no patient, a controlled or OTC medicine,
    more days' supply than the chain allows, no reason, a missing, stale or spent signature, a short
    shelf, the wrong bottle."""
    require(ctx, "prescriptions.emergency_supply")
    branch = as_uuid(branch_id, "branch")
    found = session.execute(
        text("SELECT code, time_zone FROM branches WHERE id = :b AND is_active"), {"b": branch}
    ).first()
    if found is None or not ctx.can_see_branch(branch):
        raise ValidationFailed("Choose one of your branches.", field="branch_id")
    patient = _patient(session, ctx, patient_id)
    medicine = _medicine(session, medicine_id)
    rules = rx_settings(session, ctx)
    count = _whole(quantity, "quantity", "quantity")
    days = _whole(days_supply, "days_supply", "days' supply")
    if days > rules.emergency_max_days:
        raise ValidationFailed(
            f"An emergency supply carries at most {rules.emergency_max_days} days' supply (the chain's rule).",
            field="days_supply",
        )
    directions = _text(sig, "sig", 500, "Write the directions for the label.")
    why = _text(
        reason,
        "reason",
        500,
        f"Say why it is supplied without a prescription (at least {MIN_REASON} characters).",
        MIN_REASON,
    )
    # At the till the pharmacist signs it themselves; an admin token carries a pharmacist's signature.
    by_token = not role_has(ctx.role, "prescriptions.verify")
    signature = require_fresh_signature(
        session,
        ctx,
        signature_id,
        entity_type="emergency_supply",
        entity_id=patient.id,
        by_permission="prescriptions.verify" if by_token else None,
    )
    spent = session.execute(
        text("SELECT 1 FROM prescription_verifications WHERE signature_id = :s"), {"s": uuid.UUID(signature.id)}
    ).first()
    if spent is not None:
        raise SignatureRefused(
            "That signature was given for another emergency supply; sign again.", field="signature_id"
        )
    # The pharmacist who signed is its author, verifier and checker, whoever sent it.
    ctx = dataclasses.replace(ctx, user_id=uuid.UUID(signature.user_id), role=PHARMACIST)
    today = local_today(found.time_zone)
    key = uuid.uuid4()
    seq, number = _next_rx_number(session, ctx, branch, found.code)
    session.execute(
        text(
            "INSERT INTO prescriptions (tenant_id, id, branch_id, rx_seq, rx_number, patient_id, status, source, "
            "drug_written, medicine_id, strength, sig_written, sig_expanded, quantity, days_supply, "
            "refills_authorized, refills_remaining, date_written, expires_on, notes, created_by, entered_by, "
            "entered_at, verified_by, verified_at) VALUES (:t, :id, :b, :seq, :number, :p, :status, :source, "
            ":drug, :m, :strength, :sig, :sig, :q, :days, 0, 0, :today, :expires, :notes, :u, :u, now(), :u, now())"
        ),
        {
            "t": ctx.tenant_id,
            "id": key,
            "b": branch,
            "seq": seq,
            "number": number,
            "p": uuid.UUID(patient.id),
            "status": RxStatus.FILL,
            "source": RxSource.EMERGENCY_SUPPLY,
            "drug": medicine.generic_name,
            "m": medicine.id,
            "strength": medicine.strength or "",
            "sig": directions,
            "q": count,
            "days": days,
            "today": today,
            # it is for now: a few days' supply, filled at once; never a prescription to come back to
            "expires": add_months(today, 1),
            "notes": f"Emergency supply: {why}",
            "u": ctx.user_id,
        },
    )
    session.execute(
        text(
            "INSERT INTO prescription_verifications (tenant_id, id, prescription_id, verified_by, signature_id, "
            "dur_result) VALUES (:t, :id, :p, :u, :s, CAST(:dur AS jsonb))"
        ),
        {
            "t": ctx.tenant_id,
            "id": uuid.uuid4(),
            "p": key,
            "u": ctx.user_id,
            "s": uuid.UUID(signature.id),
            "dur": json.dumps({"emergency_supply": True, "reason": why, "alerts": []}),
        },
    )
    _event(session, ctx, key, "emergency_supply", None, RxStatus.FILL, why[:500])
    fill = fill_prescription(session, ctx, str(key), quantity=count)
    checked = final_check(session, ctx, fill.id, barcode)
    name = f"{medicine.generic_name} {medicine.strength}".strip()
    record_audit(
        session,
        ctx.tenant_id,
        "prescription.emergency_supply",
        actor_user_id=ctx.user_id,
        entity_type="prescription",
        entity_id=str(key),
        details={
            "rx_number": number,
            "patient_id": patient.id,
            "medicine_id": str(medicine.id),
            "quantity": count,
            "days_supply": days,
            "reason": why,
            "signature_id": signature.id,
            "fill": checked.code,
        },
    )
    return EmergencySupply(str(key), number, checked.id, checked.code, patient.id, patient.full_name, name, count, days)
