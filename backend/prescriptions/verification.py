"""The pharmacist's verification: the drug-use review computed on the server, resolutions, the signed sign-off.

- `review` computes the DUR (backend/clinical/dur.check) of the prescription against the patient's
  active medications (their other verified prescriptions within their days' supply, and what they bought
  at the counter in the last `COUNTER_SALES_DAYS` days), their allergies and age. Nothing is stored.
- `verify` computes it again in its own transaction (what the pharmacist is signing is what is true at
  that moment), refuses unless every major and contraindicated alert has an override reason, checks the
  pharmacist's fresh electronic signature of this prescription, and stores the signature with the DUR
  result and the overrides (what was known at the time). Alerts the pharmacist would rather not
  override are resolved by holding or cancelling the prescription instead (service.hold / cancel).
- Refusals write nothing and say why: not waiting for verification, expired, verifying one's own data
  entry when the chain requires two people, an alert without a reason, a missing or stale signature.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.accounts.signatures import require_fresh_signature, signable
from backend.billing.statuses import BillStatus
from backend.clinical.dur import DurResult, check
from backend.clinical.medication import Medication, Patient
from backend.core.errors import NotFound, ValidationFailed
from backend.core.validation import as_uuid
from backend.patients.allergies import allergens_for_review
from backend.patients.service import allergies_as_written, patient_for_bill, patient_for_history
from backend.prescriptions.enums import RxStatus
from backend.prescriptions.service import (
    ExpiredPrescription,
    Prescription,
    RefusedTransition,
    SamePersonVerification,
    _event,
    _events,
    _load,
    _record,
    local_today,
    rx_settings,
)
from tenants.context import TenantContext
from tenants.roles import require

COUNTER_SALES_DAYS = 30  # a counter sale without a days' supply counts as taken for this long
# Sold and not wholly refunded: what the patient took home.
TAKEN_HOME = [s.value for s in BillStatus.issued() if s is not BillStatus.REFUNDED]
MIN_OVERRIDE_REASON = 10
# Allergy text that says there is none: not an allergen to look up.
_NONE = re.compile(r"^(none|nka|nkda|no known (drug )?allergies|n/?a|-)$", re.IGNORECASE)


@signable("prescription")
def _prescription_exists(session: Session, entity_id: str) -> bool:
    try:
        key = uuid.UUID(str(entity_id))
    except ValueError:
        return False
    return session.execute(text("SELECT 1 FROM prescriptions WHERE id = :id"), {"id": key}).first() is not None


@dataclass(frozen=True)
class ActiveMedication:
    drug: str
    source: str  # "Rx B1-000012" or "counter sale"
    last_fill: date | None
    days_supply: int | None


@dataclass(frozen=True)
class DurAlert:
    type: str
    severity: str
    with_: str
    summary: str
    source: str
    code: str
    needs_resolution: bool


@dataclass(frozen=True)
class Review:
    prescription: Prescription
    alerts: list[DurAlert]
    unknown: list[dict[str, Any]]
    active: list[ActiveMedication]
    allergies: list[str]  # what the DUR read
    allergies_label: str  # "No known allergies", "Not asked", or the list
    two_person_blocked: bool  # the member entered this one and the chain requires two people
    result_json: dict[str, Any] = field(default_factory=dict)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _drug_name(row: Any) -> str:
    """What the DUR reads: the catalog medicine's generic name and form (which tells ER), else what was written."""
    if row.generic_name:
        return " ".join(p for p in (row.generic_name, row.dosage_form) if p)
    return row.drug_written


def _active(session: Session, row: Any, today: date) -> list[tuple[Medication, ActiveMedication]]:
    """The patient's other verified prescriptions within their days' supply (dated from verification until
    fills exist), and the medicines they bought at the counter in the last COUNTER_SALES_DAYS days."""
    found: list[tuple[Medication, ActiveMedication]] = []
    rxs = session.execute(
        text(
            "SELECT r.rx_number, r.drug_written, r.strength, r.sig_written, r.quantity, r.days_supply, r.schedule, "
            "r.verified_at, r.branch_id, m.generic_name, m.dosage_form, m.strength AS medicine_strength, br.time_zone "
            "FROM prescriptions r JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id "
            "LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
            "WHERE r.patient_id = :p AND r.id <> :id "
            "AND r.status IN ('fill', 'filled', 'ready_for_pickup', 'dispensed') "
            "AND r.verified_at IS NOT NULL"
        ),
        {"p": row.patient_id, "id": row.id},
    ).all()
    for rx in rxs:
        started = rx.verified_at.date()
        if rx.days_supply is not None and started + timedelta(days=rx.days_supply) < today:
            continue
        med = Medication(
            drug=_drug_name(rx),
            strength=rx.strength or rx.medicine_strength or None,
            sig=rx.sig_written or None,
            quantity=rx.quantity,
            days_supply=rx.days_supply,
            last_fill=started,
            schedule=rx.schedule,
        )
        found.append((med, ActiveMedication(med.drug, f"Rx {rx.rx_number}", started, rx.days_supply)))
    # What the patient bought at the counter (bills linked to the patient). Read here, in this transaction,
    # under RLS; billing publishes no service for it yet (noted in docs/prescriptions.md). A bill line that is
    # a prescription's fill is not a counter sale: its prescription is counted above (or is this one, which
    # would otherwise be reviewed against its own pickup as an early refill). Fill lines are dropped below.
    rows = _counter_sales(session, row.patient_id)
    latest: dict[Any, Any] = {}
    for line in rows:
        if line.fill_id is None:
            latest.setdefault(line.medicine_id, line)  # rows come newest first per medicine
    for sale in latest.values():
        bought = sale.finalized_at.date()
        med = Medication(drug=_drug_name(sale), strength=sale.strength or None, last_fill=bought)
        found.append((med, ActiveMedication(med.drug, "counter sale", bought, None)))
    return found


def _counter_sales(session: Session, patient_id: Any) -> list[Any]:
    """The lines of the patient's recent counter bills, newest first per medicine.

    Two statements, each led by its own index (the patient's bills, then their lines by the bills'
    keys): as one join, the planner — trusting the statistics of a freshly bulk-loaded chain (the
    demo seed) — re-read every bill line of the chain once per bill and took 20 s per review."""
    bills = session.execute(
        text(
            "SELECT id, finalized_at FROM bills WHERE patient_id = :p AND status = ANY(CAST(:sold AS text[])) "
            "AND finalized_at > now() - make_interval(days => :days) ORDER BY finalized_at DESC LIMIT 500"
        ),
        {"p": patient_id, "days": COUNTER_SALES_DAYS, "sold": TAKEN_HOME},
    ).all()
    if not bills:
        return []
    finalized = {bill.id: bill.finalized_at for bill in bills}
    lines = session.execute(
        text(
            "SELECT l.bill_id, l.fill_id, m.id AS medicine_id, m.generic_name, m.dosage_form, m.strength "
            "FROM bill_lines l JOIN medicines m ON m.tenant_id = l.tenant_id AND m.id = l.medicine_id "
            "WHERE l.bill_id = ANY(CAST(:bills AS uuid[]))"
        ),
        {"bills": list(finalized)},
    ).all()
    return sorted(
        (_SaleLine(finalized[line.bill_id], *line[1:]) for line in lines),
        key=lambda sale: (str(sale.medicine_id), -sale.finalized_at.timestamp()),
    )


@dataclass(frozen=True)
class _SaleLine:
    """One counter-sale line as the DUR reads it (its medicine's names, when it was sold)."""

    finalized_at: Any
    fill_id: Any
    medicine_id: Any
    generic_name: str
    dosage_form: str | None
    strength: str | None


def _compute(session: Session, ctx: TenantContext, row: Any) -> tuple[DurResult, Review]:
    today = local_today(row.time_zone)
    active = _active(session, row, today)
    written = allergies_as_written(session, ctx, row.patient_id)
    allergies, allergies_label = allergens_for_review(session, row.patient_id, written)
    allergies = [a for a in allergies if not _NONE.match(a)]
    rules = rx_settings(session, ctx)
    new = Medication(
        drug=_drug_name(row),
        strength=row.strength or row.medicine_strength or None,
        sig=row.sig_written or None,
        quantity=row.quantity,
        days_supply=row.days_supply,
        date=today,
        schedule=row.schedule,
    )
    result = check(
        new,
        [med for med, _ in active],
        allergies,
        patient=Patient(age_years=_age(row.patient_birth, today)),
        today=today,
        early_refill_threshold=float(rules.early_refill_threshold),
    )
    alerts = [
        DurAlert(a.type, a.severity, a.with_, a.summary, a.source, a.code, a.needs_resolution) for a in result.alerts
    ]
    review = Review(
        prescription=_record(row, _events(session, row.id)),
        alerts=alerts,
        unknown=[u.as_dict() for u in result.unknown],
        active=[shown for _, shown in active],
        allergies=allergies,
        allergies_label=allergies_label,
        two_person_blocked=rules.two_person_verification and row.entered_by == ctx.user_id,
        result_json=_stored(result),
    )
    return result, review


def _stored(result: DurResult) -> dict[str, Any]:
    """The DUR result as stored with the signature: the REST shape plus each alert's stable code."""
    body = result.as_json()
    for alert, shown in zip(result.alerts, body["alerts"], strict=True):
        shown["code"] = alert.code
    return body


def review(session: Session, ctx: TenantContext, prescription_id: str) -> Review:
    """The verification screen's data: the prescription, its DUR alerts against the patient's profile, the
    active medications and allergies it was checked against. Logged as a view of the patient's record."""
    require(ctx, "prescriptions.view")
    key = as_uuid(prescription_id, "prescription")
    row = _load(session, ctx, key)
    patient_for_history(session, ctx, row.patient_id)
    if row.medicine_id is None:  # not entered yet: nothing to review
        return Review(_record(row, _events(session, key)), [], [], [], [], "", False)
    _, found = _compute(session, ctx, row)
    return found


def signature_meaning(rx_number: str, overrides: int) -> str:
    """The words the pharmacist signs (the screen shows them before asking for the password)."""
    extra = f", overriding {overrides} drug-use review alert(s) for the reasons given" if overrides else ""
    return f"verified prescription {rx_number} after drug-use review{extra}"


def verify(
    session: Session,
    ctx: TenantContext,
    prescription_id: str,
    *,
    signature_id: str,
    overrides: dict[str, str] | None = None,
) -> Prescription:
    """The pharmacist's signed verification. `overrides` maps an alert's code to the reason it is overridden;
    every major and contraindicated alert of the DUR computed now needs one. Stores the DUR result, the
    overrides and the signature, and moves the prescription to ready-to-fill."""
    require(ctx, "prescriptions.verify")
    key = as_uuid(prescription_id, "prescription")
    row = _load(session, ctx, key, lock=True)
    patient_for_history(session, ctx, row.patient_id)
    status = RxStatus(row.status)
    if status is not RxStatus.VERIFICATION:
        raise RefusedTransition(f"{row.rx_number} is {status.label.lower()}, not waiting for verification.")
    today = local_today(row.time_zone)
    if row.expires_on is None or row.expires_on <= today:
        raise ExpiredPrescription(f"{row.rx_number} expired on {row.expires_on:%Y-%m-%d}; it cannot be verified.")
    if row.schedule == "CII" and row.refills_authorized:
        raise RefusedTransition("A Schedule II prescription cannot have refills; send it back to data entry.")
    rules = rx_settings(session, ctx)
    if rules.two_person_verification and row.entered_by is not None and row.entered_by == ctx.user_id:
        raise SamePersonVerification(
            "You entered this prescription; the chain requires another pharmacist to verify it."
        )
    result, _ = _compute(session, ctx, row)
    given = {str(k): " ".join(str(v or "").split()) for k, v in (overrides or {}).items()}
    reasons: dict[str, str] = {}
    for alert in result.needs_resolution:
        reason = given.get(alert.code, "")
        if len(reason) < MIN_OVERRIDE_REASON:
            raise ValidationFailed(
                f"The {alert.severity} {alert.type} alert ({alert.with_}) needs an override reason of at least "
                f"{MIN_OVERRIDE_REASON} characters, or hold or cancel the prescription.",
                field=f"override:{alert.code}",
            )
        if len(reason) > 500:
            raise ValidationFailed("An override reason has at most 500 characters.", field=f"override:{alert.code}")
        reasons[alert.code] = reason
    signature = require_fresh_signature(session, ctx, signature_id, entity_type="prescription", entity_id=key)
    verification = uuid.uuid4()
    session.execute(
        text(
            "INSERT INTO prescription_verifications (tenant_id, id, prescription_id, verified_by, signature_id, "
            "dur_result) VALUES (:t, :id, :p, :u, :s, CAST(:dur AS jsonb))"
        ),
        {
            "t": ctx.tenant_id,
            "id": verification,
            "p": key,
            "u": ctx.user_id,
            "s": uuid.UUID(signature.id),
            "dur": json.dumps({**_stored(result), "overrides": reasons}),
        },
    )
    for alert in result.needs_resolution:
        session.execute(
            text(
                "INSERT INTO prescription_dur_overrides (tenant_id, verification_id, alert_code, alert_type, severity, "
                "summary, reason) VALUES (:t, :v, :code, :type, :severity, :summary, :reason)"
            ),
            {
                "t": ctx.tenant_id,
                "v": verification,
                "code": alert.code,
                "type": alert.type,
                "severity": alert.severity,
                "summary": alert.summary,
                "reason": reasons[alert.code],
            },
        )
    session.execute(
        text(
            "UPDATE prescriptions SET status = 'fill', verified_by = :u, verified_at = now(), status_reason = '', "
            "updated_at = now() WHERE id = :id"
        ),
        {"id": key, "u": ctx.user_id},
    )
    note = f"{len(reasons)} alert(s) overridden" if reasons else ""
    _event(session, ctx, key, "verified", status, RxStatus.FILL, note)
    return _record(_load(session, ctx, key), _events(session, key))


@dataclass(frozen=True)
class StoredVerification:
    verified_at: Any
    verified_by: str
    signature_meaning: str
    dur_result: dict[str, Any]
    overrides: list[dict[str, str]]


def verifications(session: Session, ctx: TenantContext, prescription_id: str) -> list[StoredVerification]:
    """The signed verifications of a prescription with the DUR as it stood then, newest first."""
    require(ctx, "prescriptions.view")
    key = as_uuid(prescription_id, "prescription")
    row = _load(session, ctx, key)
    patient_for_history(session, ctx, row.patient_id)
    return _stored_verifications(session, key)


def _stored_verifications(session: Session, key: uuid.UUID) -> list[StoredVerification]:
    rows = session.execute(
        text(
            "SELECT v.id, v.verified_at, v.dur_result, coalesce(u.full_name, '') AS who, s.meaning "
            "FROM prescription_verifications v JOIN electronic_signatures s ON s.tenant_id = v.tenant_id "
            "AND s.id = v.signature_id LEFT JOIN users u ON u.id = v.verified_by "
            "WHERE v.prescription_id = :p ORDER BY v.verified_at DESC"
        ),
        {"p": key},
    ).all()
    found = []
    for r in rows:
        overrides = session.execute(
            text(
                "SELECT alert_code, alert_type, severity, summary, reason FROM prescription_dur_overrides "
                "WHERE verification_id = :v ORDER BY alert_code"
            ),
            {"v": r.id},
        ).all()
        found.append(
            StoredVerification(
                r.verified_at, r.who, r.meaning, dict(r.dur_result), [dict(o._mapping) for o in overrides]
            )
        )
    return found


# --- a patient's own copy (issue 16, section 4) -------------------------------------------------------


@dataclass(frozen=True)
class PrescriptionHistory:
    """One prescription as the patient's copy shows it: the record with its events, and its verifications."""

    prescription: Prescription
    verifications: list[StoredVerification]


def prescriptions_for_copy(session: Session, ctx: TenantContext, patient_id: str) -> list[PrescriptionHistory]:
    """Every prescription of the patient (oldest first) with its events and signed verifications.

    Read as part of the copy, whose production the patients domain has just logged: nothing more is
    written to the access log. The patient must be in the member's scope (NotFound otherwise).
    """
    require(ctx, "prescriptions.view")
    try:
        patient = patient_for_bill(session, ctx, patient_id)  # the scope check, without a log row
    except ValidationFailed:
        raise NotFound("No such patient.") from None
    rows = session.execute(
        text("SELECT id, branch_id FROM prescriptions WHERE patient_id = :p ORDER BY created_at, rx_seq"),
        {"p": patient},
    ).all()
    return [
        PrescriptionHistory(
            _record(_load(session, ctx, r.id), _events(session, r.id)), _stored_verifications(session, r.id)
        )
        for r in rows
        if ctx.can_see_branch(r.branch_id)
    ]
