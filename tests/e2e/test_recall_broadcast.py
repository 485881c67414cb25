"""Browser journey (issue 18 §6): a pharmacist traces a lot by typing its number (Enter), clicks "Notify everyone
who received this lot", confirms, watches the progress reach done, and reads the report: one patient reached
by e-mail, one with no contact to phone. Coming back to the lot shows the same broadcast, with no button to send
it again."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.backend.prescriptions.conftest import stock
from tests.backend.prescriptions.test_fills import receive
from tests.backend.prescriptions.test_recall_broadcast import fill_for, patient
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_prescriptions import member
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e


def test_a_pharmacist_notifies_everyone_who_received_a_lot(page: Page, mail_sink, app_url: str, committed_tenant):
    chain, _ = committed_tenant("rx-recall-cast", branches=2)
    p = stock(chain)
    lot = f"RB-{uuid.uuid4().hex[:4].upper()}"
    receive(p, "lisinopril", lot, 60)
    address = f"emma.{uuid.uuid4().hex[:6]}@example.com"
    emma = patient(p, "Emma Mailable", email=address, contact_consent=True)
    nick = patient(p, "Nick Nocontact")
    for someone in (emma, nick):
        fill_for(p, someone)
    email, password = member(p.owner, "pharmacist", "Rita Recall")

    sign_in(page, app_url, email, password)
    page.goto(f"{app_url}/inventory/recall")
    page.locator("#recall-lot").fill(lot)
    page.locator("#recall-lot").press("Enter")  # Enter on the lot field traces
    expect(page.locator("#recall-heading")).to_contain_text(f"Lot {lot} of Lisinopril 10 mg", timeout=15000)
    expect(page.locator("#recall-patients")).to_have_text("2")

    page.locator("#recall-notify").click()
    expect(page.locator("#broadcast-confirm-box")).to_contain_text("2")
    page.locator("#broadcast-confirm").click()

    expect(page.locator("#broadcast-done")).to_be_visible(timeout=60000)
    expect(page.locator("#broadcast-sent")).to_have_text("1")
    expect(page.locator("#broadcast-suppressed")).to_have_text("1")
    expect(page.locator("#broadcast-queued")).to_have_text("0")
    expect(page.locator("#report-reached")).to_have_text("1")
    expect(page.locator("#report-no-contact")).to_have_text("1")
    rows = page.locator(".broadcast-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Nick Nocontact")  # the one to phone comes first
    expect(rows.nth(0)).to_contain_text("no contact")
    expect(rows.nth(1)).to_contain_text("Emma Mailable")
    expect(rows.nth(1)).to_contain_text("sent")
    expect(page.locator("#broadcast-report")).not_to_contain_text(address)  # masked
    [mail] = wait_until(lambda: mail_sink.to(address), message="the recall e-mail")
    assert "being recalled" in mail_sink.text(mail)

    # Back on the lot later: the broadcast is shown, and there is nothing to click twice.
    page.goto(f"{app_url}/inventory/recall?lot={lot}&medicine={p.medicines['lisinopril']}")
    expect(page.locator("#broadcast-done")).to_be_visible(timeout=15000)
    expect(page.locator("#recall-notify")).to_have_count(0)
    assert len(mail_sink.to(address)) == 1
