"""The session every page shares, and the one way handlers reach backend services.

The browser holds only an HttpOnly session cookie. Every event re-reads it from the websocket's
handshake headers and re-validates it on the server (`authorize`), so identity, tenant and role
are never taken from the browser, and an ended session or deactivated member is refused at once.
Every event handler declares its permission with `@guarded(...)` or says it is `@public`;
tests/pharmacy_saas/test_handler_permissions.py fails on a handler that does neither.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from http.cookies import CookieError, SimpleCookie
from typing import Any, TypeVar

import reflex as rx

from backend.accounts.sessions import SESSION_COOKIE, Principal, require_principal
from backend.accounts.signatures import sign
from backend.core.errors import AuthenticationRequired, ChainSuspended, PermissionDenied, PharmacyError
from backend.core.logging import new_trace_id, tenant_var, trace_id_var, user_var
from pharmacy_saas import routes
from tenants.context import TenantContext
from tenants.roles import require
from tenants.session import run_in_tenant

T = TypeVar("T")
PUBLIC = None  # marker: a handler anyone may call (sign-in, sign-up, form typing)


async def run_service(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous backend service in a thread so one user's query never blocks the others.

    Each call gets a trace id for the logs (context variables follow the call into the thread).
    """
    token = trace_id_var.set(new_trace_id())
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    finally:
        trace_id_var.reset(token)


async def transact(ctx: TenantContext, service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """The Reflex adapter's unit of work: `service(session, ctx, *args, **kwargs)` in one tenant
    transaction (retried as a whole when it lost a race; tenants.session.run_in_tenant), in a thread."""
    return await run_service(run_in_tenant, ctx, service, *args, **kwargs)


async def stream_service(
    fn: Callable[..., Iterator[T]], *args: Any, interval: float = 0.05, **kwargs: Any
) -> AsyncIterator[list[T]]:
    """Run a synchronous generator service in a thread and hand over what it yields in batches: the
    first item at once, then whatever arrived during each `interval`. A model streams a token every few
    milliseconds; one state update (a websocket message, and a Redis write with several workers) per
    token would cost more than the tokens, so the page gets about one update per interval instead."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[bool, Any]] = asyncio.Queue()  # (done, item or exception)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in fn(*args, **kwargs):
                loop.call_soon_threadsafe(queue.put_nowait, (False, item))
                if stop.is_set():  # the page went away: stop asking the model for more
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting handler, which re-raises it
            loop.call_soon_threadsafe(queue.put_nowait, (True, exc))
        else:
            loop.call_soon_threadsafe(queue.put_nowait, (True, None))

    token = trace_id_var.set(new_trace_id())
    context = contextvars.copy_context()  # the thread logs with this trace id, tenant and user
    trace_id_var.reset(token)
    loop.run_in_executor(None, context.run, produce)
    batch: list[T] = []
    flush_at = loop.time()
    try:
        while True:
            wait = max(flush_at - loop.time(), 0.0) if batch else None
            try:
                done, item = await asyncio.wait_for(queue.get(), wait)
            except TimeoutError:
                yield batch
                batch, flush_at = [], loop.time() + interval
                continue
            if done:
                if batch:
                    yield batch
                if item is not None:
                    raise item
                return
            batch.append(item)
            if loop.time() >= flush_at:
                yield batch
                batch, flush_at = [], loop.time() + interval
    finally:
        stop.set()  # the thread ends at its next item; nothing needs to wait for it


async def sign_with_password(
    ctx: TenantContext, form: dict[str, Any], *, meaning: str, entity_type: str, entity_id: str
) -> str:
    """The signer's electronic signature from the form's password field (its id), before the act it signs:
    a wrong or empty password raises, so nothing is signed and the act is never attempted."""
    return await run_service(
        sign,
        ctx,
        password=str(form.get("password", "")) or None,
        meaning=meaning,
        entity_type=entity_type,
        entity_id=entity_id,
    )


def navigate(url: str) -> Any:
    """A full page load (not client-side routing), so the browser sends and updates cookies."""
    return rx.call_script(f"window.location.assign({json.dumps(url)})")


class MfaRequired(PermissionDenied):
    """The chain requires two-factor sign-in and this member has not set it up."""


def refusal(exc: PharmacyError, *, leave_page: bool = False, sign_in: str = routes.SIGN_IN) -> Any:
    """What a refused event does: signed-out users go to sign-in, others see why
    (and, when a page itself was refused, land back on the dashboard)."""
    if isinstance(exc, AuthenticationRequired):
        return rx.redirect(sign_in)
    if isinstance(exc, MfaRequired):
        return [rx.toast.warning(exc.message, id="refusal"), rx.redirect(routes.ACCOUNT)]
    if isinstance(exc, ChainSuspended):
        return rx.redirect(routes.SUSPENDED)
    toast = rx.toast.error(exc.message, id="refusal")
    if leave_page and isinstance(exc, PermissionDenied):
        return [toast, rx.redirect(routes.DASHBOARD)]
    return toast


def guarded(
    permission: str, *, page_load: bool = False, background: bool = False
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Declare and enforce the permission of an event handler.

    The wrapped handler receives the server-built TenantContext as its first argument after self.
    `page_load=True` marks a page's on_load: a refused member is sent back to the dashboard.
    `background=True` is for `@rx.event(background=True)` handlers, which may change the state only
    inside `async with self`: the check then leaves the state untouched.
    """

    def decorate(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def handler(self: SessionState, *args: Any, **kwargs: Any) -> Any:
            try:
                ctx = await self._authorize(permission, remember=not background)
                return await fn(self, ctx, *args, **kwargs)
            except PharmacyError as exc:
                return refusal(exc, leave_page=page_load, sign_in=self._sign_in_route())

        @functools.wraps(fn)
        async def yielding(self: SessionState, *args: Any, **kwargs: Any) -> Any:
            # A handler that yields events (a background poll handing work to normal events).
            try:
                ctx = await self._authorize(permission, remember=not background)
                async for item in fn(self, ctx, *args, **kwargs):  # type: ignore[attr-defined]
                    yield item
            except PharmacyError as exc:
                yield refusal(exc, leave_page=page_load, sign_in=self._sign_in_route())

        if inspect.isasyncgenfunction(fn):
            handler = yielding  # type: ignore[assignment]

        params = list(inspect.signature(fn).parameters.values())
        handler.__signature__ = inspect.Signature([params[0], *params[2:]])  # type: ignore[attr-defined]
        handler.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != "ctx"}
        del handler.__wrapped__  # Reflex must see the signature without ctx
        handler.required_permission = permission  # type: ignore[attr-defined]
        return handler

    return decorate


def public(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a handler anyone may call (it must not touch tenant data without checking itself)."""
    fn.required_permission = PUBLIC  # type: ignore[attr-defined]
    return fn


def session_token(cookie_header: str, name: str = SESSION_COOKIE) -> str | None:
    try:
        morsel = SimpleCookie(cookie_header).get(name)
    except CookieError:
        return None
    return morsel.value if morsel else None


class SessionState(rx.State):
    """Display-only facts about the signed-in member; the truth is re-read on every event."""

    user_name: str = ""
    tenant_name: str = ""
    role_label: str = ""
    signed_in: bool = False
    memberships: list[dict[str, str]] = []

    def _token(self) -> str | None:
        return session_token(self.router.headers.cookie)

    def _sign_in_route(self) -> str:
        return routes.SIGN_IN

    def _client_ip(self) -> str:
        return self.router.session.client_ip

    async def _principal(self) -> Principal:
        return await run_service(require_principal, self._token())

    async def _authorize(self, permission: str, *, remember: bool = True) -> TenantContext:
        """The member's context if their live session and role allow `permission`; else raises.

        `remember` shows who is signed in on the page (not allowed outside `async with self` in a
        background handler)."""
        principal = await self._principal()
        ctx = principal.context()
        if principal.tenant_requires_mfa and not principal.mfa_enabled and permission != "account.self":
            raise MfaRequired("Your pharmacy chain requires two-factor sign-in: set it up to continue.")
        tenant_var.set(str(ctx.tenant_id))
        user_var.set(str(ctx.user_id))
        if not remember:
            return require(ctx, permission)
        self.user_name = principal.full_name
        self.tenant_name = principal.tenant_name or ""
        self.role_label = (principal.role or "").title()
        self.signed_in = True
        return require(ctx, permission)
