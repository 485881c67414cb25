"""REST: the chain's delivery log of e-mails and texts (issue 18 §3) and resending a failed message.

The log shows kind, channel, masked recipient, status, the provider's reason and times, never a message's
subject or body. Resend needs an Idempotency-Key like every write."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from backend.http import IdempotencyKey, RequirePermission, idempotent_json, in_tenant, rest_schema
from backend.notifications.delivery import LogEntry, delivery_log, resend
from tenants.context import TenantContext

router = APIRouter(tags=["notifications"])
Viewing = Annotated[TenantContext, Depends(RequirePermission("notifications.view"))]
Resending = Annotated[TenantContext, Depends(RequirePermission("notifications.resend"))]

NotificationOut = rest_schema(
    "NotificationOut",
    LogEntry,
    doc="One e-mail or text message: kind, channel, masked recipient, status (queued, sent, failed, suppressed), "
    "the provider's reason and times. Never its subject or body.",
    module=__name__,
)


@router.get("/notifications", summary="The chain's delivery log, newest first")
async def notifications(
    ctx: Viewing,
    kind: str = Query("", description="A message kind, e.g. ready_for_pickup"),
    channel: str = Query("", description="email or sms"),
    status: str = Query("", description="queued, sent, failed or suppressed"),
    limit: int = Query(200, ge=1, le=1000),
) -> list[dict]:
    found = await in_tenant(ctx, delivery_log, kind=kind, channel=channel, status=status, limit=limit)
    return [NotificationOut.model_validate(e).model_dump(mode="json") for e in found]


@router.post("/notifications/{message_id}/resend", summary="Send a failed message again (a new attempt)")
async def resend_message(message_id: str, key: IdempotencyKey, ctx: Resending) -> JSONResponse:
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "notification_resend", "message_id": message_id},
        200,
        lambda session: NotificationOut.model_validate(resend(session, ctx, message_id)).model_dump(mode="json"),
    )
