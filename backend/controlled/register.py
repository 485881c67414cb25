"""The controlled-substance register of a branch: every receipt, dispensing (fill or counter sale), return,
correction, loss and destruction of a scheduled medicine (CII to CV), with the running balance.

Nothing is kept apart from the inventory ledger: each line is a `stock_movements` row, and the balance is
the sum of the medicine's movements at the branch up to and including it. The balance therefore always
equals the ledger (and the ledger equals on-hand, `pharmacy-saas inventory reconcile`). Movement kinds are
shown through `kind_label`, so a kind added later (a fill returned to stock) appears with a readable name
and no change here. The fill or bill a line belongs to is read from the movement's reference (a fill's
code, a bill's number, an order's DEA 222 / CSOS number, a Form 106 report's number).
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from fpdf import FPDF
from sqlalchemy import text
from sqlmodel import Session

from backend.billing.bills.pdf import ENCODING, printable
from backend.controlled.common import Branch, branch, day_bounds, local_today, parse_day
from backend.core.display import display_time
from backend.core.errors import ValidationFailed
from backend.core.spreadsheet import safe_cell
from backend.core.validation import as_uuid
from tenants.context import TenantContext
from tenants.roles import require

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366  # a register page is a period; the CSV of two years is what an inspector asks for
LOSS_PREFIX = "DEA-106"  # the reference of a theft-or-loss report's stock adjustment

KIND_LABELS = {
    "receive": "Received",
    "dispense": "Dispensed",
    "adjust": "Correction",
    "transfer_in": "Transferred in",
    "transfer_out": "Transferred out",
    "customer_return": "Returned by customer",
    "supplier_return": "Returned to supplier",
    "write_off": "Destroyed / written off",
}


def kind_label(kind: str, reference: str = "", fill_code: str = "") -> str:
    """A movement kind as a pharmacist reads it; a kind this table does not know is spelt out from its name."""
    if kind == "dispense":
        return "Dispensed (fill)" if fill_code else "Dispensed (counter sale)"
    if kind == "adjust" and reference.startswith(LOSS_PREFIX):
        return "Theft or loss (DEA 106)"
    return KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize()


@dataclass(frozen=True)
class RegisterLine:
    movement_id: int
    occurred_at: datetime
    kind: str
    kind_label: str
    lot_number: str
    quantity: int  # signed: + into stock, - out of it
    balance: int  # on hand after this line, by the ledger
    reference: str
    fill_code: str
    rx_number: str
    reason: str
    by: str

    @property
    def received(self) -> int:
        return max(self.quantity, 0)

    @property
    def issued(self) -> int:
        return max(-self.quantity, 0)


@dataclass(frozen=True)
class RegisterMedicine:
    medicine_id: str
    name: str
    strength: str
    dosage_form: str
    schedule: str
    ndc: str
    opening: int  # on hand at the start of the period
    closing: int  # on hand at the end of it
    lines: list[RegisterLine] = field(default_factory=list)


@dataclass(frozen=True)
class Register:
    branch: Branch
    start: date
    end: date
    medicines: list[RegisterMedicine]


def _period(start: object, end: object, time_zone: str) -> tuple[date, date]:
    until = parse_day(end, "end") if end not in (None, "") else local_today(time_zone)
    since = parse_day(start, "start") if start not in (None, "") else until - timedelta(days=DEFAULT_DAYS)
    if since > until:
        raise ValidationFailed("The start date is after the end date.", field="start")
    if (until - since).days > MAX_DAYS:
        raise ValidationFailed("Choose at most three years at a time.", field="start")
    return since, until


_BALANCES = text("""
SELECT m.id, m.generic_name, m.strength, m.dosage_form, m.controlled_class, coalesce(m.barcode, '') AS ndc,
       coalesce(sum(s.quantity) FILTER (WHERE s.occurred_at < :since), 0)::int AS opening,
       coalesce(sum(s.quantity) FILTER (WHERE s.occurred_at < :until), 0)::int AS closing,
       count(s.id) FILTER (WHERE s.occurred_at >= :since AND s.occurred_at < :until) AS moves
FROM medicines m
JOIN stock_movements s ON s.tenant_id = m.tenant_id AND s.medicine_id = m.id AND s.branch_id = :branch
WHERE m.schedule = 'controlled' AND (CAST(:medicine AS uuid) IS NULL OR m.id = CAST(:medicine AS uuid))
GROUP BY m.tenant_id, m.id
ORDER BY lower(m.generic_name), m.strength, m.id
""")

# The fill a dispensing (or a fill's return) belongs to is named by the movement's reference; the
# prescription's number comes with it. Read-only, under RLS, in the same transaction.
_LINES = text("""
SELECT s.id, s.medicine_id, s.occurred_at, s.kind, s.quantity, s.reason, s.reference, b.lot_number,
       coalesce(f.code, '') AS fill_code, coalesce(r.rx_number, '') AS rx_number,
       coalesce(u.full_name, CASE WHEN s.actor_user_id IS NULL THEN 'system' ELSE 'an API token' END) AS actor
FROM stock_movements s
JOIN medicines m ON m.tenant_id = s.tenant_id AND m.id = s.medicine_id
JOIN batches b ON b.tenant_id = s.tenant_id AND b.id = s.batch_id
LEFT JOIN prescription_fills f ON f.tenant_id = s.tenant_id AND f.code = s.reference AND f.medicine_id = s.medicine_id
LEFT JOIN prescriptions r ON r.tenant_id = f.tenant_id AND r.id = f.prescription_id
LEFT JOIN users u ON u.id = s.actor_user_id
WHERE s.branch_id = :branch AND m.schedule = 'controlled' AND s.occurred_at >= :since AND s.occurred_at < :until
  AND (CAST(:medicine AS uuid) IS NULL OR s.medicine_id = CAST(:medicine AS uuid))
ORDER BY s.medicine_id, s.occurred_at, s.id
""")


def register(
    session: Session,
    ctx: TenantContext,
    branch_id: str,
    *,
    medicine_id: str | None = None,
    start: object = None,
    end: object = None,
) -> Register:
    """The branch's register for a period (dates in the branch's calendar, both included; the last 30
    days by default), one section per scheduled medicine that moved there, each line with the balance
    after it. `medicine_id` narrows it to one medicine."""
    require(ctx, "controlled.view")
    where = branch(session, ctx, branch_id)
    since, until = _period(start, end, where.time_zone)
    lower, upper = day_bounds(since, until, where.time_zone)
    medicine = str(as_uuid(medicine_id, "medicine")) if medicine_id else None
    params = {"branch": uuid.UUID(where.id), "since": lower, "until": upper, "medicine": medicine}
    by_medicine: dict[str, list[Any]] = {}
    for row in session.execute(_LINES, params).all():
        by_medicine.setdefault(str(row.medicine_id), []).append(row)
    sections = []
    for m in session.execute(_BALANCES, params).all():
        if not m.moves and not m.closing:
            continue  # nothing on hand and nothing moved in the period: not part of this period's register
        balance, lines = m.opening, []
        for row in by_medicine.get(str(m.id), []):
            balance += row.quantity
            lines.append(_line(row, balance))
        sections.append(
            RegisterMedicine(
                str(m.id),
                m.generic_name,
                m.strength,
                m.dosage_form,
                m.controlled_class,
                m.ndc,
                m.opening,
                m.closing,
                lines,
            )
        )
    return Register(where, since, until, sections)


def _line(row: object, balance: int) -> RegisterLine:
    r: Any = row
    return RegisterLine(
        movement_id=r.id,
        occurred_at=r.occurred_at,
        kind=r.kind,
        kind_label=kind_label(r.kind, r.reference, r.fill_code),
        lot_number=r.lot_number,
        quantity=r.quantity,
        balance=balance,
        reference=r.reference,
        fill_code=r.fill_code,
        rx_number=r.rx_number,
        reason=r.reason,
        by=r.actor,
    )


def reference_text(line: RegisterLine) -> str:
    """What the line's reference is, in words: "Fill RX-1-0-1 (Rx RX-1)", "Bill B1-2026-000012", ..."""
    if line.fill_code:
        return f"Fill {line.fill_code} (Rx {line.rx_number})"
    if line.kind == "dispense" and line.reference:
        return f"Bill {line.reference}"
    return line.reference


CSV_COLUMNS = (
    "date_time_local",
    "medicine",
    "strength",
    "dosage_form",
    "schedule",
    "ndc",
    "lot_number",
    "entry",
    "received",
    "issued",
    "balance",
    "fill",
    "rx_number",
    "reference",
    "reason",
    "by",
)


def register_csv(session: Session, ctx: TenantContext, branch_id: str, **period: object) -> tuple[str, str]:
    """The register as CSV (file name, text): an opening line per medicine, then its lines with the balance."""
    found = register(session, ctx, branch_id, **period)  # type: ignore[arg-type]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    zone = found.branch.time_zone
    for m in found.medicines:
        head = [m.name, m.strength, m.dosage_form, m.schedule, m.ndc]
        writer.writerow(
            safe_cell(v) for v in [found.start.isoformat(), *head, "", "Opening balance", "", "", m.opening, *[""] * 5]
        )
        for line in m.lines:
            writer.writerow(
                safe_cell(v)
                for v in [
                    display_time(line.occurred_at, zone, seconds=True),
                    *head,
                    line.lot_number,
                    line.kind_label,
                    line.received or "",
                    line.issued or "",
                    line.balance,
                    line.fill_code,
                    line.rx_number,
                    line.reference,
                    line.reason,
                    line.by,
                ]
            )
    name = f"controlled-register-{found.branch.code}-{found.start.isoformat()}-{found.end.isoformat()}.csv"
    return name, out.getvalue()


class _Pdf(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="landscape", unit="mm", format="letter")
        self.core_fonts_encoding = ENCODING
        self.title_line = title
        self.set_auto_page_break(True, margin=12)
        self.alias_nb_pages()

    def normalize_text(self, txt: str) -> str:
        return super().normalize_text(printable(txt))

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", "", 7)
        self.cell(0, 5, f"{self.title_line} - page {self.page_no()} of {{nb}}", align="C")


def pdf_document(title: str) -> _Pdf:
    """A letter-size landscape document with its title on every page's foot (shared by the register,
    the biennial inventory and the Form 106 report)."""
    pdf = _Pdf(title)
    pdf.add_page()
    return pdf


def pdf_table(pdf: FPDF, widths: tuple[float, ...], header: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    pdf.set_font("Helvetica", "B", 7.5)
    for width, name in zip(widths, header, strict=True):
        pdf.cell(width, 5, name, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 7.5)
    for row in rows:
        for width, value in zip(widths, row, strict=True):
            pdf.cell(width, 4.5, str(value)[: max(4, int(width / 1.45))], border=1)
        pdf.ln()


REGISTER_WIDTHS = (30.0, 36.0, 22.0, 14.0, 14.0, 16.0, 48.0, 40.0, 39.0)
REGISTER_HEADER = ("Date/time", "Entry", "Lot", "In", "Out", "Balance", "Fill / bill / reference", "Reason", "By")


def register_pdf(session: Session, ctx: TenantContext, branch_id: str, **period: object) -> tuple[str, bytes]:
    """The register as a PDF (file name, bytes): a section per medicine with its opening and closing balance."""
    found = register(session, ctx, branch_id, **period)  # type: ignore[arg-type]
    title = f"Controlled-substance register - {found.branch.name} ({found.branch.code})"
    pdf = pdf_document(title)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(
        0,
        5,
        f"{found.start.isoformat()} to {found.end.isoformat()} ({found.branch.time_zone}); balances from the "
        "inventory ledger",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if not found.medicines:
        pdf.cell(0, 8, "No scheduled medicine moved or was on hand in this period.", new_x="LMARGIN", new_y="NEXT")
    zone = found.branch.time_zone
    for m in found.medicines:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(
            0,
            6,
            f"{m.name} {m.dosage_form} - {m.schedule} - NDC {m.ndc or 'none'} - "
            f"opening {m.opening}, closing {m.closing}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        rows: list[tuple[object, ...]] = [
            (
                display_time(line.occurred_at, zone),
                line.kind_label,
                line.lot_number,
                line.received or "",
                line.issued or "",
                line.balance,
                reference_text(line),
                line.reason,
                line.by,
            )
            for line in m.lines
        ]
        pdf_table(pdf, REGISTER_WIDTHS, REGISTER_HEADER, rows)
    name = f"controlled-register-{found.branch.code}-{found.start.isoformat()}-{found.end.isoformat()}.pdf"
    return name, bytes(pdf.output())
