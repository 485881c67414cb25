"""The page staff of a suspended chain land on: why (owners) and what to do."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.accounts.sessions import principal_for_token
from backend.accounts.suspension import suspension_notice
from pharmacy_saas import routes
from pharmacy_saas.state.base import SessionState, public, run_service


class SuspendedState(SessionState):
    chain: str = ""
    is_owner: bool = False
    reason: str = ""
    since: str = ""
    support_email: str = ""

    @rx.event
    @public  # no permission fits a suspended chain (every one is refused); the session is checked here
    async def load(self) -> Any:
        principal = await run_service(principal_for_token, self._token())
        if principal is None:
            return rx.redirect(routes.SIGN_IN)
        notice = await run_service(suspension_notice, principal)
        if notice is None:  # reactivated meanwhile, or never suspended
            return rx.redirect(routes.DASHBOARD)
        self.chain, self.is_owner, self.reason = notice.chain_name, notice.is_owner, notice.reason
        self.since = notice.suspended_at.strftime("%d %b %Y") if notice.suspended_at else ""
        self.support_email = notice.support_email
        return None
