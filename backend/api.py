"""The REST app mounted at /api/v1 inside the Reflex server (through api_transformer)."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.accounts.api import api_router as account_router
from backend.accounts.api import auth_router
from backend.accounts.api_tokens import RateLimited
from backend.api_docs import mount_docs
from backend.billing.bills.api import router as billing_router
from backend.billing.bills.search_api import router as bills_list_router
from backend.billing.claims.api import router as claims_router
from backend.billing.credit_notes.api import router as credit_notes_router
from backend.billing.payments.api import router as payments_router
from backend.billing.reports.api import router as reports_router
from backend.branches.api import router as branches_router
from backend.clinical.api import router as dur_router
from backend.controlled.api import router as controlled_router
from backend.core.errors import PharmacyError
from backend.core.logging import configure_logging, new_trace_id, trace_id_var
from backend.core.settings import get_settings
from backend.health.service import system_health
from backend.http import REQUEST_STARTED
from backend.interactions.api import router as interactions_router
from backend.inventory.api import router as inventory_router
from backend.job_handlers import register_job_handlers
from backend.notifications.api import router as notifications_router
from backend.patient_copy.api import router as patient_copy_router
from backend.patients.api import router as patients_router
from backend.portal.api import router as portal_router
from backend.portal.customer_api import router as portal_customer_router
from backend.portal.queue_api import router as portal_queue_router
from backend.prescriptions.api import prescribers_router
from backend.prescriptions.api import router as prescriptions_router
from backend.prescriptions.emergency_api import router as emergency_router
from backend.prescriptions.fills_api import router as fills_router
from backend.prescriptions.recall_api import router as recall_router
from backend.prescriptions.refills_api import router as refills_router
from backend.retention.api import router as retention_router

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
TRACE_SCOPE_KEY = "pharmacy.trace_id"
# Endpoints anyone may call; every other route declares a permission (a test enforces it).
PUBLIC_ROUTES = {
    "/api/v1/health",
    "/api/v1/auth/exchange",
    "/api/v1/auth/signed-out",
    "/api/v1/auth/sso/{slug}/start",
    "/api/v1/auth/sso/callback",
    "/api/v1/portal/{slug}/session",  # issue 17: a verified customer's cookie exchange (one-time code)
    "/api/v1/portal/{slug}/signed-out",
    "/api/v1/stripe/webhook",  # Stripe signs it; the signature is checked instead of a token
    "/api/v1/portal/{slug}/refill-requests",  # issue 17: anyone with a label; the same answer either way
}

health_router = APIRouter(tags=["health"])


@health_router.get("/health", summary="Database, Redis and worker status")
async def health() -> JSONResponse:
    """Public: tells a load balancer or an operator which service is down, without secrets."""
    report = await run_in_threadpool(system_health)
    return JSONResponse(report.as_dict(), status_code=200 if report.ok else 503)


class TraceRequests:
    """Give each request a trace id (kept from X-Request-ID when a proxy set one) for the logs.

    Plain ASGI rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs every
    request through an extra task and a body stream.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[REQUEST_STARTED] = time.monotonic()  # the portal's response floor counts from here
        incoming = Headers(scope=scope).get("x-request-id", "")
        trace_id = incoming[:64] if incoming.isprintable() and incoming else new_trace_id()
        token = trace_id_var.set(trace_id)
        scope[TRACE_SCOPE_KEY] = trace_id  # for the unexpected-error handler, which runs outside this middleware

        async def send_with_trace_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["x-request-id"] = trace_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace_id)
        finally:
            trace_id_var.reset(token)


# The browser's last line of defence for the chat and every page: no script, frame, font, image or
# connection from anywhere but this origin, so even an injected image tag or link in an answer
# cannot leak data to another host. 'unsafe-inline' and 'unsafe-eval' are needed by the framework
# (React Router's inline hydration script, Reflex's call_script); the assistant's markdown renders
# no raw HTML, so what a model writes never becomes a script in the first place.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


class SecurityHeaders:
    """ASGI middleware around the whole app (pages and API): the headers above on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_api() -> FastAPI:
    settings = get_settings()
    settings.check_boot()
    configure_logging(f"{settings.SERVICE_NAME}-app", settings.LOG_LEVEL, json_lines=settings.LOG_JSON)
    register_job_handlers()  # endpoints enqueue jobs (CSV imports, invitations): their names must be known
    api = FastAPI(
        title="Pharmacy SaaS API",
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN; ours serves its own copy
        redoc_url=None,
    )
    mount_docs(api, API_PREFIX)

    @api.exception_handler(PharmacyError)
    async def domain_error(_: Request, exc: PharmacyError) -> JSONResponse:
        body: dict[str, object] = {"error": exc.code, "message": exc.message}
        if exc.field:
            body["field"] = exc.field
        headers = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        if exc.http_status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(body, status_code=exc.http_status, headers=headers)

    # The minimum necessary in error responses (issue 16): FastAPI's own 422 echoes the input it refused
    # (a whole patient body), and an unexpected error must say nothing but where to look in the logs.
    @api.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in exc.errors()]
        return JSONResponse({"error": "invalid", "message": "The request is not valid.", "detail": detail}, 422)

    @api.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # Runs outside TraceRequests (Starlette's outermost middleware), so the trace id comes from the scope.
        reference = request.scope.get(TRACE_SCOPE_KEY) or "-"
        log.error("api.unexpected_error", exc_info=exc, extra={"fields": {"reference": reference}})
        message = f"Something went wrong on our side. Quote reference {reference} to support."
        return JSONResponse({"error": "internal", "message": message}, status_code=500)

    api.add_middleware(TraceRequests)
    api.include_router(health_router, prefix=API_PREFIX)
    api.include_router(auth_router, prefix=API_PREFIX)
    api.include_router(account_router, prefix=API_PREFIX)
    api.include_router(branches_router, prefix=API_PREFIX)
    api.include_router(inventory_router, prefix=API_PREFIX)
    api.include_router(interactions_router, prefix=API_PREFIX)
    api.include_router(dur_router, prefix=API_PREFIX)
    api.include_router(billing_router, prefix=API_PREFIX)
    api.include_router(bills_list_router, prefix=API_PREFIX)
    api.include_router(reports_router, prefix=API_PREFIX)
    api.include_router(payments_router, prefix=API_PREFIX)
    api.include_router(credit_notes_router, prefix=API_PREFIX)
    api.include_router(patients_router, prefix=API_PREFIX)
    api.include_router(patient_copy_router, prefix=API_PREFIX)  # issue 16 §4: a patient's own copy
    api.include_router(prescriptions_router, prefix=API_PREFIX)
    api.include_router(prescribers_router, prefix=API_PREFIX)
    api.include_router(fills_router, prefix=API_PREFIX)
    api.include_router(portal_queue_router, prefix=API_PREFIX)  # issue 17 §2: the staff queue of portal requests
    api.include_router(emergency_router, prefix=API_PREFIX)
    api.include_router(recall_router, prefix=API_PREFIX)
    api.include_router(refills_router, prefix=API_PREFIX)
    api.include_router(claims_router, prefix=API_PREFIX)
    api.include_router(controlled_router, prefix=API_PREFIX)
    api.include_router(retention_router, prefix=API_PREFIX)
    api.include_router(notifications_router, prefix=API_PREFIX)
    api.include_router(portal_customer_router, prefix=API_PREFIX)
    api.include_router(portal_router, prefix=API_PREFIX)  # issue 17: the public refill portal
    return api
