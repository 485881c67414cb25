"""Records retention: how long the chain keeps each kind of record, legal holds, and approved disposal.

- Periods are per chain, in years, per kind of record (`RecordKind`); a chain that never set them has the
  defaults in `DEFAULT_YEARS`, and none may go below `FEDERAL_MINIMUM_YEARS` (docs/retention.md says why).
- What is disposed of is a patient's identity, once every period that applies to them has passed: the
  prescription and dispensing period from their last prescription, fill, sale or change of their record,
  the controlled-substance period from their last controlled prescription, the claims period from their
  last claim, and a minor's records at least until they turn 21. Disposal anonymises through the patients
  and billing services; prescriptions, fills, bills, claims, the stock ledger and every audit chain keep
  their rows, so sales totals, stock quantities and `audit verify` are unchanged.
- A legal hold (one patient, or the whole chain) stops everything it covers from being listed or disposed
  of, including a batch listed before the hold was placed.
- The monthly review (`retention.review` job, `pharmacy-saas retention review`) lists what is due into a
  batch; nothing is disposed of until the owner approves the batch with an electronic signature. The
  approval is itself an audit event, as are changes of the periods and of holds.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.accounts.signatures import require_fresh_signature, signable
from backend.billing.claims.service import anonymise_coverages, billing_dates
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.validation import as_uuid
from backend.feedback.service import forget_disposed_comments
from backend.jobs.service import enqueue_job
from backend.patients.service import anonymise_patients, patient_summary, retention_dates
from backend.portal.refill_requests import forget_disposed_customers
from backend.prescriptions.service import dispensing_dates
from backend.retention.statuses import BatchStatus, ItemOutcome, RecordKind
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require, role_has

REVIEW_JOB = "retention.review"
MAX_YEARS = 50
MIN_REASON = 5
MAX_REASON = 500
MINOR_KEPT_UNTIL_AGE = 21  # a minor's records: at least until 21 (age of majority plus three years)
ITEMS_SHOWN = 200  # a batch's items listed on the page (the count is always whole)

# The defaults: the longest period common among US states' rules, never below the federal one.
DEFAULT_YEARS: dict[RecordKind, int] = {
    RecordKind.PRESCRIPTION: 7,
    RecordKind.CONTROLLED: 5,
    RecordKind.CLAIMS: 10,
    RecordKind.AUDIT: 6,
}
# The federal floor, with the rule that sets it (the message a refusal gives).
FEDERAL_MINIMUM_YEARS: dict[RecordKind, tuple[int, str]] = {
    RecordKind.PRESCRIPTION: (2, "the DEA's two years for dispensing records (21 CFR 1304.04)"),
    RecordKind.CONTROLLED: (2, "the DEA's two years (21 CFR 1304.04(a))"),
    RecordKind.CLAIMS: (10, "CMS's ten years for Medicare claims records (42 CFR 423.505(d))"),
    RecordKind.AUDIT: (6, "HIPAA's six years for documentation (45 CFR 164.316(b)(2))"),
}


class LegalHoldActive(Conflict):
    code = "legal_hold"


@dataclass(frozen=True)
class RetentionSettings:
    years: dict[str, int]  # RecordKind value -> years
    updated_at: datetime | None  # None: the chain has never changed the defaults

    def of(self, kind: RecordKind) -> int:
        return self.years[kind.value]


@dataclass(frozen=True)
class LegalHold:
    id: str
    patient_id: str | None  # None: the whole chain
    patient_name: str
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str
    released_at: datetime | None
    release_reason: str

    @property
    def active(self) -> bool:
        return self.released_at is None


@dataclass(frozen=True)
class DisposalItem:
    patient_id: str
    patient_name: str
    due_on: date
    basis: str
    outcome: ItemOutcome | None


@dataclass(frozen=True)
class DisposalBatch:
    id: str
    status: BatchStatus
    as_of: date
    created_at: datetime
    created_by: str
    approved_by: str
    approved_at: datetime | None
    disposed: int
    item_count: int
    items: list[DisposalItem] = field(default_factory=list)


# --- the periods ------------------------------------------------------------------------------------


def _settings(session: Session) -> RetentionSettings:
    row = session.execute(text("SELECT * FROM retention_settings")).first()
    if row is None:
        return RetentionSettings({k.value: v for k, v in DEFAULT_YEARS.items()}, None)
    return RetentionSettings({k.value: int(getattr(row, k.value)) for k in RecordKind}, row.updated_at)


def get_retention_settings(session: Session, ctx: TenantContext) -> RetentionSettings:
    """The chain's retention periods in years (the documented defaults until the owner changes them)."""
    require(ctx, "retention.view")
    return _settings(session)


def _years(kind: RecordKind, value: object) -> int:
    try:
        years = int(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"{kind.label}: give a whole number of years.", field=kind.value) from None
    minimum, rule = FEDERAL_MINIMUM_YEARS[kind]
    if years < minimum:
        raise ValidationFailed(
            f"{kind.label} cannot be kept less than {minimum} years: the federal minimum is {rule}.",
            field=kind.value,
        )
    if years > MAX_YEARS:
        raise ValidationFailed(f"{kind.label}: at most {MAX_YEARS} years.", field=kind.value)
    return years


def update_retention_settings(session: Session, ctx: TenantContext, **years: object) -> RetentionSettings:
    """Set the periods (prescription_years, controlled_years, claims_years, audit_years; a missing one keeps
    its value). A period below the federal minimum is refused with the rule that sets it; nothing is saved."""
    require(ctx, "retention.manage")
    unknown = set(years) - {k.value for k in RecordKind}
    if unknown:
        raise ValidationFailed(f"Unknown retention setting: {', '.join(sorted(unknown))}.")
    current = _settings(session)
    wanted = {k.value: _years(k, years[k.value]) if k.value in years else current.of(k) for k in RecordKind}
    session.execute(
        text(
            "INSERT INTO retention_settings (tenant_id, prescription_years, controlled_years, claims_years, "
            "audit_years, updated_by) VALUES (:t, :prescription_years, :controlled_years, :claims_years, "
            ":audit_years, :u) ON CONFLICT (tenant_id) DO UPDATE SET prescription_years = EXCLUDED.prescription_years, "
            "controlled_years = EXCLUDED.controlled_years, claims_years = EXCLUDED.claims_years, "
            "audit_years = EXCLUDED.audit_years, updated_by = EXCLUDED.updated_by, updated_at = now()"
        ),
        {"t": ctx.tenant_id, "u": ctx.user_id, **wanted},
    )
    record_audit(
        session,
        ctx.tenant_id,
        "retention.settings_changed",
        actor_user_id=ctx.user_id,
        entity_type="retention_settings",
        entity_id=str(ctx.tenant_id),
        details={"from": current.years, "to": wanted},
    )
    return _settings(session)


# --- legal holds ------------------------------------------------------------------------------------


def _reason(value: object, field_name: str) -> str:
    reason = " ".join(str(value or "").split())
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise ValidationFailed(f"Give the reason ({MIN_REASON} to {MAX_REASON} characters).", field=field_name)
    return reason


def _chain_hold(session: Session) -> bool:
    found = session.execute(
        text("SELECT 1 FROM legal_holds WHERE patient_id IS NULL AND released_at IS NULL LIMIT 1")
    ).first()
    return found is not None


def _held_patients(session: Session) -> set[str]:
    rows = session.execute(
        text("SELECT DISTINCT patient_id FROM legal_holds WHERE patient_id IS NOT NULL AND released_at IS NULL")
    ).scalars()
    return {str(p) for p in rows}


def place_hold(session: Session, ctx: TenantContext, *, reason: str, patient_id: str | None = None) -> LegalHold:
    """Put one patient's records (or, without a patient, the whole chain's) under a legal hold: nothing it
    covers is listed for disposal or disposed of until it is released. Audited (the reason is not copied
    into the audit chain, which can never be changed: it stays on the hold)."""
    require(ctx, "retention.hold")
    why = _reason(reason, "reason")
    patient = None
    if patient_id:
        patient = as_uuid(patient_id, "patient")
        patient_summary(session, ctx, str(patient))  # NotFound outside the chain or the member's scope
    hold_id = uuid.uuid4()
    session.execute(
        text("INSERT INTO legal_holds (tenant_id, id, patient_id, reason, placed_by) VALUES (:t, :id, :p, :r, :u)"),
        {"t": ctx.tenant_id, "id": hold_id, "p": patient, "r": why, "u": ctx.user_id},
    )
    record_audit(
        session,
        ctx.tenant_id,
        "retention.hold_placed",
        actor_user_id=ctx.user_id,
        entity_type="legal_hold",
        entity_id=str(hold_id),
        details={"patient_id": str(patient) if patient else None, "scope": "patient" if patient else "chain"},
    )
    return _hold(session, ctx, hold_id)


def release_hold(session: Session, ctx: TenantContext, hold_id: str, *, reason: str) -> LegalHold:
    """Release a legal hold, with the reason (the matter is closed); the hold stays on record. Audited."""
    require(ctx, "retention.hold")
    key = as_uuid(hold_id, "legal hold")
    why = _reason(reason, "release_reason")
    released = session.execute(
        text(
            "UPDATE legal_holds SET released_by = :u, released_at = now(), release_reason = :r "
            "WHERE id = :id AND released_at IS NULL RETURNING patient_id"
        ),
        {"u": ctx.user_id, "r": why, "id": key},
    ).first()
    if released is None:
        if session.execute(text("SELECT 1 FROM legal_holds WHERE id = :id"), {"id": key}).first() is None:
            raise NotFound("No such legal hold.")
        raise Conflict("This legal hold was already released.")
    record_audit(
        session,
        ctx.tenant_id,
        "retention.hold_released",
        actor_user_id=ctx.user_id,
        entity_type="legal_hold",
        entity_id=str(key),
        details={"patient_id": str(released.patient_id) if released.patient_id else None},
    )
    return _hold(session, ctx, key)


_HOLD_SQL = (
    "SELECT h.*, coalesce(pu.full_name, '') AS placer, coalesce(ru.full_name, '') AS releaser FROM legal_holds h "
    "LEFT JOIN users pu ON pu.id = h.placed_by LEFT JOIN users ru ON ru.id = h.released_by"
)


def _name(session: Session, ctx: TenantContext, patient_id: object) -> str:
    if not role_has(ctx.role, "patients.lookup"):
        return ""  # the monthly review (SYSTEM) lists ids; the owner's page shows the names
    try:
        return patient_summary(session, ctx, str(patient_id)).full_name
    except NotFound:
        return "a patient outside your branches"


def _hold_of(session: Session, ctx: TenantContext, row: Any) -> LegalHold:
    return LegalHold(
        id=str(row.id),
        patient_id=str(row.patient_id) if row.patient_id else None,
        patient_name=_name(session, ctx, row.patient_id) if row.patient_id else "",
        reason=row.reason,
        placed_by=row.placer,
        placed_at=row.placed_at,
        released_by=row.releaser,
        released_at=row.released_at,
        release_reason=row.release_reason,
    )


def _hold(session: Session, ctx: TenantContext, hold_id: uuid.UUID) -> LegalHold:
    row = session.execute(text(f"{_HOLD_SQL} WHERE h.id = :id"), {"id": hold_id}).one()  # noqa: S608
    return _hold_of(session, ctx, row)


def list_holds(session: Session, ctx: TenantContext) -> list[LegalHold]:
    """Every legal hold, the ones in force first, newest first."""
    require(ctx, "retention.hold")
    rows = session.execute(
        text(f"{_HOLD_SQL} ORDER BY h.released_at IS NOT NULL, h.placed_at DESC LIMIT 500")  # noqa: S608
    ).all()
    return [_hold_of(session, ctx, r) for r in rows]


# --- what is due ------------------------------------------------------------------------------------


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _day(moment: datetime | None) -> date | None:
    return moment.astimezone(UTC).date() if moment is not None else None


@dataclass(frozen=True)
class _Due:
    due_on: date
    basis: str


def _due_dates(session: Session, ctx: TenantContext, settings: RetentionSettings) -> dict[str, _Due]:
    """Every patient's disposal date: the latest of the dates each period that applies to them ends."""
    rx_years = settings.of(RecordKind.PRESCRIPTION)
    candidates: dict[str, list[tuple[date, str]]] = {}

    def keep(patient_id: str, moment: datetime | None, years: int, what: str) -> None:
        day = _day(moment)
        if day is not None:
            candidates.setdefault(patient_id, []).append((_plus_years(day, years), f"{what} {day} + {years} years"))

    for p in retention_dates(session, ctx):
        keep(p.patient_id, p.updated_at, rx_years, "record last changed")
        until = _plus_years(p.date_of_birth, MINOR_KEPT_UNTIL_AGE)
        candidates[p.patient_id].append((until, f"a minor's records: until age {MINOR_KEPT_UNTIL_AGE}"))
    for d in dispensing_dates(session, ctx):
        keep(d.patient_id, d.last_any, rx_years, "last prescription")
        keep(d.patient_id, d.last_controlled, settings.of(RecordKind.CONTROLLED), "last controlled prescription")
    for b in billing_dates(session, ctx):
        keep(b.patient_id, b.last_bill, rx_years, "last purchase")
        keep(b.patient_id, b.last_claim, settings.of(RecordKind.CLAIMS), "last claim")
    # On a tie the more telling reason wins (a claim or a prescription over "record last changed"): the
    # reasons are collected in that order, and max keeps the first of equals it meets.
    return {pid: _Due(*max(reversed(found), key=lambda c: c[0])) for pid, found in candidates.items()}


def _disposed(session: Session) -> set[str]:
    rows = session.execute(text("SELECT patient_id FROM disposal_items WHERE outcome = 'disposed'")).scalars()
    return {str(p) for p in rows}


# --- the review and its batch -----------------------------------------------------------------------


def _one_at_a_time(session: Session, ctx: TenantContext) -> None:
    """Reviews and approvals of a chain wait for each other (two reviews at once would both write the batch
    awaiting approval); held to the end of the transaction."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('retention:' || :t, 0))"), {"t": str(ctx.tenant_id)}
    )


def review_disposals(session: Session, ctx: TenantContext, *, as_of: date | None = None) -> DisposalBatch:
    """List every patient whose records are past all their retention periods on `as_of` (today, UTC) and under
    no legal hold into a new batch for the owner to approve; the batch waiting before is superseded. Under a
    chain-wide hold the batch is empty. Disposes of nothing. Audited."""
    require(ctx, "retention.review")
    _one_at_a_time(session, ctx)
    as_of = as_of or datetime.now(UTC).date()
    session.execute(text("UPDATE disposal_batches SET status = 'superseded' WHERE status = 'awaiting_approval'"))
    batch_id = uuid.uuid4()
    session.execute(
        text(
            "INSERT INTO disposal_batches (tenant_id, id, status, as_of, created_by) "
            "VALUES (:t, :id, 'awaiting_approval', :d, :u)"
        ),
        {"t": ctx.tenant_id, "id": batch_id, "d": as_of, "u": ctx.user_id},
    )
    chain_held = _chain_hold(session)
    due: dict[str, _Due] = {}
    if not chain_held:
        excluded = _held_patients(session) | _disposed(session)
        settings = _settings(session)
        due = {
            pid: d for pid, d in _due_dates(session, ctx, settings).items() if d.due_on <= as_of and pid not in excluded
        }
    if due:
        session.execute(
            text(
                "INSERT INTO disposal_items (tenant_id, batch_id, patient_id, due_on, basis) "
                "SELECT :t, :b, p, d, x FROM unnest(CAST(:p AS uuid[]), CAST(:d AS date[]), CAST(:x AS text[])) "
                "AS u(p, d, x)"
            ),
            {
                "t": ctx.tenant_id,
                "b": batch_id,
                "p": list(due),
                "d": [d.due_on for d in due.values()],
                "x": [d.basis[:200] for d in due.values()],
            },
        )
    record_audit(
        session,
        ctx.tenant_id,
        "retention.reviewed",
        actor_user_id=ctx.user_id,
        entity_type="disposal_batch",
        entity_id=str(batch_id),
        details={"as_of": as_of.isoformat(), "due": len(due), "chain_hold": chain_held},
    )
    return _batch(session, ctx, batch_id)


def queue_review(session: Session, ctx: TenantContext) -> uuid.UUID:
    """Put the review on the outbox for this chain (the monthly schedule, or the owner's button)."""
    require(ctx, "retention.review")
    return enqueue_job(session, ctx, REVIEW_JOB)


_BATCH_SQL = (
    "SELECT b.*, coalesce(cu.full_name, 'the monthly review') AS creator, coalesce(au.full_name, '') AS approver, "
    "(SELECT count(*) FROM disposal_items i WHERE i.tenant_id = b.tenant_id AND i.batch_id = b.id) AS item_count "
    "FROM disposal_batches b LEFT JOIN users cu ON cu.id = b.created_by LEFT JOIN users au ON au.id = b.approved_by"
)


def _batch_of(row: Any, items: list[DisposalItem] | None = None) -> DisposalBatch:
    return DisposalBatch(
        id=str(row.id),
        status=BatchStatus(row.status),
        as_of=row.as_of,
        created_at=row.created_at,
        created_by=row.creator,
        approved_by=row.approver,
        approved_at=row.approved_at,
        disposed=row.disposed,
        item_count=int(row.item_count),
        items=items or [],
    )


def _batch(session: Session, ctx: TenantContext, batch_id: uuid.UUID) -> DisposalBatch:
    row = session.execute(text(f"{_BATCH_SQL} WHERE b.id = :id"), {"id": batch_id}).first()  # noqa: S608
    if row is None:
        raise NotFound("No such disposal batch.")
    items = session.execute(
        text(
            "SELECT patient_id, due_on, basis, outcome FROM disposal_items WHERE batch_id = :b "
            "ORDER BY due_on, patient_id LIMIT :n"
        ),
        {"b": batch_id, "n": ITEMS_SHOWN},
    ).all()
    shown = [
        DisposalItem(
            str(i.patient_id),
            _name(session, ctx, i.patient_id),
            i.due_on,
            i.basis,
            ItemOutcome(i.outcome) if i.outcome else None,
        )
        for i in items
    ]
    return _batch_of(row, shown)


def waiting_batch(session: Session, ctx: TenantContext) -> DisposalBatch | None:
    """The batch the last review listed, if the owner has not approved it yet."""
    require(ctx, "retention.view")
    found = session.execute(text("SELECT id FROM disposal_batches WHERE status = 'awaiting_approval'")).scalar()
    return _batch(session, ctx, found) if found else None


def disposal_history(session: Session, ctx: TenantContext) -> list[DisposalBatch]:
    """The approved disposals, newest first (without their items)."""
    require(ctx, "retention.view")
    rows = session.execute(
        text(f"{_BATCH_SQL} WHERE b.status = 'disposed' ORDER BY b.approved_at DESC LIMIT 100")  # noqa: S608
    ).all()
    return [_batch_of(r) for r in rows]


@signable("disposal_batch")
def _batch_exists(session: Session, entity_id: str) -> bool:
    try:
        key = uuid.UUID(str(entity_id))
    except ValueError:
        return False
    return session.execute(text("SELECT 1 FROM disposal_batches WHERE id = :id"), {"id": key}).first() is not None


def disposed_digest(patient_ids: list[str]) -> str:
    """sha256 of the disposed patients' ids, sorted and comma-joined: what the audit event records."""
    return hashlib.sha256(",".join(sorted(patient_ids)).encode()).hexdigest()


def patients_text(count: int) -> str:
    """ "1 patient", "3 patients": how many patients a batch names, in words."""
    return f"{count} patient" if count == 1 else f"{count} patients"


def signature_meaning(batch: DisposalBatch) -> str:
    """The words the owner signs (the page shows them before asking for the password)."""
    return (
        f"approve the disposal of the records of {patients_text(batch.item_count)} past their retention periods "
        f"on {batch.as_of.isoformat()}"
    )


def _dispose_items(
    session: Session, ctx: TenantContext, batch_id: uuid.UUID, as_of: date
) -> dict[ItemOutcome, list[str]]:
    """Anonymise each patient of the batch still due on `as_of` and under no hold; record every outcome."""
    held = _held_patients(session)
    still_due = {pid for pid, d in _due_dates(session, ctx, _settings(session)).items() if d.due_on <= as_of}
    outcomes: dict[ItemOutcome, list[str]] = {o: [] for o in ItemOutcome}
    listed = session.execute(text("SELECT patient_id FROM disposal_items WHERE batch_id = :b"), {"b": batch_id})
    for patient in listed.scalars().all():
        pid = str(patient)
        if pid in held:
            outcomes[ItemOutcome.HELD].append(pid)
        elif pid not in still_due:
            outcomes[ItemOutcome.NO_LONGER_DUE].append(pid)
        else:
            outcomes[ItemOutcome.DISPOSED].append(pid)
    if outcomes[ItemOutcome.DISPOSED]:
        anonymise_patients(session, ctx, outcomes[ItemOutcome.DISPOSED])
        anonymise_coverages(session, ctx, outcomes[ItemOutcome.DISPOSED])
        forget_disposed_customers(session, ctx, outcomes[ItemOutcome.DISPOSED])
        forget_disposed_comments(session, ctx, outcomes[ItemOutcome.DISPOSED])
    for outcome, patients in outcomes.items():
        if patients:
            session.execute(
                text(
                    "UPDATE disposal_items SET outcome = :o "
                    "WHERE batch_id = :b AND patient_id = ANY(CAST(:p AS uuid[]))"
                ),
                {"o": outcome.value, "b": batch_id, "p": patients},
            )
    return outcomes


def approve_disposal(session: Session, ctx: TenantContext, batch_id: str, *, signature_id: str) -> DisposalBatch:
    """The owner approves a batch with a fresh electronic signature of it: each patient still due and under no
    hold is anonymised (patients and coverage), the others are kept and say why. Refused under a chain-wide
    hold. The disposal is one audit event; no audit chain row is touched."""
    require(ctx, "retention.dispose")
    key = as_uuid(batch_id, "disposal batch")
    _one_at_a_time(session, ctx)
    status = session.execute(
        text("SELECT status FROM disposal_batches WHERE id = :id FOR UPDATE"), {"id": key}
    ).scalar()
    if status is None:
        raise NotFound("No such disposal batch.")
    if status != BatchStatus.AWAITING_APPROVAL:
        raise Conflict(
            f"This batch is {BatchStatus(status).label.lower()}; only a batch awaiting approval can be approved."
        )
    signature = require_fresh_signature(session, ctx, signature_id, entity_type="disposal_batch", entity_id=key)
    if _chain_hold(session):
        raise LegalHoldActive("The chain is under a legal hold: nothing can be disposed of until it is released.")
    as_of = session.execute(text("SELECT as_of FROM disposal_batches WHERE id = :id"), {"id": key}).scalar_one()
    outcomes = _dispose_items(session, ctx, key, as_of)
    disposed = len(outcomes[ItemOutcome.DISPOSED])
    session.execute(
        text(
            "UPDATE disposal_batches SET status = 'disposed', approved_by = :u, approved_at = :at, "
            "signature_id = :s, disposed = :n WHERE id = :id"
        ),
        {"u": ctx.user_id, "at": signature.signed_at, "s": uuid.UUID(signature.id), "n": disposed, "id": key},
    )
    record_audit(
        session,
        ctx.tenant_id,
        "retention.disposed",
        actor_user_id=ctx.user_id,
        entity_type="disposal_batch",
        entity_id=str(key),
        details={
            "as_of": as_of.isoformat(),
            "signature_id": signature.id,
            "disposed": disposed,
            "kept_held": len(outcomes[ItemOutcome.HELD]),
            "kept_not_due": len(outcomes[ItemOutcome.NO_LONGER_DUE]),
            # the batch's items name the patients; the chain holds their digest, so an edited list shows
            "disposed_ids_sha256": disposed_digest(outcomes[ItemOutcome.DISPOSED]),
        },
    )
    return _batch(session, ctx, key)
