"""Browser journey: receive a batch through the barcode field, then see stock and movement."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from backend.inventory.service import create_medicine
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e


def test_receive_by_barcode_and_see_it_on_the_medicine_page(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("receive")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    barcode = str(uuid.uuid4().int)[:13]
    run_in_tenant(
        owner, create_medicine, generic_name="Metformin", strength="850 mg", barcode=barcode, schedule="prescription"
    )

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/inventory")
    expect(page.locator("#inventory-title")).to_be_visible(timeout=15000)
    page.locator("#barcode").fill(barcode)
    page.locator("#barcode").press("Enter")  # what a scanner does
    expect(page.locator("#receiving")).to_have_text("Metformin 850 mg", timeout=15000)
    page.locator("#lot_number").fill("MET-2026-11")
    page.locator("#expiry_date").fill((date.today() + timedelta(days=400)).isoformat())
    page.locator("#quantity").fill("120")
    page.locator("#receive-submit").click()
    row = page.locator(f".medicine-row[data-barcode='{barcode}']")
    expect(row.locator(".on-hand")).to_have_text("120", timeout=15000)

    row.get_by_role("link", name="Metformin").click()
    expect(page).to_have_url(re.compile(r"/inventory/medicine/?\?id="), timeout=15000)
    expect(page.locator("#medicine-on-hand")).to_have_text("120", timeout=15000)
    expect(page.locator(".batch-row").first).to_contain_text("MET-2026-11")
    expect(page.locator(".movement-row").first).to_contain_text("receive")
    expect(page.locator(".movement-row").first).to_contain_text("120")

    page.locator("#adjust-batch").click()
    page.get_by_role("option", name="Branch 1 · lot MET-2026-11").click()
    page.locator("#adjust_change").fill("-5")
    page.locator("#adjust_reason").fill("five packs water-damaged")
    page.locator("#adjust-submit").click()
    expect(page.locator("#medicine-on-hand")).to_have_text("115", timeout=15000)
    expect(page.locator(".movement-row").first).to_contain_text("water-damaged")

    page.locator("#adjust-batch").click()
    page.get_by_role("option", name="Branch 1 · lot MET-2026-11").click()
    page.locator("#adjust-kind").click()
    page.get_by_role("option", name="Return to supplier").click()
    page.locator("#adjust_change").fill("15")  # a quantity: the kind says which way it moves
    page.locator("#adjust_reason").fill("short-dated, supplier credit")
    page.locator("#adjust-submit").click()
    expect(page.locator("#medicine-on-hand")).to_have_text("100", timeout=15000)
    expect(page.locator(".movement-row").first).to_contain_text("supplier_return")
    expect(page.locator(".movement-row").first).to_contain_text("-15")


def test_dashboard_counts_stock_alerts(page: Page, app_url: str, committed_tenant):
    from backend.inventory.reorder import set_reorder_level

    chain, spec = committed_tenant("widgets")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    medicine = run_in_tenant(owner, create_medicine, generic_name="Atorvastatin", strength="20 mg")
    run_in_tenant(
        owner,
        set_reorder_level,
        branch_id=str(chain.branch_ids[0]),
        medicine_id=medicine,
        reorder_point=10,
        reorder_quantity=60,
    )
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    expect(page.locator("#attention-low .attention-count")).to_have_text("1", timeout=15000)
    page.locator("#attention-low").click()
    expect(page.locator(".low-stock-row").first).to_contain_text("Atorvastatin 20 mg", timeout=15000)


def test_suggest_send_and_receive_a_purchase_order(page: Page, app_url: str, committed_tenant):
    from backend.inventory.reorder import set_reorder_level

    chain, spec = committed_tenant("orders")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    medicine = run_in_tenant(owner, create_medicine, generic_name="Levothyroxine", strength="50 mcg")
    run_in_tenant(
        owner,
        set_reorder_level,
        branch_id=str(chain.branch_ids[0]),
        medicine_id=medicine,
        reorder_point=5,
        reorder_quantity=90,
    )
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/inventory/orders")
    page.locator("#supplier_name").fill("Contoso Wholesale")
    page.locator("#supplier_name").press("Enter")
    page.locator("#suggest-supplier").click()
    page.get_by_role("option", name="Contoso Wholesale").click()
    page.locator("#suggest").click()
    card = page.locator(".po-card").first
    expect(card).to_contain_text("Levothyroxine 50 mcg: 0 of 90 received", timeout=15000)
    card.get_by_role("button", name="Send").click()
    expect(card.locator(".po-status")).to_have_text("Sent", timeout=15000)
    card.get_by_role("combobox").click()
    page.get_by_role("option", name="Levothyroxine 50 mcg").click()
    card.get_by_placeholder("Lot").fill("LEV-7")
    card.locator("input[type=date]").fill((date.today() + timedelta(days=500)).isoformat())
    card.get_by_placeholder("Qty").fill("90")
    card.get_by_role("button", name="Receive").click()
    expect(card.locator(".po-status")).to_have_text("Received", timeout=15000)
