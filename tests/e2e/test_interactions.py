"""Browser journey: several medicines in, a severity matrix and the advice with its sources out."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e


def test_check_a_brand_a_generic_and_an_unknown_name(page: Page, app_url: str, committed_tenant):
    _, spec = committed_tenant("ddi-page")
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/interactions")
    expect(page.locator("#interactions-title")).to_be_visible(timeout=30000)
    page.locator("#interaction-drugs").fill("Zocor\nclarithromycin\nxyzzy")
    page.locator("#interaction-check").click()
    matrix = page.locator("#interaction-matrix")
    expect(matrix).to_contain_text("contraindicated", timeout=30000)
    expect(matrix).to_contain_text("unknown")  # never shown as safe
    advice = page.locator(".interaction-advice").first
    expect(advice).to_contain_text("Zocor + clarithromycin")
    expect(advice).to_contain_text("Source: FDA label")
    expect(page.locator("#interaction-unknown")).to_contain_text("xyzzy")
