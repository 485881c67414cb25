"""REST: /api/v1/patients. Search answers name and date of birth only; the record needs `patients.view`.

Every read of a record and every search writes the patient access log, as on the pages.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backend.http import IdempotencyKey, RequirePermission, idempotent_json, in_tenant
from backend.patients.service import Patient, create_patient, find_patients, get_patient, update_patient
from tenants.context import TenantContext

router = APIRouter(prefix="/patients", tags=["patients"])


class PatientIn(BaseModel):
    """A whole record: PUT replaces every field (an omitted optional field becomes empty)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "full_name": "Maria Example",
                    "date_of_birth": "1961-04-12",
                    "home_branch_id": "2d5f7a9c-3b1e-4f6a-8c2d-9e0f1a2b3c4d",
                    "phone": "+1 555 0100",
                    "email": "maria@example.com",
                    "address": "1 Main Street, Springfield",
                    "allergies": "penicillin (rash)",
                    "notes": "",
                    "contact_consent": True,
                }
            ]
        }
    )

    full_name: str = Field(max_length=200)
    date_of_birth: str = Field(description="YYYY-MM-DD, not in the future", examples=["1961-04-12"])
    home_branch_id: str = Field(description="The branch whose staff look after the patient (branch scope)")
    phone: str = Field("", max_length=40, description="6 to 15 digits, optionally +; stored as digits")
    email: str = Field("", max_length=254)
    address: str = Field("", max_length=500)
    allergies: str = Field("", max_length=2000)
    notes: str = Field("", max_length=4000)
    contact_consent: bool = Field(False, description="May the pharmacy contact the patient (phone or e-mail)")


def _patient_out(patient: object) -> dict[str, Any]:
    return jsonable_encoder(asdict(patient))  # type: ignore[call-overload]


def _created(patient: Patient) -> dict[str, Any]:
    return {
        "id": patient.id,
        "full_name": patient.full_name,
        "date_of_birth": patient.date_of_birth.isoformat(),
        "home_branch_id": patient.home_branch_id,
    }


@router.get("", summary="Find patients by name, phone or date of birth (YYYY-MM-DD): name and date of birth only")
async def search(
    ctx: Annotated[TenantContext, Depends(RequirePermission("patients.lookup"))], q: str = "", page: int = 0
) -> dict[str, Any]:
    found = await in_tenant(ctx, find_patients, q, page=page)
    return {
        "items": [jsonable_encoder(asdict(p)) for p in found.items],
        "page": found.page,
        "has_more": found.has_more,
    }


@router.get("/{patient_id}", summary="One patient's record (the read is written to the access log)")
async def read(
    patient_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("patients.view"))]
) -> JSONResponse:
    patient = await in_tenant(ctx, get_patient, patient_id)
    return JSONResponse(_patient_out(patient))


@router.post("", summary="Register a patient: answers its id, name and date of birth", status_code=201)
async def create(
    body: PatientIn, key: IdempotencyKey, ctx: Annotated[TenantContext, Depends(RequirePermission("patients.edit"))]
) -> JSONResponse:
    fields = body.model_dump()
    # The answer is stored with the Idempotency-Key for replays: it carries no contact details or
    # allergies, so no copy of them lives outside the record (GET it, which is logged).
    return await run_in_threadpool(
        idempotent_json,
        ctx,
        key,
        {"action": "create_patient", **fields},
        201,
        lambda session: _created(create_patient(session, ctx, **fields)),
    )


@router.put("/{patient_id}", summary="Replace a patient's record")
async def update(
    patient_id: str,
    body: PatientIn,
    ctx: Annotated[TenantContext, Depends(RequirePermission("patients.edit"))],
) -> JSONResponse:
    # PUT replaces the whole record, so sending it twice leaves the same record: no Idempotency-Key.
    patient = await in_tenant(ctx, update_patient, patient_id, **body.model_dump())
    return JSONResponse(_patient_out(patient))
