"""Sign-in, sign-out, switching chains, and sign-up."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from backend.accounts import passwords, throttle
from backend.accounts.mfa import mfa_enabled, verify_second_factor
from backend.accounts.password_reset import request_password_reset, reset_password
from backend.accounts.service import SignUpForm, authenticate, record_sign_in, sign_up
from backend.accounts.sessions import (
    end_all_sessions,
    end_session,
    issue_login_code,
    switch_tenant,
    take_notice,
)
from backend.core.errors import PharmacyError
from backend.demo.seed import load_demo_data_for_new_chain
from pharmacy_saas import routes
from pharmacy_saas.state.base import SessionState, guarded, navigate, public, run_service
from tenants.context import TenantContext

PENDING_SECONDS = 300
PASSWORD_RULES = passwords.RULES  # shown beside every field that sets a password, before it is checked


def cookie_exchange_url(code: str, next_path: str = routes.DASHBOARD) -> str:
    return f"{routes.COOKIE_EXCHANGE}?{urlencode({'code': code, 'next': next_path})}"


class SignInState(SessionState):
    error: str = ""
    notice: str = ""
    busy: bool = False
    needs_code: bool = False  # the password was right; the second factor comes next
    # Who passed the password step, kept on the server only, for a few minutes.
    _pending_user_id: str = ""
    _pending_tenant_id: str = ""
    _pending_until: float = 0.0

    @rx.event
    @public
    async def sign_in(self, form: dict[str, Any]) -> Any:
        email = str(form.get("email", "")).strip()
        password = str(form.get("password", ""))
        if not email or not password:
            self.error = "Enter your e-mail and password."
            return
        self.busy = True
        yield
        try:
            user = await run_service(authenticate, email, password, ip=self._client_ip())
            if not user.memberships:
                self.error = "Your account is not a member of any active pharmacy chain."
                return
            tenant_id = user.memberships[0].tenant_id
            if await run_service(mfa_enabled, user.user_id):
                self._pending_user_id, self._pending_tenant_id = user.user_id, tenant_id
                self._pending_until = time.time() + PENDING_SECONDS
                self.needs_code, self.error = True, ""
                return
            code = await self._finish(user.user_id, tenant_id)
        except PharmacyError as exc:
            self.error = exc.message
            return
        finally:
            self.busy = False
        yield navigate(cookie_exchange_url(code))

    @rx.event
    @public
    async def submit_code(self, form: dict[str, Any]) -> Any:
        """The second step: a code from the authenticator app, or a recovery code."""
        if not self._pending_user_id or time.time() > self._pending_until:
            self._forget_pending()
            self.error = "Sign-in timed out; enter your password again."
            return None
        user_id = self._pending_user_id
        try:
            if wait := await run_service(throttle.seconds_to_wait, f"mfa:{user_id}", self._client_ip()):
                self.error = f"Too many attempts. Wait {wait} seconds and try again."
                return None
            if not await run_service(verify_second_factor, user_id, str(form.get("code", ""))):
                await run_service(throttle.record_failure, f"mfa:{user_id}", self._client_ip())
                self.error = "That code is not right (or was already used)."
                return None
            code = await self._finish(user_id, self._pending_tenant_id)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self._forget_pending()
        return navigate(cookie_exchange_url(code))

    async def _finish(self, user_id: str, tenant_id: str) -> str:
        await run_service(record_sign_in, user_id, tenant_id, self._client_ip())
        self.error = ""
        return await run_service(issue_login_code, user_id, tenant_id)

    @rx.event
    @public
    def sso(self, form: dict[str, Any]) -> Any:
        """Continue with the chain's identity provider (a full navigation to our start endpoint)."""
        slug = str(form.get("chain", "")).strip().lower()
        if not re.fullmatch(r"[a-z0-9-]{3,40}", slug):
            self.error = "Enter your chain's URL slug, e.g. greenleaf-chemists."
            return None
        return navigate(f"/api/v1/auth/sso/{slug}/start")

    def _forget_pending(self) -> None:
        self._pending_user_id = self._pending_tenant_id = ""
        self._pending_until = 0.0
        self.needs_code = False

    @rx.event
    @public
    async def on_sign_in_page(self) -> Any:
        """on_load: an already signed-in member goes straight to the dashboard."""
        self.error = self.notice = ""
        self._forget_pending()
        params = self.router.url.query_parameters
        if params.get("expired"):
            self.error = "That sign-in link expired; sign in again."
        if params.get("reset"):
            self.notice = "Your password was changed and every session signed out. Sign in with the new one."
        if params.get("notice"):
            self.error = await run_service(take_notice, params.get("notice", ""))
        try:
            await self._authorize("dashboard.view")
        except PharmacyError:
            return None
        return rx.redirect(routes.DASHBOARD)


class PasswordResetState(SessionState):
    """Forgot-password request and the reset link's page."""

    message: str = ""
    error: str = ""
    busy: bool = False

    @rx.event
    @public
    async def request_link(self, form: dict[str, Any]) -> Any:
        self.busy = True
        yield
        try:
            self.message = await run_service(request_password_reset, str(form.get("email", "")))
            self.error = ""
        except PharmacyError as exc:
            self.error = exc.message
        finally:
            self.busy = False

    @rx.event
    @public
    async def choose_password(self, form: dict[str, Any]) -> Any:
        password, again = str(form.get("password", "")), str(form.get("password_again", ""))
        if password != again:
            self.error = "The two passwords differ."
            return None
        token = self.router.url.query_parameters.get("token", "")
        try:
            await run_service(reset_password, token, password)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        return rx.redirect(f"{routes.SIGN_IN}?reset=1")

    @rx.event
    @public
    def clear(self) -> None:
        self.message = self.error = ""


class AccountState(SessionState):
    """Actions on one's own account available from the shell on every page."""

    @rx.event
    @guarded("account.self")
    async def sign_out(self, ctx: TenantContext) -> Any:
        await run_service(end_session, self._token())
        self.signed_in = False
        return navigate(routes.SIGNED_OUT)

    @rx.event
    @guarded("account.self")
    async def sign_out_everywhere(self, ctx: TenantContext) -> Any:
        await run_service(end_all_sessions, str(ctx.user_id))
        self.signed_in = False
        return navigate(routes.SIGNED_OUT)

    @rx.event
    @guarded("account.self")
    async def switch_chain(self, ctx: TenantContext, tenant_name: str) -> Any:
        """Move this session to another chain of the user's; membership re-checked on the server."""
        target = next((m["tenant_id"] for m in self.memberships if m["tenant_name"] == tenant_name), None)
        if target is None or target == str(ctx.tenant_id):
            return None
        await run_service(switch_tenant, await self._principal(), target)
        return navigate(routes.DASHBOARD)


SIGN_UP_FIELDS = (
    "chain_name",
    "slug",
    "owner_name",
    "email",
    "password",
    "currency",
    "branch_name",
    "branch_address",
    "time_zone",
    "tax_rate",
)
# Field names the services report -> the form field that shows the message.
FIELD_ALIASES = {
    "name": "chain_name",
    "owner_email": "email",
    "default_tax_rate": "tax_rate",
    "branches": "branch_name",
}


class SignUpState(SessionState):
    """The chain's name and slug are plain inputs (the slug is filled in the browser, see pages/signup.py):
    the server reads what the form submits and checks it."""

    errors: dict[str, str] = {}
    busy: bool = False

    @rx.event
    @public
    async def submit(self, form: dict[str, Any]) -> Any:
        values = {name: str(form.get(name, "")) for name in SIGN_UP_FIELDS}
        values["slug"] = values["slug"].strip().lower()
        self.errors = {}
        self.busy = True
        yield
        try:
            user_id, tenant_id = await run_service(
                sign_up,
                SignUpForm(**values, prices_include_tax=bool(form.get("prices_include_tax"))),
            )
            if form.get("load_demo_data"):  # the chain exists; a failure here is logged, not shown
                await run_service(load_demo_data_for_new_chain, user_id, tenant_id)
            code = await run_service(issue_login_code, user_id, tenant_id)
        except PharmacyError as exc:
            field = FIELD_ALIASES.get(exc.field or "", exc.field or "form")
            self.errors = {field: exc.message}
            return
        finally:
            self.busy = False
        yield navigate(cookie_exchange_url(code))
