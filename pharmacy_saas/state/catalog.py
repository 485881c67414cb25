"""Add or edit a medicine in the catalog (/inventory/catalog/edit, ?id= to edit)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.errors import NotFound, PharmacyError
from backend.inventory.service import (
    CONTROLLED_CLASSES,
    SCHEDULES,
    TAX_CATEGORIES,
    MedicineDetails,
    PossibleDuplicate,
    create_medicine,
    medicine_details,
    set_medicine_active,
    update_medicine,
)
from pharmacy_saas import routes
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from pharmacy_saas.state.display import display_amount
from tenants.context import TenantContext

# Posted by the form's text inputs; the selects are held in state (they drive what the form shows).
TEXT_FIELDS = (
    "generic_name",
    "brand_name",
    "strength",
    "dosage_form",
    "pack_size",
    "dispensing_unit",
    "barcode",
    "therapeutic_class",
    "default_sell_price",
)
BLANK = {
    "generic_name": "",
    "brand_name": "",
    "strength": "",
    "dosage_form": "",
    "pack_size": "1",
    "dispensing_unit": "tablet",
    "barcode": "",
    "therapeutic_class": "",
    "default_sell_price": "0.00",
}


class CatalogState(ShellState):
    medicine_id: str = ""
    values: dict[str, str] = dict(BLANK)
    schedule: str = "otc"
    controlled_class: str = ""
    tax_category: str = "standard"
    is_active: bool = True
    errors: dict[str, str] = {}
    error: str = ""
    duplicates: list[dict[str, str]] = []
    ready: bool = False
    form_key: int = 0  # bumped to remount the form, so inputs show freshly loaded values

    @rx.var
    def editing(self) -> bool:
        return self.medicine_id != ""

    @rx.var
    def title(self) -> str:
        return "Edit medicine" if self.medicine_id else "Add medicine"

    def _show(self, details: MedicineDetails | None) -> None:
        if details is None:
            self.medicine_id, self.values = "", dict(BLANK)
            self.schedule, self.controlled_class, self.tax_category, self.is_active = "otc", "", "standard", True
        else:
            self.medicine_id = details.id
            self.values = {
                "generic_name": details.generic_name,
                "brand_name": details.brand_name,
                "strength": details.strength,
                "dosage_form": details.dosage_form,
                "pack_size": str(details.pack_size),
                "dispensing_unit": details.dispensing_unit,
                "barcode": details.barcode or "",
                "therapeutic_class": details.therapeutic_class,
                "default_sell_price": display_amount(details.default_sell_price, self.chain_currency),
            }
            # Rows written by bulk paths may spell the class "C-II"; the select offers "CII".
            self.schedule = details.schedule
            self.controlled_class = (details.controlled_class or "").replace("-", "").upper()
            self.tax_category, self.is_active = details.tax_category, details.is_active
        self.errors, self.error, self.duplicates = {}, "", []
        self.form_key += 1

    def _refuse(self, exc: PharmacyError) -> None:
        """Show a refusal beside its field when the form has that field, else above the form."""
        field = exc.field if exc.field in (*TEXT_FIELDS, "schedule", "controlled_class", "tax_category") else None
        self.errors = {field: exc.message} if field else {}
        self.error = "" if field else exc.message

    @rx.event
    @guarded("inventory.catalog", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.ready = False
        wanted = self.router.url.query_parameters.get("id", "")
        try:
            self._show(await transact(ctx, medicine_details, wanted) if wanted else None)
        except NotFound as exc:
            self._show(None)
            self.error = exc.message
            return
        self.ready = True

    @rx.event
    @guarded("inventory.catalog")
    async def choose_schedule(self, ctx: TenantContext, schedule: str) -> None:
        if schedule in SCHEDULES:
            self.schedule = schedule
            if schedule != "controlled":
                self.controlled_class = ""
            self.errors = {k: v for k, v in self.errors.items() if k not in ("schedule", "controlled_class")}

    @rx.event
    @guarded("inventory.catalog")
    async def choose_controlled_class(self, ctx: TenantContext, controlled_class: str) -> None:
        if controlled_class in CONTROLLED_CLASSES:
            self.controlled_class = controlled_class
            self.errors = {k: v for k, v in self.errors.items() if k != "controlled_class"}

    @rx.event
    @guarded("inventory.catalog")
    async def choose_tax_category(self, ctx: TenantContext, tax_category: str) -> None:
        if tax_category in TAX_CATEGORIES:
            self.tax_category = tax_category

    @rx.event
    @guarded("inventory.catalog")
    async def save(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Add or save; a new medicine that may already be in the catalog waits for "Add anyway"."""
        fields: dict[str, Any] = {name: str(form.get(name, ""))[:300] for name in TEXT_FIELDS}
        fields.update(schedule=self.schedule, controlled_class=self.controlled_class, tax_category=self.tax_category)
        try:
            if self.medicine_id:
                self._show(await transact(ctx, update_medicine, self.medicine_id, **fields))
                return rx.toast.success("Saved.")
            confirmed = str(form.get("add_anyway", "")) == "1"
            created = await transact(ctx, create_medicine, **fields, check_duplicates=not confirmed)
        except PossibleDuplicate as exc:
            self.errors, self.error = {}, ""
            self.duplicates = [
                {
                    "label": " ".join(x for x in (m.generic_name, m.strength, m.dosage_form) if x)
                    + (f" ({m.brand_name})" if m.brand_name else "")
                    + ("" if m.is_active else " (inactive)"),
                    "href": f"{routes.CATALOG_EDIT}?id={m.id}",
                }
                for m in exc.duplicates
            ]
            return None
        except PharmacyError as exc:
            self.duplicates = []
            self._refuse(exc)
            return None
        self.errors, self.error, self.duplicates = {}, "", []
        return [
            rx.toast.success(f"Added {fields['generic_name'].strip()}."),
            rx.redirect(f"{routes.MEDICINE}?id={created}"),
        ]

    @rx.event
    @guarded("inventory.catalog")
    async def dismiss_duplicates(self, ctx: TenantContext) -> None:
        self.duplicates = []

    @rx.event
    @guarded("inventory.catalog")
    async def toggle_active(self, ctx: TenantContext) -> Any:
        if not self.medicine_id:
            return None
        try:
            await transact(ctx, set_medicine_active, self.medicine_id, not self.is_active)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.is_active = not self.is_active
        if self.is_active:
            return rx.toast.success("Reactivated: the medicine is back in catalog search.")
        return rx.toast.success("Deactivated: the medicine no longer shows in catalog search.")
