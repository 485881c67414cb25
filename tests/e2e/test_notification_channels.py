"""Browser journey (issue 18 §1): the owner opens Settings > Notifications, points e-mail at the chain's own
SMTP server (a local SMTP sink started here), is told what is wrong with a bad port, saves with the keyboard,
sends a test that the sink receives and sees "Sent"; the SMS provider's URL is never shown again; a
cashier cannot open the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect

from devtools.services import free_port
from tenants.context import TenantContext
from tests.conftest import TEST_PASSWORD, MailSink
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_prescriptions import member
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

SMS_TOKEN = "e2eSmsTokenNeverShown0123"


@pytest.fixture
def chain_smtp() -> Iterator[tuple[MailSink, int]]:
    sink, port = MailSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


def test_owner_sets_their_own_smtp_server_and_a_test_email_arrives(
    page: Page, app_url: str, committed_tenant, chain_smtp
):
    sink, port = chain_smtp
    chain, spec = committed_tenant("channels-e2e")
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/settings")
    page.locator("#manage-notifications").click()
    expect(page.locator("#channels-title")).to_be_visible(timeout=15000)
    expect(page.locator("#channels-loaded")).to_have_count(1, timeout=15000)  # the stored settings arrived

    page.locator("#email_mode").select_option("own")
    expect(page.locator("#smtp_host")).to_be_visible(timeout=10000)
    page.locator("#smtp_host").fill("127.0.0.1")
    page.locator("#smtp_port").fill("abc")
    page.locator("#smtp_security").select_option("none")
    page.locator("#smtp_from_address").fill("rx@corner.example")
    page.locator("#save-email").click()
    expect(page.locator("#email-error")).to_contain_text("port must be a whole number", timeout=10000)

    page.locator("#smtp_port").fill(str(port))
    page.locator("#smtp_from_name").fill("Corner Pharmacy")
    page.keyboard.press("Tab")  # from the last field to the form's Save button
    expect(page.locator("#save-email")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("E-mail settings saved.")).to_be_visible(timeout=10000)
    expect(page.locator("#email-error")).to_have_count(0)

    page.locator("#email_test_to").fill("owner.e2e@corner.example")
    page.locator("#email_test_to").press("Enter")
    expect(page.locator("#email-test-outcome")).to_have_text("Sent", timeout=20000)
    [mail] = wait_until(lambda: sink.to("owner.e2e@corner.example"), timeout=10, message="the test e-mail")
    assert "Corner Pharmacy" in str(mail["From"])

    # The SMS provider's URL carries its credentials: saved, then only a hint.
    page.locator("#sms_mode").select_option("own")
    page.locator("#sms_url").fill(f"smseagle://{SMS_TOKEN}@127.0.0.1:{free_port()}")
    page.locator("#save-sms").click()
    expect(page.get_by_text("Text message settings saved.")).to_be_visible(timeout=10000)

    page.reload()
    expect(page.locator("#smtp_host")).to_have_value("127.0.0.1", timeout=15000)
    expect(page.locator("#smtp_port")).to_have_value(str(port))
    expect(page.locator("#sms_url")).to_have_attribute("placeholder", "smseagle://… (set)")
    assert SMS_TOKEN not in page.content()


def test_a_cashier_cannot_open_the_notification_settings(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("channels-cashier")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    email, password = member(owner, "cashier", "Cass Counter")
    sign_in(page, app_url, email, password)
    page.goto(f"{app_url}/settings/notifications")
    expect(page.get_by_text("may not do this (notifications.channels)")).to_be_visible(timeout=15000)
    expect(page.locator("#smtp_host")).to_have_count(0)
    expect(page.locator("#save-email")).to_have_count(0)
