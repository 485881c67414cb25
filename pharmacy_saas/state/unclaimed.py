"""Unclaimed fills (/prescriptions/unclaimed): the branch's checked fills not picked up within the chain's
N days, and the pharmacist's return to stock.

Every handler checks its permission on the server; the service runs in one tenant transaction (`transact`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from backend.core.display import display_time
from backend.core.errors import PharmacyError
from backend.prescriptions import unclaimed
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext
from tenants.roles import role_has


@dataclasses.dataclass
class UnclaimedRow:
    id: str
    code: str
    prescription_id: str
    rx_number: str
    patient: str
    drug: str
    quantity: str
    lots: str
    checked: str
    waiting: str


class UnclaimedState(ShellState):
    rows: list[UnclaimedRow] = []
    days: int = 14
    can_return: bool = False
    error: str = ""

    @rx.event
    @guarded("prescriptions.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.can_return = role_has(ctx.role, "prescriptions.return")
        self.error = ""
        await self._reload(ctx)

    @rx.event
    @guarded("prescriptions.view")
    async def switch_branch(self, ctx: TenantContext, name: str) -> None:
        if name in {b["name"] for b in self.branches}:
            self.current_branch = name
            await self._reload(ctx)

    async def _reload(self, ctx: TenantContext) -> None:
        branch = self._current_branch_id()
        self.rows = []
        if not branch:
            return
        try:
            self.days, found = await transact(ctx, unclaimed.unclaimed_fills, branch)
        except PharmacyError as exc:
            self.error = exc.message
            return
        zone = self._time_zone(branch)
        self.rows = [
            UnclaimedRow(
                id=f.id,
                code=f.code,
                prescription_id=f.prescription_id,
                rx_number=f.rx_number,
                patient=f.patient_name,
                drug=f.drug,
                quantity=str(f.quantity),
                lots=f.lots,
                checked=display_time(f.checked_at, zone),
                waiting=f"{f.days_waiting} days",
            )
            for f in found
        ]

    @rx.event
    @guarded("prescriptions.return")
    async def return_to_stock(self, ctx: TenantContext, fill_id: str) -> Any:
        try:
            done = await transact(ctx, unclaimed.return_to_stock, fill_id)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._reload(ctx)
        return rx.toast.success(f"{done.code}: {done.quantity} back on the shelf.")
