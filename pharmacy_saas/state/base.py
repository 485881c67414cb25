"""The session every page shares, and the one way handlers call backend services.

Identity (user, tenant, role) lives only in `_`-prefixed vars, which never leave the server;
every handler rebuilds the TenantContext from them and re-checks the permission it needs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx

from backend.core.errors import AuthenticationRequired, PermissionDenied, PharmacyError
from backend.core.logging import new_trace_id, trace_id_var
from pharmacy_saas import routes
from tenants.context import TenantContext
from tenants.roles import require

T = TypeVar("T")


async def run_service(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous backend service in a thread so one user's query never blocks the others.

    Each call gets a trace id for the logs (context variables follow the call into the thread).
    """
    token = trace_id_var.set(new_trace_id())
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    finally:
        trace_id_var.reset(token)


class SessionState(rx.State):
    """Who is signed in, for which chain. Public vars are display-only."""

    _user_id: str = ""
    _tenant_id: str = ""
    _role: str = ""

    user_name: str = ""
    tenant_name: str = ""
    role_label: str = ""
    signed_in: bool = False

    def tenant_context(self) -> TenantContext:
        if not (self._user_id and self._tenant_id and self._role):
            raise AuthenticationRequired("Please sign in.")
        return TenantContext(
            tenant_id=uuid.UUID(self._tenant_id), user_id=uuid.UUID(self._user_id), role=self._role
        )

    def authorize(self, permission: str) -> TenantContext:
        """The context of the signed-in member, if their role holds `permission`; else raises."""
        return require(self.tenant_context(), permission)

    def start_session(
        self, *, user_id: str, user_name: str, tenant_id: str, tenant_name: str, role: str
    ) -> None:
        self._user_id, self._tenant_id, self._role = user_id, tenant_id, role
        self.user_name, self.tenant_name, self.role_label = user_name, tenant_name, role.title()
        self.signed_in = True

    def end_session(self) -> None:
        self._user_id = self._tenant_id = self._role = ""
        self.user_name = self.tenant_name = self.role_label = ""
        self.signed_in = False

    @rx.event
    def sign_out(self) -> Any:
        self.end_session()
        return rx.redirect(routes.LANDING)


def refusal(exc: PharmacyError) -> Any:
    """Where to send a user whose action was refused (sign-in page when signed out)."""
    if isinstance(exc, AuthenticationRequired):
        return rx.redirect(routes.SIGN_IN)
    if isinstance(exc, PermissionDenied):
        return rx.toast.error(exc.message)
    return rx.toast.error(exc.message)
