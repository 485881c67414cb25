"""REST: legal holds, for the chain's owner and its admin tokens (a legal department's system places a hold
the day a subpoena arrives). Periods and disposal stay on the owner's page: disposal is signed by a person.
Writes need an Idempotency-Key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backend.http import IdempotencyKey, RequirePermission, idempotent_json, in_tenant, rest_schema
from backend.retention.service import MAX_REASON, LegalHold, list_holds, place_hold, release_hold
from tenants.context import TenantContext

router = APIRouter(tags=["retention"])
Holding = Annotated[TenantContext, Depends(RequirePermission("retention.hold"))]

HoldOut = rest_schema(
    "HoldOut",
    LegalHold,
    doc="A legal hold: one patient's records (patient_id) or the whole chain's (patient_id null).",
    module=__name__,
)


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=MAX_REASON, examples=["Subpoena 2026-114, county court"])
    patient_id: str | None = Field(None, description="The patient; leave out to hold the whole chain's records")


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=MAX_REASON, examples=["Case closed by the court on 2027-03-01"])


@router.get("/retention/holds", summary="Legal holds, the ones in force first")
async def holds(ctx: Holding) -> list[dict]:
    found = await in_tenant(ctx, list_holds)
    return [HoldOut.model_validate(h).model_dump(mode="json") for h in found]


@router.post(
    "/retention/holds", summary="Place a legal hold on a patient's records or the whole chain's", status_code=201
)
async def place(body: HoldIn, key: IdempotencyKey, ctx: Holding) -> JSONResponse:
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "place_hold", **body.model_dump()},
        201,
        lambda session: HoldOut.model_validate(
            place_hold(session, ctx, reason=body.reason, patient_id=body.patient_id)
        ).model_dump(mode="json"),
    )


@router.post("/retention/holds/{hold_id}/release", summary="Release a legal hold, with the reason")
async def release(hold_id: str, body: ReleaseIn, key: IdempotencyKey, ctx: Holding) -> JSONResponse:
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "release_hold", "hold_id": hold_id, **body.model_dump()},
        200,
        lambda session: HoldOut.model_validate(release_hold(session, ctx, hold_id, reason=body.reason)).model_dump(
            mode="json"
        ),
    )
