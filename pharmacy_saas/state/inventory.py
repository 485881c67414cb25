"""Inventory pages: the catalog with server-side search, receiving by barcode, a medicine's stock."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.core.live import EventKind
from backend.inventory.service import (
    MIN_CORRECTION_REASON,
    correct_stock,
    medicine_by_barcode,
    medicine_stock,
    receive_stock,
    search_medicines,
    transfer_stock,
)
from pharmacy_saas import routes
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from pharmacy_saas.state.display import display_money
from pharmacy_saas.state.live import live_events
from tenants.context import TenantContext
from tenants.roles import role_has

CORRECTION_REASON_HINT = f"At least {MIN_CORRECTION_REASON} characters, e.g. “two packs water-damaged”."


class InventoryState(ShellState):
    query: str = ""
    sort: str = "name"
    page: int = 0
    has_more: bool = False
    medicines: list[dict[str, Any]] = []
    can_receive: bool = False
    can_edit_catalog: bool = False
    can_trace: bool = False  # the recall trace: who received a lot
    receive_medicine_id: str = ""
    receive_medicine_name: str = ""
    receive_error: str = ""

    async def _reload(self, ctx: TenantContext) -> None:
        branch_id = next((b["id"] for b in self.branches if b["name"] == self.current_branch), None)
        found, self.has_more = await transact(
            ctx, search_medicines, self.query, sort=self.sort, page=self.page, branch_id=branch_id
        )
        self.medicines = [
            {
                "id": m.id,
                "name": m.generic_name,
                "brand": m.brand_name,
                "strength": m.strength,
                "form": m.dosage_form,
                "barcode": m.barcode or "",
                "schedule": m.schedule,
                "on_hand": m.on_hand,
                "price": display_money(m.default_sell_price, self.chain_currency),
            }
            for m in found
        ]

    @rx.event
    @guarded("inventory.view", page_load=True)
    async def load(self, ctx: TenantContext) -> Any:
        await self._fill_shell(ctx)
        self.can_receive = role_has(ctx.role, "inventory.receive")
        self.can_edit_catalog = role_has(ctx.role, "inventory.catalog")
        self.can_trace = role_has(ctx.role, "prescriptions.recall_trace")
        self.receive_medicine_id = self.receive_medicine_name = self.receive_error = ""
        await self._reload(ctx)
        return InventoryState.watch_live

    # --- live (issue 18 §5): a new sale's stock change elsewhere shows without a reload ---

    @rx.event(background=True)
    @guarded("inventory.view", background=True)
    async def watch_live(self, ctx: TenantContext) -> Any:
        async for event in live_events(self, ctx, {EventKind.STOCK_CHANGED}, routes.INVENTORY):
            yield InventoryState.live_refresh(event.branch_id)

    @rx.event
    @guarded("inventory.view")
    async def live_refresh(self, ctx: TenantContext, branch_id: str) -> None:
        if branch_id == self._current_branch_id():  # another branch's event: this page shows one branch
            await self._reload(ctx)

    @rx.event
    @guarded("inventory.view")
    async def search(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        self.query, self.page = str(form.get("q", ""))[:80], 0
        await self._reload(ctx)

    @rx.event
    @guarded("inventory.view")
    async def sort_by(self, ctx: TenantContext, sort: str) -> None:
        self.sort, self.page = (sort if sort in ("name", "on_hand", "price") else "name"), 0
        await self._reload(ctx)

    @rx.event
    @guarded("inventory.view")
    async def turn_page(self, ctx: TenantContext, step: int) -> None:
        self.page = max(0, self.page + (1 if step > 0 else -1))
        await self._reload(ctx)

    @rx.event
    @guarded("inventory.receive")
    async def scan(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        """A scanner types the barcode and Enter: pick the medicine to receive."""
        medicine = await transact(ctx, medicine_by_barcode, str(form.get("barcode", "")))
        if medicine is None:
            self.receive_medicine_id, self.receive_medicine_name = "", ""
            self.receive_error = "No medicine in the catalog has that barcode."
            return
        self.receive_medicine_id = medicine.id
        self.receive_medicine_name = f"{medicine.generic_name} {medicine.strength}".strip()
        self.receive_error = ""

    @rx.event
    @guarded("inventory.receive")
    async def receive(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        branch_id = next((b["id"] for b in self.branches if b["name"] == self.current_branch), "")
        try:
            await transact(
                ctx,
                receive_stock,
                branch_id=branch_id,
                medicine_id=self.receive_medicine_id,
                lot_number=str(form.get("lot_number", "")),
                expiry_date=str(form.get("expiry_date", "")),
                quantity=form.get("quantity", ""),
                cost_price=str(form.get("cost_price", "") or "0"),
                supplier_name=str(form.get("supplier_name", "")),
            )
        except PharmacyError as exc:
            self.receive_error = exc.message
            return None
        name = self.receive_medicine_name
        self.receive_medicine_id = self.receive_medicine_name = self.receive_error = ""
        await self._reload(ctx)
        return rx.toast.success(f"Received {form.get('quantity')} of {name} into {self.current_branch}.")


COUNT_CORRECTION = "Count correction"
# What the stock form offers, as a pharmacist says it, and the ledger's movement kind.
CORRECTION_KINDS = {
    COUNT_CORRECTION: "adjust",
    "Write-off (expired or damaged)": "write_off",
    "Return to supplier": "supplier_return",
    "Customer return": "customer_return",
}


class MedicineState(ShellState):
    medicine: dict[str, str] = {}
    batches: list[dict[str, Any]] = []
    movements: list[dict[str, Any]] = []
    can_adjust: bool = False
    can_transfer: bool = False
    can_edit_catalog: bool = False
    can_trace: bool = False
    action_error: str = ""

    @rx.var
    def batch_choices(self) -> list[str]:
        return [f"{b['branch']} · lot {b['lot']}" for b in self.batches if b["quantity"] > 0]

    @rx.var
    def correction_kinds(self) -> list[str]:
        return list(CORRECTION_KINDS)

    @rx.var
    def other_branches(self) -> list[str]:
        return [b["name"] for b in self.branches]

    def _batch_id(self, choice: str) -> str:
        return next((b["id"] for b in self.batches if f"{b['branch']} · lot {b['lot']}" == choice), "")

    @rx.event
    @guarded("inventory.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.can_adjust = role_has(ctx.role, "inventory.adjust")
        self.can_transfer = role_has(ctx.role, "inventory.transfer")
        self.can_edit_catalog = role_has(ctx.role, "inventory.catalog")
        self.can_trace = role_has(ctx.role, "prescriptions.recall_trace")
        self.action_error = ""
        await self._reload(ctx)

    @rx.event
    @guarded("inventory.adjust")
    async def adjust(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """A count correction, write-off, return to supplier or customer return of one batch."""
        label = str(form.get("kind", "") or COUNT_CORRECTION)
        try:
            await transact(
                ctx,
                correct_stock,
                batch_id=self._batch_id(str(form.get("batch", ""))),
                kind=CORRECTION_KINDS.get(label, ""),
                change=form.get("change", ""),
                reason=str(form.get("reason", "")),
            )
        except PharmacyError as exc:
            self.action_error = exc.message
            return None
        self.action_error = ""
        await self._reload(ctx)
        return rx.toast.success(f"{label} recorded.")

    @rx.event
    @guarded("inventory.transfer")
    async def transfer(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        destination = next((b["id"] for b in self.branches if b["name"] == form.get("to_branch")), "")
        try:
            await transact(
                ctx,
                transfer_stock,
                batch_id=self._batch_id(str(form.get("batch", ""))),
                to_branch_id=destination,
                quantity=form.get("quantity", ""),
                note=str(form.get("note", "")),
            )
        except PharmacyError as exc:
            self.action_error = exc.message
            return None
        self.action_error = ""
        await self._reload(ctx)
        return rx.toast.success(f"Sent to {form.get('to_branch')}.")

    async def _reload(self, ctx: TenantContext) -> None:
        medicine, batches, movements = await transact(
            ctx, medicine_stock, self.router.url.query_parameters.get("id", "")
        )
        self.medicine = {
            "id": medicine.id,
            "name": f"{medicine.generic_name} {medicine.strength}".strip(),
            "brand": medicine.brand_name,
            "barcode": medicine.barcode or "",
            "schedule": medicine.schedule,
            "on_hand": str(medicine.on_hand),
            "unit": medicine.dispensing_unit,
            "inactive": "" if medicine.is_active else "inactive",
        }
        self.batches = [
            {
                "id": b.id,
                "branch": b.branch,
                "lot": b.lot_number,
                "expiry": b.expiry_date.isoformat(),
                "quantity": b.quantity,
                "state": "recalled" if b.recalled else "expired" if b.expired else b.status,
            }
            for b in batches
        ]
        self.movements = [
            {
                "when": m.occurred_at.strftime("%Y-%m-%d %H:%M UTC"),
                "kind": m.kind,
                "quantity": m.quantity,
                "lot": m.lot_number,
                "branch": m.branch,
                "note": m.reason or m.reference,
            }
            for m in movements
        ]
