"""Insurance claims: payers, patients' coverage, and one claim per bill for the insurer's portion.

- A payer is an insurer (or benefit manager) the chain bills; a coverage is a patient's membership
  of its plan (member id, plan, group). Both are chain-wide; coverage is ended, never deleted.
- A claim belongs to an issued bill that names the patient, through one of that patient's active
  coverages: `claimed_amount` is the insurer's portion and `copay` the patient's, and they add up to
  the bill's amount due. One claim per bill (a unique key).
- Life of a claim: draft → submitted → approved (the whole claim) / partially_approved (an amount)
  / rejected (a reason) → paid. Anything else is refused with a 409 that says what the claim is and
  what it can do; a refused step writes nothing. Every change appends a `claim_events` row (who,
  when, from, to, amount, note), which the app role cannot update or delete.
- The insurer's payment is also a payment on the bill (`other`, reference `claim:<id>`, through
  `payments.service.record_payment`), so the bill becomes partially paid or paid and lands on the
  branch's financial audit chain like any tender. It may not exceed what the insurer approved nor
  what the bill still owes.
- There is no claims network: staff export claims as CSV (docs/claims-export.md) and record the
  responses one by one or import them from a CSV, which answers a per-row report.

Reading claims needs `billing.view` (and `patients.lookup`, since a claim names the patient); every
change needs `claims.manage`. Bills are branch-scoped: a claim on a bill of a branch the member
cannot see does not exist (404).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.claims.adjudication import ClaimRequest, adjudicator
from backend.billing.payments.service import record_payment
from backend.billing.statuses import BillStatus, ClaimStatus
from backend.core import validation as check
from backend.core.errors import Conflict, NotFound, PharmacyError, ValidationFailed
from backend.core.money import minor_unit, round_to_currency
from backend.core.spreadsheet import safe_cell
from backend.inventory.csv_import import Problem
from backend.patients.service import identities, identity_of
from backend.protection.keys import chain_keys, reseal_rows
from tenants.context import TenantContext
from tenants.roles import require
from tenants.session import tenant_session

ZERO = Decimal(0)
PAGE_SIZE = 50
MAX_RANGE_DAYS = 366
MAX_EXPORT = 1000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
MIN_REJECTION_REASON, MAX_REJECTION_REASON = 3, 300  # stated beside the field before it is checked
# action -> (the statuses it starts from, the rule a refusal states)
TRANSITIONS: dict[str, tuple[tuple[ClaimStatus, ...], str]] = {
    "submit": ((ClaimStatus.DRAFT,), "only a draft claim can be submitted"),
    "decide": ((ClaimStatus.SUBMITTED,), "only a submitted claim can be decided"),
    "pay": (
        (ClaimStatus.APPROVED, ClaimStatus.PARTIALLY_APPROVED),
        "only an approved or partially approved claim can be paid",
    ),
}
EXPORT_COLUMNS = (
    "claim_id",
    "bill_number",
    "bill_date",
    "patient_name",
    "date_of_birth",
    "payer_code",
    "payer_name",
    "member_id",
    "plan",
    "group_number",
    "currency",
    "bill_total",
    "copay",
    "claimed_amount",
    "status",
)
IMPORT_COLUMNS = ("claim_id", "bill_number", "decision", "approved_amount", "reason", "paid_amount")

# A claim is a bill's or a fill's; its branch is theirs. Claims of the member's branches only: bound
# with `_scope(ctx)`.
_CLAIMED = (
    "claims c LEFT JOIN bills b ON b.tenant_id = c.tenant_id AND b.id = c.bill_id "
    "LEFT JOIN prescription_fills f ON f.tenant_id = c.tenant_id AND f.id = c.fill_id "
)
_IN_SCOPE = "(CAST(:all_branches AS boolean) OR coalesce(b.branch_id, f.branch_id) = ANY(CAST(:scope AS uuid[])))"
_CLAIM_SQL = (
    "SELECT c.*, coalesce(b.number, f.code) AS bill_number, coalesce(b.branch_id, f.branch_id) AS branch_id, "  # noqa: S608
    "coalesce(b.currency, t.currency) AS currency, coalesce(b.total_due, c.claimed_amount + c.copay) AS total_due, "
    "coalesce(b.finalized_at, f.filled_at) AS finalized_at, f.code AS fill_code, "
    "cv.member_id_enc, cv.plan, cv.group_number_enc, "
    "py.id AS payer_id, py.name AS payer_name, py.payer_code "
    f"FROM {_CLAIMED}JOIN tenants t ON t.id = c.tenant_id "
    "JOIN patient_coverages cv ON cv.tenant_id = c.tenant_id AND cv.id = c.coverage_id "
    "JOIN payers py ON py.tenant_id = c.tenant_id AND py.id = cv.payer_id "
    f"WHERE {_IN_SCOPE}"
)


class ClaimTransitionRefused(Conflict):
    """The claim's status does not allow this step."""

    code = "claim_transition"


@dataclass(frozen=True)
class Payer:
    id: str
    name: str
    payer_code: str
    contact: str


@dataclass(frozen=True)
class Coverage:
    id: str
    patient_id: str
    payer_id: str
    payer_name: str
    member_id: str
    plan: str
    group_number: str
    active: bool
    copay: Decimal = ZERO  # the patient's copay per fill under this coverage


@dataclass(frozen=True)
class ClaimEvent:
    from_status: ClaimStatus | None
    to_status: ClaimStatus
    amount: Decimal | None
    note: str
    actor_user_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class Claim:
    """A bill's claim, or a fill's (then `bill_id` is "" and `bill_number` is the fill's code)."""

    id: str
    bill_id: str
    bill_number: str
    branch_id: str
    currency: str
    patient_id: str
    patient_name: str
    coverage_id: str
    payer_id: str
    payer_name: str
    member_id: str
    bill_total: Decimal
    claimed_amount: Decimal
    copay: Decimal
    status: ClaimStatus
    approved_amount: Decimal | None
    paid_amount: Decimal | None
    rejection_reason: str
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    paid_at: datetime | None
    events: list[ClaimEvent] = field(default_factory=list)
    fill_id: str = ""
    reversed_at: datetime | None = None
    reversal_reason: str = ""

    @property
    def patient_pays(self) -> Decimal:
        """What is left for the patient: the copay when the payer granted its part, else the whole price."""
        granted = self.approved_amount if self.status in ClaimStatus.granted() and self.approved_amount else ZERO
        return self.bill_total - granted


@dataclass(frozen=True)
class ClaimPage:
    items: list[Claim]
    page: int
    has_more: bool


@dataclass(frozen=True)
class PayerReconciliation:
    """One payer's claims submitted in the period: what was asked, granted and received."""

    payer_id: str
    payer_name: str
    payer_code: str
    claims: int
    claimed: Decimal
    awaiting_decision: Decimal  # claimed on claims not decided yet
    approved: Decimal  # expected: what the payer granted
    rejected: int
    received: Decimal
    outstanding: Decimal  # approved minus received


@dataclass(frozen=True)
class Reconciliation:
    start: date
    end: date
    currency: str  # every amount is in its minor unit (claims are made and paid in it)
    payers: list[PayerReconciliation]
    total: PayerReconciliation


@dataclass(frozen=True)
class ImportReport:
    rows: int
    applied: int
    problems: list[Problem]


# --- small readers ------------------------------------------------------------------------------


def _single_line(value: object, field_name: str, limit: int, *, required: bool = False) -> str:
    cleaned = " ".join(str(value or "").split())
    if required and not cleaned:
        raise ValidationFailed("This is required.", field=field_name)
    if len(cleaned) > limit:
        raise ValidationFailed(f"At most {limit} characters here.", field=field_name)
    return cleaned


def _key(value: object, what: str) -> uuid.UUID:
    return check.as_uuid(str(value), what)


def _scope(ctx: TenantContext) -> dict[str, Any]:
    return {"all_branches": not ctx.branch_ids, "scope": sorted(ctx.branch_ids)}


def _money_in(value: object, field_name: str, currency: str) -> Decimal:
    """A positive amount of money in the currency's minor unit."""
    amount = check.money(str(value), field_name)
    if amount <= 0:
        raise ValidationFailed("The amount must be more than zero.", field=field_name)
    if amount != round_to_currency(amount, currency):
        raise ValidationFailed(
            f"Amounts in {currency} are counted in steps of {minor_unit(currency)}.", field=field_name
        )
    return amount


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start:
        raise ValidationFailed("The end date is before the start date.", field="end")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(f"A period covers at most {MAX_RANGE_DAYS} days.", field="end")
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


# --- payers and coverage ------------------------------------------------------------------------


def create_payer(session: Session, ctx: TenantContext, *, name: str, payer_code: str, contact: str = "") -> Payer:
    """Add an insurer the chain bills; its code is unique in the chain (case-insensitive)."""
    require(ctx, "claims.manage")
    payer = Payer(
        str(uuid.uuid4()),
        _single_line(name, "name", 120, required=True),
        _single_line(payer_code, "payer_code", 40, required=True),
        _single_line(contact, "contact", 300),
    )
    taken = session.execute(
        text("SELECT 1 FROM payers WHERE lower(payer_code) = lower(:c)"), {"c": payer.payer_code}
    ).first()
    if taken:
        raise Conflict(f"A payer with code {payer.payer_code} already exists.")
    session.execute(
        text("INSERT INTO payers (tenant_id, id, name, payer_code, contact) VALUES (:t, :id, :n, :c, :ct)"),
        {"t": ctx.tenant_id, "id": payer.id, "n": payer.name, "c": payer.payer_code, "ct": payer.contact},
    )
    return payer


def list_payers(ctx: TenantContext) -> list[Payer]:
    """The chain's payers by name."""
    require(ctx, "billing.view")
    with tenant_session(ctx) as session:
        rows = session.execute(text("SELECT id, name, payer_code, contact FROM payers ORDER BY lower(name), id"))
        return [Payer(str(r.id), r.name, r.payer_code, r.contact) for r in rows]


def add_coverage(
    session: Session,
    ctx: TenantContext,
    *,
    patient_id: str,
    payer_id: str,
    member_id: str,
    plan: str = "",
    group_number: str = "",
    copay: str = "0",
) -> Coverage:
    """Record a patient's membership of a payer's plan, with the copay the patient pays per fill."""
    require(ctx, "claims.manage")
    patient, payer = _key(patient_id, "patient"), _key(payer_id, "payer")
    if session.execute(text("SELECT 1 FROM patients WHERE id = :p"), {"p": patient}).first() is None:
        raise NotFound("No such patient.")
    payer_name = session.execute(text("SELECT name FROM payers WHERE id = :p"), {"p": payer}).scalar()
    if payer_name is None:
        raise NotFound("No such payer.")
    coverage = Coverage(
        str(uuid.uuid4()),
        str(patient),
        str(payer),
        payer_name,
        _single_line(member_id, "member_id", 60, required=True),
        _single_line(plan, "plan", 120),
        _single_line(group_number, "group_number", 60),
        True,
        _copay(copay),
    )
    session.execute(
        text(
            "INSERT INTO patient_coverages (tenant_id, id, patient_id, payer_id, member_id_enc, plan, "
            "group_number_enc, copay) VALUES (:t, :id, :p, :py, :m, :pl, :g, :copay)"
        ),
        {
            "t": ctx.tenant_id,
            "id": coverage.id,
            "p": patient,
            "py": payer,
            "pl": coverage.plan,
            "copay": coverage.copay,
            **_sealed_ids(session, ctx.tenant_id, coverage.id, coverage.member_id, coverage.group_number),
        },
    )
    return coverage


# Member and group ids are identifiers: sealed with the chain's data key (issue 16), bound to their row.
def _sealed_ids(
    session: Session, tenant_id: object, coverage_id: object, member_id: str, group: str
) -> dict[str, bytes]:
    keys = chain_keys(session, tenant_id)
    return {
        "m": keys.seal("patient_coverages", "member_id_enc", coverage_id, member_id),
        "g": keys.seal("patient_coverages", "group_number_enc", coverage_id, group),
    }


def _opened_ids(session: Session, tenant_id: object, row: Any, id_column: str = "coverage_id") -> tuple[str, str]:
    """(member id, group number) of a row holding a coverage's sealed columns."""
    keys, coverage_id = chain_keys(session, tenant_id), getattr(row, id_column)
    return (
        keys.open("patient_coverages", "member_id_enc", coverage_id, row.member_id_enc),
        keys.open("patient_coverages", "group_number_enc", coverage_id, row.group_number_enc),
    )


def reseal_coverages(session: Session, ctx: TenantContext, after: Any, limit: int) -> tuple[Any, int]:
    """One batch of a key rotation's re-encryption of the coverages' member and group ids."""
    require(ctx, "keys.rotate")
    keys = chain_keys(session, ctx.tenant_id)
    return reseal_rows(session, keys, "patient_coverages", ("member_id_enc", "group_number_enc"), after, limit)


def _copay(value: object) -> Decimal:
    amount = check.money(str(value if value not in (None, "") else "0"), "copay")  # refuses a negative amount
    if amount >= 1_000_000:
        raise ValidationFailed("That copay is too large.", field="copay")
    return amount


def set_coverage_copay(session: Session, ctx: TenantContext, coverage_id: str, copay: str) -> None:
    """Change the copay per fill of a coverage; claims already made keep the copay they were adjudicated with."""
    require(ctx, "claims.manage")
    amount = _copay(copay)
    found = session.execute(
        text("UPDATE patient_coverages SET copay = :c WHERE id = :id RETURNING id"),
        {"c": amount, "id": _key(coverage_id, "coverage")},
    ).first()
    if found is None:
        raise NotFound("No such coverage.")


def coverages_of_patient(ctx: TenantContext, patient_id: str) -> list[Coverage]:
    """A patient's coverages, active first."""
    require(ctx, "billing.view")
    require(ctx, "patients.lookup")
    with tenant_session(ctx) as session:
        return _coverages(session, _key(patient_id, "patient"))


def _coverages(session: Session, patient_key: uuid.UUID) -> list[Coverage]:
    rows = session.execute(
        text(
            "SELECT cv.*, py.name AS payer_name FROM patient_coverages cv "
            "JOIN payers py ON py.tenant_id = cv.tenant_id AND py.id = cv.payer_id "
            "WHERE cv.patient_id = :p ORDER BY cv.active DESC, cv.created_at"
        ),
        {"p": patient_key},
    )
    coverages = []
    for r in rows:
        member_id, group_number = _opened_ids(session, r.tenant_id, r, "id")
        coverages.append(
            Coverage(
                str(r.id),
                str(r.patient_id),
                str(r.payer_id),
                r.payer_name,
                member_id,
                r.plan,
                group_number,
                r.active,
                r.copay,
            )
        )
    return coverages


def set_coverage_active(session: Session, ctx: TenantContext, coverage_id: str, *, active: bool) -> None:
    """End (or restore) a coverage: claims already made keep pointing at it."""
    require(ctx, "claims.manage")
    found = session.execute(
        text("UPDATE patient_coverages SET active = :a WHERE id = :id RETURNING id"),
        {"a": active, "id": _key(coverage_id, "coverage")},
    ).first()
    if found is None:
        raise NotFound("No such coverage.")


# --- loading claims ------------------------------------------------------------------------------


def _claims_of(session: Session, ctx: TenantContext, rows: Sequence[Any]) -> list[Claim]:
    """Claims from `_CLAIM_SQL` rows (no history): the patients' names from the patients domain."""
    people = identities(session, ctx, [r.patient_id for r in rows])
    return [_claim_of(session, ctx, r, [], people[r.patient_id].full_name) for r in rows]


def _claim_of(session: Session, ctx: TenantContext, row: Any, events: list[ClaimEvent], patient_name: str) -> Claim:
    cash = minor_unit(row.currency)
    member_id, _ = _opened_ids(session, ctx.tenant_id, row)

    def money(value: Decimal | None) -> Decimal | None:
        return None if value is None else value.quantize(cash)

    return Claim(
        id=str(row.id),
        bill_id=str(row.bill_id) if row.bill_id else "",
        bill_number=row.bill_number or "",
        branch_id=str(row.branch_id),
        currency=row.currency,
        patient_id=str(row.patient_id),
        patient_name=patient_name,
        coverage_id=str(row.coverage_id),
        payer_id=str(row.payer_id),
        payer_name=row.payer_name,
        member_id=member_id,
        bill_total=row.total_due.quantize(cash),
        claimed_amount=row.claimed_amount.quantize(cash),
        copay=row.copay.quantize(cash),
        status=ClaimStatus(row.status),
        approved_amount=money(row.approved_amount),
        paid_amount=money(row.paid_amount),
        rejection_reason=row.rejection_reason,
        created_at=row.created_at,
        submitted_at=row.submitted_at,
        decided_at=row.decided_at,
        paid_at=row.paid_at,
        events=events,
        fill_id=str(row.fill_id) if row.fill_id else "",
        reversed_at=row.reversed_at,
        reversal_reason=row.reversal_reason,
    )


def _events(session: Session, claim_id: uuid.UUID) -> list[ClaimEvent]:
    rows = session.execute(
        text("SELECT * FROM claim_events WHERE claim_id = :c ORDER BY created_at, id"), {"c": claim_id}
    )
    return [
        ClaimEvent(
            ClaimStatus(r.from_status) if r.from_status else None,
            ClaimStatus(r.to_status),
            r.amount,
            r.note,
            str(r.actor_user_id) if r.actor_user_id else None,
            r.created_at,
        )
        for r in rows
    ]


def _load_claim(session: Session, ctx: TenantContext, claim_id: object) -> Claim:
    key = _key(claim_id, "claim")
    row = session.execute(text(f"{_CLAIM_SQL} AND c.id = :c"), {"c": key, **_scope(ctx)}).first()
    if row is None:
        raise NotFound("No such claim.")
    patient_name = identity_of(session, ctx, row.patient_id).full_name
    return _claim_of(session, ctx, row, _events(session, key), patient_name)


def _locked(session: Session, ctx: TenantContext, claim_id: object, action: str) -> Any:
    """The claim row locked to commit, in the member's scope, if its status allows `action`."""
    key = _key(claim_id, "claim")
    row = session.execute(text(f"{_CLAIM_SQL} AND c.id = :c FOR UPDATE OF c"), {"c": key, **_scope(ctx)}).first()
    if row is None:
        raise NotFound("No such claim.")
    allowed, rule = TRANSITIONS[action]
    if row.status not in allowed:
        raise ClaimTransitionRefused(f"The claim for bill {row.bill_number} is {row.status.replace('_', ' ')}: {rule}.")
    return row


def _record_event(
    session: Session,
    ctx: TenantContext,
    claim_id: uuid.UUID,
    was: str | None,
    now: ClaimStatus,
    *,
    amount: Decimal | None = None,
    note: str = "",
) -> None:
    session.execute(
        text(
            "INSERT INTO claim_events (tenant_id, id, claim_id, from_status, to_status, amount, note, actor_user_id) "
            "VALUES (:t, :id, :c, :f, :to, :a, :n, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "id": uuid.uuid4(),
            "c": claim_id,
            "f": was,
            "to": now,
            "a": amount,
            "n": note,
            "u": ctx.user_id,
        },
    )


# --- the lifecycle --------------------------------------------------------------------------------


def _claimable_bill(session: Session, ctx: TenantContext, bill_id: object) -> Any:
    key = _key(bill_id, "bill")
    bill = session.execute(
        text(
            "SELECT id, branch_id, number, status, currency, total_due, amount_paid, patient_id "
            "FROM bills WHERE id = :b FOR UPDATE"
        ),
        {"b": key},
    ).first()
    if bill is None or not ctx.can_see_branch(bill.branch_id):
        raise NotFound("No such bill.")
    if bill.status not in BillStatus.issued():
        raise Conflict(f"This bill is {bill.status}: only an issued bill is claimed.")
    if bill.patient_id is None:
        raise ValidationFailed("Link the bill to its patient before claiming.", field="bill_id")
    if session.execute(text("SELECT 1 FROM claims WHERE bill_id = :b"), {"b": key}).first():
        raise Conflict(f"Bill {bill.number} already has a claim: one claim per bill.")
    return bill


def draft_claim(session: Session, ctx: TenantContext, bill_id: str, coverage_id: str, claimed_amount: str) -> Claim:
    """A draft claim for the insurer's portion of an issued bill, through one of its patient's coverages.

    The copay is the rest of the amount due (claimed + copay = total due). The claimed amount may
    not exceed what the bill still owes, so the insurer's payment can be applied to it.
    """
    require(ctx, "claims.manage")
    bill = _claimable_bill(session, ctx, bill_id)
    coverage = session.execute(
        text("SELECT id, patient_id, active FROM patient_coverages WHERE id = :c"),
        {"c": _key(coverage_id, "coverage")},
    ).first()
    if coverage is None or coverage.patient_id != bill.patient_id:
        raise NotFound("No such coverage for the bill's patient.")
    if not coverage.active:
        raise ValidationFailed("This coverage has ended.", field="coverage_id")
    claimed = _money_in(claimed_amount, "claimed_amount", bill.currency)
    owed = bill.total_due - bill.amount_paid
    if claimed > owed:
        raise ValidationFailed(
            f"The claim cannot be more than the {owed.quantize(minor_unit(bill.currency))} still owed on the bill.",
            field="claimed_amount",
        )
    claim_id = uuid.uuid4()
    session.execute(
        text(
            "INSERT INTO claims (tenant_id, id, bill_id, patient_id, coverage_id, claimed_amount, copay, created_by) "
            "VALUES (:t, :id, :b, :p, :c, :amount, :copay, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "id": claim_id,
            "b": bill.id,
            "p": bill.patient_id,
            "c": coverage.id,
            "amount": claimed,
            "copay": bill.total_due - claimed,
            "u": ctx.user_id,
        },
    )
    _record_event(session, ctx, claim_id, None, ClaimStatus.DRAFT, amount=claimed)
    return _load_claim(session, ctx, claim_id)


def submit_claim(session: Session, ctx: TenantContext, claim_id: str) -> Claim:
    """Mark a draft claim as sent to the payer (by the export, or the payer's portal)."""
    require(ctx, "claims.manage")
    row = _locked(session, ctx, claim_id, "submit")
    session.execute(
        text("UPDATE claims SET status = :s, submitted_at = now(), updated_at = now() WHERE id = :c"),
        {"s": ClaimStatus.SUBMITTED, "c": row.id},
    )
    _record_event(session, ctx, row.id, row.status, ClaimStatus.SUBMITTED)
    return _load_claim(session, ctx, row.id)


def _decided_amount(row: Any, decision: str, approved_amount: str, reason: str) -> tuple[Decimal, str]:
    """What the payer granted and why it refused, as the decision requires."""
    if decision == ClaimStatus.APPROVED:
        return row.claimed_amount, ""
    if decision == ClaimStatus.REJECTED:
        why = _single_line(reason, "reason", MAX_REJECTION_REASON)
        if len(why) < MIN_REJECTION_REASON:
            raise ValidationFailed(
                f"Give the payer's reason for the rejection ({MIN_REJECTION_REASON} to {MAX_REJECTION_REASON} "
                "characters).",
                field="reason",
            )
        return ZERO, why
    amount = _money_in(approved_amount, "approved_amount", row.currency)
    if amount >= row.claimed_amount:
        raise ValidationFailed(
            f"A partial approval is less than the {row.claimed_amount.quantize(minor_unit(row.currency))} claimed.",
            field="approved_amount",
        )
    return amount, ""


def record_decision(
    session: Session, ctx: TenantContext, claim_id: str, decision: str, *, approved_amount: str = "", reason: str = ""
) -> Claim:
    """Approved (the whole claimed amount), partially_approved (with the amount) or rejected (with the reason)."""
    require(ctx, "claims.manage")
    if decision not in ClaimStatus.decisions():
        raise ValidationFailed("The decision is approved, partially_approved or rejected.", field="decision")
    row = _locked(session, ctx, claim_id, "decide")
    amount, why = _decided_amount(row, decision, approved_amount, reason)
    session.execute(
        text(
            "UPDATE claims SET status = :s, approved_amount = :a, rejection_reason = :r, decided_at = now(), "
            "updated_at = now() WHERE id = :c"
        ),
        {"s": decision, "a": amount, "r": why, "c": row.id},
    )
    _record_event(session, ctx, row.id, row.status, ClaimStatus(decision), amount=amount, note=why)
    return _load_claim(session, ctx, row.id)


def record_claim_payment(session: Session, ctx: TenantContext, claim_id: str, paid_amount: str) -> Claim:
    """The payer paid (up to what it approved): the claim is paid and the bill takes an `other`
    payment with reference `claim:<id>`, so it becomes partially paid or paid."""
    require(ctx, "claims.manage")
    row = _locked(session, ctx, claim_id, "pay")
    amount = _money_in(paid_amount, "paid_amount", row.currency)
    if amount > row.approved_amount:
        raise ValidationFailed(
            f"The payer approved {row.approved_amount.quantize(minor_unit(row.currency))}: it cannot pay more.",
            field="paid_amount",
        )
    if row.bill_id is not None:  # a fill's claim: the patient's bill took only the copay, nothing to apply
        try:
            record_payment(
                session,
                ctx,
                bill_id=str(row.bill_id),
                tendered=str(amount),
                method="other",
                reference=f"claim:{row.id}",
            )
        except ValidationFailed as exc:  # the bill's own limit (what it still owes) speaks of this field
            raise ValidationFailed(exc.message, field="paid_amount") from None
    session.execute(
        text("UPDATE claims SET status = :s, paid_amount = :a, paid_at = now(), updated_at = now() WHERE id = :c"),
        {"s": ClaimStatus.PAID, "a": amount, "c": row.id},
    )
    _record_event(session, ctx, row.id, row.status, ClaimStatus.PAID, amount=amount)
    return _load_claim(session, ctx, row.id)


# --- reading ------------------------------------------------------------------------------------


def get_claim(session: Session, ctx: TenantContext, claim_id: str) -> Claim:
    """A claim with its history."""
    require(ctx, "billing.view")
    require(ctx, "patients.lookup")  # a claim names the patient
    return _load_claim(session, ctx, claim_id)


def claim_of_bill(session: Session, ctx: TenantContext, bill_id: str) -> Claim | None:
    """The bill's claim with its history, or None if it has none (one claim per bill)."""
    require(ctx, "billing.view")
    require(ctx, "patients.lookup")
    claim_id = session.execute(text("SELECT id FROM claims WHERE bill_id = :b"), {"b": _key(bill_id, "bill")}).scalar()
    return None if claim_id is None else _load_claim(session, ctx, claim_id)


# --- a fill's claim -------------------------------------------------------------------------------


def claim_fill(session: Session, ctx: TenantContext, *, fill_id: str, patient_id: str, price: Decimal) -> Claim | None:
    """Claim a fill from the patient's active coverage as it is made, and adjudicate it at once.

    Called by the prescriptions domain inside the fill's transaction (the technician who fills does not
    manage claims: the claim follows from the fill). None when the patient has no active coverage, or
    the coverage's copay covers the whole price (nothing to claim). The payer's answer (approved by
    default, see adjudication.py) is recorded as the claim's history: drafted, submitted, decided.
    """
    require(ctx, "prescriptions.fill")
    coverage = session.execute(
        text(
            "SELECT cv.id, cv.member_id_enc, cv.plan, cv.group_number_enc, cv.copay, py.payer_code, t.currency, "
            "f.code, f.quantity FROM patient_coverages cv "
            "JOIN payers py ON py.tenant_id = cv.tenant_id AND py.id = cv.payer_id "
            "JOIN tenants t ON t.id = cv.tenant_id "
            "JOIN prescription_fills f ON f.tenant_id = cv.tenant_id AND f.id = :f "
            "WHERE cv.patient_id = :p AND cv.active ORDER BY cv.created_at, cv.id LIMIT 1"
        ),
        {"p": _key(patient_id, "patient"), "f": _key(fill_id, "fill")},
    ).first()
    if coverage is None:
        return None
    price = round_to_currency(price, coverage.currency)
    copay = min(coverage.copay, price)
    if price - copay <= 0:
        return None
    member_id, group_number = _opened_ids(session, ctx.tenant_id, coverage, "id")
    request = ClaimRequest(
        coverage.payer_code,
        member_id,
        coverage.plan,
        group_number,
        coverage.code,
        coverage.quantity,
        price,
        coverage.copay,
        coverage.currency,
    )
    answer = adjudicator().adjudicate(request)
    claim_id = uuid.uuid4()
    session.execute(
        text(
            "INSERT INTO claims (tenant_id, id, fill_id, patient_id, coverage_id, claimed_amount, copay, status, "
            "approved_amount, rejection_reason, submitted_at, decided_at, created_by) VALUES (:t, :id, :f, :p, :c, "
            ":amount, :copay, :s, :approved, :why, now(), now(), :u)"
        ),
        {
            "t": ctx.tenant_id,
            "id": claim_id,
            "f": _key(fill_id, "fill"),
            "p": _key(patient_id, "patient"),
            "c": coverage.id,
            "amount": price - copay,
            "copay": copay,
            "s": answer.decision,
            "approved": min(answer.approved_amount, price - copay),
            "why": answer.reason[:MAX_REJECTION_REASON],
            "u": ctx.user_id,
        },
    )
    _record_event(session, ctx, claim_id, None, ClaimStatus.DRAFT, amount=price - copay, note=f"fill {coverage.code}")
    _record_event(session, ctx, claim_id, ClaimStatus.DRAFT, ClaimStatus.SUBMITTED, note="adjudicated at fill")
    _record_event(
        session,
        ctx,
        claim_id,
        ClaimStatus.SUBMITTED,
        answer.decision,
        amount=answer.approved_amount,
        note=answer.reason,
    )
    return _load_claim(session, ctx, claim_id)


def claim_of_fill(session: Session, ctx: TenantContext, fill_id: str) -> Claim | None:
    """The fill's claim with its history, or None if the fill was not claimed."""
    require(ctx, "billing.view")
    claim_id = session.execute(text("SELECT id FROM claims WHERE fill_id = :f"), {"f": _key(fill_id, "fill")}).scalar()
    return None if claim_id is None else _load_claim(session, ctx, claim_id)


def reverse_claim_of_fill(session: Session, ctx: TenantContext, fill_id: str, reason: str) -> Claim | None:
    """Take back the claim of a fill that went back to stock (the patient never collected it).

    None when the fill has no claim. A claim the payer has already paid is refused (the payer is
    refunded first); a reversed claim stays reversed (asking twice changes nothing).
    """
    require(ctx, "prescriptions.fill")
    why = _single_line(reason, "reason", MAX_REJECTION_REASON, required=True)
    key = _key(fill_id, "fill")
    row = session.execute(text(f"{_CLAIM_SQL} AND c.fill_id = :f FOR UPDATE OF c"), {"f": key, **_scope(ctx)}).first()
    if row is None:
        return None
    if row.status == ClaimStatus.REVERSED:
        return _load_claim(session, ctx, row.id)
    if row.status not in ClaimStatus.reversible():
        raise ClaimTransitionRefused(
            f"The claim for fill {row.fill_code} is {row.status.replace('_', ' ')}: the payer has paid it, "
            "so it cannot be reversed here."
        )
    session.execute(
        text(
            "UPDATE claims SET status = :s, reversed_at = now(), reversal_reason = :r, updated_at = now() WHERE id = :c"
        ),
        {"s": ClaimStatus.REVERSED, "r": why, "c": row.id},
    )
    _record_event(session, ctx, row.id, row.status, ClaimStatus.REVERSED, note=why)
    return _load_claim(session, ctx, row.id)


def list_claims(
    session: Session,
    ctx: TenantContext,
    *,
    status: str | None = None,
    payer_id: str | None = None,
    start: date | None = None,
    end: date | None = None,
    page: int = 0,
) -> ClaimPage:
    """Claims newest first, filtered by status, payer and the (UTC) day they were drafted."""
    require(ctx, "billing.view")
    require(ctx, "patients.lookup")
    conditions, params = _filters(status, payer_id, start, end)
    page = max(page, 0)
    sql = f"{_CLAIM_SQL}{conditions} ORDER BY c.created_at DESC, c.id LIMIT :limit OFFSET :offset"
    rows = session.execute(
        text(sql), {**params, **_scope(ctx), "limit": PAGE_SIZE + 1, "offset": page * PAGE_SIZE}
    ).all()
    return ClaimPage(_claims_of(session, ctx, rows[:PAGE_SIZE]), page, len(rows) > PAGE_SIZE)


def claim_counts(session: Session, ctx: TenantContext) -> dict[str, int]:
    """How many claims of the member's branches are in each status (every status listed, 0 or more)."""
    require(ctx, "billing.view")
    require(ctx, "patients.lookup")
    sql = (
        f"SELECT c.status, count(*) AS n FROM {_CLAIMED}"  # noqa: S608 - fixed constants
        f"WHERE {_IN_SCOPE} GROUP BY c.status"
    )
    found = {r.status: int(r.n) for r in session.execute(text(sql), _scope(ctx))}
    return {status: found.get(status, 0) for status in ClaimStatus}


def _filters(
    status: str | None, payer_id: str | None, start: date | None, end: date | None
) -> tuple[str, dict[str, Any]]:
    conditions, params = "", dict[str, Any]()
    if status:
        if status not in list(ClaimStatus):
            raise ValidationFailed(f"The status is one of {', '.join(ClaimStatus)}.", field="status")
        conditions += " AND c.status = :status"
        params["status"] = status
    if payer_id:
        conditions += " AND py.id = :payer"
        params["payer"] = _key(payer_id, "payer")
    if start and end and end < start:
        raise ValidationFailed("The end date is before the start date.", field="end")
    if start:
        conditions += " AND c.created_at >= :since"
        params["since"] = datetime.combine(start, time(), UTC)
    if end:
        conditions += " AND c.created_at < :until"
        params["until"] = datetime.combine(end + timedelta(days=1), time(), UTC)
    return conditions, params


def reconciliation(session: Session, ctx: TenantContext, start: date, end: date) -> Reconciliation:
    """Per payer, the claims submitted from `start` to `end` (UTC days, both included): claimed,
    awaiting a decision, approved (expected), received and outstanding (approved − received)."""
    require(ctx, "billing.view")
    since, until = _utc_bounds(start, end)
    rows = session.execute(
        text(
            "SELECT py.id, py.name, py.payer_code, count(*) AS claims, sum(c.claimed_amount) AS claimed, "  # noqa: S608
            "coalesce(sum(c.claimed_amount) FILTER (WHERE c.status = :submitted), 0) AS awaiting, "
            "coalesce(sum(c.approved_amount), 0) AS approved, "
            "count(*) FILTER (WHERE c.status = :rejected) AS rejected, "
            "coalesce(sum(c.paid_amount), 0) AS received "
            f"FROM {_CLAIMED}"
            "JOIN patient_coverages cv ON cv.tenant_id = c.tenant_id AND cv.id = c.coverage_id "
            "JOIN payers py ON py.tenant_id = c.tenant_id AND py.id = cv.payer_id "
            f"WHERE {_IN_SCOPE} AND c.submitted_at >= :since AND c.submitted_at < :until "
            "GROUP BY py.id, py.name, py.payer_code ORDER BY lower(py.name), py.id"
        ),
        {
            "since": since,
            "until": until,
            "submitted": ClaimStatus.SUBMITTED,
            "rejected": ClaimStatus.REJECTED,
            **_scope(ctx),
        },
    ).all()
    currency = session.execute(text("SELECT currency FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}).scalar_one()
    cash = minor_unit(currency)
    payers = [
        PayerReconciliation(
            str(r.id),
            r.name,
            r.payer_code,
            r.claims,
            r.claimed.quantize(cash),
            r.awaiting.quantize(cash),
            r.approved.quantize(cash),
            r.rejected,
            r.received.quantize(cash),
            (r.approved - r.received).quantize(cash),
        )
        for r in rows
    ]
    return Reconciliation(start, end, currency, payers, _total(payers))


def _total(payers: Sequence[PayerReconciliation]) -> PayerReconciliation:
    def add(name: str) -> Any:
        return sum((getattr(p, name) for p in payers), ZERO)

    return PayerReconciliation(
        "",
        "All payers",
        "",
        int(add("claims")),
        add("claimed"),
        add("awaiting_decision"),
        add("approved"),
        int(add("rejected")),
        add("received"),
        add("outstanding"),
    )


# --- the export and the responses ---------------------------------------------------------------


def export_claims_csv(session: Session, ctx: TenantContext, claim_ids: Sequence[str]) -> str:
    """The claims as a CSV for the payer, one row per claim in EXPORT_COLUMNS (docs/claims-export.md)."""
    require(ctx, "claims.manage")  # names, dates of birth and member ids: for the people who claim
    if not claim_ids:
        raise ValidationFailed("Choose the claims to export.", field="claim_ids")
    if len(claim_ids) > MAX_EXPORT:
        raise ValidationFailed(f"At most {MAX_EXPORT} claims per file.", field="claim_ids")
    keys = sorted({_key(c, "claim") for c in claim_ids})
    rows = session.execute(
        text(f"{_CLAIM_SQL} AND c.id = ANY(:ids) ORDER BY b.number, c.id"), {"ids": keys, **_scope(ctx)}
    ).all()
    if len(rows) != len(keys):
        raise NotFound("No such claim.")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    people = identities(session, ctx, [r.patient_id for r in rows])
    for r, claim in zip(rows, _claims_of(session, ctx, rows), strict=True):
        writer.writerow(
            safe_cell(v)
            for v in (
                claim.id,
                claim.bill_number,
                r.finalized_at.date().isoformat() if r.finalized_at else "",
                claim.patient_name,
                people[r.patient_id].date_of_birth.isoformat(),
                r.payer_code,
                claim.payer_name,
                claim.member_id,
                r.plan,
                _opened_ids(session, ctx.tenant_id, r)[1],
                claim.currency,
                claim.bill_total,
                claim.copay,
                claim.claimed_amount,
                claim.status,
            )
        )
    return out.getvalue()


def _csv_rows(content: str | bytes) -> tuple[list[str], list[list[str]]]:
    raw = content.encode() if isinstance(content, str) else content
    if len(raw) > MAX_IMPORT_BYTES:
        raise ValidationFailed("The file is larger than 2 MB; split it in parts.", field="file")
    try:
        decoded = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("Save the file as 'CSV UTF-8' and upload it again.", field="file") from None
    try:
        table = list(csv.reader(io.StringIO(decoded, newline="")))
    except csv.Error as exc:
        raise ValidationFailed(f"The file is not valid CSV: {exc}.", field="file") from None
    if not table:
        raise ValidationFailed("The file is empty.", field="file")
    if len(table) > MAX_IMPORT_ROWS + 1:
        raise ValidationFailed(f"Files are limited to {MAX_IMPORT_ROWS:,} rows; split it in parts.", field="file")
    header = [h.strip().lower().replace(" ", "_") for h in table[0]]
    if not {"claim_id", "bill_number"} & set(header) or not {"decision", "paid_amount"} & set(header):
        raise ValidationFailed(
            "The file needs claim_id or bill_number, and decision or paid_amount. "
            f"Columns this import reads: {', '.join(IMPORT_COLUMNS)}.",
            field="file",
        )
    unknown = [h for h in header if h and h not in IMPORT_COLUMNS and h not in EXPORT_COLUMNS]
    if unknown:
        raise ValidationFailed(
            f"Unknown columns {', '.join(unknown)}. Columns this import reads: {', '.join(IMPORT_COLUMNS)}.",
            field="file",
        )
    return header, table[1:]


def import_responses_csv(session: Session, ctx: TenantContext, content: str | bytes) -> ImportReport:
    """Each row names a claim (claim_id or bill_number) and a decision and/or a paid amount.

    Rows apply one by one, each in its own savepoint: a refused row changes nothing and is reported
    with its row number (the header is row 1) and the reason; the good rows are applied.
    """
    require(ctx, "claims.manage")
    header, rows = _csv_rows(content)
    problems: list[Problem] = []
    applied = data_rows = 0
    for number, values in enumerate(rows, start=2):
        if not any(v.strip() for v in values):
            continue
        data_rows += 1
        row = {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(header)}
        problem = _apply_response(session, ctx, number, row)
        if problem:
            problems.append(problem)
        else:
            applied += 1
    return ImportReport(data_rows, applied, problems)


def _claim_for_row(session: Session, ctx: TenantContext, row: dict[str, str]) -> uuid.UUID:
    """The claim a response row names, by claim id (preferred) or by bill number, in the member's scope."""
    sql = (
        f"SELECT c.id FROM {_CLAIMED}"  # noqa: S608
        f"WHERE {_IN_SCOPE} AND "
    )
    if row.get("claim_id"):
        column, params = "claim_id", dict[str, Any](c=_key(row["claim_id"], "claim"))
        sql += "c.id = :c"
    elif row.get("bill_number"):
        column, params = "bill_number", {"n": row["bill_number"]}
        sql += "b.number = :n"
    else:
        raise ValidationFailed("Give the claim id or the bill number.", field="claim_id")
    found = session.execute(text(sql), {**params, **_scope(ctx)}).scalar()
    if found is None:
        raise NotFound("No such claim.", field=column)
    return found  # type: ignore[no-any-return]


def _apply_response(session: Session, ctx: TenantContext, number: int, row: dict[str, str]) -> Problem | None:
    decision = row.get("decision", "").lower().replace(" ", "_")
    column = "claim_id"
    try:
        with session.begin_nested():
            claim_id = _claim_for_row(session, ctx, row)
            if not decision and not row.get("paid_amount"):
                raise ValidationFailed("Give a decision or a paid amount.", field="decision")
            if decision:
                column = "decision"
                record_decision(
                    session,
                    ctx,
                    str(claim_id),
                    decision,
                    approved_amount=row.get("approved_amount", ""),
                    reason=row.get("reason", ""),
                )
            if row.get("paid_amount"):
                column = "paid_amount"
                record_claim_payment(session, ctx, str(claim_id), row["paid_amount"])
    except PharmacyError as exc:
        where = exc.field if exc.field in IMPORT_COLUMNS else column
        return Problem(number, where or column, exc.message)
    return None


# --- a patient's own copy (issue 16, section 4) ---------------------------------------------------


def insurance_of_patient(
    session: Session, ctx: TenantContext, patient_id: uuid.UUID
) -> tuple[list[Coverage], list[Claim]]:
    """The patient's coverages (active first) and their claims at the member's branches, oldest first,
    each with its events. For the patient's copy: the caller has checked the scope and logged the read."""
    require(ctx, "billing.view")
    claims = session.execute(
        text(f"{_CLAIM_SQL} AND c.patient_id = :p ORDER BY c.created_at, c.id"), {"p": patient_id, **_scope(ctx)}
    ).all()
    people = identities(session, ctx, [r.patient_id for r in claims])
    return _coverages(session, patient_id), [
        _claim_of(session, ctx, r, _events(session, r.id), people[r.patient_id].full_name) for r in claims
    ]


# --- records retention (issue 16, section 3) ----------------------------------------------------


@dataclass(frozen=True)
class BillingDates:
    """A patient's most recent sale (None: none) and insurance claim (None: none)."""

    patient_id: str
    last_bill: datetime | None
    last_claim: datetime | None


def billing_dates(session: Session, ctx: TenantContext) -> list[BillingDates]:
    """Per patient, their last bill and last claim: the retention review keeps a patient's records while
    either is within its period (a claim's is the longer, CMS's ten years)."""
    require(ctx, "retention.review")
    rows = session.execute(
        text(
            "SELECT coalesce(b.patient_id, c.patient_id) AS patient_id, b.last_bill, c.last_claim FROM "
            "(SELECT patient_id, max(created_at) AS last_bill FROM bills WHERE patient_id IS NOT NULL "
            "GROUP BY patient_id) b FULL JOIN (SELECT patient_id, max(greatest(updated_at, paid_at)) AS last_claim "
            "FROM claims GROUP BY patient_id) c ON c.patient_id = b.patient_id"
        )
    ).all()
    return [BillingDates(str(r.patient_id), r.last_bill, r.last_claim) for r in rows]


def anonymise_coverages(session: Session, ctx: TenantContext, patient_ids: list[str]) -> int:
    """Remove disposed patients' member and group ids from their coverage (the claims keep their amounts);
    ended, as a disposed patient has no plan to bill. Returns how many coverages were changed."""
    require(ctx, "retention.dispose")
    coverages = session.execute(
        text("SELECT id FROM patient_coverages WHERE patient_id = ANY(CAST(:p AS uuid[])) FOR UPDATE"),
        {"p": [uuid.UUID(str(p)) for p in patient_ids]},
    ).scalars()
    changed = 0
    for coverage_id in coverages:
        sealed = _sealed_ids(session, ctx.tenant_id, coverage_id, "DISPOSED", "")  # sealed like any member id
        session.execute(
            text(
                "UPDATE patient_coverages SET member_id_enc = :m, group_number_enc = :g, active = false WHERE id = :id"
            ),
            {"id": coverage_id, **sealed},
        )
        changed += 1
    return changed
