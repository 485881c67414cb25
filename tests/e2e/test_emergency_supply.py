"""Browser journey: prescription-only medicine at the counter under the US rule. The pharmacist scans a
prescription-only medicine: it is refused with what to do ("Scan the fill's label, or record an emergency
supply"), and nothing joins the bill. They open the emergency supply form from the refusal, choose the
patient, try 4 days (refused: the chain allows 3), sign with their password; the supply is recorded as a
prescription, filled and checked. Back at the counter its label's code puts the fill on the bill, the pickup
is recorded and the sale is paid: the fill is picked up."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from backend.inventory.service import create_medicine, medicine_stock, receive_stock
from backend.patients.service import create_patient
from backend.prescriptions import fills, service
from backend.prescriptions.enums import FillStatus, RxSource, RxStatus
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_pickup import draw_signature
from tests.e2e.test_prescriptions import member

pytestmark = pytest.mark.e2e

REFUSED = (
    "Lisinopril 10 mg is prescription-only: it is sold only as a verified fill. "
    "Scan the fill's label, or record an emergency supply."
)


def test_a_refused_prescription_only_medicine_becomes_an_emergency_supply_sold_with_its_pickup(
    page: Page, app_url: str, committed_tenant
):
    chain, _ = committed_tenant("rx-emergency")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    lisinopril = run_in_tenant(
        owner,
        create_medicine,
        generic_name="Lisinopril",
        strength="10 mg",
        schedule="prescription",
        barcode="00093711101",
        default_sell_price="1.50",
    )
    run_in_tenant(
        owner,
        receive_stock,
        branch_id=branch,
        medicine_id=lisinopril,
        lot_number="LIS-E2E",
        expiry_date=(date.today() + timedelta(days=300)).isoformat(),
        quantity=50,
    )
    surname = f"Urgent{uuid.uuid4().hex[:5]}"
    run_in_tenant(owner, create_patient, full_name=f"Erin {surname}", date_of_birth="1970-02-03", home_branch_id=branch)
    rph_email, rph_password = member(owner, "pharmacist", "Phil Pharm")

    sign_in(page, app_url, rph_email, rph_password)
    page.goto(f"{app_url}/pos")
    expect(page).to_have_url(re.compile(r"/pos/?$"), timeout=30000)
    expect(page.locator("#pos-scan")).to_be_focused(timeout=30000)
    page.keyboard.type("00093711101")  # the stock bottle's barcode: typed in, not a fill
    page.keyboard.press("Enter")
    expect(page.locator("#pos-error")).to_have_text(REFUSED, timeout=30000)
    expect(page.locator(".pos-line")).to_have_count(0)
    expect(page.locator("#pos-prescription-ref")).to_have_count(0)  # no reference or override under the US rule
    expect(page.locator("#pos-override-reason")).to_have_count(0)

    page.locator("#pos-emergency-supply").click()
    expect(page.locator("#es-title")).to_be_visible(timeout=30000)
    expect(page.locator("#es-medicine-chosen")).to_have_text("Lisinopril 10 mg", timeout=30000)
    page.locator("#es-patient").fill(surname)
    page.locator("#es-patient-find").click()
    page.locator(".es-patient-choice").first.click()
    expect(page.locator("#es-patient-chosen")).to_have_text(f"Erin {surname} (1970-02-03)", timeout=15000)
    page.locator("#es-quantity").fill("6")
    page.locator("#es-days").fill("4")
    page.locator("#es-sig").fill("1 tab po bid")
    page.locator("#es-reason").fill("usual medicine, prescriber's surgery closed until Monday")
    page.locator("#es-barcode").fill("00093711101")
    page.locator("#es-signature").fill(rph_password)
    page.locator("#es-record").click()
    expect(page.locator("#es-error")).to_contain_text("at most 3 days' supply", timeout=15000)
    page.locator("#es-days").fill("3")
    page.locator("#es-record").click()
    expect(page.locator("#es-done")).to_contain_text("recorded", timeout=30000)
    code = page.locator("#es-fill-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]+-\d{6}-0-1", code), code

    page.locator("#es-to-counter").click()
    expect(page).to_have_url(re.compile(r"/pos/?$"), timeout=30000)
    expect(page.locator("#pos-scan")).to_be_focused(timeout=30000)
    page.keyboard.type(code)  # the label's barcode
    page.keyboard.press("Enter")
    line = page.locator(".pos-line")
    expect(line).to_have_count(1, timeout=30000)
    expect(line.first).to_contain_text(f"Fill {code}")
    expect(page.locator("#pos-due")).to_contain_text("9.00", timeout=15000)  # 6 x 1.50
    expect(page.locator("#pos-patient")).to_contain_text(f"Erin {surname}", timeout=15000)

    page.locator("#pos-pickup-name").fill(f"Erin {surname}")
    page.locator("#pos-pickup-counselling").select_option("accepted")
    page.locator("#pos-pickup-secret").fill(rph_password)
    page.locator("#pos-pickup-signature").scroll_into_view_if_needed()
    draw_signature(page)
    page.locator("#pos-pickup-record").click()
    expect(page.locator("#pos-pickup-summary, #pos-pickup-error")).to_contain_text(
        "counselling accepted", timeout=15000
    )
    page.locator("#pos-cash").fill("10")
    page.locator("#pos-cash").press("Enter")
    expect(page.locator("#pos-fills-handed")).to_contain_text("1 prescription fill(s) picked up", timeout=30000)
    expect(page.locator("#pos-change")).to_contain_text("1.00")

    found = [f for f in run_in_tenant(owner, fills.fills_of, _prescription_of(owner, code)) if f.code == code]
    assert found and found[0].status == FillStatus.PICKED_UP
    record = run_in_tenant(owner, service.get_prescription, found[0].prescription_id)
    assert record.source == RxSource.EMERGENCY_SUPPLY and record.status == RxStatus.DISPENSED
    assert record.prescriber_id is None and record.refills_authorized == 0
    assert run_in_tenant(owner, medicine_stock, lisinopril)[0].on_hand == 44  # filled 6; the sale took no more


def _prescription_of(owner: TenantContext, code: str) -> str:
    """The prescription of a fill's label code (the Rx number is the code less its dispensing and part)."""
    rx_number = code.rsplit("-", 2)[0]
    with tenant_session(owner) as session:
        found = session.execute(text("SELECT id FROM prescriptions WHERE rx_number = :n"), {"n": rx_number})
        return str(found.scalar_one())
