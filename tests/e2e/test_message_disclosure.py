"""Browser journey (issue 16, the minimum necessary): the owner allows the medicine's name in "ready for
pickup" messages under Settings > Patient messages, then records a patient's consent to detailed messages on
their record and withdraws it; the message written for that patient follows both."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from backend.notifications.disclosure import NEVER_DETAILED, MessageKind
from backend.patients.message_consent import message_for_patient
from backend.patients.service import create_patient
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e

VALUES = {"branch": "Main Street", "chain": "Corner Pharmacy", "medicine": "Sertraline 50 mg", "rx_number": "B1-7"}


def test_owner_allows_detail_per_kind_and_records_a_patients_consent(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("disclosure")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    patient = run_in_tenant(
        owner,
        create_patient,
        full_name="Cora Consent",
        date_of_birth="1958-07-01",
        home_branch_id=str(chain.branch_ids[0]),
    ).id

    def ready_message() -> str:
        return run_in_tenant(owner, message_for_patient, patient, MessageKind.READY_FOR_PICKUP, VALUES).body

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/settings")
    page.locator("#manage-patient-messages").click()
    expect(page.locator("#patient-messages-title")).to_be_visible(timeout=15000)
    rows = page.locator(".message-kind-row")
    # every kind the owner may allow detail for (a portal sign-in code never names anything)
    expect(rows).to_have_count(len(set(MessageKind) - NEVER_DETAILED), timeout=15000)
    ready = page.locator("#message-kind-ready_for_pickup")
    expect(ready).to_contain_text("Your prescription is ready for pickup at Main Street.")
    switch = page.locator("#allow-ready_for_pickup")
    expect(switch).to_have_attribute("data-state", "unchecked")
    switch.click()
    expect(page.get_by_text("the medicine is named for patients who consented")).to_be_visible(timeout=15000)
    page.reload()
    expect(page.locator("#allow-ready_for_pickup")).to_have_attribute("data-state", "checked", timeout=15000)
    expect(page.locator("#allow-refill_due")).to_have_attribute("data-state", "unchecked")
    # The chain allows it, the patient has not consented: still the minimum.
    assert ready_message() == "Your prescription is ready for pickup at Main Street."

    page.goto(f"{app_url}/patients/record?id={patient}")
    status = page.locator("#message-consent-status")
    expect(status).to_contain_text("name no medicine", timeout=15000)
    page.locator("#message-consent-record").click()  # without saying how: refused, nothing recorded
    expect(page.locator("#message-consent-error")).to_contain_text("Say how the patient gave their answer")
    expect(page.locator(".message-consent-row")).to_have_count(0)

    page.locator("#message-consent-channel").select_option("phone")
    page.locator("#message-consent-record").click()
    expect(status).to_contain_text("agreed that messages may name their medicine", timeout=15000)
    history = page.locator(".message-consent-row")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("By phone")
    expect(history.first).to_contain_text(spec.owner_name)
    expect(history.first).to_contain_text("in force")
    assert ready_message() == "Your Sertraline 50 mg (Rx B1-7) is ready for pickup at Main Street."

    page.locator("#message-consent-channel").select_option("written")
    page.locator("#message-consent-withdraw").click()
    expect(status).to_contain_text("name no medicine", timeout=15000)
    expect(history.first).to_contain_text("In writing")
    assert "sertraline" not in ready_message().lower()
