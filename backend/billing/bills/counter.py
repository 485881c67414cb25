"""The counter (POS page): the till's open draft, the lots FEFO would take for it, and a cash sale in one go.

- The page keeps its sale as a draft bill in the database, so a reload or a crashed browser loses
  nothing: `open_draft` finds the member's latest draft in the branch again.
- Every change of the draft comes back with a FEFO preview of its lines (the earliest usable lot and
  how many can be sold), read in the same transaction. It is only a preview: the lots really taken
  are decided by `dispense` when the bill is finalized, and `sell_for_cash` reports those.
- `sell_for_cash` finalizes and takes the cash in one transaction: cash short of the amount due, or a
  line out of stock, sells nothing and leaves the bill a draft.
- A card sale: `start_card_sale` opens a PaymentIntent for the draft on the chain's Stripe account (the
  card is presented on the reader, never to us); `finish_card_sale` asks whether the reader has
  authorized it, then finalizes and captures (`cards.complete_card_payment`), reporting the lots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.bills.repository import Bill, Payment
from backend.billing.bills.service import create_draft, finalize_bill, get_bill, update_draft
from backend.billing.payments.cards import CardCompletion, StartedCardPayment, complete_card_payment, start_card_payment
from backend.billing.payments.service import record_payment
from backend.billing.statuses import BillStatus
from backend.core import validation as check
from backend.core.errors import NotFound, ValidationFailed
from backend.inventory.service import LinePreview, fefo_preview
from tenants.context import TenantContext
from tenants.roles import require


@dataclass(frozen=True)
class CounterDraft:
    bill: Bill
    previews: dict[str, LinePreview]  # by medicine id


@dataclass(frozen=True)
class PickedLot:
    """A lot a finalized line was really taken from."""

    line_no: int
    description: str
    lot_number: str
    expiry_date: date
    quantity: int


@dataclass(frozen=True)
class CashSale:
    bill: Bill
    payment: Payment | None  # None when nothing was owed (e.g. a bill discounted to zero)
    change_due: Decimal
    picks: list[PickedLot]


@dataclass(frozen=True)
class CardSale:
    """A card payment completed at the counter: captured and sold (with its lots), or released."""

    completion: CardCompletion
    picks: list[PickedLot]  # empty when the authorization was released and nothing was sold


def _with_preview(session: Session, ctx: TenantContext, bill: Bill) -> CounterDraft:
    wanted: dict[str, int] = {}
    for line in bill.lines:
        if line.fill_id is None:  # a fill's stock already left the shelf when it was filled
            wanted[line.medicine_id] = wanted.get(line.medicine_id, 0) + line.quantity
    return CounterDraft(bill, fefo_preview(session, ctx, bill.branch_id, wanted))


def open_draft(session: Session, ctx: TenantContext, branch_id: str) -> CounterDraft | None:
    """The member's most recent draft in the branch (the sale they were ringing up), or None."""
    require(ctx, "billing.sell")
    if not ctx.can_see_branch(check.as_uuid(branch_id, "branch")):
        raise NotFound("No such branch.")
    bill_id = session.execute(
        text(
            "SELECT id FROM bills WHERE branch_id = :br AND status = :draft AND created_by = :u "
            "ORDER BY created_at DESC LIMIT 1"
        ),
        {"br": branch_id, "draft": BillStatus.DRAFT, "u": ctx.user_id},
    ).scalar()
    if bill_id is None:
        return None
    return _with_preview(session, ctx, get_bill(session, ctx, str(bill_id)))


def save_draft(
    session: Session,
    ctx: TenantContext,
    *,
    branch_id: str,
    bill_id: str | None,
    lines: Sequence[Mapping[str, Any]],
    bill_discount: str = "0",
    patient_id: str | None = None,
    new_bill_id: str | None = None,
) -> CounterDraft:
    """Open the draft (no `bill_id`) or replace its lines, discount and patient; with the FEFO preview.

    Lines are as `create_draft` takes them; no `patient_id` is a walk-in customer. `new_bill_id` is
    the id the counter chose for a draft it opens with a pharmacist's override, signed for that id
    first. Bad input raises and changes nothing.
    """
    if bill_id:
        bill = update_draft(session, ctx, bill_id, lines=lines, bill_discount=bill_discount, patient_id=patient_id)
    else:
        bill = create_draft(
            session,
            ctx,
            branch_id=branch_id,
            lines=lines,
            bill_discount=bill_discount,
            patient_id=patient_id,
            bill_id=new_bill_id,
        )
    return _with_preview(session, ctx, bill)


def sell_for_cash(
    session: Session,
    ctx: TenantContext,
    bill_id: str,
    cash_received: str,
    *,
    pickup: Mapping[str, Any] | None = None,
) -> CashSale:
    """Finalize a draft and take its cash together, all or nothing: cash short of the amount due (known
    only once finalizing has priced the bill at the time of sale) rolls the stock moves and the number
    back with it. The adapter runs it again when a concurrent sale got to a batch first (STOCK_CHANGED).
    A bill that hands over prescription fills records their `pickup` in the same transaction."""
    cash = check.money(cash_received, "cash_received")  # before any work, so a typo costs nothing
    bill = finalize_bill(session, ctx, bill_id, pickup=pickup)
    if cash < bill.total_due:
        raise ValidationFailed(
            f"Cash received ({cash}) is less than the amount due ({bill.total_due}); nothing was sold.",
            field="cash_received",
        )
    payment = None
    change = cash
    if bill.total_due > 0:
        receipt = record_payment(session, ctx, bill_id=bill.id, tendered=str(cash), method="cash")
        payment, change = receipt.payment, receipt.payment.change_due
    return CashSale(get_bill(session, ctx, bill.id), payment, change, _picked_lots(session, bill.id))


def start_card_sale(session: Session, ctx: TenantContext, bill_id: str, attempt: str) -> StartedCardPayment:
    """Open a card payment for the draft's amount due; `attempt` is the till's key for this try."""
    return start_card_payment(session, ctx, bill_id, f"counter-card:{attempt}")


def finish_card_sale(session: Session, ctx: TenantContext, payment_id: str) -> CardSale:
    """Once the reader has authorized the card: finalize, capture, and list the lots taken.

    No card yet raises CardNotPresented, a declined card CardDeclined (still a draft, nothing charged);
    a finalize that fails releases the authorization and comes back `released` with its message. A
    raced batch runs the whole unit again (the adapter passes STOCK_CHANGED); the same key reaches the
    same capture.
    """
    completion = complete_card_payment(session, ctx, payment_id, f"counter-card:{payment_id}")
    picks = [] if completion.released else _picked_lots(session, completion.bill.id)
    return CardSale(completion, picks)


def _picked_lots(session: Session, bill_id: str) -> list[PickedLot]:
    rows = session.execute(
        text(
            "SELECT p.line_no, l.description, b.lot_number, b.expiry_date, p.quantity FROM bill_picks p "
            "JOIN bill_lines l ON l.tenant_id = p.tenant_id AND l.bill_id = p.bill_id AND l.line_no = p.line_no "
            "JOIN batches b ON b.tenant_id = p.tenant_id AND b.id = p.batch_id "
            "WHERE p.bill_id = :b ORDER BY p.line_no, b.expiry_date, b.id"
        ),
        {"b": bill_id},
    ).all()
    return [PickedLot(r.line_no, r.description, r.lot_number, r.expiry_date, r.quantity) for r in rows]
