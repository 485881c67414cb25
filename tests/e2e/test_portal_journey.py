"""Browser journeys across the portal and the staff screens (issue 17), on a phone for the customer and a
tablet at the counter: a refill asked for with the label's details is accepted, filled, checked and shown
ready; a verified customer who picked up their refill rates the visit, and the owner reads it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import text

from backend.core import database
from backend.prescriptions import fills
from tests.backend.prescriptions.test_pickup import picked_up
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_portal_customer import BORN, PHONE, _label, _verify

pytestmark = pytest.mark.e2e

TABLET = {"width": 768, "height": 1024}


def test_a_customer_rates_the_visit_they_picked_up_and_the_owner_reads_it(
    page: Page, app_url: str, committed_tenant, mail_sink
):
    spec, pharmacy, _patient, rx, email = _label(committed_tenant)
    with database.owner_engine().begin() as connection:
        fill_id = connection.execute(
            text("SELECT id FROM prescription_fills WHERE prescription_id = :p"), {"p": rx.id}
        ).scalar_one()
    picked_up(pharmacy, str(fill_id))  # scanned onto a bill at the counter and handed over
    _verify(page, app_url, spec, rx, email, mail_sink)
    card = page.locator(".portal-prescription", has_text=rx.rx_number)
    card.locator(".portal-rate-visit").click()
    expect(page).to_have_url(re.compile(rf"/portal/{spec.slug}/feedback\?fill="), timeout=15000)
    expect(page.locator("#feedback-heading")).to_be_visible(timeout=15000)
    page.locator("#feedback-star-1").click()
    page.locator("#feedback-comment").fill("Waited forty minutes and the staff were rude. Terrible service.")
    page.locator("#feedback-send").click()
    expect(page.locator("#feedback-sent")).to_be_visible(timeout=15000)
    with database.owner_engine().begin() as connection:
        rows = connection.execute(
            text("SELECT rating, sentiment_label FROM customer_feedback WHERE patient_id = :p"), {"p": rx.patient_id}
        ).all()
    assert [(r.rating, r.sentiment_label) for r in rows] == [(1, "negative")]  # once, scored

    page.context.clear_cookies()
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/feedback")
    expect(page.get_by_text("Waited forty minutes and the staff were rude.")).to_be_visible(timeout=15000)


def test_a_refill_asked_for_on_a_phone_is_accepted_filled_and_shown_ready(
    page: Page, browser: Browser, app_url: str, committed_tenant, mail_sink
):
    """The customer has only their phone and the label: they ask for a refill, the pharmacy accepts it on the
    tablet at the counter (the fill is made), the pharmacist checks it, and the customer sees it ready."""
    spec, pharmacy, _patient, rx, email = _label(committed_tenant)
    with database.owner_engine().begin() as connection:
        first_fill = connection.execute(
            text("SELECT id FROM prescription_fills WHERE prescription_id = :p"), {"p": rx.id}
        ).scalar_one()
        connection.execute(
            text("UPDATE medicines SET barcode = '00093711101' WHERE id = :m"),
            {"m": pharmacy.medicines["lisinopril"]},
        )
    picked_up(pharmacy, str(first_fill))  # collected a month ago; a refill is due

    page.set_viewport_size(PHONE)
    page.goto(f"{app_url}/portal/{spec.slug}")
    page.locator("#portal-refill").click()
    expect(page.locator("#pr-submit")).to_be_enabled(timeout=15000)
    page.locator("#pr-rx-number").fill(rx.rx_number)
    page.locator("#pr-date-of-birth").fill(BORN.isoformat())
    page.locator("#pr-last-name").fill("Labelle")
    page.locator("#pr-last-name").press("Enter")
    expect(page.locator("#pr-confirmation")).to_contain_text("If these details match", timeout=15000)

    counter = browser.new_context(viewport=TABLET)
    staff = counter.new_page()
    sign_in(staff, app_url, spec.owner_email, TEST_PASSWORD)
    staff.goto(f"{app_url}/prescriptions/requests")
    asked = staff.locator("#portal-open .portal-request", has_text=rx.rx_number)
    expect(asked).to_contain_text("Portal form", timeout=15000)
    asked.locator(".portal-accept").click()
    expect(staff.locator("#portal-decided .portal-decided", has_text=rx.rx_number)).to_be_visible(timeout=15000)
    counter.close()
    with database.owner_engine().begin() as connection:
        refill = connection.execute(
            text("SELECT id FROM prescription_fills WHERE prescription_id = :p AND status = 'awaiting_check'"),
            {"p": rx.id},
        ).scalar_one()
    pharmacy.run(pharmacy.pharmacist, fills.final_check, str(refill), "00093711101")

    _verify(page, app_url, spec, rx, email, mail_sink)
    card = page.locator(".portal-prescription", has_text=rx.rx_number)
    expect(card.locator(".portal-ready")).to_contain_text("Ready for pickup at Branch 1", timeout=15000)
    expect(card).to_contain_text("Refills left: 2")
