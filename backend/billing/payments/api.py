"""REST: card payments through Stripe Connect, and Stripe's webhook.

Writes take an Idempotency-Key (the Stripe calls behind them carry keys derived from it). The
webhook is public: Stripe's signature is its authentication, checked offline with the signing secret.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backend.billing.bills.api import BillOut, Money, PaymentOut
from backend.billing.payments.cards import (
    CardCompletion,
    complete_card_payment,
    get_card_payment,
    handle_webhook,
    start_card_payment,
)
from backend.billing.payments.service import record_payment
from backend.billing.statuses import BillStatus, CardStatus
from backend.http import IdempotencyKey, RequirePermission, idempotent_answer, idempotent_json, in_tenant
from tenants.context import TenantContext

# Cash and other tenders are documented with the bills; card payments have their own section.
router = APIRouter()
CARDS = "card payments"
Selling = Annotated[TenantContext, Depends(RequirePermission("billing.sell"))]


class CardPaymentOut(BaseModel):
    """A card payment: a PaymentIntent on the chain's Stripe account; amounts in the bill's currency."""

    model_config = ConfigDict(from_attributes=True)

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


class StartedOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "card_payment": {
                        "id": "5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                        "bill_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                        "payment_intent_id": "pi_3QabcDEF",
                        "amount": "10.32",
                        "currency": "USD",
                        "status": "requires_payment_method",
                        "amount_captured": "0.00",
                        "amount_refunded": "0.00",
                        "bill_payment_id": None,
                        "created_at": "2026-11-29T10:02:11Z",
                        "updated_at": "2026-11-29T10:02:11Z",
                    },
                    "client_secret": "pi_3QabcDEF_secret_xyz",
                }
            ]
        },
    )

    card_payment: CardPaymentOut
    client_secret: str = Field(description="For the Terminal reader or Stripe's hosted element; not a card")


class CompletionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    card_payment: CardPaymentOut
    bill: BillOut  # type: ignore[valid-type]  # built from the domain Bill by rest_schema
    released: bool = Field(description="True: the sale failed and the card's authorization was released")
    error: str | None = None
    message: str = ""
    field: str | None = None


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    received: bool
    event_id: str
    replayed: bool
    applied: bool


def _completion(result: CardCompletion) -> tuple[int, dict[str, Any]]:
    body = CompletionOut.model_validate(result)
    return (409 if result.released else 200), body.model_dump(mode="json")


@router.post(
    "/bills/{bill_id}/card-payments",
    tags=[CARDS],
    summary="Start a card payment for a draft bill (a PaymentIntent on the chain's Stripe account)",
    status_code=201,
    response_model=StartedOut,
    responses={
        409: {"description": "Not a draft, or no Stripe account connected"},
        503: {"description": "Card payments are not configured on this server"},
    },
)
async def start(bill_id: str, key: IdempotencyKey, ctx: Selling) -> JSONResponse:
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "card.start", "bill_id": bill_id},
        201,
        lambda session: StartedOut.model_validate(start_card_payment(session, ctx, bill_id, key)),
    )


@router.get(
    "/card-payments/{payment_id}", tags=[CARDS], summary="A card payment as last seen", response_model=CardPaymentOut
)
async def read(
    payment_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("billing.view"))]
) -> dict[str, Any]:
    payment = await in_tenant(ctx, get_card_payment, payment_id)
    return CardPaymentOut.model_validate(payment).model_dump(mode="json")


@router.post(
    "/card-payments/{payment_id}/complete",
    tags=[CARDS],
    summary="Authorized card: finalize the bill and capture; a failed finalize releases the card (409)",
    response_model=CompletionOut,
    responses={
        402: {"description": "The card is declined or not authorized yet; the bill is still a draft"},
        409: {"description": "The sale failed (e.g. out of stock): nothing sold, the authorization released"},
        503: {"description": "Card payments are not configured, or Stripe cannot be reached"},
    },
)
async def complete(payment_id: str, key: IdempotencyKey, ctx: Selling) -> JSONResponse:
    return await run_in_threadpool(
        idempotent_answer,
        ctx,
        key,
        {"action": "card.complete", "payment_id": payment_id},
        lambda session: _completion(complete_card_payment(session, ctx, payment_id, key)),
    )


@router.post(
    "/stripe/webhook",
    tags=[CARDS],
    summary="Stripe's webhook (public; signed with the webhook secret; each event applied once)",
    response_model=WebhookOut,
    responses={400: {"description": "The signature does not verify; nothing changed"}},
)
async def stripe_webhook(
    request: Request, signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None
) -> dict[str, Any]:
    payload = await request.body()
    outcome = await run_in_threadpool(handle_webhook, payload, signature)
    return {"received": True, "event_id": outcome.event_id, "replayed": outcome.replayed, "applied": outcome.applied}


class PaymentIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"bill_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "tendered": "20.00", "method": "cash"},
                {
                    "bill_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "tendered": "12.34",
                    "method": "other",
                    "reference": "card terminal 7 / auth 123456",
                },
            ]
        }
    )

    bill_id: str
    tendered: Money = Field(description="Money handed over; cash above what is owed comes back as change")
    method: Literal["cash", "other"] = "cash"
    reference: str = Field("", max_length=100, description="Needed for `other` (terminal or voucher reference)")


class PaymentReceiptOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "payment": {
                        "id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
                        "bill_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                        "method": "cash",
                        "amount": "10.32",
                        "tendered": "20.00",
                        "change_due": "9.68",
                        "reference": "",
                        "received_at": "2026-11-28T14:04:40Z",
                    },
                    "bill_status": "paid",
                    "outstanding": "0.00",
                }
            ]
        },
    )

    payment: PaymentOut
    bill_status: BillStatus
    outstanding: Decimal


@router.post(
    "/payments",
    tags=["billing"],
    summary="Take a payment for an issued bill (cash gives change)",
    status_code=201,
    response_model=PaymentReceiptOut,
)
async def pay(body: PaymentIn, key: IdempotencyKey, ctx: Selling) -> JSONResponse:
    fields = body.model_dump()
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "pay", **fields},
        201,
        lambda session: PaymentReceiptOut.model_validate(record_payment(session, ctx, **fields)),
    )
