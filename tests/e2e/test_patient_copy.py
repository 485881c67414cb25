"""Browser journey: the owner records a patient's request for their copy (asked 20 days ago: due in 10 days),
produces the copy from the record page (the PDF and the JSON download, holding the record, the counter bill
and the access log with this production), then records that it was posted. A manager sees no such section."""

from __future__ import annotations

import io
import json
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Download, Page, expect
from pypdf import PdfReader

from backend.billing.bills.service import create_draft, finalize_bill
from backend.inventory.service import create_medicine, receive_stock
from backend.patients.service import create_patient
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in, sign_out
from tests.e2e.test_prescriptions import member

pytestmark = pytest.mark.e2e


def downloads_of(page: Page, click, count: int) -> list[Download]:
    """The files one click downloads (the copy is two: the PDF and the JSON)."""
    caught: list[Download] = []

    def keep(download: Download) -> None:
        caught.append(download)

    page.on("download", keep)
    click()
    for _ in range(150):
        if len(caught) >= count:
            break
        page.wait_for_timeout(100)
    page.remove_listener("download", keep)
    assert len(caught) == count, f"expected {count} downloads, got {len(caught)}"
    return caught


def test_owner_produces_a_patients_copy_and_records_its_delivery(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("copy-journey")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    surname = f"Copy{uuid.uuid4().hex[:6]}"
    patient = run_in_tenant(
        owner, create_patient, full_name=f"Rosa {surname}", date_of_birth="1958-09-30", home_branch_id=branch,
        phone="+1 555 0177", allergies="sulfa (hives)",
    )  # fmt: skip
    medicine = run_in_tenant(
        owner, create_medicine, generic_name="Loratadine", strength="10 mg", default_sell_price="4.00"
    )
    run_in_tenant(
        owner, receive_stock, branch_id=branch, medicine_id=medicine, lot_number="LOR-1",
        expiry_date=(date.today() + timedelta(days=400)).isoformat(), quantity=10,
    )  # fmt: skip
    draft = run_in_tenant(
        owner, create_draft, branch_id=branch, lines=[{"medicine_id": medicine, "quantity": 1}], patient_id=patient.id
    )
    bill = run_in_tenant(owner, finalize_bill, draft.id)

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/patients/record?id={patient.id}")
    expect(page.locator("#patient-name")).to_have_text(f"Rosa {surname}", timeout=15000)
    expect(page.locator("#copy-card")).to_be_visible(timeout=15000)

    asked = date.today() - timedelta(days=20)
    page.locator("#copy-requested-on").fill(asked.isoformat())
    page.locator("#copy-request-note").fill("asked at the counter")
    page.locator("#copy-record-request").click()
    rows = page.locator(".copy-request-row")
    expect(rows).to_have_count(1, timeout=15000)
    expect(rows.first.locator(".copy-due")).to_have_text((asked + timedelta(days=30)).isoformat())
    expect(rows.first.locator(".copy-status")).to_have_text("Requested")

    files = downloads_of(page, lambda: page.locator("#copy-produce").click(), 2)
    by_kind = {d.suggested_filename.rsplit(".", 1)[1]: d for d in files}
    assert set(by_kind) == {"pdf", "json"} and surname not in "".join(by_kind[k].suggested_filename for k in by_kind)
    with open(by_kind["json"].path(), encoding="utf-8") as body:
        data = json.load(body)
    assert data["patient"]["full_name"] == f"Rosa {surname}" and data["patient"]["phone"] == "+15550177"
    assert data["request"]["due_on"] == (asked + timedelta(days=30)).isoformat()
    assert [b["number"] for b in data["bills"]] == [bill.number]
    assert data["bills"][0]["lines"][0]["description"].startswith("Loratadine")
    assert data["access_log"][-1]["reason"] == "patient's own copy" and data["access_log"][-1]["who"] == spec.owner_name
    with open(by_kind["pdf"].path(), "rb") as body:
        words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(body.read())).pages)
    for expected in (f"Rosa {surname}", "1958-09-30", "sulfa (hives)", str(bill.number), "patient's own copy"):
        assert expected in words, expected
    expect(rows.first.locator(".copy-status")).to_have_text("Produced", timeout=15000)

    rows.first.locator(".copy-delivery-method").select_option("posted")
    rows.first.locator("input[name='note']").fill("first class")
    rows.first.locator(".copy-delivery-submit").click()
    expect(rows.first.locator(".copy-status")).to_have_text("Delivered", timeout=15000)
    expect(rows.first.locator(".copy-delivery")).to_contain_text("Posted")
    expect(rows.first.locator(".copy-delivery")).to_contain_text(spec.owner_name)
    expect(rows.first.locator(".copy-delivery")).to_contain_text("first class")
    # The production is in the record's access log on the page too.
    page.reload()
    expect(page.locator("#patient-access-log")).to_contain_text("viewed (patient's own copy)", timeout=15000)

    sign_out(page)
    email, password = member(owner, "manager", "Mona Manager")
    sign_in(page, app_url, email, password)
    page.goto(f"{app_url}/patients/record?id={patient.id}")
    expect(page.locator("#patient-name")).to_have_text(f"Rosa {surname}", timeout=15000)
    expect(page.locator("#copy-card")).to_have_count(0)
