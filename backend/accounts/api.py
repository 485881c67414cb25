"""REST: the cookie exchange for browser sign-in, and the bearer-token dependency every endpoint uses."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from backend.accounts.service import record_sign_in
from backend.accounts.sessions import (
    PLATFORM_COOKIE,
    SESSION_COOKIE,
    issue_login_code,
    redeem_login_code,
    start_session,
    stash_notice,
)
from backend.accounts.signatures import get_signature, sign
from backend.accounts.sso import finish_sign_in, start_sign_in
from backend.accounts.staff import list_members
from backend.core.errors import PharmacyError
from backend.core.settings import get_settings
from backend.http import RequirePermission, client_ip
from tenants.context import TenantContext


def safe_next(path: str) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/dashboard"
    return path


auth_router = APIRouter(prefix="/auth", tags=["sign-in"])


@auth_router.get("/exchange", include_in_schema=False)
async def exchange(request: Request, code: str = "", next: str = "/dashboard") -> RedirectResponse:
    """Public: swap a one-time sign-in code for the HttpOnly session cookie."""
    grant = await run_in_threadpool(redeem_login_code, code)
    if grant is None:
        return RedirectResponse("/signin?expired=1", status_code=303)
    token = await run_in_threadpool(
        start_session,
        grant.user_id,
        grant.tenant_id,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
        platform=grant.platform,
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    settings = get_settings()
    # The console's cookie is strict and short-lived; a chain's lasts a shift.
    response.set_cookie(
        PLATFORM_COOKIE if grant.platform else SESSION_COOKIE,
        token,
        max_age=(1 if grant.platform else settings.SESSION_TTL_HOURS) * 3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict" if grant.platform else "lax",
        path="/",
    )
    return response


@auth_router.get("/sso/{slug}/start", include_in_schema=False)
async def sso_start(slug: str) -> RedirectResponse:
    """Public: send the browser to the chain's identity provider."""
    try:
        url = await run_in_threadpool(start_sign_in, slug)
    except PharmacyError as exc:
        return await _sso_refused(exc.message)
    return RedirectResponse(url, status_code=303)


@auth_router.get("/sso/callback", include_in_schema=False)
async def sso_callback(state: str = "", code: str = "", error: str = "") -> RedirectResponse:
    """Public: the provider sends the browser back here; on success it is signed in like any member."""
    if error or not code:
        return await _sso_refused("The identity provider did not sign you in.")
    try:
        user_id, tenant_id = await run_in_threadpool(finish_sign_in, state, code)
        await run_in_threadpool(record_sign_in, user_id, tenant_id, "sso")
        login = await run_in_threadpool(issue_login_code, user_id, tenant_id)
    except PharmacyError as exc:
        return await _sso_refused(exc.message)
    return RedirectResponse(
        f"/api/v1/auth/exchange?{urlencode({'code': login, 'next': '/dashboard'})}", status_code=303
    )


async def _sso_refused(message: str) -> RedirectResponse:
    # The sign-in page shows the message by a random id, so a crafted link cannot put words on it.
    notice = await run_in_threadpool(stash_notice, message)
    return RedirectResponse(f"/signin?{urlencode({'notice': notice})}", status_code=303)


@auth_router.get("/signed-out", include_in_schema=False)
async def signed_out() -> RedirectResponse:
    """Public: drop the cookie after the session was ended on the server."""
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(PLATFORM_COOKIE, path="/")
    return response


api_router = APIRouter(tags=["account"])


@api_router.get("/me", summary="The chain and scopes of this API token")
async def me(ctx: Annotated[TenantContext, Depends(RequirePermission("api.me"))]) -> dict[str, str]:
    return {"tenant_id": str(ctx.tenant_id), "role": str(ctx.role)}


@api_router.get("/staff", summary="Members of the chain (admin scope)")
async def staff(ctx: Annotated[TenantContext, Depends(RequirePermission("staff.view"))]) -> JSONResponse:
    members = await run_in_threadpool(list_members, ctx)
    return JSONResponse([{k: v for k, v in asdict(m).items() if k != "user_id"} for m in members])


class SignatureIn(BaseModel):
    """Exactly one of password or totp: checked now, never stored."""

    password: str | None = Field(None, max_length=200)
    totp: str | None = Field(None, max_length=10, description="A current 6-digit code from the authenticator app")
    meaning: str = Field(min_length=10, max_length=500, examples=["verified the supply of Amoxicillin 500 mg"])
    entity_type: str = Field(min_length=1, max_length=40, examples=["bill"])
    entity_id: str = Field(min_length=1, max_length=100)


@api_router.post("/signatures", status_code=201, summary="Sign one record with your password or TOTP code")
async def create_signature(
    body: SignatureIn, ctx: Annotated[TenantContext, Depends(RequirePermission("signatures.sign"))]
) -> JSONResponse:
    """An electronic signature by the token's member; a wrong password or code is 403 and records nothing.
    Not idempotent on purpose: each call is one act of signing."""
    signature_id = await run_in_threadpool(lambda: sign(ctx, **body.model_dump()))
    signature = await run_in_threadpool(get_signature, ctx, signature_id)
    return JSONResponse(jsonable_encoder(signature), status_code=201)
