"""The staff shell: the signed-in chain, its branches, and the health of every service."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.accounts.service import memberships_of
from backend.health.service import system_health
from backend.inventory.alerts import stock_alerts
from pharmacy_saas.state.base import SessionState, guarded, run_service
from tenants.context import TenantContext
from tenants.directory import tenant_profile
from tenants.roles import role_has


class ShellState(SessionState):
    """What the shell shows on every staff page: chains, branches, and which links the role may use."""

    branches: list[dict[str, str]] = []
    current_branch: str = ""
    can_manage_staff: bool = False
    can_open_settings: bool = False
    loaded: bool = False

    @rx.var
    def branch_names(self) -> list[str]:
        return [b["name"] for b in self.branches]

    @rx.var
    def chain_names(self) -> list[str]:
        return [m["tenant_name"] for m in self.memberships]

    async def _fill_shell(self, ctx: TenantContext) -> None:
        profile = await run_service(tenant_profile, ctx)
        chains = await run_service(memberships_of, ctx.user_id)
        self.memberships = [{"tenant_id": m.tenant_id, "tenant_name": m.tenant_name} for m in chains]
        self.tenant_name = profile.name
        # Read afresh on every page load, so a branch added in Settings is in the switcher (and in the
        # transfer, report and invitation choices built from it) at once. Deactivated branches take no
        # sales or stock, so they are not offered; their history stays in reports and the API.
        self.branches = [{"id": b.id, "name": b.name, "code": b.code} for b in profile.branches if b.is_active]
        if self.current_branch not in {b["name"] for b in self.branches}:  # e.g. it was just deactivated
            self.current_branch = self.branches[0]["name"] if self.branches else ""
        self.can_manage_staff = role_has(ctx.role, "staff.view")
        self.can_open_settings = role_has(ctx.role, "tenant.settings")
        self.loaded = True

    @rx.event
    @guarded("dashboard.view")
    async def choose_branch(self, ctx: TenantContext, name: str) -> None:
        if name in {b["name"] for b in self.branches}:  # only branches the server listed
            self.current_branch = name


class DashboardState(ShellState):
    services: list[dict[str, Any]] = []
    all_healthy: bool = False
    stock_counts: dict[str, str] = {}

    @rx.event
    @guarded("dashboard.view")
    async def load(self, ctx: TenantContext) -> Any:
        """on_load: refuse unless signed in with dashboard access, then fill the shell."""
        await self._fill_shell(ctx)
        if role_has(ctx.role, "inventory.view"):
            alerts = await run_service(stock_alerts, ctx)
            self.stock_counts = {
                "low": str(len(alerts.low_stock)),
                "expiring": str(alerts.expiring_within(min(alerts.windows))),
                "window": str(min(alerts.windows)),
                "expired": str(len(alerts.expired_on_shelf)),
                "recalled": str(len(alerts.recalled_in_stock)),
                "value": f"{alerts.value_at_risk:.2f}",
            }
        return DashboardState.refresh_health

    @rx.event
    @guarded("health.view")
    async def refresh_health(self, ctx: TenantContext) -> None:
        report = await run_service(system_health)
        self.services = [{"name": s.name, "ok": s.ok, "detail": s.detail} for s in report.services]
        self.all_healthy = report.ok
