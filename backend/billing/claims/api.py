"""REST: insurance claims. Payers, patients' coverage, claims and their lifecycle, reconciliation, CSV out and in.

Reading needs `billing.view`; every write needs `claims.manage` and an Idempotency-Key. Money is a
decimal string in requests and responses. Mounted by backend/api.py with
`app.include_router(claims_router, prefix=API_PREFIX)`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field, TypeAdapter, field_validator
from starlette.concurrency import run_in_threadpool

from backend.billing.claims import service as claims
from backend.billing.statuses import ClaimStatus
from backend.http import IdempotencyKey, RequirePermission, idempotent_json, in_tenant
from tenants.context import TenantContext

router = APIRouter(tags=["claims"])
Viewing = Annotated[TenantContext, Depends(RequirePermission("billing.view"))]
Managing = Annotated[TenantContext, Depends(RequirePermission("claims.manage"))]


def _json(value: Any) -> Any:
    """A service answer as JSON, money as decimal strings (pydantic's JSON mode)."""
    return TypeAdapter(type(value)).dump_python(value, mode="json")


class PayerIn(BaseModel):
    name: str = Field(min_length=1, max_length=120, examples=["Acme Health"])
    payer_code: str = Field(min_length=1, max_length=40, examples=["ACME01"])
    contact: str = Field("", max_length=300)


class CoverageIn(BaseModel):
    payer_id: str
    member_id: str = Field(min_length=1, max_length=60)
    plan: str = Field("", max_length=120)
    group_number: str = Field("", max_length=60)


class CoverageActiveIn(BaseModel):
    active: bool


class ClaimIn(BaseModel):
    bill_id: str
    coverage_id: str
    claimed_amount: str = Field(description="The insurer's portion; the copay is the rest of the amount due")


class ClaimDecisionIn(BaseModel):
    decision: ClaimStatus = Field(description="approved, partially_approved or rejected")
    approved_amount: str = Field("", description="Needed for partially_approved")
    reason: str = Field("", max_length=300, description="Needed for rejected")

    @field_validator("decision")
    @classmethod
    def _a_decision(cls, value: ClaimStatus) -> ClaimStatus:
        if value not in ClaimStatus.decisions():
            raise ValueError("the decision is approved, partially_approved or rejected")
        return value


class ClaimPaymentIn(BaseModel):
    paid_amount: str = Field(description="At most the approved amount; recorded on the bill as 'other', claim:<id>")


class ClaimsImportIn(BaseModel):
    content: str = Field(max_length=claims.MAX_IMPORT_BYTES, description="The CSV (docs/claims-export.md)")


@router.get("/payers", summary="The chain's payers")
async def payers(ctx: Viewing) -> list[dict[str, Any]]:
    return _json(await run_in_threadpool(claims.list_payers, ctx))  # type: ignore[no-any-return]


@router.post("/payers", summary="Add a payer (insurer)", status_code=201)
async def create_payer(body: PayerIn, key: IdempotencyKey, ctx: Managing) -> JSONResponse:
    fields = body.model_dump()
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "payer", **fields},
        201,
        lambda session: _json(claims.create_payer(session, ctx, **fields)),
    )


@router.get("/patients/{patient_id}/coverages", summary="A patient's coverages, active first")
async def coverages(patient_id: str, ctx: Viewing) -> list[dict[str, Any]]:
    return _json(await run_in_threadpool(claims.coverages_of_patient, ctx, patient_id))  # type: ignore[no-any-return]


@router.post("/patients/{patient_id}/coverages", summary="Record a patient's coverage by a payer", status_code=201)
async def add_coverage(patient_id: str, body: CoverageIn, key: IdempotencyKey, ctx: Managing) -> JSONResponse:
    fields = body.model_dump()
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "coverage", "patient_id": patient_id, **fields},
        201,
        lambda session: _json(claims.add_coverage(session, ctx, patient_id=patient_id, **fields)),
    )


@router.put("/coverages/{coverage_id}/active", summary="End or restore a coverage")
async def coverage_active(coverage_id: str, body: CoverageActiveIn, ctx: Managing) -> dict[str, Any]:
    await in_tenant(ctx, claims.set_coverage_active, coverage_id, active=body.active)
    return {"coverage_id": coverage_id, "active": body.active}


@router.get("/claims", summary="Claims newest first, by status, payer and the (UTC) day drafted")
async def list_claims(
    ctx: Viewing,
    status: str | None = None,
    payer_id: str | None = None,
    start: date | None = None,
    end: date | None = None,
    page: int = 0,
) -> dict[str, Any]:
    found = await in_tenant(ctx, claims.list_claims, status=status, payer_id=payer_id, start=start, end=end, page=page)
    return _json(found)  # type: ignore[no-any-return]


@router.post(
    "/claims",
    summary="Draft the claim of an issued bill (one per bill)",
    status_code=201,
    responses={409: {"description": "The bill is not issued, or already has a claim"}},
)
async def draft_claim(body: ClaimIn, key: IdempotencyKey, ctx: Managing) -> JSONResponse:
    fields = body.model_dump()
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "claim", **fields},
        201,
        lambda session: _json(claims.draft_claim(session, ctx, **fields)),
    )


# Declared before /claims/{claim_id}, which would otherwise take these paths.
@router.get("/claims/reconciliation", summary="Per payer: claimed, approved (expected), received, outstanding")
async def reconciliation(start: date, end: date, ctx: Viewing) -> dict[str, Any]:
    return _json(await in_tenant(ctx, claims.reconciliation, start, end))  # type: ignore[no-any-return]


@router.get(
    "/claims/export.csv",
    summary="The chosen claims as the payer CSV (docs/claims-export.md)",
    response_class=PlainTextResponse,
)
async def export_csv(ctx: Managing, ids: Annotated[list[str], Query(min_length=1)]) -> PlainTextResponse:
    body = await in_tenant(ctx, claims.export_claims_csv, ids)
    return PlainTextResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="claims.csv"'},
    )


@router.post("/claims/import", summary="Apply payers' responses from a CSV: a report per row")
async def import_responses(body: ClaimsImportIn, key: IdempotencyKey, ctx: Managing) -> JSONResponse:
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "claims_import", "content": body.content},
        200,
        lambda session: _json(claims.import_responses_csv(session, ctx, body.content)),
    )


@router.get("/claims/{claim_id}", summary="A claim with its history")
async def read_claim(claim_id: str, ctx: Viewing) -> dict[str, Any]:
    return _json(await in_tenant(ctx, claims.get_claim, claim_id))  # type: ignore[no-any-return]


@router.post(
    "/claims/{claim_id}/submit",
    summary="Mark a draft claim as sent to the payer",
    responses={409: {"description": "Only a draft claim can be submitted"}},
)
async def submit(claim_id: str, key: IdempotencyKey, ctx: Managing) -> JSONResponse:
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "claim_submit", "claim_id": claim_id},
        200,
        lambda session: _json(claims.submit_claim(session, ctx, claim_id)),
    )


@router.post(
    "/claims/{claim_id}/decision",
    summary="Record the payer's decision on a submitted claim",
    responses={409: {"description": "Only a submitted claim can be decided"}},
)
async def decision(claim_id: str, body: ClaimDecisionIn, key: IdempotencyKey, ctx: Managing) -> JSONResponse:
    fields = body.model_dump()
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "claim_decision", "claim_id": claim_id, **fields},
        200,
        lambda session: _json(claims.record_decision(session, ctx, claim_id, **fields)),
    )


@router.post(
    "/claims/{claim_id}/payment",
    summary="Record the payer's payment: the claim is paid and the bill takes the payment",
    responses={409: {"description": "Only an approved or partially approved claim can be paid"}},
)
async def payment(claim_id: str, body: ClaimPaymentIn, key: IdempotencyKey, ctx: Managing) -> JSONResponse:
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "claim_payment", "claim_id": claim_id, "paid_amount": body.paid_amount},
        200,
        lambda session: _json(claims.record_claim_payment(session, ctx, claim_id, body.paid_amount)),
    )
