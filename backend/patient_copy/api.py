"""REST: GET /api/v1/patients/{id}/copy?format=json|pdf, the patient's own copy (`patients.copy`).

Each call is a production: it answers the patient's oldest open request (or records one asked today),
is written to the patient's access log and audited, like "Produce copy" on the record page.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from backend.http import RequirePermission, in_tenant
from backend.patient_copy.service import produce_copy
from tenants.context import TenantContext

router = APIRouter(prefix="/patients", tags=["patients"])


@router.get(
    "/{patient_id}/copy",
    summary="The patient's own copy of everything the chain holds about them (JSON or PDF); recorded and logged",
)
async def patient_copy(
    patient_id: str,
    ctx: Annotated[TenantContext, Depends(RequirePermission("patients.copy"))],
    format: Annotated[Literal["json", "pdf"], Query(description="json (machine-readable) or pdf")] = "json",  # noqa: A002
) -> Response:
    made = await in_tenant(ctx, produce_copy, patient_id)
    headers = {
        "Content-Disposition": f'attachment; filename="{made.file_stem}.{format}"',
        "X-Copy-Request-Id": made.request.id,
        "X-Copy-Due-On": made.request.due_on.isoformat(),
        "Cache-Control": "no-store",
    }
    if format == "pdf":
        return Response(made.pdf, media_type="application/pdf", headers=headers)
    return Response(made.json, media_type="application/json", headers=headers)
