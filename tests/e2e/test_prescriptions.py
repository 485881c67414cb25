"""Browser journey: a technician receives and enters a new NSAID prescription for a patient on warfarin; the
pharmacist sees the major interaction in the DUR panel, overrides it with a signed reason, and verifies it."""

from __future__ import annotations

import base64
import re
import uuid
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from backend.accounts.signatures import sign
from backend.accounts.staff import accept_invitation, invite
from backend.inventory.service import create_medicine
from backend.patients.service import create_patient
from backend.prescriptions import prescribers, service, verification
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e
# A blank page big enough to be a picture (the upload checks refuse anything under 16 pixels a side).
BLANK_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAEAAAAAwCAIAAAAuKetIAAAAQUlEQVR42u3PAQkAAAgDMLV/59tCELYG6yT12dRzAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAncWEWMDXQf20MwAAAAASUVORK5CYII="
)


def member(owner: TenantContext, role: str, name: str) -> tuple[str, str]:
    email, password = f"{role}-{uuid.uuid4().hex[:6]}@example.com", "Mortar-And-Pestle-7"
    accept_invitation(invite(owner, email, role).link.split("token=")[1], full_name=name, password=password)
    return email, password


def test_intake_entry_and_verification_with_a_signed_override(page: Page, browser, app_url: str, committed_tenant):
    chain, _ = committed_tenant("rx-journey")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    warfarin = run_in_tenant(owner, create_medicine, generic_name="Warfarin", strength="5 mg", schedule="prescription")
    run_in_tenant(owner, create_medicine, generic_name="Ibuprofen", strength="800 mg", schedule="prescription")
    prescriber = run_in_tenant(
        owner, prescribers.create_prescriber, full_name="Dana Rivera", credentials="MD", npi="1234567893"
    )
    surname = f"Warfarin{uuid.uuid4().hex[:5]}"
    patient = run_in_tenant(
        owner, create_patient, full_name=f"Walter {surname}", date_of_birth="1948-02-03", home_branch_id=branch
    )
    # The patient's profile: warfarin, verified today by the owner acting as the chain's pharmacist.
    owner_tech = TenantContext(tenant_id=chain.tenant_id, user_id=uuid.uuid4(), role="technician")
    on_warfarin = run_in_tenant(
        owner_tech,
        service.create_prescription,
        branch_id=branch,
        patient_id=patient.id,
        source="fax",
        prescriber_id=prescriber.id,
        medicine_id=warfarin,
        sig_written="1 tab po daily",
        quantity="90",
        date_written=date.today().isoformat(),
    )
    run_in_tenant(owner_tech, service.submit_for_verification, on_warfarin.id)
    as_pharmacist = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="pharmacist")
    signature = sign(
        as_pharmacist,
        password=TEST_PASSWORD,
        meaning="verified the warfarin prescription",
        entity_type="prescription",
        entity_id=on_warfarin.id,
    )
    run_in_tenant(as_pharmacist, verification.verify, on_warfarin.id, signature_id=signature)
    tech_email, tech_password = member(owner, "technician", "Terry Tech")
    rph_email, rph_password = member(owner, "pharmacist", "Phil Pharm")

    # The technician receives the paper and types it in.
    sign_in(page, app_url, tech_email, tech_password)
    page.goto(f"{app_url}/prescriptions/new")
    expect(page.locator("#rx-intake-title")).to_be_visible(timeout=30000)
    page.locator("#rx-patient-search").fill(surname)
    page.locator("#rx-patient-find").click()
    page.locator(".rx-patient-match").first.click()
    expect(page.locator("#rx-patient-chosen")).to_contain_text(f"Walter {surname}", timeout=15000)
    page.locator("#rx-source").select_option("walk_in")
    page.locator("#rx-receive").click()
    expect(page).to_have_url(re.compile(r"/prescriptions/rx\?id="), timeout=15000)
    expect(page.locator("#rx-status")).to_have_text("Intake", timeout=15000)
    rx_number = page.locator("#rx-number").inner_text()
    page.locator("#rx-original-upload input[type=file]").set_input_files(
        {"name": "script.png", "mimeType": "image/png", "buffer": BLANK_PNG}
    )
    page.locator("#rx-original-attach").click()
    expect(page.locator("#rx-original-image")).to_be_visible(timeout=15000)
    # The OCR worker reads the attached original (blank here: nothing to read) and the page shows it; the
    # technician types once it has landed (on a loaded CI machine, entry racing the reading was flaky).
    expect(page.locator("#rx-reading-note")).to_contain_text("Read by", timeout=60000)

    page.locator("#rx-drug").fill("Advil")
    page.locator("#rx-strength").fill("800 mg")
    page.locator("#rx-find-medicine").click()
    expect(page.locator("#rx-medicine-choice")).to_contain_text("generic for the brand written", timeout=15000)
    page.locator("#rx-prescriber").select_option(label="Dana Rivera, MD (NPI 1234567893)")
    page.locator("#rx-sig").fill("1 tab po tid prn pain")
    page.locator("#rx-qty").fill("30")
    page.locator("#rx-date-written").fill(date.today().isoformat())
    page.locator("#rx-save").click()
    expect(page.locator("#rx-sig-expanded")).to_have_text(
        "Take 1 tablet by mouth three times daily as needed for pain", timeout=15000
    )
    expect(page.locator("#rx-days")).to_have_text("10")
    page.locator("#rx-qty").fill("60")  # a new quantity: the days' supply follows unless typed
    page.locator("#rx-save").click()
    expect(page.locator("#rx-days")).to_have_text("20", timeout=15000)
    page.locator("#rx-submit").click()
    expect(page).to_have_url(re.compile(r"/prescriptions$"), timeout=15000)
    expect(page.locator("#rx-tab-verification .rx-tab-count")).to_have_text("1", timeout=15000)
    page.goto(f"{app_url}/dashboard")  # the pharmacist's work shows on the dashboard too
    expect(page.locator("#attention-rx-verification .attention-count")).to_have_text("1", timeout=20000)

    # The pharmacist, in their own browser, verifies it from the queue.
    pharmacist = browser.new_context().new_page()
    sign_in(pharmacist, app_url, rph_email, rph_password)
    pharmacist.goto(f"{app_url}/prescriptions?status=verification")
    rows = pharmacist.locator(".rx-queue-row")
    expect(rows).to_have_count(1, timeout=30000)
    expect(rows.first).to_contain_text(f"Walter {surname}")
    # From the keyboard, like the counter: the search field has the focus, the arrow key moves to the first.
    expect(pharmacist.locator("#rx-queue-search")).to_be_focused(timeout=15000)
    pharmacist.keyboard.press("ArrowDown")
    expect(rows.first.locator(".rx-link")).to_be_focused()
    pharmacist.keyboard.press("Enter")
    expect(pharmacist.locator("#rx-number")).to_have_text(rx_number, timeout=15000)
    alert = pharmacist.locator('.rx-alert[data-type="interaction"]')
    expect(alert).to_have_attribute("data-severity", "major", timeout=15000)
    expect(alert).to_contain_text("warfarin", ignore_case=True)
    expect(pharmacist.locator(".rx-active")).to_contain_text("Warfarin")
    expect(pharmacist.locator("#rx-original-image")).to_be_visible()  # the original beside the entered data

    # No reason: refused, nothing verified.
    pharmacist.locator("#rx-sign-password").fill(rph_password)
    pharmacist.locator("#rx-verify").click()
    expect(pharmacist.locator("#rx-error")).to_contain_text("reason", timeout=15000)
    expect(pharmacist.locator("#rx-status")).to_have_text("Pharmacist verification")
    # A wrong password signs nothing.
    alert.locator(".rx-override input").fill("3-day course, INR check on Friday, prescriber aware")
    pharmacist.locator("#rx-sign-password").fill("not-my-password")
    pharmacist.locator("#rx-verify").click()
    expect(pharmacist.locator("#rx-error")).to_contain_text("nothing was signed", timeout=15000)
    expect(pharmacist.locator("#rx-status")).to_have_text("Pharmacist verification")
    pharmacist.locator("#rx-sign-password").fill(rph_password)
    pharmacist.locator("#rx-verify").click()
    expect(pharmacist.locator("#rx-status")).to_have_text("Ready to fill", timeout=15000)
    expect(pharmacist.locator(".rx-event").first).to_contain_text("Phil Pharm")
    expect(pharmacist.locator(".rx-event").first).to_contain_text("1 alert(s) overridden")
    # The record keeps what was known when it was signed.
    signed = pharmacist.locator(".rx-signed")
    expect(signed.first).to_contain_text("Signed by Phil Pharm", timeout=15000)
    expect(signed.filter(has_text="Overridden: major interaction")).to_contain_text("INR check on Friday")


def test_the_allergy_record_is_matched_and_no_known_allergies_is_an_answer(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("rx-allergy")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    patient = run_in_tenant(
        owner,
        create_patient,
        full_name="Penny Cillin",
        date_of_birth="1975-06-07",
        home_branch_id=str(chain.branch_ids[0]),
    )
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/patients/record?id={patient.id}")
    expect(page.locator("#patient-allergy-status")).to_have_text("Not asked yet.", timeout=15000)
    page.locator("#patient-allergy-input").fill("Penicillin (hives)\nlatex")
    page.locator("#patient-allergy-save").click()
    rows = page.locator(".patient-allergy-row")
    expect(rows).to_have_count(2, timeout=15000)
    expect(rows.nth(0)).to_contain_text("penicillins (class)")
    expect(rows.nth(1)).to_contain_text("not a drug")
    page.locator("#patient-allergy-input").fill("")
    page.locator("#patient-none-known").check()
    page.locator("#patient-allergy-save").click()
    expect(page.locator("#patient-allergy-status")).to_have_text("Asked: no known allergies.", timeout=15000)
    expect(rows).to_have_count(0)
