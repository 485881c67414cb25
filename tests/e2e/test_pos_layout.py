"""Browser journeys: the counter on a 10-inch tablet (768×1024) and a phone (390×844), both touch screens.
A bill longer than the screen keeps its totals and the pay action on screen without scrolling, the lines
are readable (nothing cut off, nothing scrolls sideways), the key hints fold into a "Keys" toggle, and a
sale is rung up by tapping."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from backend.billing.bills.service import get_bill
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_pos_commit import WAIT, shelve_many

pytestmark = pytest.mark.e2e

VIEWPORTS = {"tablet": {"width": 768, "height": 1024}, "phone": {"width": 390, "height": 844}}
# Long names as a pharmacy has them: they must wrap, not be cut off.
MEDICINES = [
    ("Amoxicillin and clavulanate potassium", "8.40"),
    ("Loratadine", "2.50"),
    ("Cetirizine hydrochloride", "4.00"),
    ("Ibuprofen", "3.10"),
    ("Paracetamol", "1.90"),
    ("Omeprazole delayed-release", "6.75"),
    ("Salbutamol inhaler", "9.20"),
    ("Vitamin D3 cholecalciferol", "5.00"),
    ("Fexofenadine", "6.00"),
    ("Hydrocortisone cream", "3.60"),
]


@pytest.fixture(params=sorted(VIEWPORTS))
def touch_page(request, browser: Browser) -> Iterator[Page]:
    """A page on a touch screen of the size: no hover, coarse pointer, the page laid out at device width."""
    context = browser.new_context(viewport=VIEWPORTS[request.param], has_touch=True, is_mobile=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def in_viewport_fully(page: Page, selector: str) -> bool:
    return page.locator(selector).evaluate(
        "(el) => { const r = el.getBoundingClientRect();"
        " return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; }"
    )


def uncovered(page: Page, selector: str) -> bool:
    """Nothing else (the assistant's floating button, a line) lies over the element's middle."""
    return page.locator(selector).evaluate(
        "(el) => { const r = el.getBoundingClientRect();"
        " const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        " return !!top && (el === top || el.contains(top)); }"
    )


def assert_totals_and_pay_on_screen(page: Page) -> None:
    where = f"at scrollY={page.evaluate('scrollY')}"
    for selector in ("#pos-due", "#pos-tax", "#pos-cash", "#pos-pay", "#pos-card"):
        assert in_viewport_fully(page, selector), f"{selector} is off screen {where}"
        assert uncovered(page, selector), f"{selector} is covered {where}"


def test_the_counter_on_a_touch_screen(touch_page: Page, app_url: str, committed_tenant):
    page = touch_page
    chain, spec = committed_tenant("touch")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    barcodes = [shelve_many(owner, branch, name, price, quantity=50)[1] for name, price in MEDICINES]

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/pos")
    scan = page.locator("#pos-scan")
    expect(scan).to_be_focused(timeout=WAIT)
    for count, code in enumerate(barcodes, start=1):
        scan.fill(code)  # a barcode scanner types into the field, then Enter
        scan.press("Enter")
        expect(page.locator(".pos-line")).to_have_count(count, timeout=WAIT)
    total = sum(Decimal(price) for _, price in MEDICINES)
    expect(page.locator("#pos-due")).to_contain_text(f"{total:.2f}", timeout=WAIT)

    # The key hints are folded on a touch screen; "Keys" opens them.
    expect(page.locator("#pos-keys")).to_be_hidden()
    toggle = page.locator("#pos-keys-toggle")
    expect(toggle).to_be_visible()
    expect(toggle.get_by_text("print receipt")).to_be_hidden()
    toggle.locator("summary").tap()
    expect(toggle.get_by_text("print receipt")).to_be_visible()
    toggle.locator("summary").tap()
    expect(toggle.get_by_text("print receipt")).to_be_hidden()

    # Nothing scrolls sideways, and the bill is longer than the screen (or this would prove nothing).
    sizes = page.evaluate("[document.documentElement.scrollWidth, innerWidth, document.documentElement.scrollHeight]")
    assert sizes[0] <= sizes[1], f"the page scrolls sideways: {sizes}"
    assert sizes[2] > page.viewport_size["height"] + 200, f"the bill fits on one screen: {sizes}"

    # Totals and the pay action are on screen at the top, in the middle and at the end of the bill.
    page.evaluate("scrollTo(0, 0)")
    assert_totals_and_pay_on_screen(page)
    page.evaluate("scrollTo(0, document.documentElement.scrollHeight / 2)")
    assert_totals_and_pay_on_screen(page)
    page.evaluate("scrollTo(0, document.documentElement.scrollHeight)")
    assert_totals_and_pay_on_screen(page)
    # At the end the last line sits above the totals, not under them.
    last_bottom = page.locator(".pos-line").last.evaluate("(el) => el.getBoundingClientRect().bottom")
    totals_top = page.locator("#pos-totals").evaluate("(el) => el.getBoundingClientRect().top")
    assert last_bottom <= totals_top + 1

    # Every line is readable: its name whole (wrapped, not cut), its amount and fields inside the screen.
    width = page.viewport_size["width"]
    for index in range(len(MEDICINES)):
        line = page.locator(".pos-line").nth(index)
        line.scroll_into_view_if_needed()
        name = line.locator(".pos-medicine")
        expect(name).to_have_text(f"{MEDICINES[index][0]} 10 mg")
        facts = name.evaluate(
            "(el) => ({clipped: el.scrollWidth > el.clientWidth, size: parseFloat(getComputedStyle(el).fontSize)})"
        )
        assert not facts["clipped"] and facts["size"] >= 14, facts
        for part in (".pos-medicine", ".pos-amount", ".pos-qty input", "input[name=line_discount]", ".pos-lots"):
            box = line.locator(part).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (index, part, box)
        assert line.locator(".pos-qty input").bounding_box()["width"] >= 44  # a finger can hit it

    # A sale by tapping: a quantity typed and a tap elsewhere saves it; the totals follow; cash; Sell.
    page.evaluate("scrollTo(0, 0)")
    quantity = page.locator("#pos-qty-2")
    quantity.tap()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("3")
    page.locator("#pos-title").tap()
    total += 2 * Decimal("2.50")
    expect(page.locator("#pos-due")).to_contain_text(f"{total:.2f}", timeout=WAIT)
    expect(quantity).to_have_value("3")
    assert_totals_and_pay_on_screen(page)
    if os.environ.get("POS_LAYOUT_SCREENSHOTS"):  # for a person checking the layout by eye
        page.screenshot(path=f".data/pos-{page.viewport_size['width']}.png", full_page=False)
    page.locator("#pos-cash").tap()
    page.keyboard.type("100")
    page.locator("#pos-pay").tap()
    number = page.locator("#pos-bill-number")
    expect(number).to_have_text(re.compile(r"^B1-\d{4}-\d{6}$"), timeout=WAIT)
    bill_id = page.locator("#pos-bill-number").get_attribute("href").split("id=")[1]
    bill = run_in_tenant(owner, get_bill, bill_id)
    assert [x.quantity for x in bill.lines] == [1, 3, *[1] * (len(MEDICINES) - 2)]
    assert bill.total_due == total
