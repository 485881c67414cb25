"""REST for the recall trace: GET /api/v1/lots/{lot}/patients (optional ?medicine_id=), a JSON list of
the fills and counter sales of the lot to patients, oldest first. Each patient listed is written to
the patient access log ("recall trace"). A lot number that several medicines use needs medicine_id
(422 naming them); a lot not in the caller's branches is 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from backend.core.errors import NotFound, ValidationFailed
from backend.http import RequirePermission, in_tenant, rest_schema
from backend.prescriptions import recall
from tenants.context import TenantContext

router = APIRouter(tags=["prescriptions"])

RecipientOut: type[BaseModel] = rest_schema(
    "RecallRecipient",
    recall.Recipient,
    doc="One fill or counter sale of the lot to a patient.",
    module=__name__,
    fields={
        "kind": (str, Field(description="'fill' (a prescription's fill) or 'bill' (a counter sale)")),
        "reference": (str, Field(description="The fill's code (its label's barcode) or the bill's number")),
        "record_id": (str, Field(description="The prescription's id (a fill) or the bill's id")),
        "received_at": (datetime, Field(description="When it was filled, or the bill finalized (UTC)")),
        "time_zone": (str, Field(description="The branch's time zone, for showing the time as it read it")),
    },
)


@router.get(
    "/lots/{lot}/patients",
    summary="Recall trace: the patients who received a lot (each written to the patient access log)",
    response_model=list[RecipientOut],  # type: ignore[valid-type]
)
async def lot_patients(
    lot: str,
    ctx: Annotated[TenantContext, Depends(RequirePermission(recall.PERMISSION))],
    medicine_id: Annotated[str | None, Query(description="The medicine, when makers share the lot number")] = None,
) -> Any:
    found = await in_tenant(ctx, recall.trace_lot, lot, medicine_id)
    if found.needs_choice:
        choices = "; ".join(f"{p.label()} (medicine_id {p.medicine_id})" for p in found.products)
        raise ValidationFailed(
            f"Lot {found.lot_number} is a lot of {len(found.products)} medicines: {choices}. Pass medicine_id.",
            field="medicine_id",
        )
    if found.product is None:
        raise NotFound(f"No lot {found.lot_number} in your branches.")
    return [RecipientOut.model_validate(r) for r in found.recipients]
