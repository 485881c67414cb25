"""Card payments through Stripe Connect, on each chain's own Stripe account.

- PCI: card details are entered on Stripe's side only (a Terminal reader at the counter, or Stripe's
  hosted element). We create a PaymentIntent and hand its client secret to the reader or element;
  no card number, expiry or CVC ever reaches our pages, logs or database.
- Connect: every call carries `stripe_account=` (the chain's connected account), so a chain's sales
  settle to the chain, not to the platform. The platform's own key (STRIPE_SECRET_KEY) authenticates.
- Authorize, then sell, then capture: the intent is created with `capture_method=manual`; the reader
  or element authorizes it; `complete` checks the authorization with Stripe, finalizes the bill (stock
  moves, number) and captures. A finalize that fails (out of stock, a prescription now needed) releases
  the authorization (cancel) and sells nothing.
- Idempotency: every Stripe write carries a key derived from the caller's Idempotency-Key (tenant,
  key, step), so a retried request after a lost answer reaches the same Stripe object: one intent,
  one capture, one refund.
- Money is Decimal in the bill's currency; the integer minor unit exists only at the Stripe boundary.
- Webhooks arrive before the chain is known: `handle_webhook` checks the signature offline, drops an
  event id it has seen, and updates the card payment on the platform path.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import stripe
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from backend.billing.audit_chain import record_financial_event
from backend.billing.bills.repository import Bill
from backend.billing.bills.service import finalize_bill, get_bill, locked_bill, refuse_unless_draft
from backend.billing.statuses import BillStatus, CardStatus
from backend.core import validation as check
from backend.core.errors import (
    ConfigurationError,
    Conflict,
    NotFound,
    PharmacyError,
    ServiceUnavailable,
    ValidationFailed,
)
from backend.core.money import minor_unit, round_to_currency
from backend.core.settings import get_settings
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import SYSTEM, require
from tenants.session import platform_session, tenant_session

log = logging.getLogger(__name__)

ACCOUNT_ID = re.compile(r"^acct_[A-Za-z0-9]{1,64}$")


class CardPaymentsOff(ServiceUnavailable):
    """No Stripe key on this server: card payments are off; cash and other tenders still work."""

    code = "card_payments_off"


class CardDeclined(PharmacyError):
    """The card was not authorized; nothing was charged and the bill is still a draft."""

    http_status = 402
    code = "card_declined"


class CardNotPresented(CardDeclined):
    """No card on the reader yet (no decline either): the counter keeps waiting; still a draft."""


class WebhookRejected(PharmacyError):
    """A webhook whose signature does not verify: it changes nothing."""

    http_status = 400
    code = "bad_signature"


@dataclass(frozen=True)
class CardPayment:
    id: str
    bill_id: str
    payment_intent_id: str
    amount: Decimal
    currency: str
    status: CardStatus
    amount_captured: Decimal
    amount_refunded: Decimal
    bill_payment_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class StartedCardPayment:
    """What the reader or the hosted element needs: the intent and its client secret (not a card)."""

    card_payment: CardPayment
    client_secret: str


@dataclass(frozen=True)
class CardCompletion:
    """The outcome of `complete`: captured and the bill paid, or the authorization released."""

    card_payment: CardPayment
    bill: Bill
    released: bool
    error: str | None = None  # the finalize error's code when released
    message: str = ""
    field: str | None = None


@dataclass(frozen=True)
class CardRefund:
    refund_id: str
    card_payment_id: str
    amount: Decimal
    status: str  # the refund's own status, in Stripe's words
    card_payment_status: CardStatus
    amount_refunded: Decimal

    def __str__(self) -> str:
        return self.refund_id


@dataclass(frozen=True)
class CardSetup:
    """What the settings page shows: whether this server takes cards, and the chain's connected account."""

    configured: bool  # the server has a Stripe key (STRIPE_SECRET_KEY)
    account_id: str  # the chain's Stripe account (acct_...), "" when none is connected


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    event_type: str
    replayed: bool
    applied: bool


# --- the Stripe boundary ----------------------------------------------------------------------------


def _client() -> stripe.StripeClient:
    """A client on the platform key, pointed at STRIPE_API_BASE; card payments are off without a key."""
    settings = get_settings()
    key = settings.STRIPE_SECRET_KEY.get_secret_value() if settings.STRIPE_SECRET_KEY else ""
    if not key:
        raise CardPaymentsOff(
            "Card payments are not configured on this server (STRIPE_SECRET_KEY is not set): "
            "take cash or another tender."
        )
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        key,
        base_addresses={"api": base, "connect": base, "files": base, "meter_events": base},
        max_network_retries=settings.STRIPE_MAX_RETRIES,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT),
    )


@contextmanager
def _stripe_errors() -> Iterator[None]:
    """Stripe's errors as our typed errors (their messages carry no secret; we never log the key)."""
    try:
        yield
    except stripe.CardError as exc:
        raise CardDeclined(
            f"The card was declined ({exc.user_message or exc.code or 'no reason given'}). "
            "Nothing was charged; the bill is still a draft."
        ) from None
    except stripe.IdempotencyError:
        raise Conflict("This Idempotency-Key was used with a different card request.") from None
    except (stripe.AuthenticationError, stripe.PermissionError):
        raise ConfigurationError(
            "Stripe refused the platform key or the chain's connected account: check STRIPE_SECRET_KEY "
            "and the chain's Stripe account."
        ) from None
    except stripe.InvalidRequestError as exc:
        raise Conflict(f"Stripe refused the request: {exc.user_message or exc.code or 'invalid request'}.") from None
    except stripe.StripeError:
        raise ServiceUnavailable(
            "Stripe cannot be reached right now; try again with the same Idempotency-Key (nothing is charged twice)."
        ) from None


def _stripe_key(ctx: TenantContext, key: str, step: str) -> str:
    """One Stripe idempotency key per step of one request: a replay reaches the same Stripe object."""
    if not 8 <= len(key) <= 100 or not key.isprintable():
        raise ValidationFailed("Idempotency-Key must be 8 to 100 printable characters.", field="Idempotency-Key")
    return f"{ctx.tenant_id}:{key}:{step}"


def to_minor(amount: Decimal, currency: str) -> int:
    """Decimal money as Stripe's integer amount in the currency's minor unit (e.g. 10.32 USD -> 1032)."""
    return int((round_to_currency(amount, currency) / minor_unit(currency)).to_integral_exact())


def from_minor(amount: int, currency: str) -> Decimal:
    """Stripe's integer amount back to Decimal money."""
    return Decimal(int(amount)) * minor_unit(currency)


# --- the chain's connected account ----------------------------------------------------------------


def set_stripe_account(session: Session, ctx: TenantContext, account_id: str) -> str:
    """Connect the chain's own Stripe account (acct_...); its card sales settle there. Owner only."""
    require(ctx, "tenant.settings")
    account = str(account_id or "").strip()
    if not ACCOUNT_ID.match(account):
        raise ValidationFailed("A Stripe account id looks like acct_1AbC...", field="stripe_account_id")
    try:
        with session.begin_nested():
            session.execute(
                text("UPDATE tenants SET stripe_account_id = :a WHERE id = :t"), {"a": account, "t": ctx.tenant_id}
            )
    except IntegrityError:
        raise Conflict("That Stripe account is connected to another chain.") from None
    record_audit(
        session,
        ctx.tenant_id,
        "tenant.stripe_account_set",
        actor_user_id=ctx.user_id,
        entity_type="tenant",
        entity_id=str(ctx.tenant_id),
        details={"stripe_account_id": account},
    )
    return account


def cards_configured() -> bool:
    """Whether this server has a Stripe key; without one card payments are off."""
    key = get_settings().STRIPE_SECRET_KEY
    return bool(key and key.get_secret_value())


def card_setup(ctx: TenantContext) -> CardSetup:
    """The chain's card setup for its owner: the server's Stripe key present or not, the connected account."""
    require(ctx, "tenant.settings")
    with tenant_session(ctx) as session:
        account = session.execute(
            text("SELECT stripe_account_id FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}
        ).scalar()
    return CardSetup(configured=cards_configured(), account_id=str(account or ""))


def _connected_account(session: Session, ctx: TenantContext) -> str:
    account = session.execute(
        text("SELECT stripe_account_id FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}
    ).scalar()
    if not account:
        raise Conflict("This chain has no Stripe account connected yet: the owner connects it in the settings.")
    return str(account)


# --- reading ----------------------------------------------------------------------------------------


def _card_payment(row: Any) -> CardPayment:
    cash = minor_unit(row.currency)
    return CardPayment(
        id=str(row.id),
        bill_id=str(row.bill_id),
        payment_intent_id=row.payment_intent_id,
        amount=row.amount.quantize(cash),
        currency=row.currency,
        status=CardStatus(row.status),
        amount_captured=row.amount_captured.quantize(cash),
        amount_refunded=row.amount_refunded.quantize(cash),
        bill_payment_id=str(row.bill_payment_id) if row.bill_payment_id else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _locked_card_payment(session: Session, ctx: TenantContext, payment_id: object) -> Any:
    """The card payment (by its id or its bill payment's id), locked; only in the member's branches."""
    try:
        key = uuid.UUID(str(payment_id))
    except ValueError:
        raise NotFound("No such card payment.") from None
    row = session.execute(
        text(
            "SELECT cp.*, b.branch_id FROM card_payments cp "
            "JOIN bills b ON b.tenant_id = cp.tenant_id AND b.id = cp.bill_id "
            "WHERE cp.id = :p OR cp.bill_payment_id = :p FOR UPDATE OF cp"
        ),
        {"p": key},
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such card payment.")
    return row


def get_card_payment(session: Session, ctx: TenantContext, payment_id: str) -> CardPayment:
    """One card payment as we last saw it (Stripe's webhooks keep it current)."""
    require(ctx, "billing.view")
    return _card_payment(_locked_card_payment(session, ctx, payment_id))


def _reload(session: Session, payment_id: object) -> CardPayment:
    row = session.execute(text("SELECT * FROM card_payments WHERE id = :p"), {"p": payment_id}).one()
    return _card_payment(row)


def _set_status(session: Session, payment_id: object, status: CardStatus, **columns: Any) -> None:
    assignments = "".join(f", {name} = :{name}" for name in columns)  # names come from this module
    session.execute(
        text(f"UPDATE card_payments SET status = :s{assignments}, updated_at = now() WHERE id = :p"),  # noqa: S608
        {"s": status, "p": payment_id, **columns},
    )


# --- starting ---------------------------------------------------------------------------------------


def start_card_payment(session: Session, ctx: TenantContext, bill_id: str, idempotency_key: str) -> StartedCardPayment:
    """Create a PaymentIntent for a draft bill's amount due on the chain's Stripe account.

    Manual capture (authorize now, capture once the bill is finalized), `card_present` for the Terminal
    reader. Returns the intent and its client secret for the reader or hosted element; the card itself
    is presented there, never to us. The same Idempotency-Key reaches the same intent.
    """
    require(ctx, "billing.sell")
    client = _client()
    account = _connected_account(session, ctx)
    bill = locked_bill(session, ctx, bill_id)
    refuse_unless_draft(bill)
    if bill.total_due <= 0:
        raise ValidationFailed("This bill comes to nothing: there is nothing to charge to a card.")
    params: Any = {
        "amount": to_minor(bill.total_due, bill.currency),
        "currency": bill.currency.lower(),
        "capture_method": "manual",
        "payment_method_types": ["card_present"],
        "metadata": {"bill_id": str(bill.id), "bill_number": bill.number or "", "tenant_id": str(ctx.tenant_id)},
    }
    with _stripe_errors():
        intent = client.v1.payment_intents.create(
            params=params,
            options={"stripe_account": account, "idempotency_key": _stripe_key(ctx, idempotency_key, "start")},
        )
    payment_id = session.execute(
        text(
            "INSERT INTO card_payments (tenant_id, id, bill_id, payment_intent_id, stripe_account_id, amount, "
            "currency, status, created_by) VALUES (:t, :id, :b, :pi, :acct, :amount, :cur, :s, :u) "
            "ON CONFLICT (tenant_id, payment_intent_id) DO UPDATE SET updated_at = card_payments.updated_at "
            "RETURNING id"
        ),
        {
            "t": ctx.tenant_id,
            "id": uuid.uuid4(),
            "b": bill.id,
            "pi": intent.id,
            "acct": account,
            "amount": round_to_currency(bill.total_due, bill.currency),
            "cur": bill.currency,
            "s": intent.status if intent.status in CardStatus.open() else CardStatus.REQUIRES_PAYMENT_METHOD,
            "u": ctx.user_id,
        },
    ).scalar_one()
    log.info("card_payment.started", extra={"payment_intent": intent.id, "bill_id": str(bill.id)})
    return StartedCardPayment(_reload(session, payment_id), str(intent.client_secret))


# --- completing: authorize, finalize, capture --------------------------------------------------------


def complete_card_payment(
    session: Session, ctx: TenantContext, payment_id: str, idempotency_key: str
) -> CardCompletion:
    """Check the authorization with Stripe, finalize the bill, capture, and record the card payment.

    Not authorized (declined, or no card presented yet) raises CardDeclined and the bill stays a draft.
    A finalize that fails (e.g. OutOfStock) sells nothing, releases the authorization at Stripe and
    returns `released=True` with the reason. Running it again on a captured payment changes nothing.
    """
    require(ctx, "billing.sell")
    client = _client()
    payment = _locked_card_payment(session, ctx, payment_id)
    if payment.status in CardStatus.captured():
        return CardCompletion(_card_payment(payment), get_bill(session, ctx, str(payment.bill_id)), released=False)
    if payment.status == CardStatus.CANCELED:
        raise Conflict("This card payment was canceled and its authorization released: start a new one.")
    options: Any = {"stripe_account": payment.stripe_account_id}
    with _stripe_errors():
        intent = client.v1.payment_intents.retrieve(payment.payment_intent_id, options=options)
    _refuse_unless_authorized(session, payment, intent)
    try:
        with session.begin_nested():  # a failed finalize rolls back to here: nothing sold, still a draft
            bill = finalize_bill(session, ctx, str(payment.bill_id))
            if bill.outstanding > payment.amount:
                raise Conflict(
                    f"The bill now comes to {bill.outstanding}, more than the {payment.amount} authorized "
                    "on the card: start a new card payment."
                )
    except PharmacyError as exc:  # a deadlock or a raced batch is not one: the whole request runs again
        return _release(session, ctx, client, payment, intent, idempotency_key, exc)
    return _capture(session, ctx, client, payment, intent, bill, idempotency_key)


def _refuse_unless_authorized(session: Session, payment: Any, intent: Any) -> None:
    """Stripe says whether the card is authorized; anything but requires_capture (or captured) stops here."""
    if intent.status in (CardStatus.REQUIRES_CAPTURE, CardStatus.SUCCEEDED):
        return
    if intent.status == CardStatus.CANCELED:
        _set_status(session, payment.id, CardStatus.CANCELED)
        raise Conflict("Stripe canceled this card payment (its authorization is released): start a new one.")
    error = getattr(intent, "last_payment_error", None)
    if error:
        raise CardDeclined(
            f"The card was declined ({getattr(error, 'message', None) or getattr(error, 'code', None) or 'declined'}). "
            "Nothing was charged; the bill is still a draft: try another card or take another tender."
        )
    raise CardNotPresented(
        "The card has not been authorized yet: present it on the reader, then complete the sale. "
        "The bill is still a draft."
    )


def _capture(
    session: Session, ctx: TenantContext, client: stripe.StripeClient, payment: Any, intent: Any, bill: Bill, key: str
) -> CardCompletion:
    owed = bill.outstanding
    if intent.status != CardStatus.SUCCEEDED:  # already captured when a previous attempt lost its commit
        with _stripe_errors():
            intent = client.v1.payment_intents.capture(
                payment.payment_intent_id,
                params={"amount_to_capture": to_minor(owed, payment.currency)},
                options={
                    "stripe_account": payment.stripe_account_id,
                    "idempotency_key": _stripe_key(ctx, key, "capture"),
                },
            )
    if intent.status != CardStatus.SUCCEEDED:
        raise ServiceUnavailable("Stripe did not capture the card; try again with the same Idempotency-Key.")
    bill_payment_id = _record_card_payment(session, ctx, payment, owed)
    _set_status(session, payment.id, CardStatus.SUCCEEDED, amount_captured=owed, bill_payment_id=bill_payment_id)
    _financial_event(session, ctx, "card.captured", payment, {"amount": owed})
    log.info("card_payment.captured", extra={"payment_intent": payment.payment_intent_id})
    return CardCompletion(_reload(session, payment.id), get_bill(session, ctx, str(payment.bill_id)), released=False)


def _record_card_payment(session: Session, ctx: TenantContext, payment: Any, amount: Decimal) -> uuid.UUID:
    """The bill payment of a captured card: method card, the intent as reference; the bill is paid."""
    bill_payment_id = uuid.uuid4()
    session.execute(
        text(
            # The clock, not the transaction's start: payments list in the order the money came in.
            "INSERT INTO bill_payments (tenant_id, id, bill_id, method, amount, tendered, change_due, reference, "
            "received_by, received_at) VALUES (:t, :id, :b, 'card', :a, :a, 0, :ref, :u, clock_timestamp())"
        ),
        {
            "t": ctx.tenant_id,
            "id": bill_payment_id,
            "b": payment.bill_id,
            "a": amount,
            "ref": payment.payment_intent_id,
            "u": ctx.user_id,
        },
    )
    session.execute(
        text(
            "UPDATE bills SET amount_paid = amount_paid + :a, "
            "status = CASE WHEN amount_paid + :a >= total_due THEN :paid ELSE :partly END, "
            "updated_at = now() WHERE id = :b"
        ),
        {"a": amount, "b": payment.bill_id, "paid": BillStatus.PAID, "partly": BillStatus.PARTIALLY_PAID},
    )
    return bill_payment_id


def _release(
    session: Session,
    ctx: TenantContext,
    client: stripe.StripeClient,
    payment: Any,
    intent: Any,
    key: str,
    reason: PharmacyError,
) -> CardCompletion:
    """The sale failed: give the customer's money back (cancel the authorization, or refund a capture)."""
    options: Any = {"stripe_account": payment.stripe_account_id, "idempotency_key": _stripe_key(ctx, key, "release")}
    with _stripe_errors():
        if intent.status == CardStatus.SUCCEEDED:
            client.v1.refunds.create(params={"payment_intent": payment.payment_intent_id}, options=options)
        else:
            client.v1.payment_intents.cancel(
                payment.payment_intent_id, params={"cancellation_reason": "abandoned"}, options=options
            )
    _set_status(session, payment.id, CardStatus.CANCELED)
    _financial_event(session, ctx, "card.released", payment, {"reason": reason.code})
    log.info("card_payment.released", extra={"payment_intent": payment.payment_intent_id, "reason": reason.code})
    return CardCompletion(
        _reload(session, payment.id),
        get_bill(session, ctx, str(payment.bill_id)),
        released=True,
        error=reason.code,
        message=f"{reason.message} The card was not charged: its authorization is released.",
        field=reason.field,
    )


# --- refunds ------------------------------------------------------------------------------------------


def refund_card_payment(
    session: Session,
    ctx: TenantContext,
    payment_id: str | None = None,
    amount: Decimal | str = "0",
    idempotency_key: str | None = None,
    *,
    bill_id: str | None = None,
    credit_note_id: str | None = None,
) -> CardRefund:
    """Refund (part of) a captured card payment through Stripe, inside the caller's transaction.

    `payment_id` is the bill payment's id (method card) or the card payment's id; or give `bill_id`
    (its card payment). The key is `idempotency_key`, or the credit note's id (`credit_note_id`). The
    caller (a credit note) checks its own permission; this needs billing.sell at least. The same key
    gives back the same refund and refunds once, here and at Stripe; a refund that reached Stripe
    before the caller's transaction rolled back is found again by a retry with the same key.
    `str()` of the result is the Stripe refund id (the reference a credit note records).
    """
    require(ctx, "billing.sell")
    key = idempotency_key or (f"credit-note:{credit_note_id}" if credit_note_id else "")
    stripe_key = _stripe_key(ctx, key, "refund")
    payment = _locked_card_payment(session, ctx, payment_id or _card_payment_of_bill(session, bill_id))
    done = session.execute(text("SELECT * FROM card_refunds WHERE idempotency_key = :k"), {"k": key}).first()
    if done is not None:
        return _refund_result(session, done)
    money = _refund_amount(amount, payment)
    client = _client()
    with _stripe_errors():
        refund = client.v1.refunds.create(
            params={"payment_intent": payment.payment_intent_id, "amount": to_minor(money, payment.currency)},
            options={"stripe_account": payment.stripe_account_id, "idempotency_key": stripe_key},
        )
    session.execute(
        text(
            "INSERT INTO card_refunds (tenant_id, id, card_payment_id, refund_id, idempotency_key, amount, status, "
            "created_by) VALUES (:t, :id, :p, :r, :k, :a, :s, :u) ON CONFLICT (tenant_id, refund_id) DO NOTHING"
        ),
        {
            "t": ctx.tenant_id,
            "id": uuid.uuid4(),
            "p": payment.id,
            "r": refund.id,
            "k": key,
            "a": from_minor(refund.amount, payment.currency),
            "s": refund.status,
            "u": ctx.user_id,
        },
    )
    refunded = session.execute(
        text("SELECT coalesce(sum(amount), 0) FROM card_refunds WHERE card_payment_id = :p"), {"p": payment.id}
    ).scalar_one()
    _apply_refunded(session, payment, refunded)
    _financial_event(session, ctx, "card.refunded", payment, {"amount": money, "refund": refund.id})
    done = session.execute(text("SELECT * FROM card_refunds WHERE refund_id = :r"), {"r": refund.id}).one()
    return _refund_result(session, done)


def _card_payment_of_bill(session: Session, bill_id: str | None) -> str:
    try:
        key = uuid.UUID(str(bill_id))
    except ValueError:
        raise NotFound("No such card payment.") from None
    found = session.execute(
        text("SELECT id FROM card_payments WHERE bill_id = :b AND status = ANY(:captured) ORDER BY created_at LIMIT 1"),
        {"b": key, "captured": list(CardStatus.captured())},
    ).scalar()
    if found is None:
        raise Conflict("This bill has no captured card payment to refund.")
    return str(found)


def _refund_amount(amount: Decimal | str, payment: Any) -> Decimal:
    money = check.money(str(amount), "amount")
    if money <= 0:
        raise ValidationFailed("The amount must be more than zero.", field="amount")
    if money != round_to_currency(money, payment.currency):
        raise ValidationFailed(
            f"Amounts in {payment.currency} are counted in steps of {minor_unit(payment.currency)}.", field="amount"
        )
    if payment.status not in CardStatus.refundable():
        raise Conflict(f"This card payment is {payment.status.replace('_', ' ')}: there is nothing to refund.")
    left = payment.amount_captured - payment.amount_refunded
    if money > left:
        raise ValidationFailed(
            f"At most {left.quantize(minor_unit(payment.currency))} can still be refunded.", field="amount"
        )
    return money


def _apply_refunded(session: Session, payment: Any, refunded: Decimal) -> None:
    """Raise the refunded amount to what we (or Stripe) know; refunded or partially refunded follows."""
    total = max(Decimal(payment.amount_refunded), Decimal(refunded))
    if total <= payment.amount_refunded and payment.status in (CardStatus.REFUNDED, CardStatus.PARTIALLY_REFUNDED):
        return
    status = CardStatus.after_refund(in_full=total >= payment.amount_captured)
    _set_status(session, payment.id, status, amount_refunded=total)


def _refund_result(session: Session, row: Any) -> CardRefund:
    payment = _reload(session, row.card_payment_id)
    return CardRefund(
        refund_id=row.refund_id,
        card_payment_id=str(row.card_payment_id),
        amount=row.amount.quantize(minor_unit(payment.currency)),
        status=row.status,
        card_payment_status=CardStatus(payment.status),
        amount_refunded=payment.amount_refunded,
    )


# --- webhooks (the platform path) ----------------------------------------------------------------------


def handle_webhook(payload: bytes, signature: str | None) -> WebhookOutcome:
    """Verify a Stripe webhook offline, drop a replayed event id, and apply it to the card payment.

    It arrives before any chain is known, so it runs on the platform path: the event's connected
    account must be the one the intent was created on. A bad signature raises WebhookRejected (400)
    and changes nothing; events we do not use are acknowledged and ignored.
    """
    event = _verified_event(payload, signature)
    event_id, event_type = str(event["id"]), str(event["type"])
    with platform_session(reason="Stripe webhook before the chain is known", actor="stripe") as session:
        first = session.execute(
            text(
                "INSERT INTO stripe_webhook_events (event_id, event_type, account) VALUES (:e, :t, :a) "
                "ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
            ),
            {"e": event_id, "t": event_type, "a": event.get("account")},
        ).first()
        if first is None:
            return WebhookOutcome(event_id, event_type, replayed=True, applied=False)
        applied = _apply_event(session, event)
    log.info("stripe.webhook", extra={"event_type": event_type, "applied": applied})
    return WebhookOutcome(event_id, event_type, replayed=False, applied=applied)


def _verified_event(payload: bytes, signature: str | None) -> dict[str, Any]:
    settings = get_settings()
    secret = settings.STRIPE_WEBHOOK_SECRET.get_secret_value() if settings.STRIPE_WEBHOOK_SECRET else ""
    if not secret:
        raise CardPaymentsOff("Stripe webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET is not set).")
    try:
        event = stripe.Webhook.construct_event(payload.decode("utf-8"), signature, secret)
    except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError):
        raise WebhookRejected("The Stripe signature of this webhook does not verify; it was ignored.") from None
    body: dict[str, Any] = json.loads(json.dumps(event.to_dict()))
    if not str(body.get("id", "")).startswith("evt_") or "type" not in body:
        raise WebhookRejected("This is not a Stripe event.")
    return body


_EVENT_INTENT = {
    "payment_intent.succeeded": "id",
    "payment_intent.canceled": "id",
    "charge.refunded": "payment_intent",
}


def _apply_event(session: Session, event: dict[str, Any]) -> bool:
    """Apply one new event to the card payment it names (on the account it came from); False if none."""
    field = _EVENT_INTENT.get(event["type"])
    account, obj = event.get("account"), (event.get("data") or {}).get("object") or {}
    if field is None or not account or not obj.get(field):
        return False
    payment = session.execute(
        text("SELECT * FROM card_payments WHERE payment_intent_id = :pi AND stripe_account_id = :a FOR UPDATE"),
        {"pi": obj[field], "a": account},
    ).first()
    if payment is None:
        return False
    system = TenantContext(tenant_id=payment.tenant_id, user_id=None, role=SYSTEM)
    details = {"source": "webhook", "event_id": event["id"]}
    if event["type"] == "charge.refunded":
        refunded = from_minor(int(obj.get("amount_refunded") or 0), payment.currency)
        _apply_refunded(session, payment, refunded)
        _financial_event(session, system, "card.refunded", payment, {**details, "amount_refunded": refunded})
    elif payment.status not in CardStatus.open():
        return False
    elif event["type"] == "payment_intent.succeeded":
        captured = from_minor(int(obj.get("amount_received") or 0), payment.currency)
        _set_status(session, payment.id, CardStatus.SUCCEEDED, amount_captured=captured)
        _financial_event(session, system, "card.captured", payment, {**details, "amount": captured})
    else:
        _set_status(session, payment.id, CardStatus.CANCELED)
        _financial_event(session, system, "card.released", payment, details)
    return True


# --- the financial audit chain -------------------------------------------------------------------------


def _financial_event(session: Session, ctx: TenantContext, action: str, payment: Any, details: dict[str, Any]) -> None:
    """Card money movements go on the branch's financial audit chain, in the change's own transaction."""
    branch_id = session.execute(
        text("SELECT branch_id FROM bills WHERE tenant_id = :t AND id = :b"),
        {"t": payment.tenant_id, "b": payment.bill_id},
    ).scalar_one()
    record_financial_event(
        session,
        ctx,
        branch_id,
        action,
        "card_payment",
        payment.id,
        {
            "payment_intent": payment.payment_intent_id,
            "bill_id": payment.bill_id,
            "currency": payment.currency,
            **details,
        },
    )
