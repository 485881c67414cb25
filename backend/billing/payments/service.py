"""Payments taken at the till for an issued bill: cash (with change) or another tender by reference.

The bill becomes partially paid or paid from the sum of its payments; payment rows are never edited.
Card payments (backend/billing/payments/cards.py) end in the same bill_payments rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.audit_chain import record_bill_event
from backend.billing.bills.repository import Payment
from backend.billing.bills.service import locked_bill
from backend.billing.statuses import BillStatus
from backend.core import validation as check
from backend.core.errors import Conflict, ValidationFailed
from backend.core.money import minor_unit, round_to_currency
from tenants.context import TenantContext
from tenants.roles import require

PAYMENT_METHODS = ("cash", "other")


@dataclass(frozen=True)
class PaymentReceipt:
    """A payment as the till shows it: what was applied, the change, and what is still owed."""

    payment: Payment
    bill_status: BillStatus
    outstanding: Decimal


def record_payment(
    session: Session, ctx: TenantContext, *, bill_id: str, tendered: str, method: str = "cash", reference: str = ""
) -> PaymentReceipt:
    """Apply money handed over to a finalized bill.

    Cash above what is owed is applied up to the amount due and the rest is change. Another tender
    (`other`, e.g. a card terminal) needs its reference and may not exceed what is owed. The bill
    becomes partially paid or paid from the sum of its payments.
    """
    require(ctx, "billing.sell")
    if method not in PAYMENT_METHODS:
        raise ValidationFailed("The payment method is cash or other.", field="method")
    reference = " ".join(str(reference or "").split())
    if len(reference) > 100:
        raise ValidationFailed("At most 100 characters here.", field="reference")
    if method == "other" and not reference:
        raise ValidationFailed("Enter the terminal or voucher reference of this payment.", field="reference")
    money = check.money(str(tendered), "tendered")
    bill = locked_bill(session, ctx, bill_id)
    if money <= 0:
        raise ValidationFailed("The amount must be more than zero.", field="tendered")
    if money != round_to_currency(money, bill.currency):
        raise ValidationFailed(
            f"Amounts in {bill.currency} are counted in steps of {minor_unit(bill.currency)}.", field="tendered"
        )
    if bill.status == BillStatus.DRAFT:
        raise Conflict("Finalize the bill before taking payment.")
    if bill.status == BillStatus.VOIDED:
        raise Conflict("This bill is voided; it takes no payment.")
    owed = bill.total_due - bill.amount_paid
    if owed <= 0:
        raise Conflict(f"Bill {bill.number} is already paid.")
    if method == "other" and money > owed:
        raise ValidationFailed(f"A non-cash payment cannot be more than the {owed} owed.", field="tendered")
    applied = min(money, owed)
    payment_id = uuid.uuid4()
    received_at = session.execute(
        text(
            # The clock, not the transaction's start: payments list in the order the money came in.
            "INSERT INTO bill_payments (tenant_id, id, bill_id, method, amount, tendered, change_due, reference, "
            "received_by, received_at) VALUES (:t, :id, :b, :method, :amount, :tendered, :change, :ref, :u, "
            "clock_timestamp()) RETURNING received_at"
        ),
        {
            "t": ctx.tenant_id,
            "id": payment_id,
            "b": bill.id,
            "method": method,
            "amount": applied,
            "tendered": money,
            "change": money - applied,
            "ref": reference,
            "u": ctx.user_id,
        },
    ).scalar_one()
    status = BillStatus.after_payment(settled=applied == owed)
    session.execute(
        text("UPDATE bills SET amount_paid = amount_paid + :a, status = :s, updated_at = now() WHERE id = :b"),
        {"a": applied, "s": status, "b": bill.id},
    )
    cash = minor_unit(bill.currency)
    payment = Payment(
        str(payment_id),
        str(bill.id),
        method,
        applied.quantize(cash),
        money.quantize(cash),
        (money - applied).quantize(cash),
        reference,
        received_at,
    )
    record_bill_event(session, ctx, "payment.recorded", bill.id, payment_id=payment_id)
    return PaymentReceipt(payment, status, (owed - applied).quantize(cash))
