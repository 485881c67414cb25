"""REST for the public refill portal (issue 17 §2):

- POST /api/v1/portal/{slug}/refill-requests: a refill request by the details on a prescription label.
  202 {"message": ...} for every well-formed request, the same words whether or not the details named a
  prescription of the chain (it may not exist, belong to another chain, be out of refills or expired), and no
  earlier than the response floor after the request started, so neither the answer nor its time tells;
  422 for a malformed field (named, the body is never echoed); 429 with Retry-After when the client IP or the
  Rx number must wait (progressive delays, `backend.portal.abuse`); 404 for an unknown portal address and 403
  (`portal_closed`) for a chain not taking online requests.

Public: no token, no account. The endpoint reads no cookie and no session (the visitor acts as the chain's
`portal` role), so a cross-site form posting to it carries no authority: no CSRF token is needed. The
portal's page sends the same form over the app's origin-checked event channel instead.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from backend.accounts.api_tokens import RateLimited
from backend.core.errors import NotFound, PermissionDenied
from backend.http import client_ip, in_tenant, request_started
from backend.portal import abuse
from backend.portal.chains import chain_for_slug, visitor_context
from backend.portal.refill_form import KIND, RefillForm, ask_for_refill, confirmation, parse_refill_form
from backend.portal.statuses import RefillRequestSource

router = APIRouter(tags=["portal"])


class PortalClosed(PermissionDenied):
    code = "portal_closed"


class RefillRequestIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rx_number: str = Field(..., max_length=64, description="The Rx number printed on the label")
    date_of_birth: str = Field(..., max_length=32, description="The patient's date of birth, YYYY-MM-DD")
    last_name: str = Field(..., max_length=200, description="The patient's last name as on the label")
    branch_id: str | None = Field(None, max_length=64, description="Pick-up branch (default: the prescription's)")
    note: str | None = Field(None, max_length=2000, description="A note for the pharmacy, at most 500 characters")


class RefillRequestAnswer(BaseModel):
    message: str = Field(..., description="The same words for every well-formed request")


@router.post(
    "/portal/{slug}/refill-requests",
    status_code=202,
    response_model=RefillRequestAnswer,
    summary="Ask a chain's pharmacy for a refill (public; the same answer whether or not anything matched)",
    responses={
        403: {"description": "The chain is not taking online requests"},
        404: {"description": "No portal at this address"},
        422: {"description": "A malformed field, named in `field`"},
        429: {"description": "Too many tries from this address or on this Rx number: see Retry-After"},
    },
)
async def request_refill(slug: str, body: RefillRequestIn, request: Request) -> JSONResponse:
    """Public (see the module docstring): no token, no cookie; limits per client IP and per Rx number."""
    started = request_started(request)
    chain = await run_in_threadpool(chain_for_slug, slug)
    if chain is None:
        raise NotFound("There is no pharmacy at this address.")
    if chain.suspended:
        raise PortalClosed(f"{chain.name} is not taking online requests at the moment. Please call your pharmacy.")
    form = RefillForm(body.rx_number, body.date_of_birth, body.last_name, body.branch_id or "", body.note or "")
    ask = parse_refill_form(form)  # 422 naming the field: nothing counted, nothing written
    ip = client_ip(request)
    wait = await run_in_threadpool(abuse.check, KIND, ip, ask.rx_number, chain.tenant_id)
    if wait:
        raise RateLimited(f"Too many tries. Try again in {abuse.wait_words(wait)}.", retry_after=wait)
    await run_in_threadpool(abuse.record, KIND, ip, ask.rx_number, chain.tenant_id)
    await in_tenant(visitor_context(chain), ask_for_refill, form, RefillRequestSource.PORTAL_API)
    await abuse.wait_out_floor(started)
    return JSONResponse({"message": confirmation(chain.name)}, status_code=202)
