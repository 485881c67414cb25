"""REST: GET /api/v1/bills, the bills list with the filters and keyset paging of the bills page.

Read-only, so no Idempotency-Key. Every filter arrives as text and is checked by the service, so a bad
value answers 422 with the same message the page shows (not a framework error about types).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from backend.billing.bills.search import COUNT_CAP, MAX_PAGE_SIZE, PAGE_SIZE, SORTS, search_bills
from backend.billing.statuses import BillStatus
from backend.http import RequirePermission, in_tenant
from tenants.context import TenantContext

router = APIRouter(tags=["billing"])

Viewing = Annotated[TenantContext, Depends(RequirePermission("billing.view"))]


class BillListItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    number: str | None = Field(description="None for a draft")
    status: BillStatus = Field(description="finalized is the bill people call unpaid")
    status_label: str = Field(description="The status in words, e.g. 'Partially refunded'")
    branch_id: str
    branch_code: str
    branch_name: str
    time_zone: str = Field(description="The branch's time zone (IANA name)")
    issued_at: datetime = Field(description="When it was finalized (a draft: opened), UTC")
    finalized_at: datetime | None
    currency: str
    total_due: Decimal = Field(description="In the currency's minor unit")
    amount_paid: Decimal
    outstanding: Decimal
    customer_name: str
    patient_id: str | None
    patient_name: str | None = Field(description="Null for a walk-in customer")


class BillsPageOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                            "number": "B1-2026-000123",
                            "status": "paid",
                            "status_label": "Paid",
                            "branch_id": "2d5f7a9c-3b1e-4f6a-8c2d-9e0f1a2b3c4d",
                            "branch_code": "B1",
                            "branch_name": "Main Street",
                            "time_zone": "America/New_York",
                            "issued_at": "2026-11-28T14:04:02Z",
                            "finalized_at": "2026-11-28T14:04:02Z",
                            "currency": "USD",
                            "total_due": "10.32",
                            "amount_paid": "10.32",
                            "outstanding": "0.00",
                            "customer_name": "",
                            "patient_id": None,
                            "patient_name": None,
                        }
                    ],
                    "next_cursor": "WyJuZXdlc3QiLCIyMDI2LTExLTI4VDE0OjA0OjAyKzAwOjAwIiwiOWE4YiJd",
                    "total": 312,
                    "total_capped": False,
                    "sort": "newest",
                    "patient_name": None,
                }
            ]
        },
    )

    items: list[BillListItemOut]
    next_cursor: str | None = Field(description="Pass as `after` for the next page; null on the last page")
    total: int | None = Field(description=f"Bills matching, counted up to {COUNT_CAP:,}; on the first page only")
    total_capped: bool = Field(description=f"True when at least {COUNT_CAP:,} match")
    sort: str
    patient_name: str | None = Field(description="The patient filtered by `patient`, if any")


def _q(description: str) -> Any:
    return Query(description=description)


@router.get(
    "/bills",
    summary="Find bills: by number, local days, patient, amount and status; newest first, a page at a time",
    response_model=BillsPageOut,
    responses={
        404: {"description": "A branch or patient the token cannot see"},
        422: {"description": "A filter that does not make sense (the message says which and why)"},
    },
)
async def list_bills(
    ctx: Viewing,
    branch: Annotated[str | None, _q("A branch id; all branches when left out")] = None,
    number: Annotated[str | None, _q("A bill number or its beginning, e.g. B1-2026-0001")] = None,
    start: Annotated[str | None, _q("First local business day of the branch (YYYY-MM-DD)")] = None,
    end: Annotated[str | None, _q("Last local business day, included (YYYY-MM-DD)")] = None,
    patient: Annotated[
        str | None, _q("A patient id: their purchases (patients.view; written to the patient access log)")
    ] = None,
    patient_name: Annotated[
        str | None, _q("Patients found by name, phone or date of birth (patients.view; logged as a search)")
    ] = None,
    amount: Annotated[str | None, _q("Exactly this amount due, e.g. 10.32")] = None,
    min_amount: Annotated[str | None, _q("Amount due at least")] = None,
    max_amount: Annotated[str | None, _q("Amount due at most")] = None,
    status: Annotated[
        str | None,
        _q(
            "Statuses, comma-separated: draft, unpaid (finalized), partially_paid, paid, voided, "
            "partially_refunded, refunded"
        ),
    ] = None,
    sort: Annotated[str | None, _q(f"{', '.join(SORTS)} (default newest)")] = None,
    after: Annotated[str | None, _q("The `next_cursor` of the previous page")] = None,
    limit: Annotated[str | None, _q(f"Bills per page, 1 to {MAX_PAGE_SIZE} (default {PAGE_SIZE})")] = None,
) -> dict[str, Any]:
    page = await in_tenant(
        ctx,
        search_bills,
        branch_id=branch,
        number=number,
        start=start,
        end=end,
        patient_id=patient,
        patient_name=patient_name,
        amount=amount,
        min_amount=min_amount,
        max_amount=max_amount,
        status=status,
        sort=sort,
        after=after,
        limit=limit,
    )
    return BillsPageOut.model_validate(page).model_dump(mode="json")
