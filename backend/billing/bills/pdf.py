"""A bill as a PDF: an A4 invoice and an 80 mm receipt for thermal printers, drawn with fpdf2.

Both show the chain, the branch and its address, the bill number, the local date and time of issue
(branch time zone), every line with the lots it was picked from and their expiry, the tax per rate,
the totals, the payments and the change.

fpdf2 is pure Python (no system libraries, unlike weasyprint's Pango/Cairo) and draws straight to
PDF, which is all a fixed-layout receipt needs. No Unicode TTF font ships with any installed package,
so the PDF's built-in Helvetica is used with its Windows-1252 encoding: text is folded to that
character set first (accents kept where cp1252 has them, else the base letter, else "?").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlalchemy import text
from sqlmodel import Session

from backend.billing.bills.repository import Bill, BillLine
from backend.billing.bills.service import get_bill
from backend.billing.statuses import BillStatus
from backend.core.errors import Conflict
from backend.core.money import minor_unit
from tenants.context import TenantContext
from tenants.session import tenant_session

FONT = "Helvetica"
ENCODING = "windows-1252"  # the WinAnsiEncoding the PDF core fonts are declared with
RECEIPT_WIDTH_MM = 80
RECEIPT_MARGIN_MM = 4  # thermal heads do not print to the paper's edge
# Letters with a stroke have no decomposition to fold them by.
_STROKED = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i"}
METHOD_LABELS = {"cash": "Cash", "other": "Card / other"}


@dataclass(frozen=True)
class Lot:
    lot_number: str
    expiry_date: date
    quantity: int


@dataclass(frozen=True)
class BillDocument:
    """Everything printed on a bill's invoice or receipt."""

    chain_name: str
    branch_name: str
    branch_address: str
    time_zone: str
    bill: Bill
    lots: dict[int, list[Lot]]  # line_no -> the lots it was picked from

    @property
    def issued_at(self) -> datetime:
        when = self.bill.finalized_at or self.bill.created_at
        return when.astimezone(ZoneInfo(self.time_zone))


# --- public ---------------------------------------------------------------------------------------


def invoice_pdf(ctx: TenantContext, bill_id: str) -> tuple[str, bytes]:
    """The bill's number and its A4 invoice (issued or voided bills only; needs billing.view)."""
    document = bill_document(ctx, bill_id)
    return str(document.bill.number), render_invoice(document)


def receipt_pdf(ctx: TenantContext, bill_id: str) -> tuple[str, bytes]:
    """The bill's number and its 80 mm receipt (issued or voided bills only; needs billing.view)."""
    document = bill_document(ctx, bill_id)
    return str(document.bill.number), render_receipt(document)


def bill_document(ctx: TenantContext, bill_id: str) -> BillDocument:
    """The bill with its chain, branch and lots, read in one transaction (branch scope applies)."""
    with tenant_session(ctx) as session:
        bill = get_bill(session, ctx, bill_id)
        if bill.number is None:
            # A draft's prices, tax and lots are not fixed until it is finalized.
            raise Conflict("A draft has no invoice or receipt yet: finalize it first.")
        return _document(session, ctx, bill)


def _document(session: Session, ctx: TenantContext, bill: Bill) -> BillDocument:
    branch = session.execute(
        text("SELECT name, address, time_zone FROM branches WHERE id = :b"), {"b": bill.branch_id}
    ).one()
    chain = session.execute(text("SELECT name FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}).scalar_one()
    lots: dict[int, list[Lot]] = {}
    for row in session.execute(
        text(
            "SELECT p.line_no, b.lot_number, b.expiry_date, p.quantity FROM bill_picks p "
            "JOIN batches b ON b.tenant_id = p.tenant_id AND b.id = p.batch_id "
            "WHERE p.bill_id = :bill ORDER BY p.line_no, b.expiry_date, b.lot_number"
        ),
        {"bill": bill.id},
    ):
        lots.setdefault(row.line_no, []).append(Lot(row.lot_number, row.expiry_date, row.quantity))
    return BillDocument(chain, branch.name, branch.address, branch.time_zone, bill, lots)


# --- text helpers -----------------------------------------------------------------------------------


def printable(value: object) -> str:
    """`value` in the core fonts' character set: kept if cp1252 has it, else its base letter, else '?'."""
    out = []
    for char in str(value):
        if _encodable(char):
            out.append(char)
            continue
        base = _STROKED.get(char) or "".join(
            c for c in unicodedata.normalize("NFKD", char) if _encodable(c) and not unicodedata.combining(c)
        )
        out.append(base or "?")
    return "".join(out)


def _encodable(char: str) -> bool:
    try:
        char.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


def money(amount: Decimal, currency: str) -> str:
    """At least the currency's minor unit, and the stored 4 decimals only where they carry a digit:
    9.9800 prints 9.98, 0.8857 prints 0.8857 (so the printed lines are the exact stored amounts)."""
    cash = amount.quantize(minor_unit(currency))
    return f"{cash:,}" if cash == amount else f"{amount.normalize():,f}"


def _rate(rate: Decimal) -> str:
    return f"{rate.normalize():f}%"


def _lot_text(lots: list[Lot], *, quantities: bool) -> str:
    parts = [
        f"Lot {lot.lot_number} exp {lot.expiry_date.isoformat()}" + (f" x{lot.quantity}" if quantities else "")
        for lot in lots
    ]
    return "; ".join(parts)


def _discount(line: BillLine) -> Decimal:
    return line.line_discount + line.bill_discount_share


def _line_amount(bill: Bill, line: BillLine) -> Decimal:
    """A line in the bill's price basis: with tax when shelf prices include it, else without."""
    return line.gross_amount if bill.prices_include_tax else line.net_amount


def _status_note(bill: Bill) -> str:
    if bill.status == BillStatus.VOIDED:
        return f"VOID - {bill.void_reason}"
    if bill.outstanding > 0:
        return f"Amount still owed: {money(bill.outstanding, bill.currency)} {bill.currency}"
    return ""


def _totals(bill: Bill) -> list[tuple[str, str]]:
    c = bill.currency
    rows = [("Subtotal", money(bill.lines_total, c))]
    if bill.discount_total:
        rows.append(("Discounts", f"-{money(bill.discount_total, c)}"))
    rows += [("Net", money(bill.net_total, c)), ("Tax", money(bill.tax_total, c))]
    if bill.rounding:
        rows.append(("Rounding", money(bill.rounding, c)))
    rows.append((f"Total {c}", money(bill.total_due, c)))
    return rows


def _payments(bill: Bill) -> list[tuple[str, str]]:
    c = bill.currency
    rows = []
    for payment in bill.payments:
        label = METHOD_LABELS.get(payment.method, payment.method)
        if payment.reference:
            label += f" ({payment.reference})"
        rows.append((label, money(payment.tendered, c)))
        if payment.change_due:
            rows.append(("Change", money(payment.change_due, c)))
    return rows


# --- the invoice (A4) -------------------------------------------------------------------------------


class _Pdf(FPDF):
    """FPDF that folds every text it is given to the core fonts' character set."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.core_fonts_encoding = ENCODING
        self.set_font(FONT, size=10)

    def normalize_text(self, txt: str) -> str:
        return super().normalize_text(printable(txt))


def render_invoice(document: BillDocument) -> bytes:
    """An A4 invoice: header, lines with lots, tax per rate, totals and payments."""
    bill = document.bill
    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(f"Invoice {bill.number}")
    pdf.set_margins(15, 15, 15)
    pdf.add_page()
    _invoice_header(pdf, document)
    _invoice_lines(pdf, document)
    pdf.ln(4)
    _invoice_taxes(pdf, bill)
    pdf.ln(4)
    _pairs(pdf, _totals(bill), width=70, bold_last=True)
    if bill.payments:
        pdf.ln(2)
        _pairs(pdf, _payments(bill), width=70)
    note = _status_note(bill)
    if note:
        pdf.ln(4)
        pdf.set_font(FONT, "B", 12)
        pdf.multi_cell(0, 6, note)
    pdf.ln(6)
    pdf.set_font(FONT, size=8)
    basis = "Prices include tax." if bill.prices_include_tax else "Prices exclude tax; tax is added per line."
    pdf.multi_cell(0, 4, f"{basis} Amounts in {bill.currency}.")
    return bytes(pdf.output())


def _invoice_header(pdf: FPDF, document: BillDocument) -> None:
    bill = document.bill
    pdf.set_font(FONT, "B", 16)
    pdf.cell(0, 8, document.chain_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.cell(0, 5, document.branch_name, new_x="LMARGIN", new_y="NEXT")
    if document.branch_address:
        pdf.multi_cell(0, 5, document.branch_address, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 7, f"Invoice {bill.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    issued = document.issued_at
    pdf.cell(0, 5, f"Issued {issued:%Y-%m-%d %H:%M} ({document.time_zone})", new_x="LMARGIN", new_y="NEXT")
    if bill.customer_name:
        pdf.cell(0, 5, f"Customer: {bill.customer_name}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _invoice_lines(pdf: FPDF, document: BillDocument) -> None:
    bill, c = document.bill, document.bill.currency
    heading = ["#", "Medicine", "Lot / expiry", "Qty", "Unit price", "Discount", "Tax", "Amount"]
    pdf.set_font(FONT, size=8)
    with pdf.table(
        col_widths=(6, 48, 44, 10, 18, 16, 12, 26),
        text_align=("RIGHT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD"),
        borders_layout="HORIZONTAL_LINES",
        line_height=4.5,
    ) as table:
        table.row(heading)
        for line in bill.lines:
            discount = _discount(line)
            table.row(
                [
                    str(line.line_no),
                    line.description,
                    _lot_text(document.lots.get(line.line_no, []), quantities=True),
                    str(line.quantity),
                    money(line.unit_price, c),
                    f"-{money(discount, c)}" if discount else "",
                    _rate(line.tax_rate),
                    money(_line_amount(bill, line), c),
                ]
            )


def _invoice_taxes(pdf: FPDF, bill: Bill) -> None:
    c = bill.currency
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 6, "Tax by rate", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    with pdf.table(
        col_widths=(30, 20, 30, 30),
        width=110,
        align="LEFT",
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD"),
        borders_layout="HORIZONTAL_LINES",
        line_height=5,
    ) as table:
        table.row(["Category", "Rate", "Net", "Tax"])
        for band in bill.taxes:
            table.row([band.tax_category, _rate(band.tax_rate), money(band.net_amount, c), money(band.tax_amount, c)])


def _pairs(pdf: FPDF, rows: list[tuple[str, str]], *, width: float, bold_last: bool = False) -> None:
    """Label / amount rows, right-aligned on the page (totals, payments)."""
    left = pdf.w - pdf.r_margin - width
    for index, (label, value) in enumerate(rows):
        bold = bold_last and index == len(rows) - 1
        pdf.set_font(FONT, "B" if bold else "", 11 if bold else 10)
        pdf.set_x(left)
        pdf.cell(width * 0.55, 6, label)
        pdf.cell(width * 0.45, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")


# --- the receipt (80 mm) ----------------------------------------------------------------------------


def render_receipt(document: BillDocument) -> bytes:
    """An 80 mm receipt, as long as its content: drawn once on a tall page to measure, then again at
    that height, so a thermal printer cuts right after the last line."""
    probe = _receipt(document, height=5000)
    return bytes(_receipt(document, height=probe.get_y() + RECEIPT_MARGIN_MM).output())


def _receipt(document: BillDocument, *, height: float) -> FPDF:
    bill = document.bill
    pdf = _Pdf(orientation="portrait", unit="mm", format=(RECEIPT_WIDTH_MM, height))
    pdf.set_title(f"Receipt {bill.number}")
    pdf.set_margins(RECEIPT_MARGIN_MM, RECEIPT_MARGIN_MM, RECEIPT_MARGIN_MM)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    say = _receipt_writer(pdf)
    say(document.chain_name, bold=True, size=10, align="C")
    say(document.branch_name, align="C")
    if document.branch_address:
        say(document.branch_address, align="C")
    _rule(pdf)
    say(f"Receipt {bill.number}", bold=True)
    say(f"{document.issued_at:%Y-%m-%d %H:%M} ({document.time_zone})")
    if bill.customer_name:
        say(f"Customer: {bill.customer_name}")
    _rule(pdf)
    for line in bill.lines:
        _receipt_line(pdf, say, document, line)
    _rule(pdf)
    for band in bill.taxes:
        _pair(pdf, f"Tax {band.tax_category} {_rate(band.tax_rate)} on {money(band.net_amount, bill.currency)}",
              money(band.tax_amount, bill.currency))  # fmt: skip
    _rule(pdf)
    totals = _totals(bill)
    for label, value in totals[:-1]:
        _pair(pdf, label, value)
    _pair(pdf, *totals[-1], bold=True)
    for label, value in _payments(bill):
        _pair(pdf, label, value)
    note = _status_note(bill)
    if note:
        say(note, bold=True)
    pdf.ln(2)
    say("Prices include tax." if bill.prices_include_tax else "Prices exclude tax.", align="C")
    return pdf


def _receipt_writer(pdf: FPDF) -> Callable[..., None]:
    def say(value: str, *, bold: bool = False, size: float = 8, align: str = "L") -> None:
        pdf.set_font(FONT, "B" if bold else "", size)
        pdf.multi_cell(0, 3.6, value, align=align, new_x="LMARGIN", new_y="NEXT")

    return say


def _receipt_line(pdf: FPDF, say: Callable[..., None], document: BillDocument, line: BillLine) -> None:
    c = document.bill.currency
    say(line.description, bold=True)
    _pair(pdf, f"  {line.quantity} x {money(line.unit_price, c)}  tax {_rate(line.tax_rate)}",
          money(_line_amount(document.bill, line), c))  # fmt: skip
    discount = _discount(line)
    if discount:
        _pair(pdf, "  discount", f"-{money(discount, c)}")
    lots = document.lots.get(line.line_no, [])
    if lots:
        say("  " + _lot_text(lots, quantities=len(lots) > 1), size=7)


def _pair(pdf: FPDF, label: str, value: str, *, bold: bool = False) -> None:
    pdf.set_font(FONT, "B" if bold else "", 9 if bold else 8)
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.cell(width - 22, 3.8, label)
    pdf.cell(22, 3.8, value, align="R", new_x="LMARGIN", new_y="NEXT")


def _rule(pdf: FPDF) -> None:
    pdf.ln(1)
    y = pdf.get_y()
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.ln(1.5)
