"""Browser journeys (issue 17 §3, §4) on a phone: a customer asks for a code with what is on their label,
reads it in their e-mail, sees their prescriptions, asks for a refill in one tap and signs out; a verified
customer photographs a new prescription and it lands in the branch's intake queue."""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from backend.core import database
from backend.patients.service import create_patient
from backend.prescriptions import fills
from tenants.session import run_in_tenant
from tests.backend.prescriptions.conftest import stock
from tests.backend.prescriptions.test_fills import receive
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
BORN = date(1968, 11, 23)
SAMPLE = Path("/work/shared/prescriptions/rx_003.jpg")


def _label(committed_tenant):
    """A chain with one of its customers' prescriptions filled and waiting for pickup: what is on the label."""
    chain, spec = committed_tenant("custportal", branches=2)
    pharmacy = stock(chain)
    email = f"label-{uuid.uuid4().hex[:8]}@example.com"
    patient = run_in_tenant(
        pharmacy.owner, create_patient, full_name="Robin Labelle", date_of_birth=BORN.isoformat(),
        home_branch_id=pharmacy.branch, email=email,
    ).id  # fmt: skip
    receive(pharmacy, "lisinopril", "L1", 100)
    rx = pharmacy.on_profile(patient, "lisinopril", days_supply="30", refills_authorized="3")
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    with database.owner_engine().begin() as connection:
        connection.execute(
            text(
                "UPDATE prescription_fills SET status = 'checked', checked_at = now(), scanned_barcode = '00000000', "
                "filled_at = now() - interval '30 days' WHERE id = :f"
            ),
            {"f": done.id},
        )
        connection.execute(text("UPDATE prescriptions SET status = 'ready_for_pickup' WHERE id = :p"), {"p": rx.id})
    return spec, pharmacy, patient, rx, email


def _verify(page: Page, app_url: str, spec, rx, email: str, mail_sink) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{app_url}/portal/{spec.slug}/prescriptions")
    expect(page.locator("#portal-send-code")).to_be_visible(timeout=15000)
    page.locator("#portal-rx_number").fill(rx.rx_number)
    page.locator("#portal-date_of_birth").fill(BORN.isoformat())
    page.locator("#portal-last_name").fill("Labelle")
    page.locator("#portal-send-code").click()
    expect(page.locator("#portal-notice")).to_contain_text(
        "If the details match, a code was sent to the contact on file", timeout=15000
    )
    message = wait_until(lambda: (mail_sink.to(email) or [None])[-1], timeout=30, message="the code's e-mail")
    code = re.search(r"\b(\d{6})\b", mail_sink.text(message)).group(1)  # type: ignore[union-attr]
    page.locator("#portal-code").fill(code)
    page.locator("#portal-enter-code").click()
    expect(page).to_have_url(re.compile(rf"/portal/{spec.slug}/prescriptions$"), timeout=15000)


def test_a_customer_verifies_by_code_sees_their_prescription_and_asks_for_a_refill(
    page: Page, app_url: str, committed_tenant, mail_sink
):
    spec, _, _, rx, email = _label(committed_tenant)
    _verify(page, app_url, spec, rx, email, mail_sink)
    card = page.locator(".portal-prescription", has_text=rx.rx_number)
    expect(card).to_contain_text("Lisinopril", timeout=15000)
    expect(card).to_contain_text("Refills left: 3")
    expect(card.locator(".portal-ready")).to_contain_text("Ready for pickup at Branch 1")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    card.locator(".portal-refill-button").click()
    expect(card.locator(".portal-request")).to_contain_text("Waiting for the pharmacy", timeout=15000)
    expect(card.locator(".portal-refill-button")).to_have_count(0)
    with database.owner_engine().begin() as connection:
        source = connection.execute(
            text("SELECT source FROM portal_refill_requests WHERE prescription_id = :p"), {"p": rx.id}
        ).scalar()
    assert source == "customer"

    page.goto(f"{app_url}/dashboard")  # a customer session opens no staff page
    expect(page).to_have_url(re.compile(r"/signin"), timeout=15000)
    page.goto(f"{app_url}/portal/{spec.slug}/prescriptions")
    expect(page.locator("#portal-sign-out")).to_be_visible(timeout=15000)
    page.locator("#portal-sign-out").click()
    expect(page).to_have_url(re.compile(rf"/portal/{spec.slug}$"), timeout=15000)
    assert not [c for c in page.context.cookies() if c["name"] == "pharmacy_customer"]
    page.goto(f"{app_url}/portal/{spec.slug}/prescriptions")
    expect(page.locator("#portal-send-code")).to_be_visible(timeout=15000)
    with database.owner_engine().begin() as connection:
        open_sessions = connection.execute(
            text("SELECT count(*) FROM customer_sessions WHERE patient_id = :p AND ended_at IS NULL"),
            {"p": rx.patient_id},
        ).scalar()
    assert open_sessions == 0


def test_a_verified_customer_sends_a_photo_to_the_intake_queue(page: Page, app_url: str, committed_tenant, mail_sink):
    spec, pharmacy, patient, rx, email = _label(committed_tenant)
    page.set_viewport_size(PHONE)
    page.goto(f"{app_url}/portal/{spec.slug}/upload")
    expect(page.locator("#portal-verify-first")).to_be_visible(timeout=15000)  # not before verification
    _verify(page, app_url, spec, rx, email, mail_sink)
    page.locator("#portal-to-upload").click()
    expect(page.locator("#portal-send-photo")).to_be_visible(timeout=15000)
    file_input = page.locator("#portal-photo input[type=file]")
    assert file_input.get_attribute("accept") and "image/" in (file_input.get_attribute("accept") or "")
    file_input.set_input_files(str(SAMPLE))
    page.locator("#portal-send-photo").click()
    expect(page.locator("#portal-received")).to_contain_text("Received", timeout=20000)
    with database.owner_engine().begin() as connection:
        row = connection.execute(
            text(
                "SELECT status, source, branch_id FROM prescriptions WHERE patient_id = :p AND source = 'portal' "
                "ORDER BY created_at DESC LIMIT 1"
            ),
            {"p": patient},
        ).one()
    assert (row.status, row.source, str(row.branch_id)) == ("intake", "portal", pharmacy.branch)
