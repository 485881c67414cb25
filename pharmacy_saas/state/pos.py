"""The counter (/pos): scan or search, the bill kept as a draft in the database, cash or card, the next sale.

Every change goes through the billing service (`backend.billing.bills.counter`), which prices the draft
with backend/billing/bills/totals.py and returns it with a FEFO preview: the page shows the service's
amounts and never adds them up itself. Money is a Decimal on the server and a string on the page.

A card is presented on Stripe's Terminal reader, never to this page: the page opens the card payment,
shows the amount, and asks the service every second whether the reader has authorized it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import hashlib
import json
import re
import time
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import reflex as rx

from backend.accounts.signatures import SignatureRefused, sign
from backend.billing.bills.counter import (
    CardSale,
    CounterDraft,
    PickedLot,
    finish_card_sale,
    open_draft,
    save_draft,
    sell_for_cash,
    start_card_sale,
)
from backend.billing.bills.pdf import invoice_pdf, receipt_pdf
from backend.billing.bills.service import (
    MAX_LINE_QUANTITY,
    MIN_OVERRIDE_REASON,
    Bill,
    BillNotDraft,
    finalize_bill,
    void_bill,
)
from backend.billing.payments.cards import CardNotPresented
from backend.core.errors import PharmacyError
from backend.inventory.service import STOCK_CHANGED, LinePreview, Medicine, search_medicines
from backend.patients.service import SEARCH_HINT, find_patients, patient_summary
from backend.prescriptions.enums import CounterRule
from backend.prescriptions.pickup import CounterFill, fill_at_counter, pickup_input
from backend.prescriptions.service import counter_rule
from components.signature import signature_data_url
from pharmacy_saas.routes import BILL_VIEW, EMERGENCY_SUPPLY
from pharmacy_saas.state.base import guarded, navigate, run_service, transact
from pharmacy_saas.state.dashboard import ShellState
from pharmacy_saas.state.display import display_amount
from tenants.context import TenantContext
from tenants.roles import role_has

SCAN_FIELD = "pos-scan"
CASH_FIELD = "pos-cash"
BILL_DISCOUNT_FIELD = "pos-bill-discount"
QUANTITY_HINT = "0 takes the line off the bill"
OVERRIDE_SIGNATURE_FIELD = "pos-override-signature"
MAX_MATCHES = 8
CARD_POLL_SECONDS = 1.0
CARD_WAIT_SECONDS = 120.0  # then the page stops asking; F7 opens a new card payment
CARD_WAITING = "A card payment is waiting on the reader: wait for it, or stop waiting first."
_LINE_FIELD = re.compile(r"lines\[(\d+)\]")
# A fill's label barcode (Code 39): the Rx number, the dispensing and the part, e.g. B1-000042-0-1.
FILL_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]*-\d+-\d+$")
PICKUP_CANVAS = "pos-pickup-signature"
PICKUP_FIELDS = ("picked_up_by", "picked_up_by_name", "counselling", "id_type", "id_number")
# A refusal on these fields means the pickup itself must be recorded again (a new signature, the ID).
_PICKUP_REFUSALS = {"pickup", "signature_id", "signature_png", "id_number", "counselling", "picked_up_by_name"}


@dataclasses.dataclass
class CounterLine:
    """One line of the bill as the counter shows it (typed, so the page can walk it)."""

    line_no: int
    medicine_id: str
    description: str
    schedule: str
    quantity: int
    unit_price: str
    line_discount: str
    amount: str  # quantity x unit price - line discount, before the bill discount and (exclusive) tax
    lots: str  # the lots FEFO would take now: a preview, finalize decides
    short: str  # "only 3 can be sold" when the shelf cannot cover the quantity
    prescription: str  # the reference, or the signed override, as shown
    prescription_ref: str
    override_reason: str
    # Each field's form is keyed on the value the draft holds: a new value remounts that field alone
    # (its default value is the draft's), while the field the cursor moved on to stays as it is.
    quantity_key: str
    discount_key: str
    fill_id: str = ""  # a prescription fill handed over: its medicine, quantity and price are the fill's


@dataclasses.dataclass
class Match:
    medicine_id: str
    name: str
    detail: str
    schedule: str
    on_hand: int
    price: str


@dataclasses.dataclass
class PatientPick:
    """A patient found at the counter: name and date of birth only (what `patients.lookup` answers)."""

    id: str
    full_name: str
    date_of_birth: str


@dataclasses.dataclass
class TaxRow:
    label: str
    amount: str


@dataclasses.dataclass
class SoldLot:
    description: str
    lot_number: str
    expiry: str
    quantity: int


def _lots_text(preview: LinePreview | None) -> str:
    if preview is None or not preview.lots:
        return "no sellable lot"
    return ", ".join(f"{lot.lot_number} (exp {lot.expiry_date.isoformat()}) ×{lot.quantity}" for lot in preview.lots)


def _medicine_name(medicine: Medicine) -> str:
    return f"{medicine.generic_name} {medicine.strength}".strip()


def _match(medicine: Medicine, currency: str) -> Match:
    detail = " · ".join(filter(None, [medicine.brand_name, medicine.dosage_form, medicine.schedule]))
    return Match(
        medicine.id,
        _medicine_name(medicine),
        detail,
        medicine.schedule,
        medicine.on_hand,
        display_amount(medicine.default_sell_price, currency),
    )


def _focus(element_id: str, *, force: bool = False) -> Any:
    """Put the cursor in a field once the page has re-rendered (a changed row remounts its inputs).

    Unless `force`d, a cashier who has moved the cursor meanwhile (Tab pressed while the answer was on
    its way) keeps it there: only a cursor still where it was, or lost to a remount, is moved.
    """
    target, forced = json.dumps(element_id), "true" if force else "false"
    return rx.call_script(
        "(() => { const before = document.activeElement; setTimeout(() => {"
        " const now = document.activeElement; const el = document.getElementById(" + target + ");"
        " if (!el || !(" + forced + " || !now || now === before || now === document.body)) return;"
        " el.focus(); if (" + forced + " && el.select) el.select(); }, 60); })()"
    )


def _refocus(element_id: str) -> Any:
    """Back to the field whose input was refused, its text selected, to type it again."""
    return _focus(element_id, force=True)


def _same_amount(typed: str, shown: str) -> bool:
    """Whether a typed amount is the one the draft already holds (4.5 and 4.50 are the same)."""
    try:
        return Decimal(typed) == Decimal(shown)
    except InvalidOperation:
        return False  # not an amount: the service says why


def _draft_fingerprint(bill: Bill) -> str:
    """What a cash sale must match: the draft's lines, discounts and amount due as the screen shows them."""
    parts = [bill.id, str(bill.bill_discount), str(bill.total_due)]
    parts += [f"{x.line_no}:{x.medicine_id}:{x.quantity}:{x.line_discount}" for x in bill.lines]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


class CounterState(ShellState):
    bill_id: str = ""
    bill_branch_id: str = ""
    currency: str = ""
    prices_include_tax: bool = False
    lines: list[CounterLine] = []
    bill_discount: str = "0"
    lines_total: str = ""
    discount_total: str = ""
    net_total: str = ""
    tax_rows: list[TaxRow] = []
    tax_total: str = ""
    total: str = ""
    rounding: str = ""
    total_due: str = ""
    matches: list[Match] = []
    # A prescription-only medicine waiting for its reference (or a pharmacist's override) before it joins the bill.
    # Only where the chain's jurisdiction allows a supply without a fill (counter rule 'reference_or_override').
    pending_id: str = ""
    pending_name: str = ""
    can_override: bool = False
    # The chain's counter rule: under 'fill_required' (the US rule) a prescription-only medicine typed in is
    # refused, and the pharmacist is offered the emergency supply form for it.
    counter_rule: str = CounterRule.FILL_REQUIRED.value
    can_supply_emergency: bool = False
    emergency_href: str = ""  # the emergency supply form for the medicine just refused, with the patient
    error: str = ""
    sold_number: str = ""
    sold_bill_id: str = ""  # for its receipt, invoice and bill page
    # Who the sale is for: a patient of the chain, or a walk-in customer (no patient_id).
    patient_id: str = ""
    patient_label: str = ""
    patient_matches: list[PatientPick] = []
    sold_total: str = ""
    sold_cash: str = ""
    sold_change: str = ""
    sold_lots: list[SoldLot] = []
    sold_by_card: bool = False
    # The card payment waiting on the reader (its id only: the card itself never reaches this page).
    card_payment_id: str = ""
    card_amount: str = ""
    # The draft as last shown; the cash form sends it back, so a sale is of what the cashier saw.
    draft_shown: str = ""
    # Counts refused edits: it is part of the fields' keys, so a refusal redraws them from the draft.
    refusals: int = 0
    # pickup of prescription fills: the form, then the pharmacist's signature and the drawn one are held
    # server-side (never sent back to the browser) until the sale records them with the bill
    pickup_needs_id: bool = False
    pickup_ready: bool = False
    pickup_summary: str = ""
    pickup_error: str = ""
    sold_fills: int = 0
    _pickup_typed: dict[str, str] = {}
    _pickup: dict[str, str] = {}

    @rx.var
    def has_fills(self) -> bool:
        return any(x.fill_id for x in self.lines)

    @rx.var
    def has_lines(self) -> bool:
        return bool(self.lines)

    @rx.var
    def sale_done(self) -> bool:
        return self.sold_number != ""

    @rx.var
    def card_waiting(self) -> bool:
        return self.card_payment_id != ""

    @rx.var
    def sold_bill_href(self) -> str:
        return f"{BILL_VIEW}?id={self.sold_bill_id}" if self.sold_bill_id else ""

    # --- page -------------------------------------------------------------------------------------

    @rx.event
    @guarded("billing.sell", page_load=True)
    async def load(self, ctx: TenantContext) -> Any:
        """on_load: the member's open sale in this branch comes back after a reload."""
        await self._fill_shell(ctx)
        self.counter_rule = (await transact(ctx, _counter_rule)).value
        self.can_override = (
            role_has(ctx.role, "billing.override_prescription")
            and self.counter_rule == CounterRule.REFERENCE_OR_OVERRIDE
        )
        self.can_supply_emergency = role_has(ctx.role, "prescriptions.emergency_supply")
        self.matches, self.pending_id, self.pending_name, self.error = [], "", "", ""
        if not self.sale_done:
            await self._reopen(ctx)
        if self.card_payment_id:  # a reload while the reader was waiting: keep asking
            return CounterState.watch_card
        return None

    @rx.event
    @guarded("billing.sell")
    async def new_sale(self, ctx: TenantContext) -> Any:
        """Start over once a sale is paid (F2). An open draft is kept: it is discarded on purpose only."""
        if self.bill_id:
            self.error = "This sale is not paid yet: take the cash, or discard it first."
            return _focus(CASH_FIELD)
        self._clear_sale()
        return _focus(SCAN_FIELD)

    @rx.event
    @guarded("billing.sell")
    async def discard_sale(self, ctx: TenantContext) -> Any:
        if self.card_payment_id:
            self.error = CARD_WAITING
            return None
        if self.bill_id:
            try:
                await transact(ctx, void_bill, self.bill_id, reason="discarded at the counter")
            except PharmacyError as exc:
                self.error = exc.message
                return None
        self._clear_sale()
        return _focus(SCAN_FIELD)

    # --- adding medicines -------------------------------------------------------------------------

    @rx.event
    @guarded("billing.sell")
    async def scan(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """A scanner types the barcode and Enter: one unit joins the bill. A name shows the matches."""
        typed = str(form.get("scan", "")).strip()[:80]
        if not typed:
            return None
        if self.sale_done:
            self._clear_sale()  # scanning after a paid sale starts the next one
        self.matches, self.error, self.emergency_href = [], "", ""
        if FILL_CODE.match(typed.upper()):
            try:
                fill = await transact(ctx, fill_at_counter, typed, self._branch_id())
            except PharmacyError as exc:  # not checked yet, picked up, another branch's: said as it is
                self.error = exc.message
                return _focus(SCAN_FIELD)
            if fill is not None:
                return await self._add_fill(ctx, fill)
        try:
            found, _ = await transact(ctx, search_medicines, typed, branch_id=self._branch_id())
        except PharmacyError as exc:
            self.error = exc.message
            return None
        by_barcode = [m for m in found if m.barcode == typed]
        if by_barcode or len(found) == 1:
            medicine = (by_barcode or found)[0]
            return await self._add(ctx, medicine.id, _medicine_name(medicine), medicine.schedule)
        if not found:
            self.error = f"Nothing in the catalog matches “{typed}”."
            return None
        self.matches = [_match(m, self.currency) for m in found[:MAX_MATCHES]]
        return _focus("pos-match-0")

    @rx.event
    @guarded("billing.sell")
    async def pick(self, ctx: TenantContext, medicine_id: str) -> Any:
        """One of the matches chosen (arrow keys and Enter, or a click)."""
        chosen = next((m for m in self.matches if m.medicine_id == medicine_id), None)
        self.matches = []
        if chosen is None:  # only what the server listed can be picked
            return _focus(SCAN_FIELD)
        return await self._add(ctx, chosen.medicine_id, chosen.name, chosen.schedule)

    @rx.event
    @guarded("billing.sell")
    async def close_matches(self, ctx: TenantContext) -> Any:
        self.matches, self.pending_id, self.pending_name = [], "", ""
        return _focus(SCAN_FIELD)

    @rx.event
    @guarded("billing.sell")
    async def add_prescribed(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """The prescription-only medicine waiting for its reference (or a pharmacist's signed override) joins
        the bill."""
        if not self.pending_id:
            return _focus(SCAN_FIELD)
        reference = str(form.get("prescription_ref", ""))
        reason = str(form.get("override_reason", "")) if self.can_override else ""
        line: dict[str, Any] = {
            "medicine_id": self.pending_id,
            "quantity": 1,
            "prescription_ref": reference,
            "override_reason": reason,
        }
        new_bill_id = None
        if reason.strip() and not reference.strip():
            # The draft's id is chosen before it exists, so the very first line can be signed for it.
            bill_id = self.bill_id or str(uuid.uuid4())
            signature = await self._sign_override(ctx, bill_id, reason, str(form.get("signature", "")))
            if signature is None:
                return _focus(OVERRIDE_SIGNATURE_FIELD)
            line["override_signature_id"] = signature
            new_bill_id = None if self.bill_id else bill_id
        if await self._save(ctx, [*self._wanted(), line], new_bill_id=new_bill_id):
            self.pending_id = self.pending_name = ""
            return _focus(SCAN_FIELD)
        return None

    async def _sign_override(self, ctx: TenantContext, bill_id: str, reason: str, secret: str) -> str | None:
        """The pharmacist's electronic signature of the override (their password, or a 6-digit code from
        their authenticator app), for this draft; None, with the reason shown, when it is refused."""
        reason = " ".join(reason.split())
        if len(reason) < MIN_OVERRIDE_REASON:  # before signing: a signature is never spent on a refused line
            self.error = f"Say why it is supplied without a prescription (at least {MIN_OVERRIDE_REASON} characters)."
            return None
        if not secret:
            self.error = "Sign the override: enter your password or a code from your authenticator app."
            return None
        code = secret.replace(" ", "")
        by_code = code.isdigit() and len(code) == 6  # a password is at least 10 characters
        meaning = (
            f"supplied {self.pending_name} without a prescription on the draft of {self.current_branch} "
            f"because {reason}"
        )
        try:
            return await run_service(
                sign,
                ctx,
                password=None if by_code else secret,
                totp=code if by_code else None,
                meaning=meaning[:500],
                entity_type="bill",
                entity_id=bill_id,
                new_draft=not self.bill_id,
            )
        except PharmacyError as exc:
            self.error = exc.message
            return None

    async def _add_fill(self, ctx: TenantContext, fill: CounterFill) -> Any:
        """A checked fill scanned from its label joins the bill (once), and its patient is the bill's."""
        if any(x.fill_id == fill.id for x in self.lines):
            self.error = f"Fill {fill.code} is already on this bill."
            return _focus(SCAN_FIELD)
        if self.patient_id and self.patient_id != fill.patient_id:
            self.error = f"Fill {fill.code} is {fill.patient_name}'s: finish this patient's sale first."
            return _focus(SCAN_FIELD)
        if await self._save(ctx, [*self._wanted(), {"fill_id": fill.id}]):
            self.pickup_needs_id = self.pickup_needs_id or fill.needs_id
            self._reset_pickup()
            await self._show_patient(ctx)
        return _focus(SCAN_FIELD)

    # --- pickup -------------------------------------------------------------------------------------
    # The fills are handed over with the sale: who collects them, the answer to the pharmacist's offer to
    # counsel (the pharmacist signs it with their password or code; at a cashier's till they type their
    # e-mail too), the ID for a controlled substance, and the signature drawn in the box. Recording it here
    # checks it and signs; the sale writes it with the bill, in one transaction.

    @rx.event
    @guarded("billing.sell")
    async def record_pickup(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """The pickup form: keep what was typed, then read the drawing from the canvas."""
        self._pickup_typed = {k: str(form.get(k, "")) for k in (*PICKUP_FIELDS, "pharmacist_email", "secret")}
        return rx.call_script(signature_data_url(PICKUP_CANVAS), callback=CounterState.pickup_drawn)

    @rx.event
    @guarded("billing.sell")
    async def pickup_drawn(self, ctx: TenantContext, data_url: Any) -> Any:
        """The drawing came back from the canvas: check the pickup, then the pharmacist signs it."""
        typed, self._pickup_typed = self._pickup_typed, {}
        if not self.bill_id or not self.has_fills:
            return None
        png = _png_of(data_url)
        values: dict[str, Any] = {k: typed.get(k, "") for k in PICKUP_FIELDS}
        try:
            checked = pickup_input({**values, "signature_png": png})  # before signing: never spend a signature
        except PharmacyError as exc:
            self.pickup_error = exc.message
            return None
        if self.pickup_needs_id and not (checked.id_type and checked.id_number):
            self.pickup_error = (
                "Controlled substance: check the ID of the person collecting and type its type and number."
            )
            return None
        secret = typed.get("secret", "").strip()
        if not secret:
            self.pickup_error = "The pharmacist signs the offer to counsel: their password or authenticator code."
            return None
        code = secret.replace(" ", "")
        by_code = code.isdigit() and len(code) == 6
        meaning = (
            f"offered to counsel {self.patient_label or 'the patient'} on the prescriptions of this bill at "
            f"{self.current_branch}; counselling {checked.counselling}"
        )
        try:
            signature = await run_service(
                sign,
                ctx,
                password=None if by_code else secret,
                totp=code if by_code else None,
                meaning=meaning[:500],
                entity_type="bill",
                entity_id=self.bill_id,
                member_email=typed.get("pharmacist_email", "").strip() or None,
            )
        except PharmacyError as exc:
            self.pickup_error = exc.message
            return None
        self._pickup = {
            **{k: str(v) for k, v in values.items()},
            "counsel_signature_id": signature,
            "signature_png": base64.b64encode(png).decode(),
        }
        who = "the patient" if checked.picked_up_by == "patient" else "agent"
        self.pickup_summary = (
            f"Collected by {who} {checked.picked_up_by_name}; counselling {checked.counselling}, signed by the "
            "pharmacist" + (f"; ID {checked.id_type} checked" if checked.id_number else "") + ". Take the payment."
        )
        self.pickup_ready, self.pickup_error = True, ""
        return _focus(CASH_FIELD)

    @rx.event
    @guarded("billing.sell")
    async def redo_pickup(self, ctx: TenantContext) -> None:
        self._reset_pickup()

    def _pickup_for_sale(self) -> dict[str, Any] | None:
        if not self._pickup:
            return None
        return {**self._pickup, "signature_png": base64.b64decode(self._pickup["signature_png"])}

    def _pickup_missing(self) -> bool:
        """A bill with fills is sold only once its pickup is recorded (the message says so)."""
        if self.has_fills and not self.pickup_ready:
            self.error = "Record the pickup first: who collects, the offer to counsel, and the signature."
            return True
        return False

    def _after_refusal(self, exc: PharmacyError) -> None:
        if isinstance(exc, SignatureRefused) or (exc.field or "") in _PICKUP_REFUSALS:
            self._reset_pickup()
            self.pickup_error = exc.message

    def _reset_pickup(self) -> None:
        self.pickup_ready, self.pickup_summary, self.pickup_error = False, "", ""
        self._pickup, self._pickup_typed = {}, {}

    # --- changing lines ---------------------------------------------------------------------------
    # A quantity or discount field is free typing in the browser until the cashier leaves it: Enter
    # submits its form, and Tab, a click or tap elsewhere, or an F-key blurs it (components/keys.py
    # blurs it first). Both reach the same commit, so what the field shows after leaving is the draft's
    # value, and the totals beside it are the draft's totals. Leaving a field without a change saves
    # nothing; a refused value leaves the draft as it was and the field shows its value again.

    @rx.event
    @guarded("billing.sell")
    async def set_quantity(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Enter in a quantity field: commit it and go back to scanning (0 takes the line off the bill)."""
        line_no, medicine_id = self._line_no(form), str(form.get("medicine_id", ""))
        if not await self._commit_quantity(ctx, line_no, medicine_id, str(form.get("quantity", ""))):
            return _refocus(f"pos-qty-{line_no}")
        return _focus(SCAN_FIELD)

    @rx.event
    @guarded("billing.sell")
    async def leave_quantity(self, ctx: TenantContext, line_no: int, medicine_id: str, typed: str) -> Any:
        """The cursor left a quantity field (Tab, a click elsewhere, an F-key): commit what it shows."""
        if not await self._commit_quantity(ctx, int(line_no), str(medicine_id), str(typed)):
            return _refocus(f"pos-qty-{int(line_no)}")
        return None  # the cursor stays where the cashier put it

    @rx.event
    @guarded("billing.sell")
    async def step_quantity(self, ctx: TenantContext, line_no: int, step: int) -> Any:
        """The + and − keys (or buttons) of a line; the cursor stays in its quantity field."""
        line = next((x for x in self.lines if x.line_no == int(line_no)), None)
        if line is None:
            return None
        await self._change_line(ctx, line.line_no, quantity=max(0, line.quantity + (1 if int(step) > 0 else -1)))
        still_there = any(x.line_no == line.line_no for x in self.lines)
        return _focus(f"pos-qty-{line.line_no}" if still_there else SCAN_FIELD)

    @rx.event
    @guarded("billing.sell")
    async def set_line_discount(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Enter in a line's discount field: commit it and go back to scanning."""
        line_no, medicine_id = self._line_no(form), str(form.get("medicine_id", ""))
        if not await self._commit_line_discount(ctx, line_no, medicine_id, str(form.get("line_discount", ""))):
            return _refocus(f"pos-discount-{line_no}")
        return _focus(SCAN_FIELD)

    @rx.event
    @guarded("billing.sell")
    async def leave_line_discount(self, ctx: TenantContext, line_no: int, medicine_id: str, typed: str) -> Any:
        """The cursor left a line's discount field: commit what it shows."""
        if not await self._commit_line_discount(ctx, int(line_no), str(medicine_id), str(typed)):
            return _refocus(f"pos-discount-{int(line_no)}")
        return None

    @rx.event
    @guarded("billing.sell")
    async def remove_line(self, ctx: TenantContext, line_no: int) -> Any:
        await self._change_line(ctx, int(line_no), quantity=0)
        return _focus(SCAN_FIELD)

    @rx.event
    @guarded("billing.sell")
    async def set_bill_discount(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Enter in the bill discount: commit it and go on to the cash received."""
        if not await self._commit_bill_discount(ctx, str(form.get("bill_discount", ""))):
            return _refocus(BILL_DISCOUNT_FIELD)
        return _focus(CASH_FIELD)

    @rx.event
    @guarded("billing.sell")
    async def leave_bill_discount(self, ctx: TenantContext, typed: str) -> Any:
        """The cursor left the bill discount field: commit what it shows."""
        if not await self._commit_bill_discount(ctx, str(typed)):
            return _refocus(BILL_DISCOUNT_FIELD)
        return None

    async def _commit_quantity(self, ctx: TenantContext, line_no: int, medicine_id: str, typed: str) -> bool:
        """Save a typed quantity to the draft; False (the message shown, the draft as it was) when refused."""
        line = self._line(line_no, medicine_id)
        if line is None:
            return True  # gone meanwhile (removed, or the sale ended): nothing left to commit
        typed = typed.strip()
        if not re.fullmatch(r"[0-9]+", typed):  # ASCII digits only: "²" or "1.5" are not quantities
            return self._refuse(line, f"Quantities are whole numbers of the dispensing unit ({QUANTITY_HINT}).")
        if len(typed.lstrip("0")) > len(str(MAX_LINE_QUANTITY)):  # before int(): a pasted 5,000 digits
            return self._refuse(line, f"At most {MAX_LINE_QUANTITY:,} on one line.")  # as the service says
        quantity = int(typed)
        if quantity == line.quantity:
            return True  # leaving a field unchanged saves nothing
        return await self._change_line(ctx, line_no, quantity=quantity)  # the service checks the upper limit

    async def _commit_line_discount(self, ctx: TenantContext, line_no: int, medicine_id: str, typed: str) -> bool:
        line = self._line(line_no, medicine_id)
        if line is None:
            return True
        typed = typed.strip() or "0"
        if _same_amount(typed, line.line_discount):
            return True
        return await self._change_line(ctx, line_no, line_discount=typed)  # the service checks the amount

    async def _commit_bill_discount(self, ctx: TenantContext, typed: str) -> bool:
        typed = typed.strip() or "0"
        if not self.bill_id or _same_amount(typed, self.bill_discount):
            return True
        if await self._save(ctx, self._wanted(), bill_discount=typed):
            return True
        self.refusals += 1  # the field shows the draft's discount again
        return False

    def _line(self, line_no: int, medicine_id: str) -> CounterLine | None:
        """The line a field was drawn for; None once the draft no longer has it at that number (lines are
        renumbered when one goes, and an edit on its way must not land on the line that moved up)."""
        return next((x for x in self.lines if x.line_no == line_no and x.medicine_id == medicine_id), None)

    def _refuse(self, line: CounterLine, message: str) -> bool:
        """Say which line's input was refused; the fields are redrawn from the draft (the last valid values)."""
        self.error = f"{line.description}: {message}"
        self.refusals += 1
        return False

    # --- the patient ----------------------------------------------------------------------------

    @rx.event
    @guarded("patients.lookup")
    async def find_patient(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Enter in the patient field: the matching patients by name, phone or date of birth."""
        typed = str(form.get("patient", "")).strip()[:100]
        self.patient_matches = []
        if not typed:
            return None
        try:
            found = await transact(ctx, find_patients, typed)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        if not found.items:
            self.error = f"No patient matches “{typed}”: the sale stays with a walk-in customer. {SEARCH_HINT}"
            return None
        self.error = ""
        self.patient_matches = [PatientPick(p.id, p.full_name, p.date_of_birth.isoformat()) for p in found.items[:8]]
        return _focus("pos-patient-0")

    @rx.event
    @guarded("billing.sell")
    async def choose_patient(self, ctx: TenantContext, patient_id: str) -> Any:
        """One of the matches: the draft is sold to this patient (only what the server listed can be chosen)."""
        chosen = next((p for p in self.patient_matches if p.id == patient_id), None)
        self.patient_matches = []
        if chosen is not None:
            await self._set_patient(ctx, chosen.id, f"{chosen.full_name} ({chosen.date_of_birth})")
        return _focus(SCAN_FIELD)

    @rx.event
    @guarded("billing.sell")
    async def walk_in(self, ctx: TenantContext) -> Any:
        """No patient: the sale is to a walk-in customer (the default)."""
        self.patient_matches = []
        await self._set_patient(ctx, "", "")
        return _focus(SCAN_FIELD)

    # --- paying -----------------------------------------------------------------------------------

    @rx.event
    @guarded("billing.sell")
    async def pay(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Enter in "Cash received": finalize (the stock moves) and take the cash, all or nothing."""
        cash = str(form.get("cash_received", "")).strip()
        if not self.bill_id:
            self.error = "Scan a medicine first: the bill is empty."
            return _focus(SCAN_FIELD)
        if not cash:
            self.error = f"Type the cash received (amount due {self.total_due})."
            return _focus(CASH_FIELD)
        if self.card_payment_id:
            self.error = CARD_WAITING
            return None
        if str(form.get("shown", "")) != self.draft_shown:
            # Enter was pressed on a screen behind the draft (an edit's answer still on its way): selling
            # now could charge other quantities than the cashier saw. The screen catches up; they check it.
            self.refusals += 1
            self.error = (
                f"The bill changed before it was sold: the amount due is now {self.currency} {self.total_due}. "
                "Check it and take the cash again; nothing was sold."
            )
            return _focus(CASH_FIELD)
        if self._pickup_missing():
            return None
        try:
            sale = await transact(
                ctx, sell_for_cash, self.bill_id, cash, pickup=self._pickup_for_sale(), busy_message=STOCK_CHANGED
            )
        except PharmacyError as exc:
            self.error = self._explain(exc)  # the bill stays a draft, nothing was sold
            self._after_refusal(exc)
            if isinstance(exc, BillNotDraft):
                self._clear_sale()
            return _focus(CASH_FIELD)
        self.sold_fills = sum(1 for x in self.lines if x.fill_id)
        paid = sale.payment.tendered if sale.payment else sale.change_due
        self._show_sold(sale.bill, sale.picks, paid=paid, change=sale.change_due)
        return _focus("pos-new-sale")

    @rx.event
    @guarded("billing.sell")
    async def split_payment(self, ctx: TenantContext) -> Any:
        """Several tenders (part cash, part voucher or an external terminal): finalize the bill (the stock
        moves now) and take its payments one by one on the bill page."""
        if not self.bill_id:
            self.error = "Scan a medicine first: the bill is empty."
            return _focus(SCAN_FIELD)
        if self.card_payment_id:
            self.error = CARD_WAITING
            return None
        if self._pickup_missing():
            return None
        try:
            bill = await transact(
                ctx, finalize_bill, self.bill_id, pickup=self._pickup_for_sale(), busy_message=STOCK_CHANGED
            )
        except PharmacyError as exc:
            self.error = self._explain(exc)  # the bill stays a draft, nothing was sold
            self._after_refusal(exc)
            return None
        self._clear_sale()
        return navigate(f"{BILL_VIEW}?id={bill.id}")

    @rx.event
    @guarded("billing.sell")
    async def pay_by_card(self, ctx: TenantContext) -> Any:
        """F7 / "Card": open a card payment for the draft on the chain's Stripe account; the customer
        presents the card on the reader and the page waits for the reader's answer."""
        if self.card_payment_id:
            return None  # already waiting on the reader
        if not self.bill_id:
            self.error = "Scan a medicine first: the bill is empty."
            return _focus(SCAN_FIELD)
        if self.has_fills:
            # The reader finalizes the bill without the counter's pickup record: not for fills yet.
            self.error = "Prescriptions are handed over with cash or a split payment; the card reader comes later."
            return None
        try:
            started = await transact(ctx, start_card_sale, self.bill_id, uuid.uuid4().hex)
        except PharmacyError as exc:  # e.g. card payments not configured: nothing changes
            self.error = exc.message
            return None
        payment = started.card_payment
        self.card_payment_id = payment.id
        self.card_amount = f"{payment.currency} {display_amount(payment.amount, payment.currency)}"
        self.error = ""
        return CounterState.watch_card

    @rx.event
    @guarded("billing.sell")
    async def stop_card(self, ctx: TenantContext) -> None:
        """Stop waiting on the reader (the customer changed their mind); the bill stays a draft."""
        self.card_payment_id = self.card_amount = ""
        self.error = "Stopped waiting for the card: the bill is still a draft."

    @rx.event(background=True)
    @guarded("billing.sell", background=True)
    async def watch_card(self, ctx: TenantContext) -> None:
        """Ask every second whether the reader authorized the card: then sold, or why not (still a draft)."""
        deadline = time.monotonic() + CARD_WAIT_SECONDS
        while True:
            async with self:
                payment_id = self.card_payment_id
            if not payment_id:
                return
            outcome = await _card_outcome(ctx, payment_id, waited_out=time.monotonic() > deadline)
            if outcome is None:
                await asyncio.sleep(CARD_POLL_SECONDS)
                continue
            async with self:
                if self.card_payment_id == payment_id:  # not stopped, nor another payment meanwhile
                    self._show_card_outcome(outcome)
            return

    # --- printing ---------------------------------------------------------------------------------

    @rx.event
    @guarded("billing.view")
    async def print_receipt(self, ctx: TenantContext) -> Any:
        """F9 after a sale: the 80 mm receipt PDF of the bill just paid, downloaded for the till's printer."""
        return await self._download(ctx, receipt_pdf, "receipt")

    @rx.event
    @guarded("billing.view")
    async def print_invoice(self, ctx: TenantContext) -> Any:
        """The A4 invoice of the bill just paid."""
        return await self._download(ctx, invoice_pdf, "invoice")

    async def _download(self, ctx: TenantContext, render: Any, kind: str) -> Any:
        if not self.sold_bill_id:
            self.error = "Sell something first: there is no paid bill to print."
            return None
        try:
            number, pdf = await run_service(render, ctx, self.sold_bill_id)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        return rx.download(data=pdf, filename=f"{kind}-{number}.pdf")

    # --- helpers ----------------------------------------------------------------------------------

    def _branch_id(self) -> str:
        return next((b["id"] for b in self.branches if b["name"] == self.current_branch), "")

    def _line_no(self, form: dict[str, Any]) -> int:
        try:
            return int(str(form.get("line_no", "")))
        except ValueError:
            return 0

    def _wanted(self) -> list[dict[str, Any]]:
        """The bill's lines as the billing service takes them back (a signed override stays signed; a fill
        line is only its fill)."""
        return [
            {"fill_id": x.fill_id}
            if x.fill_id
            else {
                "medicine_id": x.medicine_id,
                "quantity": x.quantity,
                "line_discount": x.line_discount,
                "prescription_ref": x.prescription_ref,
                "override_reason": x.override_reason,
            }
            for x in self.lines
        ]

    async def _add(self, ctx: TenantContext, medicine_id: str, name: str, schedule: str) -> Any:
        """One more of a medicine already on the bill, else a new line (prescription-only: ask for the reference)."""
        wanted = self._wanted()
        existing = next((w for w in wanted if w.get("medicine_id") == medicine_id), None)
        if existing is not None:
            existing["quantity"] += 1
        elif schedule != "otc" and self.counter_rule == CounterRule.REFERENCE_OR_OVERRIDE and schedule != "controlled":
            self.pending_id, self.pending_name = medicine_id, name
            return _focus("pos-prescription-ref")
        elif schedule != "otc":
            # The server refuses it with what to do (scan the fill's label, or record an emergency supply).
            if not await self._save(ctx, [*wanted, {"medicine_id": medicine_id, "quantity": 1}]):
                self._offer_emergency_supply(medicine_id, schedule)
            return _focus(SCAN_FIELD)
        else:
            wanted.append({"medicine_id": medicine_id, "quantity": 1})
        await self._save(ctx, wanted)
        return _focus(SCAN_FIELD)

    def _offer_emergency_supply(self, medicine_id: str, schedule: str) -> None:
        """A prescription-only medicine refused for want of a fill: the pharmacist's emergency supply form,
        for this medicine and the sale's patient (never for a controlled medicine)."""
        if schedule != "prescription" or not self.error.endswith("record an emergency supply."):
            return
        query = f"?medicine={medicine_id}" + (f"&patient={self.patient_id}" if self.patient_id else "")
        self.emergency_href = EMERGENCY_SUPPLY + query

    async def _change_line(self, ctx: TenantContext, line_no: int, **change: Any) -> bool:
        """Save one line's change; False when refused (the message shown, the fields redrawn from the draft)."""
        wanted = self._wanted()
        index = next((i for i, x in enumerate(self.lines) if x.line_no == line_no), None)
        if index is None:
            self.error = "That line is no longer on the bill."
            return False
        wanted[index].update(change)
        if wanted[index].get("quantity") == 0:
            del wanted[index]
        if wanted:
            if await self._save(ctx, wanted):
                return True
            self.refusals += 1
            return False
        if self.bill_id:  # the last line went: the draft is discarded rather than left empty
            try:
                await transact(ctx, void_bill, self.bill_id, reason="emptied at the counter")
            except PharmacyError as exc:
                self.error = exc.message
                return False
        self._clear_sale()
        return True

    async def _save(
        self,
        ctx: TenantContext,
        wanted: list[dict[str, Any]],
        *,
        bill_discount: str | None = None,
        new_bill_id: str | None = None,
    ) -> bool:
        """Write the draft through the billing service and show what it priced; on refusal nothing changes."""
        try:
            draft = await transact(
                ctx,
                save_draft,
                branch_id=self.bill_branch_id or self._branch_id(),
                bill_id=self.bill_id or None,
                lines=wanted,
                bill_discount=self.bill_discount if bill_discount is None else bill_discount,
                patient_id=self.patient_id or None,
                new_bill_id=new_bill_id,
            )
        except PharmacyError as exc:
            self.error = self._explain(exc, wanted)
            if isinstance(exc, BillNotDraft):  # paid or voided elsewhere: the next scan starts a new sale
                self._clear_sale()
            return False
        self._show_draft(draft)
        self.error = ""
        return True

    async def _set_patient(self, ctx: TenantContext, patient_id: str, label: str) -> None:
        """Remember the patient, and write it to the open draft; refused, the draft keeps its patient."""
        before = (self.patient_id, self.patient_label)
        self.patient_id, self.patient_label = patient_id, label
        if self.bill_id and not await self._save(ctx, self._wanted()):
            self.patient_id, self.patient_label = before

    async def _show_patient(self, ctx: TenantContext) -> None:
        """The name of the reopened draft's patient (after a reload the page knows only the id)."""
        if not self.patient_id or self.patient_label:
            return
        try:
            found = await transact(ctx, patient_summary, self.patient_id)
        except PharmacyError:
            self.patient_label = "a patient you cannot see"
            return
        self.patient_label = f"{found.full_name} ({found.date_of_birth.isoformat()})"

    async def _reopen(self, ctx: TenantContext) -> None:
        branch = self._branch_id()
        draft = await transact(ctx, open_draft, branch) if branch else None
        if draft is None:
            self._clear_sale()
        else:
            self._show_draft(draft)
            await self._show_patient(ctx)

    def _explain(self, exc: PharmacyError, wanted: list[dict[str, Any]] | None = None) -> str:
        """The service names a line by index; the cashier knows it by its medicine."""
        found = _LINE_FIELD.match(exc.field or "")
        if not found or "Line " in exc.message:
            return exc.message
        index = int(found.group(1))
        names = {x.medicine_id: x.description for x in self.lines} | {self.pending_id: self.pending_name}
        rows = wanted if wanted is not None else self._wanted()
        name = names.get(rows[index].get("medicine_id", ""), "") if index < len(rows) else ""
        return f"{name}: {exc.message}" if name else exc.message

    def _show_draft(self, draft: CounterDraft) -> None:
        bill = draft.bill

        def money(amount: Decimal) -> str:
            return display_amount(amount, bill.currency)

        self.bill_id, self.bill_branch_id, self.currency = bill.id, bill.branch_id, bill.currency
        if (bill.patient_id or "") != self.patient_id:  # the draft's patient wins; its name is looked up
            self.patient_id, self.patient_label = bill.patient_id or "", ""
        self.prices_include_tax = bill.prices_include_tax
        self.lines = []
        for x in bill.lines:
            preview = draft.previews.get(x.medicine_id)
            sellable = preview.sellable if preview else 0
            override = f"override signed: {x.override_reason}" if x.override_by else ""
            if x.fill_id:  # filled from the lots on its label: the shelf is not asked again
                covered = f" · insurer pays {money(x.line_discount)}" if x.line_discount else ""
                self.lines.append(
                    _fill_line(x, money(x.unit_price), money(x.unit_price * x.quantity - x.line_discount), covered)
                )
                continue
            self.lines.append(
                CounterLine(
                    line_no=x.line_no,
                    medicine_id=x.medicine_id,
                    description=x.description,
                    schedule=x.schedule,
                    quantity=x.quantity,
                    unit_price=money(x.unit_price),
                    line_discount=money(x.line_discount),
                    amount=money(x.unit_price * x.quantity - x.line_discount),
                    lots=_lots_text(preview),
                    short=f"only {sellable} can be sold" if sellable < x.quantity else "",
                    prescription=f"Rx {x.prescription_ref}" if x.prescription_ref else override,
                    prescription_ref=x.prescription_ref,
                    override_reason=x.override_reason,
                    quantity_key=f"{x.line_no}:{x.medicine_id}:{x.quantity}",
                    discount_key=f"{x.line_no}:{x.medicine_id}:{x.line_discount}",
                )
            )
        self.bill_discount = money(bill.bill_discount)
        self.lines_total, self.discount_total = money(bill.lines_total), money(bill.discount_total)
        self.net_total, self.tax_total, self.total = money(bill.net_total), money(bill.tax_total), money(bill.total)
        self.tax_rows = [
            TaxRow(f"Tax {band.tax_category} {band.tax_rate.normalize():f} %", money(band.tax_amount))
            for band in bill.taxes
            if band.tax_rate > 0
        ]
        self.rounding = money(bill.rounding) if bill.rounding else ""
        self.total_due = money(bill.total_due)
        self.draft_shown = _draft_fingerprint(bill)

    def _show_sold(
        self, bill: Bill, picks: list[PickedLot], *, paid: Decimal, change: Decimal, by_card: bool = False
    ) -> None:
        """The "sold" panel: the bill's number, what was paid (cash and change, or the card), the lots taken."""
        currency = bill.currency
        self.sold_number = bill.number or ""
        self.sold_bill_id = bill.id
        self.sold_total = display_amount(bill.total_due, currency)
        self.sold_cash = display_amount(paid, currency)
        self.sold_change = display_amount(change, currency)
        self.sold_by_card = by_card
        self.sold_lots = [SoldLot(p.description, p.lot_number, p.expiry_date.isoformat(), p.quantity) for p in picks]
        self._clear_draft()
        self.error = ""

    def _show_card_outcome(self, outcome: CardSale | str) -> None:
        """The reader's answer: sold (the same panel as cash), or the reason the bill is still a draft."""
        self.card_payment_id = self.card_amount = ""
        if isinstance(outcome, str):
            self.error = outcome
            return
        completion = outcome.completion
        if completion.released:
            self.error = completion.message
            return
        bill = completion.bill
        self._show_sold(
            bill, outcome.picks, paid=completion.card_payment.amount_captured, change=Decimal(0), by_card=True
        )

    def _clear_draft(self) -> None:
        self._reset_pickup()
        self.pickup_needs_id = False
        self.bill_id = self.bill_branch_id = ""
        self.lines, self.tax_rows, self.matches = [], [], []
        self.bill_discount = "0"
        self.lines_total = self.discount_total = self.net_total = self.tax_total = ""
        self.total = self.rounding = self.total_due = ""
        self.pending_id = self.pending_name = ""
        self.patient_id = self.patient_label = ""
        self.patient_matches = []
        self.card_payment_id = self.card_amount = ""
        self.draft_shown = ""

    def _clear_sale(self) -> None:
        self._clear_draft()
        self.sold_number = self.sold_total = self.sold_cash = self.sold_change = self.sold_bill_id = ""
        self.sold_lots = []
        self.sold_by_card = False
        self.sold_fills = 0


def _counter_rule(session: Any, ctx: TenantContext) -> CounterRule:
    """The chain's counter rule, read in the counter's unit of work (it binds every member at the till)."""
    del ctx  # the rule is the chain's (RLS), whoever asks
    return counter_rule(session)


def _fill_line(x: Any, unit_price: str, amount: str, covered: str) -> CounterLine:
    """A fill on the bill: its quantity and price are the fill's, and the payer's part shows as its discount."""
    return CounterLine(
        line_no=x.line_no,
        medicine_id=x.medicine_id,
        description=x.description,
        schedule=x.schedule,
        quantity=x.quantity,
        unit_price=unit_price,
        line_discount=covered.removeprefix(" · insurer pays ") if covered else "",
        amount=amount,
        lots="filled: lots on the label",
        short="",
        prescription=f"Fill {x.prescription_ref}{covered}",
        prescription_ref=x.prescription_ref,
        override_reason="",
        quantity_key=f"{x.line_no}:fill:{x.quantity}",
        discount_key=f"{x.line_no}:fill:{x.line_discount}",
        fill_id=x.fill_id,
    )


def _png_of(data_url: Any) -> bytes:
    """The canvas's PNG data URL as bytes (b"" when nothing was drawn or it is not base64)."""
    text = str(data_url or "")
    if not text.startswith("data:image/png;base64,"):
        return b""
    try:
        return base64.b64decode(text.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return b""


async def _card_outcome(ctx: TenantContext, payment_id: str, *, waited_out: bool) -> CardSale | str | None:
    """The card payment's outcome: sold or released, a reason it is still a draft, or None (keep waiting)."""
    try:
        return await transact(ctx, finish_card_sale, payment_id, busy_message=STOCK_CHANGED)
    except CardNotPresented:
        if waited_out:
            return "No card was presented on the reader: the bill is still a draft. Press F7 to try again."
        return None
    except PharmacyError as exc:  # declined, or the bill changed elsewhere: nothing charged
        return exc.message
