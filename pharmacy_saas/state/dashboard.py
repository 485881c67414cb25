"""The staff shell: the signed-in chain, its branches, and the health of every service."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.health.service import system_health
from pharmacy_saas.state.base import SessionState, refusal, run_service
from tenants.directory import tenant_profile


class DashboardState(SessionState):
    branches: list[dict[str, str]] = []
    current_branch: str = ""
    services: list[dict[str, Any]] = []
    all_healthy: bool = False
    loaded: bool = False

    @rx.var
    def branch_names(self) -> list[str]:
        return [b["name"] for b in self.branches]

    @rx.event
    async def load(self) -> Any:
        """on_load: refuse unless signed in with dashboard access, then fill the shell."""
        try:
            ctx = self.authorize("dashboard.view")
            profile = await run_service(tenant_profile, ctx)
        except PharmacyError as exc:
            return refusal(exc)
        self.tenant_name = profile.name
        self.branches = [{"id": b.id, "name": b.name, "code": b.code} for b in profile.branches]
        if self.branches and self.current_branch not in {b["name"] for b in self.branches}:
            self.current_branch = self.branches[0]["name"]
        self.loaded = True
        return DashboardState.refresh_health

    @rx.event
    async def refresh_health(self) -> Any:
        try:
            self.authorize("health.view")
        except PharmacyError as exc:
            return refusal(exc)
        report = await run_service(system_health)
        self.services = [{"name": s.name, "ok": s.ok, "detail": s.detail} for s in report.services]
        self.all_healthy = report.ok
        return None

    @rx.event
    def choose_branch(self, name: str) -> Any:
        try:
            self.authorize("dashboard.view")
        except PharmacyError as exc:
            return refusal(exc)
        if name in {b["name"] for b in self.branches}:  # only branches the server listed
            self.current_branch = name
        return None
