"""Web push (issue 18 §5): the protocol against RFC 8291's worked example, subscriptions for the signed-in
person only, "ready for pickup" pushed through the real queue and an RQ worker to the local push-service
stand-in (tests/push_service.py), an expired subscription forgotten, and the stand-in refusing a bad VAPID
signature (it can fail)."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from sqlalchemy import text

from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.core.queue import redis_connection
from backend.core.settings import reset_settings_cache
from backend.jobs.service import relay_once
from backend.notifications import push, webpush
from backend.notifications.delivery import MessageStatus, deliver_message
from backend.notifications.disclosure import MessageKind, render
from backend.patients.service import create_patient
from backend.portal.customers import customer_context
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session
from tests.backend.notifications.conftest import message_row
from tests.helpers import start_cli, stop, wait_until
from tests.push_service import configured_push_service

VAPID_PRIVATE, VAPID_PUBLIC = webpush.new_key_pair()


@pytest.fixture
def push_service(monkeypatch):
    yield from configured_push_service(monkeypatch, VAPID_PRIVATE, VAPID_PUBLIC)


def ready(medicine: str = "Sertraline 50 mg"):
    return render(
        MessageKind.READY_FOR_PICKUP,
        {"branch": "Main Street", "chain": "Corner Pharmacy", "medicine": medicine, "rx_number": "B1-9"},
        chain_allows=False,
        patient_consented=False,
    )


def patient_of(chain) -> uuid.UUID:
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    made = run_in_tenant(owner, create_patient, full_name="Pat Push", date_of_birth="1960-05-01",
                         home_branch_id=str(chain.branch_ids[0]))  # fmt: skip
    return uuid.UUID(str(made.id))


def subscriptions(tenant_id) -> list:
    with tenant_session(TenantContext.system(tenant_id)) as session:
        return session.execute(text("SELECT * FROM push_subscriptions")).all()


def queue_ready(chain, patient, key: str) -> int:
    return run_in_tenant(TenantContext.system(chain.tenant_id), push.queue_patient_push, patient_id=patient,
                         message=ready(), dedupe_key=key)  # fmt: skip


def push_rows(tenant_id) -> list:
    with tenant_session(TenantContext.system(tenant_id)) as session:
        return session.execute(text("SELECT * FROM notification_messages WHERE channel = 'push'")).all()


# --- the protocol -------------------------------------------------------------------------------------------


def test_the_encryption_is_rfc_8291s_worked_example():
    """RFC 8291 Appendix A: the same keys and salt give byte for byte the RFC's message, so a real browser
    decrypts what we send."""
    sender = webpush.private_key("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")
    body = webpush.encrypt(
        b"When I grow up, I want to be a watermelon",
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        "BTBZMqHH6r4Tts7J_aSIgg",
        sender=sender,
        salt=webpush.unb64url("DGv6ra1nlYgDCS1FRnbzlw"),
    )
    assert webpush.b64url(body) == (
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6P"
        "Bru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
    )


def test_the_stand_in_refuses_a_bad_vapid_signature_a_wrong_audience_and_a_wrong_key(push_service):
    subscription = push_service.subscribe()
    endpoint, keys = subscription["endpoint"], subscription["keys"]
    body = webpush.encrypt(b'{"title": "t", "body": "b"}', keys["p256dh"], keys["auth"])

    def post(authorization: str) -> requests.Response:
        headers = {"Authorization": authorization, "Content-Encoding": "aes128gcm", "TTL": "60"}
        return requests.post(endpoint, data=body, headers=headers, timeout=5)

    good = webpush.vapid_authorization(endpoint, VAPID_PRIVATE, "mailto:ops@example.com")
    assert post(good).status_code == 201 and len(push_service.messages_to(subscription)) == 1
    # signed by another key but claiming ours
    forged_token = webpush.vapid_authorization(endpoint, webpush.new_key_pair()[0], "mailto:x@example.com")
    forged = forged_token.split(", k=")[0] + f", k={VAPID_PUBLIC}"
    answer = post(forged)
    assert answer.status_code == 401 and "bad VAPID signature" in answer.text
    # a token for another push service
    other = webpush.vapid_authorization("https://fcm.googleapis.com/x", VAPID_PRIVATE, "mailto:ops@example.com")
    assert post(other).status_code == 401 and "aud" in push_service.refused[-1]
    # a token signed (correctly) by a key the browser did not subscribe with
    stranger = webpush.vapid_authorization(endpoint, webpush.new_key_pair()[0], "mailto:x@example.com")
    assert post(stranger).status_code == 403
    # expired token
    old = webpush.vapid_authorization(endpoint, VAPID_PRIVATE, "mailto:ops@example.com", now=0)
    assert post(old).status_code == 401
    assert len(push_service.messages_to(subscription)) == 1


# --- subscriptions ------------------------------------------------------------------------------------------


def test_a_subscription_belongs_to_the_signed_in_person_only(committed_tenant, push_service):
    chain, _ = committed_tenant("push-own")
    other_chain, _ = committed_tenant("push-other")
    patient, someone_else = patient_of(chain), patient_of(chain)
    me = customer_context(chain.tenant_id, patient)
    given = push_service.subscribe()
    # whatever the page says about whose it is, it is stored for the verified customer's own patient
    sid = run_in_tenant(me, push.subscribe, {**given, "patient_id": str(someone_else)}, "Chrome on Android")
    [row] = subscriptions(chain.tenant_id)
    assert (row.patient_id, row.user_id, row.device) == (patient, None, "Chrome on Android")
    assert given["endpoint"].encode() not in bytes(row.endpoint_enc)  # sealed under the chain key
    assert [d.id for d in run_in_tenant(me, push.my_devices)] == [sid]
    # another patient of the chain sees nothing and cannot remove it
    them = customer_context(chain.tenant_id, someone_else)
    assert run_in_tenant(them, push.my_devices) == []
    with pytest.raises(NotFound):
        run_in_tenant(them, push.unsubscribe, sid)
    # another chain's customer, even one naming this chain's patient, sees none of it (RLS)
    stranger = customer_context(other_chain.tenant_id, patient)
    assert run_in_tenant(stranger, push.my_devices) == []
    with pytest.raises(NotFound):
        run_in_tenant(stranger, push.unsubscribe, sid)
    # an unverified portal visitor cannot subscribe; staff subscribe for themselves
    visitor = TenantContext(tenant_id=chain.tenant_id, user_id=None, role="portal")
    with pytest.raises(PermissionDenied):
        run_in_tenant(visitor, push.subscribe, push_service.subscribe())
    cashier = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="cashier")
    run_in_tenant(cashier, push.subscribe, push_service.subscribe(), "Firefox on Linux")
    assert [d.device for d in run_in_tenant(cashier, push.my_devices)] == ["Firefox on Linux"]
    assert len(run_in_tenant(me, push.my_devices)) == 1
    # bad input changes nothing: a push service we do not send to, broken keys
    for bad in ({**given, "endpoint": "http://169.254.169.254/latest"}, {**given, "keys": {"p256dh": "x"}}, "x"):
        with pytest.raises(ValidationFailed):
            run_in_tenant(me, push.subscribe, bad)
    assert len(subscriptions(chain.tenant_id)) == 2
    run_in_tenant(me, push.unsubscribe, sid)
    assert run_in_tenant(me, push.my_devices) == []


# --- delivery -----------------------------------------------------------------------------------------------


@pytest.fixture
def push_worker(push_service):
    redis_connection().flushdb()
    process = start_cli("worker", "--queues", "notifications", log_name="test-push-worker")
    yield push_service
    stop(process)


@pytest.mark.worker
def test_ready_for_pickup_reaches_the_patients_browser_through_the_queue_and_a_worker(committed_tenant, push_worker):
    chain, _ = committed_tenant("push-ready")
    patient = patient_of(chain)
    browser = push_worker.subscribe()
    run_in_tenant(customer_context(chain.tenant_id, patient), push.subscribe, browser, "Chrome on Android")
    assert queue_ready(chain, patient, "fill-1:ready") == 1
    assert queue_ready(chain, patient, "fill-1:ready") == 1  # the same event again writes no second message
    [row] = push_rows(chain.tenant_id)
    assert row.status == MessageStatus.QUEUED and "Chrome on Android" in row.recipient_hint
    assert b"127.0.0.1" not in bytes(row.recipient_enc) and "127.0.0.1" not in row.recipient_hint
    assert relay_once(redis_connection()) >= 1
    [message] = wait_until(lambda: push_worker.messages_to(browser), message="the push at the stand-in")
    assert "ready for pickup at Main Street" in message["body"] and "ertraline" not in json.dumps(message)
    sent = wait_until(lambda: message_row(chain.tenant_id, row.id).status == "sent", message="marked sent")
    assert sent and message_row(chain.tenant_id, row.id).attempts == 1
    assert len(push_worker.messages_to(browser)) == 1


def test_an_expired_subscription_is_removed_and_its_message_failed(committed_tenant, push_service):
    chain, _ = committed_tenant("push-gone")
    patient = patient_of(chain)
    kept, gone = push_service.subscribe(), push_service.subscribe()
    me = customer_context(chain.tenant_id, patient)
    run_in_tenant(me, push.subscribe, kept, "Phone")
    run_in_tenant(me, push.subscribe, gone, "Old laptop")
    push_service.expire(gone)
    assert queue_ready(chain, patient, "fill-2:ready") == 2
    outcomes = {}
    for row in push_rows(chain.tenant_id):
        outcomes[row.recipient_hint.split(" ")[0]] = deliver_message(str(chain.tenant_id), str(row.id))
    assert outcomes == {"Phone": "sent", "Old": "failed"}
    failed = [r for r in push_rows(chain.tenant_id) if r.status == "failed"]
    assert len(failed) == 1 and failed[0].reason == push.EXPIRED and failed[0].attempts == 1
    assert [d.device for d in run_in_tenant(me, push.my_devices)] == ["Phone"]  # the expired one is forgotten
    assert len(push_service.messages_to(kept)) == 1 and push_service.messages_to(gone) == []


def test_without_vapid_keys_push_is_suppressed_with_the_reason(committed_tenant, push_service, monkeypatch):
    chain, _ = committed_tenant("push-off")
    patient = patient_of(chain)
    run_in_tenant(customer_context(chain.tenant_id, patient), push.subscribe, push_service.subscribe())
    monkeypatch.setenv("VAPID_PRIVATE_KEY", "")
    reset_settings_cache()
    assert queue_ready(chain, patient, "fill-3:ready") == 1
    [row] = push_rows(chain.tenant_id)
    assert row.status == "suppressed" and "VAPID_PRIVATE_KEY is not set" in row.reason


def test_the_confirmation_goes_to_the_new_browser_only(committed_tenant, push_service):
    chain, _ = committed_tenant("push-confirm")
    staff = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    browser = push_service.subscribe()
    sid = run_in_tenant(staff, push.subscribe, browser, "Chrome on Linux")
    run_in_tenant(staff, push.queue_confirmation, sid)
    [row] = push_rows(chain.tenant_id)
    assert deliver_message(str(chain.tenant_id), str(row.id)) == "sent"
    [message] = push_service.messages_to(browser)
    assert message == {"title": "Pharmacy Cloud", "body": push.CONFIRMATION_TEXT, "url": "/"}
    patient = customer_context(chain.tenant_id, patient_of(chain))
    with pytest.raises(NotFound):  # not a customer's way to message a staff member's browser
        run_in_tenant(patient, push.queue_confirmation, sid)


def test_a_redirect_from_the_push_service_is_not_followed(committed_tenant, push_service):
    chain, _ = committed_tenant("push-redirect")
    patient = patient_of(chain)
    steered, target = push_service.subscribe(), push_service.subscribe()
    run_in_tenant(customer_context(chain.tenant_id, patient), push.subscribe, steered, "Phone")
    push_service.browsers[steered["endpoint"].rsplit("/", 1)[1]].redirect = target["endpoint"]
    assert queue_ready(chain, patient, "fill-4:ready") == 1
    [row] = push_rows(chain.tenant_id)
    assert deliver_message(str(chain.tenant_id), str(row.id)) == "failed"
    assert "TooManyRedirects" in message_row(chain.tenant_id, row.id).reason
    assert push_service.messages_to(target) == [] and push_service.messages_to(steered) == []
