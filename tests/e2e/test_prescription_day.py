"""Browser journey: the prescription day, end to end, as one pharmacist does it on their own screens.

A verified prescription is filled from the prescription page; its label PDF carries what the patient reads
(Rx number, patient, drug, directions, refills left); the final check refuses the bottle from the next shelf
loudly and accepts the right one, both scanned as a scanner does (digits, then Enter); at the counter the
label's code puts the fill on the bill, the pickup is recorded with counselling accepted and the patient's
signature drawn with the mouse, and the bill is sold; weeks later, back on the prescription page, a refill
makes the next fill and a refill is used. Stock moves once per fill: the sale takes nothing more.
The prescription page is used at tablet size; the queue, unclaimed fills and the register end it on a phone."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import text

from backend.core import database
from backend.inventory.service import create_medicine
from backend.prescriptions import fills, service
from backend.prescriptions.enums import FillStatus, RxStatus
from backend.prescriptions.pickup import pickup_of_fill
from tests.backend.prescriptions.conftest import Pharmacy, stock
from tests.backend.prescriptions.test_fills import receive
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_pickup import draw_signature
from tests.e2e.test_prescriptions import member
from tests.e2e.test_refills import checked, lot_on_hand

pytestmark = pytest.mark.e2e

METFORMIN_BOTTLE = "00093104801"
GLIPIZIDE_BOTTLE = "00093104902"  # the bottle next to it on the shelf
TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


@dataclass
class Day:
    pharmacy: Pharmacy
    rx: service.Prescription
    patient: str
    email: str
    password: str


def prescription_day(chain, patient: str) -> Day:
    """A pharmacy with metformin (and glipizide beside it) on the shelf, a verified metformin prescription
    with two refills for `patient`, and a pharmacist (Phil Pharm) to sign in."""
    pharmacy = stock(chain)
    for name, generic, barcode in (
        ("metformin", "Metformin", METFORMIN_BOTTLE),
        ("glipizide", "Glipizide", GLIPIZIDE_BOTTLE),
    ):
        pharmacy.medicines[name] = pharmacy.run(
            pharmacy.owner,
            create_medicine,
            generic_name=generic,
            strength="500 mg" if name == "metformin" else "5 mg",
            schedule="prescription",
            barcode=barcode,
            default_sell_price="0.40",
        )
    receive(pharmacy, "metformin", "MET-5501", 100)
    receive(pharmacy, "glipizide", "GLP-0207", 100)
    rx = pharmacy.on_profile(
        pharmacy.patient(patient), "metformin", sig_written="1 tab po bid", quantity="30", refills_authorized="2"
    )
    email, password = member(pharmacy.owner, "pharmacist", "Phil Pharm")
    return Day(pharmacy, rx, patient, email, password)


def label_words(page: Page, row) -> tuple[str, str]:
    with page.expect_download(timeout=15000) as caught:
        row.locator(".fill-label").click()
    download = caught.value
    with open(download.path(), "rb") as pdf:
        words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read())).pages)
    return download.suggested_filename, words.replace("\n", " ")


def a_while_later(fill_id: str, days: int) -> None:
    """Time passes: the fill was made (and checked) `days` days ago, as when the patient calls for a refill."""
    with database.owner_engine().begin() as owner:
        owner.execute(
            text(
                "UPDATE prescription_fills SET filled_at = filled_at - make_interval(days => :d), "
                "checked_at = checked_at - make_interval(days => :d) WHERE id = :f"
            ),
            {"d": days, "f": fill_id},
        )


def test_a_prescription_day_fill_label_check_pickup_and_refill(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("rx-day", branches=2)
    day = prescription_day(chain, "Mona Dayfield")
    pharmacy, rx = day.pharmacy, day.rx

    receive(pharmacy, "lisinopril", "LIS-0400", 60)
    _, forgotten = checked(pharmacy, "Una Claimed", refills="1", days_ago=20)

    # Fill, on the prescription page, at the dispensary's tablet.
    page.set_viewport_size(TABLET)
    sign_in(page, app_url, day.email, day.password)
    page.goto(f"{app_url}/prescriptions/rx?id={rx.id}")
    expect(page.locator("#rx-status")).to_have_text("Ready to fill", timeout=30000)
    expect(page.locator("#rx-refills-left")).to_have_text("2 of 2", timeout=15000)
    expect(page.locator("#fill-fefo")).to_contain_text("MET-5501")
    page.locator("#fill-submit").click()
    expect(page.locator("#rx-status")).to_have_text("Filled, awaiting check", timeout=15000)
    row = page.locator(".fill-row").first
    code = f"{rx.rx_number}-0-1"
    expect(row).to_contain_text(code)
    expect(row).to_contain_text("MET-5501 x30")
    expect(row).to_contain_text("Awaiting final check")
    assert lot_on_hand(pharmacy, "MET-5501") == 70

    # The label the patient takes home.
    filename, words = label_words(page, row)
    assert filename == f"label-{code}.pdf"
    for expected in (
        rx.rx_number,
        "Mona Dayfield",
        "Metformin 500 mg",
        "Take 1 tablet by mouth twice daily",
        "Qty: 30",
        "Refills left: 2",
    ):
        assert expected in words, expected

    # Final check: the glipizide bottle is refused loudly, the metformin bottle passes. Opened for the check,
    # the page waits for the scanner in the scan field, on screen beside its fill (not off the edge of a wide
    # table); the scanner types, then Enter.
    page.reload()
    expect(page.locator("#rx-status")).to_have_text("Filled, awaiting check", timeout=30000)
    scan = row.locator(".fill-scan input")
    expect(scan).to_be_focused(timeout=15000)
    expect(scan).to_be_in_viewport()
    expect(row.locator(".fill-label")).to_be_in_viewport()
    page.keyboard.type(GLIPIZIDE_BOTTLE)
    page.keyboard.press("Enter")
    expect(page.locator("#fill-error")).to_contain_text("WRONG PRODUCT", timeout=15000)
    expect(page.locator("#fill-error")).to_contain_text("Glipizide 5 mg")
    expect(page.locator("#rx-status")).to_have_text("Filled, awaiting check")
    expect(row).to_contain_text("Awaiting final check")
    expect(scan).to_have_value("")  # ready for the next scan
    expect(scan).to_be_focused()
    page.keyboard.type(METFORMIN_BOTTLE)
    page.keyboard.press("Enter")
    expect(page.locator("#rx-status")).to_have_text("Ready for pickup", timeout=15000)
    expect(row.locator(".fill-checked")).to_contain_text("Phil Pharm")
    expect(page.locator("#fill-error")).to_have_count(0)
    first = run_fill(pharmacy, rx.id)[0]
    assert (first.code, first.status) == (code, FillStatus.CHECKED)

    # At the counter: the label's code, the pickup with counselling and the patient's signature, then the sale.
    page.goto(f"{app_url}/pos")
    expect(page).to_have_url(re.compile(r"/pos/?$"), timeout=30000)
    expect(page.locator("#pos-scan")).to_be_focused(timeout=30000)
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    line = page.locator(".pos-line")
    expect(line).to_have_count(1, timeout=30000)
    expect(line.first).to_contain_text("Metformin 500 mg")
    expect(line.first).to_contain_text(f"Fill {code}")
    expect(page.locator("#pos-patient")).to_contain_text("Mona Dayfield", timeout=15000)
    expect(page.locator("#pos-due")).to_contain_text("12.00")  # 30 x 0.40, no insurance
    page.locator("#pos-pickup-name").fill("Mona Dayfield")
    page.locator("#pos-pickup-counselling").select_option("accepted")
    page.locator("#pos-pickup-secret").fill(day.password)
    page.locator("#pos-pickup-signature").scroll_into_view_if_needed()
    pad = page.locator("#pos-pickup-signature").bounding_box()
    assert pad is not None and pad["width"] > 400, pad  # the card's width to sign in, not a 300 px default
    draw_signature(page)
    page.locator("#pos-pickup-record").click()
    expect(page.locator("#pos-pickup-summary")).to_contain_text("counselling accepted", timeout=15000)
    page.locator("#pos-cash").fill("20")
    page.locator("#pos-cash").press("Enter")
    expect(page.locator("#pos-fills-handed")).to_contain_text("1 prescription fill(s) picked up", timeout=30000)
    expect(page.locator("#pos-change")).to_contain_text("8.00")
    handover = pharmacy.run(pharmacy.owner, pickup_of_fill, first.id)
    assert handover is not None and handover.counselling == "accepted" and handover.counselled_by == "Phil Pharm"
    assert handover.signature_png.startswith(b"\x89PNG")
    assert run_fill(pharmacy, rx.id)[0].status == FillStatus.PICKED_UP
    assert lot_on_hand(pharmacy, "MET-5501") == 70  # the sale moved no stock: the fill did

    # Back on the prescription page: too early today (15 days' supply), it says from when; weeks later, refilled.
    page.goto(f"{app_url}/prescriptions/rx?id={rx.id}")
    expect(page.locator("#rx-status")).to_have_text("Dispensed", timeout=30000)
    expect(page.locator("#rx-refills-left")).to_have_text("2 of 2", timeout=15000)
    # Its own pickup is not a "counter sale" that the drug-use review holds against it as an early refill.
    expect(page.locator("#rx-no-alerts")).to_be_visible()
    expect(page.locator(".rx-active")).to_have_count(0)
    page.locator("#refill-submit").click()
    expect(page.locator("#refill-error")).to_contain_text("Too early to refill", timeout=15000)
    expect(page.locator("#refill-error")).to_contain_text("may be refilled from")
    assert len(run_fill(pharmacy, rx.id)) == 1

    a_while_later(first.id, 14)
    page.reload()
    expect(page.locator("#rx-refills-left")).to_have_text("2 of 2", timeout=30000)
    page.locator("#refill-source").select_option("phone")
    page.locator("#refill-submit").click()
    expect(page.locator("#refill-note")).to_contain_text(f"Refilled: {rx.rx_number}-1-1", timeout=15000)
    expect(page.locator("#rx-status")).to_have_text("Filled, awaiting check")
    expect(page.locator("#rx-refills-left")).to_have_text("1 of 2")
    rows = page.locator(".fill-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text(f"{rx.rx_number}-1-1")
    expect(rows.nth(1)).to_contain_text("Awaiting final check")
    expect(rows.nth(0)).to_contain_text("Picked up")
    assert lot_on_hand(pharmacy, "MET-5501") == 40
    assert pharmacy.run(pharmacy.owner, service.get_prescription, rx.id).status == RxStatus.FILLED

    # On a phone, the pharmacist's other screens keep their buttons on screen.
    page.set_viewport_size(PHONE)
    page.goto(f"{app_url}/prescriptions")
    expect(page.locator("#rx-new")).to_be_in_viewport(timeout=30000)
    page.goto(f"{app_url}/prescriptions/unclaimed")
    unclaimed = page.locator(".unclaimed-row")
    expect(unclaimed).to_have_count(1, timeout=30000)
    expect(unclaimed.first).to_contain_text(forgotten.code)
    expect(unclaimed.first.locator(".unclaimed-return")).to_be_in_viewport()
    page.goto(f"{app_url}/controlled")
    expect(page.locator("#tab-pmp")).to_be_in_viewport(timeout=30000)
    expect(page.locator("#register-pdf")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def run_fill(pharmacy: Pharmacy, rx_id: str) -> list[fills.Fill]:
    return pharmacy.run(pharmacy.owner, fills.fills_of, rx_id)
