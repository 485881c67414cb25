"""REST: sales reports (/api/v1/reports/...) and a bill's PDFs (/api/v1/bills/{id}/invoice.pdf, receipt.pdf).

Read-only, so no Idempotency-Key. Money is a decimal string, as everywhere in the API.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backend.billing.bills.pdf import invoice_pdf, receipt_pdf
from backend.billing.reports.service import SalesReport, daily_report, range_report, report_csv
from backend.http import RequirePermission, in_tenant, rest_schema
from tenants.context import TenantContext

router = APIRouter(tags=["reports"])

Reporting = Annotated[TenantContext, Depends(RequirePermission("reports.view"))]
Viewing = Annotated[TenantContext, Depends(RequirePermission("billing.view"))]
BranchId = Annotated[str, Query(description="The branch's id")]
Day = Annotated[date, Query(description="A local business day of the branch (YYYY-MM-DD)")]


class PaymentTotalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    method: str
    payments: int
    amount: Decimal = Field(description="Applied to bills")
    tendered: Decimal
    change_due: Decimal


class TaxTotalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tax_category: str
    tax_rate: Decimal = Field(description="Percent")
    net_amount: Decimal
    tax_amount: Decimal


class MedicineSalesOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    medicine_id: str
    description: str
    quantity: int
    revenue: Decimal = Field(description="Net of discounts and tax")
    gross: Decimal
    cost: Decimal = Field(description="Cost of the lots it was picked from")
    margin: Decimal


class SalesPointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    label: str
    bills: int
    gross_sales: Decimal


# The report's fields are the domain SalesReport's (service.py), in its order.
SalesReportOut = rest_schema(
    "SalesReportOut",
    SalesReport,
    doc="Issued bills of the branch finalized in its local day(s); amounts are 4-decimal sums.",
    module=__name__,
    fields={
        "starts_at": (datetime, Field(description="UTC start of the first local day")),
        "ends_at": (datetime, Field(description="UTC end (exclusive) of the last local day")),
        "gross_margin": (Decimal, Field(description="Net sales minus the cost of the picked lots")),
        "payments": (list[PaymentTotalOut], Field(description="Payments taken so far on those bills, by method")),
        "taxes": (list[TaxTotalOut], ...),
        "top_by_quantity": (list[MedicineSalesOut], ...),
        "top_by_revenue": (list[MedicineSalesOut], ...),
        "by_hour": (list[SalesPointOut], Field(description="24 local hours on a one-day report, else empty")),
        "by_day": (list[SalesPointOut], ...),
    },
)


def _json(report: SalesReport) -> dict[str, object]:
    return SalesReportOut.model_validate(report).model_dump(mode="json")


@router.get("/reports/daily", summary="A branch's sales on one local business day", response_model=SalesReportOut)
async def daily(branch: BranchId, day: Annotated[date, Query(alias="date")], ctx: Reporting) -> dict[str, object]:
    return _json(await in_tenant(ctx, daily_report, branch, day))


@router.get("/reports/daily.csv", summary="The daily report as CSV", response_class=Response)
async def daily_csv(branch: BranchId, day: Annotated[date, Query(alias="date")], ctx: Reporting) -> Response:
    report = await in_tenant(ctx, daily_report, branch, day)
    return _csv(report, f"sales-{report.branch_code}-{day.isoformat()}.csv")


@router.get("/reports/range", summary="A branch's sales over local days (both included)", response_model=SalesReportOut)
async def date_range(branch: BranchId, start: Day, end: Day, ctx: Reporting) -> dict[str, object]:
    return _json(await in_tenant(ctx, range_report, branch, start, end))


@router.get("/reports/range.csv", summary="The range report as CSV", response_class=Response)
async def date_range_csv(branch: BranchId, start: Day, end: Day, ctx: Reporting) -> Response:
    report = await in_tenant(ctx, range_report, branch, start, end)
    return _csv(report, f"sales-{report.branch_code}-{start.isoformat()}-{end.isoformat()}.csv")


def _csv(report: SalesReport, filename: str) -> Response:
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/bills/{bill_id}/invoice.pdf", summary="The bill's A4 invoice", response_class=Response)
async def invoice(bill_id: str, ctx: Viewing) -> Response:
    number, content = await run_in_threadpool(invoice_pdf, ctx, bill_id)
    return _pdf(content, f"invoice-{number}.pdf")


@router.get("/bills/{bill_id}/receipt.pdf", summary="The bill's 80 mm thermal receipt", response_class=Response)
async def receipt(bill_id: str, ctx: Viewing) -> Response:
    number, content = await run_in_threadpool(receipt_pdf, ctx, bill_id)
    return _pdf(content, f"receipt-{number}.pdf")


def _pdf(content: bytes, filename: str) -> Response:
    # inline: the browser shows it and the print dialog is one click away; the name is kept on save.
    return Response(
        content, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )
