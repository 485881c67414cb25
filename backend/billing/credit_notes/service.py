"""Credit notes: an issued, paid bill is never changed; a full or partial refund is a credit note against it.

- Only a bill paid in full is refunded (status `paid`, or `partially_refunded` by an earlier credit
  note). An unpaid issued bill is voided instead; a partly paid one is paid first.
- Each returned line says how many units come back (at most what was sold minus what earlier
  credit notes took) and whether they are resaleable (`restock`). The units are counted against
  the lots they were sold from (bill_picks), last-picked first: the lot with the latest expiry,
  which FEFO took last. Restocked units go back on exactly those lots with a `customer_return`
  movement referencing the credit note's number; opened or damaged ones move no stock. Either way
  the lots are recorded (credit_note_lots) so a later credit note never counts a unit twice.
  (A unit put back on an expired or recalled lot is still not sellable: FEFO skips those lots.)
  A prescription fill's line is refunded in money only: asking to restock it is refused, since
  medicine that has left the pharmacy never goes back on the shelf.
- Amounts are the line's stored amounts pro rata, cumulatively: after k of n units are credited
  the line has given back `round4(amount x k / n)` (half up, 4 decimals, as the bill's lines), so
  the last credit note of a line gives back exactly what is left and the credit notes of a fully
  refunded bill add up to the bill to the last 0.0001.
- The money given back follows the bill's one rounding rule the same way: the refunds so far are
  always `round_to_currency(all credited so far)`, so a full refund returns exactly the amount due.
  Refunds are rows of `bill_refunds` (cash, other with a reference, or card); `bill_payments` stay
  the money received and are never touched.
- A bill paid by card is refunded to the card, through `backend.billing.payments.cards` (see `refund_to_card`).
- The credit note's number is the branch's next for its local year, e.g. CN-B1-2026-000001, from
  a counter row incremented in the same transaction (a rollback gives it back: no gaps).
- The bill becomes `partially_refunded`, then `refunded` once every unit is credited.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.audit_chain import record_financial_event
from backend.billing.bills.service import locked_bill
from backend.billing.bills.totals import to_four_places
from backend.billing.statuses import BillStatus
from backend.core import validation as check
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.money import minor_unit, round_to_currency
from backend.inventory.service import return_to_lots
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

REFUND_METHODS = ("cash", "other", "card")
MAX_RETURN_LINES = 200
ZERO = Decimal(0)
# The function of backend/billing/payments/cards.py that refunds a card payment through Stripe.
CARD_REFUND_FUNCTION = "refund_card_payment"


class CardRefundsUnavailable(Conflict):
    """The bill was paid by card and this install cannot refund a card yet."""

    code = "card_refunds_unavailable"


@dataclass(frozen=True)
class ReturnedLine:
    """One line of a refund as asked for: which bill line, how many units, and whether they are resaleable."""

    line_no: int
    quantity: int
    restock: bool


@dataclass(frozen=True)
class CreditedLot:
    batch_id: str
    lot_number: str
    expiry_date: date
    quantity: int


@dataclass(frozen=True)
class CreditNoteLine:
    line_no: int
    description: str
    quantity: int
    restock: bool
    net_amount: Decimal
    tax_amount: Decimal
    gross_amount: Decimal
    lots: list[CreditedLot]


@dataclass(frozen=True)
class Refund:
    id: str
    method: str
    amount: Decimal
    reference: str
    refunded_at: datetime


@dataclass(frozen=True)
class CreditNote:
    id: str
    number: str
    bill_id: str
    bill_number: str
    bill_status: BillStatus
    branch_id: str
    currency: str
    reason: str
    net_total: Decimal
    tax_total: Decimal
    total: Decimal  # credited, at 4 decimals
    amount_refunded: Decimal  # money given back, in the currency's minor unit
    created_by: str | None
    created_at: datetime
    lines: list[CreditNoteLine]
    refunds: list[Refund]


@dataclass(frozen=True)
class _SoldLine:
    line_no: int
    description: str
    quantity: int
    net_amount: Decimal
    gross_amount: Decimal
    credited: int
    credited_net: Decimal
    credited_gross: Decimal
    fill_code: str = ""  # a prescription fill handed over at the counter: never restocked

    @property
    def left(self) -> int:
        return self.quantity - self.credited


@dataclass(frozen=True)
class _Credit:
    """The amounts and lots of one returned line, ready to write."""

    wanted: ReturnedLine
    net_amount: Decimal
    gross_amount: Decimal
    lots: list[tuple[uuid.UUID, int]]

    @property
    def tax_amount(self) -> Decimal:
        return self.gross_amount - self.net_amount


# --- reading input ----------------------------------------------------------------------------


def returned_lines(lines: Iterable[Any]) -> list[ReturnedLine]:
    """(line_no, quantity, restock) tuples or {line_no, quantity, restock} mappings, checked for shape."""
    wanted: list[ReturnedLine] = []
    for index, raw in enumerate(lines):
        where = f"lines[{index}]"
        if isinstance(raw, Mapping):
            raw = (raw.get("line_no"), raw.get("quantity"), raw.get("restock"))
        try:
            line_no, quantity, restock = raw
        except (TypeError, ValueError):
            raise ValidationFailed(
                "Each line is a bill line number, a quantity and restock yes/no.", field=where
            ) from None
        if not isinstance(restock, bool):
            raise ValidationFailed(
                "Say whether the units go back on the shelf (true or false).", field=f"{where}.restock"
            )
        number = check.quantity(line_no, f"{where}.line_no")
        if any(line.line_no == number for line in wanted):
            raise ValidationFailed(f"Line {number} is listed twice.", field=f"{where}.line_no")
        wanted.append(ReturnedLine(number, check.quantity(quantity, f"{where}.quantity"), restock))
    if not wanted:
        raise ValidationFailed("Choose at least one line to refund.", field="lines")
    if len(wanted) > MAX_RETURN_LINES:
        raise ValidationFailed(f"A credit note has at most {MAX_RETURN_LINES} lines.", field="lines")
    return wanted


MIN_REASON, MAX_REASON = 3, 300  # stated beside the refund form's reason field


def _reason(reason: str) -> str:
    why = " ".join(str(reason or "").split())
    if not MIN_REASON <= len(why) <= MAX_REASON:
        raise ValidationFailed(
            f"Say why the bill is refunded ({MIN_REASON} to {MAX_REASON} characters).", field="reason"
        )
    return why


def _refund_tender(method: str, reference: str) -> tuple[str, str]:
    if method not in REFUND_METHODS:
        raise ValidationFailed("The refund goes back as cash, other or card.", field="refund_method")
    reference = " ".join(str(reference or "").split())
    if len(reference) > 100:
        raise ValidationFailed("At most 100 characters here.", field="reference")
    if method == "other" and not reference:
        raise ValidationFailed("Enter the terminal or voucher reference of this refund.", field="reference")
    return method, reference


# --- issuing --------------------------------------------------------------------------------------


def issue_credit_note(
    session: Session,
    ctx: TenantContext,
    bill_id: str,
    lines: Iterable[Any],
    *,
    reason: str,
    refund_method: str = "cash",
    reference: str = "",
) -> CreditNote:
    """Issue a numbered credit note against a paid bill, put resaleable units back, give the money back.

    `lines` are (bill line_no, quantity, restock) (see the module docstring for amounts, lots and
    rounding). Bad input, a line asked for more than is left to credit, or a bill that is not paid in
    full raises and writes nothing. Needs billing.refund.
    """
    require(ctx, "billing.refund")
    wanted = returned_lines(lines)
    why = _reason(reason)
    method, reference = _refund_tender(refund_method, reference)
    bill = locked_bill(session, ctx, bill_id)
    _refuse_unless_refundable(bill)
    sold = _sold_lines(session, bill.id)
    credits = [_credit(session, bill, sold, index, line) for index, line in enumerate(wanted)]
    if _paid_by_card(session, bill.id) != (method == "card"):
        raise ValidationFailed(
            "A bill paid by card is refunded to the card; any other bill as cash or other.", field="refund_method"
        )
    refund = _refund_due(session, bill, sum((c.gross_amount for c in credits), ZERO))
    note_id = uuid.uuid4()
    number = _write_credit_note(session, ctx, bill, note_id, why, credits, refund)
    _restock(session, ctx, bill, number, credits)
    if refund > 0:
        _give_money_back(session, ctx, bill, note_id, refund, method, reference)
    status = _status_after(sold, credits)
    session.execute(text("UPDATE bills SET status = :s, updated_at = now() WHERE id = :b"), {"s": status, "b": bill.id})
    _record_events(session, ctx, bill, note_id, number, status, why, refund, method, credits)
    return get_credit_note(session, ctx, str(note_id))


def _record_events(
    session: Session,
    ctx: TenantContext,
    bill: Any,
    note_id: uuid.UUID,
    number: str,
    status: str,
    reason: str,
    refund: Decimal,
    method: str,
    credits: Sequence[_Credit],
) -> None:
    """The tenant's audit log and, last (it locks the branch's chain head), the branch's financial chain."""
    details = credit_note_event_details(
        number=number,
        bill_id=bill.id,
        bill_number=bill.number,
        bill_status=status,
        reason=reason,
        total=sum((c.gross_amount for c in credits), ZERO),
        refunded=refund,
        method=method,
        lines=[c.wanted for c in credits],
    )
    record_audit(
        session,
        ctx.tenant_id,
        "credit_note.issued",
        actor_user_id=ctx.user_id,
        entity_type="bill",
        entity_id=str(bill.id),
        details=details,
    )
    record_financial_event(session, ctx, bill.branch_id, "credit_note.issued", "credit_note", note_id, details)


def credit_note_event_details(
    *,
    number: str,
    bill_id: object,
    bill_number: str,
    bill_status: str,
    reason: str,
    total: Decimal,
    refunded: Decimal,
    method: str,
    lines: Sequence[ReturnedLine],
) -> dict[str, Any]:
    """What a credit note's events record (the audit log's and the branch chain's), for every writer."""
    return {
        "credit_note": number,
        "bill_id": str(bill_id),
        "bill": bill_number,
        "bill_status": bill_status,
        "reason": reason,
        "total": str(total),
        "refunded": str(refunded),
        "method": method,
        "lines": [{"line_no": line.line_no, "quantity": line.quantity, "restock": line.restock} for line in lines],
    }


def _refuse_unless_refundable(bill: Any) -> None:
    if bill.status in BillStatus.refundable():
        return
    reasons = {
        BillStatus.DRAFT: "This bill is a draft: nothing was sold yet; change or discard it.",
        BillStatus.VOIDED: f"Bill {bill.number} is voided: its stock already went back and it takes no refund.",
        BillStatus.REFUNDED: f"Bill {bill.number} is already refunded in full.",
    }
    owed = bill.total_due - bill.amount_paid
    raise Conflict(
        reasons.get(
            bill.status,
            f"Bill {bill.number} still has {owed.quantize(minor_unit(bill.currency))} {bill.currency} owed: "
            "take the rest of the payment first (an unpaid bill is voided instead).",
        )
    )


def _sold_lines(session: Session, bill_id: uuid.UUID) -> dict[int, _SoldLine]:
    rows = session.execute(
        text(
            "SELECT l.line_no, l.description, l.quantity, l.net_amount, l.gross_amount, "
            "CASE WHEN l.fill_id IS NULL THEN '' ELSE l.prescription_ref END AS fill_code, "
            "coalesce(sum(c.quantity), 0) AS credited, coalesce(sum(c.net_amount), 0) AS credited_net, "
            "coalesce(sum(c.gross_amount), 0) AS credited_gross FROM bill_lines l "
            "LEFT JOIN credit_note_lines c ON c.tenant_id = l.tenant_id AND c.bill_id = l.bill_id "
            "AND c.line_no = l.line_no WHERE l.bill_id = :b GROUP BY l.tenant_id, l.bill_id, l.line_no"
        ),
        {"b": bill_id},
    ).all()
    return {
        r.line_no: _SoldLine(
            r.line_no,
            r.description,
            r.quantity,
            r.net_amount,
            r.gross_amount,
            int(r.credited),
            r.credited_net,
            r.credited_gross,
            r.fill_code,
        )
        for r in rows
    }


def _credit(session: Session, bill: Any, sold: Mapping[int, _SoldLine], index: int, wanted: ReturnedLine) -> _Credit:
    """The line's amounts (cumulative pro rata, see the module docstring) and the lots its units came from."""
    where = f"lines[{index}]"
    line = sold.get(wanted.line_no)
    if line is None:
        raise ValidationFailed(f"Bill {bill.number} has no line {wanted.line_no}.", field=f"{where}.line_no")
    if wanted.quantity > line.left:
        raise ValidationFailed(
            f"Line {line.line_no} ({line.description}): {line.left} of {line.quantity} left to refund "
            f"({line.credited} already credited); {wanted.quantity} asked.",
            field=f"{where}.quantity",
        )
    if line.fill_code:
        # Medicine that has left the pharmacy never goes back on the shelf (its storage is unknown): a
        # fill's credit note refunds money only, and its stock moved with the fill, not the bill.
        if wanted.restock:
            raise ValidationFailed(
                f"Line {line.line_no} ({line.description}) is prescription fill {line.fill_code}: medicine that "
                "has left the pharmacy never goes back on the shelf. Refund it without restocking.",
                field=f"{where}.restock",
            )
    credited_after = line.credited + wanted.quantity
    net = to_four_places(line.net_amount * credited_after / line.quantity) - line.credited_net
    gross = to_four_places(line.gross_amount * credited_after / line.quantity) - line.credited_gross
    lots = [] if line.fill_code else _lots_for(session, bill.id, line.line_no, wanted.quantity)
    return _Credit(wanted, net, gross, lots)


def _lots_for(session: Session, bill_id: uuid.UUID, line_no: int, quantity: int) -> list[tuple[uuid.UUID, int]]:
    """The lots `quantity` returned units are counted against: of the units still out with the customer,
    last-picked first (FEFO took the latest expiry last)."""
    rows = session.execute(
        text(
            "SELECT p.batch_id, p.quantity - coalesce((SELECT sum(x.quantity) FROM credit_note_lots x "
            "JOIN credit_note_lines cl ON cl.tenant_id = x.tenant_id AND cl.credit_note_id = x.credit_note_id "
            "AND cl.line_no = x.line_no WHERE cl.bill_id = p.bill_id AND x.line_no = p.line_no "
            "AND x.batch_id = p.batch_id), 0) AS out_there "
            "FROM bill_picks p JOIN batches b ON b.tenant_id = p.tenant_id AND b.id = p.batch_id "
            "WHERE p.bill_id = :b AND p.line_no = :no ORDER BY b.expiry_date DESC, b.id DESC"
        ),
        {"b": bill_id, "no": line_no},
    ).all()
    lots, left = [], quantity
    for row in rows:
        take = min(left, int(row.out_there))
        if take > 0:
            lots.append((row.batch_id, take))
            left -= take
    if left:  # the picks always cover what was sold; a shortfall means the rows disagree
        raise Conflict(f"Line {line_no}: its lots do not account for the units returned; nothing was refunded.")
    return lots


def _paid_by_card(session: Session, bill_id: uuid.UUID) -> bool:
    return bool(
        session.execute(
            text("SELECT EXISTS (SELECT 1 FROM bill_payments WHERE bill_id = :b AND method = 'card')"), {"b": bill_id}
        ).scalar_one()
    )


def _refund_due(session: Session, bill: Any, credited_now: Decimal) -> Decimal:
    """Money back for this credit note: refunds so far always equal the credited total rounded to cash."""
    before = session.execute(
        text(
            "SELECT coalesce(sum(total), 0) AS credited, coalesce(sum(amount_refunded), 0) AS refunded "
            "FROM credit_notes WHERE bill_id = :b"
        ),
        {"b": bill.id},
    ).one()
    due = round_to_currency(before.credited + credited_now, bill.currency) - before.refunded
    return min(max(due, ZERO), bill.amount_paid - before.refunded)


def _take_number(session: Session, ctx: TenantContext, branch_id: uuid.UUID) -> tuple[str, int, int]:
    """The branch's next credit-note number for its local year, e.g. CN-B1-2026-000001 (no gaps: see module)."""
    branch = session.execute(text("SELECT code, time_zone FROM branches WHERE id = :b"), {"b": branch_id}).one()
    year = datetime.now(ZoneInfo(branch.time_zone)).year
    seq = session.execute(
        text(
            "INSERT INTO credit_note_counters (tenant_id, branch_id, year, last_number) VALUES (:t, :br, :y, 1) "
            "ON CONFLICT (tenant_id, branch_id, year) "
            "DO UPDATE SET last_number = credit_note_counters.last_number + 1 RETURNING last_number"
        ),
        {"t": ctx.tenant_id, "br": branch_id, "y": year},
    ).scalar_one()
    return f"CN-{branch.code}-{year}-{seq:06d}", year, int(seq)


def _write_credit_note(
    session: Session,
    ctx: TenantContext,
    bill: Any,
    note_id: uuid.UUID,
    reason: str,
    credits: Sequence[_Credit],
    refund: Decimal,
) -> str:
    number, year, seq = _take_number(session, ctx, bill.branch_id)
    net = sum((c.net_amount for c in credits), ZERO)
    gross = sum((c.gross_amount for c in credits), ZERO)
    session.execute(
        text(
            "INSERT INTO credit_notes (tenant_id, id, bill_id, branch_id, number, number_year, number_seq, reason, "
            "net_total, tax_total, total, amount_refunded, created_by, created_at) VALUES (:t, :id, :b, :br, :no, "
            ":y, :seq, :r, :net, :tax, :total, :refund, :u, clock_timestamp())"
        ),
        {
            "t": ctx.tenant_id,
            "id": note_id,
            "b": bill.id,
            "br": bill.branch_id,
            "no": number,
            "y": year,
            "seq": seq,
            "r": reason,
            "net": net,
            "tax": gross - net,
            "total": gross,
            "refund": refund,
            "u": ctx.user_id,
        },
    )
    session.execute(
        text(
            "INSERT INTO credit_note_lines (tenant_id, credit_note_id, bill_id, line_no, quantity, restock, "
            "net_amount, tax_amount, gross_amount) VALUES (:t, :n, :b, :no, :q, :restock, :net, :tax, :gross)"
        ),
        [
            {
                "t": ctx.tenant_id,
                "n": note_id,
                "b": bill.id,
                "no": c.wanted.line_no,
                "q": c.wanted.quantity,
                "restock": c.wanted.restock,
                "net": c.net_amount,
                "tax": c.tax_amount,
                "gross": c.gross_amount,
            }
            for c in credits
        ],
    )
    lots = [
        {"t": ctx.tenant_id, "n": note_id, "no": c.wanted.line_no, "batch": batch, "q": quantity}
        for c in credits
        for batch, quantity in c.lots
    ]
    if lots:  # a fill's line has none: its units were never the bill's to count
        session.execute(
            text(
                "INSERT INTO credit_note_lots (tenant_id, credit_note_id, line_no, batch_id, quantity) "
                "VALUES (:t, :n, :no, :batch, :q)"
            ),
            lots,
        )
    return number


def _restock(session: Session, ctx: TenantContext, bill: Any, number: str, credits: Sequence[_Credit]) -> None:
    """Resaleable units back on the lots they were sold from (the void path's `return_to_lots`)."""
    units: dict[uuid.UUID, int] = {}
    for credit in credits:
        if credit.wanted.restock:
            for batch, quantity in credit.lots:
                units[batch] = units.get(batch, 0) + quantity
    return_to_lots(
        session,
        ctx,
        branch_id=bill.branch_id,
        lots=sorted(units.items()),
        reason=f"credit note {number} of bill {bill.number}",
        reference=number,
    )


def _give_money_back(
    session: Session,
    ctx: TenantContext,
    bill: Any,
    note_id: uuid.UUID,
    amount: Decimal,
    method: str,
    reference: str,
) -> None:
    if method == "card":
        reference = refund_to_card(session, ctx, bill_id=str(bill.id), credit_note_id=str(note_id), amount=amount)
    session.execute(
        text(
            "INSERT INTO bill_refunds (tenant_id, id, bill_id, credit_note_id, method, amount, reference, "
            "refunded_by, refunded_at) VALUES (:t, :id, :b, :n, :m, :a, :ref, :u, clock_timestamp())"
        ),
        {
            "t": ctx.tenant_id,
            "id": uuid.uuid4(),
            "b": bill.id,
            "n": note_id,
            "m": method,
            "a": amount,
            "ref": reference[:100],
            "u": ctx.user_id,
        },
    )


def refund_to_card(session: Session, ctx: TenantContext, *, bill_id: str, credit_note_id: str, amount: Decimal) -> str:
    """The hook for card refunds: Stripe refunds `amount` of the bill's card payment; returns its reference.

    Card payments (and their refunds) live in backend/billing/payments/cards.py; until it has
    `refund_card_payment(session, ctx, bill_id=..., credit_note_id=..., amount=...) -> str`, a bill
    paid by card cannot be refunded here and this says so (the credit note is not written either).
    """
    try:
        cards: Any = importlib.import_module("backend.billing.payments.cards")
    except ModuleNotFoundError:
        cards = None
    refund = getattr(cards, CARD_REFUND_FUNCTION, None)
    if refund is None:
        raise CardRefundsUnavailable(
            "Card refunds arrive with card payments: this bill was paid by card and cannot be refunded here yet."
        )
    return str(refund(session, ctx, bill_id=bill_id, credit_note_id=credit_note_id, amount=amount))


def _status_after(sold: Mapping[int, _SoldLine], credits: Sequence[_Credit]) -> BillStatus:
    now = {c.wanted.line_no: c.wanted.quantity for c in credits}
    everything = all(line.left == now.get(line.line_no, 0) for line in sold.values())
    return BillStatus.after_credit_note(in_full=everything)


# --- reading --------------------------------------------------------------------------------------


def get_credit_note(session: Session, ctx: TenantContext, credit_note_id: str) -> CreditNote:
    """One credit note with its lines, lots and refunds (in the member's branches only)."""
    require(ctx, "billing.view")
    try:
        key = uuid.UUID(str(credit_note_id))
    except ValueError:
        raise NotFound("No such credit note.") from None
    note = session.execute(
        text(
            "SELECT n.*, b.number AS bill_number, b.status AS bill_status, b.currency FROM credit_notes n "
            "JOIN bills b ON b.tenant_id = n.tenant_id AND b.id = n.bill_id WHERE n.id = :n"
        ),
        {"n": key},
    ).first()
    if note is None or not ctx.can_see_branch(note.branch_id):
        raise NotFound("No such credit note.")
    return _credit_note(session, note)


def credit_notes_of_bill(session: Session, ctx: TenantContext, bill_id: str) -> list[CreditNote]:
    """The bill's credit notes, oldest first (in the member's branches only)."""
    require(ctx, "billing.view")
    key = check.as_uuid(bill_id, "bill")
    bill = session.execute(text("SELECT branch_id FROM bills WHERE id = :b"), {"b": key}).first()
    if bill is None or not ctx.can_see_branch(bill.branch_id):
        raise NotFound("No such bill.")
    notes = session.execute(
        text(
            "SELECT n.*, b.number AS bill_number, b.status AS bill_status, b.currency FROM credit_notes n "
            "JOIN bills b ON b.tenant_id = n.tenant_id AND b.id = n.bill_id WHERE n.bill_id = :b "
            "ORDER BY n.number_year, n.number_seq"
        ),
        {"b": key},
    ).all()
    return [_credit_note(session, note) for note in notes]


def _credit_note(session: Session, note: Any) -> CreditNote:
    lots: dict[int, list[CreditedLot]] = {}
    for row in session.execute(
        text(
            "SELECT x.line_no, x.batch_id, b.lot_number, b.expiry_date, x.quantity FROM credit_note_lots x "
            "JOIN batches b ON b.tenant_id = x.tenant_id AND b.id = x.batch_id WHERE x.credit_note_id = :n "
            "ORDER BY x.line_no, b.expiry_date DESC, b.lot_number"
        ),
        {"n": note.id},
    ):
        lots.setdefault(row.line_no, []).append(
            CreditedLot(str(row.batch_id), row.lot_number, row.expiry_date, row.quantity)
        )
    lines = [
        CreditNoteLine(
            r.line_no,
            r.description,
            r.quantity,
            r.restock,
            r.net_amount,
            r.tax_amount,
            r.gross_amount,
            lots.get(r.line_no, []),
        )
        for r in session.execute(
            text(
                "SELECT c.*, l.description FROM credit_note_lines c JOIN bill_lines l ON l.tenant_id = c.tenant_id "
                "AND l.bill_id = c.bill_id AND l.line_no = c.line_no WHERE c.credit_note_id = :n ORDER BY c.line_no"
            ),
            {"n": note.id},
        )
    ]
    cash = minor_unit(note.currency)
    refunds = [
        Refund(str(r.id), r.method, r.amount.quantize(cash), r.reference, r.refunded_at)
        for r in session.execute(
            text("SELECT * FROM bill_refunds WHERE credit_note_id = :n ORDER BY refunded_at, id"), {"n": note.id}
        )
    ]
    return CreditNote(
        id=str(note.id),
        number=note.number,
        bill_id=str(note.bill_id),
        bill_number=note.bill_number,
        bill_status=BillStatus(note.bill_status),
        branch_id=str(note.branch_id),
        currency=note.currency,
        reason=note.reason,
        net_total=note.net_total,
        tax_total=note.tax_total,
        total=note.total,
        amount_refunded=note.amount_refunded.quantize(cash),
        created_by=str(note.created_by) if note.created_by else None,
        created_at=note.created_at,
        lines=lines,
        refunds=refunds,
    )


def refundable_quantities(session: Session, ctx: TenantContext, bill_id: str) -> dict[int, int]:
    """Units per bill line still out with the customer (sold minus credited), for a refund form."""
    require(ctx, "billing.view")
    key = check.as_uuid(bill_id, "bill")
    branch = session.execute(text("SELECT branch_id FROM bills WHERE id = :b"), {"b": key}).scalar()
    if branch is None or not ctx.can_see_branch(branch):
        raise NotFound("No such bill.")
    return {line.line_no: line.left for line in _sold_lines(session, key).values()}
