"""A card sale at the counter: open the card payment for the draft, wait for the reader, then sold with its
lots (or declined / released, still a draft); the owner's settings see the server's key and the account."""

from __future__ import annotations

from decimal import Decimal

import pytest
import stripe

from backend.billing.bills.counter import finish_card_sale, start_card_sale
from backend.billing.bills.service import finalize_bill
from backend.billing.payments.cards import (
    CardDeclined,
    CardNotPresented,
    CardPaymentsOff,
    card_setup,
    set_stripe_account,
)
from backend.core.errors import PermissionDenied
from backend.core.settings import reset_settings_cache
from tenants.session import run_in_tenant
from tests.backend.billing.test_cards import draft, new_account, on_hand, present_card, stripe_api, till  # noqa: F401


def test_a_card_sale_waits_for_the_reader_then_sells_with_its_lots(till, stripe_api):  # noqa: F811
    counter, account = till
    cashier = counter.ctx("cashier")
    bill = draft(counter)
    started = run_in_tenant(cashier, start_card_sale, bill.id, "till-1-attempt-1")
    payment = started.card_payment
    with pytest.raises(CardNotPresented, match="not been authorized yet"):  # nothing on the reader yet
        run_in_tenant(cashier, finish_card_sale, payment.id)
    assert on_hand(counter, counter.ibuprofen) == 20

    present_card(stripe_api, payment.payment_intent_id, account)
    sale = run_in_tenant(cashier, finish_card_sale, payment.id)

    assert not sale.completion.released and sale.completion.bill.status == "paid"
    assert sale.completion.card_payment.amount_captured == Decimal("10.87")
    assert [(p.description, p.lot_number, p.quantity) for p in sale.picks] == [("Ibuprofen 200 mg", "IBU-1", 2)]
    assert on_hand(counter, counter.ibuprofen) == 18
    [capture] = stripe_api.calls("POST", r"/v1/payment_intents/pi_\w+/capture")
    assert capture["account"] == account
    assert (
        run_in_tenant(cashier, finish_card_sale, payment.id).completion.bill == sale.completion.bill
    )  # asked again: no change
    assert stripe_api.effects["payment_intent.captured"] == 1


def test_a_declined_card_is_not_waiting_and_leaves_the_draft(till, stripe_api):  # noqa: F811
    counter, account = till
    bill = draft(counter)
    payment = run_in_tenant(counter.owner, start_card_sale, bill.id, "till-1-attempt-2").card_payment
    with pytest.raises(stripe.CardError):  # the reader shows the decline; the counter learns it from Stripe
        present_card(stripe_api, payment.payment_intent_id, account, "pm_card_chargeDeclined")
    with pytest.raises(CardDeclined, match="declined") as declined:
        run_in_tenant(counter.owner, finish_card_sale, payment.id)
    assert not isinstance(declined.value, CardNotPresented)
    assert on_hand(counter, counter.ibuprofen) == 20


def test_a_failed_finalize_releases_the_card_and_lists_no_lots(till, stripe_api):  # noqa: F811
    counter, account = till
    bill = draft(counter, quantity=2)
    payment = run_in_tenant(counter.owner, start_card_sale, bill.id, "till-1-attempt-3").card_payment
    present_card(stripe_api, payment.payment_intent_id, account)
    run_in_tenant(counter.owner, finalize_bill, draft(counter, quantity=19).id)  # another till sells the shelf empty
    sale = run_in_tenant(counter.owner, finish_card_sale, payment.id)
    assert sale.completion.released and sale.picks == []
    assert "authorization is released" in sale.completion.message
    assert sale.completion.bill.status == "draft"
    assert stripe_api.intents[payment.payment_intent_id]["status"] == "canceled"


def test_the_owner_sees_the_card_setup(counter, stripe_api, monkeypatch):  # noqa: F811
    assert card_setup(counter.owner).account_id == ""
    account = run_in_tenant(counter.owner, set_stripe_account, new_account())
    setup = card_setup(counter.owner)
    assert (setup.configured, setup.account_id) == (True, account)
    with pytest.raises(PermissionDenied):
        card_setup(counter.ctx("cashier"))
    monkeypatch.delenv("STRIPE_SECRET_KEY")
    reset_settings_cache()
    assert not card_setup(counter.owner).configured
    with pytest.raises(CardPaymentsOff, match="not configured"):
        run_in_tenant(counter.owner, start_card_sale, draft(counter).id, "till-1-attempt-4")
