"""Browser journey (issue 17 §5): on a phone, a customer opens "Ask us" from the portal's front page, asks
for the opening hours and gets them from the branch settings, then asks about a dose and is told to ask
their pharmacist, with the branch's phone. Enter sends."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_portal import PHONE, chain_on_main_street

pytestmark = pytest.mark.e2e


def test_a_customer_asks_the_opening_hours_then_a_dose_on_a_phone(page: Page, app_url: str, committed_tenant):
    spec = chain_on_main_street(committed_tenant, "portalchat")
    page.set_viewport_size(PHONE)
    page.goto(f"{app_url}/portal/{spec.slug}")
    expect(page.locator("#portal-ask")).to_have_attribute("href", f"/portal/{spec.slug}/ask", timeout=15000)
    page.locator("#portal-ask").click()
    expect(page).to_have_url(f"{app_url}/portal/{spec.slug}/ask", timeout=15000)
    expect(page.locator("#portal-chain")).to_have_text(spec.name, timeout=15000)

    box = page.locator("#portal-chat-input")
    box.fill("When are you open on Saturday?")
    box.press("Enter")
    answer = page.locator(".portal-chat-answer").first
    expect(answer).to_contain_text("Main Street", timeout=15000)
    expect(answer).to_contain_text("Saturday 09:00-12:00")
    expect(page.locator(".portal-chat-question").first).to_have_text("When are you open on Saturday?")

    box.fill("How much ibuprofen can I give my 6 year old?")
    box.press("Enter")
    dosing = page.locator(".portal-chat-answer").nth(1)
    expect(dosing).to_contain_text("ask your pharmacist", ignore_case=True, timeout=15000)
    expect(dosing).to_contain_text("+1 555 010 0100")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing runs off a phone
