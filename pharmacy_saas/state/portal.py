"""The public refill portal's front page, and the base every portal page's state builds on.

The chain comes from the page's address on every event (never from a var the browser could change), and
its visitors act as the `portal` role of that chain: no staff session is read or needed.
"""

from __future__ import annotations

import reflex as rx

from backend.portal.chains import PortalChain, chain_for_slug, visitor_context
from backend.portal.service import portal_home
from pharmacy_saas import routes
from pharmacy_saas.state.base import public, run_service, transact
from tenants.context import TenantContext


class PortalState(rx.State):
    """The chain whose portal this is, as the page shows it."""

    chain_name: str = ""
    chain_slug: str = ""
    chain_found: bool = True
    suspended: bool = False
    branches: list[dict[str, str]] = []
    branch_hours: dict[str, list[list[str]]] = {}  # branch id -> [[weekday, hours], ...]

    def _slug(self) -> str:
        """The slug in /portal/<slug>[/...]: read from the address the page was opened at."""
        parts = [p for p in self.router.url.path.split("/") if p]
        return parts[1] if len(parts) >= 2 and parts[0] == "portal" else ""

    async def _chain(self) -> PortalChain | None:
        chain = await run_service(chain_for_slug, self._slug())
        self.chain_found = chain is not None
        self.chain_name = chain.name if chain else ""
        self.chain_slug = chain.slug if chain else ""
        self.suspended = bool(chain and chain.suspended)
        return chain

    async def _visitor(self) -> TenantContext | None:
        """The visitor's context on an open portal; None (and the page says why) on an unknown or closed one."""
        chain = await self._chain()
        if chain is None or chain.suspended:
            return None
        return visitor_context(chain)

    @rx.var
    def home_href(self) -> str:
        return routes.portal_path(self.chain_slug)

    @rx.var
    def refill_href(self) -> str:
        return routes.portal_path(self.chain_slug, "refill")

    @rx.var
    def prescriptions_href(self) -> str:
        return routes.portal_path(self.chain_slug, "prescriptions")

    @rx.var
    def feedback_href(self) -> str:
        return routes.portal_path(self.chain_slug, "feedback")

    @rx.var
    def upload_href(self) -> str:
        return routes.portal_path(self.chain_slug, "upload")

    @rx.event
    @public
    async def load_home(self) -> None:
        """on_load of /portal/<slug>: the chain's branches with address, phone and opening hours."""
        ctx = await self._visitor()
        if ctx is None:
            self.branches, self.branch_hours = [], {}
            return
        home = await transact(ctx, portal_home)
        self.branches = [
            {"id": b.id, "name": b.name, "address": b.address, "phone": b.phone, "tel": _tel(b.phone)}
            for b in home.branches
        ]
        self.branch_hours = {b.id: [[day, hours] for day, hours in b.hours] for b in home.branches}


def _tel(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit() or c == "+")
    return f"tel:{digits}" if digits else ""
