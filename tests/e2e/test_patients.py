"""Browser journey: an owner registers a patient with an allergy, finds them by name, opens the record
(whose access log shows the views), and links them to a sale at the counter."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e


def test_register_find_and_open_a_patient(page: Page, app_url: str, committed_tenant):
    _, spec = committed_tenant("patients")
    surname = f"Example{uuid.uuid4().hex[:6]}"
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)

    page.goto(f"{app_url}/patients")
    expect(page.locator("#patients-title")).to_be_visible(timeout=15000)
    page.locator("#full_name").fill(f"Maria {surname}")
    page.locator("#date_of_birth").fill("1961-04-12")
    page.locator("#phone").fill("+1 555 0100")
    page.locator("#allergies").fill("Penicillin (rash)")
    page.locator("#patient-create").click()
    expect(page).to_have_url(re.compile(r"/patients/record\?id="), timeout=15000)
    expect(page.locator("#patient-allergies")).to_have_text("Penicillin (rash)", timeout=15000)

    page.goto(f"{app_url}/patients")
    # Names are sealed: only the last name (or its first three letters) is indexed, and the page says so.
    page.locator("#patient-search").fill("Maria")
    page.locator("#patient-search-submit").click()
    expect(page.locator("#patients-error")).to_contain_text("Search by last name", timeout=15000)
    expect(page.locator(".patient-row")).to_have_count(0)
    page.locator("#patient-search").fill(surname.lower())
    page.locator("#patient-search-submit").click()
    rows = page.locator(".patient-row")
    expect(rows).to_have_count(1, timeout=15000)
    expect(rows.first).to_contain_text("1961-04-12")
    rows.first.locator(".patient-link").click()

    expect(page.locator("#patient-name")).to_have_text(f"Maria {surname}", timeout=15000)
    log = page.locator(".patient-access-row")
    # Newest first: this opening, the opening after registering, the registration.
    expect(log).to_have_count(3, timeout=15000)
    expect(log.nth(0)).to_contain_text("viewed")
    expect(log.nth(0)).to_contain_text(spec.owner_name)
    expect(log.nth(2)).to_contain_text("created")

    # At the counter the sale is a walk-in's until the patient is found and chosen.
    page.goto(f"{app_url}/pos")
    expect(page.locator("#pos-patient")).to_have_text("Walk-in customer", timeout=15000)
    page.locator("#pos-patient-search").fill(surname)
    page.locator("#pos-patient-search").press("Enter")
    page.locator(".pos-patient-match").first.click()
    expect(page.locator("#pos-patient")).to_have_text(f"Maria {surname} (1961-04-12)", timeout=15000)
    expect(page.locator("#pos-scan")).to_be_focused()
