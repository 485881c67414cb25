"""Browser journey: a pharmacist opens the controlled-substance register, narrows it to one medicine and a
period, downloads the CSV (the lines and balances on screen), then takes the biennial inventory: a count that
differs from the ledger is refused until it is explained, and the signed inventory is listed as signed."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from backend.controlled.asap_format import validate
from backend.inventory.service import correct_stock, create_medicine, receive_stock
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_prescriptions import member

pytestmark = pytest.mark.e2e


def test_register_filter_csv_and_a_signed_biennial_count(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("ctl-journey")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    expiry = (date.today() + timedelta(days=300)).isoformat()
    stocked = {}
    for name, schedule, ndc, quantity in (
        ("Morphine sulfate", "CII", "00054023525", 50),
        ("Diazepam", "CIV", "00591562110", 200),
    ):
        medicine = run_in_tenant(
            owner, create_medicine, generic_name=name, strength="5 mg", schedule="controlled",
            controlled_class=schedule, barcode=ndc,
        )  # fmt: skip
        stocked[name] = run_in_tenant(
            owner, receive_stock, branch_id=branch, medicine_id=medicine, lot_number=f"{schedule}-LOT",
            expiry_date=expiry, quantity=quantity, reference="INV-77",
        )  # fmt: skip
    run_in_tenant(owner, correct_stock, batch_id=stocked["Diazepam"], kind="write_off", change=5, reason="damaged")
    email, password = member(owner, "pharmacist", "Rita Register")

    sign_in(page, app_url, email, password)
    page.locator(".nav-link", has_text="Controlled substances").first.click()
    expect(page.locator("#controlled-title")).to_contain_text("Branch 1", timeout=30000)
    rows = page.locator(".register-row")
    expect(rows).to_have_count(5, timeout=15000)  # two opening balances, two receipts, one destruction

    page.locator("#register-medicine").click()
    page.get_by_role("option", name="Diazepam 5 mg (CIV)", exact=True).click()
    page.locator("input[name='start']").fill((date.today() - timedelta(days=7)).isoformat())
    page.locator("input[name='end']").fill(date.today().isoformat())
    page.locator("#register-show").click()
    expect(rows).to_have_count(3, timeout=15000)
    expect(rows.nth(1)).to_contain_text("Received")
    expect(rows.nth(1)).to_contain_text("INV-77")
    expect(rows.nth(2)).to_contain_text("Destroyed / written off")
    expect(rows.nth(2)).to_contain_text("195")
    expect(page.locator("#register-table")).not_to_contain_text("Morphine")

    with page.expect_download(timeout=15000) as caught:
        page.locator("#register-csv").click()
    download = caught.value
    assert download.suggested_filename.startswith("controlled-register-") and download.suggested_filename.endswith(
        ".csv"
    )
    with open(download.path(), encoding="utf-8") as body:
        lines = list(csv.DictReader(io.StringIO(body.read())))
    assert [(r["medicine"], r["entry"], r["balance"]) for r in lines] == [
        ("Diazepam", "Opening balance", "0"),
        ("Diazepam", "Received", "200"),
        ("Diazepam", "Destroyed / written off", "195"),
    ]

    # The biennial inventory: the count sheet carries the ledger's on-hand.
    page.locator("#tab-inventory").click()
    page.locator("#inventory-start").click()
    sheet = page.locator(".sheet-row")
    expect(sheet).to_have_count(2, timeout=15000)
    diazepam = page.locator(".sheet-row[data-medicine='Diazepam 5 mg']")
    morphine = page.locator(".sheet-row[data-medicine='Morphine sulfate 5 mg']")
    expect(diazepam.locator(".sheet-expected")).to_have_text("195")
    expect(morphine.locator(".sheet-expected")).to_have_text("50")
    morphine.locator("input[name^='counted_']").fill("50")
    diazepam.locator("input[name^='counted_']").fill("193")
    page.locator("#inventory-save").click()
    expect(page.locator("#controlled-error")).to_contain_text("counted 193, the ledger says 195", timeout=15000)
    expect(page.locator("#inventory-sign")).to_have_count(0)

    diazepam = page.locator(".sheet-row[data-medicine='Diazepam 5 mg']")
    diazepam.locator("input[name^='counted_']").fill("193")
    diazepam.locator("input[name^='explanation_']").fill("two tablets crushed in the vial, logged")
    page.locator(".sheet-row[data-medicine='Morphine sulfate 5 mg'] input[name^='counted_']").fill("50")
    page.locator("#inventory-save").click()
    expect(page.locator(".sheet-row[data-medicine='Diazepam 5 mg'] .sheet-difference")).to_have_text(
        "-2", timeout=15000
    )
    expect(page.locator("#controlled-error")).to_have_count(0)

    page.locator("input#inventory-password, #inventory-password input").first.fill(password)
    page.locator("#inventory-sign").click()
    expect(page.locator(".inventory-row").first).to_contain_text("Signed", timeout=15000)
    expect(page.locator(".inventory-row").first).to_contain_text("Rita Register")
    expect(page.locator("#inventory-start")).to_be_visible()  # the signed one is closed; a new count may start


def test_cii_order_receipt_theft_report_and_the_pmp_file(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("ctl-orders")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    run_in_tenant(
        owner, create_medicine, generic_name="Hydromorphone", strength="2 mg", schedule="controlled",
        controlled_class="CII", barcode="00406324301",
    )  # fmt: skip
    email, password = member(owner, "pharmacist", "Omar Orders")
    sign_in(page, app_url, email, password)
    page.goto(f"{app_url}/controlled")
    expect(page.locator("#controlled-title")).to_contain_text("Branch 1", timeout=30000)
    expect(page.locator("#register-empty")).to_be_visible(timeout=15000)

    # A CII order on Form 222, received in part against its number.
    page.locator("#tab-orders").click()
    page.locator("input[name='order_number']").fill("261234567")
    page.locator("input[name='supplier']").fill("McKesson")
    page.get_by_role("combobox").filter(has_text="CII medicine").click()
    page.get_by_role("option", name="Hydromorphone 2 mg (CII)", exact=True).click()
    page.locator("input[name='quantity']").first.fill("100")
    page.locator("#order-create").click()
    order = page.locator(".order-row").first
    expect(order).to_contain_text("DEA 222 261234567", timeout=15000)
    expect(order).to_contain_text("0 of 100 received")
    order.locator("input[name='lot_number']").fill("HM-1")
    order.locator("input[name='expiry_date']").fill((date.today() + timedelta(days=365)).isoformat())
    order.locator("input[name='quantity']").fill("120")
    order.locator("button", has_text="Receive").click()
    expect(page.locator("#controlled-error")).to_contain_text("at most 100 more", timeout=15000)
    order.locator("input[name='quantity']").fill("60")
    order.locator("button", has_text="Receive").click()
    expect(order).to_contain_text("60 of 100 received", timeout=15000)

    # A theft: the stock leaves through inventory and the register shows it with the report's number.
    page.locator("#tab-loss").click()
    page.locator("input[name='discovered_on']").fill(date.today().isoformat())
    page.get_by_role("combobox").filter(has_text="Type of theft or loss").click()
    page.get_by_role("option", name="Night break in", exact=True).click()
    page.get_by_role("combobox").filter(has_text="Medicine").click()
    page.get_by_role("option", name="Hydromorphone 2 mg (CII)", exact=True).click()
    page.locator("input[name='quantity']").last.fill("4")
    page.locator("input[name='details']").fill("Rear door forced overnight; safe untouched, shelf stock taken")
    page.locator("#loss-create").click()
    expect(page.locator(".loss-row").first).to_contain_text("Night break in", timeout=15000)
    expect(page.locator(".loss-row").first).to_contain_text("lot HM-1: 4")
    page.locator("#tab-register").click()
    rows = page.locator(".register-row")
    expect(rows).to_have_count(3, timeout=15000)
    expect(rows.nth(1)).to_contain_text("DEA 222 261234567")
    expect(rows.nth(2)).to_contain_text("Theft or loss (DEA 106)")
    expect(rows.nth(2)).to_contain_text("56")

    # The PMP file needs the branch's registration; a day without controlled fills is the ASAP zero report.
    page.locator("#tab-pmp").click()
    page.locator("#pmp-download").click()
    expect(page.locator("#controlled-error")).to_contain_text("DEA number and NPI", timeout=15000)
    page.locator("input[name='dea_number']").fill("BP1234563")
    page.locator("input[name='npi']").fill("1234567893")
    page.locator("input[name='state']").fill("oh")
    page.locator("button", has_text="Save registration").click()
    expect(page.locator("#pmp-registration")).to_contain_text("DEA BP1234563 · NPI 1234567893 · OH", timeout=15000)
    with page.expect_download(timeout=15000) as caught:
        page.locator("#pmp-download").click()
    zero = caught.value
    assert zero.suggested_filename.endswith("-zero.txt")
    with open(zero.path(), encoding="utf-8") as body:
        content = body.read()
    assert "*REPORT*ZERO~" in content and validate(content) == []


def test_a_cashier_has_no_register_in_the_menu_and_the_server_refuses_it(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("ctl-cashier")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    email, password = member(owner, "cashier", "Cass Counter")
    sign_in(page, app_url, email, password)
    expect(page.get_by_role("link", name="Point of sale", exact=True)).to_have_count(1, timeout=20000)
    expect(page.get_by_role("link", name="Controlled substances", exact=True)).to_have_count(0)
    page.goto(f"{app_url}/controlled")  # a hidden link is no permission: the server still refuses
    expect(page.get_by_text("may not do this (controlled.view)")).to_be_visible(timeout=15000)
    expect(page.locator(".register-row")).to_have_count(0)
