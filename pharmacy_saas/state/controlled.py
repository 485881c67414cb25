"""/controlled: the branch's controlled-substance register (filters, CSV, PDF), the biennial inventory (count
sheet, counts with explanations, the pharmacist's signature), CII orders and their receipts, theft-or-loss
reports, and the PMP (ASAP 4.2) file of a day.

The branch is the header's; every handler checks its permission on the server and runs the service in one
tenant transaction (`transact`); signing asks for the password first (`sign`), as verification does.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.controlled import asap, biennial, losses, orders, register
from backend.controlled.common import scheduled_medicines
from backend.controlled.statuses import InventoryStatus, LossType, OrderForm, TakenAt
from backend.core.display import display_time
from backend.core.errors import PharmacyError
from pharmacy_saas.state.base import guarded, sign_with_password, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext
from tenants.roles import role_has

ALL_MEDICINES = "All scheduled medicines"
LOSS_TYPES = {t.label: t.value for t in LossType}
ORDER_FORMS = {f.label: f.value for f in OrderForm}
TAKEN_AT = {t.label: t.value for t in TakenAt}


def _register_rows(found: register.Register) -> list[dict[str, str]]:
    zone, rows = found.branch.time_zone, []
    for m in found.medicines:
        name = f"{m.name} ({m.schedule})"
        rows.append({"when": found.start.isoformat(), "medicine": name, "entry": "Opening balance", "lot": "",
                     "received": "", "issued": "", "balance": str(m.opening), "reference": "", "by": "",
                     "kind": "opening"})  # fmt: skip
        for line in m.lines:
            rows.append(
                {
                    "when": display_time(line.occurred_at, zone),
                    "medicine": name,
                    "entry": line.kind_label,
                    "lot": line.lot_number,
                    "received": str(line.received or ""),
                    "issued": str(line.issued or ""),
                    "balance": str(line.balance),
                    "reference": register.reference_text(line),
                    "by": line.by,
                    "kind": line.kind,
                }
            )
    return rows


def _sheet_rows(found: biennial.Inventory) -> list[dict[str, Any]]:
    return [
        {
            "id": line.medicine_id,
            "medicine": line.medicine,
            "form": line.dosage_form,
            "schedule": line.schedule,
            "expected": str(line.expected),
            "counted": "" if line.counted is None else str(line.counted),
            "estimated": line.estimated,
            "explanation": line.explanation,
            "difference": "" if line.difference is None else f"{line.difference:+d}" if line.difference else "0",
        }
        for line in found.lines
    ]


PDF = "application/pdf"


class ControlledState(ShellState):
    """The header's branch's controlled-substance records."""

    tab: str = "register"
    branch_name: str = ""
    can_record: bool = False
    can_sign: bool = False
    error: str = ""
    form_key: int = 0  # a form is emptied after it succeeded; after a refusal what was typed stays
    # register
    medicine_names: list[str] = [ALL_MEDICINES]
    medicine_filter: str = ALL_MEDICINES
    start: str = ""
    end: str = ""
    register_rows: list[dict[str, str]] = []
    # biennial inventory
    inventory_id: str = ""
    inventory_status: str = ""
    inventory_title: str = ""
    sheet: list[dict[str, Any]] = []
    sheet_version: int = 0
    ready_to_sign: bool = False
    signature_meaning: str = ""
    past_inventories: list[dict[str, str]] = []
    # CII orders
    cii_names: list[str] = []
    order_rows: list[dict[str, str]] = []
    # theft or loss
    loss_rows: list[dict[str, str]] = []
    # PMP
    registration: str = ""
    pmp_day: str = ""

    _medicine_ids: dict[str, str] = {}

    @rx.var
    def loss_types(self) -> list[str]:
        return list(LOSS_TYPES)

    @rx.var
    def order_forms(self) -> list[str]:
        return list(ORDER_FORMS)

    @rx.var
    def taken_at_choices(self) -> list[str]:
        return list(TAKEN_AT)

    @rx.var
    def scheduled_names(self) -> list[str]:
        return [n for n in self.medicine_names if n != ALL_MEDICINES]

    def _branch_id(self) -> str:
        return next((b["id"] for b in self.branches if b["name"] == self.current_branch), "")

    @rx.event
    @guarded("controlled.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.can_record = role_has(ctx.role, "controlled.record")
        self.can_sign = role_has(ctx.role, "controlled.sign")
        self.error = ""
        found = await transact(ctx, scheduled_medicines)
        self._medicine_ids = {f"{m.name} ({m.schedule})": m.id for m in found}
        self.medicine_names = [ALL_MEDICINES, *self._medicine_ids]
        self.cii_names = [f"{m.name} ({m.schedule})" for m in found if m.schedule == "CII"]
        await self._reload(ctx)

    async def _reload(self, ctx: TenantContext) -> None:
        branch_id = self._branch_id()
        self.branch_name = self.current_branch
        if not branch_id:
            self.error = "No branch to show."
            return
        try:
            found = await transact(
                ctx,
                register.register,
                branch_id,
                medicine_id=self._medicine_ids.get(self.medicine_filter),
                start=self.start or None,
                end=self.end or None,
            )
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.start, self.end = found.start.isoformat(), found.end.isoformat()
        self.register_rows = _register_rows(found)
        await self._load_inventory(ctx, branch_id)
        await self._load_orders(ctx, branch_id)
        await self._load_losses(ctx, branch_id)
        registration = await transact(ctx, asap.get_registration, branch_id)
        self.registration = (
            f"DEA {registration.dea_number} · NPI {registration.npi} · {registration.state}" if registration else ""
        )
        self.pmp_day = self.pmp_day or found.end.isoformat()

    @rx.event
    @guarded("controlled.view")
    async def choose_tab(self, ctx: TenantContext, tab: str) -> None:
        self.tab = tab

    @rx.event
    @guarded("controlled.view")
    async def filter(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        """Filter the register (also: show the branch now chosen in the header)."""
        chosen = str(form.get("medicine", "") or self.medicine_filter)
        self.medicine_filter = chosen if chosen in self.medicine_names else ALL_MEDICINES
        self.start, self.end = str(form.get("start", "")).strip(), str(form.get("end", "")).strip()
        self.error = ""
        await self._reload(ctx)

    @rx.event
    @guarded("controlled.view")
    async def set_medicine_filter(self, ctx: TenantContext, name: str) -> None:
        self.medicine_filter = name if name in self.medicine_names else ALL_MEDICINES

    def _period(self) -> dict[str, Any]:
        return {"medicine_id": self._medicine_ids.get(self.medicine_filter), "start": self.start, "end": self.end}

    async def _download(self, ctx: TenantContext, mime_type: str, make: Any, *args: Any, **kwargs: Any) -> Any:
        """A file the service makes as (name, bytes), downloaded; a refusal is shown instead."""
        try:
            name, body = await transact(ctx, make, *args, **kwargs)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        return rx.download(data=body, filename=name, mime_type=mime_type)

    @rx.event
    @guarded("controlled.view")
    async def download_csv(self, ctx: TenantContext) -> Any:
        return await self._download(ctx, "text/csv", register.register_csv, self._branch_id(), **self._period())

    @rx.event
    @guarded("controlled.view")
    async def download_pdf(self, ctx: TenantContext) -> Any:
        return await self._download(ctx, PDF, register.register_pdf, self._branch_id(), **self._period())

    # --- biennial inventory ---------------------------------------------------------------------

    async def _load_inventory(self, ctx: TenantContext, branch_id: str) -> None:
        found = await transact(ctx, biennial.list_inventories, branch_id)
        self.past_inventories = [
            {
                "id": i.id,
                "started": display_time(i.started_at, i.time_zone),
                "status": i.status.label,
                "signed": f"{i.signed_by}, {display_time(i.signed_at, i.time_zone)}" if i.signed_at else "",
            }
            for i in found
        ]
        current = next((i for i in found if i.status == InventoryStatus.COUNTING), None)
        self._show_inventory(current)

    def _show_inventory(self, found: biennial.Inventory | None) -> None:
        self.sheet_version += 1
        if found is None:
            self.inventory_id, self.inventory_status, self.sheet, self.ready_to_sign = "", "", [], False
            self.inventory_title, self.signature_meaning = "", ""
            return
        self.inventory_id, self.inventory_status = found.id, found.status.label
        self.inventory_title = (
            f"Started {display_time(found.started_at, found.time_zone)} by {found.started_by or 'staff'}, "
            f"{found.taken_at.label.lower()}: {found.counted} of {len(found.lines)} counted"
        )
        self.sheet = _sheet_rows(found)
        self.ready_to_sign = found.ready_to_sign
        self.signature_meaning = biennial.signature_meaning(found)

    @rx.event
    @guarded("controlled.record")
    async def start_inventory(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        taken_at = TAKEN_AT.get(str(form.get("taken_at", "")), "opening")
        try:
            found = await transact(ctx, biennial.start_inventory, self._branch_id(), taken_at)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self._show_inventory(found)
        await self._load_inventory(ctx, self._branch_id())
        return rx.toast.success("Count sheet ready: enter what is on the shelf.")

    @rx.event
    @guarded("controlled.record")
    async def save_counts(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        counts = {
            line["id"]: biennial.Count(
                counted=str(form.get(f"counted_{line['id']}", "")),
                estimated=bool(form.get(f"estimated_{line['id']}")),
                explanation=str(form.get(f"explanation_{line['id']}", "")),
            )
            for line in self.sheet
        }
        try:
            found = await transact(ctx, biennial.record_counts, self.inventory_id, counts)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self._show_inventory(found)
        return rx.toast.success("Counts saved.")

    @rx.event
    @guarded("controlled.sign")
    async def sign_inventory(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Sign with the password, then sign the inventory: a wrong password signs nothing."""
        try:
            signature = await sign_with_password(
                ctx,
                form,
                meaning=self.signature_meaning,
                entity_type="controlled_inventory",
                entity_id=self.inventory_id,
            )
            await transact(ctx, biennial.sign_inventory, self.inventory_id, signature_id=signature)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._load_inventory(ctx, self._branch_id())
        return rx.toast.success("Inventory signed.")

    @rx.event
    @guarded("controlled.view")
    async def download_inventory(self, ctx: TenantContext, inventory_id: str) -> Any:
        return await self._download(ctx, PDF, biennial.inventory_pdf, inventory_id)

    # --- CII orders -------------------------------------------------------------------------------

    async def _load_orders(self, ctx: TenantContext, branch_id: str) -> None:
        found = await transact(ctx, orders.list_orders, branch_id)
        self.order_rows = [
            {
                "id": o.id,
                "number": o.reference,
                "supplier": o.supplier,
                "ordered_on": o.ordered_on.isoformat(),
                "lines": "; ".join(f"{line.medicine}: {line.received} of {line.ordered} received" for line in o.lines),
                "medicine": o.lines[0].medicine if o.lines else "",
                "medicine_id": o.lines[0].medicine_id if o.lines else "",
                "complete": "yes" if o.complete else "",
            }
            for o in found
        ]

    @rx.event
    @guarded("controlled.record")
    async def create_order(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        medicine = self._medicine_ids.get(str(form.get("medicine", "")), "")
        try:
            found = await transact(
                ctx,
                orders.create_order,
                branch_id=self._branch_id(),
                form=ORDER_FORMS.get(str(form.get("form", "")), ""),
                order_number=str(form.get("order_number", "")),
                supplier=str(form.get("supplier", "")),
                lines=[(medicine, form.get("quantity", ""))] if medicine else [],
                ordered_on=str(form.get("ordered_on", "")) or None,
            )
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._load_orders(ctx, self._branch_id())
        self.form_key += 1
        return rx.toast.success(f"{found.reference} recorded.")

    @rx.event
    @guarded("controlled.record")
    async def receive_order(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        try:
            found = await transact(
                ctx,
                orders.receive_against_order,
                str(form.get("order_id", "")),
                medicine_id=str(form.get("medicine_id", "")),
                lot_number=str(form.get("lot_number", "")),
                expiry_date=str(form.get("expiry_date", "")),
                quantity=form.get("quantity", ""),
            )
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._reload(ctx)
        self.form_key += 1
        return rx.toast.success(f"Received against {found.reference}.")

    # --- theft or loss ----------------------------------------------------------------------------

    async def _load_losses(self, ctx: TenantContext, branch_id: str) -> None:
        found = await transact(ctx, losses.list_loss_reports, branch_id)
        self.loss_rows = [
            {
                "id": r.id,
                "number": r.number,
                "discovered": r.discovered_on.isoformat(),
                "type": r.loss_type.label,
                "lines": "; ".join(
                    f"{line.medicine} {line.strength} lot {line.lot_number}: {line.quantity}" for line in r.lines
                ),
            }  # fmt: skip
            for r in found
        ]

    @rx.event
    @guarded("controlled.record")
    async def report_loss(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        medicine = self._medicine_ids.get(str(form.get("medicine", "")), "")
        try:
            found = await transact(
                ctx,
                losses.report_loss,
                branch_id=self._branch_id(),
                discovered_on=str(form.get("discovered_on", "")),
                loss_type=LOSS_TYPES.get(str(form.get("loss_type", "")), ""),
                details=str(form.get("details", "")),
                lines=[(medicine, form.get("quantity", ""))] if medicine else [],
                police_notified=bool(form.get("police_notified")),
                police_report=str(form.get("police_report", "")),
            )
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._reload(ctx)
        self.form_key += 1
        return rx.toast.success(f"{found.number} recorded; the stock was taken out.")

    @rx.event
    @guarded("controlled.view")
    async def download_loss(self, ctx: TenantContext, report_id: str) -> Any:
        return await self._download(ctx, PDF, losses.loss_report_pdf, report_id)

    # --- PMP ----------------------------------------------------------------------------------------

    @rx.event
    @guarded("controlled.record")
    async def save_registration(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        try:
            await transact(
                ctx,
                asap.save_registration,
                self._branch_id(),
                dea_number=str(form.get("dea_number", "")),
                npi=str(form.get("npi", "")),
                ncpdp=str(form.get("ncpdp", "")),
                state=str(form.get("state", "")),
            )
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._reload(ctx)
        return rx.toast.success("Registration saved.")

    @rx.event
    @guarded("controlled.view")
    async def download_asap(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        self.pmp_day = str(form.get("day", "")).strip()
        try:
            found = await transact(ctx, asap.asap_export, self._branch_id(), self.pmp_day)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        return rx.download(data=found.content, filename=found.filename, mime_type="text/plain")
