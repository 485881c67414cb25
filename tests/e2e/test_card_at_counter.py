"""Browser journey: the owner connects the chain's Stripe account in the settings, then sells at the counter
by card (F7). The card is presented on the reader, played here by tests/stripe_server.py confirming the
PaymentIntent; the page never sees a card. A declined card leaves the draft and says so."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
import stripe
from playwright.sync_api import Page, expect

from tenants.context import TenantContext
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_pos import on_hand, shelve
from tests.helpers import wait_until
from tests.stripe_server import StripeServer

pytestmark = pytest.mark.e2e


def reader_intent(stripe_api: StripeServer, account: str, taken: set[str]) -> dict[str, Any]:
    """The PaymentIntent the counter just opened on the chain's account (one not seen before)."""
    found: list[dict[str, Any]] = []

    def opened() -> bool:
        with stripe_api._lock:  # the server's thread adds intents
            found[:] = [i for i in stripe_api.intents.values() if i["_account"] == account and i["id"] not in taken]
        return bool(found)

    wait_until(opened, timeout=15, interval=0.2, message="the counter to open a card payment")
    taken.add(found[0]["id"])
    return found[0]


def present_card(stripe_api: StripeServer, intent_id: str, account: str, card: str) -> None:
    """What the Terminal reader does with the customer's card: confirm the intent at Stripe."""
    reader = stripe.StripeClient(stripe_api.api_key, base_addresses={"api": stripe_api.base_url})
    try:
        reader.v1.payment_intents.confirm(
            intent_id, params={"payment_method": card}, options={"stripe_account": account}
        )
    except stripe.CardError:
        pass  # a declined card: the reader shows it; the counter learns it from Stripe


def scan(page: Page, barcode: str) -> None:
    page.locator("#pos-scan").focus()
    page.keyboard.type(barcode)
    page.keyboard.press("Enter")


def test_sell_by_card_on_the_chains_stripe_account(page: Page, app_url: str, committed_tenant, stripe_api):
    chain, spec = committed_tenant("card")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    loratadine, barcode = shelve(owner, branch, "Loratadine", "2.50")
    account = f"acct_{secrets.token_hex(8)}"

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/settings")
    expect(page.locator("#cards-on")).to_be_visible(timeout=15000)  # the server has a Stripe key
    page.locator("#stripe_account_id").fill(account)
    page.locator("#save-stripe-account").click()
    expect(page.locator("#stripe_account_id")).to_have_value(account, timeout=15000)

    page.goto(f"{app_url}/pos")
    expect(page.locator("#pos-scan")).to_be_focused(timeout=15000)
    scan(page, barcode)
    expect(page.locator(".pos-line")).to_have_count(1, timeout=15000)
    scan(page, barcode)
    expect(page.locator("#pos-due")).to_contain_text("5.00", timeout=15000)

    taken: set[str] = set()
    page.keyboard.press("F7")
    expect(page.locator("#pos-card-waiting")).to_contain_text("Present the card on the reader", timeout=15000)
    expect(page.locator("#pos-card-waiting")).to_contain_text("5.00")
    intent = reader_intent(stripe_api, account, taken)
    assert intent["amount"] == 500 and intent["capture_method"] == "manual"

    # A declined card: nothing sold, the draft stays and the page says why.
    present_card(stripe_api, intent["id"], account, "pm_card_chargeDeclined")
    expect(page.locator("#pos-error")).to_contain_text("declined", timeout=15000)
    expect(page.locator("#pos-card-waiting")).to_have_count(0)
    expect(page.locator(".pos-line")).to_have_count(1)
    assert on_hand(owner, loratadine) == 10
    assert not stripe_api.calls("POST", rf"/v1/payment_intents/{intent['id']}/capture")

    # Another try with a good card: authorized on the reader, then finalized and captured.
    page.locator("#pos-card").click()
    expect(page.locator("#pos-card-waiting")).to_be_visible(timeout=15000)
    intent = reader_intent(stripe_api, account, taken)
    present_card(stripe_api, intent["id"], account, "pm_card_present")
    expect(page.locator("#pos-bill-number")).to_have_text(re.compile(r"^B1-\d{4}-\d{6}$"), timeout=15000)
    expect(page.locator("#pos-paid-card")).to_have_text("5.00")
    expect(page.locator(".pos-sold-lot")).to_have_count(1)
    assert on_hand(owner, loratadine) == 8
    [capture] = stripe_api.calls("POST", rf"/v1/payment_intents/{intent['id']}/capture")
    assert capture["account"] == account  # captured on the chain's own account (Stripe-Account header)
    assert capture["params"] == {"amount_to_capture": "500"}
    assert stripe_api.intents[intent["id"]]["status"] == "succeeded"
    # No card data ever reached our page: the reader (here the test) talked to Stripe.
    assert "pm_card" not in page.content()
