"""The alerts page and the dashboard's stock widgets."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.inventory.alerts import AlertLine, stock_alerts
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from pharmacy_saas.state.display import display_money
from tenants.context import TenantContext


def _rows(lines: list[AlertLine], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "branch": a.branch,
            "medicine": a.medicine,
            "lot": a.lot,
            "quantity": a.quantity,
            "expiry": a.expiry.isoformat() if a.expiry else "",
            "detail": a.detail,
            "value": display_money(a.value, currency),
        }
        for a in lines
    ]


class AlertsState(ShellState):
    low_stock: list[dict[str, Any]] = []
    expiring: list[dict[str, Any]] = []
    expired: list[dict[str, Any]] = []
    recalled: list[dict[str, Any]] = []
    value_at_risk: str = "0.00"

    @rx.event
    @guarded("inventory.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        alerts = await transact(ctx, stock_alerts)
        c = self.chain_currency
        self.low_stock, self.expiring = _rows(alerts.low_stock, c), _rows(alerts.expiring, c)
        self.expired, self.recalled = _rows(alerts.expired_on_shelf, c), _rows(alerts.recalled_in_stock, c)
        self.value_at_risk = display_money(alerts.value_at_risk, c)
