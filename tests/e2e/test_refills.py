"""Browser journeys of refills, transfers and unclaimed fills:
- a technician requests a refill on the prescription page (the patient phoned) and sees the new fill, with a
  refill used;
- a pharmacist transfers a prescription to another pharmacy, which records it and voids it here;
- a pharmacist records a prescription transferred in from another pharmacy on the intake page;
- a pharmacist opens the unclaimed fills from the queue and returns one to stock: its units are back on the
  lot and the refill is given back."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from backend.core import database
from backend.prescriptions import fills, refills
from tests.backend.prescriptions.conftest import Pharmacy, stock
from tests.backend.prescriptions.test_fills import receive
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_prescriptions import member

pytestmark = pytest.mark.e2e


def checked(pharmacy: Pharmacy, patient_name: str, *, refills: str, days_ago: int) -> tuple[object, object]:
    """A lisinopril prescription filled `days_ago` days ago and checked by the pharmacist (not picked up)."""
    rx = pharmacy.on_profile(pharmacy.patient(patient_name), "lisinopril", days_supply="30", refills_authorized=refills)
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    with database.owner_engine().begin() as owner:
        owner.execute(
            text(
                "UPDATE prescription_fills SET status = 'checked', scanned_barcode = '00000000', "
                "filled_at = now() - make_interval(days => :d), checked_at = now() - make_interval(days => :d) "
                "WHERE id = :f"
            ),
            {"d": days_ago, "f": done.id},
        )
        owner.execute(text("UPDATE prescriptions SET status = 'ready_for_pickup' WHERE id = :p"), {"p": rx.id})
    return rx, done


def lot_on_hand(pharmacy: Pharmacy, lot: str) -> int:
    with database.owner_engine().connect() as owner:
        return int(
            owner.execute(
                text("SELECT quantity FROM batches WHERE tenant_id = :t AND lot_number = :l"),
                {"t": pharmacy.chain.tenant_id, "l": lot},
            ).scalar_one()
        )


def test_request_a_refill_from_the_prescription_page(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("rx-refill", branches=2)
    pharmacy = stock(chain)
    receive(pharmacy, "lisinopril", "LIS-REF", 100)
    rx, first = checked(pharmacy, "Rhea Fillagain", refills="2", days_ago=25)
    tech_email, tech_password = member(pharmacy.owner, "technician", "Terry Tech")

    sign_in(page, app_url, tech_email, tech_password)
    page.goto(f"{app_url}/prescriptions/rx?id={rx.id}")
    expect(page.locator("#rx-status")).to_have_text("Ready for pickup", timeout=30000)
    expect(page.locator("#rx-refills-left")).to_have_text("2 of 2", timeout=15000)
    expect(page.locator(".fill-row")).to_have_count(1)
    # A technician neither transfers nor returns: no transfer form.
    expect(page.locator("#transfer-out-submit")).to_have_count(0)

    page.locator("#refill-source").select_option("phone")
    page.locator("#refill-submit").click()

    expect(page.locator("#rx-status")).to_have_text("Filled, awaiting check", timeout=15000)
    expect(page.locator("#refill-note")).to_contain_text(f"Refilled: {rx.rx_number}-1-1")
    rows = page.locator(".fill-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text(f"{rx.rx_number}-1-1")
    expect(rows.nth(1)).to_contain_text("LIS-REF x30")
    expect(rows.nth(1)).to_contain_text("Awaiting final check")
    expect(page.locator("#rx-refills-left")).to_have_text("1 of 2")
    expect(page.locator("#rx-history")).to_contain_text("asked by phone")
    assert lot_on_hand(pharmacy, "LIS-REF") == 40
    assert first.code == f"{rx.rx_number}-0-1"


def test_a_pharmacist_records_an_outgoing_transfer(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("rx-xfer", branches=2)
    pharmacy = stock(chain)
    rx = pharmacy.on_profile(pharmacy.patient("Tess Transfer"), "lisinopril", refills_authorized="3")
    rph_email, rph_password = member(pharmacy.owner, "pharmacist", "Phil Pharm")

    sign_in(page, app_url, rph_email, rph_password)
    page.goto(f"{app_url}/prescriptions/rx?id={rx.id}")
    expect(page.locator("#rx-status")).to_have_text("Ready to fill", timeout=30000)
    expect(page.locator("#transfer-out-submit")).to_be_visible(timeout=15000)

    # The other pharmacist's name is missing: refused, naming it, and nothing changes.
    page.locator("#transfer-pharmacy-name").fill("Corner Drug")
    page.locator("#transfer-pharmacy-address").fill("12 Elm St, Springfield")
    page.locator("#transfer-pharmacy-phone").fill("555-0100")
    page.locator("#transfer-out-submit").click()
    expect(page.locator("#transfer-error")).to_contain_text("other pharmacist", timeout=15000)
    expect(page.locator("#rx-status")).to_have_text("Ready to fill")

    page.locator("#transfer-other-pharmacist").fill("Riley Chen, RPh")
    page.locator("#transfer-out-submit").click()

    expect(page.locator("#rx-status")).to_have_text("Transferred out", timeout=15000)
    row = page.locator(".transfer-row")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("To another pharmacy")
    expect(row.first).to_contain_text("Corner Drug")
    expect(row.first).to_contain_text("Phil Pharm / Riley Chen, RPh")
    expect(row.first).to_contain_text("3")
    # Void here: no fill form, no refill, no further transfer.
    expect(page.locator("#fill-submit")).to_have_count(0)
    expect(page.locator("#refill-submit")).to_have_count(0)
    expect(page.locator("#transfer-out-submit")).to_have_count(0)
    expect(page.locator("#rx-history")).to_contain_text("Corner Drug")


def test_a_pharmacist_returns_an_unclaimed_fill_to_stock(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("rx-unclaimed", branches=2)
    pharmacy = stock(chain)
    receive(pharmacy, "lisinopril", "LIS-RTS", 100)
    rx, waiting = checked(pharmacy, "Una Claimed", refills="1", days_ago=20)
    _, recent = checked(pharmacy, "Rita Recent", refills="1", days_ago=3)
    assert lot_on_hand(pharmacy, "LIS-RTS") == 40
    rph_email, rph_password = member(pharmacy.owner, "pharmacist", "Phil Pharm")

    sign_in(page, app_url, rph_email, rph_password)
    page.goto(f"{app_url}/prescriptions")
    page.locator("#rx-unclaimed").click()
    expect(page.locator("#unclaimed-title")).to_be_visible(timeout=30000)
    expect(page.locator("#unclaimed-days")).to_have_text("14")
    rows = page.locator(".unclaimed-row")
    expect(rows).to_have_count(1, timeout=15000)  # the fill checked 3 days ago is not unclaimed yet
    expect(rows.first).to_contain_text(waiting.code)
    expect(rows.first).to_contain_text("Una Claimed")
    expect(rows.first).to_contain_text("LIS-RTS x30")
    expect(rows.first).to_contain_text("20 days")

    rows.first.locator(".unclaimed-return").click()

    expect(page.locator("#unclaimed-none")).to_be_visible(timeout=15000)
    assert lot_on_hand(pharmacy, "LIS-RTS") == 70
    page.goto(f"{app_url}/prescriptions/rx?id={rx.id}")
    expect(page.locator("#rx-status")).to_have_text("Ready to fill", timeout=30000)
    expect(page.locator(".fill-row").first).to_contain_text("Returned to stock")
    expect(page.locator("#rx-refills-left")).to_have_text("1 of 1")
    assert recent.code != waiting.code


def test_a_pharmacist_records_a_transfer_in(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("rx-xfer-in", branches=2)
    pharmacy = stock(chain)
    pharmacy.patient("Ivo Incoming")
    rph_email, rph_password = member(pharmacy.owner, "pharmacist", "Phil Pharm")
    written = date.today() - timedelta(days=90)

    sign_in(page, app_url, rph_email, rph_password)
    page.goto(f"{app_url}/prescriptions/new")
    expect(page.locator("#incoming-transfer")).to_be_visible(timeout=30000)
    page.locator("#rx-patient-search").fill("Ivo Incoming")
    page.locator("#rx-patient-find").click()
    page.locator(".rx-patient-match").first.click()
    expect(page.locator("#rx-patient-chosen")).to_contain_text("Ivo Incoming", timeout=15000)
    for name, value in {
        "pharmacy-name": "Corner Drug",
        "pharmacy-address": "12 Elm St, Springfield",
        "pharmacy-phone": "555-0100",
        "other-pharmacist": "Riley Chen, RPh",
        "other-rx-number": "CD-778812",
        "drug-written": "Lisinopril",
        "sig-written": "1 tab po daily",
        "quantity": "30",
        "days-supply": "30",
        "date-written": written.isoformat(),
        "refills-authorized": "5",
        "refills-remaining": "3",
        "first-filled-on": written.isoformat(),
        "last-filled-on": (date.today() - timedelta(days=27)).isoformat(),
    }.items():
        page.locator(f"#incoming-{name}").fill(value)
    page.locator("#incoming-submit").click()

    expect(page).to_have_url(re.compile(r"/prescriptions/rx\?id="), timeout=15000)
    expect(page.locator("#rx-status")).to_have_text("Data entry", timeout=15000)
    expect(page.locator("#rx-source-shown")).to_have_text("Transfer from another pharmacy")
    expect(page.locator("#rx-refills-left")).to_have_text("3 of 5", timeout=15000)
    row = page.locator(".transfer-row")
    expect(row).to_have_count(1)
    expect(row.first).to_contain_text("From another pharmacy")
    expect(row.first).to_contain_text("Corner Drug")
    expect(page.locator("#rx-history")).to_contain_text("CD-778812")


def test_a_pharmacist_records_an_approved_renewal(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("rx-renew", branches=2)
    pharmacy = stock(chain)
    receive(pharmacy, "lisinopril", "LIS-REN", 100)
    rx, _ = checked(pharmacy, "Rene Renewal", refills="0", days_ago=28)
    asked = pharmacy.run(pharmacy.technician, refills.request_refill, rx.id, "phone")
    assert asked.renewal is not None
    rph_email, rph_password = member(pharmacy.owner, "pharmacist", "Rita Renew")

    sign_in(page, app_url, rph_email, rph_password)
    page.goto(f"{app_url}/prescriptions/rx?id={rx.id}")
    row = page.locator(".renewal-row")
    expect(row).to_have_count(1, timeout=30000)
    expect(row.first).to_contain_text("Waiting for the prescriber")

    # Approved without the quantity: refused, naming it; the request stays open.
    page.locator("#renewal-refills").fill("2")
    page.locator("#renewal-submit").click()
    expect(page.locator("#renewal-error")).to_contain_text("quantity", timeout=15000)
    expect(row.first).to_contain_text("Waiting for the prescriber")

    page.locator("#renewal-source").select_option("fax")
    page.locator("#renewal-quantity").fill("90")
    page.locator("#renewal-submit").click()

    expect(row.first).to_contain_text("Renewed as", timeout=15000)
    expect(row.first).to_contain_text("Rita Renew")
    expect(page.locator("#renewal-submit")).to_have_count(0)
    expect(page.locator("#rx-history")).to_contain_text("renewed as")
    expect(page.locator("#rx-status")).to_have_text("Ready for pickup")

    page.locator(".renewal-new-rx").click()
    expect(page.locator("#rx-status")).to_have_text("Pharmacist verification", timeout=30000)
    expect(page.locator("#rx-refills-left")).to_have_text("2 of 2", timeout=15000)
    expect(page.locator("#rx-history")).to_contain_text(f"renews {rx.rx_number}")
