"""The REST adapter's shared plumbing: who is calling, idempotent writes, and the unit of work.

Every domain's `api.py` builds its endpoints from these pieces and never from another domain's `api`
module (tests/test_layers.py fails when one does):
- `RequirePermission("perm")`: the dependency every non-public endpoint declares (a valid bearer
  token under its rate limit whose scope holds the permission); it yields the TenantContext.
- `in_tenant(ctx, service, ...)`: a read or a write that needs no Idempotency-Key, as one unit of
  work (`tenants.session.run_in_tenant`) run in a worker thread.
- `IdempotencyKey` and `idempotent_json` / `idempotent_answer`: a write done once per key, in the
  same transaction that stores its answer, run again as a whole when it lost a race.
- `rest_schema(...)`: a response schema built from the domain object it serializes.
- `client_ip(request)`: the caller's address (X-Forwarded-For only as far as TRUSTED_PROXY_HOPS).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, get_type_hints

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, create_model
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from backend.accounts.api_tokens import ApiPrincipal, check_rate_limit, principal_for_api_token
from backend.core.errors import AuthenticationRequired
from backend.core.settings import get_settings
from backend.idempotency.service import run_once
from tenants.context import TenantContext
from tenants.roles import PERMISSIONS, require
from tenants.session import run_in_tenant

T = TypeVar("T")
# Where backend.api's outermost middleware leaves the moment (time.monotonic()) a request arrived.
REQUEST_STARTED = "pharmacy.started"
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", description="Unique per intended write")]


class RequirePermission:
    """FastAPI dependency: a valid bearer token, under its rate limit, whose scope holds `permission`.

    Every non-public endpoint declares one; tests/backend/accounts/test_permissions.py walks the
    routes and fails on any endpoint without it. It runs before the endpoint reads any record, so a
    caller without the permission learns nothing about the record's state (403 before 404 or 409).
    """

    def __init__(self, permission: str) -> None:
        if permission not in PERMISSIONS:
            raise KeyError(permission)
        self.permission = permission

    async def __call__(self, authorization: Annotated[str | None, Header()] = None) -> TenantContext:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationRequired("Send an API token: Authorization: Bearer phs_...")
        principal = await run_in_threadpool(_authenticated, token.strip())  # one thread hop, not two
        return require(principal.context(), self.permission)


def _authenticated(token: str) -> ApiPrincipal:
    """The token's principal, counted against its rate limit."""
    principal = principal_for_api_token(token)
    check_rate_limit(principal)
    return principal


async def in_tenant(ctx: TenantContext, service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`service(session, ctx, *args, **kwargs)` as one unit of work, off the event loop."""
    return await run_in_threadpool(run_in_tenant, ctx, service, *args, **kwargs)


def idempotent_answer(
    ctx: TenantContext,
    key: str,
    request: dict[str, Any],
    act: Callable[[Session], tuple[int, Any]],
    *,
    busy_message: str = "",
) -> JSONResponse:
    """Run `act(session)` (returning a status and a body) once per Idempotency-Key, in the transaction
    that stores its answer; a transaction that lost a race is run again as a whole.

    `request` must name everything the write depends on (a path's id too), so one key reused for
    another target is refused rather than replayed. A stored refusal (e.g. a released card, 409) is
    replayed like any other answer.
    """

    def write(session: Session, ctx: TenantContext) -> tuple[int, dict[str, Any], bool]:
        def answer(session: Session) -> tuple[int, dict[str, Any]]:
            status, body = act(session)
            return status, jsonable_encoder(body)

        return run_once(session, ctx, key, request, answer)

    code, response, replayed = run_in_tenant(ctx, write, busy_message=busy_message)
    return JSONResponse(response, status_code=code, headers={"Idempotent-Replayed": str(replayed).lower()})


def idempotent_json(
    ctx: TenantContext,
    key: str,
    request: dict[str, Any],
    status: int,
    act: Callable[[Session], Any],
    *,
    busy_message: str = "",
) -> JSONResponse:
    """`idempotent_answer` for a write that answers `status` with what `act(session)` returns."""
    return idempotent_answer(ctx, key, request, lambda session: (status, act(session)), busy_message=busy_message)


def rest_schema(
    name: str,
    domain: type,
    *,
    doc: str,
    module: str,
    fields: dict[str, Any] | None = None,
    config: ConfigDict | None = None,
) -> type[BaseModel]:
    """A REST response schema with the fields of a domain dataclass, in its order, with its types and
    defaults, so the API cannot drift from what the service hands out. `fields` gives some of them
    another `(type, Field(...))`: a nested REST schema, or a description for the API docs.

    (mypy cannot see the fields of a class built at run time; annotate with `type[BaseModel]` values.)"""
    hints = get_type_hints(domain, vars(sys.modules[domain.__module__]))
    chosen = fields or {}
    definitions: dict[str, Any] = {}
    for field in dataclasses.fields(domain):
        default = field.default if field.default is not dataclasses.MISSING else ...
        definitions[field.name] = chosen.get(field.name, (hints[field.name], default))
    unknown = set(chosen) - set(definitions)
    if unknown:
        raise TypeError(f"{name}: {sorted(unknown)} are not fields of {domain.__name__}")
    return create_model(  # type: ignore[no-any-return,call-overload]
        name,
        __config__=ConfigDict(from_attributes=True, **(config or {})),
        __doc__=doc,
        __module__=module,
        **definitions,
    )


def client_ip(request: Request) -> str:
    """The caller's address: from X-Forwarded-For only as far as the configured trusted proxies."""
    peer = request.client.host if request.client else ""
    hops = get_settings().TRUSTED_PROXY_HOPS
    if hops <= 0:
        return peer
    chain = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()]
    # Each trusted proxy appended the address it saw; anything further left could be forged.
    return chain[-hops] if len(chain) >= hops else peer


def request_started(request: Request) -> float:
    """When the request arrived (`time.monotonic()`, set by backend.api's middleware; now if it is not set)."""
    started = request.scope.get(REQUEST_STARTED)
    return float(started) if started is not None else time.monotonic()
