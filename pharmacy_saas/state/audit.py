"""The owner's audit page: who did what, filtered, with the hash chain checked."""

from __future__ import annotations

import reflex as rx

from pharmacy_saas.state.base import guarded, run_service
from pharmacy_saas.state.dashboard import ShellState
from tenants.audit import list_audit
from tenants.context import TenantContext

FILTERS = {
    "All": "",
    "Sign-ins": "auth.",
    "Staff": "staff.",
    "API tokens": "api_token.",
    "Chain": "tenant.",
    "Jobs": "job.",
}


class AuditState(ShellState):
    events: list[dict[str, str]] = []
    kind: str = "All"
    page: int = 0
    has_more: bool = False
    chain_intact: bool = True

    async def _reload(self, ctx: TenantContext) -> None:
        result = await run_service(list_audit, ctx, action_prefix=FILTERS.get(self.kind, ""), page=self.page)
        self.events = [
            {
                "seq": str(r.seq),
                "when": r.occurred_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                "actor": r.actor,
                "action": r.action,
                "entity": r.entity,
                "details": r.details,
            }
            for r in result.rows
        ]
        self.has_more, self.chain_intact = result.has_more, result.chain_intact

    @rx.event
    @guarded("audit.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.page = 0
        await self._reload(ctx)

    @rx.event
    @guarded("audit.view")
    async def filter_by(self, ctx: TenantContext, kind: str) -> None:
        self.kind, self.page = (kind if kind in FILTERS else "All"), 0
        await self._reload(ctx)

    @rx.event
    @guarded("audit.view")
    async def turn_page(self, ctx: TenantContext, step: int) -> None:
        self.page = max(0, self.page + (1 if step > 0 else -1))
        await self._reload(ctx)
