"""REST: credit notes. `POST /bills/{id}/credit-notes` refunds a paid bill (Idempotency-Key); money is a decimal string.

Mounted by backend/api.py with `app.include_router(credit_notes_router, prefix=API_PREFIX)`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backend.billing.credit_notes.service import credit_notes_of_bill, get_credit_note, issue_credit_note
from backend.billing.statuses import BillStatus
from backend.http import IdempotencyKey, RequirePermission, idempotent_json, in_tenant
from tenants.context import TenantContext

router = APIRouter(tags=["billing"])
Viewing = Annotated[TenantContext, Depends(RequirePermission("billing.view"))]


class ReturnedLineIn(BaseModel):
    line_no: int = Field(gt=0, description="The bill line the units were sold on")
    quantity: int = Field(gt=0, le=100_000, description="Units returned, at most sold minus already credited")
    restock: bool = Field(description="True: unopened, back on the lots they were sold from; false: opened or damaged")


class CreditNoteIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lines": [{"line_no": 1, "quantity": 1, "restock": True}],
                    "reason": "customer returned an unopened pack",
                    "refund_method": "cash",
                }
            ]
        }
    )

    lines: list[ReturnedLineIn] = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=3, max_length=300)
    refund_method: Literal["cash", "other", "card"] = Field(
        "cash", description="How the money goes back; a bill paid by card is refunded to the card"
    )
    reference: str = Field("", max_length=100, description="Needed for `other` (terminal or voucher reference)")


class CreditedLotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    batch_id: str
    lot_number: str
    expiry_date: date
    quantity: int


class CreditNoteLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    line_no: int
    description: str
    quantity: int
    restock: bool
    net_amount: Decimal
    tax_amount: Decimal
    gross_amount: Decimal
    lots: list[CreditedLotOut]


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    method: str
    amount: Decimal
    reference: str
    refunded_at: datetime


class CreditNoteOut(BaseModel):
    """A credit note: amounts credited at 4 decimals, `amount_refunded` in the currency's minor unit."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str = Field(description="CN-, branch code, local year, sequence: no gaps", examples=["CN-B1-2026-000001"])
    bill_id: str
    bill_number: str
    bill_status: BillStatus = Field(description="partially_refunded or refunded, after this credit note")
    branch_id: str
    currency: str
    reason: str
    net_total: Decimal
    tax_total: Decimal
    total: Decimal
    amount_refunded: Decimal
    created_by: str | None
    created_at: datetime
    lines: list[CreditNoteLineOut]
    refunds: list[RefundOut]


def _out(note: object) -> CreditNoteOut:
    return CreditNoteOut.model_validate(note)


@router.post(
    "/bills/{bill_id}/credit-notes",
    summary="Refund units of a paid bill: a numbered credit note, resaleable units back on their lots",
    status_code=201,
    response_model=CreditNoteOut,
    responses={
        409: {"description": "The bill is not paid in full, already refunded, or paid by card without card refunds"},
        422: {"description": "More units than are left to refund, an unknown line, or a bad tender"},
    },
)
async def refund_bill(
    bill_id: str,
    body: CreditNoteIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("billing.refund"))],
) -> JSONResponse:
    fields = body.model_dump()
    lines = [(line["line_no"], line["quantity"], line["restock"]) for line in fields.pop("lines")]
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "credit_note", "bill_id": bill_id, "lines": lines, **fields},
        201,
        lambda session: _out(issue_credit_note(session, ctx, bill_id, lines, **fields)),
    )


@router.get("/bills/{bill_id}/credit-notes", summary="The bill's credit notes, oldest first")
async def bill_credit_notes(bill_id: str, ctx: Viewing) -> list[dict[str, Any]]:
    notes = await in_tenant(ctx, credit_notes_of_bill, bill_id)
    return [_out(note).model_dump(mode="json") for note in notes]


@router.get(
    "/credit-notes/{credit_note_id}",
    summary="A credit note with its lines, lots and refunds",
    response_model=CreditNoteOut,
)
async def read_credit_note(credit_note_id: str, ctx: Viewing) -> dict[str, Any]:
    note = await in_tenant(ctx, get_credit_note, credit_note_id)
    return _out(note).model_dump(mode="json")
