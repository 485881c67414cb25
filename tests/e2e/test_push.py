"""Installable app and web push in the browser (issue 18 §5).

The app is installable (its manifest is linked, valid and its icons load), its service worker registers for
the whole origin and caches the app shell but never the API: with the worker in control, /api/v1/health still
comes from the network every time. A portal customer on a phone taps "Notify me when my prescription is
ready"; the page's own script (assets/push.js) asks for permission, converts the VAPID key and subscribes.
Chromium here reaches no push service, so PushManager.prototype.subscribe is replaced (before the page loads)
by one answering a subscription whose endpoint is the local push-service stand-in: the rest is real. The
confirmation and then "ready for pickup" reach the stand-in through the app's queue and worker, signed with
the app's VAPID key and readable only with the subscription's key.
"""

from __future__ import annotations

import io
import json
import uuid

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import text

from backend.core.settings import reset_settings_cache
from backend.notifications import push, webpush
from backend.notifications.disclosure import MessageKind, render
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_portal_customer import PHONE, _label, _verify
from tests.helpers import ROOT, start_cli, stop, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", autouse=True)
def notifications_worker(app_url, push_service):
    """A worker on the notifications queue alone: the app's worker takes `default` first, where the schedule
    tick's digests for every chain of the run can queue up ahead of a customer's code or push."""
    worker = start_cli("worker", "--queues", "notifications", "--no-scheduler", env=push_service.env,
                       log_name="test-push-notifications-worker")  # fmt: skip
    yield
    stop(worker)


def fake_push_manager(subscription: dict) -> str:
    """An init script: the Push API answers `subscription` (and records what the page asked it for)."""
    return (
        "PushManager.prototype.subscribe = async function (options) {"
        "  window.__pushAsked = { userVisibleOnly: options.userVisibleOnly,"
        "    key: Array.from(new Uint8Array(options.applicationServerKey)) };"
        f"  const json = {json.dumps(subscription)};"
        "  return { endpoint: json.endpoint, toJSON: () => json };"
        "};"
    )


def test_the_app_is_installable_and_its_service_worker_never_caches_the_api(page: Page, app_url: str):
    page.goto(f"{app_url}/")
    expect(page.locator("link[rel=manifest]")).to_have_attribute("href", "/manifest.json")
    manifest = page.request.get(f"{app_url}/manifest.json")
    assert manifest.ok
    found = json.loads(manifest.text())
    assert (found["display"], found["start_url"], found["theme_color"]) == ("standalone", "/", "#0d9488")
    for icon in found["icons"]:
        answer = page.request.get(f"{app_url}{icon['src']}")
        size = int(icon["sizes"].split("x")[0])
        assert answer.ok and Image.open(io.BytesIO(answer.body())).size == (size, size)
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{app_url}/"
    page.reload()  # now the worker controls the page and sees every request it makes
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15000)
    trace_ids = page.evaluate(
        "Promise.all([1, 2].map(() => fetch('/api/v1/health').then(r => r.headers.get('x-request-id'))))"
    )
    assert trace_ids[0] and trace_ids[0] != trace_ids[1]  # two answers from the server, none from a cache
    cached = page.evaluate(
        "caches.keys().then(names => Promise.all(names.map(n => caches.open(n).then(c => c.keys()))))"
        ".then(lists => lists.flat().map(r => new URL(r.url).pathname))"
    )
    assert any(p.startswith("/assets/") for p in cached), cached  # the shell is cached
    assert "/icon-192.png" in cached
    assert not [p for p in cached if p.startswith("/api") or p.startswith("/_event") or p in ("/", "/portal")]


def test_a_portal_customer_on_a_phone_turns_on_notifications_and_is_told_the_fill_is_ready(
    page: Page, app_url: str, committed_tenant, mail_sink, push_service, monkeypatch
):
    spec, pharmacy, patient, rx, email = _label(committed_tenant)
    browser = push_service.subscribe()
    page.context.grant_permissions(["notifications"], origin=app_url)
    page.add_init_script(fake_push_manager(browser))
    _verify(page, app_url, spec, rx, email, mail_sink)
    page.set_viewport_size(PHONE)
    button = page.locator("#push-enable")
    expect(button).to_contain_text("Notify me when my prescription is ready", timeout=15000)
    button.click()
    expect(page.locator(".push-device")).to_contain_text("Chrome on Linux", timeout=15000)
    page.locator("#push-card").screenshot(path=str(ROOT / ".data" / "push-portal-phone.png"))  # to look at
    asked = page.evaluate("window.__pushAsked")
    assert asked["userVisibleOnly"] is True
    assert bytes(asked["key"]) == webpush.unb64url(push_service.vapid_public)  # the page converted our key

    # the confirmation, through the app's queue and worker, to that browser only
    [confirmation] = wait_until(lambda: push_service.messages_to(browser), timeout=30, message="the confirmation")
    assert confirmation["body"] == push.CONFIRMATION_TEXT
    assert confirmation["url"] == f"/portal/{spec.slug}/prescriptions"

    # "ready for pickup" written for that patient (here, in the test process configured like the app) goes the
    # same way, without naming the medicine
    for name, value in push_service.env.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()
    ready = render(
        MessageKind.READY_FOR_PICKUP, {"branch": "Branch 1", "chain": spec.name, "medicine": "Lisinopril 10 mg",
                                       "rx_number": rx.rx_number}, chain_allows=False, patient_consented=False,
    )  # fmt: skip
    run_in_tenant(
        TenantContext.system(pharmacy.chain.tenant_id), push.queue_patient_push, patient_id=patient, message=ready,
        dedupe_key=f"e2e-ready:{uuid.uuid4()}", url=f"/portal/{spec.slug}/prescriptions",
    )  # fmt: skip
    messages = wait_until(lambda: push_service.messages_to(browser)[1:], timeout=30, message="ready for pickup")
    assert "ready for pickup at Branch 1" in messages[0]["body"] and "isinopril" not in json.dumps(messages)

    # "Stop" forgets this device
    page.locator(".push-stop").click()
    expect(page.locator(".push-device")).to_have_count(0, timeout=15000)
    with tenant_session(TenantContext.system(pharmacy.chain.tenant_id)) as session:
        assert session.execute(text("SELECT count(*) FROM push_subscriptions")).scalar_one() == 0
    monkeypatch.undo()
    reset_settings_cache()


def test_a_blocked_permission_says_so_and_stores_nothing(page: Page, app_url: str, committed_tenant, mail_sink):
    spec, pharmacy, _, rx, email = _label(committed_tenant)
    _verify(page, app_url, spec, rx, email, mail_sink)
    page.evaluate("Notification.requestPermission = async () => 'denied'")
    page.locator("#push-enable").click()
    expect(page.locator("#push-error")).to_contain_text("Notifications are blocked for this site", timeout=15000)
    with tenant_session(TenantContext.system(pharmacy.chain.tenant_id)) as session:
        assert session.execute(text("SELECT count(*) FROM push_subscriptions")).scalar_one() == 0


def test_staff_turn_on_notifications_on_their_account_page(page: Page, app_url: str, committed_tenant, push_service):
    chain, spec = committed_tenant("pushstaff")
    browser = push_service.subscribe()
    page.context.grant_permissions(["notifications"], origin=app_url)
    page.add_init_script(fake_push_manager(browser))
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/account")
    page.locator("#push-enable").click()
    expect(page.locator(".push-device")).to_contain_text("Chrome on Linux", timeout=15000)
    [message] = wait_until(lambda: push_service.messages_to(browser), timeout=30, message="the confirmation")
    assert message == {"title": "Pharmacy Cloud", "body": push.CONFIRMATION_TEXT, "url": "/"}
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        [row] = session.execute(text("SELECT user_id, patient_id FROM push_subscriptions")).all()
    assert (row.user_id, row.patient_id) == (chain.owner_user_id, None)
