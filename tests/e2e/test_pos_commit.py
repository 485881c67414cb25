"""Browser journeys: the counter charges what it shows. A quantity or discount typed into a line is
committed however the cashier leaves the field (Enter, Tab, a click elsewhere, F8 or F7 straight from
the field), the totals on screen are the draft's totals after the edit, and the receipt carries the
same quantities and amount; bad input is refused with a message and the field shows the last valid
value again."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from backend.billing.payments.cards import set_stripe_account
from backend.inventory.service import create_medicine, receive_stock
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_card_at_counter import reader_intent
from tests.e2e.test_pos import on_hand
from tests.e2e.test_receipt import pdf_text

pytestmark = pytest.mark.e2e
WAIT = 30000  # ms: a sale round trip on a busy 2-core machine stays well within it
PRICE = Decimal("2.50")


@dataclass
class Counter:
    page: Page
    owner: TenantContext
    medicine: str


def shelve_many(owner: TenantContext, branch: str, name: str, price: str, quantity: int = 500) -> tuple[str, str]:
    """A medicine with a barcode and enough units on the shelf for quantities in the hundreds."""
    barcode = str(uuid.uuid4().int)[:13]
    medicine = run_in_tenant(
        owner, create_medicine, generic_name=name, strength="10 mg", barcode=barcode, default_sell_price=price
    )
    expiry = (date.today() + timedelta(days=300)).isoformat()
    run_in_tenant(
        owner, receive_stock, branch_id=branch, medicine_id=medicine, lot_number=f"{name[:3].upper()}-1",
        expiry_date=expiry, quantity=quantity,
    )  # fmt: skip
    return medicine, barcode


@pytest.fixture
def counter(page: Page, app_url: str, committed_tenant) -> Counter:
    """Signed in at the counter with one line of Loratadine (2.50, no tax) on the bill."""
    chain, spec = committed_tenant("commit")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    medicine, barcode = shelve_many(owner, str(chain.branch_ids[0]), "Loratadine", str(PRICE))
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/pos")
    expect(page.locator("#pos-scan")).to_be_focused(timeout=WAIT)
    page.keyboard.type(barcode)
    page.keyboard.press("Enter")
    expect(page.locator(".pos-line")).to_have_count(1, timeout=WAIT)
    expect(page.locator("#pos-due")).to_contain_text("2.50", timeout=WAIT)
    return Counter(page, owner, medicine)


def into_first_quantity(page: Page) -> None:
    """From the scan field, Tab reaches the first line's quantity (as the key hints say)."""
    page.locator("#pos-scan").focus()
    page.keyboard.press("Tab")
    expect(page.locator("#pos-qty-1")).to_be_focused()


def retype(page: Page, field: str, typed: str) -> None:
    """Put the cursor in a field and replace what it holds, as a cashier selecting it and typing does."""
    page.locator(field).focus()
    page.keyboard.press("ControlOrMeta+a")
    if typed:
        page.keyboard.type(typed)
    else:
        page.keyboard.press("Backspace")


def on_screen(page: Page) -> tuple[int, str, str]:
    """What the cashier sees just before paying: the line's quantity, its amount and the amount due."""
    quantity = int(page.locator("#pos-qty-1").input_value())
    amount = page.locator(".pos-line .pos-amount").first.inner_text().strip()
    due = page.locator("#pos-due").inner_text().split()[-1]
    return quantity, amount, due


def receipt(page: Page) -> str:
    number = page.locator("#pos-bill-number")
    expect(number).to_have_text(re.compile(r"^B1-\d{4}-\d{6}$"), timeout=WAIT)
    with page.expect_download(timeout=WAIT) as caught:
        page.keyboard.press("F9")
    with open(caught.value.path(), "rb") as pdf:
        return pdf_text(pdf.read())


def assert_receipt_matches(text: str, shown: tuple[int, str, str]) -> None:
    quantity, amount, due = shown
    assert re.search(rf"(?m)^\s*{quantity} x 2\.50\b.*?{re.escape(amount)}\s*$", text), text
    assert re.search(rf"Total [A-Z]{{3}}\s*{re.escape(due)}", text), text


def pay_cash(page: Page, cash: str) -> None:
    page.keyboard.press("F8")
    expect(page.locator("#pos-cash")).to_be_focused()
    page.keyboard.type(cash)
    page.keyboard.press("Enter")


def test_enter_commits_the_quantity(counter: Counter):
    page = counter.page
    into_first_quantity(page)
    page.keyboard.type("12")
    page.keyboard.press("Enter")
    expect(page.locator("#pos-due")).to_contain_text("30.00", timeout=WAIT)
    expect(page.locator("#pos-scan")).to_be_focused(timeout=WAIT)  # Enter sends the cursor back to scanning
    shown = on_screen(page)
    assert shown == (12, "30.00", "30.00")
    pay_cash(page, "30")
    assert_receipt_matches(receipt(page), shown)
    assert on_hand(counter.owner, counter.medicine) == 500 - 12


def test_tab_commits_the_quantity_and_the_discount(counter: Counter):
    """The bug: Tab left 10 in the field while the bill charged 1."""
    page = counter.page
    into_first_quantity(page)
    page.keyboard.type("10")
    page.keyboard.press("Tab")
    expect(page.locator("#pos-discount-1")).to_be_focused()  # the cursor goes on, as Tab promises
    expect(page.locator("#pos-due")).to_contain_text("25.00", timeout=WAIT)
    expect(page.locator("#pos-qty-1")).to_have_value("10")
    expect(page.locator("#pos-discount-1")).to_be_focused()  # still there once the draft came back
    page.keyboard.type("2.5")
    page.keyboard.press("Tab")
    expect(page.locator("#pos-due")).to_contain_text("22.50", timeout=WAIT)
    expect(page.locator("#pos-discount-1")).to_have_value("2.50")
    shown = on_screen(page)
    assert shown == (10, "22.50", "22.50")
    pay_cash(page, "50")
    text = receipt(page)
    assert_receipt_matches(text, shown)
    assert re.search(r"discount\s*-2\.50", text), text
    assert on_hand(counter.owner, counter.medicine) == 490


def test_a_click_elsewhere_commits_the_quantity(counter: Counter):
    page = counter.page
    page.locator("#pos-qty-1").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("37")
    page.locator("#pos-title").click()  # somewhere that is not a field or a button
    expect(page.locator("#pos-due")).to_contain_text("92.50", timeout=WAIT)
    shown = on_screen(page)
    assert shown == (37, "92.50", "92.50")
    page.locator("#pos-cash").fill("100")
    page.locator("#pos-pay").click()
    assert_receipt_matches(receipt(page), shown)
    assert on_hand(counter.owner, counter.medicine) == 500 - 37


def test_f8_straight_from_the_field_commits_the_quantity(counter: Counter):
    page = counter.page
    into_first_quantity(page)
    page.keyboard.type("250")
    page.keyboard.press("F8")
    expect(page.locator("#pos-cash")).to_be_focused()
    expect(page.locator("#pos-due")).to_contain_text("625.00", timeout=WAIT)
    expect(page.locator("#pos-qty-1")).to_have_value("250")
    shown = on_screen(page)
    page.keyboard.type("700")
    page.keyboard.press("Enter")
    text = receipt(page)
    assert_receipt_matches(text, shown)
    assert shown == (250, "625.00", "625.00") and re.search(r"Change\s*75\.00", text), text


def test_f7_straight_from_the_field_asks_the_card_for_what_the_screen_shows(counter: Counter, stripe_api):
    page = counter.page
    account = f"acct_{secrets.token_hex(8)}"
    run_in_tenant(counter.owner, set_stripe_account, account)
    into_first_quantity(page)
    page.keyboard.type("4")
    page.keyboard.press("F7")
    expect(page.locator("#pos-card-waiting")).to_contain_text("10.00", timeout=WAIT)
    expect(page.locator("#pos-due")).to_contain_text("10.00")
    expect(page.locator("#pos-qty-1")).to_have_value("4")
    intent = reader_intent(stripe_api, account, set())
    assert intent["amount"] == 1000  # 4 x 2.50, in cents


def test_bad_input_is_refused_and_the_field_shows_the_last_valid_value(counter: Counter):
    page = counter.page
    error, quantity = page.locator("#pos-error"), page.locator("#pos-qty-1")
    into_first_quantity(page)
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    expect(page.locator("#pos-due")).to_contain_text("7.50", timeout=WAIT)

    for typed, message in [
        ("2.5", "whole number"),
        ("abc", "whole number"),
        ("", "whole number"),
        ("100001", "At most 100,000"),  # the billing service's limit
        ("9" * 40, "At most 100,000"),  # refused before it becomes a number
    ]:
        retype(page, "#pos-qty-1", typed)
        page.keyboard.press("Tab")
        expect(error).to_contain_text(message, timeout=WAIT)
        expect(error).to_contain_text("Loratadine")  # which line
        expect(quantity).to_have_value("3")  # the last valid value, not what was typed
        expect(quantity).to_be_focused()  # back in the field to correct it
        expect(page.locator("#pos-due")).to_contain_text("7.50")

    page.keyboard.press("Tab")
    page.keyboard.type("99")  # a discount larger than the line (7.50)
    page.keyboard.press("Enter")
    expect(error).to_contain_text("discount is larger than the line", timeout=WAIT)
    expect(page.locator("#pos-discount-1")).to_have_value("0.00")
    expect(page.locator("#pos-discount-1")).to_be_focused()  # back in the refused field (and not later)
    expect(page.locator("#pos-due")).to_contain_text("7.50")

    # A good value clears the message; the sale is the screen's.
    retype(page, "#pos-qty-1", "4")
    page.keyboard.press("Enter")
    expect(page.locator("#pos-due")).to_contain_text("10.00", timeout=WAIT)
    expect(error).to_have_count(0)
    shown = on_screen(page)
    pay_cash(page, "10")
    assert_receipt_matches(receipt(page), shown)


def test_a_sale_from_a_screen_behind_the_draft_is_refused(counter: Counter):
    """The pay form carries the draft the screen showed; if the draft changed since (an edit still on its
    way to the server when Enter was pressed), nothing is sold and the new amount is shown."""
    page = counter.page
    into_first_quantity(page)
    page.keyboard.type("6")
    page.keyboard.press("Enter")
    expect(page.locator("#pos-due")).to_contain_text("15.00", timeout=WAIT)
    # Stand in for a screen that had not yet received the draft of the last edit.
    page.locator("#pos-shown").evaluate("(el) => { el.value = 'an older draft'; }")
    pay_cash(page, "20")
    expect(page.locator("#pos-error")).to_contain_text("changed", timeout=WAIT)
    expect(page.locator("#pos-error")).to_contain_text("15.00")
    expect(page.locator("#pos-sale-done")).to_have_count(0)
    assert on_hand(counter.owner, counter.medicine) == 500
    shown = on_screen(page)
    pay_cash(page, "20")  # the screen now shows the draft: it sells
    assert_receipt_matches(receipt(page), shown)
