"""REST for filling: POST /api/v1/prescriptions/{id}/fills (Idempotency-Key), GET .../{id}/fills,
GET /api/v1/fills/{id} (with its claim and pickup), GET /api/v1/fills/{id}/label.pdf and
POST /api/v1/fills/{id}/check (a pharmacist's own session: no API token holds `prescriptions.check`,
so tokens get 403). A write's stored answer is the fill's id, code,
quantity, what is owed and its status, never patient data."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backend.billing.claims.service import claim_of_fill
from backend.http import IdempotencyKey, RequirePermission, idempotent_json, in_tenant
from backend.prescriptions import fills, labels
from backend.prescriptions.pickup import pickup_of_fill
from tenants.context import TenantContext

router = APIRouter(tags=["prescriptions"])


class FillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: int | None = Field(None, description="Defaults to all that is owed")
    partial: bool = Field(False, description="When the shelf is short, fill what is there and owe the rest")


def _short(fill: fills.Fill) -> dict[str, Any]:
    return {
        "id": fill.id,
        "code": fill.code,
        "quantity": fill.quantity,
        "owed_after": fill.owed_after,
        "status": fill.status.value,
    }


@router.post("/prescriptions/{prescription_id}/fills", summary="Fill a verified prescription", status_code=201)
async def fill(
    prescription_id: str,
    body: FillIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.fill"))],
) -> Any:
    def act(session: Any) -> dict[str, Any]:
        return _short(
            fills.fill_prescription(session, ctx, prescription_id, quantity=body.quantity, partial=body.partial)
        )

    request = {"action": "fill", "id": prescription_id, **body.model_dump()}
    return await run_in_threadpool(idempotent_json, ctx, key, request, 201, act)


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    barcode: str = Field(max_length=20, description="The stock bottle's barcode as scanned")


@router.post("/fills/{fill_id}/check", summary="The pharmacist's final check against the stock bottle's barcode")
async def check(
    fill_id: str,
    body: CheckIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.check"))],
) -> Any:
    request = {"action": "final_check", "id": fill_id, **body.model_dump()}
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        request,
        200,
        lambda session: _short(fills.final_check(session, ctx, fill_id, body.barcode)),
    )


@router.get("/prescriptions/{prescription_id}/fills", summary="A prescription's fills with their lots")
async def list_fills(
    prescription_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.view"))]
) -> Any:
    found = await in_tenant(ctx, fills.fills_of, prescription_id)
    return [jsonable_encoder(asdict(f)) for f in found]


@router.get("/fills/{fill_id}", summary="A fill with its lots, its insurance claim and its pickup")
async def read_fill(
    fill_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.view"))]
) -> Any:
    def read(session: Any, ctx: TenantContext) -> dict[str, Any]:
        found = fills.get_fill(session, ctx, fill_id)  # checks the branch, writes the patient's access log
        claim = claim_of_fill(session, ctx, fill_id)
        handover = pickup_of_fill(session, ctx, fill_id)
        return {
            **asdict(found),
            "claim": None
            if claim is None
            else {
                "id": claim.id,
                "status": claim.status.value,
                "payer_name": claim.payer_name,
                "price": str(claim.bill_total),
                "claimed_amount": str(claim.claimed_amount),
                "approved_amount": None if claim.approved_amount is None else str(claim.approved_amount),
                "copay": str(claim.copay),
                "patient_pays": str(claim.patient_pays),
            },
            "pickup": None
            if handover is None
            else {
                "id": handover.id,
                "bill_id": handover.bill_id,
                "picked_up_by": handover.picked_up_by.value,
                "picked_up_by_name": handover.picked_up_by_name,
                "counselling": handover.counselling.value,
                "counselled_by": handover.counselled_by,
                "id_type": handover.id_type,
                "picked_up_at": handover.picked_up_at,
            },
        }

    return jsonable_encoder(await in_tenant(ctx, read))


@router.get("/fills/{fill_id}/label.pdf", summary="The fill's label (4 x 3 inches)", response_class=Response)
async def label(
    fill_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.view"))]
) -> Response:
    code, content = await in_tenant(ctx, labels.label_pdf, fill_id)
    return Response(
        content, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="label-{code}.pdf"'}
    )
