"""REST: POST /api/v1/dur/check — drug-use review of one new medication, storing nothing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from backend.clinical.schemas import DurRequestIn, check_request, parse_json
from backend.core.errors import ValidationFailed
from backend.http import RequirePermission
from tenants.context import TenantContext

# Pharmacists, technicians, owners, managers and API tokens (tenants/roles.py). The check reads no tenant
# data, but its input is a patient's medicines and allergies: not for the till or platform support.
PERMISSION = "dur.check"
MAX_BODY = 256 * 1024

router = APIRouter(prefix="/dur", tags=["dur"])


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """The request model's JSON schema with its $defs inlined, for the OpenAPI document (the body is read
    by hand so that bad input gets this API's own 422 with the field named)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)  # type: ignore[no-any-return]


EXAMPLE = {
    "new": {"drug": "ibuprofen", "strength": "800 mg", "sig": "1 tab po tid", "quantity": 90, "date": "2025-03-01"},
    "active": [{"drug": "warfarin", "strength": "5 mg", "last_fill": "2025-02-10", "days_supply": 30}],
    "allergies": ["penicillin"],
    "patient": {"weight_kg": 70, "age_years": 54},
}


@router.post(
    "/check",
    summary="Drug-use review: interactions, allergies, duplication, early refill, dose and controlled flags",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline(DurRequestIn.model_json_schema()), "example": EXAMPLE}},
        }
    },
    responses={422: {"description": "Bad input: the message names the field; nothing was checked"}},
)
async def dur_check(request: Request, ctx: TenantContext = Depends(RequirePermission(PERMISSION))) -> dict[str, Any]:
    """`{"alerts": [{type, severity, with, summary, source}], "unknown": [{name, kind, suggestions, reason}]}`,
    most severe first. A drug or allergen that cannot be identified is in `unknown`, never treated as safe."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"the request is larger than {MAX_BODY // 1024} KB", field="body")
    parsed = parse_json(body)
    # The first call in a process may load the drug dictionary; never on the event loop.
    result = await run_in_threadpool(check_request, parsed)
    return result.as_json()
