"""Browser journey: split tenders. The counter finalizes the sale, then the bill page takes a voucher
and the rest in cash; the bill goes partially paid, then paid, with the change given."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from backend.billing.bills.service import get_bill
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_pos import on_hand, shelve

pytestmark = pytest.mark.e2e


def test_a_sale_paid_part_by_voucher_and_part_in_cash(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("split")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    medicine, barcode = shelve(owner, str(chain.branch_ids[0]), "Fexofenadine", "6.00")

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/pos")
    scan = page.locator("#pos-scan")
    expect(scan).to_be_focused(timeout=30000)
    page.keyboard.type(barcode)
    page.keyboard.press("Enter")
    expect(page.locator(".pos-line")).to_have_count(1, timeout=30000)
    page.locator("#pos-split").click()

    expect(page).to_have_url(re.compile(r"/bills/view/?\?id="), timeout=30000)
    expect(page.locator("#bill-status")).to_have_text("Finalized", timeout=30000)
    assert on_hand(owner, medicine) == 9  # the stock moved when the bill was finalized

    page.locator("#payment-method").click()
    page.get_by_role("option", name="other").click()
    page.locator("#payment-tendered").fill("2.00")
    page.locator("#payment-ref").fill("VOUCHER-7")
    page.locator("#payment-submit").click()
    expect(page.locator("#bill-status")).to_have_text("Partially paid", timeout=30000)

    page.locator("#payment-tendered").fill("10.00")  # cash is the default method
    page.locator("#payment-submit").click()
    expect(page.locator("#bill-status")).to_have_text("Paid", timeout=30000)
    expect(page.get_by_text("Change due")).to_be_visible(timeout=10000)

    bill_id = page.url.split("id=")[1]
    bill = run_in_tenant(owner, get_bill, bill_id)
    assert [(p.method, p.reference) for p in bill.payments] == [("other", "VOUCHER-7"), ("cash", "")]
    assert bill.amount_paid == bill.total_due
