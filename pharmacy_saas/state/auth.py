"""Sign-in (the foundation's minimal password check; the accounts issue adds sessions, TOTP, SSO)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.accounts.service import authenticate
from backend.core.errors import PharmacyError
from pharmacy_saas import routes
from pharmacy_saas.state.base import SessionState, run_service


class SignInState(SessionState):
    error: str = ""
    busy: bool = False

    @rx.event
    async def sign_in(self, form: dict[str, Any]) -> Any:
        email = str(form.get("email", "")).strip()
        password = str(form.get("password", ""))
        if not email or not password:
            self.error = "Enter your e-mail and password."
            return None
        self.busy = True
        try:
            user = await run_service(authenticate, email, password)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        finally:
            self.busy = False
        if not user.memberships:
            self.error = "Your account is not a member of any active pharmacy chain."
            return None
        first = user.memberships[0]
        self.start_session(
            user_id=user.user_id,
            user_name=user.full_name,
            tenant_id=first.tenant_id,
            tenant_name=first.tenant_name,
            role=first.role,
        )
        self.error = ""
        return rx.redirect(routes.DASHBOARD)

    @rx.event
    def redirect_if_signed_in(self) -> Any:
        if self.signed_in:
            return rx.redirect(routes.DASHBOARD)
        return None
