"""Browser journeys (issue 17 §2) on a phone: a customer opens their pharmacy's portal, taps "Request a refill",
types the details off their label, sends with Enter and sees the one confirmation; the request is in the
staff queue's table. A malformed field gets its message and nothing is sent. The event channel refuses
another site's origin. The owner's dashboard shows the soft alert of a busy hour."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from backend.portal import abuse
from backend.portal.abuse import CHAIN_ALERT_ACTION
from backend.portal.refill_form import KIND
from tenants.audit import record_audit
from tenants.session import run_in_tenant
from tests.backend.prescriptions.conftest import stock
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def _queue(pharmacy) -> list:
    return run_in_tenant(
        pharmacy.owner,
        lambda session, ctx: session.execute(
            text("SELECT prescription_id, source, status, branch_id FROM portal_refill_requests")
        ).all(),
    )


def test_a_customer_requests_a_refill_on_a_phone(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("prefill", branches=2)
    pharmacy = stock(chain)
    rx = pharmacy.entered(pharmacy.patient("Rhea Labelread", born="1965-07-14"), "lisinopril")
    page.set_viewport_size(PHONE)
    page.goto(f"{app_url}/portal/{spec.slug}")
    page.locator("#portal-refill").click()
    expect(page.locator("#pr-title")).to_be_visible(timeout=15000)
    expect(page.locator("#pr-branch-id option")).to_have_count(3)  # "the pharmacy that filled it" + 2 branches

    # A malformed field: its own message, nothing sent.
    page.locator("#pr-rx-number").fill("B1 / 12")
    page.locator("#pr-date-of-birth").fill("1965-07-14")
    page.locator("#pr-last-name").fill("Labelread")
    page.locator("#pr-last-name").press("Enter")
    expect(page.locator("#pr-rx-number-error")).to_contain_text("letters, digits and hyphens", timeout=15000)
    expect(page.locator("#pr-confirmation")).to_have_count(0)

    # The label's details, by keyboard: Tab through the fields, Enter sends.
    page.locator("#pr-rx-number").fill(rx.rx_number.lower())
    page.locator("#pr-rx-number").press("Tab")
    expect(page.locator("#pr-date-of-birth")).to_be_focused()
    page.locator("#pr-branch-id").select_option(label="Branch 2")
    page.locator("#pr-note").fill("Pick up Friday please")
    page.locator("#pr-last-name").press("Enter")
    expect(page.locator("#pr-confirmation")).to_have_text(
        f"If these details match a prescription at {spec.name}, "
        "the pharmacy will contact you at the phone or e-mail on file.",
        timeout=15000,
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    rows = _queue(pharmacy)
    assert [(str(r.prescription_id), r.source, str(r.branch_id)) for r in rows] == [
        (rx.id, "portal_form", str(chain.branch_ids[1]))
    ]

    # Details that match nothing: the same words, nothing more in the queue.
    page.locator("#pr-another").click()
    page.locator("#pr-rx-number").fill("B1-999999")
    page.locator("#pr-date-of-birth").fill("1965-07-14")
    page.locator("#pr-last-name").fill("Labelread")
    page.locator("#pr-last-name").press("Enter")
    expect(page.locator("#pr-confirmation")).to_contain_text("If these details match", timeout=15000)
    assert len(_queue(pharmacy)) == 1


def test_the_event_channel_refuses_another_sites_origin(app_url: str):
    socket = app_url.replace("http://", "ws://") + "/_event/?EIO=4&transport=websocket"
    with pytest.raises(InvalidStatus) as refused:
        with connect(socket, origin="https://evil.example", open_timeout=10):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code in (400, 403)
    with connect(socket, origin=app_url, open_timeout=10) as own:  # type: ignore[arg-type]
        assert str(own.recv(timeout=10)).startswith("0")  # engine.io's "open": the app's own origin is served


def test_the_owner_sees_the_soft_alert_of_a_busy_hour(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("pbusy", branches=2)
    pharmacy = stock(chain)
    run_in_tenant(
        pharmacy.owner,
        lambda session, ctx: record_audit(session, ctx.tenant_id, CHAIN_ALERT_ACTION, details={"kind": "refill"}),
    )
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    expect(page.locator("#portal-volume-alert")).to_contain_text("unusually many requests", timeout=15000)


def test_a_naive_bot_filling_every_field_is_answered_but_not_recorded(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("pbot", branches=2)
    pharmacy = stock(chain)
    rx = pharmacy.entered(pharmacy.patient("Bo Tfiller", born="1970-01-02"), "lisinopril")
    label = {"rx_number": rx.rx_number, "date_of_birth": "1970-01-02", "last_name": "Tfiller"}
    page.set_viewport_size(PHONE)
    page.goto(f"{app_url}/portal/{spec.slug}/refill")
    expect(page.locator("#pr-submit")).to_be_enabled(timeout=15000)  # the page is live
    bots = 3
    for _ in range(bots):  # a form-filling bot: every named field gets a value, the label's where it knows it
        expect(page.locator("#pr-rx-number")).to_be_visible(timeout=15000)  # the (new) form is there
        for field in page.locator("#pr-form input, #pr-form textarea").all():
            field.fill(label.get(field.get_attribute("name") or "", "https://cheap-pills.example"), force=True)
        page.locator("#pr-submit").click()
        expect(page.locator("#pr-confirmation")).to_contain_text("If these details match", timeout=15000)
        page.locator("#pr-another").click()
    assert _queue(pharmacy) == []  # answered alike, nothing recorded
    for name, value in label.items():  # a person never sees the field
        page.locator(f"#pr-{name.replace('_', '-')}").fill(value)
    page.locator("#pr-submit").click()
    expect(page.locator("#pr-confirmation")).to_contain_text("If these details match", timeout=15000)
    assert len(_queue(pharmacy)) == 1


def test_a_limited_visitor_is_told_how_long_to_wait(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("plimit")
    for _ in range(10):  # someone has been guessing on this Rx number from elsewhere: the next try waits 32 s
        abuse.record(KIND, "192.0.2.1", "B1-424242", chain.tenant_id)
    page.set_viewport_size(PHONE)
    page.goto(f"{app_url}/portal/{spec.slug}/refill")
    expect(page.locator("#pr-submit")).to_be_enabled(timeout=15000)  # the page is live
    page.locator("#pr-rx-number").fill("b1-424242")
    page.locator("#pr-date-of-birth").fill("1970-01-02")
    page.locator("#pr-last-name").fill("Guess")
    page.locator("#pr-last-name").press("Enter")
    expect(page.locator("#pr-limited")).to_contain_text(re.compile(r"Try again in \d+ seconds"), timeout=15000)
    expect(page.locator("#pr-confirmation")).to_have_count(0)
