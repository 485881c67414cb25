"""Browser journey (issue 18 §3): an e-mail the mail server could not take is in the owner's "Messages sent"
log as failed, with the provider's reason and the recipient masked; "Send again" queues it and the worker
delivers it once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from backend.core.settings import reset_settings_cache
from backend.notifications.delivery import deliver_message, queue_patient_message
from backend.notifications.disclosure import MessageKind, render
from backend.notifications.notify import Channel
from devtools.services import free_port
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

ADDRESS = "pat.resend@example.com"


def test_a_failed_message_shows_its_reason_and_is_sent_again(page: Page, app_url: str, committed_tenant, mail_sink,
                                                            monkeypatch):  # fmt: skip
    chain, spec = committed_tenant("notify-log")
    message = render(
        MessageKind.READY_FOR_PICKUP, {"branch": "Main Street", "chain": "Corner"}, chain_allows=False,
        patient_consented=False,
    )  # fmt: skip
    system = TenantContext.system(chain.tenant_id)
    queued = run_in_tenant(
        system, queue_patient_message, patient_id=None, message=message, channel=Channel.EMAIL, address=ADDRESS,
        consented=True, dedupe_key="e2e-resend",
    )  # fmt: skip
    # The mail server is away for this one try (a port nobody listens on): the last try marks it failed.
    monkeypatch.setenv("MAIL_URL", f"mailto://127.0.0.1:{free_port()}?from=no-reply@pharmacy.test&mode=insecure")
    monkeypatch.setenv("NOTIFY_TIMEOUT_SECONDS", "2")
    reset_settings_cache()
    assert deliver_message(str(chain.tenant_id), str(queued.id)) == "failed"
    monkeypatch.undo()
    reset_settings_cache()

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/notifications")
    row = page.locator(f"#notification-{queued.id}")
    expect(row.locator(".notification-status")).to_have_text("failed", timeout=15000)
    expect(row.locator(".notification-reason")).to_contain_text("Connection error")
    expect(row.locator(".notification-recipient")).to_have_text("p***@example.com")
    expect(page.locator("#notifications-log")).not_to_contain_text("Main Street")  # never the message's text
    page.select_option("#notifications-status", "sent")
    page.locator("#notifications-filter").click()
    expect(row).to_have_count(0)
    page.select_option("#notifications-status", "failed")
    page.locator("#notifications-filter").click()
    row.locator(".notification-resend").click()
    expect(row).to_have_count(0)  # queued again: no longer among the failed ones
    mails = wait_until(lambda: mail_sink.to(ADDRESS), message="the resent e-mail")
    assert "ready for pickup at Main Street" in mail_sink.text(mails[-1])
    page.select_option("#notifications-status", "")
    page.locator("#notifications-filter").click()
    expect(row.locator(".notification-status")).to_have_text("sent", timeout=15000)
    expect(row.locator(".notification-resend")).to_have_count(0)
    assert len(mail_sink.to(ADDRESS)) == 1
