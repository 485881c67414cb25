"""Browser journeys: ask the side panel how much stock a branch holds and get the database's number;
hostile markup in a question or answer stays inert; the conversation reopens on the full page. With
the chain's AI provider switched on in Settings, the answer streams in and says who answered; when
the provider fails, the built-in assistant answers and says so."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from backend.inventory.service import create_medicine, receive_stock
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e


def _chain_with_amoxicillin(committed_tenant, prefix: str):
    chain, spec = committed_tenant(prefix)
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    medicine = run_in_tenant(
        owner,
        create_medicine,
        generic_name="Amoxicillin",
        strength="500 mg",
        barcode=str(uuid.uuid4().int)[:13],
        schedule="prescription",
    )
    for lot, quantity in (("AMX-1", 200), ("AMX-2", 40)):
        run_in_tenant(
            owner,
            receive_stock,
            branch_id=str(chain.branch_ids[0]),
            medicine_id=medicine,
            lot_number=lot,
            expiry_date=(date.today() + timedelta(days=300)).isoformat(),
            quantity=quantity,
        )
    return chain, spec


def test_ask_the_side_panel_for_stock_and_reopen_the_conversation(page: Page, app_url: str, committed_tenant):
    _, spec = _chain_with_amoxicillin(committed_tenant, "assistant")
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


def test_the_chains_ai_provider_streams_the_answer_and_the_local_engine_covers_its_failure(
    page: Page, app_url: str, committed_tenant, assistant_model
):
    from tests.assistant_llm_server import Step

    _, spec = _chain_with_amoxicillin(committed_tenant, "assistant-ai")
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/settings")
    card = page.locator("#assistant-provider-card")
    expect(card).to_contain_text("fake-pharmacy-1 at 127.0.0.1", timeout=15000)
    expect(card).to_contain_text("third party")
    page.locator("#assistant-provider").click()
    expect(page.get_by_text("The assistant now uses fake-pharmacy-1")).to_be_visible(timeout=10000)

    page.goto(f"{app_url}/assistant")
    question = page.locator("#assistant-question")
    expect(question).to_be_visible(timeout=15000)
    question.fill("How many amoxicillin do we have at Branch 1?")
    question.press("Enter")
    expect(page.locator(".chat-streaming")).to_contain_text("From the tools", timeout=20000)  # mid-stream
    answer = page.locator(".chat-answer").last
    expect(answer).to_contain_text("240", timeout=20000)
    expect(answer).to_contain_text("answered by the chain's AI provider")
    expect(answer.locator(".tool-used").first).to_contain_text("Branch 1")
    expect(page.locator(".chat-streaming")).to_have_count(0)

    assistant_model.then(Step(status=500))
    question.fill("How many amoxicillin do we have at Branch 1?")
    question.press("Enter")
    expect(page.locator(".chat-answer")).to_have_count(2, timeout=20000)
    fallback = page.locator(".chat-answer").last
    expect(fallback).to_contain_text("the AI provider is unavailable; answered offline")
    expect(fallback).to_contain_text("240")
    expect(fallback).to_contain_text("answered offline by the built-in assistant")


def test_an_owner_uploads_an_sop_and_staff_get_it_quoted(page: Page, app_url: str, committed_tenant):
    _, spec = committed_tenant("assistant-docs")
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/assistant/documents")
    expect(page.locator("#documents-title")).to_be_visible(timeout=15000)
    page.locator("#document-upload input[type=file]").set_input_files(
        {
            "name": "cold-chain.md",
            "mimeType": "text/markdown",
            "buffer": b"# Cold chain SOP\n\nVaccines are stored between 2 and 8 degrees Celsius. "
            b"Record the fridge temperature twice a day.\n",
        }
    )
    page.locator("#document-submit").click()
    expect(page.locator(".document-row").first).to_contain_text("cold-chain", timeout=60000)

    page.locator("#assistant-open").click()
    question = page.locator("#panel-question")
    question.fill("What does our SOP say about the fridge temperature?")
    question.press("Enter")
    answer = page.locator("#assistant-panel .chat-answer").last
    expect(answer).to_contain_text("2 and 8 degrees", timeout=60000)
    expect(answer.locator(".source").first).to_contain_text("cold-chain")
