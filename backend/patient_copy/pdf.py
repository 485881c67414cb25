"""The patient's copy as a PDF (US letter, portrait), drawn with fpdf2 like the bills, labels and the
controlled register: the core Helvetica font with text folded to its character set (no font files, no
network). Times are printed in UTC with the zone named; the JSON file carries the same values exactly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from fpdf import FPDF

from backend.billing.bills.pdf import ENCODING, money, printable
from backend.patient_copy.contents import PatientCopy
from backend.prescriptions.pickup import Pickup

FONT = "Helvetica"
TITLE = "Patient's copy of their records"


class _CopyPdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self.core_fonts_encoding = ENCODING
        self.footer_text = footer_text
        self.set_auto_page_break(True, margin=14)
        self.alias_nb_pages()

    def normalize_text(self, txt: str) -> str:
        return super().normalize_text(printable(txt))

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, "", 7)
        self.cell(0, 5, f"{self.footer_text} - page {self.page_no()} of {{nb}}", align="C")

    def heading(self, title: str) -> None:
        self.ln(2)
        self.set_font(FONT, "B", 12)
        self.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, "", 9)

    def subheading(self, title: str) -> None:
        self.set_font(FONT, "B", 9.5)
        self.line_of(title)
        self.set_font(FONT, "", 9)

    def line_of(self, text: str, indent: float = 0) -> None:
        self.set_x(self.l_margin + indent)
        # Most lines fit: a plain cell is several times faster than multi_cell's line breaking.
        if self.get_string_width(text) < self.epw - indent - 2 * self.c_margin:
            self.cell(0, 4.5, text, new_x="LMARGIN", new_y="NEXT")
        else:
            self.multi_cell(0, 4.5, text, new_x="LMARGIN", new_y="NEXT")

    def pairs(self, rows: list[tuple[str, object]], indent: float = 0) -> None:
        for label, value in rows:
            self.line_of(f"{label}: {_text(value)}", indent)


def _text(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _pickup(pickup: Pickup) -> str:
    who = pickup.picked_up_by.value.replace("_", " ")
    if pickup.picked_up_by_name:
        who += f" ({pickup.picked_up_by_name})"
    counsel = pickup.counselling.value.replace("_", " ")
    seen = f"; ID {pickup.id_type} {pickup.id_number}" if pickup.id_type else ""
    return f"Picked up {_text(pickup.picked_up_at)} by {who}; counselling {counsel}{seen}; signature on file"


def _patient(pdf: _CopyPdf, copy: PatientCopy) -> None:
    p = copy.patient
    pdf.heading("Your record")
    pdf.pairs(
        [
            ("Name", p.full_name),
            ("Date of birth", p.date_of_birth),
            ("Phone", p.phone),
            ("E-mail", p.email),
            ("Address", p.address),
            ("Home pharmacy", p.home_branch_name),
            ("Consent to be contacted", f"yes, since {_text(p.consent_at)}" if p.contact_consent else "no"),
            ("Allergies (as written)", p.allergies),
            ("Allergies recorded", copy.allergies.label),
            ("Notes", p.notes),
            ("Record created", p.created_at),
            ("Last changed", p.updated_at),
        ]
    )
    for entry in copy.allergies.entries:
        pdf.line_of(f"- {entry.written}" + (f" (reaction: {entry.reaction})" if entry.reaction else ""), 4)
    pdf.heading("Insurance coverage")
    if not copy.coverages:
        pdf.line_of("None recorded.")
    for c in copy.coverages:
        state = "active" if c.active else "ended"
        pdf.line_of(
            f"{c.payer_name}: member {c.member_id}, plan {_text(c.plan)}, group {_text(c.group_number)} ({state})"
        )


def _prescriptions(pdf: _CopyPdf, copy: PatientCopy) -> None:
    pdf.heading("Prescriptions")
    if not copy.prescriptions:
        pdf.line_of("None.")
    for record in copy.prescriptions:
        rx = record.history.prescription
        pdf.subheading(f"Rx {rx.rx_number}: {rx.medicine_label or rx.drug_written} - {rx.status.label}")
        pdf.pairs(
            [
                ("Written", rx.date_written),
                ("Prescriber", rx.prescriber_name),
                ("Directions", rx.sig_expanded or rx.sig_written),
                ("Quantity", f"{_text(rx.quantity)} {rx.quantity_unit or ''}".strip()),
                ("Days' supply", rx.days_supply),
                ("Refills", f"{rx.refills_remaining} of {rx.refills_authorized} left"),
                ("Pharmacy", rx.branch_name),
            ],
            4,
        )
        for event in rx.events:
            reason = f" - {event.reason}" if event.reason else ""
            pdf.line_of(f"{_text(event.occurred_at)}  {event.action} ({event.to_status}) by {event.who}{reason}", 4)
        for v in record.history.verifications:
            pdf.line_of(f"Verified {_text(v.verified_at)} by {v.verified_by}: {v.signature_meaning}", 4)
        for f in record.fills:
            fill = f.fill
            lots = ", ".join(f"lot {lot.lot_number} exp {lot.expiry_date.isoformat()}" for lot in fill.lots)
            pdf.line_of(
                f"Fill {fill.code}: {fill.quantity} filled {_text(fill.filled_at)} by {fill.filled_by}, "
                f"{fill.status.value.replace('_', ' ')}" + (f"; {lots}" if lots else ""),
                4,
            )
            if f.pickup:
                pdf.line_of(_pickup(f.pickup), 8)


def _money_records(pdf: _CopyPdf, copy: PatientCopy) -> None:
    pdf.heading("Purchases at the counter")
    if not copy.bills:
        pdf.line_of("None.")
    for bill in copy.bills:
        when = bill.finalized_at or bill.created_at
        pdf.subheading(
            f"Bill {bill.number or '(draft)'} - {_text(when)} - {money(bill.total_due, bill.currency)} "
            f"{bill.currency} ({bill.status.value.replace('_', ' ')})"
        )
        for line in bill.lines:
            pdf.line_of(f"{line.quantity} x {line.description}: {money(line.gross_amount, bill.currency)}", 4)
    pdf.heading("Insurance claims")
    if not copy.claims:
        pdf.line_of("None.")
    for claim in copy.claims:
        pdf.line_of(
            f"{claim.bill_number} to {claim.payer_name}: claimed {money(claim.claimed_amount, claim.currency)} "
            f"{claim.currency}, {claim.status.value.replace('_', ' ')} (made {_text(claim.created_at)})"
        )


def _messages(pdf: _CopyPdf, copy: PatientCopy) -> None:
    pdf.heading("Messages naming your medicine")
    consent = copy.message_consent
    pdf.line_of("You agreed." if consent.consented else "Not agreed: messages to you name no medicine.")
    for record in consent.history:
        withdrawn = f", withdrawn {_text(record.withdrawn_at)} by {record.withdrawn_by}" if record.withdrawn_at else ""
        given = record.channel.replace("_", " ")
        pdf.line_of(f"- agreed {_text(record.recorded_at)} ({given}), recorded by {record.recorded_by}{withdrawn}", 4)


def _access(pdf: _CopyPdf, copy: PatientCopy) -> None:
    pdf.heading("Who looked at your record")
    for entry in copy.access_log:
        reason = f" - {entry.reason}" if entry.reason else ""
        pdf.line_of(f"{_text(entry.occurred_at)}  {entry.action} by {entry.who}{reason}")


def copy_pdf(copy: PatientCopy, *, requested_on: date, due_on: date) -> bytes:
    """The copy, section by section: the record, prescriptions with their history, fills and pickups,
    purchases, claims and the access log, after a cover with the request and its due date."""
    pdf = _CopyPdf(f"{TITLE} - produced {_text(copy.produced_at)}")
    pdf.add_page()
    pdf.set_font(FONT, "B", 15)
    pdf.cell(0, 9, TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.pairs(
        [
            ("Produced", copy.produced_at),
            ("Requested on", requested_on),
            ("Due by (30 days, HIPAA right of access)", due_on),
        ]
    )
    pdf.line_of(
        "This is everything this pharmacy chain holds about you. A machine-readable copy (JSON) with the same "
        "contents was produced with it."
    )
    _patient(pdf, copy)
    _prescriptions(pdf, copy)
    _money_records(pdf, copy)
    _messages(pdf, copy)
    _access(pdf, copy)
    return bytes(pdf.output())
