"""REST for the emergency supply: POST /api/v1/emergency-supplies (Idempotency-Key).

An emergency supply is a pharmacist's signed act: the body carries a fresh signature of it by a pharmacist
(POST /api/v1/signatures with entity_type 'emergency_supply' and the patient's id as entity_id, by the
pharmacist's own token or at the till), and only an admin token may send it. The stored answer is the
prescription's and the fill's ids and codes, never patient data."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backend.http import IdempotencyKey, RequirePermission, idempotent_json
from backend.prescriptions import emergency
from tenants.context import TenantContext

router = APIRouter(tags=["prescriptions"])


class EmergencySupplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    branch_id: str
    patient_id: str
    medicine_id: str = Field(description="A prescription-only medicine of the catalog; never a controlled one")
    quantity: int
    days_supply: int = Field(description="At most the chain's emergency_max_days (prescription rules)")
    sig: str = Field(max_length=500, description="The directions for the label")
    reason: str = Field(max_length=500, description="Why it is supplied without a prescription")
    barcode: str = Field(max_length=20, description="The stock bottle's barcode, scanned at the final check")
    signature_id: str = Field(
        description="A pharmacist's signature: POST /api/v1/signatures with entity_type 'emergency_supply' "
        "and entity_id the patient's id, in the last five minutes"
    )


@router.post("/emergency-supplies", summary="Record a pharmacist's emergency supply (signed)", status_code=201)
async def record(
    body: EmergencySupplyIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.emergency_supply"))],
) -> Any:
    def act(session: Any) -> dict[str, Any]:
        made = emergency.record_emergency_supply(session, ctx, **body.model_dump())
        return {
            "prescription_id": made.prescription_id,
            "rx_number": made.rx_number,
            "fill_id": made.fill_id,
            "fill_code": made.fill_code,
            "quantity": made.quantity,
            "days_supply": made.days_supply,
        }

    request = {"action": "emergency_supply", **body.model_dump()}
    return await run_in_threadpool(idempotent_json, ctx, key, request, 201, act)
