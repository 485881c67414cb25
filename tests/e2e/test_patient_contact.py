"""Browser journey (issue 18): at the counter a patient says "text me"; the pharmacist sets the record's
channel to text message and turns refill reminders on, on a tablet; the choice is kept (after a reload) and
is the one the ready-for-pickup and reminder jobs read."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from backend.patients.contact_preferences import message_preferences
from backend.patients.service import create_patient
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e


def test_staff_record_how_a_patient_wants_to_hear_from_us(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("contact")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    patient = run_in_tenant(
        owner, create_patient, full_name="Tara Texter", date_of_birth="1975-03-04",
        home_branch_id=str(chain.branch_ids[0]), phone="+15555550190", contact_consent=True,
    ).id  # fmt: skip
    page.set_viewport_size({"width": 768, "height": 1024})
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/patients/record?id={patient}")
    card = page.locator("#patient-contact-card")
    expect(card.locator("#patient-contact-channel")).to_have_value("email", timeout=15000)
    expect(card.locator("#patient-contact-reminders")).to_have_attribute("data-state", "unchecked")
    card.locator("#patient-contact-channel").select_option("sms")
    card.locator("#patient-contact-reminders").click()
    expect(card.locator("#patient-contact-reminders")).to_have_attribute("data-state", "checked")
    card.locator("#patient-contact-save").click()
    expect(page.get_by_text("Saved: how the patient hears from us.")).to_be_visible(timeout=15000)
    chosen = run_in_tenant(owner, message_preferences, patient)
    assert (chosen.channel, chosen.refill_reminders) == ("sms", True)
    page.reload()
    expect(card.locator("#patient-contact-channel")).to_have_value("sms", timeout=15000)
    expect(card.locator("#patient-contact-reminders")).to_have_attribute("data-state", "checked")
