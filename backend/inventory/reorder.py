"""Reorder levels: when a medicine at a branch is low (the reorder point) and how much to order then
(the reorder quantity).

Each level has a mode:
- `manual`: the chain's own point and quantity.
- `automatic`: the forecast's point and quantity once forecasting has written them
  (`record_forecast_levels`). Until then the level says so and falls back to the manual numbers
  kept on it, if any; with none, the line has no level yet and raises no alert.
A manual level is a choice a person made, not a default: switching a line to automatic hands it to
the forecasts, and a line nobody set is what forecasting will fill.

Low-stock alerts (`alerts.stock_alerts`) and suggested orders (`purchasing.suggest_order`) read the
level in force through EFFECTIVE_POINT / EFFECTIVE_QUANTITY, the one statement of that rule in SQL;
`in_force` states it for what the pages show.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core import validation as check
from backend.core.errors import NotFound, ValidationFailed
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.directory import branch_inactive
from tenants.roles import require

MANUAL, AUTOMATIC = "manual", "automatic"
MODES = (MANUAL, AUTOMATIC)
MAX_LEVEL = 10_000_000  # dispensing units; far above any shelf, well inside an integer column
MAX_BULK = 1000  # levels per save (a page of the editor is 25; a REST bulk call or an import batch more)
PAGE_SIZE = 25
FILTERS = ("all", "set", "unset", "low")

# The level in force for a reorder_levels row `r` (SQL): the forecast's when the mode is automatic
# and a forecast exists, otherwise the manual numbers (NULL when there are none).
_FORECAST_IN_FORCE = "(r.mode = 'automatic' AND r.forecast_point IS NOT NULL)"
EFFECTIVE_POINT = f"CASE WHEN {_FORECAST_IN_FORCE} THEN r.forecast_point ELSE r.reorder_point END"
EFFECTIVE_QUANTITY = f"CASE WHEN {_FORECAST_IN_FORCE} THEN r.forecast_quantity ELSE r.reorder_quantity END"


@dataclass(frozen=True)
class ReorderLevel:
    """One medicine at one branch: its stock and the reorder level set for it (if any)."""

    branch_id: str
    branch: str
    medicine_id: str
    medicine: str  # generic name and strength, as the shelf label says it
    generic_name: str
    strength: str
    barcode: str | None
    on_hand: int
    mode: str | None  # None: no level set
    reorder_point: int | None  # the manual numbers (an automatic level's fallback)
    reorder_quantity: int | None
    forecast_point: int | None
    forecast_quantity: int | None
    forecast_at: datetime | None
    point_in_force: int | None  # what alerts and suggested orders use; None: no alert
    quantity_in_force: int | None
    source: str  # "manual", "forecast", "fallback" (automatic, no forecast yet: the manual numbers) or "none"
    note: str  # the same in words, for people
    low: bool  # on hand at or below the point in force
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ReorderPage:
    items: list[ReorderLevel]
    page: int
    has_more: bool


@dataclass(frozen=True)
class SaveResult:
    changed: int  # levels set or changed
    cleared: int  # levels removed
    unchanged: int  # levels sent as they already were


def in_force(
    mode: str | None,
    point: int | None,
    quantity: int | None,
    forecast_point: int | None,
    forecast_quantity: int | None,
) -> tuple[int | None, int | None, str, str]:
    """(point, quantity, source, note) in force; the Python twin of EFFECTIVE_POINT / _QUANTITY."""
    if mode is None:
        return None, None, "none", "No reorder level: no low-stock alert or suggested order."
    if mode == AUTOMATIC and forecast_point is not None:
        note = f"Automatic: reorder at {forecast_point}, order {forecast_quantity} (from the forecast)."
        return forecast_point, forecast_quantity, "forecast", note
    if mode == AUTOMATIC and point is not None:
        return (
            point,
            quantity,
            "fallback",
            f"Automatic, but there is no forecast yet: using the manual level (reorder at {point}, order {quantity}).",
        )
    if mode == AUTOMATIC:
        return (
            None,
            None,
            "none",
            "Automatic, but there is no forecast yet and no manual level to fall back on: no low-stock alert "
            "or suggested order until there is one.",
        )
    return point, quantity, "manual", f"Manual: reorder at {point}, order {quantity}."


def alert_detail(point: int, quantity: int, source: str) -> str:
    """How a low-stock alert names the level that raised it."""
    basis = {"forecast": " (forecast)", "fallback": " (automatic, no forecast yet: manual level)"}.get(source, "")
    return f"reorder point {point}; order {quantity}{basis}"


def _level(row: Any) -> ReorderLevel:
    point, quantity, source, note = in_force(
        row.mode, row.reorder_point, row.reorder_quantity, row.forecast_point, row.forecast_quantity
    )
    return ReorderLevel(
        branch_id=str(row.branch_id),
        branch=row.branch,
        medicine_id=str(row.medicine_id),
        medicine=f"{row.generic_name} {row.strength}".strip(),
        generic_name=row.generic_name,
        strength=row.strength,
        barcode=row.barcode,
        on_hand=int(row.on_hand),
        mode=row.mode,
        reorder_point=row.reorder_point,
        reorder_quantity=row.reorder_quantity,
        forecast_point=row.forecast_point,
        forecast_quantity=row.forecast_quantity,
        forecast_at=row.forecast_at,
        point_in_force=point,
        quantity_in_force=quantity,
        source=source,
        note=note,
        low=point is not None and int(row.on_hand) <= point,
        updated_at=row.updated_at,
    )


# --- checks --------------------------------------------------------------------------------------


def _count(value: object, field: str, *, minimum: int) -> int | None:
    """A whole number of dispensing units, or None when left empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    whole = "Reorder points and quantities are whole numbers of the dispensing unit."
    if isinstance(value, bool):  # JSON true is not a quantity, though Python counts it as 1
        raise ValidationFailed(whole, field=field)
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise ValidationFailed(whole, field=field) from None
    if number < minimum:
        raise ValidationFailed(
            "The reorder point is 0 or more." if minimum == 0 else "The reorder quantity is at least 1.", field=field
        )
    if number > MAX_LEVEL:
        raise ValidationFailed(f"At most {MAX_LEVEL:,} here.", field=field)
    return number


def level_values(mode: object, reorder_point: object, reorder_quantity: object) -> tuple[str, int | None, int | None]:
    """Check one level: (mode, point, quantity). Manual with neither number means "no level" (clear).

    The import and every editor check levels with this, so they cannot disagree.
    """
    typed_mode = str(mode or "").strip().lower() or MANUAL
    if typed_mode not in MODES:
        raise ValidationFailed("The reorder mode is manual or automatic.", field="mode")
    point = _count(reorder_point, "reorder_point", minimum=0)
    quantity = _count(reorder_quantity, "reorder_quantity", minimum=1)
    if (point is None) != (quantity is None):
        raise ValidationFailed(
            "Give both the reorder point and the reorder quantity, or leave both empty.",
            field="reorder_quantity" if quantity is None else "reorder_point",
        )
    return typed_mode, point, quantity


# --- reading -------------------------------------------------------------------------------------

_LEVEL_COLUMNS = (
    "r.mode, r.reorder_point, r.reorder_quantity, r.forecast_point, r.forecast_quantity, r.forecast_at, r.updated_at"
)
# On hand counts every batch of the medicine at the branch, as the catalog's on-hand does.
_ON_HAND = (
    "coalesce((SELECT sum(b.quantity) FROM batches b WHERE b.tenant_id = m.tenant_id AND b.branch_id = br.id "
    "AND b.medicine_id = m.id), 0)::int"
)


def _visible_branch(session: Session, ctx: TenantContext, branch_id: object) -> Any:
    key = check.as_uuid(str(branch_id), "branch")
    row = session.execute(text("SELECT id, name, code, is_active FROM branches WHERE id = :b"), {"b": key}).first()
    if row is None or not ctx.can_see_branch(key):
        raise NotFound("No such branch.")
    return row


def _branch_levels(
    session: Session, ctx: TenantContext, branch: Any, query: str, show: str, limit: int | None, offset: int
) -> list[ReorderLevel]:
    if show not in FILTERS:
        raise ValidationFailed(f"Show one of: {', '.join(FILTERS)}.", field="show")
    needle = query.strip().lower().replace("%", "").replace("_", "")
    conditions = {
        "all": "TRUE",
        "set": "r.medicine_id IS NOT NULL",
        "unset": "r.medicine_id IS NULL",
        "low": f"{EFFECTIVE_POINT} IS NOT NULL AND {_ON_HAND} <= {EFFECTIVE_POINT}",
    }
    rows = session.execute(
        text(
            f"SELECT br.id AS branch_id, br.name AS branch, m.id AS medicine_id, m.generic_name, m.strength, "  # noqa: S608
            f"m.barcode, {_ON_HAND} AS on_hand, {_LEVEL_COLUMNS} "
            "FROM medicines m JOIN branches br ON br.tenant_id = m.tenant_id AND br.id = :b "
            "LEFT JOIN reorder_levels r ON r.tenant_id = m.tenant_id AND r.branch_id = br.id "
            "AND r.medicine_id = m.id "
            "WHERE m.tenant_id = :tenant AND (m.is_active OR r.medicine_id IS NOT NULL) "
            "AND (:q = '' OR lower(m.generic_name) LIKE :prefix OR lower(m.brand_name) LIKE :prefix "
            f"OR m.barcode = :exact) AND {conditions[show]} "
            "ORDER BY lower(m.generic_name), m.strength, m.id LIMIT :limit OFFSET :offset"
        ),
        {
            "b": branch.id,
            # Named as well as enforced by RLS, so the planner reaches the chain's rows by its indexes.
            "tenant": ctx.tenant_id,
            "q": needle,
            "prefix": f"{needle}%",
            "exact": query.strip(),
            "limit": limit,
            "offset": offset,
        },
    ).all()
    return [_level(r) for r in rows]


def list_reorder_levels(
    session: Session, ctx: TenantContext, branch_id: str, query: str = "", *, show: str = "all", page: int = 0
) -> ReorderPage:
    """One page of the branch's medicines with their reorder levels, for the bulk editor and REST.

    `query` matches the start of the generic or brand name, or a whole barcode; `show` is all, set
    (with a level), unset (without one) or low (at or below the level in force). Active medicines
    are listed, and deactivated ones that still have a level (so it can be cleared).
    """
    require(ctx, "inventory.view")
    page = max(page, 0)
    branch = _visible_branch(session, ctx, branch_id)
    found = _branch_levels(session, ctx, branch, query, show, PAGE_SIZE + 1, page * PAGE_SIZE)
    return ReorderPage(found[:PAGE_SIZE], page, len(found) > PAGE_SIZE)


def branch_reorder_levels(session: Session, ctx: TenantContext, branch_id: str) -> tuple[str, list[ReorderLevel]]:
    """Every line of `list_reorder_levels` at once, with the branch's code (for the CSV export)."""
    require(ctx, "inventory.view")
    branch = _visible_branch(session, ctx, branch_id)
    return branch.code, _branch_levels(session, ctx, branch, "", "all", None, 0)


def _levels_of(session: Session, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> list[ReorderLevel]:
    """The levels of (branch id, medicine id) pairs, in the order asked."""
    rows = session.execute(
        text(
            f"SELECT br.id AS branch_id, br.name AS branch, m.id AS medicine_id, m.generic_name, m.strength, "  # noqa: S608
            f"m.barcode, {_ON_HAND} AS on_hand, {_LEVEL_COLUMNS} "
            "FROM unnest(CAST(:branches AS uuid[]), CAST(:medicines AS uuid[])) AS p(branch_id, medicine_id) "
            "JOIN branches br ON br.id = p.branch_id JOIN medicines m ON m.id = p.medicine_id "
            "LEFT JOIN reorder_levels r ON r.tenant_id = m.tenant_id AND r.branch_id = br.id AND r.medicine_id = m.id"
        ),
        {"branches": [b for b, _ in pairs], "medicines": [m for _, m in pairs]},
    ).all()
    found = {(r.branch_id, r.medicine_id): _level(r) for r in rows}
    return [found[pair] for pair in pairs if pair in found]


def reorder_level(session: Session, ctx: TenantContext, branch_id: str, medicine_id: str) -> ReorderLevel:
    """One medicine's level at one branch (mode "none" when nothing is set)."""
    require(ctx, "inventory.view")
    branch = _visible_branch(session, ctx, branch_id)
    found = _levels_of(session, [(branch.id, check.as_uuid(medicine_id, "medicine"))])
    if not found:
        raise NotFound("No such medicine.")
    return found[0]


def medicine_reorder_levels(session: Session, ctx: TenantContext, medicine_id: str) -> list[ReorderLevel]:
    """A medicine's level at every active branch the member may see (for the medicine page)."""
    require(ctx, "inventory.view")
    key = check.as_uuid(medicine_id, "medicine")
    branches = session.execute(text("SELECT id FROM branches WHERE is_active ORDER BY lower(name), id")).scalars()
    pairs = [(b, key) for b in branches if ctx.can_see_branch(b)]
    return _levels_of(session, pairs)


# --- writing -------------------------------------------------------------------------------------


def save_reorder_levels(session: Session, ctx: TenantContext, levels: Sequence[Mapping[str, Any]]) -> SaveResult:
    """Each item names branch_id and medicine_id and gives mode, reorder_point and reorder_quantity.

    All or nothing: every item is checked first and a bad one is refused naming the medicine and
    branch, with nothing written. Manual with both numbers empty clears the level. Levels are set
    only at active branches the member may see. One audit event records the save.
    """
    require(ctx, "inventory.reorder")
    if len(levels) > MAX_BULK:
        raise ValidationFailed(f"Save at most {MAX_BULK} reorder levels at a time.", field="levels")
    keys = [
        (
            check.as_uuid(str(item.get("branch_id", "")), "branch"),
            check.as_uuid(str(item.get("medicine_id", "")), "medicine"),
        )
        for item in levels
    ]
    branches = {
        r.id: r
        for r in session.execute(
            text("SELECT id, name, code, is_active FROM branches WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": sorted({b for b, _ in keys})},
        )
    }
    medicines = {
        r.id: f"{r.generic_name} {r.strength}".strip()
        for r in session.execute(
            text("SELECT id, generic_name, strength FROM medicines WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": sorted({m for _, m in keys})},
        )
    }
    to_set: list[tuple[uuid.UUID, uuid.UUID, str, int | None, int | None]] = []
    to_clear: list[tuple[uuid.UUID, uuid.UUID]] = []
    seen: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for (branch_id, medicine_id), item in zip(keys, levels, strict=True):
        branch = branches.get(branch_id)
        if branch is None or not ctx.can_see_branch(branch_id):
            raise NotFound("No such branch.")
        if medicine_id not in medicines:
            raise NotFound("No such medicine.")
        where = f"{medicines[medicine_id]} at {branch.name}"
        if not branch.is_active:
            raise branch_inactive(branch.name, "orders no stock, so it takes no reorder levels")
        if (branch_id, medicine_id) in seen:
            raise ValidationFailed(f"{where} is listed twice.", field="levels")
        seen.add((branch_id, medicine_id))
        try:
            mode, point, quantity = level_values(
                item.get("mode"), item.get("reorder_point"), item.get("reorder_quantity")
            )
        except ValidationFailed as exc:
            raise ValidationFailed(f"{where}: {exc.message}", field=exc.field) from None
        if mode == MANUAL and point is None:
            to_clear.append((branch_id, medicine_id))
        else:
            to_set.append((branch_id, medicine_id, mode, point, quantity))
    changed = cleared = 0
    if to_set:
        # Only rows whose level really changes are written, so `updated_by` names who last changed it.
        changed = len(
            session.execute(
                text(
                    "INSERT INTO reorder_levels (tenant_id, branch_id, medicine_id, mode, reorder_point, "
                    "reorder_quantity, updated_at, updated_by) "
                    "SELECT :t, b, m, mode, p, q, now(), :u FROM unnest(CAST(:b AS uuid[]), CAST(:m AS uuid[]), "
                    "CAST(:mode AS text[]), CAST(:p AS integer[]), CAST(:q AS integer[])) AS x(b, m, mode, p, q) "
                    "ON CONFLICT (tenant_id, branch_id, medicine_id) DO UPDATE SET mode = EXCLUDED.mode, "
                    "reorder_point = EXCLUDED.reorder_point, reorder_quantity = EXCLUDED.reorder_quantity, "
                    "updated_at = now(), updated_by = EXCLUDED.updated_by "
                    "WHERE (reorder_levels.mode, reorder_levels.reorder_point, reorder_levels.reorder_quantity) "
                    "IS DISTINCT FROM (EXCLUDED.mode, EXCLUDED.reorder_point, EXCLUDED.reorder_quantity) "
                    "RETURNING 1"
                ),
                {
                    "t": ctx.tenant_id,
                    "u": ctx.user_id,
                    "b": [row[0] for row in to_set],
                    "m": [row[1] for row in to_set],
                    "mode": [row[2] for row in to_set],
                    "p": [row[3] for row in to_set],
                    "q": [row[4] for row in to_set],
                },
            ).all()
        )
    if to_clear:
        cleared = len(
            session.execute(
                text(
                    "DELETE FROM reorder_levels r USING unnest(CAST(:b AS uuid[]), CAST(:m AS uuid[])) AS x(b, m) "
                    "WHERE r.branch_id = x.b AND r.medicine_id = x.m RETURNING 1"
                ),
                {"b": [b for b, _ in to_clear], "m": [m for _, m in to_clear]},
            ).all()
        )
    if changed or cleared:
        codes = sorted({branches[b].code for b, _ in seen})
        record_audit(
            session,
            ctx.tenant_id,
            "reorder_levels.saved",
            actor_user_id=ctx.user_id,
            entity_type="branch",
            entity_id=str(next(iter(seen))[0]) if len(codes) == 1 else None,
            details={"branches": codes, "changed": changed, "cleared": cleared},
        )
    return SaveResult(changed, cleared, len(levels) - changed - cleared)


def set_reorder_level(
    session: Session,
    ctx: TenantContext,
    *,
    branch_id: str,
    medicine_id: str,
    mode: str = MANUAL,
    reorder_point: object = None,
    reorder_quantity: object = None,
) -> ReorderLevel:
    """Set (or, manual with no numbers, clear) one level; returns it as now in force."""
    item = {
        "branch_id": branch_id,
        "medicine_id": medicine_id,
        "mode": mode,
        "reorder_point": reorder_point,
        "reorder_quantity": reorder_quantity,
    }
    save_reorder_levels(session, ctx, [item])
    return _levels_of(session, [(check.as_uuid(branch_id, "branch"), check.as_uuid(medicine_id, "medicine"))])[0]


def record_forecast_levels(
    session: Session, ctx: TenantContext, branch_id: str, forecasts: Sequence[tuple[str, int, int]]
) -> int:
    """For the forecasting work: store the forecast's (medicine id, reorder point, reorder quantity)
    at a branch. Automatic levels use them at once; manual levels keep their own numbers (the
    forecast is kept beside them for people to compare). A line with no level yet becomes automatic."""
    require(ctx, "inventory.reorder")
    branch = _visible_branch(session, ctx, branch_id).id
    rows = [
        (check.as_uuid(m, "medicine"), _count(p, "reorder_point", minimum=0), _count(q, "reorder_quantity", minimum=1))
        for m, p, q in forecasts
    ]
    if any(p is None or q is None for _, p, q in rows):
        raise ValidationFailed("A forecast gives both the reorder point and the reorder quantity.", field="forecasts")
    return len(
        session.execute(
            text(
                "INSERT INTO reorder_levels (tenant_id, branch_id, medicine_id, mode, forecast_point, "
                "forecast_quantity, forecast_at) SELECT :t, :b, m, 'automatic', p, q, now() "
                "FROM unnest(CAST(:m AS uuid[]), CAST(:p AS integer[]), CAST(:q AS integer[])) AS x(m, p, q) "
                "ON CONFLICT (tenant_id, branch_id, medicine_id) DO UPDATE SET "
                "forecast_point = EXCLUDED.forecast_point, forecast_quantity = EXCLUDED.forecast_quantity, "
                "forecast_at = EXCLUDED.forecast_at RETURNING 1"
            ),
            {
                "t": ctx.tenant_id,
                "b": branch,
                "m": [r[0] for r in rows],
                "p": [r[1] for r in rows],
                "q": [r[2] for r in rows],
            },
        ).all()
    )
