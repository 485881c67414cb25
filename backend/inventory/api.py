"""REST: /api/v1/inventory — search, stock, receive, dispense, adjust. Writes need an Idempotency-Key."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from backend.http import IdempotencyKey, RequirePermission, idempotent_json, in_tenant
from backend.inventory.csv_export import export_catalog, export_movements, export_reorder_levels, export_stock
from backend.inventory.reorder import (
    MAX_BULK,
    list_reorder_levels,
    reorder_level,
    save_reorder_levels,
    set_reorder_level,
)
from backend.inventory.service import (
    adjust_stock,
    correct_stock,
    dispense,
    medicine_stock,
    receive_stock,
    search_medicines,
    transfer_stock,
)
from tenants.context import TenantContext
from tenants.directory import require_active_branch

router = APIRouter(prefix="/inventory", tags=["inventory"])


class ReceiveRequest(BaseModel):
    branch_id: str
    medicine_id: str
    lot_number: str = Field(min_length=1, max_length=60)
    expiry_date: str = Field(description="YYYY-MM-DD")
    quantity: int = Field(gt=0, description="In the medicine's dispensing unit")
    cost_price: str = Field("0", description="Per dispensing unit, up to 4 decimals")
    supplier_name: str = ""
    reference: str = ""


class AdjustRequest(BaseModel):
    batch_id: str
    change: int = Field(description="Signed change in dispensing units, e.g. -2")
    reason: str = Field(min_length=3, max_length=300)


class CorrectionRequest(BaseModel):
    batch_id: str
    quantity: int = Field(gt=0, description="In dispensing units; the endpoint says which way it moves")
    reason: str = Field(min_length=3, max_length=300, examples=["expired 2026-11, destroyed per SOP 4.2"])
    reference: str = Field("", description="e.g. the supplier's return authorisation or the recall notice")


class TransferRequest(BaseModel):
    batch_id: str
    to_branch_id: str
    quantity: int = Field(gt=0)
    note: str = ""


class DispenseRequest(BaseModel):
    branch_id: str
    medicine_id: str
    quantity: int = Field(gt=0)
    reference: str = ""


class ReorderLevelIn(BaseModel):
    """A level: manual numbers, or automatic (from forecasts; the numbers, if given, are its fallback
    until a forecast exists). Manual with both numbers null removes the level."""

    mode: Literal["manual", "automatic"] = "manual"
    reorder_point: int | None = Field(None, ge=0, description="Reorder when on hand is at or below this")
    reorder_quantity: int | None = Field(None, gt=0, description="How much to order then (dispensing units)")


class BranchReorderLevelIn(ReorderLevelIn):
    branch_id: str
    medicine_id: str


class ReorderLevelsIn(BaseModel):
    levels: list[BranchReorderLevelIn] = Field(max_length=MAX_BULK)


@router.get("/medicines", summary="Search the catalog (name, brand or barcode), with on-hand")
async def medicines(
    ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.view"))],
    q: str = "",
    sort: str = "name",
    page: int = 0,
    branch_id: str | None = None,
) -> dict[str, Any]:
    found, more = await in_tenant(ctx, search_medicines, q, sort=sort, page=page, branch_id=branch_id)
    return {"items": [asdict(m) for m in found], "page": page, "has_more": more}


@router.get("/medicines/{medicine_id}/stock", summary="Batches per branch (or in one branch) and recent movements")
async def stock(
    medicine_id: str,
    ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.view"))],
    branch_id: str | None = None,
) -> dict[str, Any]:
    medicine, batches, movements = await in_tenant(ctx, medicine_stock, medicine_id, branch_id=branch_id)
    return {
        "medicine": asdict(medicine),
        "batches": [asdict(b) for b in batches],
        "movements": [asdict(m) for m in movements],
    }


@router.post("/receive", summary="Receive a delivery into a batch", status_code=201)
async def receive(
    body: ReceiveRequest,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.receive"))],
) -> JSONResponse:
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        body.model_dump(),
        201,
        lambda session: {"batch_id": receive_stock(session, ctx, **body.model_dump())},
    )


@router.post("/dispense", summary="Take stock for a sale, earliest expiry first")
async def dispense_endpoint(
    body: DispenseRequest,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.dispense"))],
) -> JSONResponse:
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        body.model_dump(),
        200,
        lambda session: _dispense_sale(session, ctx, body),
    )


def _dispense_sale(session: Session, ctx: TenantContext, body: DispenseRequest) -> dict[str, Any]:
    require_active_branch(session, body.branch_id, "takes no sales")
    return {"picks": [asdict(p) for p in dispense(session, ctx, **body.model_dump())]}


@router.post("/adjust", summary="Correct a batch's count with a reason")
async def adjust(
    body: AdjustRequest,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.adjust"))],
) -> JSONResponse:
    def act(session):  # type: ignore[no-untyped-def]
        adjust_stock(session, ctx, **body.model_dump())
        return {"adjusted": body.change}

    return await run_in_threadpool(idempotent_json, ctx, key, body.model_dump(), 200, act)


def _correction(kind: str, permission: str, summary: str) -> None:
    """Register POST /inventory/<kind> for one of the corrections (write-off, returns)."""

    allowed = Depends(RequirePermission(permission))  # a default, not in the annotation: annotations are strings here

    async def endpoint(body: CorrectionRequest, key: IdempotencyKey, ctx: TenantContext = allowed) -> JSONResponse:
        def act(session):  # type: ignore[no-untyped-def]
            correct_stock(
                session,
                ctx,
                batch_id=body.batch_id,
                kind=kind,
                change=body.quantity,
                reason=body.reason,
                reference=body.reference,
            )
            return {"batch_id": body.batch_id, "kind": kind, "quantity": body.quantity}

        return await run_in_threadpool(idempotent_json, ctx, key, body.model_dump(), 200, act)

    router.post(f"/{kind.replace('_', '-')}", summary=summary, name=kind)(endpoint)


_correction("write_off", "inventory.adjust", "Write off expired or damaged stock of a batch (reason required)")
_correction("supplier_return", "inventory.receive", "Return stock of a batch to its supplier (recalled lots too)")
_correction("customer_return", "inventory.adjust", "Put an unopened pack a customer returned back into its batch")


@router.post("/transfer", summary="Move stock of a batch to another branch", status_code=201)
async def transfer(
    body: TransferRequest,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.transfer"))],
) -> JSONResponse:
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        body.model_dump(),
        201,
        lambda session: {"batch_id": transfer_stock(session, ctx, **body.model_dump())},
    )


@router.get("/medicines/{medicine_id}/movements", summary="The ledger of a medicine, newest first")
async def movements(
    medicine_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.view"))]
) -> list[dict[str, Any]]:
    _, _, rows = await in_tenant(ctx, medicine_stock, medicine_id)
    return [jsonable_encoder(asdict(m)) for m in rows]


@router.get("/reorder-levels", summary="A branch's medicines with their reorder levels, 25 a page")
async def reorder_levels(
    branch_id: str,
    ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.view"))],
    q: str = "",
    show: Literal["all", "set", "unset", "low"] = "all",
    page: int = 0,
) -> dict[str, Any]:
    found = await in_tenant(ctx, list_reorder_levels, branch_id, q, show=show, page=page)
    return {"items": [jsonable_encoder(asdict(r)) for r in found.items], "page": found.page, "has_more": found.has_more}


@router.get("/reorder-levels/{branch_id}/{medicine_id}", summary="One medicine's reorder level at one branch")
async def read_reorder_level(
    branch_id: str, medicine_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.view"))]
) -> JSONResponse:
    level = await in_tenant(ctx, reorder_level, branch_id, medicine_id)
    return JSONResponse(jsonable_encoder(asdict(level)))


@router.put("/reorder-levels/{branch_id}/{medicine_id}", summary="Set, change or clear one reorder level")
async def put_reorder_level(
    branch_id: str,
    medicine_id: str,
    body: ReorderLevelIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.reorder"))],
) -> JSONResponse:
    request = {"action": "reorder_level", "branch_id": branch_id, "medicine_id": medicine_id, **body.model_dump()}
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        request,
        200,
        lambda session: asdict(
            set_reorder_level(session, ctx, branch_id=branch_id, medicine_id=medicine_id, **body.model_dump())
        ),
    )


@router.put("/reorder-levels", summary="Set, change or clear many reorder levels at once (all or nothing)")
async def put_reorder_levels(
    body: ReorderLevelsIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.reorder"))],
) -> JSONResponse:
    levels = [level.model_dump() for level in body.levels]
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "reorder_levels", "levels": levels},
        200,
        lambda session: asdict(save_reorder_levels(session, ctx, levels)),
    )


@router.get("/export/reorder-levels.csv", summary="Download a branch's reorder levels as CSV (the import's columns)")
async def export_reorder_levels_csv(
    branch_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.view"))]
) -> PlainTextResponse:
    body, code = await in_tenant(ctx, export_reorder_levels, branch_id)
    return _csv_download(body, f"reorder-levels-{code}")


# Declared before /export/{what}.csv, which would otherwise take this path.
@router.get("/export/movements.csv", summary="Download the ledger between two dates (UTC) as CSV")
async def export_movements_csv(
    since: date, until: date, ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.view"))]
) -> PlainTextResponse:
    body = await in_tenant(ctx, export_movements, since, until)
    return _csv_download(body, f"movements-{since}-{until}")


CSV_EXPORTS = {"catalog": export_catalog, "stock": export_stock}


@router.get(
    "/export/{what}.csv",
    summary="Download the catalog or the stock per batch as CSV (the import's columns)",
    response_class=PlainTextResponse,
)
async def export_csv(
    what: Literal["catalog", "stock"], ctx: Annotated[TenantContext, Depends(RequirePermission("inventory.view"))]
) -> PlainTextResponse:
    body = await in_tenant(ctx, CSV_EXPORTS[what])
    return _csv_download(body, what)


def _csv_download(body: str, name: str) -> PlainTextResponse:
    return PlainTextResponse(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
