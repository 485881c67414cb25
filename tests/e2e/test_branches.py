"""Browser journey: an owner adds a branch in Settings, it is in the branch switcher at once, reorder
points set on screens raise a low-stock alert and a suggested order, and a deactivated branch leaves
the switcher."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from backend.inventory.service import create_medicine
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e


def choose_branch(page: Page, name: str) -> None:
    page.locator("#branch-select").click()
    page.get_by_role("option", name=name).click()
    expect(page.locator("#branch-select")).to_contain_text(name, timeout=15000)


def test_a_new_branch_gets_reorder_points_that_raise_alerts_and_orders(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("branch-ui")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    amoxicillin = run_in_tenant(
        owner, create_medicine, generic_name="Amoxicillin", strength="500 mg", barcode="5011111111116"
    )
    run_in_tenant(owner, create_medicine, generic_name="Salbutamol", strength="100 mcg", barcode="5022222222229")

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/settings")
    page.locator("#manage-branches").click()
    expect(page.locator(".branch-row")).to_have_count(1, timeout=15000)  # loaded: the form will not reset
    page.locator("#branch_name").fill("Old Town")
    page.locator("#branch_code").fill("ot1")
    page.locator("#branch_time_zone").fill("Mars/Olympus")
    page.locator("#hours_mon").fill("09:00-18:00")
    page.locator("#hours_sat").fill("09:00-13:00")
    page.locator("#save-branch").click()
    expect(page.locator("#branch-error")).to_contain_text("Unknown time zone", timeout=15000)  # nothing added
    expect(page.locator(".branch-row")).to_have_count(1)
    page.locator("#branch_time_zone").fill("Europe/London")  # what was typed is still there
    expect(page.locator("#branch_prices_include_tax")).not_to_be_checked()
    page.locator("#branch_default_tax_rate").fill("20")
    page.locator("#save-branch").click()
    row = page.locator(".branch-row[data-code='OT1']")
    expect(row).to_contain_text("Old Town", timeout=15000)
    expect(row).to_contain_text("Mon 09:00-18:00")
    expect(row).to_contain_text("Sun closed")

    # In the header's switcher at once: no sign-out, no reload.
    choose_branch(page, "Old Town")

    # A reorder point for the new branch on the medicine page.
    page.goto(f"{app_url}/inventory/medicine?id={amoxicillin}")
    line = page.locator(".level-row[data-branch='Old Town']")
    expect(line).to_be_visible(timeout=15000)
    line.locator("input[name^='point_']").fill("10")
    line.locator("input[name^='quantity_']").fill("60")
    page.locator("#save-levels").click()
    expect(line).to_contain_text("Manual: reorder at 10, order 60.", timeout=15000)

    # And one for Branch 1 in the bulk editor: search, edit in the grid, save.
    page.goto(f"{app_url}/inventory/reorder")
    expect(page.locator("#reorder-title")).to_be_visible(timeout=15000)
    choose_branch(page, "Branch 1")
    page.locator("#reorder-search").fill("salb")
    page.locator("#reorder-search-submit").click()
    expect(page.locator("#reorder-title")).to_contain_text("Branch 1", timeout=15000)
    grid_line = page.locator(".reorder-row[data-medicine='Salbutamol 100 mcg']")
    expect(page.locator(".reorder-row")).to_have_count(1, timeout=15000)
    grid_line.locator("input[name^='point_']").fill("4")
    grid_line.locator("input[name^='quantity_']").fill("25")
    page.locator("#save-reorder-page").click()
    expect(grid_line).to_contain_text("Manual: reorder at 4, order 25.", timeout=15000)

    page.goto(f"{app_url}/inventory/alerts")
    low = page.locator(".low-stock-row")
    expect(low).to_have_count(2, timeout=15000)
    expect(low.filter(has_text="Old Town")).to_contain_text("Amoxicillin 500 mg")
    expect(low.filter(has_text="Branch 1")).to_contain_text("Salbutamol 100 mcg")

    page.goto(f"{app_url}/inventory/orders")
    choose_branch(page, "Old Town")
    page.locator("#supplier_name").fill("Harbour Wholesale")
    page.locator("#supplier_name").press("Enter")
    page.locator("#suggest-supplier").click()
    page.get_by_role("option", name="Harbour Wholesale").click()
    page.locator("#suggest").click()
    card = page.locator(".po-card").first
    expect(card).to_contain_text("Amoxicillin 500 mg: 0 of 60 received", timeout=15000)
    expect(card).to_contain_text("Old Town")
    expect(card).not_to_contain_text("Salbutamol")  # Branch 1's line belongs to Branch 1's order

    # Deactivated: it keeps its row (and history) but leaves the switcher.
    page.goto(f"{app_url}/settings/branches")
    row = page.locator(".branch-row[data-code='OT1']")
    expect(row).to_be_visible(timeout=15000)
    row.get_by_role("button", name="Deactivate").click()
    page.locator(".confirm-deactivate").click()
    expect(row.locator(".branch-status")).to_have_text("deactivated", timeout=15000)
    page.locator("#branch-select").click()
    expect(page.get_by_role("option", name="Branch 1")).to_be_visible()
    expect(page.get_by_role("option", name="Old Town")).to_have_count(0)
