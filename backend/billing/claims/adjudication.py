"""Adjudicating a fill's claim when the fill is made: a small interface, and the offline default.

A claims network (NCPDP D.0 through a switch) would answer in seconds with the payer's decision and
the patient's copay; until one is connected, `OfflineAdjudicator` applies the coverage's copay rule
(a flat copay per fill, on the patient's coverage) and approves the rest. A network adjudicator is a
class with the same `adjudicate` method, installed with `use_adjudicator` at start-up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.statuses import ClaimStatus
from backend.core.money import round_to_currency


@dataclass(frozen=True)
class ClaimRequest:
    """What the payer is asked: the fill's price under one of the patient's coverages."""

    payer_code: str
    member_id: str
    plan: str
    group_number: str
    fill_code: str
    quantity: int
    price: Decimal  # the fill's price: medicine price x quantity
    copay_rule: Decimal  # the coverage's flat copay per fill
    currency: str


@dataclass(frozen=True)
class Adjudication:
    decision: ClaimStatus  # approved, partially_approved or rejected
    approved_amount: Decimal  # what the payer pays
    reason: str = ""  # the payer's reason for a rejection


class Adjudicator(Protocol):
    def adjudicate(self, request: ClaimRequest) -> Adjudication: ...


class OfflineAdjudicator:
    """Approves the price less the coverage's copay (the patient never pays more than the price)."""

    def adjudicate(self, request: ClaimRequest) -> Adjudication:
        copay = min(request.copay_rule, request.price)
        return Adjudication(ClaimStatus.APPROVED, round_to_currency(request.price - copay, request.currency))


_current: list[Adjudicator] = [OfflineAdjudicator()]


def adjudicator() -> Adjudicator:
    return _current[0]


def use_adjudicator(new: Adjudicator) -> Adjudicator:
    """Install another adjudicator (a network's, or a test's); returns the one it replaces."""
    old, _current[0] = _current[0], new
    return old


def patient_portion_of_fill(session: Session, fill_id: uuid.UUID, price: Decimal) -> Decimal:
    """What the patient pays for a fill at `price`: the price less what the payer granted (the copay),
    or the whole price when it was not claimed, rejected or reversed. Read by the counter's bill."""
    row = session.execute(text("SELECT status, approved_amount FROM claims WHERE fill_id = :f"), {"f": fill_id}).first()
    if row is None or row.status not in ClaimStatus.granted() or not row.approved_amount:
        return price
    return max(price - row.approved_amount, Decimal(0))
