"""Bills in bulk (the demo chain): sales, payments, voids, credit notes and refunds, by billing's rules.

`SalesBook` applies the rules of backend/billing (service.py, credit_notes.py, totals.py) in memory,
while a bulk loader replays months of trading, and then writes billing's tables with COPY
(backend/core/bulk.py) in the caller's transaction:

- A sale is priced by `totals.bill_amounts` with the branch's tax settings, takes its stock FEFO from
  inventory (`StockBook.dispense`, after checking every line can be served, so a short line sells
  nothing) and takes the branch's next number for the local year of the sale. Sales of a branch must
  arrive in time order (checked), so numbers are gap-free and follow time as the counter's do.
- Prescription-only and controlled lines carry their prescription reference.
- Payments are cash (change given) or other (with a reference, never more than is owed); the bill is
  partially paid, then paid.
- A void is only for an issued bill nobody has paid; its units go back on the lots they came from.
- A credit note follows credit_notes.py: line amounts pro rata and cumulative at 4 decimals, money
  back so that the refunds so far are the credited total rounded to cash, units counted against the
  lots picked last first, resaleable units restocked, the bill partially refunded, then refunded.
- Every finalize, payment, void and credit note is an event of the branch's financial chain with the
  details the live services record (`bill_event_details`, `credit_note_event_details`); they are
  appended in time order by `append_financial_events`, which computes the same hashes. Voids and
  credit notes are also tenant audit events (`audit_events`, appended by the caller with
  `tenants.audit.append_audit_events` so the chain's tenant-wide log stays in time order).

Writing follows the counter's order: the bills as drafts, their lines (a trigger accepts lines only
on drafts), then one UPDATE issues them with their numbers, then payments, credit notes, refunds and
the chains; picks and credit notes' lots once inventory has written the lots; the number counters.
A loader may write a branch's settled bills while it still sells (`settled`, `events_before`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.audit_chain import NewFinancialEvent, append_financial_events, bill_event_details
from backend.billing.bills.totals import (
    FOUR_PLACES,
    LineAmounts,
    LineInput,
    TaxSettings,
    bill_amounts,
    round_to_currency,
    to_four_places,
)
from backend.billing.credit_notes.service import ReturnedLine, credit_note_event_details
from backend.billing.payments.service import PAYMENT_METHODS
from backend.billing.statuses import BillStatus
from backend.core.bulk import copy_rows
from backend.inventory.bulk import BulkLot, StockBook
from tenants.audit import NewAuditEvent

ZERO = Decimal(0)


def _four(amount: Decimal) -> Decimal:
    """As numeric(14,4) stores it (and so as the live services' events read it back)."""
    return amount.quantize(FOUR_PLACES)


@dataclass(frozen=True)
class BulkBranch:
    id: str
    code: str
    time_zone: str
    tax: TaxSettings


@dataclass(frozen=True)
class SaleLine:
    """A line as the counter asks for it: the catalog decides price, schedule and tax."""

    medicine_id: str
    quantity: int
    prescription_ref: str = ""
    line_discount: Decimal = ZERO


@dataclass
class BulkLine:
    line_no: int
    medicine_id: str
    description: str
    schedule: str
    quantity: int
    unit_price: Decimal
    priced: LineAmounts
    prescription_ref: str
    picks: list[tuple[BulkLot, int]]
    credited: int = 0
    credited_net: Decimal = ZERO
    credited_gross: Decimal = ZERO
    credited_lots: dict[str, int] = field(default_factory=dict)


@dataclass
class BulkPayment:
    id: str
    bill_id: str
    method: str
    amount: Decimal
    tendered: Decimal
    change_due: Decimal
    reference: str
    received_by: str | None
    received_at: datetime


@dataclass
class BulkBill:
    """A bill as its row will be written; attributes named as the columns (events read them)."""

    id: str
    branch: BulkBranch
    currency: str
    number: str
    number_year: int
    number_seq: int
    status: str
    lines: list[BulkLine]
    patient_id: str | None
    customer_name: str
    bill_discount: Decimal
    lines_total: Decimal
    discount_total: Decimal
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    rounding: Decimal
    total_due: Decimal
    created_by: str | None
    created_at: datetime
    finalized_at: datetime
    updated_at: datetime
    amount_paid: Decimal = ZERO
    voided_by: str | None = None
    voided_at: datetime | None = None
    void_reason: str = ""
    credited: Decimal = ZERO  # sum of its credit notes' totals
    refunded: Decimal = ZERO  # money given back by them
    payments: list[BulkPayment] = field(default_factory=list)
    credit_notes: list[BulkCreditNote] = field(default_factory=list)
    written: bool = False  # handed to a writer: it may not change any more

    @property
    def owed(self) -> Decimal:
        return self.total_due - self.amount_paid

    def changing(self) -> None:
        if self.written:
            raise ValueError(f"bill {self.number} was written already; a bulk loader changes a bill only before")


@dataclass
class BulkRefund:
    id: str
    method: str
    amount: Decimal
    reference: str
    refunded_by: str | None
    refunded_at: datetime


@dataclass
class BulkCreditNote:
    id: str
    bill: BulkBill
    number: str
    number_year: int
    number_seq: int
    reason: str
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    amount_refunded: Decimal
    created_by: str | None
    created_at: datetime
    lines: list[tuple[int, int, bool, Decimal, Decimal, Decimal]]  # line_no, quantity, restock, net, tax, gross
    lots: list[tuple[int, str, int]]  # line_no, lot id, quantity
    refund: BulkRefund | None


class SalesBook:
    """One chain's bills, changed only through billing's rules, written at the end (see the module)."""

    def __init__(self, tenant_id: str, currency: str, stock: StockBook, new_id: Callable[[], str]) -> None:
        self.tenant_id = tenant_id
        self.currency = currency
        self.stock = stock
        self._new_id = new_id
        # By branch, in the order they were sold: a loader writes the older, settled bills of a branch
        # while it replays the newer ones (see `settled`).
        self.bills: dict[str, list[BulkBill]] = defaultdict(list)
        self.bill_counters: dict[tuple[str, int], int] = defaultdict(int)
        self.credit_note_counters: dict[tuple[str, int], int] = defaultdict(int)
        self.events: dict[str, list[NewFinancialEvent]] = defaultdict(list)  # not yet handed to a writer
        self.audit_events: list[NewAuditEvent] = []
        self._last_sale: dict[str, datetime] = {}
        self._handed: dict[str, int] = defaultdict(int)  # bills of a branch handed to a writer so far

    def _event(
        self,
        branch: BulkBranch,
        at: datetime,
        actor: str | None,
        action: str,
        kind: str,
        entity: str,
        details: dict[str, Any],
    ) -> None:
        self.events[branch.id].append(NewFinancialEvent(at, actor, action, kind, entity, details))

    # --- selling ----------------------------------------------------------------------------------

    def sell(
        self,
        branch: BulkBranch,
        lines: Sequence[SaleLine],
        *,
        at: datetime,
        local_date: date,
        seller: str | None,
        opened_at: datetime | None = None,
        patient_id: str | None = None,
        customer_name: str = "",
        bill_discount: Decimal = ZERO,
    ) -> BulkBill:
        """Finalize a sale at `at` (the branch's `local_date`): priced, numbered, its stock taken FEFO.

        Raises OutOfStock, selling nothing, when a line cannot be served from usable lots.
        """
        if not lines:
            raise ValueError("a bill needs at least one line")
        last = self._last_sale.get(branch.id)
        if last is not None and at < last:
            raise ValueError("sales of a branch arrive in time order: that is what keeps their numbers gap-free")
        medicines = [self.stock.medicines[line.medicine_id] for line in lines]
        for line, medicine in zip(lines, medicines, strict=True):
            if medicine.schedule != "otc" and not line.prescription_ref:
                raise ValueError(f"{medicine.values['generic_name']} is {medicine.schedule}: it needs a prescription")
        if len({line.medicine_id for line in lines}) != len(lines):
            raise ValueError("one line per medicine on a bulk-loaded bill")  # so each line's plan stands alone
        local_day = local_date.toordinal()
        # Every line is planned before any stock moves: a short line (OutOfStock) sells nothing.
        plans = [
            self.stock.plan(branch.id, line.medicine_id, line.quantity, local_day=local_day, at=at) for line in lines
        ]
        amounts = bill_amounts(
            [
                LineInput(line.quantity, m.price, line.line_discount, m.tax_category)
                for line, m in zip(lines, medicines, strict=True)
            ],
            bill_discount=bill_discount,
            settings=branch.tax,
            currency=self.currency,
        )
        year = local_date.year
        self.bill_counters[(branch.id, year)] += 1
        seq = self.bill_counters[(branch.id, year)]
        number = f"{branch.code}-{year}-{seq:06d}"
        bill_lines = []
        for line_no, (line, medicine, priced, picks) in enumerate(
            zip(lines, medicines, amounts.lines, plans, strict=True), 1
        ):
            self.stock.take(picks, at=at, actor=seller, reference=number)
            values = medicine.values
            bill_lines.append(
                BulkLine(
                    line_no,
                    line.medicine_id,
                    f"{values['generic_name']} {values['strength']}".strip(),
                    medicine.schedule,
                    line.quantity,
                    medicine.price,
                    priced,
                    line.prescription_ref,
                    picks,
                )
            )
        bill = BulkBill(
            id=self._new_id(),
            branch=branch,
            currency=self.currency,
            number=number,
            number_year=year,
            number_seq=seq,
            status=BillStatus.PAID if amounts.total_due == 0 else BillStatus.FINALIZED,
            lines=bill_lines,
            patient_id=patient_id,
            customer_name=customer_name,
            bill_discount=bill_discount,
            lines_total=_four(amounts.lines_total),
            discount_total=_four(amounts.discount_total),
            net_total=_four(amounts.net_total),
            tax_total=_four(amounts.tax_total),
            total=_four(amounts.total),
            rounding=_four(amounts.rounding),
            total_due=_four(amounts.total_due),
            created_by=seller,
            created_at=opened_at or at,
            finalized_at=at,
            updated_at=at,
        )
        self.bills[branch.id].append(bill)
        self._last_sale[branch.id] = at
        self._event(branch, at, seller, "bill.finalized", "bill", bill.id, bill_event_details(bill))
        return bill

    def pay(
        self,
        bill: BulkBill,
        *,
        tendered: Decimal,
        at: datetime,
        actor: str | None,
        method: str = "cash",
        reference: str = "",
    ) -> BulkPayment:
        """Money handed over for an issued bill (`record_payment`'s rules)."""
        if method not in PAYMENT_METHODS:
            raise ValueError("the payment method is cash or other")
        if method == "other" and not reference:
            raise ValueError("another tender needs its reference")
        if tendered <= 0 or tendered != round_to_currency(tendered, bill.currency):
            raise ValueError(f"amounts in {bill.currency} are more than zero, in its minor unit")
        bill.changing()
        if bill.status not in BillStatus.issued() or bill.owed <= 0:
            raise ValueError(f"bill {bill.number} takes no payment ({bill.status})")
        owed = bill.owed
        if method == "other" and tendered > owed:
            raise ValueError("a non-cash payment cannot be more than is owed")
        applied = min(tendered, owed)
        payment = BulkPayment(
            self._new_id(),
            bill.id,
            method,
            _four(applied),
            _four(tendered),
            _four(tendered - applied),
            reference,
            actor,
            at,
        )
        bill.payments.append(payment)
        bill.amount_paid = _four(bill.amount_paid + applied)
        bill.status = BillStatus.after_payment(settled=applied == owed)
        bill.updated_at = at
        details = bill_event_details(bill, payment=payment)
        self._event(bill.branch, at, actor, "payment.recorded", "payment", payment.id, details)
        return payment

    def void(self, bill: BulkBill, *, reason: str, at: datetime, actor: str | None) -> None:
        """Void an issued bill nobody paid (`void_bill`): its units back on their lots, its number kept."""
        why = " ".join(reason.split())
        if not 3 <= len(why) <= 300:
            raise ValueError("a void says why (3 to 300 characters)")
        bill.changing()
        if bill.status not in BillStatus.issued() or bill.amount_paid > 0:
            raise ValueError(f"bill {bill.number} is {bill.status} with {bill.amount_paid} paid: it cannot be voided")
        was = bill.status
        picks = sorted((lot.id, quantity) for line in bill.lines for lot, quantity in line.picks)
        for lot_id, quantity in picks:
            self.stock.customer_return(
                lot_id, quantity, at=at, actor=actor, reason=f"void of bill {bill.number}", reference=bill.number
            )
        bill.status, bill.voided_by, bill.voided_at = BillStatus.VOIDED, actor, at
        bill.void_reason, bill.updated_at = why, at
        self.audit_events.append(
            NewAuditEvent(at, "bill.voided", actor, "bill", bill.id, {"number": bill.number, "was": was, "reason": why})
        )
        self._event(bill.branch, at, actor, "bill.voided", "bill", bill.id, bill_event_details(bill, was=was))

    def credit(
        self,
        bill: BulkBill,
        returned: Sequence[ReturnedLine],
        *,
        reason: str,
        at: datetime,
        local_date: date,
        actor: str | None,
        method: str = "cash",
        reference: str = "",
    ) -> BulkCreditNote:
        """A credit note against a paid bill (`issue_credit_note`'s arithmetic, see the module)."""
        why = " ".join(reason.split())
        if not 3 <= len(why) <= 300:
            raise ValueError("a credit note says why (3 to 300 characters)")
        bill.changing()
        if bill.status not in BillStatus.refundable():
            raise ValueError(f"bill {bill.number} is {bill.status}: only a bill paid in full is refunded")
        if method not in PAYMENT_METHODS or (method == "other" and not reference):
            raise ValueError("a refund goes back as cash, or other with its reference")
        credits = []
        for wanted in returned:
            line = bill.lines[wanted.line_no - 1]
            if not 0 < wanted.quantity <= line.quantity - line.credited:
                raise ValueError(f"line {line.line_no} has {line.quantity - line.credited} left to refund")
            after = line.credited + wanted.quantity
            net = to_four_places(line.priced.net_amount * after / line.quantity) - line.credited_net
            gross = to_four_places(line.priced.gross_amount * after / line.quantity) - line.credited_gross
            lots, left = [], wanted.quantity
            for lot, picked in sorted(line.picks, key=lambda pick: (pick[0].expiry_date, pick[0].id), reverse=True):
                take = min(left, picked - line.credited_lots.get(lot.id, 0))
                if take > 0:
                    lots.append((lot.id, take))
                    left -= take
            credits.append((wanted, line, net, gross, lots))
        gross_now = sum((gross for _, _, _, gross, _ in credits), ZERO)
        net_now = sum((net for _, _, net, _, _ in credits), ZERO)
        refund = round_to_currency(bill.credited + gross_now, bill.currency) - bill.refunded
        refund = min(max(refund, ZERO), bill.amount_paid - bill.refunded)
        year = local_date.year
        self.credit_note_counters[(bill.branch.id, year)] += 1
        seq = self.credit_note_counters[(bill.branch.id, year)]
        number = f"CN-{bill.branch.code}-{year}-{seq:06d}"
        note = BulkCreditNote(
            id=self._new_id(),
            bill=bill,
            number=number,
            number_year=year,
            number_seq=seq,
            reason=why,
            net_total=net_now,
            tax_total=gross_now - net_now,
            total=gross_now,
            amount_refunded=_four(refund),
            created_by=actor,
            created_at=at,
            lines=[],
            lots=[],
            refund=None,
        )
        restock: dict[str, int] = defaultdict(int)
        for wanted, line, net, gross, lots in credits:
            note.lines.append((line.line_no, wanted.quantity, wanted.restock, net, gross - net, gross))
            line.credited += wanted.quantity
            line.credited_net += net
            line.credited_gross += gross
            for lot_id, quantity in lots:
                note.lots.append((line.line_no, lot_id, quantity))
                line.credited_lots[lot_id] = line.credited_lots.get(lot_id, 0) + quantity
                if wanted.restock:
                    restock[lot_id] += quantity
        for lot_id, quantity in sorted(restock.items()):
            self.stock.customer_return(
                lot_id,
                quantity,
                at=at,
                actor=actor,
                reason=f"credit note {number} of bill {bill.number}",
                reference=number,
            )
        if refund > 0:
            note.refund = BulkRefund(self._new_id(), method, _four(refund), reference, actor, at)
        bill.credited += gross_now
        bill.refunded += refund
        bill.status = BillStatus.after_credit_note(in_full=all(line.credited == line.quantity for line in bill.lines))
        bill.updated_at = at
        bill.credit_notes.append(note)
        details = credit_note_event_details(
            number=number,
            bill_id=bill.id,
            bill_number=bill.number,
            bill_status=bill.status,
            reason=why,
            total=gross_now,
            refunded=refund,
            method=method,
            lines=[wanted for wanted, *_ in credits],
        )
        self.audit_events.append(NewAuditEvent(at, "credit_note.issued", actor, "bill", bill.id, details))
        self._event(bill.branch, at, actor, "credit_note.issued", "credit_note", note.id, details)
        return note

    # --- handing over and writing ---------------------------------------------------------------
    #
    # A bill settles once nothing can change it any more (its claim paid, its refund window over): the
    # loader says when that is (`before`) and hands the settled bills and the events before that time
    # to a writer while it goes on selling. Picks and credit-note lots point at lots, which inventory
    # writes when the branch is done, so they come last.

    def settled(self, branch_id: str, before: datetime) -> list[BulkBill]:
        """The branch's bills sold before `before` not handed over yet; from now on they may not change."""
        bills = self.bills.get(branch_id, [])
        start = end = self._handed[branch_id]
        while end < len(bills) and bills[end].finalized_at < before:
            bills[end].written = True
            end += 1
        self._handed[branch_id] = end
        return bills[start:end]

    def events_before(self, branch_id: str, before: datetime | None = None) -> list[NewFinancialEvent]:
        """The branch's events before `before` (all with None) not handed over yet, in the order they
        happened (a payment is recorded with its sale but happens seconds later: sorted here, stably)."""
        pending = self.events.get(branch_id, [])
        ready = [e for e in pending if before is None or e.occurred_at < before]
        self.events[branch_id] = [e for e in pending if before is not None and e.occurred_at >= before]
        return sorted(ready, key=lambda event: event.occurred_at)

    def write_bills(self, session: Session, bills: Sequence[BulkBill]) -> dict[str, int]:
        """Settled bills in the counter's order (see the module), with their payments, credit notes and
        refunds; the patients must be written already."""
        t = self.tenant_id
        counts = {
            "bills": copy_rows(
                session,
                "bills",
                (
                    "tenant_id",
                    "id",
                    "branch_id",
                    "status",
                    "currency",
                    "prices_include_tax",
                    "customer_name",
                    "bill_discount",
                    "lines_total",
                    "discount_total",
                    "net_total",
                    "tax_total",
                    "total",
                    "rounding",
                    "total_due",
                    "amount_paid",
                    "created_by",
                    "created_at",
                    "updated_at",
                ),
                (
                    (
                        t,
                        b.id,
                        b.branch.id,
                        BillStatus.DRAFT,
                        b.currency,
                        b.branch.tax.prices_include_tax,
                        b.customer_name,
                        b.bill_discount,
                        b.lines_total,
                        b.discount_total,
                        b.net_total,
                        b.tax_total,
                        b.total,
                        b.rounding,
                        b.total_due,
                        b.amount_paid,
                        b.created_by,
                        b.created_at,
                        b.updated_at,
                    )
                    for b in bills
                ),
            ),
            "bill_lines": copy_rows(
                session,
                "bill_lines",
                (
                    "tenant_id",
                    "bill_id",
                    "line_no",
                    "medicine_id",
                    "description",
                    "schedule",
                    "quantity",
                    "unit_price",
                    "line_discount",
                    "bill_discount_share",
                    "tax_category",
                    "tax_rate",
                    "net_amount",
                    "tax_amount",
                    "gross_amount",
                    "prescription_ref",
                ),
                (
                    (
                        t,
                        b.id,
                        line.line_no,
                        line.medicine_id,
                        line.description,
                        line.schedule,
                        line.quantity,
                        line.unit_price,
                        line.priced.line_discount,
                        line.priced.bill_discount_share,
                        line.priced.tax_category,
                        line.priced.tax_rate,
                        line.priced.net_amount,
                        line.priced.tax_amount,
                        line.priced.gross_amount,
                        line.prescription_ref,
                    )
                    for b in bills
                    for line in b.lines
                ),
            ),
        }
        self._issue(session, bills)
        counts["bill_payments"] = copy_rows(
            session,
            "bill_payments",
            (
                "tenant_id",
                "id",
                "bill_id",
                "method",
                "amount",
                "tendered",
                "change_due",
                "reference",
                "received_by",
                "received_at",
            ),
            (
                (
                    t,
                    p.id,
                    p.bill_id,
                    p.method,
                    p.amount,
                    p.tendered,
                    p.change_due,
                    p.reference,
                    p.received_by,
                    p.received_at,
                )
                for b in bills
                for p in b.payments
            ),
        )
        counts.update(self._write_credit_notes(session, [note for b in bills for note in b.credit_notes]))
        return counts

    def write_picks(self, session: Session, branch_id: str) -> dict[str, int]:
        """Every bill's picks and every credit note's lots of the branch: after its lots and bills."""
        t = self.tenant_id
        bills = self.bills.get(branch_id, [])
        return {
            "bill_picks": copy_rows(
                session,
                "bill_picks",
                ("tenant_id", "bill_id", "line_no", "batch_id", "quantity"),
                (
                    (t, b.id, line.line_no, lot.id, quantity)
                    for b in bills
                    for line in b.lines
                    for lot, quantity in line.picks
                ),
            ),
            "credit_note_lots": copy_rows(
                session,
                "credit_note_lots",
                ("tenant_id", "credit_note_id", "line_no", "batch_id", "quantity"),
                ((t, n.id, *lot) for b in bills for n in b.credit_notes for lot in n.lots),
            ),
        }

    def write_counters(self, session: Session, branch_id: str) -> dict[str, int]:
        """The branch's number counters at its last bill and credit note of each local year."""
        t = self.tenant_id
        return {
            table: copy_rows(
                session,
                table,
                ("tenant_id", "branch_id", "year", "last_number"),
                ((t, branch, year, last) for (branch, year), last in sorted(counters.items()) if branch == branch_id),
            )
            for table, counters in (
                ("bill_counters", self.bill_counters),
                ("credit_note_counters", self.credit_note_counters),
            )
        }

    def _issue(self, session: Session, bills: Sequence[BulkBill]) -> None:
        """The drafts become what they are now: numbered, finalized by whom and when, and linked to their
        patient, in one UPDATE from a temporary table filled by COPY (cheaper than a parameter per bill).
        Leaving finalized_at and the patient to this statement keeps them out of their partial indexes
        and the patient's foreign-key check until here: a row inserted in this transaction is checked
        again on any update anyway."""
        session.execute(
            text(
                "CREATE TEMPORARY TABLE bulk_issued_bills (id uuid, status text, number text, number_year integer, "
                "number_seq bigint, finalized_by uuid, finalized_at timestamptz, patient_id uuid, voided_by uuid, "
                "voided_at timestamptz, void_reason text) ON COMMIT DROP"
            )
        )
        copy_rows(
            session,
            "bulk_issued_bills",
            (
                "id",
                "status",
                "number",
                "number_year",
                "number_seq",
                "finalized_by",
                "finalized_at",
                "patient_id",
                "voided_by",
                "voided_at",
                "void_reason",
            ),
            (
                (
                    b.id,
                    b.status,
                    b.number,
                    b.number_year,
                    b.number_seq,
                    b.created_by,
                    b.finalized_at,
                    b.patient_id,
                    b.voided_by,
                    b.voided_at,
                    b.void_reason,
                )
                for b in bills
            ),
        )
        session.execute(
            text(
                "UPDATE bills b SET status = u.status, number = u.number, number_year = u.number_year, "
                "number_seq = u.number_seq, finalized_by = u.finalized_by, finalized_at = u.finalized_at, "
                "patient_id = u.patient_id, voided_by = u.voided_by, voided_at = u.voided_at, "
                "void_reason = u.void_reason FROM bulk_issued_bills u WHERE b.tenant_id = :t AND b.id = u.id"
            ),
            {"t": self.tenant_id},
        )
        session.execute(text("DROP TABLE bulk_issued_bills"))

    def _write_credit_notes(self, session: Session, notes: list[BulkCreditNote]) -> dict[str, int]:
        t = self.tenant_id
        return {
            "credit_notes": copy_rows(
                session,
                "credit_notes",
                (
                    "tenant_id",
                    "id",
                    "bill_id",
                    "branch_id",
                    "number",
                    "number_year",
                    "number_seq",
                    "reason",
                    "net_total",
                    "tax_total",
                    "total",
                    "amount_refunded",
                    "created_by",
                    "created_at",
                ),
                (
                    (
                        t,
                        n.id,
                        n.bill.id,
                        n.bill.branch.id,
                        n.number,
                        n.number_year,
                        n.number_seq,
                        n.reason,
                        n.net_total,
                        n.tax_total,
                        n.total,
                        n.amount_refunded,
                        n.created_by,
                        n.created_at,
                    )
                    for n in notes
                ),
            ),
            "credit_note_lines": copy_rows(
                session,
                "credit_note_lines",
                (
                    "tenant_id",
                    "credit_note_id",
                    "bill_id",
                    "line_no",
                    "quantity",
                    "restock",
                    "net_amount",
                    "tax_amount",
                    "gross_amount",
                ),
                ((t, n.id, n.bill.id, *line) for n in notes for line in n.lines),
            ),
            "bill_refunds": copy_rows(
                session,
                "bill_refunds",
                (
                    "tenant_id",
                    "id",
                    "bill_id",
                    "credit_note_id",
                    "method",
                    "amount",
                    "reference",
                    "refunded_by",
                    "refunded_at",
                ),
                (
                    (t, r.id, n.bill.id, n.id, r.method, r.amount, r.reference, r.refunded_by, r.refunded_at)
                    for n in notes
                    if (r := n.refund) is not None
                ),
            ),
        }

    def write_chain(self, session: Session, branch_id: str, events: Sequence[NewFinancialEvent]) -> int:
        """Events of the branch (from `events_before`) onto its financial chain, continuing it."""
        append_financial_events(session, self.tenant_id, branch_id, events)
        return len(events)
