"""Insurance claims in bulk (the demo chain): payers, patients' coverage and claims through their life.

`ClaimsBook` applies the rules of backend/billing/claims/service.py in memory and writes its tables with COPY
in the caller's transaction:

- A claim belongs to an issued bill that names the patient, through one of that patient's active
  coverages; the claimed amount is at most what the bill still owes, and claimed + copay is the
  bill's amount due. One claim per bill.
- draft -> submitted -> approved (the whole claim) / partially_approved (less) / rejected (a reason)
  -> paid; each step is a `claim_events` row. The payer's payment is a payment on the bill (`other`,
  reference `claim:<id>`) through the sales book, so it lands on the branch's financial chain.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from backend.billing.bills.totals import round_to_currency
from backend.billing.bulk import BulkBill, SalesBook
from backend.billing.claims.service import TRANSITIONS
from backend.billing.statuses import BillStatus, ClaimStatus
from backend.core.bulk import copy_rows
from backend.protection.keys import chain_keys

ZERO = Decimal(0)


@dataclass(frozen=True)
class BulkCoverage:
    id: str
    patient_id: str
    payer_id: str
    member_id: str
    plan: str
    group_number: str
    active: bool
    created_at: datetime


@dataclass
class BulkClaim:
    id: str
    bill: BulkBill
    coverage: BulkCoverage
    claimed_amount: Decimal
    copay: Decimal
    created_by: str | None
    created_at: datetime
    status: str = ClaimStatus.DRAFT
    approved_amount: Decimal | None = None
    paid_amount: Decimal | None = None
    rejection_reason: str = ""
    submitted_at: datetime | None = None
    decided_at: datetime | None = None
    paid_at: datetime | None = None
    updated_at: datetime | None = None
    events: list[tuple[Any, ...]] = field(default_factory=list)


def _line(value: str, limit: int, *, required: bool = False) -> str:
    cleaned = " ".join(value.split())
    if (required and not cleaned) or len(cleaned) > limit:
        raise ValueError(f"{value!r}: 1 to {limit} characters" if required else f"at most {limit} characters")
    return cleaned


class ClaimsBook:
    """One chain's payers, coverages and claims, changed only through the claims rules."""

    def __init__(self, tenant_id: str, sales: SalesBook, new_id: Callable[[], str]) -> None:
        self.tenant_id = tenant_id
        self.sales = sales
        self._new_id = new_id
        self.payers: list[tuple[str, str, str, str, datetime]] = []  # id, name, code, contact, created
        self.coverages: dict[str, BulkCoverage] = {}
        self.claims: dict[str, BulkClaim] = {}  # by bill id: one claim per bill

    def add_payer(self, *, name: str, payer_code: str, contact: str, created_at: datetime) -> str:
        code = _line(payer_code, 40, required=True)
        if any(existing.lower() == code.lower() for _, _, existing, _, _ in self.payers):
            raise ValueError(f"a payer with code {code} already exists")
        payer_id = self._new_id()
        self.payers.append((payer_id, _line(name, 120, required=True), code, _line(contact, 300), created_at))
        return payer_id

    def add_coverage(
        self,
        *,
        patient_id: str,
        payer_id: str,
        member_id: str,
        plan: str,
        group_number: str,
        created_at: datetime,
        active: bool = True,
    ) -> BulkCoverage:
        if payer_id not in {payer[0] for payer in self.payers}:
            raise ValueError("no such payer")
        coverage = BulkCoverage(
            self._new_id(),
            patient_id,
            payer_id,
            _line(member_id, 60, required=True),
            _line(plan, 120),
            _line(group_number, 60),
            active,
            created_at,
        )
        self.coverages[coverage.id] = coverage
        return coverage

    # --- the lifecycle ----------------------------------------------------------------------------

    def _step(self, claim: BulkClaim, action: str, to: str, at: datetime, actor: str | None, **event: Any) -> None:
        claim.bill.changing()  # a claim is written with its bill: once written, it may not move on
        allowed, rule = TRANSITIONS[action]
        if claim.status not in allowed:
            raise ValueError(f"the claim for bill {claim.bill.number} is {claim.status}: {rule}")
        if at < (claim.updated_at or claim.created_at):
            raise ValueError("claim steps arrive in time order")
        claim.events.append((self._new_id(), claim.status, to, event.get("amount"), event.get("note", ""), actor, at))
        claim.status, claim.updated_at = to, at

    def draft(
        self, bill: BulkBill, coverage: BulkCoverage, claimed: Decimal, *, at: datetime, actor: str | None
    ) -> BulkClaim:
        """The insurer's portion of an issued bill (`draft_claim`'s checks)."""
        if bill.status not in BillStatus.issued():
            raise ValueError(f"bill {bill.number} is {bill.status}: only an issued bill is claimed")
        if bill.patient_id is None or coverage.patient_id != bill.patient_id or not coverage.active:
            raise ValueError("a claim goes through an active coverage of the bill's patient")
        if bill.id in self.claims:
            raise ValueError(f"bill {bill.number} already has a claim: one claim per bill")
        if claimed <= 0 or claimed != round_to_currency(claimed, bill.currency) or claimed > bill.owed:
            raise ValueError(f"a claim is more than zero and at most the {bill.owed} still owed")
        claim = BulkClaim(self._new_id(), bill, coverage, claimed, bill.total_due - claimed, actor, at, updated_at=at)
        claim.events.append((self._new_id(), None, ClaimStatus.DRAFT, claimed, "", actor, at))
        self.claims[bill.id] = claim
        return claim

    def submit(self, claim: BulkClaim, *, at: datetime, actor: str | None) -> None:
        self._step(claim, "submit", ClaimStatus.SUBMITTED, at, actor)
        claim.submitted_at = at

    def decide(
        self,
        claim: BulkClaim,
        decision: str,
        *,
        at: datetime,
        actor: str | None,
        approved: Decimal = ZERO,
        reason: str = "",
    ) -> None:
        """approved (the whole claim), partially_approved (less than claimed) or rejected (with the payer's reason)."""
        if decision not in ClaimStatus.decisions():
            raise ValueError("the decision is approved, partially_approved or rejected")
        if decision == ClaimStatus.APPROVED:
            amount, why = claim.claimed_amount, ""
        elif decision == ClaimStatus.REJECTED:
            amount, why = ZERO, _line(reason, 300)
            if len(why) < 3:
                raise ValueError("a rejection gives the payer's reason")
        else:
            amount, why = approved, ""
            if not 0 < amount < claim.claimed_amount:
                raise ValueError("a partial approval is more than zero and less than claimed")
        self._step(claim, "decide", decision, at, actor, amount=amount, note=why)
        claim.approved_amount, claim.rejection_reason, claim.decided_at = amount, why, at

    def pay(self, claim: BulkClaim, amount: Decimal, *, at: datetime, actor: str | None) -> None:
        """The payer paid (up to what it approved): the claim is paid, the bill takes the money."""
        if claim.approved_amount is None or amount > claim.approved_amount:
            raise ValueError("a payer pays at most what it approved")
        if claim.status not in TRANSITIONS["pay"][0]:
            raise ValueError(f"the claim is {claim.status}: {TRANSITIONS['pay'][1]}")
        self.sales.pay(claim.bill, tendered=amount, at=at, actor=actor, method="other", reference=f"claim:{claim.id}")
        self._step(claim, "pay", ClaimStatus.PAID, at, actor, amount=amount)
        claim.paid_amount, claim.paid_at = amount, at

    # --- writing ----------------------------------------------------------------------------------

    def write_payers_and_coverages(self, session: Session) -> dict[str, int]:
        """Before the bills' claims, after the patients. Member and group ids are sealed (issue 16)."""
        t = self.tenant_id
        keys = chain_keys(session, t)
        return {
            "payers": copy_rows(
                session,
                "payers",
                ("tenant_id", "id", "name", "payer_code", "contact", "created_at"),
                ((t, *payer) for payer in self.payers),
            ),
            "patient_coverages": copy_rows(
                session,
                "patient_coverages",
                (
                    "tenant_id",
                    "id",
                    "patient_id",
                    "payer_id",
                    "member_id_enc",
                    "plan",
                    "group_number_enc",
                    "active",
                    "created_at",
                ),
                (
                    (
                        t,
                        c.id,
                        c.patient_id,
                        c.payer_id,
                        keys.seal("patient_coverages", "member_id_enc", c.id, c.member_id),
                        c.plan,
                        keys.seal("patient_coverages", "group_number_enc", c.id, c.group_number),
                        c.active,
                        c.created_at,
                    )
                    for c in self.coverages.values()
                ),
            ),
        }

    def write_claims(self, session: Session, bills: Sequence[BulkBill]) -> dict[str, int]:
        """The claims of these bills (settled: see `SalesBook.settled`), after the bills."""
        t = self.tenant_id
        claims = [claim for b in bills if (claim := self.claims.get(b.id)) is not None]
        return {
            "claims": copy_rows(
                session,
                "claims",
                (
                    "tenant_id",
                    "id",
                    "bill_id",
                    "patient_id",
                    "coverage_id",
                    "claimed_amount",
                    "copay",
                    "status",
                    "approved_amount",
                    "paid_amount",
                    "rejection_reason",
                    "submitted_at",
                    "decided_at",
                    "paid_at",
                    "created_by",
                    "created_at",
                    "updated_at",
                ),
                (
                    (
                        t,
                        c.id,
                        c.bill.id,
                        c.bill.patient_id,
                        c.coverage.id,
                        c.claimed_amount,
                        c.copay,
                        c.status,
                        c.approved_amount,
                        c.paid_amount,
                        c.rejection_reason,
                        c.submitted_at,
                        c.decided_at,
                        c.paid_at,
                        c.created_by,
                        c.created_at,
                        c.updated_at,
                    )
                    for c in claims
                ),
            ),
            "claim_events": copy_rows(
                session,
                "claim_events",
                (
                    "tenant_id",
                    "id",
                    "claim_id",
                    "from_status",
                    "to_status",
                    "amount",
                    "note",
                    "actor_user_id",
                    "created_at",
                ),
                ((t, event[0], c.id, *event[1:]) for c in claims for event in c.events),
            ),
        }
