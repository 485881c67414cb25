"""Recognised lines -> the prescription's fields, each with a confidence (0..1) and its box."""

from __future__ import annotations

import re
import unicodedata

from backend.clinical.sig import expand
from backend.drugs.matcher import resolve
from backend.ocr.engines import TextLine
from backend.ocr.fields import (
    COUNTABLE,
    FIELDS,
    FORM_OF,
    MISSING,
    Cell,
    Field,
    Found,
    cells_from_lines,
    continuation,
    find_labelled,
    looks_like_prescriber,
    parse_count,
    parse_date,
    parse_medication,
    parse_refills,
    patient_name,
    prescriber_name,
)

# Below this the confirm screen marks a field for a person to check.
LOW_CONFIDENCE = 0.8


def extract_fields(lines: list[TextLine]) -> dict[str, Field]:
    """Every field of FIELDS, read from one page's lines (missing ones are MISSING)."""
    cells = cells_from_lines(lines)
    out: dict[str, Field] = dict.fromkeys(FIELDS, MISSING)

    found = find_labelled(cells, "patient_name")
    if found and (name := patient_name(found.text)):
        out["patient_name"] = Field(name, found.confidence, found.box)

    for name in ("date_of_birth", "date_written"):
        found = find_labelled(cells, name)
        if found and (when := parse_date(found.text)):
            out[name] = Field(when.isoformat(), found.confidence, found.box)

    _prescriber(cells, out)
    _medication(cells, out)

    found = find_labelled(cells, "sig")
    if found:
        found = continuation(cells, found)
        # Directions are label English: a letter the engine read with an accent ("Taķe") is the plain one.
        sig, repaired = repair_sig(" ".join(_ascii_letters(found.text).replace("×", "x").split()))
        # A repaired reading is probably right but is marked for a person to look at.
        sure = min(found.confidence, 0.75) if repaired else found.confidence
        out["sig"] = Field(sig, sure, found.box)
        expanded = expand(sig)
        # Words the expander does not know stay as written in its text; the person should look.
        certainty = sure if not expanded.unknown else min(sure, 0.5)
        out["sig_expanded"] = Field(expanded.text, certainty, found.box)

    found = find_labelled(cells, "quantity")
    if found and (count := parse_count(found.text)) is not None:
        out["quantity"] = Field(count, found.confidence, found.box)
        unit = _unit_word(found.text)
        form = out["form"]
        if unit:
            out["quantity_unit"] = Field(unit, found.confidence, found.box)
        elif isinstance(form.value, str) and form.value in COUNTABLE:
            out["quantity_unit"] = Field(form.value, min(found.confidence, form.confidence), found.box)

    found = find_labelled(cells, "refills")
    if found and (refills := parse_refills(found.text)) is not None:
        out["refills"] = Field(refills, found.confidence, found.box)

    found = find_labelled(cells, "rx_number")
    if found and (number := re.fullmatch(r"[#:\s]*([0-9]{4,12})", found.text.replace(" ", ""))):
        out["rx_number"] = Field(number.group(1), found.confidence, found.box)
    return {name: _rounded(value) for name, value in out.items()}


# Words after which a number is expected in directions: "I tab" is "1 tab", "x IO days" is "x 10 days".
_COUNTED = re.compile(
    r"^(tabs?|tablets?|caps?|capsules?|days?|weeks?|hours?|hrs?|doses?|puffs?|drops?|gtts?|ml|mg|mcg|sprays?|units?)$",
    re.I,
)
_DIGIT_LIKE = re.compile(r"^[0-9OoIl|]+$")
# Frequency codes that start with q, which handwriting engines read as g or a: "ghs", "ahs", "g8h".
_Q_CODE = re.compile(r"^[ga](hs|am|pm|d|od|id|wk|\d+(?:-\d+)?h)$", re.I)


def repair_sig(sig: str) -> tuple[str, bool]:
    """Undo the engines' usual slips in directions, only where the grammar of a sig leaves no doubt:
    a digit-like word before a counted unit is a number, and g/a + a frequency code is q. Returns the
    text and whether anything changed."""
    words = sig.split()
    changed = False
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else ""
        if _DIGIT_LIKE.match(word) and not word.isdigit() and _COUNTED.match(following):
            words[index] = word.translate(str.maketrans("OoIl|", "00111"))
            changed = True
        elif _Q_CODE.match(word):
            words[index] = ("Q" if word[0].isupper() else "q") + word[1:]
            changed = True
    return " ".join(words), changed


def _ascii_letters(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    return "".join(char for char in folded if not unicodedata.combining(char))


def _rounded(value: Field) -> Field:
    return Field(value.value, round(max(0.0, min(1.0, value.confidence)), 3), value.box)


def _unit_word(text: str) -> str | None:
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in FORM_OF:
            return FORM_OF[word]
        if word in ("ml", "milliliters", "millilitres"):
            return "mL"
    return None


def _prescriber(cells: list[Cell], out: dict[str, Field]) -> None:
    found = find_labelled(cells, "prescriber")
    if found is None:
        # Pads print the prescriber in the letterhead with a title or credentials and no label:
        # the first such line from the top (the signature line repeats it lower down).
        for cell in cells:
            text = re.sub(r"^electronically signed by\s+", "", cell.text, flags=re.I)
            if looks_like_prescriber(text):
                found = Found(text, cell.confidence, cell.box)
                break
    if found is None:
        return
    written = re.sub(r"^electronically signed by\s+", "", found.text, flags=re.I).strip()
    out["prescriber_as_written"] = Field(written, found.confidence, found.box)
    name = prescriber_name(written)
    if name:
        out["prescriber"] = Field(name, found.confidence, found.box)


def _medication(cells: list[Cell], out: dict[str, Field]) -> None:
    candidates: list[Found] = []
    labelled = find_labelled(cells, "medication")
    if labelled:
        candidates.append(labelled)
    # Pads write the medicine after the Rx symbol with no label: any line shaped "name strength".
    candidates.extend(Found(cell.text, cell.confidence, cell.box) for cell in cells)
    for found in candidates:
        medication = parse_medication(found.text)
        if medication is None:
            continue
        match = resolve(medication.drug_as_written)
        if match is None:
            continue  # not a medicine the dictionary knows: an address or a phone line with digits
        written = _without_stray_prefix(medication.drug_as_written, match.generic)
        out["drug_as_written"] = Field(written, found.confidence, found.box)
        # A fuzzy match (an OCR slip, a misspelling) is only as sure as its similarity.
        out["drug"] = Field(match.generic.lower(), found.confidence * match.similarity, found.box)
        out["strength"] = Field(medication.strength, found.confidence, found.box)
        if medication.form:
            out["form"] = Field(medication.form, found.confidence, found.box)
        return


def _without_stray_prefix(written: str, generic: str) -> str:
    """Drop leading marks the line picked up (the pad's "Rx" symbol read as "R", a check box as "X")
    while the rest still names the same medicine: "R amlodipine" -> "amlodipine". Salt words after
    the name ("Sertraline HCl") stay: they are how it was written."""
    words = written.split()
    while len(words) > 1:
        rest = " ".join(words[1:])
        match = resolve(rest, fuzzy=False)
        if match is None or match.generic != generic:
            break
        words = words[1:]
    return " ".join(words)
