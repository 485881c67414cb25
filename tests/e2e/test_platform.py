"""Browser journey: a super-admin signs in to the console with TOTP and suspends a chain."""

from __future__ import annotations

import re
import time
import uuid

import pyotp
import pytest
from playwright.sync_api import Browser, expect

from backend.platform.service import create_platform_admin
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e


def test_super_admin_suspends_a_chain_and_its_staff_are_blocked(browser: Browser, app_url: str, committed_tenant):
    chain, spec = committed_tenant("console")
    staff = browser.new_context().new_page()
    sign_in(staff, app_url, spec.owner_email, TEST_PASSWORD)

    admin = create_platform_admin(f"ops-{uuid.uuid4().hex[:6]}@platform.example", "Olive Ops", "Console-Key-2026!")
    console = browser.new_context().new_page()
    console.goto(f"{app_url}/platform")
    expect(console).to_have_url(re.compile(r"/platform/signin/?$"), timeout=15000)  # no console without it
    console.locator("#email").fill(admin.email)
    console.locator("#password").fill(admin.password)
    console.locator("#code").fill(pyotp.TOTP(admin.totp_secret).at(time.time()))
    console.locator("#platform-sign-in").click()
    expect(console.locator("#platform-title")).to_be_visible(timeout=20000)

    console.locator("#tenant-search").fill(spec.slug)
    console.get_by_role("button", name="Search").click()
    row = console.locator(f".tenant-row[data-slug='{spec.slug}']")
    expect(row).to_contain_text("active", timeout=15000)
    row.get_by_role("button", name="Manage").click()
    expect(console.locator("#selected-tenant")).to_have_text(spec.name)
    console.locator("#status_reason").fill("Unpaid")
    console.locator("#change-status").click()
    expect(console.locator("#platform-error")).to_contain_text("at least 10 characters", timeout=15000)
    expect(console.locator("#suspend-dialog")).to_have_count(0)  # a reason too short is refused before asking

    # Suspending asks once more, naming the chain and the reason; Cancel changes nothing.
    console.locator("#status_reason").fill("Unpaid invoice INV-2026-114")
    console.locator("#change-status").click()
    dialog = console.locator("#suspend-dialog")
    expect(dialog).to_contain_text(f"Suspend {spec.name}?", timeout=15000)
    expect(dialog).to_contain_text("Unpaid invoice INV-2026-114")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(row).to_contain_text("active")
    staff.reload()
    expect(staff.locator("#dashboard-title")).to_be_visible(timeout=15000)

    console.locator("#status_reason").fill("Unpaid invoice INV-2026-114")
    console.locator("#change-status").click()
    console.locator("#confirm-suspend").click()
    expect(row).to_contain_text("suspended", timeout=15000)

    # The owner is told why and what to do.
    staff.reload()
    expect(staff.locator("#suspended-title")).to_contain_text(spec.name, timeout=15000)
    expect(staff.locator("#suspended-reason")).to_contain_text("Unpaid invoice INV-2026-114")
    expect(staff.locator("#support-email")).to_be_visible()

    # A chain's staff session cannot open the console either.
    staff.goto(f"{app_url}/platform")
    expect(staff).to_have_url(re.compile(r"/platform/signin/?$"), timeout=15000)
