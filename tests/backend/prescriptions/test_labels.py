"""The label of a fill: everything the issue lists is printed, the transfer caution only on CII-CIV,
the date in the branch's zone, and the barcode carries the fill's code."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from pypdf import PdfReader
from sqlalchemy import text

from backend.prescriptions import fills, labels
from tests.backend.prescriptions.test_fills import fill, receive


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def filled_bars(content: bytes) -> int:
    """Filled rectangles drawn (the barcode's bars: fpdf2 draws each as `x y w h re f`)."""
    reader = PdfReader(io.BytesIO(content))
    count = 0
    for page in reader.pages:
        data = page.get_contents().get_data()
        count += len(re.findall(rb"re f\b", data))
    return count


def label(pharmacy, fill_id: str) -> tuple[str, bytes]:
    return pharmacy.run(pharmacy.technician, labels.label_pdf, fill_id)


def test_a_cii_label_carries_everything_and_the_federal_transfer_caution(pharmacy, db):
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE branches SET address = '12 Market Street, Springfield', phone = '555-0142' WHERE id = :b"),
        {"b": pharmacy.branch},
    )
    receive(pharmacy, "oxycodone", "OXY-7731", 40, days=200)
    rx = pharmacy.on_profile(
        pharmacy.patient("Olive Oxford"), "oxycodone", quantity="20", sig_written="1 tab po q12h prn pain"
    )
    done = fill(pharmacy, rx.id)
    code, pdf = label(pharmacy, done.id)
    words = pdf_text(pdf)
    assert code == done.code
    for expected in (
        rx.rx_number,
        "Olive Oxford",
        "Oxycodone 5 mg",
        "Lot: OXY-7731",
        "Take 1 tablet by mouth every 12 hours as needed for pain",
        "Qty: 20",
        "Refills left: 0",
        "Prescriber: Dana Rivera, MD",
        f"Discard after: {(date.today() + timedelta(days=200)).strftime('%m/%d/%Y')}",
        f"Filled {date.today().strftime('%m/%d/%Y')}",
        "12 Market Street, Springfield",
        "Tel 555-0142",
        "MEDICATION GUIDE",
        "May cause drowsiness",
        done.code,
    ):
        assert expected in words.replace("\n", " "), expected
    assert "Federal law prohibits the transfer of this drug" in words.replace("\n", " ")
    # The barcode: five bars for each Code 39 character, the start and stop asterisks included.
    assert filled_bars(pdf) == 5 * len(f"*{done.code}*")


def test_a_plain_prescription_label_has_no_caution_no_guide_and_no_invented_warning(pharmacy):
    receive(pharmacy, "lisinopril", "LIS-1", 40)
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30", refills_authorized="3")
    _, pdf = label(pharmacy, fill(pharmacy, rx.id).id)
    words = pdf_text(pdf).replace("\n", " ")
    assert "Refills left: 3" in words
    assert "Federal law" not in words
    assert "MEDICATION GUIDE" not in words
    assert "!" not in words


def test_a_civ_label_has_the_caution_and_a_partial_fill_says_what_is_owed(pharmacy):
    receive(pharmacy, "alprazolam", "ALP-1", 10)
    rx = pharmacy.on_profile(pharmacy.patient(), "alprazolam", quantity="30", sig_written="1 tab po tid prn anxiety")
    done = fill(pharmacy, rx.id, partial=True)
    words = pdf_text(label(pharmacy, done.id)[1]).replace("\n", " ")
    assert "Federal law prohibits the transfer" in words
    assert "Qty: 10" in words and "20 owed" in words


def test_the_date_filled_is_the_branchs_local_date(pharmacy, db):
    receive(pharmacy, "lisinopril", "LIS-1", 40)
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30")
    done = fill(pharmacy, rx.id)
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE branches SET time_zone = 'America/New_York' WHERE id = :b"), {"b": pharmacy.branch})
    # 23:30 UTC on 10 February is 18:30 in New York: the label says the 10th, not the 11th.
    db.execute(text("UPDATE prescription_fills SET filled_at = '2026-02-10 23:30+00' WHERE id = :id"), {"id": done.id})
    words = pdf_text(label(pharmacy, done.id)[1])
    assert "Filled 02/10/2026" in words


def test_auxiliary_warnings_and_medication_guides_by_ingredient():
    assert labels.auxiliary_warnings("Ibuprofen") == ["Take with food or milk."]
    assert labels.auxiliary_warnings("Lisinopril") == []
    assert "Swallow whole" in labels.auxiliary_warnings("Oxycodone", "extended-release tablet")[-1]
    assert labels.has_medication_guide("Sertraline") and not labels.has_medication_guide("Lisinopril")
    assert fills.fill_code("b1-000042", 0, 2) == "B1-000042-0-2"
