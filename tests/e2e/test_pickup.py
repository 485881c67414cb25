"""Browser journey: pickup at the counter. The pharmacist scans a checked fill's label code into the counter's
scan field: the fill joins the bill at its copay (the claim was adjudicated when it was filled) with the
patient; the pickup records counselling accepted (the pharmacist's password), the signature drawn with the
mouse; the sale is finalized and the fill is picked up, with no second stock move. Then the same at tablet
size (768 x 1024) for a controlled fill collected by an agent with their ID."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from backend.accounts.signatures import sign
from backend.billing.claims import service as claims
from backend.inventory.service import create_medicine, medicine_stock, receive_stock
from backend.patients.service import create_patient
from backend.prescriptions import fills, prescribers, service, verification
from backend.prescriptions.enums import FillStatus, RxStatus
from backend.prescriptions.pickup import pickup_of_fill
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_prescriptions import member

pytestmark = pytest.mark.e2e


def checked_fill(owner: TenantContext, branch: str, prescriber: str, patient: str, medicine: str, barcode: str, **rx):
    """A prescription entered, verified, filled and passed the final check (the services, as staff would)."""
    entering = TenantContext(tenant_id=owner.tenant_id, user_id=uuid.uuid4(), role="technician")
    made = run_in_tenant(
        entering,
        service.create_prescription,
        branch_id=branch,
        patient_id=patient,
        source="walk_in",
        prescriber_id=prescriber,
        medicine_id=medicine,
        sig_written="1 tab po daily",
        quantity="30",
        date_written=date.today().isoformat(),
        **rx,
    )
    run_in_tenant(entering, service.submit_for_verification, made.id)
    as_pharmacist = TenantContext(tenant_id=owner.tenant_id, user_id=owner.user_id, role="pharmacist")
    signature = sign(
        as_pharmacist,
        password=TEST_PASSWORD,
        meaning="verified the prescription after drug-use review",
        entity_type="prescription",
        entity_id=made.id,
    )
    run_in_tenant(as_pharmacist, verification.verify, made.id, signature_id=signature)
    done = run_in_tenant(entering, fills.fill_prescription, made.id)
    return run_in_tenant(as_pharmacist, fills.final_check, done.id, barcode)


def draw_signature(page: Page) -> None:
    box = page.locator("#pos-pickup-signature").bounding_box()
    assert box is not None
    x, y = box["x"], box["y"]
    page.mouse.move(x + 30, y + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(x + 30 + step * box["width"] / 14, y + box["height"] * (0.3 if step % 2 else 0.7), steps=3)
    page.mouse.up()


def test_pickup_at_the_counter_with_counselling_and_a_drawn_signature(
    page: Page, browser, app_url: str, committed_tenant
):
    chain, _ = committed_tenant("rx-pickup")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    lisinopril = run_in_tenant(
        owner,
        create_medicine,
        generic_name="Lisinopril",
        strength="10 mg",
        schedule="prescription",
        barcode="00093711101",
        default_sell_price="1.50",
    )
    alprazolam = run_in_tenant(
        owner,
        create_medicine,
        generic_name="Alprazolam",
        strength="0.5 mg",
        schedule="controlled",
        controlled_class="CIV",
        barcode="00093711102",
        default_sell_price="0.80",
    )
    expiry = (date.today() + timedelta(days=300)).isoformat()
    for medicine, lot in ((lisinopril, "LIS-77"), (alprazolam, "ALP-88")):
        run_in_tenant(
            owner,
            receive_stock,
            branch_id=branch,
            medicine_id=medicine,
            lot_number=lot,
            expiry_date=expiry,
            quantity=50,
        )
    prescriber = run_in_tenant(
        owner, prescribers.create_prescriber, full_name="Dana Rivera", credentials="MD", npi="1234567893"
    )
    surname = f"Pickup{uuid.uuid4().hex[:5]}"
    patient = run_in_tenant(
        owner, create_patient, full_name=f"Paula {surname}", date_of_birth="1966-04-05", home_branch_id=branch
    )
    payer = run_in_tenant(owner, claims.create_payer, name="Acme Health", payer_code=f"ACME{surname[-5:]}")
    run_in_tenant(
        owner, claims.add_coverage, patient_id=patient.id, payer_id=payer.id, member_id="ACME-1", copay="4.00"
    )
    covered = checked_fill(owner, branch, prescriber.id, patient.id, lisinopril, "00093711101")
    rph_email, rph_password = member(owner, "pharmacist", "Phil Pharm")

    sign_in(page, app_url, rph_email, rph_password)
    page.goto(f"{app_url}/pos")
    expect(page).to_have_url(re.compile(r"/pos/?$"), timeout=30000)
    scan = page.locator("#pos-scan")
    expect(scan).to_be_focused(timeout=30000)
    page.keyboard.type(covered.code)  # the label's Code 39 barcode, as the scanner types it
    page.keyboard.press("Enter")
    line = page.locator(".pos-line")
    expect(line).to_have_count(1, timeout=30000)
    expect(line.first).to_contain_text("Lisinopril 10 mg")
    expect(line.first).to_contain_text(f"Fill {covered.code}")
    expect(line.first).to_contain_text("insurer pays 41.00")
    expect(page.locator("#pos-due")).to_contain_text("4.00", timeout=15000)  # the copay: 30 x 1.50 - 41.00
    expect(page.locator("#pos-patient")).to_contain_text(f"Paula {surname}", timeout=15000)

    # Selling before the pickup is recorded is refused; nothing is sold.
    page.locator("#pos-cash").fill("4")
    page.locator("#pos-cash").press("Enter")
    expect(page.locator("#pos-error")).to_contain_text("Record the pickup first", timeout=15000)

    page.locator("#pos-pickup-name").fill(f"Paula {surname}")
    page.locator("#pos-pickup-counselling").select_option("accepted")
    page.locator("#pos-pickup-secret").fill(rph_password)
    # No signature drawn: refused before the pharmacist's signature is spent.
    page.locator("#pos-pickup-record").click()
    expect(page.locator("#pos-pickup-error")).to_contain_text("signs on the screen", timeout=15000)
    draw_signature(page)
    page.locator("#pos-pickup-record").click()
    expect(page.locator("#pos-pickup-summary")).to_contain_text("counselling accepted", timeout=15000)

    page.locator("#pos-cash").fill("5")
    page.locator("#pos-cash").press("Enter")
    expect(page.locator("#pos-fills-handed")).to_contain_text("1 prescription fill(s) picked up", timeout=30000)
    expect(page.locator("#pos-change")).to_contain_text("1.00")

    after = run_in_tenant(owner, fills.get_fill, covered.id)
    assert after.status == FillStatus.PICKED_UP
    assert run_in_tenant(owner, service.get_prescription, covered.prescription_id).status == RxStatus.DISPENSED
    handover = run_in_tenant(owner, pickup_of_fill, covered.id)
    assert handover is not None and handover.counselling == "accepted" and handover.counselled_by == "Phil Pharm"
    assert handover.signature_png.startswith(b"\x89PNG") and len(handover.signature_png) > 500
    # Filled 30 of 50; the sale took nothing more.
    assert run_in_tenant(owner, medicine_stock, lisinopril)[0].on_hand == 20

    # The same at a tablet in portrait: a controlled fill collected by an agent, who shows an ID.
    controlled = checked_fill(
        owner, branch, prescriber.id, patient.id, alprazolam, "00093711102", schedule="CIV", refills_authorized="0"
    )
    tablet = browser.new_context(viewport={"width": 768, "height": 1024}).new_page()
    sign_in(tablet, app_url, rph_email, rph_password)
    tablet.goto(f"{app_url}/pos")
    expect(tablet.locator("#pos-scan")).to_be_focused(timeout=30000)
    tablet.keyboard.type(controlled.code)
    tablet.keyboard.press("Enter")
    expect(tablet.locator(".pos-line")).to_have_count(1, timeout=30000)
    expect(tablet.locator("#pos-pickup")).to_contain_text("Controlled substance: check the ID", timeout=15000)
    tablet.locator("#pos-pickup-by").select_option("agent")
    tablet.locator("#pos-pickup-name").fill("Sam Agent")
    tablet.locator("#pos-pickup-counselling").select_option("declined")
    tablet.locator("#pos-pickup-secret").fill(rph_password)
    tablet.locator("#pos-pickup-signature").scroll_into_view_if_needed()
    draw_signature(tablet)
    tablet.locator("#pos-pickup-record").click()
    # The drawing and the pharmacist are fine, but the ID is missing: refused before anything is signed.
    expect(tablet.locator("#pos-pickup-error")).to_contain_text("Controlled substance", timeout=15000)
    assert run_in_tenant(owner, fills.get_fill, controlled.id).status == FillStatus.CHECKED
    tablet.locator("#pos-pickup-by").select_option("agent")
    tablet.locator("#pos-pickup-name").fill("Sam Agent")
    tablet.locator("#pos-pickup-counselling").select_option("declined")
    tablet.locator("#pos-pickup-id-type").fill("Driver's license")
    tablet.locator("#pos-pickup-id-number").fill("D1234567")
    tablet.locator("#pos-pickup-secret").fill(rph_password)
    tablet.locator("#pos-pickup-signature").scroll_into_view_if_needed()
    draw_signature(tablet)
    tablet.locator("#pos-pickup-record").click()
    expect(tablet.locator("#pos-pickup-summary")).to_contain_text("ID Driver's license checked", timeout=15000)
    tablet.locator("#pos-pay").scroll_into_view_if_needed()
    tablet.locator("#pos-cash").fill("30")
    tablet.locator("#pos-pay").click()
    expect(tablet.locator("#pos-fills-handed")).to_be_visible(timeout=30000)
    handover = run_in_tenant(owner, pickup_of_fill, controlled.id)
    assert handover is not None and (handover.picked_up_by, handover.id_number) == ("agent", "D1234567")


def test_the_owner_sets_which_schedules_need_an_id_at_pickup(page: Page, app_url: str, committed_tenant):
    """Settings: the owner takes CIII off the ID-at-pickup schedules; it stays off after a reload, and the counter
    then asks no ID for a CIII fill."""
    chain, spec = committed_tenant("rx-id-rules")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    buprenorphine = run_in_tenant(
        owner,
        create_medicine,
        generic_name="Buprenorphine",
        strength="8 mg",
        schedule="controlled",
        controlled_class="CIII",
        barcode="00093711103",
        default_sell_price="2.00",
    )
    expiry = (date.today() + timedelta(days=300)).isoformat()
    run_in_tenant(
        owner, receive_stock, branch_id=branch, medicine_id=buprenorphine, lot_number="BUP-1", expiry_date=expiry,
        quantity=100,
    )  # fmt: skip
    prescriber = run_in_tenant(
        owner, prescribers.create_prescriber, full_name="Dana Rivera", credentials="MD", npi="1234567893"
    )
    patient = run_in_tenant(
        owner, create_patient, full_name="Ida Schedule", date_of_birth="1970-02-03", home_branch_id=branch
    )
    first = checked_fill(owner, branch, prescriber.id, patient.id, buprenorphine, "00093711103", refills_authorized="0")

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/settings")
    ciii = page.locator("#rx-id-CIII")
    expect(ciii).to_be_checked(timeout=30000)  # the US default: every schedule
    ciii.uncheck()
    page.locator("#save-rx-rules").click()
    expect(page.get_by_text("Prescription rules saved.")).to_be_visible(timeout=15000)
    page.reload()
    expect(page.locator("#rx-id-CII")).to_be_checked(timeout=30000)
    expect(page.locator("#rx-id-CIII")).not_to_be_checked()
    expect(page.locator("#rx-id-CIV")).to_be_checked()

    page.goto(f"{app_url}/pos")
    expect(page.locator("#pos-scan")).to_be_focused(timeout=30000)
    page.keyboard.type(first.code)
    page.keyboard.press("Enter")
    expect(page.locator(".pos-line")).to_have_count(1, timeout=30000)
    expect(page.locator("#pos-pickup")).to_contain_text("ID (needed for controlled substances)", timeout=15000)
    expect(page.locator("#pos-pickup")).not_to_contain_text("check the ID")

    # With CIII in the setting again the counter asks for the ID: tests/backend/prescriptions/test_pickup.py
    # (test_the_chains_id_schedules_decide_whether_a_ciii_pickup_needs_an_id) drives that through the services.
