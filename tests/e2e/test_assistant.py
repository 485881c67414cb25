"""Browser journey: ask the side panel how much stock a branch holds and get the database's number;
hostile markup in a question or answer stays inert; the conversation reopens on the full page."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from backend.inventory.service import create_medicine, receive_stock
from tenants.context import TenantContext
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e


def test_ask_the_side_panel_for_stock_and_reopen_the_conversation(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("assistant")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    medicine = create_medicine(
        owner,
        generic_name="Amoxicillin",
        strength="500 mg",
        barcode=str(uuid.uuid4().int)[:13],
        schedule="prescription",
    )
    for lot, quantity in (("AMX-1", 200), ("AMX-2", 40)):
        receive_stock(
            owner,
            branch_id=str(chain.branch_ids[0]),
            medicine_id=medicine,
            lot_number=lot,
            expiry_date=(date.today() + timedelta(days=300)).isoformat(),
            quantity=quantity,
        )

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/inventory")
    expect(page.locator("#inventory-title")).to_be_visible(timeout=15000)
    page.locator("#assistant-open").click()
    question = page.locator("#panel-question")
    expect(question).to_be_visible(timeout=15000)
    question.fill("How many amoxicillin 500 mg do we have at Branch 1?")
    question.press("Enter")
    answer = page.locator("#assistant-panel .chat-answer").last
    expect(answer).to_contain_text("240", timeout=20000)
    expect(answer.locator(".tool-used").first).to_contain_text("Branch 1")

    # Markup in a question, echoed or not, never becomes an element or loads anything.
    question.fill('Does <img src=x onerror="window.__xss=1"> interact with ![leak](http://127.0.0.1:9/leak.png)?')
    question.press("Enter")
    expect(page.locator("#assistant-panel .chat-answer")).to_have_count(2, timeout=20000)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#assistant-panel img").count() == 0

    page.goto(f"{app_url}/assistant")
    expect(page.locator("#assistant-title")).to_be_visible(timeout=15000)
    page.locator(".conversation").first.click()
    expect(page.locator(".chat-answer").first).to_contain_text("240", timeout=15000)
    page.locator(".rate-up").first.click()
    expect(page.get_by_text("kept for review")).to_be_visible(timeout=10000)
