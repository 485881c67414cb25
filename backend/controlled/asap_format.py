"""ASAP 4.2 (American Society for Automation in Pharmacy, "Standard for Prescription Monitoring Programs"),
the file state PMPs take: its separators, the segments this product writes, their field rules, and a
validator that checks a file against them.

A file is segments ending in `~`, elements separated by `*`:

    TH  transaction header (version 4.2, control number, type 01, creation date and time, P/T, terminator)
    IS  information source (the chain)
    PHA pharmacy header (NPI, NCPDP, DEA, name, state)       \
      PAT patient, DSP dispensing, PRE prescriber,             | per pharmacy
          CDI compound ingredient (only for compounds), AIR   |
    TP  pharmacy trailer: segments from PHA to TP inclusive   /
    TT  transaction trailer: the TH control number and the segments from TH to TT inclusive

The rules are the ones states publish from the 4.2 implementation guide for the elements written here:
required (R) or situational, maximum length, dates CCYYMMDD, times HHMMSS or HHMM, numbers, code lists.
DSP01 is 00 for a new record, 01 to revise one and 02 to void one (a fill returned to stock after it was
reported); a void repeats the original's Rx number, fill date and refill number.

A zero report (the guide's appendix, what PMPs take from a pharmacy that dispensed no controlled
substance in the period) is the same envelope with one empty dispensing: IS03 holds the period as
`#CCYYMMDD#-#CCYYMMDD#`, PAT07-08 are REPORT and ZERO, DSP05 is the report's date, and PRE, CDI and AIR are
empty; everything else in those segments stays empty:

    TH*4.2*...~~  IS*...*...*#20260105#-#20260105#~  PHA*...~  PAT*******REPORT*ZERO~  DSP*****20260105~
    PRE*~  CDI*~  AIR*~  TP*7~  TT*...*10~
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

ELEMENT = "*"
SEGMENT = "~"
VERSION = "4.2"


@dataclass(frozen=True)
class Rule:
    name: str
    required: bool = False
    max_length: int = 0  # 0: no limit stated
    kind: str = "AN"  # AN text, N digits, D date CCYYMMDD, T time, or "code"
    codes: frozenset[str] = frozenset()
    exact_length: int = 0


def _r(name: str, max_length: int = 0, kind: str = "AN", codes: str = "", exact: int = 0) -> Rule:
    return Rule(name, True, max_length, kind, frozenset(codes.split()) if codes else frozenset(), exact)


def _o(name: str, max_length: int = 0, kind: str = "AN", codes: str = "", exact: int = 0) -> Rule:
    return Rule(name, False, max_length, kind, frozenset(codes.split()) if codes else frozenset(), exact)


# element position (1-based, as "DSP05") -> rule; elements past the last listed are not written
RULES: dict[str, tuple[Rule, ...]] = {
    "TH": (
        _r("Version/Release Number", 4, codes=VERSION),
        _r("Transaction Control Number", 100),
        _o("Transaction Type", 2, codes="01 02 03"),
        _o("Response ID", 100),
        _r("Creation Date", 8, "D"),
        _r("Creation Time", 6, "T"),
        _r("File Type", 1, codes="P T"),
        _o("Routing Number", 100),
        _r("Segment Terminator Character", 1, codes=SEGMENT),
    ),
    "IS": (
        _r("Unique Information Source ID", 10),
        _r("Information Source Entity Name", 60),
        _o("Message", 100),
    ),
    "PHA": (
        _o("National Provider Identifier (NPI)", 10, "N", exact=10),
        _o("NCPDP/NABP Provider ID", 7, "N", exact=7),
        _r("DEA Number", 9),
        _o("Pharmacy Name", 60),
        _o("Address Information - 1", 55),
        _o("Address Information - 2", 55),
        _o("City Address", 30),
        _o("State Address", 2),
        _o("ZIP Code Address", 9, "N"),
        _o("Phone Number", 10, "N"),
        _o("Contact Name", 60),
        _o("Chain Site ID", 10),
    ),
    "PAT": (
        _o("ID Qualifier of Patient Identifier", 2),
        _o("ID Qualifier", 2),
        _o("ID of Patient", 20),
        _o("ID Qualifier of Additional Patient Identifier", 2),
        _o("Additional Patient ID Qualifier", 2),
        _o("Additional ID", 20),
        _r("Last Name", 50),
        _r("First Name", 35),
        _o("Middle Name", 30),
        _o("Name Prefix", 10),
        _o("Name Suffix", 10),
        _o("Address Information - 1", 55),
        _o("Address Information - 2", 55),
        _o("City Address", 30),
        _o("State Address", 2),
        _o("ZIP Code Address", 9, "N"),
        _o("Phone Number", 10, "N"),
        _r("Date of Birth", 8, "D"),
        _r("Gender Code", 1, codes="F M U"),
        _r("Species Code", 2, codes="01 02"),
    ),
    "DSP": (
        _r("Reporting Status", 2, codes="00 01 02"),
        _r("Prescription Number", 25),
        _r("Date Written", 8, "D"),
        _r("Refills Authorized", 2, "N"),
        _r("Date Filled", 8, "D"),
        _r("Refill Number", 2, "N"),
        _r("Product ID Qualifier", 2, codes="01 06"),
        _r("Product ID", 11, "N", exact=11),
        _r("Quantity Dispensed", 11, "N"),
        _r("Days Supply", 3, "N"),
        _r("Drug Dosage Units Code", 2, codes="01 02 03"),
        _r("Transmission Form of Rx Origin Code", 2, codes="01 02 03 04 05 06"),
        _r("Partial Fill Indicator", 2, "N"),
        _o("Pharmacist National Provider Identifier (NPI)", 10, "N"),
        _o("Pharmacist State License Number", 20),
        _r("Classification Code for Payment Type", 2, codes="01 02 03 04 05 06 07 99"),
        _o("Date Sold", 8, "D"),
    ),
    "PRE": (
        _o("National Provider Identifier (NPI)", 10, "N", exact=10),
        _r("DEA Number", 9),
        _o("DEA Number Suffix", 10),
        _o("Prescriber State License Number", 20),
        _r("Last Name", 50),
        _r("First Name", 35),
        _o("Middle Name", 30),
        _o("Phone Number", 10, "N"),
    ),
    "CDI": (
        _r("Compound Drug Ingredient Sequence Number", 2, "N"),
        _r("Product ID Qualifier", 2),
        _r("Product ID", 11, "N"),
        _r("Compound Ingredient Quantity", 11, "N"),
        _r("Compound Drug Dosage Units Code", 2),
    ),
    "AIR": (
        _o("State Issuing Rx Serial Number", 2),
        _o("State Issued Rx Serial Number", 20),
        _o("Issuing Jurisdiction", 2),
        _o("ID Qualifier of Person Dropping Off or Picking Up Rx", 2),
        _o("ID of Person Dropping Off or Picking Up Rx", 20),
        _o("Relationship of Person Dropping Off or Picking Up Rx", 2),
        _o("Last Name of Person Dropping Off or Picking Up Rx", 50),
        _o("First Name of Person Dropping Off or Picking Up Rx", 35),
        _o("Last Name or Initials of Pharmacist", 50),
        _o("First Name of Pharmacist", 35),
    ),
    "TP": (_r("Detail Segment Count", 10, "N"),),
    "TT": (_r("Transaction Control Number", 100), _r("Segment Count", 10, "N")),
}
DEA_NUMBER = re.compile(r"^[A-Z][A-Z9][0-9]{7}$")
TIME = re.compile(r"^([01][0-9]|2[0-3])[0-5][0-9]([0-5][0-9])?$")


def _date_ok(value: str) -> bool:
    if not re.fullmatch(r"[0-9]{8}", value):
        return False
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


def _element_errors(where: str, rule: Rule, value: str) -> list[str]:
    if not value:
        return [f"{where} ({rule.name}) is required."] if rule.required else []
    errors = []
    if rule.max_length and len(value) > rule.max_length:
        errors.append(f"{where} ({rule.name}) is longer than {rule.max_length} characters.")
    if rule.exact_length and len(value) != rule.exact_length:
        errors.append(f"{where} ({rule.name}) must have {rule.exact_length} characters.")
    if rule.kind == "N" and not value.isdigit():
        errors.append(f"{where} ({rule.name}) must be digits.")
    if rule.kind == "D" and not _date_ok(value):
        errors.append(f"{where} ({rule.name}) must be a date CCYYMMDD.")
    if rule.kind == "T" and not TIME.match(value):
        errors.append(f"{where} ({rule.name}) must be a time HHMMSS or HHMM.")
    if rule.codes and value not in rule.codes:
        errors.append(f"{where} ({rule.name}) must be one of {', '.join(sorted(rule.codes))}.")
    if rule.name == "DEA Number" and not DEA_NUMBER.match(value):
        errors.append(f"{where} ({rule.name}) is not a DEA number (two letters and seven digits).")
    return errors


def split_segments(content: str) -> list[list[str]]:
    """The file's segments as lists of elements (TH's terminator element kept as the character itself)."""
    if not content.startswith("TH" + ELEMENT):
        return []
    # TH09 is the terminator itself, so the header ends with "~~".
    head_end = content.find(SEGMENT + SEGMENT)
    if head_end < 0:
        return []
    head = content[:head_end].split(ELEMENT)  # "...*P**" ends with the empty slot TH09's "~" filled
    head[-1] = SEGMENT if head[-1] == "" else head[-1]
    segments = [head]
    rest = content[head_end + 2 :].rstrip("\r\n")
    for raw in rest.split(SEGMENT):
        if raw.strip("\r\n"):
            segments.append(raw.strip("\r\n").split(ELEMENT))
    return segments


# After each segment, which may follow (the order of the 4.2 guide for one or more pharmacies).
FOLLOWS = {
    "TH": {"IS"},
    "IS": {"PHA"},
    "PHA": {"PAT"},
    "PAT": {"DSP"},
    "DSP": {"PRE"},
    "PRE": {"CDI", "AIR", "PAT", "TP"},
    "CDI": {"CDI", "AIR", "PAT", "TP"},
    "AIR": {"AIR", "PAT", "TP"},
    "TP": {"PHA", "TT"},
}


ZERO_TAGS = ["TH", "IS", "PHA", "PAT", "DSP", "PRE", "CDI", "AIR", "TP", "TT"]
# In a zero report, the only elements of the empty dispensing that hold anything (position -> what).
ZERO_ELEMENTS = {"PAT": {7: "REPORT", 8: "ZERO"}, "DSP": {5: "the report's date"}, "PRE": {}, "CDI": {}, "AIR": {}}
PERIOD = re.compile(r"^#([0-9]{8})#-#([0-9]{8})#$")


def report_period(start: date, end: date) -> str:
    """IS03 of a zero report: the period it covers."""
    return f"#{start:%Y%m%d}#-#{end:%Y%m%d}#"


def zero_report(header: str, information_source: str, pharmacy: str, day: date, control: str) -> str:
    """The zero report of one pharmacy for `day`: the TH header (without its segment terminator), the IS and
    PHA segments as written for any file (IS03 the `report_period`), then the empty dispensing and the
    trailers."""
    empty = [
        ELEMENT.join(["PAT", "", "", "", "", "", "", "REPORT", "ZERO"]) + SEGMENT,
        ELEMENT.join(["DSP", "", "", "", "", f"{day:%Y%m%d}"]) + SEGMENT,
        *[tag + ELEMENT + SEGMENT for tag in ("PRE", "CDI", "AIR")],
    ]
    body = [pharmacy, *empty]
    body.append(f"TP{ELEMENT}{len(body) + 1}{SEGMENT}")
    segments = [header + SEGMENT, information_source, *body]
    segments.append(f"TT{ELEMENT}{control}{ELEMENT}{len(segments) + 1}{SEGMENT}")
    return "\n".join(segments) + "\n"


def _is_zero_report(segments: list[list[str]]) -> bool:
    return any(s[0] == "PAT" and s[7:9] == ["REPORT", "ZERO"] for s in segments)


def _zero_errors(tag: str, values: list[str]) -> list[str]:
    """A zero report's empty dispensing: only PAT07-08 (REPORT, ZERO) and DSP05 (a date) hold anything."""
    allowed = ZERO_ELEMENTS[tag]
    errors = [
        f"{tag}{position:02d} must be empty in a zero report."
        for position, value in enumerate(values, start=1)
        if value and position not in allowed
    ]
    if tag == "DSP" and not _date_ok(values[4] if len(values) > 4 else ""):
        errors.append("DSP05 of a zero report must be the report's date CCYYMMDD.")
    return errors


def _zero_report_errors(segments: list[list[str]]) -> list[str]:
    """A zero report has exactly one empty dispensing for one pharmacy, and IS03 states the period."""
    errors = []
    if [s[0] for s in segments] != ZERO_TAGS:
        errors.append("A zero report holds TH, IS, PHA, PAT, DSP, PRE, CDI, AIR, TP and TT, once each.")
    source = next((s for s in segments if s[0] == "IS"), [])
    period = PERIOD.match(source[3] if len(source) > 3 else "")
    if period is None or not (_date_ok(period[1]) and _date_ok(period[2])) or period[1] > period[2]:
        errors.append("IS03 of a zero report must be the period #CCYYMMDD#-#CCYYMMDD#.")
    return errors


def validate(content: str) -> list[str]:
    """Every way the file breaks the 4.2 rules above: structure (segment order), each element's rule,
    and the trailer counts (TP01, TT01, TT02); a zero report by its own rules. An empty list means the
    file is valid."""
    segments = split_segments(content)
    if not segments:
        return ["The file must start with a TH segment ending in the terminator '~~'."]
    zero = _is_zero_report(segments)
    errors: list[str] = _zero_report_errors(segments) if zero else []
    previous = ""
    pharmacy_start = 0
    for index, elements in enumerate(segments):
        tag, values = elements[0], elements[1:]
        rules = RULES.get(tag)
        where_segment = f"segment {index + 1} ({tag})"
        if rules is None:
            errors.append(f"{where_segment} is not an ASAP 4.2 segment this file may hold.")
            continue
        if previous and tag not in FOLLOWS.get(previous, set()):
            errors.append(f"{where_segment} may not follow {previous}.")
        if len(values) > len(rules):
            errors.append(f"{where_segment} has {len(values)} elements; at most {len(rules)}.")
        if zero and tag in ZERO_ELEMENTS:
            errors += _zero_errors(tag, values)
        else:
            for position, rule in enumerate(rules, start=1):
                value = values[position - 1] if position <= len(values) else ""
                errors += _element_errors(f"{tag}{position:02d}", rule, value)
        if tag == "PHA":
            pharmacy_start = index
        if tag == "TP" and values and values[0].isdigit() and int(values[0]) != index - pharmacy_start + 1:
            errors.append(f"TP01 says {values[0]} segments; PHA to TP holds {index - pharmacy_start + 1}.")
        previous = tag
    if previous != "TT":
        errors.append("The file must end with a TT segment.")
    else:
        trailer = segments[-1]
        if len(trailer) > 1 and trailer[1] != (segments[0][2] if len(segments[0]) > 2 else None):
            errors.append("TT01 must repeat the TH02 transaction control number.")
        if len(trailer) > 2 and trailer[2].isdigit() and int(trailer[2]) != len(segments):
            errors.append(f"TT02 says {trailer[2]} segments; TH to TT holds {len(segments)}.")
    return errors
