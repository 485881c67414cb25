"""REST for verified portal customers: the cookie exchange after a right code, and dropping the cookie.

Reflex events cannot set an HttpOnly cookie, so (like staff sign-in) the page navigates here with a one-time
exchange code; this sets the customer's own cookie (HttpOnly, SameSite=Lax, path /, two hours at most: the
server's session row decides) and sends the browser to "My prescriptions".
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from backend.core.settings import get_settings
from backend.http import in_tenant
from backend.portal.chains import chain_for_slug, visitor_context
from backend.portal.customers import CUSTOMER_COOKIE, MAX_HOURS, redeem_exchange, start_customer_session

router = APIRouter(prefix="/portal", tags=["portal"])


def _page(slug: str, page: str) -> str:
    return f"/portal/{slug}/{page}"


@router.get("/{slug}/session", include_in_schema=False)
async def customer_session(slug: str, code: str = "") -> RedirectResponse:
    """Public: swap a one-time exchange code for the customer's HttpOnly session cookie."""
    chain = await run_in_threadpool(chain_for_slug, slug)
    if chain is None or chain.suspended:
        return RedirectResponse("/", status_code=303)
    patient_id = await run_in_threadpool(redeem_exchange, code, chain.tenant_id)
    if patient_id is None:
        return RedirectResponse(_page(chain.slug, "prescriptions") + "?expired=1", status_code=303)
    token = await in_tenant(visitor_context(chain), start_customer_session, patient_id)
    response = RedirectResponse(_page(chain.slug, "prescriptions"), status_code=303)
    response.set_cookie(
        CUSTOMER_COOKIE,
        token,
        max_age=MAX_HOURS * 3600,
        httponly=True,
        secure=get_settings().cookie_secure,
        samesite="lax",
        path="/",
    )
    return response


@router.get("/{slug}/signed-out", include_in_schema=False)
async def customer_signed_out(slug: str) -> RedirectResponse:
    """Public: drop the customer's cookie after their session was ended on the server."""
    chain = await run_in_threadpool(chain_for_slug, slug)
    response = RedirectResponse(f"/portal/{chain.slug}" if chain else "/", status_code=303)
    response.delete_cookie(CUSTOMER_COOKIE, path="/")
    return response
