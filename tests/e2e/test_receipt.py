"""Browser journey: a keyboard-only sale, its receipt PDF by F9, then a refund from the bill page."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tenants.context import TenantContext
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_pos import on_hand, shelve

pytestmark = pytest.mark.e2e


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_sell_with_the_keyboard_print_the_receipt_and_refund_from_the_bill_page(
    page: Page, app_url: str, committed_tenant
):
    chain, spec = committed_tenant("receipt")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    loratadine, loratadine_code = shelve(owner, branch, "Loratadine", "2.50")
    _, cetirizine_code = shelve(owner, branch, "Cetirizine", "4.00")

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/pos")
    expect(page.locator("#pos-scan")).to_be_focused(timeout=15000)
    for code in (loratadine_code, loratadine_code, cetirizine_code):
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        page.wait_for_timeout(300)  # one scan at a time, as a scanner's beeps are
    expect(page.locator(".pos-line")).to_have_count(2, timeout=15000)
    expect(page.locator("#pos-due")).to_contain_text("9.00", timeout=15000)  # 2 x 2.50 + 4.00, no tax
    page.keyboard.press("F8")
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    number = page.locator("#pos-bill-number")
    expect(number).to_have_text(re.compile(r"^B1-\d{4}-\d{6}$"), timeout=15000)
    bill_number = number.inner_text()

    with page.expect_download(timeout=15000) as caught:
        page.keyboard.press("F9")
    download = caught.value
    assert download.suggested_filename == f"receipt-{bill_number}.pdf"
    with open(download.path(), "rb") as pdf:
        receipt = pdf_text(pdf.read())
    assert bill_number in receipt and "LOR-1" in receipt and "CET-1" in receipt
    assert "9.00" in receipt and "Change" in receipt

    # The bill number opens the bill page: lines with lots, the payment, and the refund form.
    number.click()
    expect(page).to_have_url(re.compile(r"/bills/view\?id="), timeout=15000)
    expect(page.locator("#bill-number")).to_have_text(bill_number, timeout=15000)
    expect(page.locator(".bill-line").first).to_contain_text("LOR-1")
    page.locator("#refund-qty-1").fill("1")
    page.locator("#refund-reason").fill("unopened, customer changed their mind")
    page.locator("#refund-submit").click()
    expect(page.locator(".bill-credit-note")).to_have_count(1, timeout=15000)
    expect(page.locator(".bill-credit-note")).to_contain_text(re.compile(r"CN-B1-\d{4}-000001"))
    expect(page.locator(".bill-credit-note")).to_contain_text("2.50")
    expect(page.locator("#bill-status")).to_have_text("Partially refunded")
    assert on_hand(owner, loratadine) == 9  # 10 - 2 sold + 1 back on LOR-1
