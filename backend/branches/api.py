"""REST: the chain's branches."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from backend.accounts.api import RequirePermission
from tenants.context import TenantContext
from tenants.directory import tenant_profile

router = APIRouter(tags=["branches"])


@router.get("/branches", summary="Branches of the chain")
async def branches(ctx: Annotated[TenantContext, Depends(RequirePermission("branches.view"))]) -> list[dict]:
    profile = await run_in_threadpool(tenant_profile, ctx)
    return [asdict(b) for b in profile.branches]
