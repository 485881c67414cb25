"""The prescription label of a fill, as a PDF for a label printer (4 x 3 inches), drawn with fpdf2.

What US labelling asks for (21 CFR 290.5 / 1306.14 for controlled substances, state boards for the rest):
the pharmacy's name, address and phone, the Rx number, the patient, the drug with its strength, form and
maker, the lot, the directions (the expanded sig), the quantity, refills left, the date filled, the
prescriber, a discard-after date, auxiliary warnings, and on CII-CIV the federal transfer caution
(21 CFR 290.5). A Code 39 barcode of the fill's code lets the counter and the final check scan it, and a
flag tells staff when the drug comes with an FDA Medication Guide to hand out.

The auxiliary warnings and the Medication Guide list are small curated tables keyed by ingredient
(and dosage form for "swallow whole"); a drug they do not name gets no warning rather than a guessed one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from fpdf import FPDF
from sqlalchemy import text
from sqlmodel import Session

from backend.billing.bills.pdf import ENCODING, printable
from backend.patients.service import identity_of
from backend.prescriptions.fills import Fill, get_fill
from tenants.context import TenantContext

FONT = "Helvetica"
WIDTH_MM, HEIGHT_MM = 101.6, 76.2  # a 4 x 3 inch pharmacy label
MARGIN_MM = 3
BAR_WIDE_MM = 0.66  # Code 39's wide bar; the narrow one is a third (0.22 mm, within a counter scanner's reach)
TRANSFER_CAUTION = (
    "Caution: Federal law prohibits the transfer of this drug to any person other than the patient "
    "for whom it was prescribed."
)
TRANSFER_SCHEDULES = frozenset({"CII", "CIII", "CIV"})  # 21 CFR 290.5: schedules II to IV

_DROWSY = "May cause drowsiness. Alcohol may intensify this effect. Use care when driving or operating machinery."
_WITH_FOOD = "Take with food or milk."
_FINISH = "Finish all of this medicine unless your prescriber tells you otherwise."
_NO_DAIRY = "Do not take dairy products, antacids or iron within 2 hours of this medicine."
_NO_ALCOHOL = "Do not drink alcohol while taking this medicine and for 3 days after."
_NO_NSAID = "Do not take aspirin or other pain relievers (NSAIDs) without asking your pharmacist."
_WEEKLY = "Take ONCE A WEEK on the same day, not every day, unless your prescriber says otherwise."
_GRAPEFRUIT = "Avoid grapefruit and grapefruit juice."
_SWALLOW_WHOLE = "Swallow whole. Do not crush, chew or break."
_SUN = "Avoid prolonged sunlight; wear sunscreen."

_OPIOIDS = (
    "oxycodone",
    "hydrocodone",
    "morphine",
    "hydromorphone",
    "codeine",
    "tramadol",
    "tapentadol",
    "fentanyl",
    "methadone",
    "oxymorphone",
    "buprenorphine",
)
_BENZODIAZEPINES = ("alprazolam", "lorazepam", "diazepam", "clonazepam", "temazepam", "chlordiazepoxide")
_SEDATING = (*_OPIOIDS, *_BENZODIAZEPINES, "zolpidem", "eszopiclone", "gabapentin", "pregabalin", "cyclobenzaprine")
_NSAIDS = ("ibuprofen", "naproxen", "diclofenac", "meloxicam", "celecoxib", "indomethacin", "ketorolac", "etodolac")
_ANTIBIOTICS = (
    "amoxicillin",
    "ampicillin",
    "penicillin",
    "cephalexin",
    "cefuroxime",
    "cefdinir",
    "azithromycin",
    "clarithromycin",
    "doxycycline",
    "minocycline",
    "tetracycline",
    "ciprofloxacin",
    "levofloxacin",
    "moxifloxacin",
    "sulfamethoxazole",
    "nitrofurantoin",
    "clindamycin",
    "metronidazole",
)
_CHELATING = ("doxycycline", "minocycline", "tetracycline", "ciprofloxacin", "levofloxacin", "moxifloxacin")

AUXILIARY: tuple[tuple[tuple[str, ...], str], ...] = (
    (_SEDATING, _DROWSY),
    (_NSAIDS, _WITH_FOOD),
    (_ANTIBIOTICS, _FINISH),
    (_CHELATING, _NO_DAIRY),
    (("doxycycline", "minocycline", "tetracycline", "sulfamethoxazole", "ciprofloxacin"), _SUN),
    (("metronidazole", "tinidazole"), _NO_ALCOHOL),
    (("warfarin",), _NO_NSAID),
    (("methotrexate",), _WEEKLY),
    (("simvastatin", "lovastatin", "atorvastatin"), _GRAPEFRUIT),
)
_MODIFIED_RELEASE = ("extended", "delayed", "sustained", "controlled-release", "er ", "xr", "xl", "enteric")

# Drugs dispensed with an FDA Medication Guide (FDA, "Medication Guides", drugs@FDA), by ingredient.
MEDICATION_GUIDE = frozenset(
    {
        *_OPIOIDS,
        *_BENZODIAZEPINES,
        *_NSAIDS,
        "ciprofloxacin",
        "levofloxacin",
        "moxifloxacin",
        "warfarin",
        "methotrexate",
        "isotretinoin",
        "sertraline",
        "fluoxetine",
        "citalopram",
        "escitalopram",
        "paroxetine",
        "bupropion",
        "venlafaxine",
        "duloxetine",
        "trazodone",
        "amitriptyline",
        "lamotrigine",
        "levetiracetam",
        "topiramate",
        "montelukast",
        "zolpidem",
        "methylphenidate",
        "amphetamine",
        "lisdexamfetamine",
    }
)


def _ingredients(generic_name: str) -> set[str]:
    return {word for word in generic_name.lower().replace("/", " ").replace("-", " ").split() if word}


def auxiliary_warnings(generic_name: str, dosage_form: str = "") -> list[str]:
    """The auxiliary warnings for a drug, in a fixed order, each once."""
    words = _ingredients(generic_name)
    found = [warning for names, warning in AUXILIARY if words & set(names)]
    form = f" {dosage_form.lower()} "
    if any(mark in form for mark in _MODIFIED_RELEASE):
        found.append(_SWALLOW_WHOLE)
    return list(dict.fromkeys(found))


def has_medication_guide(generic_name: str) -> bool:
    return bool(_ingredients(generic_name) & MEDICATION_GUIDE)


@dataclass(frozen=True)
class Label:
    """Everything printed on a fill's label."""

    pharmacy: str
    branch: str
    address: str
    phone: str
    rx_number: str
    patient: str
    drug: str  # generic name
    brand: str
    strength: str
    form: str
    maker: str
    lots: str
    directions: str
    quantity: int
    unit: str
    owed: int
    refills_left: int
    filled_on: date
    prescriber: str
    discard_after: date
    schedule: str | None
    code: str
    warnings: list[str] = field(default_factory=list)
    medication_guide: bool = False

    @property
    def transfer_caution(self) -> bool:
        return self.schedule in TRANSFER_SCHEDULES


def label_for(session: Session, ctx: TenantContext, fill_id: str) -> Label:
    """What a fill's label says, read in the caller's transaction (opening the fill is logged)."""
    fill: Fill = get_fill(session, ctx, fill_id)
    row = session.execute(
        text(
            "SELECT r.rx_number, r.sig_written, r.sig_expanded, r.quantity_unit, r.refills_remaining, r.schedule, "
            "r.patient_id, coalesce(pr.full_name, '') AS prescriber, "
            "coalesce(pr.credentials, '') AS credentials, m.generic_name, m.brand_name, m.strength, m.dosage_form, "
            "m.dispensing_unit, br.name AS branch, br.address, br.phone, br.time_zone, t.name AS chain "
            "FROM prescriptions r JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
            "JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id "
            "JOIN tenants t ON t.id = r.tenant_id "
            "LEFT JOIN prescribers pr ON pr.tenant_id = r.tenant_id AND pr.id = r.prescriber_id WHERE r.id = :id"
        ),
        {"id": fill.prescription_id},
    ).one()
    prescriber = f"{row.prescriber}, {row.credentials}" if row.credentials else row.prescriber
    return Label(
        pharmacy=row.chain,
        branch=row.branch,
        address=row.address,
        phone=row.phone,
        rx_number=row.rx_number,
        patient=identity_of(session, ctx, row.patient_id).full_name,
        drug=row.generic_name,
        brand=row.brand_name,
        strength=row.strength,
        form=row.dosage_form,
        maker=row.brand_name,  # the catalog's brand is the originator or the generic's maker
        lots=", ".join(f"{lot.lot_number} (exp {lot.expiry_date.isoformat()})" for lot in fill.lots),
        directions=row.sig_expanded or row.sig_written,
        quantity=fill.quantity,
        unit=row.quantity_unit or row.dispensing_unit,
        owed=fill.owed_after,
        refills_left=row.refills_remaining,
        filled_on=fill.filled_at.astimezone(ZoneInfo(row.time_zone)).date(),
        prescriber=prescriber,
        discard_after=fill.discard_after,
        schedule=row.schedule,
        code=fill.code,
        warnings=auxiliary_warnings(row.generic_name, row.dosage_form),
        medication_guide=has_medication_guide(row.generic_name),
    )


def label_pdf(session: Session, ctx: TenantContext, fill_id: str) -> tuple[str, bytes]:
    """The fill's code and its label as a PDF (4 x 3 inches; a long label continues on a second one)."""
    label = label_for(session, ctx, fill_id)
    return label.code, render_label(label)


class _LabelPdf(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="landscape", unit="mm", format=(HEIGHT_MM, WIDTH_MM))
        self.core_fonts_encoding = ENCODING
        self.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
        self.set_auto_page_break(True, margin=MARGIN_MM)

    def normalize_text(self, txt: str) -> str:
        return super().normalize_text(printable(txt))


def _date(day: date) -> str:
    return day.strftime("%m/%d/%Y")  # the US label's date


def render_label(label: Label) -> bytes:
    pdf = _LabelPdf()
    pdf.add_page()
    width = pdf.epw
    pdf.set_font(FONT, "B", 8)
    pdf.cell(width, 3.5, f"{label.pharmacy} - {label.branch}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 6.5)
    contact = "  ".join(part for part in (label.address, f"Tel {label.phone}" if label.phone else "") if part)
    pdf.cell(width, 3, contact, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 8)
    pdf.cell(width / 2, 4, f"Rx {label.rx_number}")
    pdf.set_font(FONT, "", 7)
    pdf.cell(width / 2, 4, f"Filled {_date(label.filled_on)}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 9)
    pdf.cell(width, 4.5, label.patient, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 7.5)
    drug = " ".join(part for part in (label.drug, label.strength, label.form) if part)
    pdf.multi_cell(width, 3.5, drug, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 6.5)
    pdf.multi_cell(width, 3, f"Mfr: {label.maker or 'not recorded'}   Lot: {label.lots}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 8)
    pdf.multi_cell(width, 3.8, label.directions, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 7)
    quantity = f"Qty: {label.quantity} {label.unit}".rstrip()
    if label.owed:
        quantity += f" (partial fill; {label.owed} owed)"
    pdf.cell(width / 2, 3.5, quantity)
    pdf.cell(width / 2, 3.5, f"Refills left: {label.refills_left}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(width / 2, 3.5, f"Prescriber: {label.prescriber}")
    pdf.cell(width / 2, 3.5, f"Discard after: {_date(label.discard_after)}", align="R", new_x="LMARGIN", new_y="NEXT")
    if label.medication_guide:
        pdf.set_font(FONT, "B", 6.5)
        pdf.cell(width, 3, "MEDICATION GUIDE: give the patient the FDA Medication Guide", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 6)
    for warning in label.warnings:
        pdf.multi_cell(width, 2.6, f"! {warning}", new_x="LMARGIN", new_y="NEXT")
    if label.transfer_caution:
        pdf.set_font(FONT, "B", 6)
        pdf.multi_cell(width, 2.6, TRANSFER_CAUTION, new_x="LMARGIN", new_y="NEXT")
    _barcode(pdf, label.code)
    return bytes(pdf.output())


def _barcode(pdf: FPDF, code: str) -> None:
    """Code 39 of the fill's code with its text under it, at the foot of the label (on a new one if full)."""
    height, text_height = 7.0, 2.6
    if pdf.get_y() + height + text_height > pdf.h - MARGIN_MM:
        pdf.add_page()
    y = pdf.get_y() + 0.8
    pdf.set_fill_color(0)
    pdf.code39(f"*{code}*", x=pdf.l_margin, y=y, w=BAR_WIDE_MM, h=height)
    pdf.set_xy(pdf.l_margin, y + height)
    pdf.set_font(FONT, "", 6)
    pdf.cell(pdf.epw, text_height, code, new_x="LMARGIN", new_y="NEXT")
