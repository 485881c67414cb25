"""Filling on the prescription page (/prescriptions/rx?id=): the fill form with what FEFO would take,
the prescription's fills with their lots, and each fill's label as a PDF.

Every handler checks its permission on the server; the service runs in one tenant transaction (`transact`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from backend.core.display import display_time
from backend.core.errors import PharmacyError
from backend.prescriptions import fills, labels
from backend.prescriptions.enums import FillStatus
from pharmacy_saas.state.base import SessionState, guarded, transact
from pharmacy_saas.state.prescriptions import RxState
from tenants.context import TenantContext
from tenants.roles import role_has


@dataclasses.dataclass
class FillRow:
    id: str
    code: str
    when: str
    quantity: str
    owed: str
    lots: str
    status: str
    who: str
    awaiting_check: bool
    checked: str


class FillState(SessionState):
    """The fill step of one prescription; the page's RxState holds the prescription itself."""

    fill_rx_id: str = ""
    fills: list[FillRow] = []
    can_fill: bool = False
    can_check: bool = False
    fillable: bool = False
    owed: int = 0
    dispensable: int = 0
    fefo: list[str] = []
    due_by: str = ""
    fill_error: str = ""
    fill_form_key: int = 0

    @rx.event
    @guarded("prescriptions.view")
    async def load(self, ctx: TenantContext) -> None:
        self.fill_rx_id = self.router.url.query_parameters.get("id", "")
        self.can_fill = role_has(ctx.role, "prescriptions.fill")
        self.can_check = role_has(ctx.role, "prescriptions.check")
        self.fill_error = ""
        await self._reload(ctx)

    async def _reload(self, ctx: TenantContext) -> None:
        self.fills, self.fillable, self.fefo, self.due_by = [], False, [], ""
        if not self.fill_rx_id:
            return
        try:
            found = await transact(ctx, fills.fills_of, self.fill_rx_id)
            preview = await transact(ctx, fills.fill_preview, self.fill_rx_id) if self.can_fill else None
        except PharmacyError:
            return  # the prescription itself says what is wrong (RxState shows it)
        zone = await transact(ctx, fills.branch_zone, self.fill_rx_id)
        self.fills = [
            FillRow(
                id=f.id,
                code=f.code,
                when=display_time(f.filled_at, zone),
                quantity=str(f.quantity),
                owed=str(f.owed_after) if f.owed_after else "",
                lots=", ".join(f"{lot.lot_number} x{lot.quantity}" for lot in f.lots),
                status=f.status.label,
                who=f.filled_by,
                awaiting_check=f.status == FillStatus.AWAITING_CHECK,
                checked=f"{f.checked_by}, {display_time(f.checked_at, zone)}" if f.checked_at else "",
            )
            for f in found
        ]
        if preview is not None:
            self.fillable, self.owed, self.dispensable = True, preview.owed, preview.dispensable
            self.fefo = [
                f"{lot.lot_number} (expires {lot.expiry_date.isoformat()}): {lot.quantity}" for lot in preview.lots
            ]
            if preview.remainder_due_by is not None:
                self.due_by = display_time(preview.remainder_due_by, zone)

    @rx.event
    @guarded("prescriptions.fill")
    async def fill(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        try:
            done = await transact(
                ctx,
                fills.fill_prescription,
                self.fill_rx_id,
                quantity=str(form.get("quantity", "")).strip() or None,
                partial=bool(form.get("partial")),
            )
        except PharmacyError as exc:
            self.fill_error = exc.message
            return None
        self.fill_error = ""
        self.fill_form_key += 1
        await self._reload(ctx)
        said = f"{done.code}: {done.quantity} filled" + (f", {done.owed_after} owed." if done.owed_after else ".")
        return [rx.toast.success(said), RxState.load]

    @rx.event
    @guarded("prescriptions.check")
    async def check(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """The final check: the stock bottle's barcode against the fill's product."""
        try:
            checked = await transact(ctx, fills.final_check, str(form.get("fill_id", "")), str(form.get("barcode", "")))
        except PharmacyError as exc:
            self.fill_error = exc.message
            return rx.toast.error(exc.message, duration=10000)
        self.fill_error = ""
        await self._reload(ctx)
        return [rx.toast.success(f"{checked.code} checked: the right product."), RxState.load]

    @rx.event
    @guarded("prescriptions.view")
    async def download_label(self, ctx: TenantContext, fill_id: str) -> Any:
        try:
            code, pdf = await transact(ctx, labels.label_pdf, fill_id)
        except PharmacyError as exc:
            self.fill_error = exc.message
            return None
        return rx.download(data=pdf, filename=f"label-{code}.pdf", mime_type="application/pdf")
