"""Suppliers and purchase orders page."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.inventory.purchasing import (
    create_supplier,
    list_orders,
    list_suppliers,
    receive_order_line,
    send_order,
    suggest_order,
)
from backend.inventory.statuses import PurchaseOrderStatus
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from pharmacy_saas.state.display import display_status
from tenants.context import TenantContext
from tenants.roles import role_has


class PurchasingState(ShellState):
    orders: list[dict[str, Any]] = []
    suppliers: list[dict[str, str]] = []
    can_purchase: bool = False
    error: str = ""

    @rx.var
    def supplier_names(self) -> list[str]:
        return [s["name"] for s in self.suppliers]

    async def _reload(self, ctx: TenantContext) -> None:
        self.suppliers = [{"id": s.id, "name": s.name} for s in await transact(ctx, list_suppliers)]
        self.orders = [
            {
                "id": o.id,
                "number": o.number,
                "supplier": o.supplier,
                "branch": o.branch,
                "status": o.status,
                "status_label": display_status(o.status),
                "can_send": o.status == PurchaseOrderStatus.DRAFT,
                "can_receive": o.status in (PurchaseOrderStatus.SENT, PurchaseOrderStatus.PARTIALLY_RECEIVED),
                "lines": [
                    {
                        "medicine_id": line.medicine_id,
                        "medicine": line.medicine,
                        "ordered": line.ordered,
                        "received": line.received,
                    }
                    for line in o.lines
                ],
                "medicines": [line.medicine for line in o.lines],
            }
            for o in await transact(ctx, list_orders)
        ]

    @rx.event
    @guarded("inventory.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.can_purchase, self.error = role_has(ctx.role, "inventory.purchase"), ""
        await self._reload(ctx)

    async def _attempt(self, ctx: TenantContext, action: Any, success: str) -> Any:
        try:
            await action
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._reload(ctx)
        return rx.toast.success(success)

    @rx.event
    @guarded("inventory.purchase")
    async def add_supplier(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        return await self._attempt(
            ctx,
            transact(
                ctx,
                create_supplier,
                name=str(form.get("name", "")),
                email=str(form.get("email", "")),
                phone=str(form.get("phone", "")),
            ),
            "Supplier added.",
        )

    @rx.event
    @guarded("inventory.purchase")
    async def suggest(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        supplier = next((s["id"] for s in self.suppliers if s["name"] == form.get("supplier")), "")
        branch = next((b["id"] for b in self.branches if b["name"] == self.current_branch), "")
        try:
            order = await transact(ctx, suggest_order, supplier_id=supplier, branch_id=branch)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        await self._reload(ctx)
        if order is None:
            return rx.toast.info("Nothing is at or below its reorder point at this branch.")
        return rx.toast.success("Draft order created from the reorder points.")

    @rx.event
    @guarded("inventory.purchase")
    async def send(self, ctx: TenantContext, order_id: str) -> Any:
        return await self._attempt(ctx, transact(ctx, send_order, order_id), "Order sent.")

    @rx.event
    @guarded("inventory.receive")
    async def receive(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        order = next((o for o in self.orders if o["id"] == form.get("order_id")), None)
        line = next((x for x in (order or {}).get("lines", []) if x["medicine"] == form.get("medicine")), None)
        return await self._attempt(
            ctx,
            transact(
                ctx,
                receive_order_line,
                order_id=str(form.get("order_id", "")),
                medicine_id=line["medicine_id"] if line else "",
                lot_number=str(form.get("lot_number", "")),
                expiry_date=str(form.get("expiry_date", "")),
                quantity=form.get("quantity", ""),
            ),
            "Delivery received.",
        )
