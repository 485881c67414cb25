"""Browser journey: an owner adds a payer, records a patient's coverage, claims the insurer's portion of the
patient's bill from the bill page, and follows the claim on /claims through approval and payment."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from backend.billing.bills.service import create_draft, finalize_bill
from backend.patients.service import create_patient
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_pos import shelve

pytestmark = pytest.mark.e2e


def test_claim_a_bill_from_payer_to_payment(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("claims")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    medicine, _ = shelve(owner, branch, "Insulin", "10.00")
    patient = run_in_tenant(
        owner, create_patient, full_name="Grace Hopper", date_of_birth="1956-12-09", home_branch_id=branch
    )
    draft = run_in_tenant(
        owner, create_draft, branch_id=branch, lines=[{"medicine_id": medicine, "quantity": 4}], patient_id=patient.id
    )
    bill = run_in_tenant(owner, finalize_bill, draft.id)  # 40.00 due, nothing paid
    code = f"AC{uuid.uuid4().hex[:6]}".upper()
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)

    # /claims: a payer code is unique in the chain, and the refusal is shown with nothing written.
    page.goto(f"{app_url}/claims")
    expect(page).to_have_url(re.compile(r"/claims/?$"), timeout=15000)
    for _ in range(2):
        page.locator("#payer-name").fill("Acme Health")
        page.locator("#payer-code").fill(code)
        page.locator("#payer-contact").fill("claims@acme.test")
        page.locator("#payer-add").click()
        expect(page.locator(".payer-row")).to_have_count(1, timeout=15000)
    expect(page.locator("#payer-error")).to_contain_text(f"A payer with code {code} already exists.")

    # The patient's record: the coverage through that payer.
    page.goto(f"{app_url}/patients/record?id={patient.id}")
    expect(page.locator("#patient-name")).to_have_text("Grace Hopper", timeout=15000)
    page.locator("#coverage-payer").select_option(label=f"Acme Health ({code})")
    page.locator("#coverage-member").fill("M-1906")
    page.locator("#coverage-plan").fill("Gold")
    page.locator("#coverage-add").click()
    expect(page.locator(".coverage-row")).to_have_count(1, timeout=15000)
    expect(page.locator(".coverage-row")).to_contain_text("M-1906")

    # The bill page: more than the bill owes is refused; 30.00 claimed leaves a 10.00 copay.
    page.goto(f"{app_url}/bills/view?id={bill.id}")
    expect(page.locator("#bill-number")).to_have_text(bill.number or "", timeout=15000)
    page.locator("#claim-amount").fill("45.00")
    page.locator("#claim-draft").click()
    expect(page.locator("#claim-error")).to_contain_text("cannot be more than the 40.00 still owed", timeout=15000)
    page.locator("#claim-amount").fill("30.00")
    expect(page.locator("#claim-copay")).to_have_text("$10.00", timeout=15000)
    page.locator("#claim-draft").click()
    expect(page.locator("#bill-claim-status")).to_have_text("Draft", timeout=15000)
    page.locator("#bill-claim-submit").click()
    expect(page.locator("#bill-claim-status")).to_have_text("Submitted", timeout=15000)
    expect(page.locator("#claim-card")).to_contain_text("copay $10.00")

    # /claims: approve and record the payer's payment; the bill then owes only the copay.
    expect(page.locator("#bill-claim-link")).to_have_attribute("href", "/claims")
    page.goto(f"{app_url}/claims")
    row = page.locator(".claim-row", has_text=bill.number or "")
    expect(row).to_contain_text("Submitted", timeout=15000)
    row.locator(".claim-open").click()
    expect(page.locator("#claim-title")).to_contain_text(bill.number or "", timeout=15000)
    page.locator("#claim-decide").click()
    expect(row).to_contain_text("Approved", timeout=15000)
    page.locator("input[name=paid_amount]").fill("30.00")
    page.locator("#claim-pay").click()
    expect(page.locator("#claim-title").locator("..")).to_contain_text("paid $30.00", timeout=15000)

    page.goto(f"{app_url}/bills/view?id={bill.id}")
    expect(page.locator("#bill-status")).to_have_text("Partially paid", timeout=15000)
    expect(page.locator("#bill-claim-status")).to_have_text("Paid")
    expect(page.locator("#claim-card")).to_contain_text("copay $10.00")  # what the patient still owes
    expect(page.locator("#bill-payments")).to_contain_text("claim:")
