"""The super-admin console: its own sign-in (password + TOTP) and cookie, never a chain's session."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.accounts.sessions import PLATFORM_COOKIE, PlatformPrincipal, platform_principal_for_token
from backend.core.errors import AuthenticationRequired, PharmacyError
from backend.platform.service import (
    MIN_REASON,
    check_reason,
    grant_support_access,
    list_tenants,
    platform_sign_in,
    set_tenant_status,
)
from pharmacy_saas import routes
from pharmacy_saas.state.auth import cookie_exchange_url
from pharmacy_saas.state.base import SessionState, guarded, navigate, public, run_service, session_token
from tenants.models import TenantStatus
from tenants.roles import PLATFORM_ADMIN, role_has

REASON_HINT = f"At least {MIN_REASON} characters. The owner reads a suspension's reason when signing in."


class PlatformSignInState(SessionState):
    error: str = ""
    busy: bool = False

    @rx.event
    @public
    async def sign_in(self, form: dict[str, Any]) -> Any:
        self.busy = True
        yield
        try:
            code = await run_service(
                platform_sign_in,
                str(form.get("email", "")),
                str(form.get("password", "")),
                str(form.get("code", "")),
                ip=self._client_ip(),
            )
        except PharmacyError as exc:
            self.error = exc.message
            return
        finally:
            self.busy = False
        self.error = ""
        yield navigate(cookie_exchange_url(code, routes.PLATFORM))


class PlatformState(SessionState):
    """Console pages. `_authorize` here validates the console cookie, not a chain session."""

    admin_name: str = ""
    search: str = ""
    tenants: list[dict[str, Any]] = []
    selected_id: str = ""
    selected_name: str = ""
    selected_status: str = ""
    error: str = ""
    # Suspending stops a whole chain at its next click: the console asks once more, naming the chain.
    confirm_open: bool = False
    pending_reason: str = ""

    def _sign_in_route(self) -> str:
        return routes.PLATFORM_SIGN_IN

    async def _authorize(self, permission: str, *, remember: bool = True) -> PlatformPrincipal:  # type: ignore[override]
        token = session_token(self.router.headers.cookie, PLATFORM_COOKIE)
        admin = await run_service(platform_principal_for_token, token)
        if admin is None:
            raise AuthenticationRequired("Sign in to the platform console.")
        if not role_has(PLATFORM_ADMIN, permission):
            raise AuthenticationRequired("The console cannot do that.")
        if remember:
            self.admin_name = admin.full_name
        return admin

    async def _reload(self, admin: PlatformPrincipal) -> None:
        rows = await run_service(list_tenants, actor=admin.email, reason="console: list tenants", search=self.search)
        self.tenants = [
            {
                "id": t.id,
                "slug": t.slug,
                "name": t.name,
                "status": t.status,
                "plan": t.plan,
                "branches": t.branches,
                "users": t.users,
                "events": t.events_30d,
                "last": t.last_activity.strftime("%Y-%m-%d %H:%M") if t.last_activity else "never",
            }
            for t in rows
        ]
        chosen = next((t for t in self.tenants if t["id"] == self.selected_id), None)
        self.selected_status = chosen["status"] if chosen else ""

    @rx.event
    @guarded("platform.console", page_load=True)
    async def load(self, admin: PlatformPrincipal) -> None:
        self.error = ""
        await self._reload(admin)

    @rx.event
    @guarded("platform.console")
    async def find(self, admin: PlatformPrincipal, form: dict[str, Any]) -> None:
        self.search = str(form.get("search", ""))[:80]
        await self._reload(admin)

    @rx.event
    @guarded("platform.console")
    async def select(self, admin: PlatformPrincipal, tenant_id: str) -> None:
        chosen = next((t for t in self.tenants if t["id"] == tenant_id), None)
        if chosen:
            self.selected_id, self.selected_name, self.selected_status = (
                tenant_id,
                chosen["name"],
                chosen["status"],
            )
            self.error = ""

    @rx.event
    @guarded("platform.console")
    async def change_status(self, admin: PlatformPrincipal, form: dict[str, Any]) -> Any:
        """Reactivate at once; a suspension is only asked for here and done by `confirm_suspend`."""
        reason = str(form.get("reason", ""))
        if self.selected_status == TenantStatus.SUSPENDED:
            return await self._set_status(admin, TenantStatus.ACTIVE, reason)
        try:
            check_reason(reason)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error, self.pending_reason, self.confirm_open = "", reason.strip(), True
        return None

    @rx.event
    @guarded("platform.console")
    async def confirm_suspend(self, admin: PlatformPrincipal) -> Any:
        self.confirm_open = False
        if not self.pending_reason:
            return None
        reason, self.pending_reason = self.pending_reason, ""
        return await self._set_status(admin, TenantStatus.SUSPENDED, reason)

    @rx.event
    @guarded("platform.console")
    async def cancel_suspend(self, admin: PlatformPrincipal) -> None:
        self.confirm_open, self.pending_reason = False, ""

    async def _set_status(self, admin: PlatformPrincipal, status: str, reason: str) -> Any:
        try:
            await run_service(set_tenant_status, admin, self.selected_id, status, reason)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._reload(admin)
        return rx.toast.success(f"{self.selected_name} is now {status}.")

    @rx.event
    @guarded("platform.console")
    async def support_access(self, admin: PlatformPrincipal, form: dict[str, Any]) -> Any:
        try:
            minutes = int(str(form.get("minutes", "30")) or 30)
            code = await run_service(
                grant_support_access, admin, self.selected_id, str(form.get("reason", "")), minutes
            )
        except ValueError:
            self.error = "Minutes must be a whole number."
            return None
        except PharmacyError as exc:
            self.error = exc.message
            return None
        return navigate(cookie_exchange_url(code, routes.DASHBOARD))
