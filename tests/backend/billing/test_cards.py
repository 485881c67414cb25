"""Card payments through Stripe Connect, against tests/stripe_server.py with the real stripe client.

Authorize -> finalize -> capture; a failed finalize releases the card; a decline leaves a draft;
replays (payments and webhooks) have one effect; a forged webhook changes nothing; refunds go
through Stripe; with no key the product says card payments are off.
"""

from __future__ import annotations

import json
import secrets
import uuid
from decimal import Decimal

import pytest
import stripe
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.accounts.api_tokens import create_token
from backend.api import API_PREFIX, create_api
from backend.billing.bills.service import create_draft, finalize_bill, get_bill
from backend.billing.payments.api import router as cards_router
from backend.billing.payments.cards import (
    CardDeclined,
    CardPaymentsOff,
    WebhookRejected,
    complete_card_payment,
    handle_webhook,
    refund_card_payment,
    set_stripe_account,
    start_card_payment,
)
from backend.core.errors import PermissionDenied, ValidationFailed
from backend.core.settings import reset_settings_cache
from backend.inventory.service import medicine_stock
from tenants.session import run_in_tenant, tenant_session
from tests.backend.billing.conftest import stock_up
from tests.stripe_server import StripeServer


@pytest.fixture
def stripe_api(monkeypatch):
    server = StripeServer().start()
    monkeypatch.setenv("STRIPE_API_BASE", server.base_url)
    monkeypatch.setenv("STRIPE_SECRET_KEY", server.api_key)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", server.webhook_secret)
    reset_settings_cache()
    yield server
    server.stop()
    monkeypatch.undo()
    reset_settings_cache()


def new_account() -> str:
    return f"acct_{secrets.token_hex(8)}"


def present_card(server: StripeServer, intent_id: str, account: str, card: str = "pm_card_present") -> None:
    """What the Terminal reader does with the card (never our pages): confirm the intent at Stripe."""
    reader = stripe.StripeClient(server.api_key, base_addresses={"api": server.base_url})
    reader.v1.payment_intents.confirm(intent_id, params={"payment_method": card}, options={"stripe_account": account})


def on_hand(counter, medicine) -> int:
    _, batches, _ = run_in_tenant(counter.owner, medicine_stock, medicine, branch_id=counter.branch)
    return sum(b.quantity for b in batches)


@pytest.fixture
def till(counter, stripe_api):
    account = new_account()
    run_in_tenant(counter.owner, set_stripe_account, account)
    return counter, account


def draft(counter, quantity: int = 2):
    return run_in_tenant(
        counter.owner,
        create_draft,
        branch_id=counter.branch,
        lines=[{"medicine_id": counter.ibuprofen, "quantity": quantity}],
    )


def test_authorize_then_finalize_then_capture_on_the_chains_account(till, stripe_api):
    counter, account = till
    cashier = counter.ctx("cashier")
    bill = draft(counter)
    started = run_in_tenant(cashier, start_card_payment, bill.id, "card-start-0001")
    assert started.client_secret.startswith(started.card_payment.payment_intent_id + "_secret_")
    assert (started.card_payment.amount, started.card_payment.status) == (Decimal("10.87"), "requires_payment_method")
    [create] = stripe_api.calls("POST", "/v1/payment_intents")
    assert create["account"] == account  # Connect: charged on the chain's account, settles to the chain
    assert create["params"] == {
        "amount": "1087",
        "currency": "usd",
        "capture_method": "manual",
        "payment_method_types": ["card_present"],
        "metadata": {"bill_id": bill.id, "bill_number": "", "tenant_id": str(counter.chain.tenant_id)},
    }
    assert create["idempotency_key"].endswith(":card-start-0001:start")
    assert on_hand(counter, counter.ibuprofen) == 20  # authorizing sells nothing yet

    present_card(stripe_api, started.card_payment.payment_intent_id, account)
    done = run_in_tenant(cashier, complete_card_payment, started.card_payment.id, "card-done-0001")

    assert not done.released and done.bill.status == "paid" and done.bill.number is not None
    [payment] = done.bill.payments
    intent_id = started.card_payment.payment_intent_id
    assert (payment.method, payment.amount, payment.reference) == ("card", Decimal("10.87"), intent_id)
    assert done.card_payment.status == "succeeded" and done.card_payment.amount_captured == Decimal("10.87")
    assert done.card_payment.bill_payment_id == payment.id
    assert on_hand(counter, counter.ibuprofen) == 18
    [capture] = stripe_api.calls("POST", r"/v1/payment_intents/pi_\w+/capture")
    assert capture["account"] == account and capture["params"] == {"amount_to_capture": "1087"}
    assert stripe_api.intents[started.card_payment.payment_intent_id]["status"] == "succeeded"
    # Completing again changes nothing: no second capture, no second payment.
    again = run_in_tenant(cashier, complete_card_payment, started.card_payment.id, "card-done-0002")
    assert again.bill == run_in_tenant(counter.owner, get_bill, bill.id) and len(again.bill.payments) == 1
    assert stripe_api.effects["payment_intent.captured"] == 1


def test_out_of_stock_at_finalize_releases_the_card_and_sells_nothing(till, stripe_api):
    counter, account = till
    bill = draft(counter, quantity=2)
    started = run_in_tenant(counter.owner, start_card_payment, bill.id, "card-start-0002")
    present_card(stripe_api, started.card_payment.payment_intent_id, account)
    other = draft(counter, quantity=19)  # another till sells the shelf empty meanwhile
    run_in_tenant(counter.owner, finalize_bill, other.id)

    done = run_in_tenant(counter.owner, complete_card_payment, started.card_payment.id, "card-done-0003")

    assert done.released and done.error == "out_of_stock" and "authorization is released" in done.message
    assert done.bill.status == "draft" and done.bill.number is None and done.bill.payments == []
    assert done.card_payment.status == "canceled"
    assert stripe_api.intents[started.card_payment.payment_intent_id]["status"] == "canceled"
    assert stripe_api.effects["payment_intent.captured"] == 0
    assert on_hand(counter, counter.ibuprofen) == 1  # only the other sale took stock


def test_a_declined_card_leaves_the_bill_a_draft(till, stripe_api):
    counter, account = till
    bill = draft(counter)
    started = run_in_tenant(counter.owner, start_card_payment, bill.id, "card-start-0003")
    with pytest.raises(stripe.CardError):
        present_card(stripe_api, started.card_payment.payment_intent_id, account, card="pm_card_chargeDeclined")
    with pytest.raises(CardDeclined, match="declined.*still a draft"):
        run_in_tenant(counter.owner, complete_card_payment, started.card_payment.id, "card-done-0004")
    assert run_in_tenant(counter.owner, get_bill, bill.id).status == "draft"
    assert on_hand(counter, counter.ibuprofen) == 20
    assert stripe_api.effects["payment_intent.captured"] == 0


def test_no_card_presented_yet_is_not_a_sale(till, stripe_api):
    counter, _ = till
    started = run_in_tenant(counter.owner, start_card_payment, draft(counter).id, "card-start-0004")
    with pytest.raises(CardDeclined, match="not been authorized yet"):
        run_in_tenant(counter.owner, complete_card_payment, started.card_payment.id, "card-done-0005")


def test_refunds_go_through_stripe_once_per_key(till, stripe_api):
    counter, account = till
    bill = draft(counter)
    started = run_in_tenant(counter.owner, start_card_payment, bill.id, "card-start-0005")
    present_card(stripe_api, started.card_payment.payment_intent_id, account)
    paid = run_in_tenant(counter.owner, complete_card_payment, started.card_payment.id, "card-done-0006")
    bill_payment = paid.bill.payments[0].id

    with tenant_session(counter.owner) as session:
        first = refund_card_payment(session, counter.owner, bill_payment, Decimal("4.00"), "refund-key-0001")
    for _ in range(3):  # the credit note retried: the same refund, nothing more at Stripe
        with tenant_session(counter.owner) as session:
            again = refund_card_payment(session, counter.owner, bill_payment, Decimal("4.00"), "refund-key-0001")
        assert again == first
    assert (first.amount, first.card_payment_status, first.amount_refunded) == (
        Decimal("4.00"),
        "partially_refunded",
        Decimal("4.00"),
    )
    [call] = stripe_api.calls("POST", "/v1/refunds")
    assert call["account"] == account and call["params"]["amount"] == "400"
    assert call["idempotency_key"].endswith(":refund-key-0001:refund")
    with tenant_session(counter.owner) as session, pytest.raises(ValidationFailed, match="At most 6.87"):
        refund_card_payment(session, counter.owner, bill_payment, "7.00", "refund-key-0002")
    with tenant_session(counter.owner) as session:
        rest = refund_card_payment(session, counter.owner, started.card_payment.id, "6.87", "refund-key-0003")
    assert (rest.card_payment_status, rest.amount_refunded) == ("refunded", Decimal("10.87"))
    assert stripe_api.effects["refund.created"] == 2


def _count_events(db, event_id: str) -> int:
    db.execute(text("RESET ROLE"))
    return int(
        db.execute(text("SELECT count(*) FROM stripe_webhook_events WHERE event_id = :e"), {"e": event_id}).scalar_one()
    )


def _captured(counter, account, stripe_api, key: str):
    started = run_in_tenant(counter.owner, start_card_payment, draft(counter).id, f"{key}-start")
    present_card(stripe_api, started.card_payment.payment_intent_id, account)
    run_in_tenant(counter.owner, complete_card_payment, started.card_payment.id, f"{key}-done")
    return started.card_payment


def _card_row(db, payment_id: str):
    db.execute(text("RESET ROLE"))
    return db.execute(text("SELECT * FROM card_payments WHERE id = :p"), {"p": payment_id}).one()


def test_a_webhook_replayed_100_times_has_one_effect(db, till, stripe_api):
    counter, account = till
    payment = _captured(counter, account, stripe_api, "hook-0001")
    # A refund made in Stripe's dashboard: we learn of it only from the webhook.
    dashboard = stripe.StripeClient(stripe_api.api_key, base_addresses={"api": stripe_api.base_url})
    dashboard.v1.refunds.create(
        params={"payment_intent": payment.payment_intent_id, "amount": 300}, options={"stripe_account": account}
    )
    event = stripe_api.event_for("charge.refunded", payment.payment_intent_id)
    body, headers = stripe_api.signed(event)

    outcomes = [handle_webhook(body, headers["Stripe-Signature"]) for _ in range(100)]

    assert (outcomes[0].replayed, outcomes[0].applied) == (False, True)
    assert all(o.replayed and not o.applied for o in outcomes[1:])
    assert _count_events(db, event["id"]) == 1
    row = _card_row(db, payment.id)
    assert (row.status, row.amount_refunded) == ("partially_refunded", Decimal("3.0000"))


def test_stripe_canceling_an_abandoned_authorization_reaches_the_card_payment(db, till, stripe_api):
    counter, account = till
    started = run_in_tenant(counter.owner, start_card_payment, draft(counter).id, "card-start-0006")
    present_card(stripe_api, started.card_payment.payment_intent_id, account)
    stripe.StripeClient(stripe_api.api_key, base_addresses={"api": stripe_api.base_url}).v1.payment_intents.cancel(
        started.card_payment.payment_intent_id, options={"stripe_account": account}
    )
    body, headers = stripe_api.signed(
        stripe_api.event_for("payment_intent.canceled", started.card_payment.payment_intent_id)
    )
    assert handle_webhook(body, headers["Stripe-Signature"]).applied
    assert _card_row(db, started.card_payment.id).status == "canceled"


def test_a_webhook_from_another_account_changes_nothing(db, till, stripe_api):
    counter, account = till
    payment = _captured(counter, account, stripe_api, "hook-0002")
    event = {**stripe_api.event_for("payment_intent.succeeded", payment.payment_intent_id), "id": "evt_other_acct"}
    forged_charge = {"object": "charge", "payment_intent": payment.payment_intent_id, "amount_refunded": 1087}
    event = {**event, "type": "charge.refunded", "account": new_account(), "data": {"object": forged_charge}}
    body, headers = stripe_api.signed(event)
    assert handle_webhook(body, headers["Stripe-Signature"]).applied is False
    assert _card_row(db, payment.id).status == "succeeded"


@pytest.mark.parametrize("forgery", ["wrong secret", "tampered body", "no signature"])
def test_a_forged_webhook_is_refused_and_changes_nothing(db, till, stripe_api, forgery):
    counter, account = till
    payment = _captured(counter, account, stripe_api, f"forge-{forgery[:5]}")
    charge = {"object": "charge", "id": "ch_x", "payment_intent": payment.payment_intent_id, "amount_refunded": 1087}
    event = {"id": "evt_forged_0001", "object": "event", "type": "charge.refunded", "account": account}
    event["data"] = {"object": charge}
    body, headers = stripe_api.signed(event, secret="whsec_guessed" if forgery == "wrong secret" else None)
    if forgery == "tampered body":
        body = body.replace(b"1087", b"1086")
    signature = None if forgery == "no signature" else headers["Stripe-Signature"]
    with pytest.raises(WebhookRejected):
        handle_webhook(body, signature)
    assert _count_events(db, "evt_forged_0001") == 0
    assert _card_row(db, payment.id).status == "succeeded"


def test_without_a_key_card_payments_say_they_are_off(counter, monkeypatch):
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    reset_settings_cache()
    try:
        with pytest.raises(CardPaymentsOff, match="Card payments are not configured") as off:
            run_in_tenant(counter.owner, start_card_payment, draft(counter).id, "card-start-0007")
        assert off.value.http_status == 503
        with pytest.raises(CardPaymentsOff, match="STRIPE_WEBHOOK_SECRET"):
            handle_webhook(b"{}", "t=1,v1=00")
    finally:
        monkeypatch.undo()
        reset_settings_cache()


def test_only_the_owner_connects_the_stripe_account(counter):
    with pytest.raises(PermissionDenied):
        run_in_tenant(counter.ctx("manager"), set_stripe_account, new_account())
    with pytest.raises(ValidationFailed):
        run_in_tenant(counter.owner, set_stripe_account, "sk_live_oops")


# --- REST: replays x100 over the real API ----------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    api = create_api()
    if not any(getattr(r, "path", "") == f"{API_PREFIX}/stripe/webhook" for r in api.routes):
        api.include_router(cards_router, prefix=API_PREFIX)  # until backend/api.py mounts it
    with TestClient(api) as test_client:
        yield test_client


@pytest.fixture
def shop(committed_tenant, stripe_api):
    chain, _ = committed_tenant("card-api", branches=2)
    counter = stock_up(chain)
    account = new_account()
    run_in_tenant(counter.owner, set_stripe_account, account)
    token = create_token(counter.owner, "till", ["write"]).token
    return counter, account, {"Authorization": f"Bearer {token}"}


def keyed(auth: dict, key: str) -> dict:
    return {**auth, "Idempotency-Key": key}


def test_a_card_payment_replayed_100_times_charges_once(client, shop, stripe_api):
    counter, account, auth = shop
    bill = client.post(
        f"{API_PREFIX}/bills",
        json={"branch_id": counter.branch, "lines": [{"medicine_id": counter.ibuprofen, "quantity": 2}]},
        headers=keyed(auth, "rest-bill-0001"),
    ).json()
    starts = [
        client.post(f"{API_PREFIX}/bills/{bill['id']}/card-payments", headers=keyed(auth, "rest-card-start"))
        for _ in range(100)
    ]
    assert {s.status_code for s in starts} == {201} and all(s.json() == starts[0].json() for s in starts)
    started = starts[0].json()
    assert stripe_api.effects["payment_intent.created"] == 1
    present_card(stripe_api, started["card_payment"]["payment_intent_id"], account)

    url = f"{API_PREFIX}/card-payments/{started['card_payment']['id']}/complete"
    answers = [client.post(url, headers=keyed(auth, "rest-card-done")) for _ in range(100)]

    assert {a.status_code for a in answers} == {200} and all(a.json() == answers[0].json() for a in answers)
    done = answers[0].json()
    assert done["bill"]["status"] == "paid" and done["card_payment"]["status"] == "succeeded"
    assert [(p["method"], p["amount"]) for p in done["bill"]["payments"]] == [("card", "10.87")]
    assert stripe_api.effects["payment_intent.captured"] == 1
    assert len(stripe_api.calls("POST", r"/v1/payment_intents/pi_\w+/capture")) == 1
    assert on_hand(counter, counter.ibuprofen) == 18

    event = stripe_api.event_for("payment_intent.succeeded", started["card_payment"]["payment_intent_id"])
    body, headers = stripe_api.signed(event)
    hooks = [client.post(f"{API_PREFIX}/stripe/webhook", content=body, headers=headers) for _ in range(100)]
    assert {h.status_code for h in hooks} == {200}
    assert [h.json()["replayed"] for h in hooks].count(False) == 1
    forged = client.post(f"{API_PREFIX}/stripe/webhook", content=body, headers={"Stripe-Signature": "t=1,v1=beef"})
    assert forged.status_code == 400 and forged.json()["error"] == "bad_signature"


def test_a_released_card_is_a_stored_409_over_rest(client, shop, stripe_api):
    counter, account, auth = shop
    bill = client.post(
        f"{API_PREFIX}/bills",
        json={"branch_id": counter.branch, "lines": [{"medicine_id": counter.ibuprofen, "quantity": 21}]},
        headers=keyed(auth, "rest-bill-0002"),
    ).json()
    started = client.post(f"{API_PREFIX}/bills/{bill['id']}/card-payments", headers=keyed(auth, "rest-start-2")).json()
    present_card(stripe_api, started["card_payment"]["payment_intent_id"], account)
    url = f"{API_PREFIX}/card-payments/{started['card_payment']['id']}/complete"
    answers = [client.post(url, headers=keyed(auth, "rest-done-0002")) for _ in range(3)]
    assert {a.status_code for a in answers} == {409} and all(a.json() == answers[0].json() for a in answers)
    assert answers[0].json()["released"] is True and answers[0].json()["bill"]["status"] == "draft"
    assert stripe_api.effects["payment_intent.canceled"] == 1


def test_card_endpoints_without_a_key_answer_503(client, shop, monkeypatch):
    counter, _, auth = shop
    monkeypatch.delenv("STRIPE_SECRET_KEY")
    reset_settings_cache()
    missing = client.post(f"{API_PREFIX}/bills/{uuid.uuid4()}/card-payments", headers=keyed(auth, "rest-off-0001"))
    assert missing.status_code == 503, missing.text
    assert "Card payments are not configured" in json.loads(missing.text)["message"]


def test_the_credit_notes_call_refunds_the_bills_card_once_per_credit_note(till, stripe_api):
    counter, account = till
    bill = draft(counter)
    started = run_in_tenant(counter.owner, start_card_payment, bill.id, "card-start-0008")
    present_card(stripe_api, started.card_payment.payment_intent_id, account)
    run_in_tenant(counter.owner, complete_card_payment, started.card_payment.id, "card-done-0008")
    note = str(uuid.uuid4())
    for _ in range(2):
        with tenant_session(counter.owner) as session:
            reference = str(
                refund_card_payment(
                    session, counter.owner, bill_id=bill.id, credit_note_id=note, amount=Decimal("10.87")
                )
            )
        assert reference.startswith("re_")
    assert stripe_api.effects["refund.created"] == 1
