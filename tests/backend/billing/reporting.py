"""Helpers shared by the report and PDF tests: bills issued at a chosen instant, and the API with the
reports router mounted (until backend/api.py mounts it itself)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo

from fastapi import FastAPI

from backend import api as rest
from backend.billing.bills import service
from backend.billing.reports.api import router as reports_router
from tenants.session import run_in_tenant


@contextmanager
def clock_at(when: datetime) -> Iterator[None]:
    """Bills finalized inside take `when` as their time of issue (and the year of their number)."""

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return when.astimezone(tz) if tz else when.replace(tzinfo=None)

    real = service.datetime
    service.datetime = Frozen  # type: ignore[misc]
    try:
        yield
    finally:
        service.datetime = real  # type: ignore[misc]


def sell(ctx, branch: str, lines: list[dict], *, at: datetime, bill_discount: str = "0", customer: str = ""):
    """A draft finalized at `at`; returns the issued bill."""
    draft = run_in_tenant(
        ctx, service.create_draft, branch_id=branch, lines=lines, bill_discount=bill_discount, customer_name=customer
    )
    with clock_at(at):
        return run_in_tenant(ctx, service.finalize_bill, draft.id)


def api_with_reports() -> FastAPI:
    app = rest.create_api()
    if not any(getattr(route, "path", "") == "/api/v1/reports/daily" for route in app.routes):
        app.include_router(reports_router, prefix=rest.API_PREFIX)
    return app
