"""Staff REST for the portal refill requests queue (issue 17 §2), with an admin token (`portal.queue`):

- GET /api/v1/portal-requests?branch=<id>: the branch's open requests (oldest first) and its decisions of the
  last 7 days, with the patient's name, the prescription, the source and the customer's note
- POST /api/v1/portal-requests/{id}/accept: the refill through the prescriptions service (`prescriptions.refill`
  too); 200 with the fill (or the renewal request it became); a refused refill (too early...) is 409 and the
  request stays open
- POST /api/v1/portal-requests/{id}/deny {"reason"}: a reason is required (422 without one)

Writes take an Idempotency-Key; their stored answers carry ids, codes and statuses, never patient data."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backend.http import IdempotencyKey, RequirePermission, idempotent_json, in_tenant
from backend.portal import queue
from tenants.context import TenantContext

router = APIRouter(tags=["portal"])


def _listed(r: queue.PortalRequest) -> dict[str, Any]:
    return jsonable_encoder({**asdict(r), "source_label": r.source_label, "status_label": r.status.label})


@router.get("/portal-requests", summary="A branch's portal refill requests: open ones and recent decisions")
async def portal_requests(
    branch: str, ctx: Annotated[TenantContext, Depends(RequirePermission("portal.queue"))]
) -> Any:
    found = await in_tenant(ctx, queue.portal_queue, branch)
    return {"open": [_listed(r) for r in found.open], "decided": [_listed(r) for r in found.decided]}


def _decided(done: queue.Decision) -> dict[str, Any]:
    r = done.request
    said = {"id": r.id, "status": r.status.value, "fill_id": r.fill_id, "fill_code": r.fill_code}
    return {**said, "message": done.message}


@router.post("/portal-requests/{request_id}/accept", summary="Accept a portal refill request: fill it")
async def accept(
    request_id: str, key: IdempotencyKey, ctx: Annotated[TenantContext, Depends(RequirePermission("portal.queue"))]
) -> Any:
    def act(session: Any) -> dict[str, Any]:
        return _decided(queue.accept_request(session, ctx, request_id))

    return await run_in_threadpool(idempotent_json, ctx, key, {"action": "portal_accept", "id": request_id}, 200, act)


class DenyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", max_length=500, description="Why (kept for the record; never sent to the customer)")


@router.post("/portal-requests/{request_id}/deny", summary="Deny a portal refill request with a reason")
async def deny(
    request_id: str,
    body: DenyIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("portal.queue"))],
) -> Any:
    def act(session: Any) -> dict[str, Any]:
        return _decided(queue.deny_request(session, ctx, request_id, body.reason))

    request = {"action": "portal_deny", "id": request_id, **body.model_dump()}
    return await run_in_threadpool(idempotent_json, ctx, key, request, 200, act)
