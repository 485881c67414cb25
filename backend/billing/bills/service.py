"""Bills at the counter: a draft, finalized with its stock moves and a gap-free number, then paid or voided.

- A bill is a draft until `finalize`: only drafts change (a finalized bill is corrected by a credit
  note, backend/billing/credit_notes/service.py). Finalizing takes the stock (FEFO `dispense`), takes the
  branch's next number and fixes the amounts in one transaction: an oversold line fails the whole
  sale and the number goes back with the rollback, so numbers have no gaps.
- A prescription-only medicine reaches a bill as the chain's jurisdiction allows (the prescription rules'
  `counter_rule`): under the US rule (the default) only as a checked fill scanned from its label (an
  emergency supply, backend/prescriptions/emergency.py, is such a fill); where the jurisdiction lets a
  pharmacist supply without a prescription, also with a typed reference or a pharmacist's override with a
  reason, electronically signed for this bill (password or TOTP, backend.accounts.signatures) and audited.
  Controlled lines are always a fill.
- Payments are cash (change due) or another tender recorded by reference; the bill is partially
  paid or paid from their sum. Payment rows are never edited.
- Amounts follow backend/billing/bills/totals.py.

Every action takes the caller's session first: the adapter (a Reflex handler, a REST endpoint with
its Idempotency-Key, a job) owns the transaction and its retries (tenants.session.run_in_tenant).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session

from backend.accounts.signatures import require_fresh_signature, signable
from backend.billing.audit_chain import record_bill_event
from backend.billing.bills.repository import Bill, load_bill
from backend.billing.bills.totals import (
    BillAmounts,
    DiscountTooLarge,
    LineInput,
    TaxSettings,
    bill_amounts,
)
from backend.billing.claims.adjudication import patient_portion_of_fill
from backend.billing.statuses import BillStatus
from backend.core import validation as check
from backend.core.errors import Conflict, NotFound, PermissionDenied, PharmacyError, ValidationFailed
from backend.core.live import EventKind, event_for, publish_after_commit
from backend.inventory.service import OutOfStock, dispense, return_to_lots
from backend.patients.service import patient_for_bill
from backend.prescriptions.enums import CounterRule
from backend.prescriptions.pickup import fill_for_bill, record_pickup
from backend.prescriptions.service import counter_rule
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.directory import branch_inactive
from tenants.roles import require, role_has

MAX_LINES = 200
MAX_LINE_QUANTITY = 100_000
MIN_OVERRIDE_REASON = 10


class FillRequired(ValidationFailed):
    """A prescription-only or controlled medicine typed in where only its checked fill may be sold."""

    code = "fill_required"


FILL_REQUIRED = "Scan the fill's label, or record an emergency supply."


class BillNotDraft(Conflict):
    """Only drafts change; an issued bill is corrected by a credit note."""

    code = "bill_not_draft"


@dataclass(frozen=True)
class _Branch:
    id: uuid.UUID
    code: str
    time_zone: str
    tax: TaxSettings


@dataclass(frozen=True)
class _WantedLine:
    """A line as asked for, checked for shape; the catalog decides price, tax category and schedule."""

    medicine_id: uuid.UUID
    quantity: int
    line_discount: Decimal
    prescription_ref: str
    override_reason: str
    override_signature_id: str  # the pharmacist's electronic signature of a new override, for this bill
    fill_id: uuid.UUID | None = None  # a prescription fill handed over: its stock moved when it was filled


# --- reading input ----------------------------------------------------------------------------


def _wanted_lines(lines: Sequence[Mapping[str, Any]]) -> list[_WantedLine]:
    if not lines:
        raise ValidationFailed("A bill needs at least one line.", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"A bill has at most {MAX_LINES} lines.", field="lines")
    wanted = []
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        if line.get("fill_id"):
            # A fill's medicine, quantity and price are the fill's: nothing typed at the counter changes them.
            fill = check.as_uuid(str(line.get("fill_id")), "fill")
            wanted.append(_WantedLine(uuid.UUID(int=0), 1, Decimal(0), "", "", "", fill))
            continue
        try:
            medicine_id = uuid.UUID(str(line.get("medicine_id")))
        except ValueError:
            raise ValidationFailed("No such medicine.", field=f"{where}.medicine_id") from None
        quantity = check.quantity(line.get("quantity"), f"{where}.quantity")
        if quantity > MAX_LINE_QUANTITY:
            raise ValidationFailed(f"At most {MAX_LINE_QUANTITY:,} on one line.", field=f"{where}.quantity")
        reference = " ".join(str(line.get("prescription_ref") or "").split())
        if len(reference) > 60:
            raise ValidationFailed(
                "A prescription reference has at most 60 characters.", field=f"{where}.prescription_ref"
            )
        reason = " ".join(str(line.get("override_reason") or "").split())
        if len(reason) > 300:
            raise ValidationFailed("At most 300 characters here.", field=f"{where}.override_reason")
        discount = check.money(str(line.get("line_discount") or "0"), f"{where}.line_discount")
        signature = str(line.get("override_signature_id") or "").strip()
        wanted.append(_WantedLine(medicine_id, quantity, discount, reference, reason, signature))
    return wanted


@signable("bill")
def _bill_exists(session: Session, bill_id: str) -> bool:
    """A bill of the chain (RLS) with this id: what a pharmacist's signature may point at."""
    try:
        key = uuid.UUID(str(bill_id))
    except ValueError:
        return False
    return session.execute(text("SELECT 1 FROM bills WHERE id = :b"), {"b": key}).first() is not None


def _customer_name(value: str) -> str:
    name = " ".join(str(value or "").split())
    if len(name) > 120:
        raise ValidationFailed("At most 120 characters here.", field="customer_name")
    return name


# --- loading ------------------------------------------------------------------------------------


def _branch(session: Session, ctx: TenantContext, branch_id: object) -> _Branch:
    try:
        key = uuid.UUID(str(branch_id))
    except ValueError:
        raise NotFound("No such branch.") from None
    row = session.execute(
        text(
            "SELECT id, name, code, time_zone, prices_include_tax, default_tax_rate, reduced_tax_rate, is_active "
            "FROM branches WHERE id = :b"
        ),
        {"b": key},
    ).first()
    if row is None or not ctx.can_see_branch(key):
        raise NotFound("No such branch.")
    if not row.is_active:  # drafts and finalizing (the only callers) are sales: a deactivated branch takes none
        raise branch_inactive(row.name, "takes no sales")
    tax = TaxSettings(row.prices_include_tax, row.default_tax_rate, row.reduced_tax_rate)
    return _Branch(row.id, row.code, row.time_zone, tax)


def locked_bill(session: Session, ctx: TenantContext, bill_id: object) -> Any:
    """The bill row, locked until commit so two tills (or two refunds) cannot change it at once."""
    try:
        key = uuid.UUID(str(bill_id))
    except ValueError:
        raise NotFound("No such bill.") from None
    row = session.execute(text("SELECT * FROM bills WHERE id = :b FOR UPDATE"), {"b": key}).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such bill.")
    return row


def refuse_unless_draft(bill: Any) -> None:
    if bill.status != BillStatus.DRAFT:
        which = f"Bill {bill.number}" if bill.number else "This bill"
        raise BillNotDraft(
            f"{which} is {bill.status.replace('_', ' ')}: only a draft can change; "
            "a finalized bill is corrected with a credit note."
        )


# --- pricing ------------------------------------------------------------------------------------


def _priced(lines: Sequence[LineInput], *, bill_discount: Decimal, branch: _Branch, currency: str) -> BillAmounts:
    try:
        amounts = bill_amounts(lines, bill_discount=bill_discount, settings=branch.tax, currency=currency)
    except DiscountTooLarge as exc:
        if exc.line is None:
            raise ValidationFailed(
                "The bill discount is larger than the bill after line discounts.", field="bill_discount"
            ) from None
        raise ValidationFailed(
            "The discount is larger than the line.", field=f"lines[{exc.line}].line_discount"
        ) from None
    if max(amounts.lines_total, amounts.total) >= check.MAX_AMOUNT:
        raise ValidationFailed("This bill is too large for one sale.", field="lines")
    return amounts


def _save_totals(session: Session, bill_id: uuid.UUID, amounts: BillAmounts, **extra: Any) -> None:
    """Write the bill's amounts (and any other columns in `extra`; their names come from this module)."""
    columns = {
        "lines_total": amounts.lines_total,
        "discount_total": amounts.discount_total,
        "net_total": amounts.net_total,
        "tax_total": amounts.tax_total,
        "total": amounts.total,
        "rounding": amounts.rounding,
        "total_due": amounts.total_due,
        **extra,
    }
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    session.execute(
        text(f"UPDATE bills SET {assignments}, updated_at = now() WHERE id = :bill"),  # noqa: S608 - fixed names
        {**columns, "bill": bill_id},
    )


# --- prescriptions ------------------------------------------------------------------------------


def _check_prescription(
    session: Session,
    ctx: TenantContext,
    bill_id: uuid.UUID,
    index: int,
    medicine: Any,
    wanted: _WantedLine,
    signed_by: uuid.UUID | None,
) -> uuid.UUID | None:
    """Who signed the override of a prescription-only line typed in (None when none is needed).

    Only where the chain's jurisdiction allows a supply without a prescription (`reference_or_override`):
    a typed reference, or a pharmacist's override. `signed_by` is the pharmacist who already signed the
    same override on this draft: a cashier who changes another line keeps it, but cannot write a new one.
    A new override needs the pharmacist's own electronic signature of this bill from the last five
    minutes (password or TOTP re-entered: the signed-in till alone does not prove who stands at it).
    """
    where = f"lines[{index}]"
    name = f"{medicine.generic_name} {medicine.strength}".strip()
    if medicine.schedule == "otc":
        return None
    if medicine.schedule == "controlled":
        # Controlled drugs are never supplied on a pharmacist's say-so or a typed number: the fill is the law.
        raise FillRequired(
            f"{name} is a controlled medicine: it is sold only as its prescription's checked fill. "
            "Scan the fill's label.",
            field=f"{where}.medicine_id",
        )
    if counter_rule(session) is CounterRule.FILL_REQUIRED:
        raise FillRequired(
            f"{name} is prescription-only: it is sold only as a verified fill. {FILL_REQUIRED}",
            field=f"{where}.medicine_id",
        )
    if wanted.prescription_ref:
        return None
    if not wanted.override_reason:
        raise ValidationFailed(
            "Prescription-only medicine: enter the prescription reference, or a pharmacist records an "
            "override with the reason.",
            field=f"{where}.prescription_ref",
        )
    if signed_by is not None:
        return signed_by
    if not role_has(ctx.role, "billing.override_prescription") or ctx.user_id is None:
        raise PermissionDenied("Only a pharmacist can supply a prescription-only medicine without a prescription.")
    if len(wanted.override_reason) < MIN_OVERRIDE_REASON:
        raise ValidationFailed(
            f"Say why it is supplied without a prescription (at least {MIN_OVERRIDE_REASON} characters).",
            field=f"{where}.override_reason",
        )
    require_fresh_signature(session, ctx, wanted.override_signature_id, entity_type="bill", entity_id=bill_id)
    return ctx.user_id


# --- prescription fills ----------------------------------------------------------------------------


def _fill_lines(
    session: Session, ctx: TenantContext, bill_id: uuid.UUID, branch: _Branch, wanted: list[_WantedLine]
) -> list[_WantedLine]:
    """The fill lines completed from their fills (medicine, quantity, the Rx code as the reference).

    A fill goes on a bill only once it passed the final check and is not picked up yet
    (`fill_for_bill` refuses otherwise), once per bill, and on no other open draft.
    """
    out, seen = [], set()
    for index, line in enumerate(wanted):
        if line.fill_id is None:
            out.append(line)
            continue
        try:
            fill = fill_for_bill(session, ctx, line.fill_id, branch.id)
        except PharmacyError as exc:
            exc.field = f"lines[{index}].fill_id"
            raise
        if line.fill_id in seen:
            raise ValidationFailed(f"Fill {fill.code} is already on this bill.", field=f"lines[{index}].fill_id")
        seen.add(line.fill_id)
        elsewhere = session.execute(
            text(
                "SELECT b.id FROM bill_lines l JOIN bills b ON b.tenant_id = l.tenant_id AND b.id = l.bill_id "
                "WHERE l.fill_id = :f AND b.status = :draft AND b.id <> :bill LIMIT 1"
            ),
            {"f": line.fill_id, "draft": BillStatus.DRAFT, "bill": bill_id},
        ).first()
        if elsewhere is not None:
            raise Conflict(
                f"Fill {fill.code} is already on another open bill; finish or discard that sale first.",
                field=f"lines[{index}].fill_id",
            )
        out.append(_WantedLine(uuid.UUID(fill.medicine_id), fill.quantity, Decimal(0), fill.code, "", "", line.fill_id))
    return out


def _insurer_pays(session: Session, line: _WantedLine, unit_price: Decimal) -> Decimal:
    """A fill line's discount is the payer's part of its price (so the line comes to the copay); other
    lines keep the cashier's discount."""
    if line.fill_id is None:
        return line.line_discount
    price = unit_price * line.quantity
    return price - patient_portion_of_fill(session, line.fill_id, price)


def _fills_patient(
    session: Session, ctx: TenantContext, patient: uuid.UUID | None, lines: Sequence[Mapping[str, Any]], branch: _Branch
) -> uuid.UUID | None:
    """The bill's patient: a fill on the bill names it (and every fill must be that patient's)."""
    for index, line in enumerate(lines):
        if not line.get("fill_id"):
            continue
        fill = fill_for_bill(session, ctx, line.get("fill_id"), branch.id)
        if patient is None:
            patient = uuid.UUID(fill.patient_id)
        elif str(patient) != fill.patient_id:
            raise ValidationFailed(
                f"Fill {fill.code} is {fill.patient_name}'s: a bill hands over one patient's prescriptions.",
                field=f"lines[{index}].fill_id",
            )
    return patient


# --- drafts -------------------------------------------------------------------------------------


def _write_lines(
    session: Session,
    ctx: TenantContext,
    bill_id: uuid.UUID,
    branch: _Branch,
    *,
    lines: Sequence[Mapping[str, Any]],
    bill_discount: Decimal,
    currency: str,
    signatures: Mapping[tuple[uuid.UUID, str], uuid.UUID],
) -> BillAmounts:
    """Check and price the lines against the catalog and insert them; returns the bill's amounts."""
    wanted = _fill_lines(session, ctx, bill_id, branch, _wanted_lines(lines))
    catalog = {
        row.id: row
        for row in session.execute(
            text(
                "SELECT id, generic_name, strength, schedule, default_sell_price, tax_category "
                "FROM medicines WHERE id = ANY(:ids)"
            ),
            {"ids": [line.medicine_id for line in wanted]},
        )
    }
    rows, new_overrides = [], []
    for index, line in enumerate(wanted):
        medicine = catalog.get(line.medicine_id)
        if medicine is None:
            raise ValidationFailed("No such medicine.", field=f"lines[{index}].medicine_id")
        signer = (
            None
            if line.fill_id
            else _check_prescription(
                session,
                ctx,
                bill_id,
                index,
                medicine,
                line,
                signatures.get((line.medicine_id, line.override_reason)),
            )
        )
        if signer is not None and (line.medicine_id, line.override_reason) not in signatures:
            new_overrides.append((index + 1, line))
        rows.append(
            {
                "t": ctx.tenant_id,
                "bill": bill_id,
                "no": index + 1,
                "m": line.medicine_id,
                "description": f"{medicine.generic_name} {medicine.strength}".strip(),
                "schedule": medicine.schedule,
                "q": line.quantity,
                "price": medicine.default_sell_price,
                "discount": _insurer_pays(session, line, medicine.default_sell_price),
                "category": medicine.tax_category,
                "ref": line.prescription_ref,
                "reason": line.override_reason if signer else "",
                "signer": signer,
                "fill": line.fill_id,
            }
        )
    amounts = _priced(
        [LineInput(r["q"], r["price"], r["discount"], r["category"]) for r in rows],
        bill_discount=bill_discount,
        branch=branch,
        currency=currency,
    )
    for row, priced in zip(rows, amounts.lines, strict=True):
        row.update(
            share=priced.bill_discount_share,
            rate=priced.tax_rate,
            net=priced.net_amount,
            tax=priced.tax_amount,
            gross=priced.gross_amount,
        )
    session.execute(
        text(
            "INSERT INTO bill_lines (tenant_id, bill_id, line_no, medicine_id, description, schedule, quantity, "
            "unit_price, line_discount, bill_discount_share, tax_category, tax_rate, net_amount, tax_amount, "
            "gross_amount, prescription_ref, override_reason, override_by, fill_id) VALUES (:t, :bill, :no, :m, "
            ":description, :schedule, :q, :price, :discount, :share, :category, :rate, :net, :tax, :gross, "
            ":ref, :reason, :signer, :fill)"
        ),
        rows,
    )
    for line_no, line in new_overrides:
        record_audit(
            session,
            ctx.tenant_id,
            "bill.prescription_override",
            actor_user_id=ctx.user_id,
            entity_type="bill",
            entity_id=str(bill_id),
            details={
                "line_no": line_no,
                "medicine_id": str(line.medicine_id),
                "reason": line.override_reason,
                "signature_id": line.override_signature_id,
            },
        )
    return amounts


def create_draft(
    session: Session,
    ctx: TenantContext,
    *,
    branch_id: str,
    lines: Sequence[Mapping[str, Any]],
    bill_discount: str = "0",
    customer_name: str = "",
    patient_id: str | None = None,
    bill_id: str | None = None,
) -> Bill:
    """A draft bill priced from the catalog: no stock moves and no number until it is finalized.

    Each line is {medicine_id, quantity, line_discount?, prescription_ref?, override_reason?,
    override_signature_id?}. `patient_id` links a patient of the chain the member can see (None: a
    walk-in customer). `bill_id` is the new draft's id when the caller chose it first, so that a
    pharmacist's override on the very first line can be signed for this bill before it exists.
    Bad input raises ValidationFailed naming the field (e.g. `lines[1].quantity`) and writes nothing.
    """
    require(ctx, "billing.sell")
    branch = _branch(session, ctx, branch_id)
    name = _customer_name(customer_name)
    patient = _fills_patient(session, ctx, patient_for_bill(session, ctx, patient_id), lines, branch)
    discount = check.money(str(bill_discount or "0"), "bill_discount")
    currency = session.execute(text("SELECT currency FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}).scalar_one()
    new_id = check.as_uuid(bill_id, "bill") if bill_id else uuid.uuid4()
    if bill_id and session.execute(text("SELECT 1 FROM bills WHERE id = :b"), {"b": new_id}).first():
        raise Conflict("This bill already exists; save it as a change of that draft.")
    session.execute(
        text(
            "INSERT INTO bills (tenant_id, id, branch_id, currency, prices_include_tax, customer_name, patient_id, "
            "created_by) VALUES (:t, :id, :br, :cur, :inclusive, :name, :patient, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "id": new_id,
            "br": branch.id,
            "cur": currency,
            "inclusive": branch.tax.prices_include_tax,
            "name": name,
            "patient": patient,
            "u": ctx.user_id,
        },
    )
    amounts = _write_lines(
        session, ctx, new_id, branch, lines=lines, bill_discount=discount, currency=currency, signatures={}
    )
    _save_totals(session, new_id, amounts, bill_discount=discount)
    return load_bill(session, new_id)


def update_draft(
    session: Session,
    ctx: TenantContext,
    bill_id: str,
    *,
    lines: Sequence[Mapping[str, Any]],
    bill_discount: str = "0",
    customer_name: str = "",
    patient_id: str | None = None,
) -> Bill:
    """Replace a draft's lines (re-priced from the catalog), bill discount, customer name and patient
    (None: a walk-in customer).

    An issued bill raises BillNotDraft (409). A pharmacist's override already signed on the draft
    stays signed when the same medicine and reason come back.
    """
    require(ctx, "billing.sell")
    bill = locked_bill(session, ctx, bill_id)
    refuse_unless_draft(bill)
    branch = _branch(session, ctx, bill.branch_id)
    name = _customer_name(customer_name)
    patient = _fills_patient(session, ctx, patient_for_bill(session, ctx, patient_id), lines, branch)
    discount = check.money(str(bill_discount or "0"), "bill_discount")
    signatures = {
        (row.medicine_id, row.override_reason): row.override_by
        for row in session.execute(
            text(
                "SELECT medicine_id, override_reason, override_by FROM bill_lines "
                "WHERE bill_id = :b AND override_by IS NOT NULL"
            ),
            {"b": bill.id},
        )
    }
    session.execute(text("DELETE FROM bill_lines WHERE bill_id = :b"), {"b": bill.id})
    amounts = _write_lines(
        session,
        ctx,
        bill.id,
        branch,
        lines=lines,
        bill_discount=discount,
        currency=bill.currency,
        signatures=signatures,
    )
    _save_totals(
        session,
        bill.id,
        amounts,
        bill_discount=discount,
        customer_name=name,
        patient_id=patient,
        prices_include_tax=branch.tax.prices_include_tax,
    )
    return load_bill(session, bill.id)


# --- finalizing -----------------------------------------------------------------------------------


def _take_number(session: Session, ctx: TenantContext, branch: _Branch) -> tuple[str, int, int]:
    """The branch's next bill number for its local year, e.g. BR1-2026-000123.

    The counter row stays locked until this transaction ends, so tills of one branch finalize one at
    a time; a rollback returns the number, which is what keeps the sequence free of gaps.
    """
    year = datetime.now(ZoneInfo(branch.time_zone)).year
    seq = session.execute(
        text(
            "INSERT INTO bill_counters (tenant_id, branch_id, year, last_number) VALUES (:t, :br, :y, 1) "
            "ON CONFLICT (tenant_id, branch_id, year) DO UPDATE SET last_number = bill_counters.last_number + 1 "
            "RETURNING last_number"
        ),
        {"t": ctx.tenant_id, "br": branch.id, "y": year},
    ).scalar_one()
    return f"{branch.code}-{year}-{seq:06d}", year, int(seq)


def branch_has_numbers(session: Session, branch_id: uuid.UUID) -> bool:
    """Whether the branch has issued a bill or credit note: their numbers carry its code, so the
    branches service keeps the code from changing once one exists."""
    return bool(
        session.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM bill_counters WHERE branch_id = :b) "
                "OR EXISTS (SELECT 1 FROM credit_note_counters WHERE branch_id = :b)"
            ),
            {"b": branch_id},
        ).scalar_one()
    )


def _recheck_prescriptions(session: Session, lines: Sequence[Any]) -> None:
    """The catalog may have moved a medicine to prescription-only (or the chain changed its counter rule)
    since the draft was written: a line typed in must still be allowed now."""
    rule = None
    for index, line in enumerate(lines):
        if line.fill_id is not None or line.current_schedule == "otc":
            continue
        rule = rule or counter_rule(session)
        if line.current_schedule == "prescription" and rule is CounterRule.REFERENCE_OR_OVERRIDE:
            if line.prescription_ref or line.override_by is not None:
                continue
            raise ValidationFailed(
                f"{line.description} now needs a prescription reference; update the draft.",
                field=f"lines[{index}].prescription_ref",
            )
        raise FillRequired(
            f"{line.description} is sold only as a verified fill; remove it from the draft. {FILL_REQUIRED}",
            field=f"lines[{index}].medicine_id",
        )


def finalize_bill(
    session: Session, ctx: TenantContext, bill_id: str, *, pickup: Mapping[str, Any] | None = None
) -> Bill:
    """Issue a draft: take its stock, number it and fix its amounts, all or nothing.

    A line short of sellable stock raises OutOfStock naming the line; nothing is sold, no number is
    used and the bill stays a draft. Tax is computed with the branch's rates at this moment (the
    time of sale). A bill whose amount due is zero is paid as soon as it is issued. A bill with
    prescription fills needs their `pickup` (prescriptions.pickup.record_pickup, in this transaction):
    the fills are handed over as the bill is issued, and their stock, which moved when they were
    filled, is not taken again.
    """
    require(ctx, "billing.sell")
    bill = locked_bill(session, ctx, bill_id)
    refuse_unless_draft(bill)
    branch = _branch(session, ctx, bill.branch_id)
    lines = session.execute(
        text(
            "SELECT l.*, m.schedule AS current_schedule FROM bill_lines l "
            "JOIN medicines m ON m.tenant_id = l.tenant_id AND m.id = l.medicine_id "
            "WHERE l.bill_id = :b ORDER BY l.line_no"
        ),
        {"b": bill.id},
    ).all()
    if not lines:
        raise ValidationFailed("A bill needs at least one line.", field="lines")
    _recheck_prescriptions(session, lines)
    amounts = _priced(
        [LineInput(r.quantity, r.unit_price, r.line_discount, r.tax_category) for r in lines],
        bill_discount=bill.bill_discount,
        branch=branch,
        currency=bill.currency,
    )
    session.execute(
        text(
            "UPDATE bill_lines SET bill_discount_share = :share, tax_rate = :rate, net_amount = :net, "
            "tax_amount = :tax, gross_amount = :gross WHERE bill_id = :b AND line_no = :no"
        ),
        [
            {
                "share": p.bill_discount_share,
                "rate": p.tax_rate,
                "net": p.net_amount,
                "tax": p.tax_amount,
                "gross": p.gross_amount,
                "b": bill.id,
                "no": r.line_no,
            }
            for r, p in zip(lines, amounts.lines, strict=True)
        ],
    )
    number, year, seq = _take_number(session, ctx, branch)
    fills = [str(r.fill_id) for r in lines if r.fill_id is not None]
    if fills:
        record_pickup(
            session,
            ctx,
            bill_id=str(bill.id),
            branch_id=str(branch.id),
            patient_id=str(bill.patient_id),
            fill_ids=fills,
            pickup=pickup,
        )
    picks = _take_stock(session, ctx, bill.id, branch, [r for r in lines if r.fill_id is None], number)
    if picks:  # a bill of fills only takes no stock
        session.execute(
            text(
                "INSERT INTO bill_picks (tenant_id, bill_id, line_no, batch_id, quantity) "
                "VALUES (:t, :b, :no, :batch, :q)"
            ),
            picks,
        )
    _save_totals(
        session,
        bill.id,
        amounts,
        prices_include_tax=branch.tax.prices_include_tax,
        number=number,
        number_year=year,
        number_seq=seq,
        finalized_by=ctx.user_id,
        finalized_at=datetime.now(UTC),
        status=BillStatus.PAID if amounts.total_due == 0 else BillStatus.FINALIZED,
    )
    # A routine sale is not a tenant audit event (its per-tenant lock would serialize every till of the
    # chain); it is an event of the branch's financial chain, whose lock holds up only this branch.
    record_bill_event(session, ctx, "bill.finalized", bill.id)
    publish_after_commit(session, ctx, event_for(EventKind.STOCK_CHANGED, branch.id, *{r.medicine_id for r in lines}))
    return load_bill(session, bill.id)


def _take_stock(
    session: Session, ctx: TenantContext, bill_id: uuid.UUID, branch: _Branch, lines: Sequence[Any], number: str
) -> list[dict[str, Any]]:
    """Dispense every line (FEFO); the picks, for putting stock back on the same lots if voided."""
    picks = []
    # Medicines in one fixed order, so two bills sharing medicines lock their batches in the same order.
    for index, line in sorted(enumerate(lines), key=lambda item: (str(item[1].medicine_id), item[0])):
        try:
            taken = dispense(
                session,
                ctx,
                branch_id=str(branch.id),
                medicine_id=str(line.medicine_id),
                quantity=line.quantity,
                reference=number,
            )
        except OutOfStock as exc:
            raise OutOfStock(
                f"Line {line.line_no} ({line.description}): {exc.message} Nothing was sold; the bill is still a draft.",
                field=f"lines[{index}].quantity",
            ) from None
        picks += [
            {"t": ctx.tenant_id, "b": bill_id, "no": line.line_no, "batch": p.batch_id, "q": p.quantity} for p in taken
        ]
    return picks


# --- payments -------------------------------------------------------------------------------------


# --- voiding --------------------------------------------------------------------------------------


def void_bill(session: Session, ctx: TenantContext, bill_id: str, *, reason: str) -> Bill:
    """Discard a draft (anyone who sells), or void an issued bill nobody has paid (a manager).

    Voiding an issued bill puts its stock back on the lots it came from (`customer_return`
    movements) and keeps its number, so the sequence still has no gaps. A bill with payments is
    refused: it is corrected with a credit note and a refund.
    """
    require(ctx, "billing.sell")
    why = " ".join(str(reason or "").split())
    if not 3 <= len(why) <= 300:
        raise ValidationFailed("Say why the bill is voided (3 to 300 characters).", field="reason")
    bill = locked_bill(session, ctx, bill_id)
    if bill.status != BillStatus.DRAFT:
        # The permission first: a member who may not void issued bills learns nothing of their state.
        require(ctx, "billing.void")
    if bill.status == BillStatus.VOIDED:
        raise Conflict("This bill is already voided.")
    if bill.amount_paid > 0:
        raise Conflict(f"Bill {bill.number} has payments: it is corrected with a credit note and a refund, not voided.")
    if bill.status != BillStatus.DRAFT:
        _put_stock_back(session, ctx, bill)
    session.execute(
        text(
            "UPDATE bills SET status = :voided, voided_by = :u, voided_at = now(), void_reason = :r, "
            "updated_at = now() WHERE id = :b"
        ),
        {"voided": BillStatus.VOIDED, "u": ctx.user_id, "r": why, "b": bill.id},
    )
    record_audit(
        session,
        ctx.tenant_id,
        "bill.voided",
        actor_user_id=ctx.user_id,
        entity_type="bill",
        entity_id=str(bill.id),
        details={"number": bill.number, "was": bill.status, "reason": why},
    )
    record_bill_event(session, ctx, "bill.voided", bill.id, was=bill.status)
    return load_bill(session, bill.id)


def _put_stock_back(session: Session, ctx: TenantContext, bill: Any) -> None:
    picks = session.execute(
        text("SELECT batch_id, quantity FROM bill_picks WHERE bill_id = :bill ORDER BY batch_id"), {"bill": bill.id}
    ).all()
    return_to_lots(
        session,
        ctx,
        branch_id=bill.branch_id,
        lots=[(pick.batch_id, pick.quantity) for pick in picks],
        reason=f"void of bill {bill.number}",
        reference=bill.number,
    )


# --- reading --------------------------------------------------------------------------------------


def get_bill(session: Session, ctx: TenantContext, bill_id: str) -> Bill:
    """One bill with its lines, tax bands and payments (in the member's branches only)."""
    require(ctx, "billing.view")
    try:
        key = uuid.UUID(str(bill_id))
    except ValueError:
        raise NotFound("No such bill.") from None
    branch_id = session.execute(text("SELECT branch_id FROM bills WHERE id = :b"), {"b": key}).scalar()
    if branch_id is None or not ctx.can_see_branch(branch_id):
        raise NotFound("No such bill.")
    return load_bill(session, key)


# --- a patient's own copy (issue 16, section 4) ---------------------------------------------------


def bills_of_patient(session: Session, ctx: TenantContext, patient_id: uuid.UUID) -> list[Bill]:
    """Every bill sold to the patient at the member's branches, oldest first, with lines and payments.

    For the patient's copy: the caller has checked the patient's scope and logged the read.
    """
    require(ctx, "billing.view")
    rows = session.execute(
        text("SELECT id, branch_id FROM bills WHERE patient_id = :p ORDER BY created_at, id"), {"p": patient_id}
    ).all()
    return [load_bill(session, r.id) for r in rows if ctx.can_see_branch(r.branch_id)]
