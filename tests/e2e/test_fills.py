"""Browser journey: a technician fills a verified CIV prescription from the "Ready to fill" tab; the shelf is
short, so the plain fill is refused with what is on hand, and "fill what is on hand" fills part and owes
the rest; the label PDF carries the Rx number, the lot and the federal transfer caution; the pharmacist's
final check refuses the wrong stock bottle and accepts the right one."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from backend.accounts.signatures import sign
from backend.inventory.service import create_medicine, receive_stock
from backend.patients.service import create_patient
from backend.prescriptions import prescribers, service, verification
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_prescriptions import member

pytestmark = pytest.mark.e2e


def test_fill_a_verified_prescription_in_part_get_its_label_and_check_it(
    page: Page, browser, app_url: str, committed_tenant
):
    chain, _ = committed_tenant("rx-fill")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    alprazolam = run_in_tenant(
        owner,
        create_medicine,
        generic_name="Alprazolam",
        strength="0.5 mg",
        schedule="controlled",
        controlled_class="CIV",
        barcode="00093711101",
    )
    run_in_tenant(
        owner,
        create_medicine,
        generic_name="Lorazepam",
        strength="1 mg",
        schedule="controlled",
        controlled_class="CIV",
        barcode="00555083202",
    )
    lot_expiry = date.today() + timedelta(days=200)
    run_in_tenant(
        owner,
        receive_stock,
        branch_id=branch,
        medicine_id=alprazolam,
        lot_number="ALP-2041",
        expiry_date=lot_expiry.isoformat(),
        quantity=12,
    )
    prescriber = run_in_tenant(
        owner, prescribers.create_prescriber, full_name="Dana Rivera", credentials="MD", npi="1234567893"
    )
    surname = f"Fillwell{uuid.uuid4().hex[:5]}"
    patient = run_in_tenant(
        owner, create_patient, full_name=f"Fay {surname}", date_of_birth="1971-06-07", home_branch_id=branch
    )
    entering = TenantContext(tenant_id=chain.tenant_id, user_id=uuid.uuid4(), role="technician")
    rx = run_in_tenant(
        entering,
        service.create_prescription,
        branch_id=branch,
        patient_id=patient.id,
        source="walk_in",
        prescriber_id=prescriber.id,
        medicine_id=alprazolam,
        sig_written="1 tab po tid prn anxiety",
        quantity="30",
        refills_authorized="2",
        date_written=date.today().isoformat(),
    )
    run_in_tenant(entering, service.submit_for_verification, rx.id)
    as_pharmacist = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="pharmacist")
    signature = sign(
        as_pharmacist,
        password=TEST_PASSWORD,
        meaning="verified the prescription after drug-use review",
        entity_type="prescription",
        entity_id=rx.id,
    )
    run_in_tenant(as_pharmacist, verification.verify, rx.id, signature_id=signature)
    tech_email, tech_password = member(owner, "technician", "Terry Tech")
    rph_email, rph_password = member(owner, "pharmacist", "Phil Pharm")

    sign_in(page, app_url, tech_email, tech_password)
    page.goto(f"{app_url}/prescriptions?status=fill")
    rows = page.locator(".rx-queue-row")
    expect(rows).to_have_count(1, timeout=30000)
    expect(rows.first).to_contain_text(f"Fay {surname}")
    rows.first.locator(".rx-link").click()
    expect(page.locator("#rx-number")).to_have_text(rx.rx_number, timeout=15000)
    expect(page.locator("#rx-status")).to_have_text("Ready to fill")
    expect(page.locator("#fill-owed")).to_have_text("30", timeout=15000)
    expect(page.locator("#fill-dispensable")).to_have_text("12")
    expect(page.locator("#fill-fefo")).to_contain_text("ALP-2041")

    # The whole quantity is not on the shelf: refused, with what is there, and nothing is filled.
    page.locator("#fill-submit").click()
    expect(page.locator("#fill-error")).to_contain_text("Only 12 in stock", timeout=15000)
    expect(page.locator("#rx-status")).to_have_text("Ready to fill")
    expect(page.locator(".fill-row")).to_have_count(0)

    page.locator("#fill-partial").check()
    page.locator("#fill-submit").click()
    expect(page.locator("#rx-status")).to_have_text("Filled, awaiting check", timeout=15000)
    fill_row = page.locator(".fill-row")
    expect(fill_row).to_have_count(1)
    expect(fill_row.first).to_contain_text(f"{rx.rx_number}-0-1")
    expect(fill_row.first).to_contain_text("ALP-2041 x12")
    expect(fill_row.first).to_contain_text("Awaiting final check")
    # The rest is owed and can be filled when stock comes in.
    expect(page.locator("#fill-owed")).to_have_text("18")
    expect(page.locator("#fill-dispensable")).to_have_text("0")

    with page.expect_download(timeout=15000) as caught:
        fill_row.first.locator(".fill-label").click()
    download = caught.value
    assert download.suggested_filename == f"label-{rx.rx_number}-0-1.pdf"
    with open(download.path(), "rb") as pdf:
        words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read())).pages).replace("\n", " ")
    for expected in (
        rx.rx_number,
        f"Fay {surname}",
        "Alprazolam 0.5 mg",
        "ALP-2041",
        "Qty: 12",
        "18 owed",
        "Refills left: 2",
        "Prescriber: Dana Rivera, MD",
        f"Discard after: {lot_expiry.strftime('%m/%d/%Y')}",
        "Federal law prohibits the transfer of this drug",
        "May cause drowsiness",
        "MEDICATION GUIDE",
    ):
        assert expected in words, expected

    # The technician has no final check to do; the pharmacist, in their own browser, scans the stock bottle.
    expect(page.locator(".fill-check")).to_have_count(0)
    pharmacist = browser.new_context().new_page()
    sign_in(pharmacist, app_url, rph_email, rph_password)
    pharmacist.goto(f"{app_url}/prescriptions/rx?id={rx.id}")
    row = pharmacist.locator(".fill-row").first
    expect(row).to_contain_text("Awaiting final check", timeout=30000)
    row.locator(".fill-scan input").fill("00555083202")  # the lorazepam bottle from the next shelf
    row.locator(".fill-check").click()
    expect(pharmacist.locator("#fill-error")).to_contain_text("WRONG PRODUCT", timeout=15000)
    expect(pharmacist.locator("#fill-error")).to_contain_text("Lorazepam 1 mg")
    expect(pharmacist.locator("#rx-status")).to_have_text("Filled, awaiting check")
    expect(row).to_contain_text("Awaiting final check")
    row.locator(".fill-scan input").fill("00093711101")
    row.locator(".fill-check").click()
    expect(pharmacist.locator("#rx-status")).to_have_text("Ready for pickup", timeout=15000)
    expect(row).to_contain_text("Checked")
    expect(row.locator(".fill-checked")).to_contain_text("Phil Pharm")
    expect(pharmacist.locator("#fill-error")).to_have_count(0)
