"""Browser journeys (issue 18 §2): the owner edits the SMS wording of "ready for pickup" under Settings >
Message templates (live character count, preview from demo values, a refused value shows the error and saves
nothing, then a good one is saved); and a patient opens the stop link of a real e-mail on a phone, the page
alone changes nothing, the button stops e-mails, and the next e-mail is suppressed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from backend.notifications.delivery import MessageStatus, queue_patient_message
from backend.notifications.disclosure import MessageKind, render
from backend.notifications.notify import Channel
from backend.patients.service import create_patient
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
EMAIL = "sam.stop@example.com"
DEFAULT_SMS = "{{ chain }}: your prescription is ready for pickup at {{ branch }}."


def saved(chain) -> int:
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        return session.execute(text("SELECT count(*) FROM message_templates")).scalar_one()


def test_owner_edits_previews_and_saves_an_sms_template(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("tpl-e2e")
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/settings")
    page.locator("#manage-message-templates").click()
    expect(page.locator("#message-templates-title")).to_be_visible(timeout=15000)
    page.locator("#edit-ready_for_pickup-minimum").click()
    sms = page.locator("#template-sms")
    expect(sms).to_have_value(DEFAULT_SMS, timeout=15000)

    # The live count: the text as typed plus the stop link every text carries.
    count = page.locator("#template-sms-count")
    expect(count).to_contain_text("characters with the stop link")
    link_chars = int(count.inner_text().split()[0]) - len(DEFAULT_SMS)
    assert 30 < link_chars < 80
    # A detail in the message for every patient: refused at save, nothing saved.
    detail = "{{ chain }}: your {{ medicine }} is ready at {{ branch }}."
    sms.fill(detail)
    expect(count).to_contain_text(f"{len(detail) + link_chars} characters", timeout=5000)
    page.locator("#template-save").click()
    expect(page.locator("#template-error")).to_contain_text("may not include medicine", timeout=15000)
    assert saved(chain) == 0

    # A long text: the count turns into a warning.
    sms.fill("{{ chain }}: " + "very " * 30 + "ready at {{ branch }}.")
    expect(page.locator("#template-sms-warning")).to_be_visible(timeout=5000)

    wording = "{{ chain }}: come by {{ branch }}, your order is ready."
    sms.fill(wording)
    expect(page.locator("#template-sms-warning")).to_have_count(0, timeout=5000)
    page.locator("#template-preview").click()
    expect(page.locator("#preview-sms")).to_contain_text("Corner Pharmacy: come by Main Street, your order is ready.",
                                                         timeout=15000)  # fmt: skip
    expect(page.locator("#template-error")).to_have_count(0)
    page.locator("#template-save").click()
    expect(page.get_by_text("Template saved")).to_be_visible(timeout=15000)
    assert saved(chain) == 1
    page.reload()
    row = page.locator("#template-ready_for_pickup-minimum")
    expect(row).to_contain_text("come by {{ branch }}", timeout=15000)
    expect(row).to_contain_text("own wording")

    # Quiet hours, on the same page: a bad time is refused, a good window is saved.
    page.locator("#quiet-enabled").check()
    page.locator("#quiet-start").fill("21:30")
    page.locator("#quiet-end").fill("21:30")
    page.locator("#quiet-save").click()
    expect(page.locator("#quiet-error")).to_contain_text("start and an end that differ", timeout=15000)
    page.locator("#quiet-end").fill("07:00")
    page.locator("#quiet-save").click()
    expect(page.get_by_text("Quiet hours 21:30–07:00")).to_be_visible(timeout=15000)
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        window = session.execute(text("SELECT quiet_start, quiet_end FROM notification_settings")).one()
    assert (f"{window.quiet_start:%H:%M}", f"{window.quiet_end:%H:%M}") == ("21:30", "07:00")


def send(chain, patient_id: str, key: str):
    message = render(MessageKind.READY_FOR_PICKUP, {"branch": "Main Street", "chain": "Corner Pharmacy"},
                     chain_allows=False, patient_consented=False)  # fmt: skip
    return run_in_tenant(
        TenantContext.system(chain.tenant_id), queue_patient_message, patient_id=patient_id, message=message,
        channel=Channel.EMAIL, address=EMAIL, consented=True, dedupe_key=key,
    )  # fmt: skip


def test_the_stop_link_on_a_phone(page: Page, app_url: str, committed_tenant, mail_sink):
    chain, spec = committed_tenant("stop-e2e")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    patient = run_in_tenant(owner, create_patient, full_name="Sam Stop", date_of_birth="1966-06-06",
                            home_branch_id=str(chain.branch_ids[0]), email=EMAIL, contact_consent=True)  # fmt: skip
    send(chain, patient.id, "first")  # delivered by the app's worker to the SMTP sink
    # generous: a scheduled-jobs tick at a 5-minute boundary can keep the one worker busy for a while
    wait_until(lambda: mail_sink.to(EMAIL), timeout=90, message="the e-mail with its stop link")
    body = mail_sink.text(mail_sink.to(EMAIL)[-1])
    path = re.search(r"/portal/[a-z0-9-]+/stop/[A-Za-z0-9_-]+", body).group(0)

    page.set_viewport_size(PHONE)
    page.goto(app_url + path)
    expect(page.locator("#stop-question")).to_contain_text("Stop messages from", timeout=15000)
    expect(page.locator("#stop-question")).to_contain_text("by e-mail?")
    confirm = page.locator("#stop-confirm")
    expect(confirm).to_be_visible()
    box = confirm.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # fits the phone
    assert send(chain, patient.id, "after-get").status is MessageStatus.QUEUED  # opening the page stopped nothing

    confirm.click()
    expect(page.locator("#stop-done")).to_contain_text("will not send you more messages by e-mail", timeout=15000)
    after = send(chain, patient.id, "after-stop")
    assert after.status is MessageStatus.SUPPRESSED and after.reason == "The patient opted out of e-mail messages"

    # A made-up code: the same page, the same answer, nothing changes.
    page.goto(app_url + path[: path.rindex("/") + 1] + "eNotARealCode1")
    expect(page.locator("#stop-question")).to_contain_text("by e-mail?", timeout=15000)
    page.locator("#stop-confirm").click()
    expect(page.locator("#stop-done")).to_be_visible(timeout=15000)

    # Staff see it on the patient's record.
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/patients/record?id={patient.id}")
    expect(page.locator(".message-optout")).to_contain_text("Opted out of e-mail messages on", timeout=15000)
