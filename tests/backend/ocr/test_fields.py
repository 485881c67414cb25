"""Field parsing and layout, without an engine: the written forms the issue names, and no guessing."""

from __future__ import annotations

from datetime import date

import pytest

from backend.ocr.engines import Box, TextLine
from backend.ocr.extract import extract_fields
from backend.ocr.fields import parse_count, parse_date, parse_medication, parse_refills, patient_name, prescriber_name


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("03/14/2026", date(2026, 3, 14)),
        ("14.03.2026", date(2026, 3, 14)),
        ("March 14, 2026", date(2026, 3, 14)),
        ("14 Mar 2026", date(2026, 3, 14)),
        ("2026-03-14", date(2026, 3, 14)),
        ("14/03/2026", date(2026, 3, 14)),  # only day-first can be right
        ("O3/l4/2026", date(2026, 3, 14)),  # OCR's letter-for-digit slips
        ("03/14/26", None),  # the century would be a guess
        ("02/30/2026", None),
        ("(360) 555-0159", None),
    ],
)
def test_dates(written, expected):
    assert parse_date(written) == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [("#30", 30), ("30", 30), ("thirty (30)", 30), ("20 tablets", 20), ("ninety", 90), ("lots", None)],
)
def test_quantities(written, expected):
    assert parse_count(written) == expected


@pytest.mark.parametrize(
    ("written", "expected"), [("NR", 0), ("no refills", 0), ("None", 0), ("3", 3), ("x3", 3), ("two (2)", 2)]
)
def test_refills(written, expected):
    assert parse_refills(written) == expected


def test_names():
    assert prescriber_name("Dr. Miriam L. Oduya") == "Miriam L. Oduya"
    assert prescriber_name("Rowan T. Achebe, DO") == "Rowan T. Achebe"
    assert prescriber_name("Gerald Fontaine, M.D.") == "Gerald Fontaine"
    assert prescriber_name("Elif Kaya, PA-C") == "Elif Kaya"
    assert patient_name("Castellano, Ingrid D.") == "Ingrid D. Castellano"
    assert patient_name("4137 Pine Terrace") is None
    medication = parse_medication("Sertraline HCl 50mg tablet")
    assert medication is not None
    assert (medication.drug_as_written, medication.strength, medication.form) == ("Sertraline HCl", "50 mg", "tablet")


def _line(text: str, left: float, top: float, width: float = 300, height: float = 30, conf: float = 0.95):
    return TextLine(text, Box(left, top, left + width, top + height), conf)


def test_labels_above_beside_and_after_and_missing_fields_stay_empty():
    lines = [
        _line("PATIENT NAME", 60, 100, 140, 20),  # boxed form: the value below the label
        _line("Hector Lindqvist", 60, 130),
        _line("RX NUMBER", 560, 100, 110, 20),  # an empty box: nothing below it in its column
        _line("Date written:", 60, 200, 150),  # a label and its value in separate boxes
        _line("March 14, 2026", 230, 202, 200),
        _line("Lipitor 20 mg tab", 60, 300),  # no label: a medicine by its shape
        _line("Sig: 1 tab PO qhs", 60, 350),
        _line("Qty: thirty (30)", 60, 400),
        _line("Refills: NR", 60, 450, conf=0.6),
        _line("Dr. Laura Chen", 600, 700),
    ]
    fields = extract_fields(lines)
    values = {name: field.value for name, field in fields.items()}
    assert values == {
        "patient_name": "Hector Lindqvist",
        "date_of_birth": None,
        "prescriber": "Laura Chen",
        "prescriber_as_written": "Dr. Laura Chen",
        "date_written": "2026-03-14",
        "drug": "atorvastatin",
        "drug_as_written": "Lipitor",
        "strength": "20 mg",
        "form": "tablet",
        "sig": "1 tab PO qhs",
        "sig_expanded": "Take 1 tablet by mouth at bedtime",
        "quantity": 30,
        "quantity_unit": "tablet",
        "refills": 0,
        "rx_number": None,
    }
    assert fields["rx_number"].confidence == 0.0 and fields["date_of_birth"].box is None
    assert fields["refills"].confidence == 0.6
    assert fields["patient_name"].box == Box(60, 130, 360, 160)


def test_an_unknown_medicine_is_not_invented():
    fields = extract_fields([_line("Xylotrimab 50 mg tablet", 60, 300), _line("Sig: 1 tab daily", 60, 350)])
    assert fields["drug"].value is None and fields["strength"].value is None
    assert fields["quantity_unit"].value is None  # no form read, so no unit borrowed from it


def test_slips_the_grammar_settles_are_repaired_and_nothing_else():
    from backend.ocr.extract import repair_sig

    assert repair_sig("I tab PO ghs") == ("1 tab PO qhs", True)
    assert repair_sig("I CAP PO TID X IO DAYS") == ("1 CAP PO TID X 10 DAYS", True)
    assert repair_sig("Apply to affected area bid") == ("Apply to affected area bid", False)
    assert parse_date("Uctober 6, 1977") == date(1977, 10, 6)  # one letter of a month's full name
    assert parse_date("Jane 5 2026") is None  # too short to tell June from a name
    medication = parse_medication("LIPITOR 2O MG TABLET")
    assert medication is not None and medication.strength == "20 mg"


def test_the_first_date_of_a_cell_that_ran_into_the_next_label_counts():
    assert parse_date("February 25, 1941Date 13.03.2026") == date(1941, 2, 25)
