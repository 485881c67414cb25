"""A bill's rows mapped to its object, in one place: `load_bill` reads a bill, its lines and payments.

Every sub-domain that hands a bill out (bills, payments, cards, claims, credit notes) reads it here, so
a new column is mapped once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.bills.totals import LineAmounts, TaxBand, tax_bands
from backend.billing.statuses import BillStatus
from backend.core.money import minor_unit


@dataclass(frozen=True)
class BillLine:
    line_no: int
    medicine_id: str
    description: str
    schedule: str
    quantity: int
    unit_price: Decimal
    line_discount: Decimal
    bill_discount_share: Decimal
    tax_category: str
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    gross_amount: Decimal
    prescription_ref: str
    override_reason: str
    override_by: str | None
    fill_id: str | None = None  # a prescription fill handed over (its stock moved when it was filled)


@dataclass(frozen=True)
class Payment:
    id: str
    bill_id: str
    method: str
    amount: Decimal  # applied to the bill
    tendered: Decimal
    change_due: Decimal
    reference: str
    received_at: datetime


@dataclass(frozen=True)
class Bill:
    id: str
    branch_id: str
    number: str | None
    status: BillStatus
    currency: str
    prices_include_tax: bool
    customer_name: str
    bill_discount: Decimal
    lines_total: Decimal
    discount_total: Decimal
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    rounding: Decimal
    total_due: Decimal
    amount_paid: Decimal
    outstanding: Decimal
    lines: list[BillLine]
    taxes: list[TaxBand]
    payments: list[Payment]
    created_at: datetime
    finalized_at: datetime | None
    voided_at: datetime | None
    void_reason: str
    patient_id: str | None = None  # None: sold to a walk-in customer


def load_bill(session: Session, bill_id: uuid.UUID) -> Bill:
    """The bill with its lines, payments and tax bands, as every billing module hands it out (no scope
    check: callers look the bill up in the member's branches first)."""
    bill = session.execute(text("SELECT * FROM bills WHERE id = :b"), {"b": bill_id}).one()
    lines = [
        BillLine(
            r.line_no,
            str(r.medicine_id),
            r.description,
            r.schedule,
            r.quantity,
            r.unit_price,
            r.line_discount,
            r.bill_discount_share,
            r.tax_category,
            r.tax_rate,
            r.net_amount,
            r.tax_amount,
            r.gross_amount,
            r.prescription_ref,
            r.override_reason,
            str(r.override_by) if r.override_by else None,
            str(r.fill_id) if r.fill_id else None,
        )
        for r in session.execute(text("SELECT * FROM bill_lines WHERE bill_id = :b ORDER BY line_no"), {"b": bill_id})
    ]
    cash = minor_unit(bill.currency)  # money that changes hands is shown in the currency's minor unit
    payments = [
        Payment(
            str(r.id),
            str(r.bill_id),
            r.method,
            r.amount.quantize(cash),
            r.tendered.quantize(cash),
            r.change_due.quantize(cash),
            r.reference,
            r.received_at,
        )
        for r in session.execute(
            text("SELECT * FROM bill_payments WHERE bill_id = :b ORDER BY received_at, id"), {"b": bill_id}
        )
    ]
    bands = tax_bands(
        [
            LineAmounts(
                line.unit_price * line.quantity,
                line.line_discount,
                line.bill_discount_share,
                line.tax_category,
                line.tax_rate,
                line.net_amount,
                line.tax_amount,
                line.gross_amount,
            )
            for line in lines
        ]
    )
    owed = Decimal(0) if bill.status == BillStatus.VOIDED else bill.total_due - bill.amount_paid
    return Bill(
        id=str(bill.id),
        branch_id=str(bill.branch_id),
        number=bill.number,
        status=BillStatus(bill.status),
        currency=bill.currency,
        prices_include_tax=bill.prices_include_tax,
        customer_name=bill.customer_name,
        bill_discount=bill.bill_discount,
        lines_total=bill.lines_total,
        discount_total=bill.discount_total,
        net_total=bill.net_total,
        tax_total=bill.tax_total,
        total=bill.total,
        rounding=bill.rounding,
        total_due=bill.total_due.quantize(cash),
        amount_paid=bill.amount_paid.quantize(cash),
        outstanding=owed.quantize(cash),
        lines=lines,
        taxes=bands,
        payments=payments,
        created_at=bill.created_at,
        finalized_at=bill.finalized_at,
        voided_at=bill.voided_at,
        void_reason=bill.void_reason,
        patient_id=str(bill.patient_id) if bill.patient_id else None,
    )
