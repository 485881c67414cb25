"""The tenancy choke point.

`tenant_session` is how every request, command and job touches tenant data: it sets
`app.tenant_id` transaction-locally, so a pooled connection never carries a tenant into the next
transaction and a session without a tenant sees zero rows (the RLS policies fail closed).

`platform_session` is the one named, audited way around RLS (sign-up, the super-admin console,
webhooks that arrive before the tenant is known, bulk seeding). It runs on a separate BYPASSRLS
role and writes a platform audit event in the same transaction; a test lists its callers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from sqlmodel import Session

from backend.core.database import open_connection, open_session, retrying
from backend.core.errors import TenantRequired
from backend.core.logging import tenant_var
from tenants.context import TenantContext
from tenants.models import PlatformAuditEvent

T = TypeVar("T")


@contextmanager
def tenant_session(ctx: TenantContext) -> Iterator[Session]:
    """A transaction scoped by row-level security to `ctx.tenant_id`; commits on success."""
    if ctx is None or ctx.tenant_id is None:
        raise TenantRequired("No pharmacy chain selected for this action.")
    token = tenant_var.set(str(ctx.tenant_id))
    try:
        settings = {"app.tenant_id": str(ctx.tenant_id), "app.user_id": str(ctx.user_id or "")}
        with open_session("app", settings=settings) as session:
            yield session
    finally:
        tenant_var.reset(token)


BUSY_MESSAGE = "Someone else changed this at the same moment; try again."


def run_in_tenant(
    ctx: TenantContext, service: Callable[..., T], *args: Any, busy_message: str = "", **kwargs: Any
) -> T:
    """The unit of work every adapter owns: `service(session, ctx, *args, **kwargs)` in one tenant
    transaction, committed when it returns.

    A transaction that lost a race (`RaceLost`), deadlocked or could not be serialized is run again
    from the start, up to MAX_ATTEMPTS times; then the caller's `busy_message` (or a neutral one) is
    raised as ConcurrentChange. Compositions that must be atomic are one service calling the others
    with the same session, never two calls of this.
    """

    def attempt() -> T:
        with tenant_session(ctx) as session:
            return service(session, ctx, *args, **kwargs)

    return retrying(attempt, busy_message or BUSY_MESSAGE)


@contextmanager
def tenant_connection(ctx: TenantContext) -> Iterator[psycopg.Connection]:
    """`tenant_session` without the ORM (hot paths only): the same transaction-local tenant."""
    if ctx is None or ctx.tenant_id is None:
        raise TenantRequired("No pharmacy chain selected for this action.")
    token = tenant_var.set(str(ctx.tenant_id))
    try:
        settings = {"app.tenant_id": str(ctx.tenant_id), "app.user_id": str(ctx.user_id or "")}
        with open_connection(settings=settings) as connection:
            yield connection
    finally:
        tenant_var.reset(token)


@contextmanager
def user_session(user_id: str) -> Iterator[Session]:
    """A transaction with no tenant, knowing only the signed-in user (their own row, their memberships)."""
    with open_session("app", settings={"app.tenant_id": "", "app.user_id": str(user_id)}) as session:
        yield session


@contextmanager
def platform_session(*, reason: str, actor: str = "system", tenant_id: object = None) -> Iterator[Session]:
    """Cross-tenant access for a named reason; audited in the same transaction.

    Only the callers listed in tests/tenants/test_platform_path.py may use this.
    """
    if not reason or not reason.strip():
        raise ValueError("platform_session needs a reason")
    frame = inspect.stack()[2]
    caller = f"{inspect.getmodulename(frame.filename)}:{frame.function}"
    with open_session("platform") as session:
        session.add(
            PlatformAuditEvent(
                actor=actor,
                reason=reason,
                action="platform_session",
                subject_tenant_id=tenant_id,  # type: ignore[arg-type]
                details={"caller": caller},
            )
        )
        session.flush()
        yield session
