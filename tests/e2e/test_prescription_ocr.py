"""Browser journey (issue 15): a technician photographs a prescription at intake, the OCR worker reads it
while the page waits, the fields arrive filled with the uncertain ones marked, the technician corrects one
and confirms, and the pharmacist opens it in verification with the image beside the data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from backend.inventory.service import create_medicine
from backend.patients.service import create_patient
from backend.prescriptions import prescribers
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_prescriptions import member

pytestmark = pytest.mark.e2e
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "prescriptions" / "rx_001.png"


@pytest.mark.skipif(not SAMPLE.is_file(), reason=f"no sample at {SAMPLE}")
def test_a_photographed_prescription_is_read_corrected_and_reaches_verification(
    page, browser, app_url, committed_tenant
):
    chain, _ = committed_tenant("rx-ocr")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    run_in_tenant(owner, create_medicine, generic_name="Sertraline", strength="50 mg", schedule="prescription")
    run_in_tenant(owner, prescribers.create_prescriber, full_name="Rowan T. Achebe", credentials="DO")
    run_in_tenant(
        owner, create_patient, full_name="Hector Lindqvist", date_of_birth="1950-04-06", home_branch_id=branch
    )
    tech_email, tech_password = member(owner, "technician", "Tara Tech")
    rph_email, rph_password = member(owner, "pharmacist", "Pat Pharm")

    sign_in(page, app_url, tech_email, tech_password)
    page.goto(f"{app_url}/prescriptions/new")
    expect(page.locator("#rx-intake-title")).to_be_visible(timeout=30000)
    photo = page.locator("#rx-intake-upload input[type=file]")
    expect(photo).to_have_attribute("capture", "environment", timeout=15000)  # a phone opens its camera
    page.locator("#rx-patient-search").fill("Lindqvist")
    page.locator("#rx-patient-find").click()
    page.locator(".rx-patient-match").first.click()
    expect(page.locator("#rx-patient-chosen")).to_contain_text("Hector Lindqvist", timeout=15000)
    page.locator("#rx-source").select_option("walk_in")
    photo.set_input_files(str(SAMPLE))
    expect(page.locator(".rx-intake-file")).to_contain_text("rx_001.png", timeout=15000)
    page.locator("#rx-receive-photo").click()
    expect(page).to_have_url(re.compile(r"/prescriptions/rx\?id="), timeout=30000)
    rx_url = page.url

    # The page waits for the worker and shows the fields when they land, without a reload.
    expect(page.locator("#rx-reading-progress")).to_contain_text("Read:", timeout=120000)
    expect(page.locator("#ocr-drug")).to_have_value("sertraline")
    expect(page.locator("#ocr-quantity")).to_have_value("30")
    expect(page.locator("#ocr-prescriber")).to_have_value("Rowan T. Achebe")
    expect(page.locator("#ocr-page")).to_be_visible()
    expect(page.locator(".ocr-field-low").first).to_be_visible()  # the pad has no Rx number: marked, empty
    expect(page.locator("#ocr-rx_number")).to_have_value("")
    # Focusing a field shows where it was read on the image; the image zooms.
    expect(page.locator("#ocr-box-drug")).to_be_hidden()
    page.locator("#ocr-drug").focus()
    expect(page.locator("#ocr-box-drug")).to_be_visible()
    page.locator("#ocr-zoom-in").click()
    expect(page.locator("#rx-reading")).to_contain_text("150%", timeout=15000)

    page.locator("#ocr-quantity").fill("28")  # the technician corrects one field
    page.locator("#ocr-confirm").click()
    expect(page.locator("#rx-status")).to_have_text("Pharmacist verification", timeout=30000)
    expect(page.locator("#ocr-confirmed .ocr-corrected")).to_have_count(1)
    expect(page.locator("#ocr-confirmed .ocr-corrected")).to_contain_text("Quantity")
    # The chain's small report: per field, how often OCR was right.
    page.goto(f"{app_url}/prescriptions")
    report = page.locator("#ocr-accuracy .ocr-accuracy-row")
    expect(report.filter(has_text="Quantity")).to_contain_text("0%", timeout=30000)
    expect(report.filter(has_text="Drug (generic)")).to_contain_text("100%")

    pharmacist = browser.new_context().new_page()
    sign_in(pharmacist, app_url, rph_email, rph_password)
    pharmacist.goto(rx_url)
    expect(pharmacist.locator("#rx-status")).to_have_text("Pharmacist verification", timeout=30000)
    expect(pharmacist.locator("#rx-original-image")).to_be_visible(timeout=15000)  # the image beside the data
    expect(pharmacist.locator("#rx-quantity")).to_contain_text("28")
    expect(pharmacist.locator("#rx-medicine")).to_contain_text("Sertraline")
    expect(pharmacist.locator("#rx-sign-password")).to_be_visible()
