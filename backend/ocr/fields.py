"""From recognised text lines to prescription fields.

Prescriptions come in many layouts (boxed order forms with the label above the value, e-prescription
print-outs with "Label: value", prescription pads with a letterhead and no labels for the prescriber
or the medicine), so nothing here knows a template. The lines are first put back into cells (an
engine may return a phrase or single words), then each field is found by its label, the value taken
from the same cell, the cell to its right or the cell below in the same column. Two fields are also
recognised by their shape where pads print no label: the medicine (a name that the drug dictionary
knows followed by a strength) and the prescriber (a name with a title or credentials).

A value that cannot be read or parsed stays None with confidence 0: nothing is guessed, and no
field is filled from another field, except the quantity's unit from a countable dosage form (a
bare "30" for a tablet is 30 tablets, the pharmacy's own convention).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date

from backend.ocr.engines import Box, TextLine

FIELDS = (
    "patient_name",
    "date_of_birth",
    "prescriber",
    "prescriber_as_written",
    "date_written",
    "drug",
    "drug_as_written",
    "strength",
    "form",
    "sig",
    "sig_expanded",
    "quantity",
    "quantity_unit",
    "refills",
    "rx_number",
)


@dataclass(frozen=True)
class Field:
    value: str | int | None
    confidence: float
    box: Box | None


MISSING = Field(None, 0.0, None)


@dataclass
class Cell:
    """Text that belongs together on one row (words closer than a few character widths)."""

    text: str
    box: Box
    confidence: float
    used: bool = field(default=False, compare=False)


# --- labels -------------------------------------------------------------------------------------
# Longest first where one label starts another ("date of birth" before "date").
LABELS: dict[str, tuple[str, ...]] = {
    "date_of_birth": (r"date\s*of\s*birth", r"d\.?\s*o\.?\s*b\.?", r"birth\s*date"),
    "date_written": (r"date\s*written", r"date\s*issued", r"written\s*on", r"date(?!\s*of)"),
    "patient_name": (r"patient\s*name", r"patient", r"name"),
    "prescriber": (r"prescriber(?!\s*signature)(?:\s*name)?", r"physician", r"doctor"),
    "medication": (
        r"medication\s*/\s*strength\s*[/|il1]\s*dosage\s*form",
        r"medication",
        r"medicine",
        r"drug",
    ),
    "sig": (r"directions\s*\(\s*sig\s*\)", r"directions", r"sig", r"instructions"),
    "quantity": (r"quantity", r"qty", r"dispense", r"disp"),
    "refills": (r"refills?", r"rf"),
    "rx_number": (r"rx\s*(?:#|no\.?|number|num)", r"prescription\s*(?:#|no\.?|number)"),
}
# Other labels on the forms: a cell that is one of these is never a value.
OTHER_LABELS = (
    r"dea\s*/?\s*npi",
    r"dea",
    r"npi",
    r"phone",
    r"tel",
    r"fax",
    r"address",
    r"clinic\s*address",
    r"sex",
    r"days\s*supply",
    r"substitutions?",
    r"prescriber\s*signature",
    r"send\s*to",
    r"notes.*",
)

_LABEL_RES = {
    name: [re.compile(rf"^\s*(?:{pattern})(?![A-Za-z])\s*[:.;]?\s*(?P<rest>.*)$", re.I) for pattern in patterns]
    for name, patterns in LABELS.items()
}
_ALL_LABEL_ONLY = re.compile(
    rf"^\s*(?:{'|'.join(p for ps in LABELS.values() for p in ps)}|{'|'.join(OTHER_LABELS)})\s*[:.]?\s*$", re.I
)


def is_label(text: str) -> bool:
    return bool(_ALL_LABEL_ONLY.match(text))


# --- layout ---------------------------------------------------------------------------------------


def cells_from_lines(lines: list[TextLine]) -> list[Cell]:
    """Join the engine's boxes into cells: same row (vertical overlap) and a gap under ~2.5 letter
    heights. easyocr returns words or short phrases, RapidOCR whole phrases; after this both look alike."""
    ordered = sorted(lines, key=lambda line: (line.box.middle, line.box.left))
    rows: list[list[TextLine]] = []
    for line in ordered:
        for row in rows:
            ref = row[-1].box
            overlap = min(ref.bottom, line.box.bottom) - max(ref.top, line.box.top)
            if overlap > 0.55 * min(ref.height, line.box.height):
                row.append(line)
                break
        else:
            rows.append([line])
    cells: list[Cell] = []
    for row in rows:
        row.sort(key=lambda line: line.box.left)
        current = [row[0]]
        for line in row[1:]:
            height = max(current[-1].box.height, line.box.height)
            if line.box.left - current[-1].box.right < 1.2 * height:
                current.append(line)
            else:
                cells.append(_cell(current))
                current = [line]
        cells.append(_cell(current))
    cells.sort(key=lambda cell: (cell.box.top, cell.box.left))
    return cells


def _cell(lines: list[TextLine]) -> Cell:
    box = lines[0].box
    for line in lines[1:]:
        box = box.union(line.box)
    text = " ".join(line.text.strip() for line in lines)
    return Cell(" ".join(text.split()), box, min(line.confidence for line in lines))


@dataclass(frozen=True)
class Found:
    text: str
    confidence: float
    box: Box


def find_labelled(cells: list[Cell], name: str) -> Found | None:
    """The value written with a label: after it in the same cell, in the cell to its right on the
    same row, or in the cell right below it in the same column (boxed forms)."""
    for cell in cells:
        for pattern in _LABEL_RES[name]:
            match = pattern.match(cell.text)
            if not match:
                continue
            rest = match.group("rest").strip(" :.-|")
            if rest and not is_label(rest):
                return Found(rest, cell.confidence, cell.box)
            value = _right_of(cells, cell) or _below(cells, cell)
            if value is not None:
                value.used = True
                return Found(value.text, min(value.confidence, cell.confidence), value.box)
            break
    return None


def _right_of(cells: list[Cell], label: Cell) -> Cell | None:
    """The nearest cell to the right on the same row, unless that is the next label: a value the
    engine missed must leave the field empty, not hand it the next label's value."""
    height = label.box.height
    candidates = [
        cell
        for cell in cells
        if cell is not label
        and cell.box.left >= label.box.right - 2
        and cell.box.left - label.box.right < 6 * height
        and abs(cell.box.middle - label.box.middle) < 0.6 * max(height, cell.box.height)
    ]
    nearest = min(candidates, key=lambda cell: cell.box.left, default=None)
    if nearest is None or is_label(nearest.text) or _starts_with_label(nearest.text):
        return None
    return nearest


def _below(cells: list[Cell], label: Cell) -> Cell | None:
    height = label.box.height
    candidates = [
        cell
        for cell in cells
        if cell.box.top > label.box.middle
        and cell.box.top - label.box.bottom < 1.8 * max(height, 20)
        and abs(cell.box.left - label.box.left) < 2.5 * height
    ]
    first = min(candidates, key=lambda cell: cell.box.top, default=None)
    if first is None or is_label(first.text) or _starts_with_label(first.text):
        return None
    return first


def _starts_with_label(text: str) -> bool:
    return any(pattern.match(text) and re.match(r"^\s*\w+\s*:", text) for ps in _LABEL_RES.values() for pattern in ps)


def continuation(cells: list[Cell], found: Found) -> Found:
    """A sig that wraps onto the next lines: cells right below the last line, starting under the
    text, that are not labels. Each cell is taken once."""
    text, box, confidence = found.text, found.box, found.confidence
    last = found.box  # the line the next one must follow (the union grows; the step does not)
    taken: set[int] = set()
    for _ in range(4):  # directions longer than five lines are not a sig
        nxt = [
            cell
            for cell in cells
            if id(cell) not in taken
            and cell.box.top > last.bottom - 0.3 * last.height
            and cell.box.top - last.bottom < 0.6 * last.height
            and box.left - 2 * last.height < cell.box.left < box.left + 0.6 * (box.right - box.left)
            and not is_label(cell.text)
            and not _starts_with_label(cell.text)
            and not _has_label_to_its_left(cells, cell)
        ]
        if not nxt:
            break
        cell = min(nxt, key=lambda c: c.box.top)
        taken.add(id(cell))
        text, confidence = f"{text} {cell.text}", min(confidence, cell.confidence)
        box, last = box.union(cell.box), cell.box
    return Found(text, confidence, box)


def _has_label_to_its_left(cells: list[Cell], cell: Cell) -> bool:
    """Is this cell the value of another label on its row ("Qty:   20" under a sig)?"""
    return any(
        other is not cell
        and other.box.right <= cell.box.left + 2
        and abs(other.box.middle - cell.box.middle) < 0.6 * max(other.box.height, cell.box.height)
        and (is_label(other.text) or _starts_with_label(other.text))
        for other in cells
    )


# --- values ---------------------------------------------------------------------------------------

MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}


def _digits(text: str) -> str:
    """OCR's usual letter-for-digit slips, only inside something that should be a number."""
    return text.translate(_DIGIT_SLIPS)


_DIGIT_SLIPS = str.maketrans("OolI|SB", "0011158")


_NUMERIC_DATE = re.compile(
    r"(?<![\w/.-])([0-9OolI|]{1,4})\s*([/.\-])\s*([0-9OolI|]{1,2})\s*\2\s*([0-9OolI|]{2,4})(?![\w/])"
)


def parse_date(text: str) -> date | None:
    """03/14/2026 (US month first), 14.03.2026 (day first), 2026-03-14, 14 Mar 2026, March 14, 2026.
    The first date in the text counts: a cell can run on into the next label and its date."""
    t = " ".join(text.replace(",", " ").split())
    found: list[tuple[int, date | None]] = []
    numeric = _NUMERIC_DATE.search(t)
    if numeric:
        found.append((numeric.start(), _numeric_date(*numeric.groups())))
    words = re.search(r"\b(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{4})(?!\d)", t)
    if words and (month := _month(words.group(2))):
        found.append((words.start(), _make(int(words.group(3)), month, int(words.group(1)))))
    words = re.search(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\s+(\d{4})(?!\d)", t)
    if words and (month := _month(words.group(1))):
        found.append((words.start(), _make(int(words.group(3)), month, int(words.group(2)))))
    return min(found, key=lambda item: item[0])[1] if found else None


def _numeric_date(first_text: str, sep: str, second_text: str, year_text: str) -> date | None:
    a, b, c = _digits(first_text), _digits(second_text), _digits(year_text)
    if len(a) == 4:
        return _make(int(a), int(b), int(c))
    if len(c) != 4:
        return None  # a two-digit year is a guess about the century: leave it to a person
    first, second, year = int(a), int(b), int(c)
    if sep == ".":  # the European way of writing it
        return _make(year, second, first)
    if first > 12 >= second:  # 14/03/2026 can only be day first
        return _make(year, second, first)
    return _make(year, first, second)


def _month(word: str) -> int | None:
    """A month's name or abbreviation; a full name with one letter misread ("Uctober") still counts,
    an abbreviation must be exact (three letters leave no room for a slip)."""
    word = word.lower()
    if word in MONTHS:
        return MONTHS[word]
    if len(word) >= 5:
        close = difflib.get_close_matches(word, [m for m in MONTHS if len(m) >= 5], n=1, cutoff=0.8)
        if close:
            return MONTHS[close[0]]
    return None


def _make(year: int, month: int, day: int) -> date | None:
    if not 1900 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
}


def parse_count(text: str) -> int | None:
    """#30, 30, "30 tablets", "thirty (30)", "(30) thirty", "ninety": the number of units."""
    t = text.strip()
    digits = re.search(r"(?:^|[#(\s])\s*([0-9OolI|]{1,4})(?=\b|\)|$)", t)
    if digits:
        raw = _digits(digits.group(1))
        if raw.isdigit():
            return int(raw)
    words = re.findall(r"[a-z]+", t.lower())
    if words and words[0] in NUMBER_WORDS:
        total = 0
        for word in words:
            if word not in NUMBER_WORDS:
                break
            value = NUMBER_WORDS[word]
            total = total * value if value == 100 else total + value
        return total
    return None


def parse_refills(text: str) -> int | None:
    t = text.strip().lower().strip(".")
    if re.fullmatch(r"(nr|n/r|none|no|no refills?|zero|0|o|-)", t):
        return 0
    t = re.sub(r"^[x×]\s*(?=\d)", "", t)  # "x3": three refills
    return parse_count(t)


UNITS = {"mg": "mg", "mcg": "mcg", "µg": "mcg", "ug": "mcg", "g": "g", "ml": "mL", "%": "%", "meq": "mEq"}
UNITS.update({"units": "units", "unit": "units", "iu": "IU", "mg/ml": "mg/mL", "mg/5ml": "mg/5 mL"})
FORMS = {
    "tablet": ("tab", "tabs", "tablet", "tablets", "tbl"),
    "capsule": ("cap", "caps", "capsule", "capsules"),
    "solution": ("solution", "soln", "sol"),
    "suspension": ("suspension", "susp"),
    "cream": ("cream",),
    "ointment": ("ointment", "oint"),
    "inhaler": ("inhaler", "mdi"),
    "patch": ("patch", "patches"),
    "syrup": ("syrup",),
    "drops": ("drops", "gtt"),
    "injection": ("injection", "inj"),
    "suppository": ("suppository", "suppositories", "supp"),
}
FORM_OF = {word: form for form, words in FORMS.items() for word in words}
# A bare count of these is a count of the form itself.
COUNTABLE = {"tablet", "capsule", "patch", "suppository"}

_STRENGTH = re.compile(
    r"^(?P<name>.*?[A-Za-z].*?)[\s,]+(?P<amount>\d[\dOo]*(?:[.,]\d+)?(?:\s*/\s*\d+(?:\.\d+)?)?)\s*"
    r"(?P<unit>mg/5\s*ml|mg/ml|mcg|µg|ug|mg|meq|ml|g|%|units?|iu)\b\.?\s*(?P<rest>.*)$",
    re.I,
)


@dataclass(frozen=True)
class Medication:
    drug_as_written: str
    strength: str
    form: str | None


def parse_medication(text: str) -> Medication | None:
    """ "Sertraline HCl 50mg tablet" -> (Sertraline HCl, 50 mg, tablet)."""
    match = _STRENGTH.match(" ".join(text.split()))
    if not match:
        return None
    name = match.group("name").strip(" ,.-:")
    name = re.sub(r"^(rx|medication|drug)\s*[:.]?\s*", "", name, flags=re.I).strip()
    amount = _digits(match.group("amount").replace(" ", "").replace(",", "."))  # "2O mg" is 20 mg
    unit = UNITS.get(match.group("unit").lower().replace(" ", ""), match.group("unit"))
    form = None
    for word in re.findall(r"[a-z]+", match.group("rest").lower()):
        if word in FORM_OF:
            form = FORM_OF[word]
            break
    return Medication(name, f"{amount} {unit}", form)


CREDENTIALS = (
    r"M\.?\s?D\.?",
    r"D\.?\s?O\.?",
    r"N\.?\s?P\.?(?:-C)?",
    r"PA-?C",
    r"P\.?\s?A\.?",
    r"D\.?D\.?S\.?",
    r"D\.?M\.?D\.?",
    r"D\.?P\.?M\.?",
    r"PharmD",
    r"F?NP-?BC",
    r"APRN",
    r"O\.?D\.?",
    r"MBBS",
)
_CREDENTIALS = re.compile(rf"\s*,?\s*(?:{'|'.join(CREDENTIALS)})\s*(?:,\s*)?$", re.I)
_TITLE = re.compile(r"^\s*(?:dr\.?|doctor)\s+", re.I)
_NAME = re.compile(r"^[A-Z][A-Za-z'\-]+(?:\s+[A-Z][A-Za-z'\-]*\.?)*\s+[A-Z][A-Za-z'\-]+$")


def prescriber_name(written: str) -> str | None:
    """ "Dr. Miriam L. Oduya" / "Rowan T. Achebe, DO" -> the name alone."""
    name = _TITLE.sub("", written)
    for _ in range(3):  # "Jane Roe, MD, MPH"
        stripped = _CREDENTIALS.sub("", name)
        if stripped == name:
            break
        name = stripped
    name = name.strip(" ,")
    return name if _NAME.match(name) else None


def looks_like_prescriber(text: str) -> bool:
    return bool(_TITLE.match(text) or _CREDENTIALS.search(text)) and prescriber_name(text) is not None


def patient_name(written: str) -> str | None:
    """ "Castellano, Ingrid D." -> "Ingrid D. Castellano"; anything not shaped like a name -> None."""
    text = " ".join(written.strip(" :-|").split())
    if text.count(",") == 1:
        last, first = (part.strip() for part in text.split(","))
        text = f"{first} {last}"
    if not re.fullmatch(r"[A-Za-z][A-Za-z'\-]*\.?(?:\s+[A-Za-z][A-Za-z'\-]*\.?)+", text):
        return None
    return text
