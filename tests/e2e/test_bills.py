"""Browser journey: a manager finds a bill on the bills list by its number and by its local day, opens it,
and reaches the list from the Reports page (a day's bills) and from a patient record (their purchases)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from backend.accounts.staff import accept_invitation, invite
from backend.billing.bills.service import create_draft, finalize_bill
from backend.billing.payments.service import record_payment
from backend.inventory.service import create_medicine, receive_stock
from backend.patients.service import create_patient
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.backend.billing.reporting import clock_at
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e


def test_a_manager_finds_a_bill_by_number_and_by_day_and_from_reports_and_a_patient(
    page: Page, app_url: str, committed_tenant
):
    chain, _ = committed_tenant("bills-list", time_zone="America/New_York")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    medicine = run_in_tenant(
        owner, create_medicine, generic_name="Loratadine", strength="10 mg", default_sell_price="2.50"
    )
    run_in_tenant(
        owner,
        receive_stock,
        branch_id=branch,
        medicine_id=medicine,
        lot_number="LOR-1",
        expiry_date="2030-01-01",
        quantity=50,
    )
    maria = run_in_tenant(
        owner,
        create_patient,
        full_name=f"Maria {uuid.uuid4().hex[:6]}",
        date_of_birth="1961-04-12",
        home_branch_id=branch,
    )

    def sell(quantity: int, when: str, patient: str | None = None):
        draft = run_in_tenant(
            owner,
            create_draft,
            branch_id=branch,
            lines=[{"medicine_id": medicine, "quantity": quantity}],
            patient_id=patient,
        )
        with clock_at(datetime.fromisoformat(when).replace(tzinfo=UTC)):
            bill = run_in_tenant(owner, finalize_bill, draft.id)
        run_in_tenant(owner, record_payment, bill_id=bill.id, tendered=str(bill.total_due))
        return bill

    tenth = sell(2, "2026-03-10 15:00:00", patient=maria.id)  # 11:00 EDT on 10 March: B1-2026-000001
    eleventh = sell(4, "2026-03-11 14:00:00")  # B1-2026-000002
    sell(1, "2026-03-10 03:30:00")  # 23:30 EDT on 9 March: not the 10th's, although it is in UTC
    assert (tenth.number, eleventh.number) == ("B1-2026-000001", "B1-2026-000002")

    email, password = f"manager-{uuid.uuid4().hex[:6]}@example.com", "Ledger-And-Till-2026"
    accept_invitation(
        invite(owner, email, "manager").link.split("token=")[1], full_name="Mina Manager", password=password
    )
    sign_in(page, app_url, email, password)

    # From the sidebar to the list: every bill of the branch, newest first.
    page.get_by_role("link", name="Bills", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/bills/?$"), timeout=15000)
    expect(page.locator("#bills-count")).to_have_text("3 bills match.", timeout=15000)
    rows = page.locator(".bill-row")
    expect(rows).to_have_count(3)
    expect(rows.first.locator(".bill-link")).to_have_text("B1-2026-000002")

    # By number: typed as people type it.
    page.locator("#bills-number").fill("b1-2026-000002")
    page.locator("#bills-search").click()
    expect(page.locator("#bills-count")).to_have_text("1 bill matches.", timeout=15000)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("$10.00")  # 4 x 2.50, no tax: the currency's precision and symbol
    expect(rows.first).to_contain_text("Paid")
    rows.first.locator(".bill-link").click()
    expect(page).to_have_url(re.compile(rf"/bills/view\?id={eleventh.id}"), timeout=15000)
    expect(page.locator("#bill-number")).to_have_text("B1-2026-000002", timeout=15000)

    # By the branch's local day: 10 March in New York, not in UTC.
    page.locator("#bill-back").click()
    expect(page.locator("#bills-count")).to_have_text("3 bills match.", timeout=15000)
    page.locator("#bills-start").fill("2026-03-10")
    page.locator("#bills-end").fill("2026-03-10")
    page.locator("#bills-search").click()
    expect(page.locator("#bills-count")).to_have_text("1 bill matches.", timeout=15000)
    expect(rows.first.locator(".bill-link")).to_have_text("B1-2026-000001")
    expect(rows.first.locator(".bill-when")).to_have_text("2026-03-10 11:00 EDT")
    expect(rows.first).to_contain_text(maria.full_name)
    rows.first.locator(".bill-link").click()
    expect(page.locator("#bill-number")).to_have_text("B1-2026-000001", timeout=15000)

    # A bad filter says what is wrong and changes nothing else.
    page.goto(f"{app_url}/bills")
    expect(page.locator("#bills-count")).to_have_text("3 bills match.", timeout=15000)
    page.locator("#bills-min").fill("ten")
    page.locator("#bills-search").click()
    expect(page.locator("#bills-error")).to_contain_text("Enter an amount such as 4.50.", timeout=15000)
    expect(rows).to_have_count(0)

    # The Reports page opens the list on the report's branch and day.
    page.goto(f"{app_url}/reports")
    expect(page.locator("#reports-title")).to_be_visible(timeout=15000)
    page.locator("#report-day").fill("2026-03-10")
    expect(page.locator(".report-figure").first).to_have_text("$5.00", timeout=15000)  # the day's gross sales
    page.locator("#report-bills").click()
    expect(page).to_have_url(re.compile(r"/bills\?.*start=2026-03-10.*end=2026-03-10"), timeout=15000)
    expect(page.locator("#bills-count")).to_have_text("1 bill matches.", timeout=15000)
    expect(rows.first.locator(".bill-link")).to_have_text("B1-2026-000001")
    expect(page.locator("#bills-start")).to_have_value("2026-03-10")

    # The patient record opens the patient's purchases.
    page.goto(f"{app_url}/patients/record?id={maria.id}")
    expect(page.locator("#patient-name")).to_have_text(maria.full_name, timeout=15000)
    page.locator("#patient-bills").click()
    expect(page).to_have_url(re.compile(rf"/bills\?patient={maria.id}"), timeout=15000)
    expect(page.locator("#bills-patient-name")).to_have_text(maria.full_name, timeout=15000)
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".bill-link")).to_have_text("B1-2026-000001")
