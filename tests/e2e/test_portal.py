"""Browser journey (issue 17 §1): a customer opens their pharmacy's portal on a phone: the chain's name, its
open branches with address, phone and hours, and the three things they came for; another chain's portal
shows only that chain; a suspended chain's portal says it is not taking online requests."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from backend.branches.service import update_branch
from backend.core import database
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def chain_on_main_street(committed_tenant, prefix: str, **kwargs):
    """A committed chain whose first branch is Main Street, with an address, a phone and opening hours."""
    chain, spec = committed_tenant(prefix, **kwargs)
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    weekdays = {day: "08:30-19:00" for day in ("mon", "tue", "wed", "thu", "fri")}
    run_in_tenant(
        owner, update_branch, str(chain.branch_ids[0]), name="Main Street", code="B1", address="12 Main Street",
        phone="+1 555 010 0100", time_zone="UTC", opening_hours=weekdays | {"sat": "09:00-12:00", "sun": "closed"},
    )  # fmt: skip
    return spec


def test_a_customer_opens_the_portal_on_a_phone(page: Page, app_url: str, committed_tenant):
    spec = chain_on_main_street(committed_tenant, "portal", branches=2)
    other, other_spec = committed_tenant("portalother")
    page.set_viewport_size(PHONE)
    page.goto(f"{app_url}/portal/{spec.slug}")
    expect(page.locator("#portal-chain")).to_have_text(spec.name, timeout=15000)
    main = page.locator(".portal-branch", has_text="Main Street")
    expect(main).to_contain_text("12 Main Street")
    expect(main.get_by_role("link", name="+1 555 010 0100")).to_have_attribute("href", "tel:+15550100100")
    expect(main).to_contain_text("Saturday")
    expect(main).to_contain_text("09:00-12:00")
    expect(page.locator(".portal-branch")).to_have_count(2)
    for action in ("#portal-refill", "#portal-prescriptions", "#portal-upload"):
        expect(page.locator(action)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing runs off a phone
    expect(page.locator("#portal-refill")).to_have_attribute("href", f"/portal/{spec.slug}/refill")

    page.goto(f"{app_url}/portal/{other_spec.slug}")
    expect(page.locator("#portal-chain")).to_have_text(other_spec.name, timeout=15000)
    expect(page.locator(".portal-branch")).to_have_count(1)
    expect(page.get_by_text("Main Street")).to_have_count(0)

    page.goto(f"{app_url}/portal/no-such-pharmacy-here")
    expect(page.locator("#portal-unknown")).to_be_visible(timeout=15000)

    # the owner finds the address to give customers on the Settings page
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/settings")
    expect(page.locator("#portal-url")).to_have_attribute("href", f"{app_url}/portal/{spec.slug}", timeout=15000)

    with database.owner_engine().begin() as connection:
        connection.execute(text("UPDATE tenants SET status = 'suspended' WHERE id = :t"), {"t": other.tenant_id})
    page.goto(f"{app_url}/portal/{other_spec.slug}")
    expect(page.locator("#portal-closed")).to_contain_text("not taking online requests", timeout=15000)
    expect(page.locator("#portal-refill")).to_have_count(0)
