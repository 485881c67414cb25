"""Browser journeys for the catalog form: add a medicine, confirm a duplicate, edit and deactivate, refusals."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from backend.accounts.staff import accept_invitation, invite
from backend.inventory.service import create_medicine, medicine_details, search_medicines
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import DASHBOARD, sign_in
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e
CATALOG_EDIT = re.compile(r"/inventory/catalog/edit/?(\?.*)?$")
MEDICINE_PAGE = re.compile(r"/inventory/medicine/?\?id=")


def owner_of(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def pick(page: Page, trigger: str, option: str) -> None:
    page.locator(trigger).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_owner_adds_a_medicine_then_edits_and_deactivates_it(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("catalog")
    barcode = str(uuid.uuid4().int)[:12]
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/inventory")
    page.locator("#add-medicine").click()
    expect(page).to_have_url(CATALOG_EDIT, timeout=15000)
    expect(page.locator("#catalog-title")).to_have_text("Add medicine", timeout=15000)

    page.locator("#generic_name").fill("Tramadol hydrochloride")
    page.locator("#brand_name").fill("Ultram")
    page.locator("#strength").fill("50 mg")
    page.locator("#dosage_form").fill("tablet")
    page.locator("#pack_size").fill("30")
    page.locator("#barcode").fill(barcode)
    page.locator("#therapeutic_class").fill("Opioid analgesic")
    page.locator("#default_sell_price").fill("abc")
    expect(page.locator("#controlled_class")).to_have_count(0)
    pick(page, "#schedule", "Controlled")
    page.locator("#catalog-submit").click()
    # The class is required once the schedule is controlled; the price is checked too, one at a time.
    expect(page.locator("#controlled_class-error")).to_contain_text("needs its class", timeout=15000)
    pick(page, "#controlled_class", "CIV")
    pick(page, "#tax_category", "Reduced")
    page.locator("#catalog-submit").click()
    expect(page.locator("#default_sell_price-error")).to_contain_text("amount", timeout=15000)
    assert run_in_tenant(owner_of(chain), search_medicines, "tramadol")[0] == []  # nothing written on bad input
    page.locator("#default_sell_price").fill("0.85")
    page.locator("#catalog-submit").click()

    expect(page).to_have_url(MEDICINE_PAGE, timeout=15000)
    expect(page.locator("#medicine-title")).to_have_text("Tramadol hydrochloride 50 mg", timeout=15000)
    page.goto(f"{app_url}/inventory")
    page.locator("#catalog-search").fill("Ultram")
    page.locator("#catalog-search").press("Enter")
    row = page.locator(f".medicine-row[data-barcode='{barcode}']")
    expect(row).to_contain_text("Tramadol hydrochloride", timeout=15000)
    expect(row).to_contain_text("controlled")
    expect(row).to_contain_text("0.85")
    (saved,) = run_in_tenant(owner_of(chain), search_medicines, barcode)[0]
    details = run_in_tenant(owner_of(chain), medicine_details, saved.id)
    assert (details.controlled_class, details.tax_category, details.pack_size) == ("CIV", "reduced", 30)

    # Edit from the medicine page: the form comes back filled in.
    row.get_by_role("link", name="Tramadol hydrochloride").click()
    expect(page).to_have_url(MEDICINE_PAGE, timeout=15000)
    page.locator("#edit-medicine").click()
    expect(page).to_have_url(CATALOG_EDIT, timeout=15000)
    expect(page.locator("#catalog-title")).to_have_text("Edit medicine", timeout=15000)
    expect(page.locator("#generic_name")).to_have_value("Tramadol hydrochloride")
    expect(page.locator("#schedule")).to_contain_text("Controlled")
    expect(page.locator("#controlled_class")).to_contain_text("CIV")
    page.locator("#default_sell_price").fill("0.90")
    page.locator("#catalog-submit").click()
    expect(page.get_by_text("Saved.")).to_be_visible(timeout=15000)
    assert run_in_tenant(owner_of(chain), medicine_details, saved.id).default_sell_price == Decimal("0.90")
    page.locator("#strength").fill("100 mg")  # a second save on the re-mounted form
    page.locator("#catalog-submit").click()
    after = wait_until(
        lambda: (m := run_in_tenant(owner_of(chain), medicine_details, saved.id)).strength == "100 mg" and m, timeout=15
    )
    assert (after.strength, after.default_sell_price) == ("100 mg", Decimal("0.90"))

    page.locator("#toggle-active").click()
    expect(page.locator("#medicine-active-state")).to_contain_text("Inactive", timeout=15000)
    assert run_in_tenant(owner_of(chain), search_medicines, barcode)[0] == []
    page.locator("#toggle-active").click()
    expect(page.locator("#medicine-active-state")).to_contain_text("Active:", timeout=15000)
    assert [m.id for m in run_in_tenant(owner_of(chain), search_medicines, barcode)[0]] == [saved.id]


def test_a_synonym_already_in_the_catalog_is_flagged_until_added_anyway(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("catalog-dup")
    existing = run_in_tenant(
        owner_of(chain), create_medicine, generic_name="Acetaminophen", strength="500 mg", dosage_form="tablet"
    )
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/inventory/catalog/edit")
    expect(page.locator("#catalog-title")).to_have_text("Add medicine", timeout=15000)
    page.locator("#generic_name").fill("Paracetamol")
    page.locator("#strength").fill("500mg")
    page.locator("#catalog-submit").click()

    warning = page.locator("#duplicate-warning")
    expect(warning).to_contain_text("Acetaminophen 500 mg tablet", timeout=15000)
    expect(warning.locator(".duplicate-match")).to_have_attribute("href", re.compile(f"id={existing}"))
    assert [m.generic_name for m in run_in_tenant(owner_of(chain), search_medicines, "paracetamol")[0]] == [
        "Acetaminophen"
    ]

    page.locator("#add-anyway").click()
    expect(page).to_have_url(MEDICINE_PAGE, timeout=15000)
    expect(page.locator("#medicine-title")).to_have_text("Paracetamol 500mg", timeout=15000)
    names = sorted(m.generic_name for m in run_in_tenant(owner_of(chain), search_medicines, "Tylenol")[0])
    assert names == ["Acetaminophen", "Paracetamol"]


def test_a_cashier_has_no_catalog_form(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("catalog-cashier")
    email = f"cat-{uuid.uuid4().hex[:6]}@example.com"
    token = invite(owner_of(chain), email, "cashier").link.split("token=")[1]
    accept_invitation(token, full_name="Cat Cashier", password="Receipt-Roll-Nine-9")

    sign_in(page, app_url, email, "Receipt-Roll-Nine-9")
    page.goto(f"{app_url}/inventory")
    expect(page.locator("#inventory-title")).to_be_visible(timeout=15000)
    expect(page.locator("#add-medicine")).to_have_count(0)
    page.goto(f"{app_url}/inventory/catalog/edit")
    expect(page.get_by_text("may not do this (inventory.catalog)")).to_be_visible(timeout=15000)
    expect(page).to_have_url(DASHBOARD, timeout=15000)
    expect(page.locator("#catalog-form")).to_have_count(0)
