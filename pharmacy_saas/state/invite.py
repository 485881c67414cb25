"""Accepting a staff invitation from its link."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.accounts.models import InvitationStatus
from backend.accounts.sessions import issue_login_code
from backend.accounts.staff import accept_invitation, invitation_details
from backend.core.errors import PharmacyError
from pharmacy_saas.state.auth import cookie_exchange_url
from pharmacy_saas.state.base import SessionState, navigate, public, run_service


class InviteState(SessionState):
    tenant: str = ""
    email: str = ""
    role: str = ""
    status: str = ""
    has_account: bool = False
    error: str = ""
    busy: bool = False

    @rx.var
    def acceptable(self) -> bool:
        """The link still invites (the page shows the form); the server checks again on accepting."""
        return self.status == InvitationStatus.PENDING

    def _invite_token(self) -> str:
        return self.router.url.query_parameters.get("token", "")

    @rx.event
    @public
    async def load(self) -> None:
        """on_load: show what the link invites to (the token itself is the credential)."""
        self.error = ""
        view = await run_service(invitation_details, self._invite_token())
        if view is None:
            self.status = "invalid"
            return
        self.tenant, self.email, self.role = view.tenant_name, view.email, view.role
        self.status, self.has_account = str(view.status), view.has_account

    @rx.event
    @public
    async def accept(self, form: dict[str, Any]) -> Any:
        self.busy = True
        yield
        try:
            user_id, tenant_id = await run_service(
                accept_invitation,
                self._invite_token(),
                full_name=str(form.get("full_name", "")),
                password=str(form.get("password", "")),
            )
            code = await run_service(issue_login_code, user_id, tenant_id)
        except PharmacyError as exc:
            self.error = exc.message
            return
        finally:
            self.busy = False
        yield navigate(cookie_exchange_url(code))
