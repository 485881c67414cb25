"""CSV import (check, report, import with a progress bar) and CSV export of the inventory."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError, ValidationFailed
from backend.inventory.csv_export import export_catalog, export_movements, export_reorder_levels, export_stock
from backend.inventory.csv_import import (
    CATALOG,
    COLUMNS,
    KIND_LABELS,
    MAX_BYTES,
    OPENING_STOCK,
    PERMISSION,
    REORDER_LEVELS,
    ImportSummary,
    discard_import,
    import_summary,
    stage_import,
    start_import,
)
from backend.inventory.statuses import ImportStatus
from pharmacy_saas.state.base import guarded, run_service, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext
from tenants.roles import role_has

UPLOAD_ID = "csv-upload"
POLL_SECONDS = 0.5


class ImportState(ShellState):
    kind: str = CATALOG
    import_id: str = ""
    filename: str = ""
    status: str = ""
    total_rows: int = 0
    valid_rows: int = 0
    processed_rows: int = 0
    imported_rows: int = 0
    problem_count: int = 0
    problems: list[dict[str, str]] = []
    failure: str = ""
    error: str = ""
    kinds_allowed: list[str] = []
    export_since: str = ""
    export_until: str = ""

    @rx.var
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, "")

    @rx.var
    def columns_text(self) -> str:
        return ", ".join(COLUMNS.get(self.kind, ()))

    @rx.var
    def progress(self) -> int:
        return round(100 * self.processed_rows / self.total_rows) if self.total_rows else 0

    @rx.var
    def running(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.IMPORTING)

    @rx.var
    def awaiting_import(self) -> bool:
        """Checked, and waiting for the member to import it or throw it away."""
        return self.status == ImportStatus.VALIDATED

    @rx.var
    def imported(self) -> bool:
        return self.status == ImportStatus.DONE

    @rx.var
    def import_failed(self) -> bool:
        return self.status == ImportStatus.FAILED

    @rx.event
    @guarded("inventory.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        allowed = [k for k in (CATALOG, OPENING_STOCK, REORDER_LEVELS) if role_has(ctx.role, PERMISSION[k])]
        self.kinds_allowed = [KIND_LABELS[k] for k in allowed]
        if allowed and self.kind not in allowed:
            self.kind = allowed[0]
        today = date.today()
        self.export_since, self.export_until = (today - timedelta(days=30)).isoformat(), today.isoformat()
        self._show(None)

    @rx.event
    @guarded("inventory.view")
    async def choose_kind(self, ctx: TenantContext, label: str) -> None:
        self.kind = next((k for k, v in KIND_LABELS.items() if v == label), CATALOG)
        self._show(None)

    @rx.event
    @guarded("inventory.view")
    async def check_file(self, ctx: TenantContext, files: list[rx.UploadFile]) -> None:
        """Upload: check every row and show the report; nothing is imported yet."""
        if not files:
            self.error = "Choose a CSV file first."
            return
        upload = files[0]
        content = await upload.read(MAX_BYTES + 1)
        branch_id = next((b["id"] for b in self.branches if b["name"] == self.current_branch), None)
        try:
            summary = await transact(
                ctx, stage_import, self.kind, upload.name or "upload.csv", content, branch_id=branch_id
            )
        except PharmacyError as exc:
            self._show(None)
            self.error = exc.message
            return
        self._show(summary)

    @rx.event
    @guarded("inventory.view")
    async def run_import(self, ctx: TenantContext, valid_rows_only: bool) -> Any:
        try:
            summary = await run_service(start_import, ctx, self.import_id, valid_rows_only=valid_rows_only)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self._show(summary)
        if summary.running:
            return ImportState.watch
        return rx.toast.success(f"Imported {summary.imported_rows} rows.")

    @rx.event
    @guarded("inventory.view")
    async def discard(self, ctx: TenantContext) -> None:
        if self.import_id:
            await transact(ctx, discard_import, self.import_id)
        self._show(None)

    @rx.event(background=True)
    @guarded("inventory.view", background=True)
    async def watch(self, ctx: TenantContext) -> None:
        """Follow a background import until it ends: the progress bar moves as batches commit."""
        while True:
            async with self:
                import_id = self.import_id
            if not import_id:
                return
            summary = await transact(ctx, import_summary, import_id)
            async with self:
                if self.import_id != import_id:
                    return  # the page moved on to another file
                self._show(summary)
            if not summary.running:
                return
            await asyncio.sleep(POLL_SECONDS)

    @rx.event
    @guarded("inventory.view")
    async def download(self, ctx: TenantContext, what: str) -> Any:
        try:
            if what == "movements":
                since, until = _date(self.export_since, "since"), _date(self.export_until, "until")
                body = await transact(ctx, export_movements, since, until)
                filename = f"movements-{since}-{until}.csv"
            elif what == "reorder_levels":  # the header's branch: levels are per branch
                branch_id = next((b["id"] for b in self.branches if b["name"] == self.current_branch), "")
                body, code = await transact(ctx, export_reorder_levels, branch_id)
                filename = f"reorder-levels-{code}-{date.today()}.csv"
            else:
                body = await transact(ctx, export_stock if what == "stock" else export_catalog)
                filename = f"{'stock' if what == 'stock' else 'catalog'}-{date.today()}.csv"
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        return rx.download(data=body, filename=filename, mime_type="text/csv")

    @rx.event
    @guarded("inventory.view")
    async def set_export_range(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        self.export_since = str(form.get("since", ""))[:10]
        self.export_until = str(form.get("until", ""))[:10]
        return ImportState.download("movements")

    def _show(self, summary: ImportSummary | None) -> None:
        """Put an import's state on the page (None: back to an empty upload form)."""
        self.error = ""
        if summary is None:
            self.import_id = self.filename = self.status = self.failure = ""
            self.total_rows = self.valid_rows = self.processed_rows = self.imported_rows = self.problem_count = 0
            self.problems = []
            return
        self.import_id, self.filename, self.status = summary.id, summary.filename, summary.status
        self.total_rows, self.valid_rows = summary.total_rows, summary.valid_rows
        self.processed_rows, self.imported_rows = summary.processed_rows, summary.imported_rows
        self.problem_count, self.failure = summary.problem_count, summary.failure
        self.problems = [{"row": str(p.row), "column": p.column, "reason": p.reason} for p in summary.problems]


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("Enter dates as YYYY-MM-DD.", field=field) from None
