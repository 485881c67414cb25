"""REST: the chain's branches. Reading is `branches.view`; adding, editing and (de)activating is
`branches.manage` (the owner's admin tokens). Writes need an Idempotency-Key."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backend.branches.service import Branch, create_branch, get_branch, set_branch_active, update_branch
from backend.http import IdempotencyKey, RequirePermission, idempotent_json, in_tenant
from tenants.context import TenantContext
from tenants.directory import tenant_profile

router = APIRouter(tags=["branches"])
Viewing = Annotated[TenantContext, Depends(RequirePermission("branches.view"))]
Managing = Annotated[TenantContext, Depends(RequirePermission("branches.manage"))]


class Interval(BaseModel):
    opens: str = Field(examples=["09:00"], description="HH:MM, local time of the branch")
    closes: str = Field(examples=["18:00"], description="HH:MM after `opens`; 24:00 is midnight")


class BranchIn(BaseModel):
    """A whole branch: PUT replaces every field (an omitted optional field takes its default)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Old Town",
                    "code": "OT1",
                    "address": "4 Market Square, Springfield",
                    "phone": "+1 555 0100",
                    "time_zone": "America/Chicago",
                    "default_tax_rate": "8.25",
                    "reduced_tax_rate": "0",
                    "prices_include_tax": False,
                    "opening_hours": {
                        "mon": [{"opens": "09:00", "closes": "18:00"}],
                        "sat": [{"opens": "09:00", "closes": "13:00"}],
                        "sun": [],
                    },
                }
            ]
        },
    )

    name: str = Field(max_length=120)
    code: str = Field(max_length=10, description="1-10 letters, digits or hyphens; starts every bill number")
    address: str = Field("", max_length=300)
    phone: str = Field("", max_length=40)
    time_zone: str = Field(description="An IANA zone such as Europe/London")
    default_tax_rate: str = Field("0", description="Percent, e.g. 20 or 7.5")
    reduced_tax_rate: str = Field("0", description="Percent, for medicines in the reduced tax category")
    prices_include_tax: bool = False
    opening_hours: dict[str, list[Interval]] = Field(
        default_factory=dict,
        description="Per weekday (mon..sun) its opening intervals; a day left out or [] is closed; {} = not stated",
    )


class BranchUpdateIn(BranchIn):
    is_active: bool | None = Field(
        None, description="false deactivates the branch (history kept, no new sales or stock), true reactivates it"
    )


def _out(branch: Branch) -> dict[str, Any]:
    # Rates as decimal strings ("8.8750"), like money everywhere in the API: never a float.
    return jsonable_encoder(asdict(branch), custom_encoder={Decimal: str})  # type: ignore[no-any-return]


@router.get("/branches", summary="Branches of the chain (deactivated ones too, with is_active false)")
async def branches(ctx: Viewing) -> list[dict]:
    profile = await run_in_threadpool(tenant_profile, ctx)
    return [asdict(b) for b in profile.branches]


@router.get("/branches/{branch_id}", summary="One branch: address, phone, time zone, tax settings, opening hours")
async def read(branch_id: str, ctx: Viewing) -> JSONResponse:
    return JSONResponse(_out(await in_tenant(ctx, get_branch, branch_id)))


@router.post("/branches", summary="Add a branch (owner)", status_code=201)
async def create(body: BranchIn, key: IdempotencyKey, ctx: Managing) -> JSONResponse:
    fields = body.model_dump()
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "create_branch", **fields},
        201,
        lambda session: _out(create_branch(session, ctx, **fields)),
    )


@router.put("/branches/{branch_id}", summary="Replace a branch's details; is_active deactivates or reactivates it")
async def update(branch_id: str, body: BranchUpdateIn, key: IdempotencyKey, ctx: Managing) -> JSONResponse:
    fields = body.model_dump(exclude={"is_active"})

    def act(session):  # type: ignore[no-untyped-def]
        branch = update_branch(session, ctx, branch_id, **fields)
        if body.is_active is not None:
            branch = set_branch_active(session, ctx, branch_id, body.is_active)
        return _out(branch)

    return await run_in_threadpool(
        idempotent_json, ctx, key, {"action": "update_branch", "branch_id": branch_id, **body.model_dump()}, 200, act
    )
