"""Exporting the catalog, stock and the movement ledger to CSV.

The catalog and stock files use the import's column names, so an export can be edited and imported
into another chain. Text cells that a spreadsheet would run as a formula are quoted with a leading
apostrophe (CSV injection); numbers are left as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import ValidationFailed
from backend.core.spreadsheet import safe_cell
from backend.inventory.csv_import import CATALOG, COLUMNS, OPENING_STOCK, READ_ONLY, REORDER_LEVELS
from backend.inventory.reorder import branch_reorder_levels
from tenants.context import TenantContext
from tenants.roles import require

MAX_MOVEMENT_ROWS = 200_000
STOCK_COLUMNS = (*COLUMNS[OPENING_STOCK], "generic_name", "strength", "status")
REORDER_COLUMNS = (*COLUMNS[REORDER_LEVELS], *READ_ONLY[REORDER_LEVELS])
MOVEMENT_COLUMNS = (
    "occurred_at_utc",
    "branch_code",
    "barcode",
    "generic_name",
    "strength",
    "lot_number",
    "kind",
    "quantity",
    "reason",
    "reference",
)


def _csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue()


def export_catalog(session: Session, ctx: TenantContext) -> str:
    """Every medicine of the chain (active or not), in the catalog import's columns."""
    require(ctx, "inventory.view")
    rows = session.execute(
        text(
            f"SELECT {', '.join(COLUMNS[CATALOG])}, is_active FROM medicines "  # noqa: S608 - our own names
            "ORDER BY lower(generic_name), strength, id"
        )
    ).all()
    return _csv((*COLUMNS[CATALOG], "active"), ([*r[:-1], "yes" if r.is_active else "no"] for r in rows))


def export_stock(session: Session, ctx: TenantContext) -> str:
    """On-hand per batch in the branches the member may see, in the opening-stock import's columns."""
    require(ctx, "inventory.view")
    rows = session.execute(
        text(
            "SELECT m.barcode, b.lot_number, b.expiry_date, b.quantity, b.cost_price, b.supplier_name, "
            "br.code AS branch_code, m.generic_name, m.strength, "
            "CASE WHEN r.lot_number IS NOT NULL THEN 'recalled' ELSE b.status END AS status, b.branch_id "
            "FROM batches b JOIN medicines m ON m.tenant_id = b.tenant_id AND m.id = b.medicine_id "
            "JOIN branches br ON br.tenant_id = b.tenant_id AND br.id = b.branch_id "
            "LEFT JOIN lot_recalls r ON r.tenant_id = b.tenant_id AND r.medicine_id = b.medicine_id "
            "AND r.lot_number = b.lot_number "
            "WHERE b.quantity > 0 ORDER BY br.code, lower(m.generic_name), b.expiry_date, b.id"
        )
    ).all()
    return _csv(STOCK_COLUMNS, (r[:-1] for r in rows if ctx.can_see_branch(r.branch_id)))


def export_movements(session: Session, ctx: TenantContext, since: date, until: date) -> str:
    """The ledger between two dates (UTC, inclusive) in the branches the member may see."""
    require(ctx, "inventory.view")
    if until < since:
        raise ValidationFailed("The end date is before the start date.", field="until")
    if until - since > timedelta(days=366):
        raise ValidationFailed("Export at most a year of movements at a time.", field="since")
    rows = session.execute(
        text(
            "SELECT to_char(s.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), br.code, "
            "m.barcode, m.generic_name, m.strength, b.lot_number, s.kind, s.quantity, s.reason, s.reference, "
            "s.branch_id FROM stock_movements s "
            "JOIN batches b ON b.tenant_id = s.tenant_id AND b.id = s.batch_id "
            "JOIN medicines m ON m.tenant_id = s.tenant_id AND m.id = s.medicine_id "
            "JOIN branches br ON br.tenant_id = s.tenant_id AND br.id = s.branch_id "
            "WHERE s.occurred_at >= CAST(:since AS timestamp) AT TIME ZONE 'UTC' "
            "AND s.occurred_at < CAST(:until AS timestamp) AT TIME ZONE 'UTC' + interval '1 day' "
            "ORDER BY s.occurred_at, s.id LIMIT :cap"
        ),
        {"since": since, "until": until, "cap": MAX_MOVEMENT_ROWS + 1},
    ).all()
    if len(rows) > MAX_MOVEMENT_ROWS:
        raise ValidationFailed(
            f"More than {MAX_MOVEMENT_ROWS:,} movements in that range; export a shorter period.", field="since"
        )
    return _csv(MOVEMENT_COLUMNS, (r[:-1] for r in rows if ctx.can_see_branch(r.branch_id)))


def export_reorder_levels(session: Session, ctx: TenantContext, branch_id: str) -> tuple[str, str]:
    """(CSV, branch code): every active medicine at the branch (and deactivated ones with a level)
    with its level, empty where none is set, in the reorder-level import's columns. Edit the numbers
    or the mode and import the file again; emptying a manual row's numbers clears its level."""
    code, levels = branch_reorder_levels(session, ctx, branch_id)
    rows = (
        (
            level.medicine_id,
            level.barcode or "",
            code,
            level.mode or "",
            "" if level.reorder_point is None else level.reorder_point,
            "" if level.reorder_quantity is None else level.reorder_quantity,
            level.generic_name,
            level.strength,
            level.on_hand,
            level.note,
        )
        for level in levels
    )
    return _csv(REORDER_COLUMNS, rows), code
