"""The REST app mounted at /api/v1 inside the Reflex server (through api_transformer)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from backend.core.errors import PharmacyError
from backend.core.settings import get_settings
from backend.health.service import system_health

API_PREFIX = "/api/v1"

health_router = APIRouter(tags=["health"])


@health_router.get("/health", summary="Database, Redis and worker status")
async def health() -> JSONResponse:
    """Public: tells a load balancer or an operator which service is down, without secrets."""
    report = await run_in_threadpool(system_health)
    return JSONResponse(report.as_dict(), status_code=200 if report.ok else 503)


def create_api() -> FastAPI:
    get_settings().check_boot()
    api = FastAPI(
        title="Pharmacy SaaS API",
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )

    @api.exception_handler(PharmacyError)
    async def domain_error(_: Request, exc: PharmacyError) -> JSONResponse:
        body: dict[str, object] = {"error": exc.code, "message": exc.message}
        if exc.field:
            body["field"] = exc.field
        return JSONResponse(body, status_code=exc.http_status)

    api.include_router(health_router, prefix=API_PREFIX)
    return api
