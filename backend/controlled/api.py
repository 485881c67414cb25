"""REST for controlled substances (reads; the records are written on the page by a pharmacist or owner):

- GET /api/v1/controlled/register?branch_id=&medicine_id=&start=&end= (JSON), .../register.csv, .../register.pdf
- GET /api/v1/controlled/asap?branch_id=&date= : the day's ASAP 4.2 PMP file
- GET /api/v1/controlled/inventories/{id}.pdf and /api/v1/controlled/losses/{id}.pdf
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.encoders import jsonable_encoder

from backend.controlled import asap, biennial, losses, register
from backend.http import RequirePermission, in_tenant
from tenants.context import TenantContext

router = APIRouter(prefix="/controlled", tags=["controlled substances"])
Viewer = Annotated[TenantContext, Depends(RequirePermission("controlled.view"))]


def _period(medicine_id: str | None, start: str | None, end: str | None) -> dict[str, Any]:
    return {"medicine_id": medicine_id or None, "start": start, "end": end}


@router.get("/register", summary="A branch's controlled-substance register with running balances")
async def get_register(
    ctx: Viewer,
    branch_id: str,
    medicine_id: Annotated[str | None, Query(description="One medicine only")] = None,
    start: Annotated[str | None, Query(description="YYYY-MM-DD, the branch's calendar (default 30 days ago)")] = None,
    end: Annotated[str | None, Query(description="YYYY-MM-DD, included (default today)")] = None,
) -> Any:
    found = await in_tenant(ctx, register.register, branch_id, **_period(medicine_id, start, end))
    body = asdict(found)
    for section, medicine in zip(body["medicines"], found.medicines, strict=True):
        for line, kept in zip(section["lines"], medicine.lines, strict=True):
            line["reference_text"] = register.reference_text(kept)
    return jsonable_encoder(body)


@router.get("/register.csv", summary="The register as CSV", response_class=Response)
async def get_register_csv(
    ctx: Viewer, branch_id: str, medicine_id: str | None = None, start: str | None = None, end: str | None = None
) -> Response:
    name, body = await in_tenant(ctx, register.register_csv, branch_id, **_period(medicine_id, start, end))
    return Response(
        body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/register.pdf", summary="The register as PDF", response_class=Response)
async def get_register_pdf(
    ctx: Viewer, branch_id: str, medicine_id: str | None = None, start: str | None = None, end: str | None = None
) -> Response:
    name, body = await in_tenant(ctx, register.register_pdf, branch_id, **_period(medicine_id, start, end))
    return Response(body, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.get("/asap", summary="The day's prescription-monitoring file (ASAP 4.2) of a branch", response_class=Response)
async def get_asap(
    ctx: Viewer, branch_id: str, date: Annotated[str, Query(description="YYYY-MM-DD, the branch's calendar")]
) -> Response:
    found = await in_tenant(ctx, asap.asap_export, branch_id, date)
    return Response(
        found.content,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


@router.get("/inventories/{inventory_id}.pdf", summary="A biennial inventory (count sheet or signed)")
async def get_inventory_pdf(ctx: Viewer, inventory_id: str) -> Response:
    name, body = await in_tenant(ctx, biennial.inventory_pdf, inventory_id)
    return Response(body, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.get("/losses/{report_id}.pdf", summary="A theft-or-loss report with the DEA Form 106 content")
async def get_loss_pdf(ctx: Viewer, report_id: str) -> Response:
    name, body = await in_tenant(ctx, losses.loss_report_pdf, report_id)
    return Response(body, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})
