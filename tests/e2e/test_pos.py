"""Browser journeys: sell two items at the counter with the keyboard only, take cash; where the chain's
jurisdiction allows it, a pharmacist signs a prescription override with their password (the US rule:
tests/e2e/test_emergency_supply.py)."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from backend.accounts.staff import accept_invitation, invite
from backend.inventory.service import create_medicine, medicine_stock, receive_stock
from backend.prescriptions.service import update_rx_settings
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e


def on_hand(owner: TenantContext, medicine: str) -> int:
    return run_in_tenant(owner, medicine_stock, medicine)[0].on_hand


def shelve(owner: TenantContext, branch: str, name: str, price: str) -> tuple[str, str]:
    """A medicine with a barcode and 10 units on the branch's shelf."""
    barcode = str(uuid.uuid4().int)[:13]
    medicine = run_in_tenant(
        owner, create_medicine, generic_name=name, strength="10 mg", barcode=barcode, default_sell_price=price
    )
    expiry = (date.today() + timedelta(days=300)).isoformat()
    lot = f"{name[:3].upper()}-1"
    run_in_tenant(
        owner, receive_stock, branch_id=branch, medicine_id=medicine, lot_number=lot, expiry_date=expiry, quantity=10
    )
    return medicine, barcode


def test_sell_two_items_with_the_keyboard_and_take_cash(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("counter")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    loratadine, loratadine_code = shelve(owner, branch, "Loratadine", "2.50")
    cetirizine, cetirizine_code = shelve(owner, branch, "Cetirizine", "4.00")

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/pos")
    expect(page).to_have_url(re.compile(r"/pos/?$"), timeout=30000)
    scan = page.locator("#pos-scan")
    expect(scan).to_be_focused(timeout=30000)
    for code in (loratadine_code, cetirizine_code):
        page.keyboard.type(code)  # what a scanner does: the digits, then Enter
        page.keyboard.press("Enter")
    lines = page.locator(".pos-line")
    expect(lines).to_have_count(2, timeout=30000)
    expect(lines.nth(0)).to_contain_text("Loratadine 10 mg")
    expect(lines.nth(0).locator(".pos-lots")).to_contain_text("LOR-1")  # the lot FEFO would take

    # The sale is a draft in the database: a reload brings it back.
    page.reload()
    expect(page.locator(".pos-line")).to_have_count(2, timeout=30000)

    page.locator("#pos-scan").focus()  # where the page puts the cursor (autofocus); F4 does the same
    page.keyboard.press("F4")
    page.keyboard.press("Tab")  # into the first line's quantity
    expect(page.locator("#pos-qty-1")).to_be_focused()
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.locator("#pos-qty-1")).to_have_value("3", timeout=30000)
    expect(scan).to_be_focused(timeout=30000)
    page.keyboard.press("+")  # empty scan field: one more of the last line
    expect(page.locator("#pos-qty-2")).to_have_value("2", timeout=30000)
    expect(page.locator("#pos-due")).to_contain_text("15.50", timeout=30000)  # 3 x 2.50 + 2 x 4.00, no tax

    page.keyboard.press("F8")
    expect(page.locator("#pos-cash")).to_be_focused()
    page.keyboard.type("20")
    page.keyboard.press("Enter")
    expect(page.locator("#pos-bill-number")).to_have_text(re.compile(r"^B1-\d{4}-\d{6}$"), timeout=30000)
    expect(page.locator("#pos-change")).to_have_text(str(Decimal("20") - Decimal("15.50")))
    expect(page.locator(".pos-sold-lot")).to_have_count(2)
    expect(page.locator(".pos-sold-lot").first).to_contain_text("LOR-1")
    assert on_hand(owner, loratadine) == 7
    assert on_hand(owner, cetirizine) == 8

    page.keyboard.press("F2")  # the next customer
    expect(page.locator("#pos-sale-done")).to_have_count(0, timeout=30000)
    expect(scan).to_be_focused(timeout=30000)


def test_a_pharmacists_override_asks_for_the_password_and_refuses_a_wrong_one(
    page: Page, app_url: str, committed_tenant
):
    chain, _ = committed_tenant("counter-rx")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    # A jurisdiction that allows a pharmacist's supply without a prescription (the US rule refuses it).
    run_in_tenant(owner, update_rx_settings, counter_rule="reference_or_override")
    branch = str(chain.branch_ids[0])
    barcode = str(uuid.uuid4().int)[:13]
    amoxicillin = run_in_tenant(
        owner, create_medicine, generic_name="Amoxicillin", strength="500 mg", barcode=barcode, schedule="prescription"
    )
    expiry = (date.today() + timedelta(days=300)).isoformat()
    run_in_tenant(
        owner,
        receive_stock,
        branch_id=branch,
        medicine_id=amoxicillin,
        lot_number="AMX-1",
        expiry_date=expiry,
        quantity=5,
    )
    email, password = f"rx-{uuid.uuid4().hex[:6]}@example.com", "Mortar-And-Pestle-7"
    accept_invitation(
        invite(owner, email, "pharmacist").link.split("token=")[1], full_name="Phil Pharm", password=password
    )

    sign_in(page, app_url, email, password)
    page.goto(f"{app_url}/pos")
    expect(page.locator("#pos-scan")).to_be_focused(timeout=30000)
    page.keyboard.type(barcode)
    page.keyboard.press("Enter")
    signature = page.locator("#pos-override-signature")
    expect(signature).to_have_attribute("type", "password", timeout=30000)  # the prompt asks to sign
    expect(page.locator("#pos-prescription-ref")).to_be_focused(timeout=30000)  # the prompt has settled

    reason = "repeat supply, prescriber phoned, paper script to follow"
    page.locator("#pos-override-reason").fill(reason)
    signature.fill("not my password at all")
    expect(page.locator("#pos-prescription-ref")).to_have_value("")
    signature.press("Enter")
    expect(page.locator("#pos-error")).to_contain_text("password is not right; nothing was signed", timeout=30000)
    expect(page.locator(".pos-line")).to_have_count(0)
    expect(signature).to_be_focused(timeout=30000)  # the prompt stays open for another try

    page.locator("#pos-override-reason").fill(reason)
    signature.fill(password)
    signature.press("Enter")
    expect(page.locator("#pos-error")).to_have_count(0, timeout=30000)
    expect(page.locator(".pos-line")).to_have_count(1, timeout=30000)
    expect(page.locator(".pos-line").first).to_contain_text("override signed")
