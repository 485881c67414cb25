"""The bill page (/bills/view?id=): its lines with their lots, payments, credit notes, PDFs, the refund form
and the insurance claim (claims.manage: draft it through one of the patient's coverages, then submit it).

A refund is a credit note issued by `backend.billing.credit_notes.service` (billing.refund): the page sends the
quantities typed per line, the restock ticks and the reason; the service decides amounts and lots.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import reflex as rx

from backend.billing.bills.pdf import BillDocument, bill_document, invoice_pdf, receipt_pdf
from backend.billing.bills.repository import Bill
from backend.billing.bills.service import get_bill
from backend.billing.claims import service as claims
from backend.billing.credit_notes import service as credit_notes
from backend.billing.credit_notes.service import (
    CreditNote,
    credit_notes_of_bill,
    issue_credit_note,
    refundable_quantities,
)
from backend.billing.payments.service import record_payment
from backend.billing.statuses import BillStatus, ClaimStatus
from backend.core.errors import PharmacyError
from pharmacy_saas.state.base import guarded, public, run_service, transact
from pharmacy_saas.state.dashboard import ShellState
from pharmacy_saas.state.display import display_money, display_status, display_time
from tenants.context import TenantContext
from tenants.roles import role_has


@dataclasses.dataclass
class BillViewLine:
    line_no: int
    description: str
    quantity: int
    amount: str  # with tax
    lots: str
    refundable: int  # units still out with the customer


@dataclasses.dataclass
class PaymentRow:
    method: str
    amount: str
    tendered: str
    change: str
    reference: str
    when: str


@dataclasses.dataclass
class CreditNoteRow:
    id: str
    number: str
    when: str
    lines: str
    total: str
    refunded: str
    reason: str


@dataclasses.dataclass
class CoverageChoice:
    id: str
    label: str


REFUND_REASON_HINT = f"{credit_notes.MIN_REASON} to {credit_notes.MAX_REASON} characters."


def _money(amount: Decimal, currency: str) -> str:
    return display_money(amount, currency)


def _lots(document: BillDocument | None, line_no: int) -> str:
    if document is None:
        return ""
    return ", ".join(
        f"{lot.lot_number} (exp {lot.expiry_date.isoformat()}) ×{lot.quantity}"
        for lot in document.lots.get(line_no, [])
    )


def _credit_row(note: CreditNote, time_zone: str) -> CreditNoteRow:
    lines = "; ".join(
        f"line {x.line_no} ×{x.quantity} " + ("restocked " + ", ".join(lot.lot_number for lot in x.lots))
        if x.restock
        else f"line {x.line_no} ×{x.quantity} not restocked"
        for x in note.lines
    )
    refunded = _money(note.amount_refunded, note.currency)
    if note.refunds:
        refunded += " " + ", ".join(r.method for r in note.refunds)
    return CreditNoteRow(
        note.id,
        note.number,
        display_time(note.created_at, time_zone),
        lines,
        _money(note.total, note.currency),
        refunded,
        note.reason,
    )


class BillState(ShellState):
    bill_id: str = ""
    number: str = ""
    status: str = ""
    currency: str = ""
    total_due: str = ""
    amount_paid: str = ""
    _total_due_amount: str = "0"  # the number, for the copay as a claim's amount is typed
    lines: list[BillViewLine] = []
    payments: list[PaymentRow] = []
    credit_notes: list[CreditNoteRow] = []
    can_refund: bool = False
    refund_error: str = ""
    # the insurance claim: the bill's claim if it has one, else the patient's active coverages to claim through
    can_claim: bool = False
    claim_id: str = ""
    claim_status: str = ""
    claim_summary: str = ""
    claim_coverages: list[CoverageChoice] = []
    claim_amount: str = ""
    claim_error: str = ""
    can_sell: bool = False
    payment_error: str = ""

    @rx.var
    def status_label(self) -> str:
        return display_status(self.status)

    @rx.var
    def claim_status_label(self) -> str:
        return display_status(self.claim_status)

    @rx.var
    def payable(self) -> bool:
        """Still owed on an issued bill: the split-payment form shows."""
        return self.can_sell and self.status in BillStatus.payable()

    @rx.var
    def refundable(self) -> bool:
        return self.can_refund and self.status in BillStatus.refundable()

    @rx.var
    def claim_is_draft(self) -> bool:
        """The claim can still be submitted."""
        return self.claim_status == ClaimStatus.DRAFT

    @rx.var
    def claimable(self) -> bool:
        """A claim can be drafted: an issued bill of a covered patient, with no claim yet."""
        return self.can_claim and self.claim_id == "" and len(self.claim_coverages) > 0

    @rx.var
    def claim_copay(self) -> str:
        """What the patient pays: the amount due less the claimed amount (as typed so far)."""
        try:
            return display_money(
                Decimal(self._total_due_amount) - Decimal(self.claim_amount.strip() or "0"), self.currency
            )
        except ArithmeticError:
            return ""

    @rx.event
    @guarded("billing.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.can_refund = role_has(ctx.role, "billing.refund")
        self.can_claim = role_has(ctx.role, "claims.manage")
        self.can_sell = role_has(ctx.role, "billing.sell")
        self.payment_error = ""
        self.refund_error = self.claim_error = self.claim_amount = ""
        await self._reload(ctx, self.router.url.query_parameters.get("id", ""))

    @rx.event
    @guarded("billing.refund")
    async def refund(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """The refund form: a quantity per line (0 or empty: not returned), restock ticks, reason, tender."""
        lines = []
        for line in self.lines:
            typed = str(form.get(f"qty-{line.line_no}", "")).strip() or "0"
            if not typed.isdigit():
                self.refund_error = f"Line {line.line_no}: quantities are whole numbers."
                return None
            if int(typed):
                lines.append((line.line_no, int(typed), bool(form.get(f"restock-{line.line_no}"))))
        try:
            note = await transact(
                ctx,
                issue_credit_note,
                self.bill_id,
                lines,
                reason=str(form.get("reason", "")),
                refund_method=str(form.get("refund_method", "") or "cash"),
                reference=str(form.get("reference", "")),
            )
        except PharmacyError as exc:
            self.refund_error = exc.message
            return None
        self.refund_error = ""
        await self._reload(ctx, self.bill_id)
        return rx.toast.success(f"Credit note {note.number}: {_money(note.amount_refunded, note.currency)} refunded.")

    @rx.event
    @public
    def set_claim_amount(self, value: str) -> None:
        """Typing the claimed amount (the copay beside it follows); nothing is read or written."""
        self.claim_amount = value[:20]

    @rx.event
    @guarded("claims.manage")
    async def draft_claim(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Draft the claim for the insurer's portion through the chosen coverage."""
        try:
            claim = await transact(
                ctx, claims.draft_claim, self.bill_id, str(form.get("coverage_id", "")), self.claim_amount.strip()
            )
        except PharmacyError as exc:
            self.claim_error = exc.message
            return None
        self.claim_error = ""
        await self._reload(ctx, self.bill_id)
        return rx.toast.success(f"Claim drafted: {_money(claim.claimed_amount, claim.currency)} to {claim.payer_name}.")

    @rx.event
    @guarded("claims.manage")
    async def submit_claim(self, ctx: TenantContext) -> Any:
        """Mark the drafted claim as sent to the payer."""
        try:
            await transact(ctx, claims.submit_claim, self.claim_id)
        except PharmacyError as exc:
            self.claim_error = exc.message
            return None
        self.claim_error = ""
        await self._reload(ctx, self.bill_id)
        return rx.toast.success("Claim submitted.")

    @rx.event
    @guarded("billing.sell")
    async def take_payment(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """One tender of a split payment: cash (change given on the last one) or other (voucher,
        external terminal) with its reference; the bill follows to partially paid, then paid."""
        try:
            receipt = await transact(
                ctx,
                record_payment,
                bill_id=self.bill_id,
                tendered=str(form.get("tendered", "")).strip(),
                method=str(form.get("method", "") or "cash"),
                reference=str(form.get("reference", "")),
            )
        except PharmacyError as exc:
            self.payment_error = exc.message
            return None
        self.payment_error = ""
        await self._reload(ctx, self.bill_id)
        change = receipt.payment.change_due
        said = f"Change due {_money(change, self.currency)}. " if change else ""
        return rx.toast.success(f"{said}Still owed: {_money(receipt.outstanding, self.currency)}.")

    @rx.event
    @guarded("billing.view")
    async def download_receipt(self, ctx: TenantContext) -> Any:
        number, pdf = await run_service(receipt_pdf, ctx, self.bill_id)
        return rx.download(data=pdf, filename=f"receipt-{number}.pdf")

    @rx.event
    @guarded("billing.view")
    async def download_invoice(self, ctx: TenantContext) -> Any:
        number, pdf = await run_service(invoice_pdf, ctx, self.bill_id)
        return rx.download(data=pdf, filename=f"invoice-{number}.pdf")

    async def _reload(self, ctx: TenantContext, bill_id: str) -> None:
        bill = await transact(ctx, get_bill, bill_id)
        issued = bill.number is not None
        document = await run_service(bill_document, ctx, bill.id) if issued else None
        notes = await transact(ctx, credit_notes_of_bill, bill.id) if issued else []
        left = await transact(ctx, refundable_quantities, bill.id)
        c = bill.currency
        # Times as the branch reads them; a draft (no document yet) has no payments or credit notes to date.
        time_zone = document.time_zone if document is not None else "UTC"
        self.bill_id, self.number, self.status, self.currency = bill.id, bill.number or "draft", str(bill.status), c
        self.total_due, self.amount_paid = _money(bill.total_due, c), _money(bill.amount_paid, c)
        self._total_due_amount = str(bill.total_due)
        self.lines = [
            BillViewLine(
                x.line_no,
                x.description,
                x.quantity,
                _money(x.gross_amount, c),
                _lots(document, x.line_no),
                left[x.line_no],
            )
            for x in bill.lines
        ]
        self.payments = [
            PaymentRow(
                p.method,
                _money(p.amount, c),
                _money(p.tendered, c),
                _money(p.change_due, c),
                p.reference,
                display_time(p.received_at, time_zone),
            )
            for p in bill.payments
        ]
        self.credit_notes = [_credit_row(note, time_zone) for note in notes]
        await self._reload_claim(ctx, bill)

    async def _reload_claim(self, ctx: TenantContext, bill: Bill) -> None:
        """The bill's claim (reading it names the patient: patients.lookup), or what it can be claimed through."""
        self.claim_id = self.claim_status = self.claim_summary = ""
        self.claim_coverages = []
        if (
            bill.patient_id is None
            or bill.status not in BillStatus.issued()
            or not role_has(ctx.role, "patients.lookup")
        ):
            return
        claim = await transact(ctx, claims.claim_of_bill, bill.id)
        if claim is not None:
            self.claim_id, self.claim_status = claim.id, str(claim.status)
            self.claim_summary = (
                f"{claim.payer_name} · member {claim.member_id} · claimed {_money(claim.claimed_amount, bill.currency)}"
                f" · copay {_money(claim.copay, bill.currency)}"
            )
        elif self.can_claim:
            found = await run_service(claims.coverages_of_patient, ctx, bill.patient_id)
            self.claim_coverages = [
                CoverageChoice(c.id, f"{c.payer_name} · member {c.member_id}" + (f" · {c.plan}" if c.plan else ""))
                for c in found
                if c.active
            ]
