"""Settings → Branches (owner): the chain's branches, adding and editing one, deactivating and
reactivating. After every change the shell is filled again, so the header's branch switcher shows
the change at once."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.branches.service import (
    EDITABLE,
    WEEKDAY_NAMES,
    WEEKDAYS,
    Branch,
    create_branch,
    hours_text,
    list_branches,
    set_branch_active,
    update_branch,
)
from backend.core.errors import PharmacyError
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext

# What the form posts besides the opening hours (one field per weekday: hours_mon ... hours_sun).
_FORM_FIELDS = tuple(name for name in EDITABLE if name != "opening_hours")


def _form_values(branch: Branch | None) -> dict[str, str]:
    """The form's starting values: a branch being edited, or a new one's defaults."""
    if branch is None:
        return {"time_zone": "UTC", "default_tax_rate": "0", "reduced_tax_rate": "0", "prices_include_tax": ""}
    values = {
        "name": branch.name,
        "code": branch.code,
        "address": branch.address,
        "phone": branch.phone,
        "time_zone": branch.time_zone,
        "default_tax_rate": _percent(branch.default_tax_rate),
        "reduced_tax_rate": _percent(branch.reduced_tax_rate),
        "prices_include_tax": "yes" if branch.prices_include_tax else "",
    }
    for day in WEEKDAYS:  # blank while the hours were never stated; "closed" for a closed day
        values[f"hours_{day}"] = hours_text(branch.opening_hours[day]) if branch.opening_hours else ""
    return values


def _percent(rate: Any) -> str:
    return f"{rate.normalize():f}"  # 20.0000 -> "20", 8.8750 -> "8.875"


def _row(branch: Branch) -> dict[str, Any]:
    tax = f"{_percent(branch.default_tax_rate)} % (reduced {_percent(branch.reduced_tax_rate)} %)"
    hours = (
        "; ".join(f"{WEEKDAY_NAMES[d][:3]} {hours_text(branch.opening_hours[d])}" for d in WEEKDAYS)
        if branch.opening_hours
        else "not stated"
    )
    return {
        "id": branch.id,
        "name": branch.name,
        "code": branch.code,
        "address": branch.address,
        "phone": branch.phone,
        "time_zone": branch.time_zone,
        "tax": tax + (", prices include tax" if branch.prices_include_tax else ", prices exclude tax"),
        "hours": hours,
        "active": branch.is_active,
        "status": "active" if branch.is_active else "deactivated",
    }


class BranchesState(ShellState):
    rows: list[dict[str, Any]] = []
    editing_id: str = ""  # "" while the form adds a branch
    editing_name: str = ""
    form: dict[str, str] = _form_values(None)
    form_version: int = 0  # a new key remounts the form, so its fields take the new starting values
    error: str = ""

    @rx.var
    def weekdays(self) -> list[list[str]]:
        return [[day, WEEKDAY_NAMES[day]] for day in WEEKDAYS]

    async def _reload(self, ctx: TenantContext) -> None:
        self.rows = [_row(b) for b in await transact(ctx, list_branches)]

    def _start_form(self, branch: Branch | None) -> None:
        self.editing_id, self.editing_name = (branch.id, branch.name) if branch else ("", "")
        self.form, self.error = _form_values(branch), ""
        self.form_version += 1

    @rx.event
    @guarded("branches.manage", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        await self._reload(ctx)
        self._start_form(None)

    @rx.event
    @guarded("branches.manage")
    async def edit(self, ctx: TenantContext, branch_id: str) -> None:
        branch = next((b for b in await transact(ctx, list_branches) if b.id == branch_id), None)
        self._start_form(branch)

    @rx.event
    @guarded("branches.manage")
    async def new(self, ctx: TenantContext) -> None:
        self._start_form(None)

    @rx.event
    @guarded("branches.manage")
    async def save(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Add the branch, or save the one being edited; a refusal shows beside the form and keeps what was typed."""
        fields: dict[str, Any] = {name: str(form.get(name, "")) for name in _FORM_FIELDS}
        fields["prices_include_tax"] = bool(form.get("prices_include_tax"))
        fields["opening_hours"] = {day: str(form.get(f"hours_{day}", "")) for day in WEEKDAYS}
        try:
            if self.editing_id:
                branch = await transact(ctx, update_branch, self.editing_id, **fields)
            else:
                branch = await transact(ctx, create_branch, **fields)
        except PharmacyError as exc:
            self.error = exc.message
            # The remounted form shows what was typed (an unchecked box posts nothing: "" keeps it unchecked).
            typed = {name: str(form.get(name, "")) for name in _FORM_FIELDS}
            typed.update({f"hours_{day}": str(form.get(f"hours_{day}", "")) for day in WEEKDAYS})
            self.form = {**typed, "prices_include_tax": "yes" if form.get("prices_include_tax") else ""}
            self.form_version += 1
            return None
        added = not self.editing_id
        await self._reload(ctx)
        await self._fill_shell(ctx)  # the header's switcher lists the new branch now, not after sign-in
        self._start_form(None)
        return rx.toast.success(f"{branch.name} ({branch.code}) {'added' if added else 'saved'}.")

    @rx.event
    @guarded("branches.manage")
    async def set_active(self, ctx: TenantContext, branch_id: str, active: bool) -> Any:
        try:
            branch = await transact(ctx, set_branch_active, branch_id, bool(active))
        except PharmacyError as exc:
            return rx.toast.error(exc.message)
        await self._reload(ctx)
        await self._fill_shell(ctx)
        if active:
            return rx.toast.success(f"{branch.name} is active again.")
        return rx.toast.info(f"{branch.name} is deactivated: its history stays; it takes no sales or stock.")
