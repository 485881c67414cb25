"""Prescription records and the work queue: intake, data entry, holds, cancelling, and the queue's data.

Services take `(session, ctx, ...)`; the adapter (Reflex `transact`, REST `in_tenant`, CLI
`run_in_tenant`) owns the transaction. Every step writes a `prescription_events` row in the same
transaction. Opening a prescription, and creating one, goes through the patient access log
(`patients.service.patient_for_history`): a prescription is part of the patient's record, and a
prescription the member's branch scope cannot see answers 404.

The chain's rules are `prescription_settings` (US defaults): non-controlled prescriptions expire 12
months after writing; CIII-CV 6 months, CIII-IV with at most 5 refills; CII never has refills and each
carries at most 90 days' supply (a series of CII prescriptions carries earliest fill dates).
"""

from __future__ import annotations

import calendar
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session

from backend.clinical.controlled import federal_schedule, normalise_schedule
from backend.clinical.drugs import identify
from backend.clinical.sig import expand
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.live import EventKind, event_for, publish_after_commit
from backend.core.validation import as_uuid
from backend.patients.service import identities, identity_of, ids_named, patient_for_bill, patient_for_history
from backend.prescriptions.enums import CounterRule, RxSource, RxStatus
from backend.prescriptions.originals import check_original, original_bytes, store_original
from tenants.context import TenantContext
from tenants.roles import require

PAGE_SIZE = 50
MIN_REASON = 5  # a hold, a cancellation or a return to entry says why


class RefusedTransition(Conflict):
    """The prescription is not in a state where this step is allowed; nothing was written."""

    code = "refused_transition"


class ExpiredPrescription(RefusedTransition):
    code = "prescription_expired"


class SamePersonVerification(RefusedTransition):
    """The chain requires two people: the one who entered a prescription may not verify it."""

    code = "two_person_rule"


# --- the chain's rules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RxSettings:
    two_person_verification: bool = True
    early_refill_threshold: Decimal = Decimal("0.75")
    expiry_months: int = 12
    controlled_expiry_months: int = 6
    controlled_max_refills: int = 5
    cii_max_days_supply: int = 90
    unclaimed_days: int = 14  # a checked fill not picked up after this many days is listed for return to stock
    pickup_id_schedules: tuple[str, ...] = ("CII", "CIII", "CIV", "CV")  # whoever collects shows an ID
    counter_rule: CounterRule = CounterRule.FILL_REQUIRED  # how a prescription-only medicine reaches a bill
    emergency_max_days: int = 3  # the most days' supply of a pharmacist's emergency supply


ID_SCHEDULES = ("CII", "CIII", "CIV", "CV")  # the federal schedules a pickup may ask an ID for
SETTING_LIMITS = {
    "expiry_months": (1, 24),
    "controlled_expiry_months": (1, 12),
    "controlled_max_refills": (0, 5),
    "cii_max_days_supply": (1, 90),
    "unclaimed_days": (1, 90),
    "emergency_max_days": (1, 30),
}


def rx_settings(session: Session, ctx: TenantContext) -> RxSettings:
    """The chain's prescription rules (the US defaults until the owner changes them)."""
    require(ctx, "prescriptions.view")
    return chain_rx_settings(session)


def chain_rx_settings(session: Session) -> RxSettings:
    """The chain's rules for callers that checked their own permission (the portal's refill check)."""
    row = session.execute(text("SELECT * FROM prescription_settings")).first()
    if row is None:
        return RxSettings()
    return RxSettings(
        two_person_verification=row.two_person_verification,
        early_refill_threshold=row.early_refill_threshold,
        expiry_months=row.expiry_months,
        controlled_expiry_months=row.controlled_expiry_months,
        controlled_max_refills=row.controlled_max_refills,
        cii_max_days_supply=row.cii_max_days_supply,
        unclaimed_days=row.unclaimed_days,
        pickup_id_schedules=tuple(row.pickup_id_schedules),
        counter_rule=CounterRule(row.counter_rule),
        emergency_max_days=row.emergency_max_days,
    )


def counter_rule(session: Session) -> CounterRule:
    """How the chain's jurisdiction lets a prescription-only medicine reach a bill (read by the counter,
    whatever the member's role: the rule binds the cashier too)."""
    rule = session.execute(text("SELECT counter_rule FROM prescription_settings")).scalar()
    return CounterRule(rule) if rule else CounterRule.FILL_REQUIRED


def update_rx_settings(session: Session, ctx: TenantContext, **typed: Any) -> RxSettings:
    """Change the chain's prescription rules (the owner's call: they decide what a pharmacist may verify)."""
    require(ctx, "tenant.settings")
    current = rx_settings(session, ctx)
    values: dict[str, Any] = {
        "two_person_verification": bool(typed.get("two_person_verification", current.two_person_verification))
    }
    try:
        threshold = Decimal(str(typed.get("early_refill_threshold", current.early_refill_threshold)))
    except ArithmeticError:
        raise ValidationFailed(
            "The early-refill threshold is a share such as 0.75.", field="early_refill_threshold"
        ) from None
    if not Decimal("0.5") <= threshold <= 1:
        raise ValidationFailed("The early-refill threshold is between 0.50 and 1.00.", field="early_refill_threshold")
    values["early_refill_threshold"] = threshold
    for name, (low, high) in SETTING_LIMITS.items():
        value = _whole(typed.get(name, getattr(current, name)), name)
        if value is None or not low <= value <= high:
            raise ValidationFailed(f"Between {low} and {high}.", field=name)
        values[name] = value
    try:
        values["counter_rule"] = CounterRule(str(typed.get("counter_rule", current.counter_rule)))
    except ValueError:
        raise ValidationFailed("Choose how prescription-only medicine reaches a bill.", field="counter_rule") from None
    session.execute(
        text(
            "INSERT INTO prescription_settings (tenant_id, two_person_verification, early_refill_threshold, "
            "expiry_months, controlled_expiry_months, controlled_max_refills, cii_max_days_supply, unclaimed_days, "
            "counter_rule, emergency_max_days) VALUES (:t, :two_person_verification, :early_refill_threshold, "
            ":expiry_months, :controlled_expiry_months, :controlled_max_refills, :cii_max_days_supply, "
            ":unclaimed_days, :counter_rule, :emergency_max_days) ON CONFLICT (tenant_id) DO UPDATE SET "
            "two_person_verification = EXCLUDED.two_person_verification, "
            "early_refill_threshold = EXCLUDED.early_refill_threshold, expiry_months = EXCLUDED.expiry_months, "
            "controlled_expiry_months = EXCLUDED.controlled_expiry_months, "
            "controlled_max_refills = EXCLUDED.controlled_max_refills, "
            "cii_max_days_supply = EXCLUDED.cii_max_days_supply, unclaimed_days = EXCLUDED.unclaimed_days, "
            "counter_rule = EXCLUDED.counter_rule, emergency_max_days = EXCLUDED.emergency_max_days, "
            "updated_at = now()"
        ),
        {"t": ctx.tenant_id, **values},
    )
    # The schedules whose fills need an ID at pickup: the federal schedules only, any of them (a state may
    # ask for fewer or all); none asks for no ID at all.
    schedules = _id_schedules(typed.get("pickup_id_schedules", current.pickup_id_schedules))
    session.execute(text("UPDATE prescription_settings SET pickup_id_schedules = :s"), {"s": list(schedules)})
    return rx_settings(session, ctx)


def _id_schedules(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        typed: list[object] = list(value.replace(",", " ").split())
    elif isinstance(value, (list, tuple, set, frozenset)):
        typed = list(value)
    else:
        raise ValidationFailed("Choose the schedules that need an ID at pickup.", field="pickup_id_schedules")
    wanted = {str(item).strip().upper() for item in typed}
    unknown = sorted(wanted - set(ID_SCHEDULES))
    if unknown:
        raise ValidationFailed(
            f"An ID at pickup is asked for Schedules CII to CV only, not {', '.join(unknown)}.",
            field="pickup_id_schedules",
        )
    return tuple(s for s in ID_SCHEDULES if s in wanted)


# --- records --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RxEvent:
    occurred_at: datetime
    action: str
    from_status: str | None
    to_status: str
    reason: str
    who: str


@dataclass(frozen=True)
class Prescription:
    id: str
    rx_number: str
    branch_id: str
    branch_name: str
    time_zone: str
    patient_id: str
    patient_name: str
    patient_birth: date
    prescriber_id: str | None
    prescriber_name: str
    prescriber_dea: str
    status: RxStatus
    status_reason: str
    held_from: str | None
    source: RxSource
    drug_written: str
    medicine_id: str | None
    medicine_label: str
    strength: str
    sig_written: str
    sig_expanded: str
    sig_unknown: list[str]
    quantity: int | None
    quantity_unit: str
    days_supply: int | None
    refills_authorized: int
    refills_remaining: int
    auto_refill: bool
    schedule: str | None
    date_written: date | None
    expires_on: date | None
    earliest_fill_date: date | None
    daw: bool
    notes: str
    has_image: bool
    entered_by: str | None
    verified_by: str | None
    verified_at: datetime | None
    created_at: datetime
    events: list[RxEvent] = field(default_factory=list)


_RX_SQL = (
    "SELECT r.*, br.name AS branch_name, br.time_zone, coalesce(pr.full_name, '') AS prescriber_name, "
    "coalesce(pr.credentials, '') AS prescriber_credentials, coalesce(pr.dea_number, '') AS prescriber_dea, "
    "m.generic_name, m.brand_name, m.strength AS medicine_strength, m.dosage_form, "
    "EXISTS (SELECT 1 FROM prescription_images i WHERE i.tenant_id = r.tenant_id "
    "AND i.prescription_id = r.id) AS has_image "
    "FROM prescriptions r JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id "
    "LEFT JOIN prescribers pr ON pr.tenant_id = r.tenant_id AND pr.id = r.prescriber_id "
    "LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id WHERE r.id = :id"
)


def medicine_label(generic: str | None, brand: str | None, strength: str | None, form: str | None) -> str:
    if not generic:
        return ""
    parts = [generic, strength or "", form or ""]
    label = " ".join(p for p in parts if p)
    return f"{label} ({brand})" if brand else label


class WithPatient:
    """A result row with its patient's name and date of birth beside it (sealed in `patients`, so read
    through the patients service rather than joined)."""

    def __init__(self, row: Any, patient_name: str, patient_birth: date) -> None:
        self._row, self.patient_name, self.patient_birth = row, patient_name, patient_birth

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def _load(session: Session, ctx: TenantContext, key: uuid.UUID, *, lock: bool = False) -> Any:
    row = session.execute(text(_RX_SQL + (" FOR UPDATE OF r" if lock else "")), {"id": key}).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such prescription.")
    who = identity_of(session, ctx, row.patient_id)
    return WithPatient(row, who.full_name, who.date_of_birth)


def _record(row: Any, events: list[RxEvent] | None = None) -> Prescription:
    prescriber = row.prescriber_name
    if prescriber and row.prescriber_credentials:
        prescriber = f"{prescriber}, {row.prescriber_credentials}"
    return Prescription(
        id=str(row.id),
        rx_number=row.rx_number,
        branch_id=str(row.branch_id),
        branch_name=row.branch_name,
        time_zone=row.time_zone,
        patient_id=str(row.patient_id),
        patient_name=row.patient_name,
        patient_birth=row.patient_birth,
        prescriber_id=str(row.prescriber_id) if row.prescriber_id else None,
        prescriber_name=prescriber,
        prescriber_dea=row.prescriber_dea,
        status=RxStatus(row.status),
        status_reason=row.status_reason,
        held_from=row.held_from,
        source=RxSource(row.source),
        drug_written=row.drug_written,
        medicine_id=str(row.medicine_id) if row.medicine_id else None,
        medicine_label=medicine_label(row.generic_name, row.brand_name, row.medicine_strength, row.dosage_form),
        strength=row.strength,
        sig_written=row.sig_written,
        sig_expanded=row.sig_expanded,
        sig_unknown=list(row.sig_unknown or []),
        quantity=row.quantity,
        quantity_unit=row.quantity_unit,
        days_supply=row.days_supply,
        refills_authorized=row.refills_authorized,
        refills_remaining=row.refills_remaining,
        auto_refill=row.auto_refill,
        schedule=row.schedule,
        date_written=row.date_written,
        expires_on=row.expires_on,
        earliest_fill_date=row.earliest_fill_date,
        daw=row.daw,
        notes=row.notes,
        has_image=row.has_image,
        entered_by=str(row.entered_by) if row.entered_by else None,
        verified_by=str(row.verified_by) if row.verified_by else None,
        verified_at=row.verified_at,
        created_at=row.created_at,
        events=events or [],
    )


def _events(session: Session, key: uuid.UUID) -> list[RxEvent]:
    rows = session.execute(
        text(
            "SELECT e.occurred_at, e.action, e.from_status, e.to_status, e.reason, "
            "coalesce(u.full_name, 'an API token') AS who FROM prescription_events e "
            "LEFT JOIN users u ON u.id = e.user_id WHERE e.prescription_id = :id ORDER BY e.id"
        ),
        {"id": key},
    ).all()
    return [RxEvent(r.occurred_at, r.action, r.from_status, r.to_status, r.reason, r.who) for r in rows]


def _event(
    session: Session,
    ctx: TenantContext,
    key: uuid.UUID,
    action: str,
    before: RxStatus | None,
    after: RxStatus,
    reason: str = "",
) -> None:
    session.execute(
        text(
            "INSERT INTO prescription_events (tenant_id, prescription_id, action, from_status, to_status, reason, "
            "user_id) VALUES (:t, :p, :a, :f, :s, :r, :u)"
        ),
        {"t": ctx.tenant_id, "p": key, "a": action, "f": before, "s": after, "r": reason, "u": ctx.user_id},
    )


def get_prescription(session: Session, ctx: TenantContext, prescription_id: str) -> Prescription:
    """One prescription with its history; the read is written to the patient's access log."""
    require(ctx, "prescriptions.view")
    key = as_uuid(prescription_id, "prescription")
    row = _load(session, ctx, key)
    patient_for_history(session, ctx, row.patient_id)  # scope check + 'viewed' in the access log
    return _record(row, _events(session, key))


def prescription_image(session: Session, ctx: TenantContext, prescription_id: str) -> tuple[str, bytes] | None:
    """The original's content type and bytes (None when there is none); logged like opening the record."""
    require(ctx, "prescriptions.view")
    key = as_uuid(prescription_id, "prescription")
    row = _load(session, ctx, key)
    patient_for_history(session, ctx, row.patient_id)
    return original_bytes(session, ctx, key)


# --- input checks -----------------------------------------------------------------------------------


def _line(value: object, limit: int, name: str) -> str:
    typed = " ".join(str(value or "").replace("\x00", "").split())
    if len(typed) > limit:
        raise ValidationFailed(f"At most {limit} characters here.", field=name)
    return typed


def _whole(value: object, name: str) -> int | None:
    typed = str(value if value is not None else "").strip()
    if not typed:
        return None
    if not re.fullmatch(r"\d{1,6}", typed):
        raise ValidationFailed("Enter a whole number.", field=name)
    return int(typed)


def _day(value: object, name: str) -> date | None:
    if isinstance(value, date):
        return value
    typed = str(value or "").strip()
    if not typed:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", typed):
            raise ValueError
        return date.fromisoformat(typed)
    except ValueError:
        raise ValidationFailed("Enter the date as YYYY-MM-DD.", field=name) from None


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "on", "yes"}


def _reason(value: object, name: str = "reason") -> str:
    reason = _line(value, 500, name)
    if len(reason) < MIN_REASON:
        raise ValidationFailed(f"Say why (at least {MIN_REASON} characters).", field=name)
    return reason


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_today(time_zone: str) -> date:
    return datetime.now(ZoneInfo(time_zone)).date()


# --- creating (intake) -------------------------------------------------------------------------------


def attach_image(session: Session, ctx: TenantContext, prescription_id: str, data: bytes) -> Prescription:
    """Add the original (a scan or photo of the paper, the fax page) to a prescription in intake or data
    entry that has none yet; an original once stored is never replaced."""
    require(ctx, "prescriptions.enter")
    key = as_uuid(prescription_id, "prescription")
    row = _load(session, ctx, key, lock=True)
    status = RxStatus(row.status)
    if status not in RxStatus.editable():
        raise RefusedTransition(f"{row.rx_number} is {status.label.lower()}: the original is attached at intake.")
    if row.has_image:
        raise RefusedTransition(f"{row.rx_number} already has its original; it is never replaced.")
    store_original(session, ctx, key, check_original(data))
    _event(session, ctx, key, "original_attached", status, status)
    return _record(_load(session, ctx, key), _events(session, key))


def _next_rx_number(session: Session, ctx: TenantContext, branch_id: uuid.UUID, code: str) -> tuple[int, str]:
    """The branch's next number: the counter row is locked to commit, so numbers are gap-free per branch
    and a rolled-back intake does not burn one; the branch code makes it unique in the chain."""
    seq = session.execute(
        text(
            "INSERT INTO rx_number_counters AS c (tenant_id, branch_id, last_number) VALUES (:t, :b, 1) "
            "ON CONFLICT (tenant_id, branch_id) DO UPDATE SET last_number = c.last_number + 1 "
            "RETURNING last_number"
        ),
        {"t": ctx.tenant_id, "b": branch_id},
    ).scalar_one()
    return int(seq), f"{code}-{int(seq):06d}"


def create_prescription(
    session: Session,
    ctx: TenantContext,
    *,
    branch_id: str,
    patient_id: str,
    source: str,
    notes: str = "",
    image: bytes | None = None,
    image_type: str = "",
    **entry: Any,
) -> Prescription:
    """Receive a prescription at a branch (intake): the patient, where it came from, the original's image
    when there is one (checked by `originals.check_original` before anything is written, its type read
    from the bytes, so `image_type` is ignored; its OCR reading is queued), and notes. Entry fields given
    here (drug, sig, ...) are saved as data entry. Answers the record with its new Rx number."""
    require(ctx, "prescriptions.enter")
    try:
        source_value = RxSource(str(source))
    except ValueError:
        source_value = RxSource.TRANSFER
    if source_value not in RxSource.at_intake():
        raise ValidationFailed(
            "Say where the prescription came from: walk-in, phone, fax, portal or electronic "
            "(a transfer from another pharmacy is recorded on the transfer form).",
            field="source",
        )
    return receive(
        session, ctx, branch_id=branch_id, patient_id=patient_id, source=source_value, notes=notes, image=image, **entry
    )


def receive(
    session: Session,
    ctx: TenantContext,
    *,
    branch_id: str,
    patient_id: str,
    source: RxSource,
    notes: str = "",
    image: bytes | None = None,
    **entry: Any,
) -> Prescription:
    """Intake of a prescription from a known source (the intake form's, or a transfer in): see
    `create_prescription`."""
    require(ctx, "prescriptions.enter")
    source_value = source
    branch = as_uuid(branch_id, "branch")
    found = session.execute(text("SELECT code, is_active FROM branches WHERE id = :b"), {"b": branch}).first()
    if found is None or not ctx.can_see_branch(branch):
        raise ValidationFailed("Choose one of your branches.", field="branch_id")
    if not str(patient_id or "").strip():
        raise ValidationFailed("Choose the patient (or register them first).", field="patient_id")
    try:
        patient = patient_for_history(session, ctx, patient_id)
    except NotFound:
        raise ValidationFailed("No such patient.", field="patient_id") from None
    note = str(notes or "").replace("\x00", "").strip()
    if len(note) > 2000:
        raise ValidationFailed("At most 2,000 characters of notes.", field="notes")
    original = check_original(image) if image is not None else None  # refused before anything is written
    key = uuid.uuid4()
    seq, number = _next_rx_number(session, ctx, branch, found.code)
    session.execute(
        text(
            "INSERT INTO prescriptions (tenant_id, id, branch_id, rx_seq, rx_number, patient_id, status, source, "
            "notes, created_by) VALUES (:t, :id, :b, :seq, :number, :p, 'intake', :source, :notes, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "id": key,
            "b": branch,
            "seq": seq,
            "number": number,
            "p": uuid.UUID(patient.id),
            "source": source_value.value,
            "notes": note,
            "u": ctx.user_id,
        },
    )
    if original is not None:
        store_original(session, ctx, key, original)
    _event(session, ctx, key, "received", None, RxStatus.INTAKE)
    publish_after_commit(session, ctx, event_for(EventKind.PRESCRIPTION_RECEIVED, branch, key))
    if any(str(v or "").strip() for k, v in entry.items() if k != "daw"):
        return save_entry(session, ctx, str(key), **entry)
    return _record(_load(session, ctx, key), _events(session, key))


# --- data entry ---------------------------------------------------------------------------------------

ENTRY_FIELDS = (
    "prescriber_id",
    "drug_written",
    "medicine_id",
    "strength",
    "sig_written",
    "quantity",
    "quantity_unit",
    "days_supply",
    "refills_authorized",
    "date_written",
    "earliest_fill_date",
    "daw",
    "notes",
)


def _schedule_of(session: Session, medicine_id: uuid.UUID | None, drug_written: str) -> str | None:
    """The catalog's controlled class wins; else the federal schedule of what was written."""
    if medicine_id is not None:
        row = session.execute(
            text("SELECT generic_name, schedule, controlled_class FROM medicines WHERE id = :m"), {"m": medicine_id}
        ).first()
        if row is not None:
            if row.controlled_class:
                try:
                    return normalise_schedule(row.controlled_class)
                except ValueError:
                    pass
            return federal_schedule(identify(row.generic_name).ingredients)
    return federal_schedule(identify(drug_written).ingredients) if drug_written else None


def _entry_values(session: Session, ctx: TenantContext, row: Any, typed: Mapping[str, Any]) -> dict[str, Any]:
    """The entry as checked against the chain's rules: every refusal names its field; nothing is written."""
    rules = rx_settings(session, ctx)
    values: dict[str, Any] = {}
    prescriber = str(typed.get("prescriber_id") or "").strip()
    values["prescriber_id"] = None
    if prescriber:
        try:
            values["prescriber_id"] = uuid.UUID(prescriber)
        except ValueError:
            raise ValidationFailed("No such prescriber.", field="prescriber_id") from None
        if (
            session.execute(text("SELECT 1 FROM prescribers WHERE id = :p"), {"p": values["prescriber_id"]}).first()
            is None
        ):
            raise ValidationFailed("No such prescriber.", field="prescriber_id")
    medicine = str(typed.get("medicine_id") or "").strip()
    values["medicine_id"] = None
    if medicine:
        try:
            values["medicine_id"] = uuid.UUID(medicine)
        except ValueError:
            raise ValidationFailed("No such medicine in the catalog.", field="medicine_id") from None
        if session.execute(text("SELECT 1 FROM medicines WHERE id = :m"), {"m": values["medicine_id"]}).first() is None:
            raise ValidationFailed("No such medicine in the catalog.", field="medicine_id")
    values["drug_written"] = _line(typed.get("drug_written"), 200, "drug_written")
    values["strength"] = _line(typed.get("strength"), 60, "strength")
    values["sig_written"] = _line(typed.get("sig_written"), 500, "sig_written")
    values["quantity_unit"] = _line(typed.get("quantity_unit"), 20, "quantity_unit")
    quantity = _whole(typed.get("quantity"), "quantity")
    if quantity is not None and quantity <= 0:
        raise ValidationFailed("The quantity must be more than zero.", field="quantity")
    values["quantity"] = quantity
    refills = _whole(typed.get("refills_authorized"), "refills_authorized") or 0
    if refills > 99:
        raise ValidationFailed("At most 99 refills.", field="refills_authorized")
    values["date_written"] = _day(typed.get("date_written"), "date_written")
    values["earliest_fill_date"] = _day(typed.get("earliest_fill_date"), "earliest_fill_date")
    values["daw"] = _flag(typed.get("daw"))
    values["notes"] = str(typed.get("notes", row.notes) or "").replace("\x00", "").strip()
    if len(values["notes"]) > 2000:
        raise ValidationFailed("At most 2,000 characters of notes.", field="notes")
    today = local_today(row.time_zone)
    if values["date_written"] is not None and values["date_written"] > today:
        raise ValidationFailed("The date written cannot be in the future.", field="date_written")

    strength = values["strength"] or (row.medicine_strength if values["medicine_id"] == row.medicine_id else None)
    if values["medicine_id"] is not None and not values["strength"]:
        strength = session.execute(
            text("SELECT strength FROM medicines WHERE id = :m"), {"m": values["medicine_id"]}
        ).scalar()
    sig = (
        expand(
            values["sig_written"],
            quantity=quantity,
            quantity_unit=values["quantity_unit"] or None,
            strength=strength or None,
        )
        if values["sig_written"]
        else None
    )
    values["sig_expanded"] = sig.text if sig else ""
    values["sig_unknown"] = list(sig.unknown) if sig else []
    days = _whole(typed.get("days_supply"), "days_supply")
    if days is None and sig is not None:
        days = sig.days_supply  # computed from the sig and quantity where possible; editable
    if days is not None and not 1 <= days <= 400:
        raise ValidationFailed("Days' supply is between 1 and 400.", field="days_supply")
    values["days_supply"] = days

    schedule = _schedule_of(session, values["medicine_id"], values["drug_written"])
    values["schedule"] = schedule
    if schedule == "CII":
        if refills:
            raise ValidationFailed(
                "A Schedule II prescription cannot have refills: each fill needs its own prescription.",
                field="refills_authorized",
            )
        if days is not None and days > rules.cii_max_days_supply:
            raise ValidationFailed(
                f"A Schedule II prescription carries at most {rules.cii_max_days_supply} days' supply.",
                field="days_supply",
            )
    elif schedule in ("CIII", "CIV") and refills > rules.controlled_max_refills:
        raise ValidationFailed(
            f"A Schedule III-IV prescription has at most {rules.controlled_max_refills} refills.",
            field="refills_authorized",
        )
    if values["earliest_fill_date"] is not None and schedule != "CII":
        raise ValidationFailed(
            "An earliest fill date belongs to a Schedule II prescription of a series.", field="earliest_fill_date"
        )
    values["refills_authorized"] = refills
    values["refills_remaining"] = refills
    if row.source == RxSource.TRANSFER:
        # What the other pharmacy transferred is all there is; typing the entry again never adds refills.
        values["refills_remaining"] = min(refills, row.refills_remaining)
    if values["date_written"] is not None:
        months = rules.controlled_expiry_months if schedule else rules.expiry_months
        values["expires_on"] = add_months(values["date_written"], months)
        if values["expires_on"] <= today:
            raise ValidationFailed(
                f"Written on {values['date_written']:%Y-%m-%d}, this prescription expired on "
                f"{values['expires_on']:%Y-%m-%d}; it cannot be entered.",
                field="date_written",
            )
        if values["earliest_fill_date"] is not None and values["earliest_fill_date"] < values["date_written"]:
            raise ValidationFailed(
                "The earliest fill date is on or after the date written.", field="earliest_fill_date"
            )
    else:
        values["expires_on"] = None
    return values


def save_entry(session: Session, ctx: TenantContext, prescription_id: str, **typed: Any) -> Prescription:
    """Type or change the details (intake or data entry only): prescriber, drug as written and the catalog
    medicine chosen for it, strength, sig (expanded here), quantity and unit, days' supply (computed from
    the sig when left empty), refills, date written (expiry follows the chain's rules), DAW, notes.
    Fields not given are kept as they are."""
    require(ctx, "prescriptions.enter")
    key = as_uuid(prescription_id, "prescription")
    row = _load(session, ctx, key, lock=True)
    status = RxStatus(row.status)
    if status not in RxStatus.editable():
        raise RefusedTransition(
            f"{row.rx_number} is {status.label.lower()}: its details can be changed only in intake or data entry."
        )
    current = {name: getattr(row, name) for name in ENTRY_FIELDS}
    merged = {**current, **{k: v for k, v in typed.items() if k in ENTRY_FIELDS}}
    if "days_supply" not in typed and typed.keys() & {"quantity", "quantity_unit", "sig_written", "medicine_id"}:
        merged["days_supply"] = None  # computed again from the new sig or quantity, unless typed with them
    values = _entry_values(session, ctx, row, merged)
    session.execute(
        text(
            "UPDATE prescriptions SET prescriber_id = :prescriber_id, drug_written = :drug_written, "
            "medicine_id = :medicine_id, strength = :strength, sig_written = :sig_written, "
            "sig_expanded = :sig_expanded, sig_unknown = :sig_unknown, quantity = :quantity, "
            "quantity_unit = :quantity_unit, days_supply = :days_supply, refills_authorized = :refills_authorized, "
            "refills_remaining = :refills_remaining, schedule = :schedule, date_written = :date_written, "
            "expires_on = :expires_on, earliest_fill_date = :earliest_fill_date, daw = :daw, notes = :notes, "
            "status = 'data_entry', updated_at = now() WHERE id = :id"
        ),
        {"id": key, **values},
    )
    _event(session, ctx, key, "entry_saved", status, RxStatus.DATA_ENTRY)
    return _record(_load(session, ctx, key), _events(session, key))


MISSING = {
    "prescriber_id": "the prescriber",
    "medicine_id": "the catalog medicine",
    "sig_written": "the sig",
    "quantity": "the quantity",
    "days_supply": "the days' supply",
    "date_written": "the date written",
}


def submit_for_verification(session: Session, ctx: TenantContext, prescription_id: str) -> Prescription:
    """Data entry is done: the prescription goes to the pharmacist. Refused (naming what is missing)
    until the prescriber, medicine, sig, quantity, days' supply and date written are there."""
    require(ctx, "prescriptions.enter")
    key = as_uuid(prescription_id, "prescription")
    row = _load(session, ctx, key, lock=True)
    status = RxStatus(row.status)
    if status not in RxStatus.editable():
        raise RefusedTransition(f"{row.rx_number} is {status.label.lower()}, not in data entry.")
    missing = [label for name, label in MISSING.items() if getattr(row, name) in (None, "")]
    if missing:
        raise ValidationFailed(f"Enter {', '.join(missing)} before sending it for verification.", field="entry")
    if row.expires_on <= local_today(row.time_zone):
        raise ExpiredPrescription(f"{row.rx_number} expired on {row.expires_on:%Y-%m-%d}.")
    session.execute(
        text(
            "UPDATE prescriptions SET status = 'verification', entered_by = :u, entered_at = now(), "
            "updated_at = now() WHERE id = :id"
        ),
        {"id": key, "u": ctx.user_id},
    )
    _event(session, ctx, key, "submitted", status, RxStatus.VERIFICATION)
    return _record(_load(session, ctx, key), _events(session, key))


# --- holds, returns, cancelling, expiry ---------------------------------------------------------------


def hold(
    session: Session, ctx: TenantContext, prescription_id: str, reason: str, *, waiting_prescriber: bool = False
) -> Prescription:
    """Put a prescription on hold (or waiting for the prescriber) with a reason; `resume` takes it back to
    where it was."""
    require(ctx, "prescriptions.enter")
    key = as_uuid(prescription_id, "prescription")
    why = _reason(reason)
    row = _load(session, ctx, key, lock=True)
    status = RxStatus(row.status)
    if status not in RxStatus.holdable():
        raise RefusedTransition(f"{row.rx_number} is {status.label.lower()}: it cannot be put on hold.")
    target = RxStatus.WAITING_PRESCRIBER if waiting_prescriber else RxStatus.ON_HOLD
    session.execute(
        text(
            "UPDATE prescriptions SET status = :s, held_from = :f, status_reason = :r, updated_at = now() "
            "WHERE id = :id"
        ),
        {"id": key, "s": target.value, "f": status.value, "r": why},
    )
    _event(session, ctx, key, "waiting_prescriber" if waiting_prescriber else "held", status, target, why)
    return _record(_load(session, ctx, key), _events(session, key))


def resume(session: Session, ctx: TenantContext, prescription_id: str) -> Prescription:
    """Take a held prescription back to the step it was held at."""
    require(ctx, "prescriptions.enter")
    key = as_uuid(prescription_id, "prescription")
    row = _load(session, ctx, key, lock=True)
    status = RxStatus(row.status)
    if status not in RxStatus.held():
        raise RefusedTransition(f"{row.rx_number} is {status.label.lower()}, not on hold.")
    if row.expires_on is not None and row.expires_on <= local_today(row.time_zone):
        raise ExpiredPrescription(f"{row.rx_number} expired on {row.expires_on:%Y-%m-%d}; it cannot be resumed.")
    target = RxStatus(row.held_from)
    session.execute(
        text(
            "UPDATE prescriptions SET status = :s, held_from = NULL, status_reason = '', updated_at = now() "
            "WHERE id = :id"
        ),
        {"id": key, "s": target.value},
    )
    _event(session, ctx, key, "resumed", status, target)
    return _record(_load(session, ctx, key), _events(session, key))


def return_to_entry(session: Session, ctx: TenantContext, prescription_id: str, reason: str) -> Prescription:
    """The pharmacist sends a prescription back to data entry (a wrong medicine, a misread sig), saying why."""
    require(ctx, "prescriptions.verify")
    key = as_uuid(prescription_id, "prescription")
    why = _reason(reason)
    row = _load(session, ctx, key, lock=True)
    status = RxStatus(row.status)
    if status is not RxStatus.VERIFICATION:
        raise RefusedTransition(f"{row.rx_number} is {status.label.lower()}, not waiting for verification.")
    session.execute(
        text("UPDATE prescriptions SET status = 'data_entry', status_reason = :r, updated_at = now() WHERE id = :id"),
        {"id": key, "r": why},
    )
    _event(session, ctx, key, "returned_to_entry", status, RxStatus.DATA_ENTRY, why)
    return _record(_load(session, ctx, key), _events(session, key))


def cancel(session: Session, ctx: TenantContext, prescription_id: str, reason: str) -> Prescription:
    """Cancel a prescription that is not yet verified (or verified and not yet filled), saying why. It stays
    on record with its Rx number, which is never reused."""
    require(ctx, "prescriptions.cancel")
    key = as_uuid(prescription_id, "prescription")
    why = _reason(reason)
    row = _load(session, ctx, key, lock=True)
    status = RxStatus(row.status)
    if status in RxStatus.closed():
        raise RefusedTransition(f"{row.rx_number} is already {status.label.lower()}.")
    session.execute(
        text(
            "UPDATE prescriptions SET status = 'cancelled', held_from = NULL, status_reason = :r, "
            "updated_at = now() WHERE id = :id"
        ),
        {"id": key, "r": why},
    )
    _event(session, ctx, key, "cancelled", status, RxStatus.CANCELLED, why)
    return _record(_load(session, ctx, key), _events(session, key))


def expire_due(session: Session, ctx: TenantContext, branch_id: str) -> int:
    """Mark the branch's open prescriptions whose expiry date has passed (branch's local today) as expired;
    answers how many. Run when the queue loads, so the queue never offers an expired one."""
    require(ctx, "prescriptions.view")
    branch = as_uuid(branch_id, "branch")
    zone = session.execute(text("SELECT time_zone FROM branches WHERE id = :b"), {"b": branch}).scalar()
    if zone is None or not ctx.can_see_branch(branch):
        raise NotFound("No such branch.")
    rows = session.execute(
        text(
            "WITH due AS (SELECT id, status FROM prescriptions WHERE tenant_id = :t AND branch_id = :b "
            "AND status IN ('intake', 'data_entry', 'verification', 'on_hold', 'waiting_prescriber') "
            "AND expires_on <= :today FOR UPDATE) "
            "UPDATE prescriptions r SET status = 'expired', held_from = NULL, updated_at = now() FROM due "
            "WHERE r.tenant_id = :t AND r.id = due.id RETURNING due.id, due.status AS before"
        ),
        {"t": ctx.tenant_id, "b": branch, "today": local_today(str(zone))},
    ).all()
    for row in rows:
        _event(session, ctx, row.id, "expired", RxStatus(row.before), RxStatus.EXPIRED)
    return len(rows)


# --- the queue ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    id: str
    rx_number: str
    status: RxStatus
    patient_name: str
    drug: str
    prescriber_name: str
    source: RxSource
    created_at: datetime
    status_reason: str


@dataclass(frozen=True)
class Queue:
    counts: dict[str, int]  # every status, zero included
    items: list[QueueRow]
    page: int
    has_more: bool
    time_zone: str  # the branch's, for showing when each was received


def _counts(session: Session, ctx: TenantContext, branch: uuid.UUID) -> dict[str, int]:
    counts = {s.value: 0 for s in RxStatus.queue_order()}
    # The live statuses are counted from the queue index; the closed ones (cancelled, expired, transferred
    # out) only over the last 30 days, so a branch's years of history do not slow the queue.
    for row in session.execute(
        text(
            "SELECT status, count(*) AS n FROM prescriptions WHERE tenant_id = :t AND branch_id = :b "
            "AND status NOT IN ('cancelled', 'expired', 'transferred_out') GROUP BY status "
            "UNION ALL SELECT status, count(*) FROM prescriptions WHERE tenant_id = :t AND branch_id = :b "
            "AND status IN ('cancelled', 'expired', 'transferred_out') AND updated_at > now() - interval '30 days' "
            "GROUP BY status"
        ),
        {"t": ctx.tenant_id, "b": branch},
    ):
        counts[row.status] = int(row.n)
    return counts


def queue_counts(session: Session, ctx: TenantContext, branch_id: str) -> dict[str, int]:
    """How many prescriptions of the branch are in each status (closed ones: the last 30 days)."""
    require(ctx, "prescriptions.view")
    branch = as_uuid(branch_id, "branch")
    if not ctx.can_see_branch(branch):
        raise NotFound("No such branch.")
    return _counts(session, ctx, branch)


def queue(
    session: Session,
    ctx: TenantContext,
    branch_id: str,
    *,
    status: str = "",
    query: str = "",
    page: int = 0,
) -> Queue:
    """A branch's prescriptions by status, oldest first, with the count of each status. `status` filters
    (empty: every open one and the ones ready to fill); `query` finds an Rx number, patient or drug."""
    require(ctx, "prescriptions.view")
    branch = as_uuid(branch_id, "branch")
    zone = session.execute(text("SELECT time_zone FROM branches WHERE id = :b"), {"b": branch}).scalar()
    if zone is None or not ctx.can_see_branch(branch):
        raise NotFound("No such branch.")
    # The filter is fixed SQL text, so the planner can match the partial indexes' predicates: one status
    # walks prescriptions_queue_idx in order; the live queue walks prescriptions_live_order_idx.
    if status:
        try:
            params: dict[str, Any] = {"status": RxStatus(status).value}
        except ValueError:
            raise ValidationFailed("No such status.", field="status") from None
        which = "r.status = :status"
    else:
        params, which = {}, "r.status NOT IN ('cancelled', 'expired', 'transferred_out')"
    counts = _counts(session, ctx, branch)
    words = " ".join(str(query or "").split())[:60]
    params.update({"t": ctx.tenant_id, "b": branch})
    search = ""
    if words:
        params["q"] = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params["named"] = ids_named(session, ctx, words)
        search = " AND (r.rx_number ILIKE :q OR r.patient_id = ANY(CAST(:named AS uuid[])) OR r.drug_written ILIKE :q)"
    page = max(0, int(page))
    rows = session.execute(
        text(
            "SELECT r.id, r.rx_number, r.status, r.source, r.created_at, r.status_reason, r.drug_written, "  # noqa: S608
            "r.patient_id, coalesce(pr.full_name, '') AS prescriber_name, "
            "m.generic_name, m.strength AS medicine_strength FROM prescriptions r "
            "LEFT JOIN prescribers pr ON pr.tenant_id = r.tenant_id AND pr.id = r.prescriber_id "
            "LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
            f"WHERE r.tenant_id = :t AND r.branch_id = :b AND {which}"
            f"{search} ORDER BY r.created_at, r.rx_seq LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": PAGE_SIZE + 1, "offset": page * PAGE_SIZE},
    ).all()
    people = identities(session, ctx, [r.patient_id for r in rows[:PAGE_SIZE]])
    items = [
        QueueRow(
            id=str(r.id),
            rx_number=r.rx_number,
            status=RxStatus(r.status),
            patient_name=people[r.patient_id].full_name,
            drug=" ".join(p for p in (r.generic_name, r.medicine_strength) if p) or r.drug_written or "(not entered)",
            prescriber_name=r.prescriber_name,
            source=RxSource(r.source),
            created_at=r.created_at,
            status_reason=r.status_reason,
        )
        for r in rows[:PAGE_SIZE]
    ]
    return Queue(counts, items, page, len(rows) > PAGE_SIZE, str(zone))


@dataclass(frozen=True)
class PatientRx:
    id: str
    rx_number: str
    status: RxStatus
    drug: str
    date_written: date | None
    days_supply: int | None
    refills_remaining: int


def patient_prescriptions(session: Session, ctx: TenantContext, patient_id: str) -> list[PatientRx]:
    """A patient's prescriptions, newest first: the list on the patient's record page, which has just logged
    its opening (`get_patient`), so this read is not logged a second time; the patient must be in scope."""
    require(ctx, "prescriptions.view")
    try:
        key = patient_for_bill(session, ctx, patient_id)  # the scope check, without a log row
    except ValidationFailed:
        raise NotFound("No such patient.") from None
    if key is None:
        raise NotFound("No such patient.")
    rows = session.execute(
        text(
            "SELECT r.id, r.rx_number, r.status, r.drug_written, r.date_written, r.days_supply, "
            "r.refills_remaining, r.branch_id, m.generic_name, m.strength FROM prescriptions r "
            "LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
            "WHERE r.patient_id = :p ORDER BY r.created_at DESC, r.rx_seq DESC LIMIT 200"
        ),
        {"p": key},
    ).all()
    return [
        PatientRx(
            str(r.id),
            r.rx_number,
            RxStatus(r.status),
            " ".join(p for p in (r.generic_name, r.strength) if p) or r.drug_written,
            r.date_written,
            r.days_supply,
            r.refills_remaining,
        )
        for r in rows
        if ctx.can_see_branch(r.branch_id)
    ]


# --- the drug matcher ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MedicineChoice:
    id: str
    label: str
    note: str  # why it fits: "same generic and strength", "generic for the brand written"


def _strength_key(value: str) -> str:
    return re.sub(r"\s+", "", value.lower()).replace("mgs", "mg")


def match_medicines(
    session: Session, ctx: TenantContext, drug_written: str, strength: str = "", *, daw: bool = False
) -> list[MedicineChoice]:
    """Catalog medicines that may be dispensed for what was written: the same ingredients (a brand written
    finds its generic unless dispense-as-written), the same release (an extended-release is never an
    immediate-release, nor the other way), and the written strength when one is given."""
    require(ctx, "prescriptions.view")
    written = identify(drug_written) if drug_written.strip() else None
    if written is None or not written.known:
        return []
    wanted = set(written.ingredients)
    first = sorted(wanted)[0]
    rows = session.execute(
        text(
            "SELECT id, generic_name, brand_name, strength, dosage_form FROM medicines WHERE is_active "
            "AND (lower(generic_name) LIKE :first OR lower(brand_name) = lower(:written)) "
            "ORDER BY lower(generic_name), strength LIMIT 200"
        ),
        {"first": f"%{first}%", "written": drug_written.strip()},
    ).all()
    brand_written = drug_written.strip().lower() not in wanted
    choices = []
    for row in rows:
        product = identify(" ".join(p for p in (row.generic_name, row.dosage_form) if p))
        if set(product.ingredients) != wanted:
            continue
        release = identify(" ".join(p for p in (row.brand_name or row.generic_name, row.dosage_form) if p)).release
        if (release or product.release) != written.release:
            continue
        if strength and _strength_key(row.strength) != _strength_key(strength):
            continue
        if daw and brand_written and row.brand_name.lower() != drug_written.strip().lower():
            continue
        note = (
            "the brand written"
            if row.brand_name.lower() == drug_written.strip().lower()
            else ("generic for the brand written" if brand_written else "same generic")
        )
        choices.append(
            MedicineChoice(
                str(row.id), medicine_label(row.generic_name, row.brand_name, row.strength, row.dosage_form), note
            )
        )
    return choices


# --- records retention (issue 16, section 3) ----------------------------------------------------


@dataclass(frozen=True)
class DispensingDates:
    """A patient's most recent prescription activity: any prescription, and a controlled one (None: never)."""

    patient_id: str
    last_any: datetime
    last_controlled: datetime | None


def dispensing_dates(session: Session, ctx: TenantContext) -> list[DispensingDates]:
    """Per patient, when a prescription of theirs was last written, changed or filled (and a controlled one):
    what the retention review counts a patient's prescription and dispensing records' years from."""
    require(ctx, "retention.review")
    rows = session.execute(
        text(
            "SELECT r.patient_id, max(greatest(r.updated_at, f.last_fill)) AS last_any, "
            "max(greatest(r.updated_at, f.last_fill)) FILTER (WHERE r.schedule IS NOT NULL) AS last_controlled "
            "FROM prescriptions r LEFT JOIN LATERAL (SELECT max(filled_at) AS last_fill FROM prescription_fills x "
            "WHERE x.tenant_id = r.tenant_id AND x.prescription_id = r.id) f ON true GROUP BY r.patient_id"
        )
    ).all()
    return [DispensingDates(str(r.patient_id), r.last_any, r.last_controlled) for r in rows]


# --- the portal ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberedPrescription:
    """What the portal needs of a prescription a customer names by its number: whose it is and where."""

    id: str
    rx_number: str
    patient_id: str
    branch_id: str
    status: RxStatus


def prescription_by_number(session: Session, ctx: TenantContext, rx_number: str) -> NumberedPrescription | None:
    """The chain's prescription with this number as printed on the label (case and spaces as typed do not
    matter), or None. For the portal: the caller proves the patient before anything is shown or done."""
    require(ctx, "portal.match")
    number = "".join(str(rx_number).split()).upper()[:40]
    row = session.execute(
        text("SELECT id, rx_number, patient_id, branch_id, status FROM prescriptions WHERE rx_number = :n"),
        {"n": number},
    ).first()
    if row is None:
        return None
    return NumberedPrescription(
        str(row.id), row.rx_number, str(row.patient_id), str(row.branch_id), RxStatus(row.status)
    )
