"""REST: /api/v1/bills and /api/v1/payments. Every write takes an Idempotency-Key; money is a decimal string."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from starlette.concurrency import run_in_threadpool

from backend.billing.bills.repository import Bill
from backend.billing.bills.service import create_draft, finalize_bill, get_bill, update_draft, void_bill
from backend.http import IdempotencyKey, RequirePermission, idempotent_json, in_tenant, rest_schema
from tenants.context import TenantContext

router = APIRouter(tags=["billing"])
Money = Annotated[str, Field(pattern=r"^\d{1,10}(\.\d{1,4})?$", examples=["2.50"])]

_LINE_EXAMPLE: dict[str, JsonValue] = {
    "medicine_id": "6f1c2a4e-8d2b-4c1e-9a37-0b5e7d1f2a10",
    "quantity": 2,
    "line_discount": "0.50",
}
_RX_LINE_EXAMPLE: dict[str, JsonValue] = {"fill_id": "0b9d8c7e-1a2b-4c3d-8e9f-112233445566"}


class BillLineIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_LINE_EXAMPLE, _RX_LINE_EXAMPLE]})

    medicine_id: str = Field("", description="Required unless the line is a prescription fill (`fill_id`)")
    quantity: int = Field(1, gt=0, le=100_000, description="In the medicine's dispensing unit")
    line_discount: Money = Field("0", description="Amount off this line, in the branch's price basis")
    prescription_ref: str = Field(
        "",
        max_length=60,
        description="Only where the chain's counter rule is 'reference_or_override': the prescription's reference "
        "for a prescription-only line. Under the US rule ('fill_required', the default) a prescription-only or "
        "controlled line is refused (422, error 'fill_required') unless it is a `fill_id`; a controlled line "
        "always is",
    )
    override_reason: str = Field(
        "",
        max_length=300,
        description="Only under 'reference_or_override': a pharmacist's reason to supply a prescription-only (not "
        "controlled) line without a reference (never an API token). Under the US rule: POST "
        "/api/v1/emergency-supplies, then sell its fill",
    )
    fill_id: str | None = Field(
        None,
        description="A checked prescription fill handed over (its label's barcode names it): the fill's medicine, "
        "quantity and price or copay; its stock already moved, so finalizing takes none",
    )


class DraftIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"lines": [_LINE_EXAMPLE], "bill_discount": "1.00"}]})

    lines: list[BillLineIn] = Field(min_length=1, max_length=200)
    bill_discount: Money = Field("0", description="Amount off the whole bill, shared across lines by amount")
    customer_name: str = Field("", max_length=120)
    patient_id: str | None = Field(None, description="A patient of the chain (GET /patients); none for a walk-in")


class NewBillIn(DraftIn):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "branch_id": "2d5f7a9c-3b1e-4f6a-8c2d-9e0f1a2b3c4d",
                    "lines": [_LINE_EXAMPLE, _RX_LINE_EXAMPLE],
                    "bill_discount": "1.00",
                    "customer_name": "",
                }
            ]
        }
    )

    branch_id: str


class PickupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    picked_up_by: Literal["patient", "agent"]
    picked_up_by_name: str = Field(max_length=120)
    counselling: Literal["accepted", "declined"] = Field(description="The answer to the pharmacist's offer to counsel")
    counsel_signature_id: str = Field(
        description="A pharmacist's electronic signature of this bill (POST /signatures), made in the last five minutes"
    )
    signature_png: str = Field(
        max_length=420_000, description="The patient's or agent's signature: a PNG, base64 (a data URL is accepted)"
    )
    id_type: str = Field("", max_length=40, description="Needed for controlled substances (the chain's setting)")
    id_number: str = Field("", max_length=40)


class FinalizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pickup: PickupIn | None = Field(None, description="Required when the bill hands over prescription fills")


class VoidIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "customer changed their mind at the till"}]})

    reason: str = Field(min_length=3, max_length=300)


class BillLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_no: int
    medicine_id: str
    description: str
    schedule: str
    quantity: int
    unit_price: Decimal
    line_discount: Decimal
    bill_discount_share: Decimal
    tax_category: str
    tax_rate: Decimal = Field(description="Percent")
    net_amount: Decimal
    tax_amount: Decimal
    gross_amount: Decimal
    prescription_ref: str
    override_reason: str
    override_by: str | None
    fill_id: str | None = None


class TaxBandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tax_category: str
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    bill_id: str
    method: str
    amount: Decimal = Field(description="Applied to the bill")
    tendered: Decimal
    change_due: Decimal
    reference: str
    received_at: datetime


# A bill; amounts are decimal strings. Its fields are the domain Bill's (repository.py), in its order.
BillOut = rest_schema(
    "BillOut",
    Bill,
    doc="A bill; amounts are decimal strings: lines and tax at 4 decimals, `total_due` in the currency's minor unit.",
    module=__name__,
    fields={
        "number": (str | None, Field(description="Branch code, local year, sequence: given at finalize, no gaps")),
        "lines": (list[BillLineOut], ...),
        "taxes": (list[TaxBandOut], ...),
        "payments": (list[PaymentOut], ...),
        "patient_id": (str | None, Field(None, description="The patient sold to; null for a walk-in customer")),
    },
    config=ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "branch_id": "2d5f7a9c-3b1e-4f6a-8c2d-9e0f1a2b3c4d",
                    "number": "B1-2026-000123",
                    "status": "finalized",
                    "currency": "USD",
                    "prices_include_tax": False,
                    "customer_name": "",
                    "bill_discount": "0.0000",
                    "lines_total": "9.9800",
                    "discount_total": "0.5000",
                    "net_total": "9.4800",
                    "tax_total": "0.8414",
                    "total": "10.3214",
                    "rounding": "-0.0014",
                    "total_due": "10.32",
                    "amount_paid": "0.00",
                    "outstanding": "10.32",
                    "lines": [],
                    "taxes": [
                        {
                            "tax_category": "standard",
                            "tax_rate": "8.8750",
                            "net_amount": "9.4800",
                            "tax_amount": "0.8414",
                        }
                    ],
                    "payments": [],
                    "created_at": "2026-11-28T14:03:11Z",
                    "finalized_at": "2026-11-28T14:04:02Z",
                    "voided_at": None,
                    "void_reason": "",
                }
            ]
        },
    ),
)


def _bill_out(bill: object) -> BaseModel:
    return BillOut.model_validate(bill)


Selling = Annotated[TenantContext, Depends(RequirePermission("billing.sell"))]


@router.post("/bills", summary="Open a draft bill (priced from the catalog; no stock moves yet)", status_code=201)
async def create_bill(body: NewBillIn, key: IdempotencyKey, ctx: Selling) -> JSONResponse:
    fields = body.model_dump()
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "create", **fields},
        201,
        lambda session: _bill_out(create_draft(session, ctx, **fields)),
    )


@router.get("/bills/{bill_id}", summary="A bill with its lines, tax per category and payments", response_model=BillOut)
async def read_bill(
    bill_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("billing.view"))]
) -> dict[str, Any]:
    bill = await in_tenant(ctx, get_bill, bill_id)
    return _bill_out(bill).model_dump(mode="json")


@router.put(
    "/bills/{bill_id}",
    summary="Replace a draft's lines, discount and customer (409 once finalized)",
    response_model=BillOut,
    responses={409: {"description": "The bill is no longer a draft"}},
)
async def update_bill(bill_id: str, body: DraftIn, key: IdempotencyKey, ctx: Selling) -> JSONResponse:
    fields = body.model_dump()
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "update", "bill_id": bill_id, **fields},
        200,
        lambda session: _bill_out(update_draft(session, ctx, bill_id, **fields)),
    )


@router.post(
    "/bills/{bill_id}/finalize",
    summary="Issue the bill: take its stock, give it the branch's next number (all or nothing)",
    response_model=BillOut,
    responses={409: {"description": "Out of stock (nothing sold, still a draft) or not a draft"}},
)
async def finalize(bill_id: str, key: IdempotencyKey, ctx: Selling, body: FinalizeIn | None = None) -> JSONResponse:
    pickup = body.pickup if body is not None else None
    given = None if pickup is None else {**pickup.model_dump(), "signature_png": _png(pickup.signature_png)}
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "finalize", "bill_id": bill_id, "pickup": None if pickup is None else pickup.model_dump()},
        200,
        lambda session: _bill_out(finalize_bill(session, ctx, bill_id, pickup=given)),
    )


def _png(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded.split(",", 1)[-1], validate=True)
    except (binascii.Error, ValueError):
        return b""  # the service answers "must be a PNG" on the field


@router.post(
    "/bills/{bill_id}/void",
    summary="Discard a draft, or void an unpaid issued bill (manager; its stock goes back)",
    response_model=BillOut,
    responses={409: {"description": "Already voided, or paid (a credit note corrects it)"}},
)
async def void(bill_id: str, body: VoidIn, key: IdempotencyKey, ctx: Selling) -> JSONResponse:
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "void", "bill_id": bill_id, **body.model_dump()},
        200,
        lambda session: _bill_out(void_bill(session, ctx, bill_id, reason=body.reason)),
    )
