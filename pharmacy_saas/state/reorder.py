"""Reorder levels on screen: a medicine's levels per branch (on the medicine page) and the bulk editor
of one branch's levels (/inventory/reorder), 25 medicines a page from the server.

Both editors post one form: each line's mode, point and quantity are named by its id, and only the
lines whose values differ from what was loaded are saved, in one all-or-nothing call.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.inventory.reorder import (
    MODES,
    ReorderLevel,
    list_reorder_levels,
    medicine_reorder_levels,
    save_reorder_levels,
)
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext
from tenants.roles import role_has

# What the editor's filter says, and the service's name for it.
SHOW = {
    "All medicines": "all",
    "With a reorder level": "set",
    "Without a reorder level": "unset",
    "At or below the level": "low",
}


def _line(level: ReorderLevel, key: str) -> dict[str, Any]:
    """One line of an editor; `key` names its form fields (the branch on the medicine page, the medicine
    in the bulk editor)."""
    return {
        "key": key,
        "branch_id": level.branch_id,
        "branch": level.branch,
        "medicine_id": level.medicine_id,
        "medicine": level.medicine,
        "barcode": level.barcode or "",
        "on_hand": level.on_hand,
        "mode": level.mode or "manual",
        "point": "" if level.reorder_point is None else str(level.reorder_point),
        "quantity": "" if level.reorder_quantity is None else str(level.reorder_quantity),
        "note": level.note,
        "low": level.low,
        "source": level.source,
    }


def _changes(lines: list[dict[str, Any]], form: dict[str, Any]) -> list[dict[str, Any]]:
    """The lines whose posted mode, point or quantity differ from what the page loaded."""
    changed = []
    for line in lines:
        key = line["key"]
        posted = (
            str(form.get(f"mode_{key}", line["mode"])).strip(),
            str(form.get(f"point_{key}", "")).strip(),
            str(form.get(f"quantity_{key}", "")).strip(),
        )
        if posted != (line["mode"], line["point"], line["quantity"]):
            changed.append(
                {
                    "branch_id": line["branch_id"],
                    "medicine_id": line["medicine_id"],
                    "mode": posted[0],
                    "reorder_point": posted[1],
                    "reorder_quantity": posted[2],
                }
            )
    return changed


def _saved_message(changed: int, cleared: int) -> str:
    parts = [f"{changed} set" if changed else "", f"{cleared} cleared" if cleared else ""]
    return "Reorder levels saved: " + ", ".join(p for p in parts if p) + "."


class MedicineLevelsState(ShellState):
    """The reorder-level card of /inventory/medicine: one line per active branch the member may see."""

    lines: list[dict[str, Any]] = []
    can_edit_levels: bool = False
    levels_error: str = ""
    levels_version: int = 0  # a new key remounts the form with the saved values

    @rx.var
    def modes(self) -> list[str]:
        return list(MODES)

    async def _reload(self, ctx: TenantContext) -> None:
        medicine_id = self.router.url.query_parameters.get("id", "")
        levels = await transact(ctx, medicine_reorder_levels, medicine_id)
        self.lines = [_line(level, level.branch_id) for level in levels]
        self.levels_version += 1

    @rx.event
    @guarded("inventory.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        self.can_edit_levels = role_has(ctx.role, "inventory.reorder")
        self.levels_error = ""
        try:
            await self._reload(ctx)
        except PharmacyError:
            self.lines = []  # the page's own loader already says the medicine is missing

    @rx.event
    @guarded("inventory.reorder")
    async def save(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        changes = _changes(self.lines, form)
        if not changes:
            return rx.toast.info("No reorder level changed.")
        try:
            result = await transact(ctx, save_reorder_levels, changes)
        except PharmacyError as exc:
            self.levels_error = exc.message
            return None
        self.levels_error = ""
        await self._reload(ctx)
        return rx.toast.success(_saved_message(result.changed, result.cleared))


class ReorderEditorState(ShellState):
    """/inventory/reorder: one branch's reorder levels in a grid, filtered and paged on the server."""

    lines: list[dict[str, Any]] = []
    query: str = ""
    show: str = "All medicines"
    page: int = 0
    has_more: bool = False
    branch_name: str = ""  # the branch the grid shows (the header may have moved on)
    can_edit_levels: bool = False
    error: str = ""
    version: int = 0

    @rx.var
    def show_choices(self) -> list[str]:
        return list(SHOW)

    @rx.var
    def modes(self) -> list[str]:
        return list(MODES)

    def _branch_id(self) -> str:
        return next((b["id"] for b in self.branches if b["name"] == self.current_branch), "")

    async def _reload(self, ctx: TenantContext) -> None:
        branch_id = self._branch_id()
        if not branch_id:
            self.lines, self.has_more, self.error = [], False, "No active branch to set reorder levels for."
            return
        found = await transact(
            ctx, list_reorder_levels, branch_id, self.query, show=SHOW.get(self.show, "all"), page=self.page
        )
        self.lines = [_line(level, level.medicine_id) for level in found.items]
        self.has_more, self.branch_name = found.has_more, self.current_branch
        self.version += 1

    @rx.event
    @guarded("inventory.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.can_edit_levels = role_has(ctx.role, "inventory.reorder")
        self.page, self.error = 0, ""
        await self._reload(ctx)

    @rx.event
    @guarded("inventory.view")
    async def search(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        """Filter (also: show the branch now chosen in the header)."""
        self.query, self.page, self.error = str(form.get("q", ""))[:80], 0, ""
        await self._reload(ctx)

    @rx.event
    @guarded("inventory.view")
    async def choose_show(self, ctx: TenantContext, label: str) -> None:
        self.show, self.page, self.error = (label if label in SHOW else "All medicines"), 0, ""
        await self._reload(ctx)

    @rx.event
    @guarded("inventory.view")
    async def turn_page(self, ctx: TenantContext, step: int) -> None:
        self.page, self.error = max(0, self.page + (1 if step > 0 else -1)), ""
        await self._reload(ctx)

    @rx.event
    @guarded("inventory.reorder")
    async def save(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Save the lines of this page that were changed, all or nothing."""
        changes = _changes(self.lines, form)
        if not changes:
            return rx.toast.info("No reorder level changed.")
        try:
            result = await transact(ctx, save_reorder_levels, changes)
        except PharmacyError as exc:
            self.error = exc.message  # nothing was saved; the grid keeps what was typed
            return None
        self.error = ""
        await self._reload(ctx)
        return rx.toast.success(_saved_message(result.changed, result.cleared))
