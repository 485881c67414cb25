"""REST for refills, transfers and unclaimed fills (Idempotency-Key on every write):

- POST /api/v1/prescriptions/{id}/refills: a refill request; 201 with the fill, or 200 with the renewal
  request recorded when the prescription has no refills left, has expired or is a CII
- POST /api/v1/prescriptions/{id}/transfers: to another branch (`branch_id`) or another pharmacy
- POST /api/v1/fills/{id}/return-to-stock: an unclaimed fill back on its lots
- POST /api/v1/renewal-requests/{id}/answer: the prescriber's answer (approved: a new prescription with the
  quantity and refills authorised, sent to verification; denied: the prescriber's reason)
- GET /api/v1/branches/{id}/renewal-requests, GET /api/v1/branches/{id}/unclaimed-fills

A renewal answer is a pharmacist's, or the e-prescribing integration's with an admin token
(`prescriptions.renew`). Transfers and returns are a pharmacist's own acts (`prescriptions.transfer`,
`prescriptions.return`): no API
token holds them, so tokens get 403, as for the final check. A write's stored answer carries ids, codes and
statuses, never patient data."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backend.http import IdempotencyKey, RequirePermission, idempotent_answer, idempotent_json, in_tenant
from backend.prescriptions import refills, renewals, transfers, unclaimed
from backend.prescriptions.enums import RefillSource, RenewalStatus, RxSource
from tenants.context import TenantContext

router = APIRouter(tags=["prescriptions"])


class RefillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: RefillSource = Field(RefillSource.STAFF, description="Who asked: staff, phone, portal or auto")
    partial: bool = Field(False, description="When the shelf is short, fill what is there and owe the rest")


@router.post(
    "/prescriptions/{prescription_id}/refills",
    summary="Request a refill: a fill when one is due, else a renewal request to the prescriber",
    status_code=201,
)
async def request_refill(
    prescription_id: str,
    body: RefillIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.refill"))],
) -> Any:
    def act(session: Any) -> tuple[int, dict[str, Any]]:
        outcome = refills.request_refill(session, ctx, prescription_id, body.source, partial=body.partial)
        fill, renewal = outcome.fill, outcome.renewal
        if renewal is not None:
            return 200, {
                "outcome": "renewal_requested",
                "message": outcome.message,
                "renewal": {"id": renewal.id, "status": renewal.status.value, "reason": renewal.reason},
            }
        return 201, {
            "outcome": "filled",
            "message": outcome.message,
            "fill": None
            if fill is None
            else {"id": fill.id, "code": fill.code, "quantity": fill.quantity, "owed_after": fill.owed_after},
        }

    request = {"action": "refill", "id": prescription_id, **body.model_dump(mode="json")}
    return await run_in_threadpool(idempotent_answer, ctx, key, request, act)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    branch_id: str | None = Field(None, description="To another branch of the chain; else to another pharmacy")
    pharmacy_name: str = Field("", max_length=120)
    pharmacy_address: str = Field("", max_length=300)
    pharmacy_phone: str = Field("", max_length=20)
    pharmacy_npi: str = Field("", max_length=10)
    pharmacy_dea: str = Field("", max_length=9, description="Required for a controlled substance")
    other_pharmacist: str = Field("", max_length=120, description="The receiving pharmacist's name")


@router.post(
    "/prescriptions/{prescription_id}/transfers",
    summary="Transfer a prescription to another branch or another pharmacy (a pharmacist's act)",
    status_code=201,
)
async def transfer(
    prescription_id: str,
    body: TransferIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.transfer"))],
) -> Any:
    def act(session: Any) -> dict[str, Any]:
        if body.branch_id:
            done = transfers.transfer_to_branch(session, ctx, prescription_id, body.branch_id)
        else:
            done = transfers.transfer_out(session, ctx, prescription_id, **body.model_dump(exclude={"branch_id"}))
        return {"id": done.id, "kind": done.kind.value, "prescription_id": done.prescription_id}

    request = {"action": "transfer", "id": prescription_id, **body.model_dump()}
    return await run_in_threadpool(idempotent_json, ctx, key, request, 201, act)


@router.post("/fills/{fill_id}/return-to-stock", summary="Return an unclaimed fill to stock (a pharmacist's act)")
async def return_to_stock(
    fill_id: str,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.return"))],
) -> Any:
    def act(session: Any) -> dict[str, Any]:
        done = unclaimed.return_to_stock(session, ctx, fill_id)
        return {"id": done.id, "code": done.code, "status": done.status.value}

    return await run_in_threadpool(idempotent_json, ctx, key, {"action": "return_to_stock", "id": fill_id}, 200, act)


@router.get("/branches/{branch_id}/renewal-requests", summary="A branch's renewal requests to prescribers")
async def renewal_requests(
    branch_id: str,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.view"))],
    status: RenewalStatus = RenewalStatus.REQUESTED,
) -> Any:
    found = await in_tenant(ctx, refills.renewal_requests, branch_id, status=status)
    return [jsonable_encoder(asdict(r)) for r in found]


@router.get("/branches/{branch_id}/unclaimed-fills", summary="Checked fills not picked up for the chain's N days")
async def unclaimed_fills(
    branch_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.view"))]
) -> Any:
    days, found = await in_tenant(ctx, unclaimed.unclaimed_fills, branch_id)
    return {"unclaimed_days": days, "fills": [jsonable_encoder(asdict(f)) for f in found]}


class RenewalAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: RenewalStatus = Field(description="approved or denied")
    reason: str = Field("", max_length=500, description="The prescriber's reason (required for a denial)")
    quantity: int | None = Field(None, description="The quantity authorised (approved)")
    refills: int | None = Field(None, description="The refills authorised (approved)")
    source: RxSource = Field(RxSource.ELECTRONIC, description="How the new prescription came: electronic, fax, phone")


@router.post(
    "/renewal-requests/{renewal_id}/answer",
    summary="Record the prescriber's answer to a renewal request (a pharmacist's act)",
)
async def answer_renewal(
    renewal_id: str,
    body: RenewalAnswerIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.renew"))],
) -> Any:
    def act(session: Any) -> dict[str, Any]:
        done = renewals.answer_renewal(
            session,
            ctx,
            renewal_id,
            body.decision,
            reason=body.reason,
            quantity=body.quantity,
            refills=body.refills,
            source=body.source,
        )
        return {
            "id": done.id,
            "status": done.status.value,
            "prescription_id": done.prescription_id,
            "renewed_as": done.renewed_as,
            "renewed_as_rx": done.renewed_as_rx,
        }

    request = {"action": "renewal_answer", "id": renewal_id, **body.model_dump(mode="json")}
    return await run_in_threadpool(idempotent_json, ctx, key, request, 200, act)
