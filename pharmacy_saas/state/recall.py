"""The recall trace page (/inventory/recall): who received a lot. Opened from a medicine's batch
("Who received this lot", ?batch=) or by typing the lot number from the recall notice (?lot=, with
?medicine= when makers share the number).

Every handler checks `prescriptions.recall_trace` on the server; listing the patients writes each one
to the patient access log in the same transaction (the service does it).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from backend.core.display import display_date, display_time
from backend.core.errors import PharmacyError
from backend.prescriptions import recall
from pharmacy_saas import routes
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext


@dataclasses.dataclass
class RecipientRow:
    patient: str
    born: str
    contact: str
    consent: str
    reference: str
    link: str
    kind: str
    when: str
    quantity: str
    branch: str
    status: str


@dataclasses.dataclass
class ProductChoice:
    medicine_id: str
    label: str


class RecallState(ShellState):
    lot: str = ""
    product: str = ""  # the medicine traced, with its maker
    choices: list[ProductChoice] = []  # makers sharing the lot number, when the member must choose
    rows: list[RecipientRow] = []
    patients: int = 0
    traced: bool = False
    error: str = ""

    @rx.event
    @guarded(recall.PERMISSION, page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        query = self.router.url.query_parameters
        self._clear()
        if batch := query.get("batch", ""):
            await self._show(ctx, recall.trace_batch, batch)
        elif lot := query.get("lot", ""):
            await self._show(ctx, recall.trace_lot, lot, query.get("medicine", "") or None)

    @rx.event
    @guarded(recall.PERMISSION)
    async def search(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        self._clear()
        await self._show(ctx, recall.trace_lot, str(form.get("lot_number", "")), None)

    @rx.event
    @guarded(recall.PERMISSION)
    async def choose(self, ctx: TenantContext, medicine_id: str) -> None:
        lot = self.lot
        self._clear()
        await self._show(ctx, recall.trace_lot, lot, medicine_id)

    def _clear(self) -> None:
        self.lot, self.product, self.choices, self.rows = "", "", [], []
        self.patients, self.traced, self.error = 0, False, ""

    async def _show(self, ctx: TenantContext, service: Any, *args: Any) -> None:
        try:
            found: recall.LotTrace = await transact(ctx, service, *args)
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.lot = found.lot_number
        if found.needs_choice:
            self.choices = [ProductChoice(p.medicine_id, p.label()) for p in found.products]
            return
        if found.product is None:
            self.error = f"No lot {found.lot_number} in your branches."
            return
        self.product, self.traced, self.patients = found.product.label(), True, found.patients
        self.rows = [_row(r) for r in found.recipients]


def _row(r: recall.Recipient) -> RecipientRow:
    fill = r.kind == "fill"
    return RecipientRow(
        patient=r.patient_name,
        born=display_date(r.date_of_birth),
        contact=r.contact,
        consent="yes" if r.contact_consent else "no",
        reference=r.reference,
        link=f"{routes.PRESCRIPTION}?id={r.record_id}" if fill else f"{routes.BILL_VIEW}?id={r.record_id}",
        kind="Fill" if fill else "Counter sale",
        when=display_time(r.received_at, r.time_zone),
        quantity=str(r.quantity),
        branch=r.branch,
        status=r.status,
    )
