"""Browser journey: a pharmacist opens a medicine's batches, follows "Who received this lot" on the
recalled lot and sees exactly the patients who got it, with their contact and the fill; then traces a
lot number two makers share by typing it, and is asked which medicine first."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.backend.prescriptions.conftest import stock
from tests.backend.prescriptions.test_recall import recalled_chain
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_prescriptions import member

pytestmark = pytest.mark.e2e


def test_who_received_a_lot_from_the_batch_and_by_lot_number(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("rx-recall", branches=2)
    recalled = recalled_chain(stock(chain))
    email, password = member(recalled.pharmacy.owner, "pharmacist", "Rita Recall")

    sign_in(page, app_url, email, password)
    page.goto(f"{app_url}/inventory/medicine?id={recalled.pharmacy.medicines['lisinopril']}")
    lot_a = page.locator(".batch-row").filter(has_text="A-100")
    expect(lot_a).to_have_count(1, timeout=30000)
    lot_a.locator(".batch-recall").click()

    expect(page.locator("#recall-heading")).to_contain_text("Lot A-100 of Lisinopril 10 mg", timeout=15000)
    expect(page.locator("#recall-patients")).to_have_text("2")
    rows = page.locator(".recall-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Ann Archer")
    expect(rows.nth(0)).to_contain_text(recalled.fill_codes["Ann Archer"])
    expect(rows.nth(0)).to_contain_text("no contact details")
    expect(rows.nth(1)).to_contain_text("Ben Baker")
    expect(page.locator("#recall-table")).not_to_contain_text("Cy Cole")  # lot B
    expect(page.locator("#recall-table")).not_to_contain_text("Dee Dunn")  # the other maker's A-100

    # By the number on the recall notice: two makers use it, so the page asks which medicine.
    page.locator("#recall-lot").fill("A-100")
    page.locator("#recall-search").click()
    choices = page.locator(".recall-choice")
    expect(choices).to_have_count(2, timeout=15000)
    expect(page.locator(".recall-row")).to_have_count(0)
    choices.filter(has_text="Cetirizine").click()
    expect(page.locator("#recall-heading")).to_contain_text("Cetirizine 10 mg, Zyrtec", timeout=15000)
    sale = page.locator(".recall-row")
    expect(sale).to_have_count(1)
    expect(sale.first).to_contain_text("Dee Dunn")
    expect(sale.first).to_contain_text(recalled.dee_bill)
    expect(sale.first).to_contain_text("Counter sale")
