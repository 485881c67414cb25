"""Browser journeys across the portal and the staff screens (issue 17), on a phone for the customer:
a verified customer who picked up their refill rates the visit, and the owner reads it on the feedback page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from backend.core import database
from tests.backend.prescriptions.test_pickup import picked_up
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_portal_customer import _label, _verify

pytestmark = pytest.mark.e2e


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
