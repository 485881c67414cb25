"""REST: /api/v1/prescriptions (the queue, intake, entry, holds, cancelling, the DUR review, verification)
and /api/v1/prescribers. Every write takes an Idempotency-Key; its stored answer is the prescription's id,
Rx number and status only, so no copy of health data lives beside the key (GET the record, which is
written to the patient access log).

Verification is a pharmacist's signed act: no API token holds `prescriptions.verify`, so the endpoint
answers 403 to tokens; it exists with the same body the screen sends, for a pharmacist's own session.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backend.core.errors import NotFound, ValidationFailed
from backend.http import IdempotencyKey, RequirePermission, idempotent_json, in_tenant
from backend.prescriptions import prescribers as prescriber_service
from backend.prescriptions import reading, service, verification
from tenants.context import TenantContext

router = APIRouter(prefix="/prescriptions", tags=["prescriptions"])
prescribers_router = APIRouter(prefix="/prescribers", tags=["prescriptions"])


class EntryIn(BaseModel):
    """The details typed from the prescription; omitted fields are kept as they are."""

    model_config = ConfigDict(extra="forbid")

    prescriber_id: str | None = None
    drug_written: str | None = Field(None, max_length=200, examples=["Advil 800 mg"])
    medicine_id: str | None = Field(None, description="The catalog medicine chosen for the drug written")
    strength: str | None = Field(None, max_length=60)
    sig_written: str | None = Field(None, max_length=500, examples=["1 tab po tid prn pain"])
    quantity: int | None = None
    quantity_unit: str | None = Field(None, max_length=20)
    days_supply: int | None = Field(None, description="Computed from the sig and quantity when omitted")
    refills_authorized: int | None = None
    date_written: str | None = Field(None, description="YYYY-MM-DD")
    earliest_fill_date: str | None = Field(None, description="YYYY-MM-DD; Schedule II series only")
    daw: bool | None = Field(None, description="Dispense as written: no generic substitution")
    notes: str | None = Field(None, max_length=2000)


class IntakeIn(EntryIn):
    branch_id: str
    patient_id: str
    source: str = Field(description="walk_in, phone, fax or portal")
    image_base64: str | None = Field(
        None, description="The original (JPEG, PNG or PDF, at most 10 MB), base64; read by OCR in the background"
    )
    image_type: str | None = Field(None, description="Ignored: the type is read from the bytes")


class ImageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prescription_id: str
    image_base64: str = Field(description="The original (JPEG, PNG or PDF, at most 10 MB), base64")


class ConfirmIn(BaseModel):
    """Each field as confirmed: omitted fields are confirmed as OCR read them; a value given is a correction
    when it differs."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, str | int | None] = Field(default_factory=dict, examples=[{"quantity": "28"}])


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=500)
    waiting_prescriber: bool = False


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signature_id: str = Field(description="POST /api/v1/signatures with entity_type 'prescription' first")
    overrides: dict[str, str] = Field(default_factory=dict, description="alert code -> reason")


class PrescriberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: str = Field(max_length=200)
    credentials: str = Field("", max_length=40, examples=["MD"])
    license_number: str = Field("", max_length=40)
    npi: str = Field("", max_length=20)
    dea_number: str = Field("", max_length=20)
    phone: str = Field("", max_length=20)
    fax: str = Field("", max_length=20)
    email: str = Field("", max_length=254)
    address: str = Field("", max_length=500)


def _entry(body: EntryIn) -> dict[str, Any]:
    return {k: v for k, v in body.model_dump().items() if k in service.ENTRY_FIELDS and v is not None}


def _short(rx: service.Prescription) -> dict[str, Any]:
    return {"id": rx.id, "rx_number": rx.rx_number, "status": rx.status.value}


def _out(value: object) -> Any:
    return jsonable_encoder(asdict(value))  # type: ignore[call-overload]


@router.get("", summary="A branch's queue: counts per status and prescriptions oldest first")
async def list_queue(
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.view"))],
    branch_id: str,
    status: str = "",
    q: str = "",
    page: int = 0,
) -> dict[str, Any]:
    found = await in_tenant(ctx, service.queue, branch_id, status=status, query=q, page=page)
    return {
        "counts": found.counts,
        "items": [_out(i) for i in found.items],
        "page": found.page,
        "has_more": found.has_more,
    }


@router.post("", summary="Receive a prescription (intake); entry fields given are saved too", status_code=201)
async def create(
    body: IntakeIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.enter"))],
) -> Any:
    image = _decoded(body.image_base64) if body.image_base64 else None
    request = body.model_dump()

    def act(session: Any) -> dict[str, Any]:
        return _short(
            service.create_prescription(
                session,
                ctx,
                branch_id=body.branch_id,
                patient_id=body.patient_id,
                source=body.source,
                image=image,
                image_type=body.image_type or "",
                **_entry(body),
            )
        )

    return await _idempotent(ctx, key, {"action": "create_prescription", **request}, 201, act)


def _decoded(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("image_base64 is not base64.", field="image_base64") from None


@router.post(
    "/images",
    summary="Attach the original (photo, scan, fax) to a prescription in intake or entry; OCR reads it (ocr queue)",
    status_code=201,
)
async def upload_image(
    body: ImageIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.enter"))],
) -> Any:
    image = _decoded(body.image_base64)

    def act(session: Any) -> dict[str, Any]:
        return {**_short(service.attach_image(session, ctx, body.prescription_id, image)), "reading": "queued"}

    return await _idempotent(ctx, key, {"action": "attach_image", **body.model_dump()}, 201, act)


@router.get("/readings/report", summary="Per field, how often OCR was right in the chain's confirmed readings")
async def reading_report(ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.view"))]) -> Any:
    found = await in_tenant(ctx, reading.accuracy_report)
    return [{"field": a.field, "confirmed": a.confirmed, "right": a.right, "rate": a.rate} for a in found]


@router.get("/{prescription_id}/reading", summary="What OCR read from the original, per field (access logged)")
async def get_reading(
    prescription_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.view"))]
) -> Any:
    found = await in_tenant(ctx, reading.get_reading, prescription_id)
    if found is None:
        raise NotFound("This prescription has no OCR reading.")
    return {**_out(found), "fields": [{**_out(f), "low": f.low} for f in found.fields]}


@router.post("/{prescription_id}/reading/confirm", summary="Confirm or correct each field read; on to verification")
async def confirm_reading(
    prescription_id: str,
    body: ConfirmIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.enter"))],
) -> Any:
    def act(session: Any) -> dict[str, Any]:
        done = reading.confirm_reading(session, ctx, prescription_id, body.fields)
        return {
            **_short(done.prescription),
            "corrected": done.corrected,
            "submitted": done.submitted,
            "missing": done.missing,
        }

    request = {"action": "confirm_reading", "id": prescription_id, **body.model_dump()}
    return await _idempotent(ctx, key, request, 200, act)


async def _idempotent(ctx: TenantContext, key: str, request: dict[str, Any], status: int, act: Any) -> Any:
    return await run_in_threadpool(idempotent_json, ctx, key, request, status, act)


@router.get("/{prescription_id}", summary="One prescription with its history (written to the patient access log)")
async def read(
    prescription_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.view"))]
) -> Any:
    return _out(await in_tenant(ctx, service.get_prescription, prescription_id))


@router.get("/{prescription_id}/review", summary="The drug-use review of a prescription, computed now (nothing stored)")
async def dur_review(
    prescription_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.view"))]
) -> Any:
    found = await in_tenant(ctx, verification.review, prescription_id)
    return {
        "prescription": _short(found.prescription),
        "alerts": [_out(a) for a in found.alerts],
        "unknown": found.unknown,
        "active": [_out(a) for a in found.active],
        "allergies": found.allergies,
    }


@router.put("/{prescription_id}", summary="Save data entry (intake or data entry only)")
async def update(
    prescription_id: str,
    body: EntryIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.enter"))],
) -> Any:
    fields = _entry(body)
    return await _idempotent(
        ctx,
        key,
        {"action": "save_entry", "id": prescription_id, **fields},
        200,
        lambda session: _short(service.save_entry(session, ctx, prescription_id, **fields)),
    )


@router.post("/{prescription_id}/submit", summary="Send to the pharmacist for verification")
async def submit(
    prescription_id: str,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.enter"))],
) -> Any:
    return await _idempotent(
        ctx,
        key,
        {"action": "submit", "id": prescription_id},
        200,
        lambda session: _short(service.submit_for_verification(session, ctx, prescription_id)),
    )


@router.post("/{prescription_id}/hold", summary="Put on hold, or waiting for the prescriber, with a reason")
async def hold(
    prescription_id: str,
    body: ReasonIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.enter"))],
) -> Any:
    return await _idempotent(
        ctx,
        key,
        {"action": "hold", "id": prescription_id, **body.model_dump()},
        200,
        lambda session: _short(
            service.hold(session, ctx, prescription_id, body.reason, waiting_prescriber=body.waiting_prescriber)
        ),
    )


@router.post("/{prescription_id}/resume", summary="Take a held prescription back to where it was")
async def resume(
    prescription_id: str,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.enter"))],
) -> Any:
    return await _idempotent(
        ctx,
        key,
        {"action": "resume", "id": prescription_id},
        200,
        lambda session: _short(service.resume(session, ctx, prescription_id)),
    )


@router.post("/{prescription_id}/cancel", summary="Cancel with a reason (the Rx number is never reused)")
async def cancel(
    prescription_id: str,
    body: ReasonIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.cancel"))],
) -> Any:
    return await _idempotent(
        ctx,
        key,
        {"action": "cancel", "id": prescription_id, "reason": body.reason},
        200,
        lambda session: _short(service.cancel(session, ctx, prescription_id, body.reason)),
    )


@router.post("/{prescription_id}/verify", summary="The pharmacist's signed verification (pharmacists only)")
async def verify(
    prescription_id: str,
    body: VerifyIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescriptions.verify"))],
) -> Any:
    return await _idempotent(
        ctx,
        key,
        {"action": "verify", "id": prescription_id, **body.model_dump()},
        200,
        lambda session: _short(
            verification.verify(session, ctx, prescription_id, signature_id=body.signature_id, overrides=body.overrides)
        ),
    )


@prescribers_router.get("", summary="Find prescribers by name, NPI, DEA or licence number")
async def find_prescribers(
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescribers.view"))], q: str = "", page: int = 0
) -> dict[str, Any]:
    found = await in_tenant(ctx, prescriber_service.find_prescribers, q, page=page)
    return {"items": [_out(p) for p in found.items], "page": found.page, "has_more": found.has_more}


@prescribers_router.post("", summary="Add a prescriber (an NPI already on file is refused)", status_code=201)
async def create_prescriber(
    body: PrescriberIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescribers.manage"))],
) -> Any:
    fields = body.model_dump()
    return await _idempotent(
        ctx,
        key,
        {"action": "create_prescriber", **fields},
        201,
        lambda session: _out(prescriber_service.create_prescriber(session, ctx, **fields)),
    )


@prescribers_router.get("/{prescriber_id}", summary="One prescriber, with records that may be the same person")
async def read_prescriber(
    prescriber_id: str, ctx: Annotated[TenantContext, Depends(RequirePermission("prescribers.view"))]
) -> Any:
    return _out(await in_tenant(ctx, prescriber_service.get_prescriber, prescriber_id))


@prescribers_router.put("/{prescriber_id}", summary="Replace a prescriber's record")
async def update_prescriber(
    prescriber_id: str,
    body: PrescriberIn,
    key: IdempotencyKey,
    ctx: Annotated[TenantContext, Depends(RequirePermission("prescribers.manage"))],
) -> Any:
    fields = body.model_dump()
    return await _idempotent(
        ctx,
        key,
        {"action": "update_prescriber", "id": prescriber_id, **fields},
        200,
        lambda session: _out(prescriber_service.update_prescriber(session, ctx, prescriber_id, **fields)),
    )
