"""Stock: the catalog, batches with expiry, and a ledger that never oversells.

Every change of on-hand is a movement row written in the same transaction as a conditional
UPDATE (`... SET quantity = quantity - n WHERE ... AND quantity >= n`), so no interleaving of
sales can take a batch below zero, and on-hand always equals the sum of its movements.
`dispense()` is the service the counter and prescriptions call.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from backend.core import validation as check
from backend.core.database import RaceLost, retrying
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.drugs.matcher import resolve
from backend.inventory import validation as catalog_check
from backend.inventory.statuses import BatchStatus
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.directory import require_active_branch
from tenants.roles import require
from tenants.session import platform_session, tenant_connection

SCHEDULES = ("otc", "prescription", "controlled")
MOVEMENT_KINDS = (
    "receive",
    "dispense",
    "adjust",
    "transfer_out",
    "transfer_in",
    "customer_return",
    "supplier_return",
    "write_off",
    "rx_return",  # an unclaimed prescription fill back on its lots (reference: the fill's code)
)


class OutOfStock(Conflict):
    code = "out_of_stock"


# What a sale that kept losing races to concurrent sales tells the person selling.
STOCK_CHANGED = "The stock changed while selling; try again."


@dataclass(frozen=True)
class Medicine:
    id: str
    generic_name: str
    brand_name: str
    strength: str
    dosage_form: str
    barcode: str | None
    schedule: str
    dispensing_unit: str
    default_sell_price: Decimal
    on_hand: int = 0
    is_active: bool = True


@dataclass(frozen=True)
class Pick:
    """One batch a dispense drew from (FEFO), as the counter shows it."""

    batch_id: str
    lot_number: str
    expiry_date: date
    quantity: int


@dataclass(frozen=True)
class BatchStock:
    id: str
    branch: str
    lot_number: str
    expiry_date: date
    quantity: int
    status: str
    recalled: bool
    expired: bool
    branch_id: str = ""


@dataclass(frozen=True)
class Movement:
    occurred_at: datetime
    kind: str
    quantity: int
    lot_number: str
    branch: str
    reason: str
    reference: str


@dataclass(frozen=True)
class LotPreview:
    lot_number: str
    expiry_date: date
    quantity: int  # how many of this line FEFO would take from the lot


@dataclass(frozen=True)
class LinePreview:
    """What FEFO would pick for one medicine, and how many can be sold at all."""

    medicine_id: str
    lots: list[LotPreview]
    sellable: int


# --- catalog ---------------------------------------------------------------------------------


TAX_CATEGORIES = ("standard", "reduced", "zero", "exempt")
# The DEA schedules a pharmacy stocks; schedule I substances have no accepted medical use.
CONTROLLED_CLASSES = ("CII", "CIII", "CIV", "CV")
# What a person edits on the catalog form (is_active has its own service: set_medicine_active).
CATALOG_FIELDS = (
    "generic_name",
    "brand_name",
    "strength",
    "dosage_form",
    "pack_size",
    "dispensing_unit",
    "barcode",
    "schedule",
    "controlled_class",
    "therapeutic_class",
    "default_sell_price",
    "tax_category",
)
_TEXT_LIMITS = {
    "generic_name": 200,
    "brand_name": 200,
    "strength": 60,
    "dosage_form": 60,
    "dispensing_unit": 40,
    "therapeutic_class": 120,
}


class PossibleDuplicate(Conflict):
    """The medicine may already be in the catalog under another name; a person decides."""

    code = "possible_duplicate"

    def __init__(self, duplicates: list[Medicine]) -> None:
        names = "; ".join(f"{m.generic_name} {m.strength}".strip() for m in duplicates[:5])
        super().__init__(f"This medicine may already be in the catalog: {names}.", field="generic_name")
        self.duplicates = duplicates


@dataclass(frozen=True)
class MedicineDetails:
    """Every catalog field of one medicine, as the edit form shows it."""

    id: str
    generic_name: str
    brand_name: str
    strength: str
    dosage_form: str
    pack_size: int
    dispensing_unit: str
    barcode: str | None
    schedule: str
    controlled_class: str | None
    therapeutic_class: str
    default_sell_price: Decimal
    tax_category: str
    is_active: bool


def _medicine(row: Any, on_hand: int = 0) -> Medicine:
    """A catalog row (any query selecting the medicine's columns) as the service's plain data."""
    return Medicine(
        str(row.id),
        row.generic_name,
        row.brand_name,
        row.strength,
        row.dosage_form,
        row.barcode,
        row.schedule,
        row.dispensing_unit,
        row.default_sell_price,
        on_hand,
        getattr(row, "is_active", True),
    )


def _details(row: Any) -> MedicineDetails:
    return MedicineDetails(
        id=str(row.id),
        generic_name=row.generic_name,
        brand_name=row.brand_name,
        strength=row.strength,
        dosage_form=row.dosage_form,
        pack_size=row.pack_size,
        dispensing_unit=row.dispensing_unit,
        barcode=row.barcode,
        schedule=row.schedule,
        controlled_class=row.controlled_class,
        therapeutic_class=row.therapeutic_class,
        default_sell_price=row.default_sell_price,
        tax_category=row.tax_category,
        is_active=row.is_active,
    )


def catalog_values(raw: dict[str, Any], *, stored_barcode: str | None = None) -> dict[str, Any]:
    """Check a medicine's catalog fields together; raises ValidationFailed naming the first bad field.

    `stored_barcode` is the medicine's barcode as saved: when it comes back unchanged it is kept
    as it is, so a code saved before the digits-only rule never blocks editing other fields.
    """
    values: dict[str, Any] = {}
    for name, limit in _TEXT_LIMITS.items():
        values[name] = " ".join(str(raw.get(name) or "").split())
        if len(values[name]) > limit:
            raise ValidationFailed(f"At most {limit} characters here.", field=name)
    if not values["generic_name"]:
        raise ValidationFailed("Enter the generic name.", field="generic_name")
    values["dispensing_unit"] = values["dispensing_unit"] or "tablet"
    values["pack_size"] = catalog_check.pack_size(raw.get("pack_size", 1))
    typed_barcode = str(raw.get("barcode") or "").strip()
    if stored_barcode is not None and typed_barcode == stored_barcode:
        values["barcode"] = stored_barcode
    else:
        values["barcode"] = catalog_check.barcode(typed_barcode)
    schedule = str(raw.get("schedule") or "otc").strip().lower()
    if schedule not in SCHEDULES:
        raise ValidationFailed("Schedule must be OTC, prescription or controlled.", field="schedule")
    controlled_class = "".join(str(raw.get("controlled_class") or "").split()).replace("-", "").upper()
    if controlled_class and not controlled_class.startswith("C"):
        controlled_class = f"C{controlled_class}"  # "II" is how the class is often written
    if schedule == "controlled" and controlled_class not in CONTROLLED_CLASSES:
        raise ValidationFailed("A controlled medicine needs its class: CII, CIII, CIV or CV.", field="controlled_class")
    if schedule != "controlled" and controlled_class:
        raise ValidationFailed(
            "Only a controlled medicine has a controlled class: choose the controlled schedule or clear the class.",
            field="controlled_class",
        )
    values["schedule"], values["controlled_class"] = schedule, controlled_class or None
    values["default_sell_price"] = check.money(str(raw.get("default_sell_price") or "0"), "default_sell_price")
    tax_category = str(raw.get("tax_category") or "standard").strip().lower()
    if tax_category not in TAX_CATEGORIES:
        raise ValidationFailed("The tax category is standard, reduced, zero or exempt.", field="tax_category")
    values["tax_category"] = tax_category
    return values


_BARCODE_TAKEN = "Another medicine already has that barcode."


def _ensure_barcode_free(session: Session, barcode: str | None, medicine_id: uuid.UUID) -> None:
    """Inactive medicines keep their barcode too (the unique index covers them)."""
    if (
        barcode
        and session.execute(
            text("SELECT 1 FROM medicines WHERE barcode = :b AND id <> :m"), {"b": barcode, "m": medicine_id}
        ).first()
    ):
        raise Conflict(_BARCODE_TAKEN, field="barcode")


def _write_catalog_row(session: Session, statement: str, params: dict[str, Any]) -> None:
    """Run the INSERT/UPDATE; two people saving the same barcode at once get the Conflict, not a 500."""
    try:
        session.execute(text(statement), params)
    except IntegrityError as exc:
        diag = getattr(exc.orig, "diag", None)
        if getattr(diag, "constraint_name", None) == "medicines_barcode_key":
            raise Conflict(_BARCODE_TAKEN, field="barcode") from None
        raise


def create_medicine(
    session: Session,
    ctx: TenantContext,
    *,
    generic_name: str,
    brand_name: str = "",
    strength: str = "",
    dosage_form: str = "",
    barcode: str = "",
    schedule: str = "otc",
    dispensing_unit: str = "tablet",
    pack_size: object = 1,
    default_sell_price: str = "0",
    controlled_class: str = "",
    therapeutic_class: str = "",
    tax_category: str = "standard",
    check_duplicates: bool = False,
) -> str:
    """Add a medicine to the chain's catalog; returns its id.

    Nothing is written when a field is wrong (ValidationFailed names it) or the barcode belongs to
    another medicine (Conflict). A controlled medicine needs its class (CII to CV); other schedules
    have none. With `check_duplicates`, a medicine the catalog may already hold under another name
    (Paracetamol 500 mg next to Acetaminophen 500 mg) raises PossibleDuplicate listing them: the
    caller asks the person and calls again without the check to add it anyway.
    """
    require(ctx, "inventory.catalog")
    values = catalog_values(
        {
            "generic_name": generic_name,
            "brand_name": brand_name,
            "strength": strength,
            "dosage_form": dosage_form,
            "pack_size": pack_size,
            "dispensing_unit": dispensing_unit,
            "barcode": barcode,
            "schedule": schedule,
            "controlled_class": controlled_class,
            "therapeutic_class": therapeutic_class,
            "default_sell_price": default_sell_price,
            "tax_category": tax_category,
        }
    )
    medicine_id = uuid.uuid4()
    if check_duplicates:
        found = _duplicates(session, values["generic_name"], values["strength"])
        if found:
            raise PossibleDuplicate(found)
    _ensure_barcode_free(session, values["barcode"], medicine_id)
    _write_catalog_row(
        session,
        f"INSERT INTO medicines (tenant_id, id, {', '.join(CATALOG_FIELDS)}) "  # noqa: S608 - fixed names
        f"VALUES (:tenant_id, :id, {', '.join(':' + name for name in CATALOG_FIELDS)})",
        {**values, "tenant_id": ctx.tenant_id, "id": medicine_id},
    )
    record_audit(
        session,
        ctx.tenant_id,
        "medicine.created",
        actor_user_id=ctx.user_id,
        entity_type="medicine",
        entity_id=str(medicine_id),
    )
    return str(medicine_id)


def medicine_details(session: Session, ctx: TenantContext, medicine_id: str) -> MedicineDetails:
    """Every catalog field of one medicine (active or not), for the edit form."""
    require(ctx, "inventory.view")
    key = check.as_uuid(medicine_id, "medicine")
    row = session.execute(text("SELECT * FROM medicines WHERE id = :m"), {"m": key}).first()
    if row is None:
        raise NotFound("No such medicine.")
    return _details(row)


def update_medicine(session: Session, ctx: TenantContext, medicine_id: str, **fields: Any) -> MedicineDetails:
    """Change the catalog fields given (any of CATALOG_FIELDS); returns the medicine as saved.

    The result is checked as a whole, as create_medicine checks it, and nothing is written when
    any field is wrong. Moving a medicine off the controlled schedule clears its class unless a
    class is given (which is then refused).
    """
    require(ctx, "inventory.catalog")
    unknown = sorted(set(fields) - set(CATALOG_FIELDS))
    if unknown:
        raise TypeError(f"update_medicine() got unknown fields: {', '.join(unknown)}")
    key = check.as_uuid(medicine_id, "medicine")
    row = session.execute(text("SELECT * FROM medicines WHERE id = :m FOR UPDATE"), {"m": key}).first()
    if row is None:
        raise NotFound("No such medicine.")
    current = _details(row)
    merged: dict[str, Any] = {name: getattr(current, name) for name in CATALOG_FIELDS}
    if str(fields.get("schedule", "controlled")).strip().lower() != "controlled":
        merged["controlled_class"] = ""
    merged.update(fields)
    values = catalog_values(merged, stored_barcode=current.barcode)
    changed = sorted(name for name in CATALOG_FIELDS if values[name] != getattr(current, name))
    if not changed:
        return current
    _ensure_barcode_free(session, values["barcode"], key)
    _write_catalog_row(
        session,
        f"UPDATE medicines SET {', '.join(f'{name} = :{name}' for name in changed)} WHERE id = :id",  # noqa: S608
        {**{name: values[name] for name in changed}, "id": key},
    )
    record_audit(
        session,
        ctx.tenant_id,
        "medicine.updated",
        actor_user_id=ctx.user_id,
        entity_type="medicine",
        entity_id=str(key),
        details={"fields": changed},
    )
    saved = session.execute(text("SELECT * FROM medicines WHERE id = :m"), {"m": key}).one()
    return _details(saved)


def set_medicine_active(session: Session, ctx: TenantContext, medicine_id: str, active: bool) -> None:
    """Deactivate a medicine (it leaves search and barcode look-up; stock and history stay) or reactivate it."""
    require(ctx, "inventory.catalog")
    key = check.as_uuid(medicine_id, "medicine")
    row = session.execute(text("SELECT is_active FROM medicines WHERE id = :m FOR UPDATE"), {"m": key}).first()
    if row is None:
        raise NotFound("No such medicine.")
    if row.is_active == bool(active):
        return
    session.execute(text("UPDATE medicines SET is_active = :a WHERE id = :m"), {"a": bool(active), "m": key})
    record_audit(
        session,
        ctx.tenant_id,
        "medicine.reactivated" if active else "medicine.deactivated",
        actor_user_id=ctx.user_id,
        entity_type="medicine",
        entity_id=str(key),
    )


SEARCH_SORTS = {
    "name": "lower(m.generic_name), m.id",
    "on_hand": "on_hand DESC, lower(m.generic_name)",
    "price": "m.default_sell_price, lower(m.generic_name)",
}
PAGE_SIZE = 25


def search_medicines(
    session: Session,
    ctx: TenantContext,
    query: str = "",
    *,
    sort: str = "name",
    page: int = 0,
    branch_id: str | None = None,
) -> tuple[list[Medicine], bool]:
    """Catalog search on the server (name, brand or exact barcode), one page at a time."""
    require(ctx, "inventory.view")
    order = SEARCH_SORTS.get(sort, SEARCH_SORTS["name"])
    needle = query.strip().lower().replace("%", "").replace("_", "")
    # "Tylenol" finds the acetaminophen (or paracetamol) on the shelf: the names it goes by.
    match = resolve(query, fuzzy=False) if needle and not needle.isdigit() else None
    aliases = sorted(match.names()) if match else []
    # On-hand counts only branches the member may see: the one asked for, else all of their scope.
    if branch_id is not None and not ctx.can_see_branch(check.as_uuid(branch_id, "branch")):
        raise NotFound("No such branch.")
    branches = [branch_id] if branch_id is not None else sorted(str(b) for b in ctx.branch_ids) or None
    # The tenant is named in the SQL as well as enforced by RLS: the planner then reaches each
    # chain's rows through its indexes the same way with or without the policy (bench/inventory_search.py).
    matches = (
        "m.tenant_id = :tenant AND m.is_active AND (:q = '' OR lower(m.generic_name) LIKE :prefix "
        "OR lower(m.brand_name) LIKE :prefix OR m.barcode = :exact "
        "OR lower(m.generic_name) = ANY(CAST(:aliases AS text[])))"
    )
    in_scope = "(CAST(:branches AS uuid[]) IS NULL OR b.branch_id = ANY(CAST(:branches AS uuid[])))"
    columns = (
        "m.tenant_id, m.id, m.generic_name, m.brand_name, m.strength, m.dosage_form, m.barcode, m.schedule, "
        "m.dispensing_unit, m.default_sell_price"
    )
    # The ORDER BY comes from the fixed SEARCH_SORTS map, never from input.
    if order == SEARCH_SORTS["on_hand"]:
        # Every match's on-hand decides the order: sum the chain's batches per medicine once.
        sql = (
            f"SELECT {columns}, coalesce(s.total, 0)::int AS on_hand FROM medicines m "  # noqa: S608
            "LEFT JOIN (SELECT b.medicine_id, sum(b.quantity) AS total FROM batches b "
            f"WHERE b.tenant_id = :tenant AND {in_scope} GROUP BY b.medicine_id) s ON s.medicine_id = m.id "
            f"WHERE {matches} ORDER BY {order} LIMIT :limit OFFSET :offset"
        )
    else:
        # The page first (the name index yields it in order), then on-hand for those rows only.
        sql = (
            "SELECT m.*, coalesce((SELECT sum(b.quantity) FROM batches b WHERE b.tenant_id = m.tenant_id "  # noqa: S608
            f"AND b.medicine_id = m.id AND {in_scope}), 0)::int AS on_hand "
            f"FROM (SELECT {columns} FROM medicines m WHERE {matches} "
            f"ORDER BY {order} LIMIT :limit OFFSET :offset) m ORDER BY {order}"
        )
    rows = session.execute(
        text(sql),
        {
            "tenant": ctx.tenant_id,
            "q": needle,
            "prefix": f"{needle}%",
            "exact": query.strip(),
            "branches": branches,
            "aliases": aliases,
            "limit": PAGE_SIZE + 1,
            "offset": max(page, 0) * PAGE_SIZE,
        },
    ).all()
    medicines = [_medicine(r, r.on_hand) for r in rows[:PAGE_SIZE]]
    return medicines, len(rows) > PAGE_SIZE


def medicine_by_barcode(session: Session, ctx: TenantContext, barcode: str) -> Medicine | None:
    found, _ = search_medicines(session, ctx, barcode)
    return next((m for m in found if m.barcode == barcode.strip()), None)


# --- branches and dates --------------------------------------------------------------------------


def branch_today(session: Session, ctx: TenantContext, branch_id: str) -> date:
    """Expiry is compared with the branch's local date, not the server's."""
    try:
        visible = ctx.can_see_branch(uuid.UUID(str(branch_id)))
    except ValueError:
        visible = False
    if not visible:
        raise NotFound("No such branch.")
    zone = session.execute(text("SELECT time_zone FROM branches WHERE id = :b"), {"b": branch_id}).scalar()
    if zone is None:
        raise NotFound("No such branch.")
    return datetime.now(ZoneInfo(zone)).date()


def _record(
    session: Session,
    ctx: TenantContext,
    *,
    batch_id: str,
    medicine_id: str,
    branch_id: str,
    kind: str,
    quantity: int,
    reason: str = "",
    reference: str = "",
) -> None:
    session.execute(
        text(
            "INSERT INTO stock_movements (tenant_id, batch_id, medicine_id, branch_id, kind, quantity, reason, "
            "reference, actor_user_id) VALUES (:t, :b, :m, :br, :k, :q, :r, :ref, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "b": batch_id,
            "m": medicine_id,
            "br": branch_id,
            "k": kind,
            "q": quantity,
            "r": reason[:300],
            "ref": reference[:100],
            "u": ctx.user_id,
        },
    )


# --- receiving -------------------------------------------------------------------------------


def receive_stock(
    session: Session,
    ctx: TenantContext,
    *,
    branch_id: str,
    medicine_id: str,
    lot_number: str,
    expiry_date: str,
    quantity: object,
    cost_price: str = "0",
    supplier_name: str = "",
    reference: str = "",
) -> str:
    """Book a delivery into a batch (a lot already on the shelf grows); returns the batch id."""
    require(ctx, "inventory.receive")
    count = check.quantity(quantity)
    lot = lot_number.strip()
    if not lot:
        raise ValidationFailed("Enter the lot number printed on the pack.", field="lot_number")
    try:
        expiry = date.fromisoformat(str(expiry_date).strip())
    except ValueError:
        raise ValidationFailed("Enter the expiry date as YYYY-MM-DD.", field="expiry_date") from None
    cost = check.money(cost_price, "cost_price")
    if expiry < branch_today(session, ctx, branch_id):
        raise ValidationFailed("This lot has already expired; it cannot be received.", field="expiry_date")
    require_active_branch(session, branch_id, "takes no deliveries")
    try:
        known = session.execute(
            text("SELECT is_active FROM medicines WHERE id = :m"), {"m": uuid.UUID(medicine_id)}
        ).first()
    except ValueError:
        known = None
    if known is None:
        raise NotFound("No such medicine.")
    if not known.is_active:
        raise ValidationFailed("This medicine is deactivated in the catalog; reactivate it to receive stock.")
    if _is_recalled(session, medicine_id, lot):
        raise ValidationFailed(f"Lot {lot} is recalled; it cannot be received.", field="lot_number")
    row = session.execute(
        text(
            "INSERT INTO batches (tenant_id, id, medicine_id, branch_id, lot_number, expiry_date, cost_price, "
            "supplier_name, quantity) VALUES (:t, :id, :m, :br, :lot, :exp, :cost, :sup, :q) "
            "ON CONFLICT (tenant_id, branch_id, medicine_id, lot_number) "
            "DO UPDATE SET quantity = batches.quantity + EXCLUDED.quantity "
            "RETURNING id, expiry_date"
        ),
        {
            "t": ctx.tenant_id,
            "id": uuid.uuid4(),
            "m": medicine_id,
            "br": branch_id,
            "lot": lot,
            "exp": expiry,
            "cost": cost,
            "sup": supplier_name.strip()[:120],
            "q": count,
        },
    ).one()
    if row.expiry_date != expiry:
        raise ValidationFailed(
            f"Lot {lot} is already on the shelf with expiry {row.expiry_date}; check the pack.", field="expiry_date"
        )
    _record(
        session,
        ctx,
        batch_id=str(row.id),
        medicine_id=medicine_id,
        branch_id=branch_id,
        kind="receive",
        quantity=count,
        reference=reference,
    )
    return str(row.id)


def _is_recalled(session: Session, medicine_id: str, lot: str) -> bool:
    return (
        session.execute(
            text("SELECT 1 FROM lot_recalls WHERE medicine_id = :m AND lot_number = :l"),
            {"m": medicine_id, "l": lot},
        ).first()
        is not None
    )


def recall_lot(session: Session, ctx: TenantContext, medicine_id: str, lot_number: str, reason: str) -> None:
    """Block a lot in every branch at once; it can no longer be sold or moved."""
    require(ctx, "inventory.recall")
    if len(reason.strip()) < 5:
        raise ValidationFailed("Give the recall's reason or notice number.", field="reason")
    session.execute(
        text(
            "INSERT INTO lot_recalls (tenant_id, medicine_id, lot_number, reason) VALUES (:t, :m, :l, :r) "
            "ON CONFLICT DO NOTHING"
        ),
        {"t": ctx.tenant_id, "m": medicine_id, "l": lot_number.strip(), "r": reason.strip()},
    )


# --- dispensing ------------------------------------------------------------------------------


# One round trip per sale: plan FEFO over the usable batches (active, not expired by the branch's local
# date, not recalled), lock the chosen rows in id order (so multi-batch sales cannot deadlock), take
# them with conditional UPDATEs (only if the whole quantity is there) and write the ledger rows.
# A usable lot (batches b joined to its branch br): active, in stock, not expired by the branch's local
# date, not recalled. Stated once, for the sale and for the counter's preview alike.
_USABLE_LOT = f"""b.status = '{BatchStatus.ACTIVE}' AND b.quantity > 0
      AND b.expiry_date >= (now() AT TIME ZONE br.time_zone)::date
      AND NOT EXISTS (SELECT 1 FROM lot_recalls r
                      WHERE r.medicine_id = b.medicine_id AND r.lot_number = b.lot_number)"""  # noqa: S608 - fixed SQL
_BATCHES_WITH_BRANCH = "batches b JOIN branches br ON br.tenant_id = b.tenant_id AND br.id = b.branch_id"

DISPENSE_SQL = text(f"""
WITH usable AS (
    SELECT b.id, b.lot_number, b.expiry_date, b.quantity,
           sum(b.quantity) OVER (ORDER BY b.expiry_date, b.id) AS through
    FROM {_BATCHES_WITH_BRANCH}
    WHERE b.branch_id = :br AND b.medicine_id = :m AND {_USABLE_LOT}
), plan AS (
    SELECT id, lot_number, expiry_date, least(quantity, :n - (through - quantity))::int AS take
    FROM usable WHERE through - quantity < :n
), locked AS (
    SELECT b.id FROM batches b
    WHERE b.id IN (SELECT id FROM plan) AND (SELECT sum(take) FROM plan) >= :n
    ORDER BY b.id FOR UPDATE
), taken AS (
    UPDATE batches b SET quantity = b.quantity - p.take
    FROM plan p JOIN locked l ON l.id = p.id
    WHERE b.id = p.id AND b.quantity >= p.take AND b.status = '{BatchStatus.ACTIVE}'
    RETURNING b.id, b.medicine_id, b.branch_id, p.take, p.lot_number, p.expiry_date
), ledger AS (
    INSERT INTO stock_movements (tenant_id, batch_id, medicine_id, branch_id, kind, quantity, reference, actor_user_id)
    SELECT :t, id, medicine_id, branch_id, 'dispense', -take, :ref, :u FROM taken
)
SELECT 'plan' AS step, id, lot_number, expiry_date, take FROM plan
UNION ALL
SELECT 'taken' AS step, id, lot_number, expiry_date, take FROM taken
""")  # noqa: S608 - fixed SQL


def dispense(
    session: Session,
    ctx: TenantContext,
    *,
    branch_id: str,
    medicine_id: str,
    quantity: object,
    reference: str = "",
) -> list[Pick]:
    """Take stock for a sale inside the caller's transaction, earliest-expiring usable batches first.

    Raises OutOfStock when the usable stock is short (expired, quarantined and recalled lots never
    count), and RaceLost when a concurrent sale got there first (the caller's unit of work runs again).
    """
    return _take(
        lambda params: session.execute(DISPENSE_SQL, params).all(),
        ctx,
        branch_id=branch_id,
        medicine_id=medicine_id,
        quantity=quantity,
        reference=reference,
    )


def _take(
    run: Callable[[dict[str, Any]], Sequence[Any]],
    ctx: TenantContext,
    *,
    branch_id: str,
    medicine_id: str,
    quantity: object,
    reference: str,
) -> list[Pick]:
    """`dispense` over any way of running DISPENSE_SQL (ORM session or bare driver connection)."""
    require(ctx, "inventory.dispense")
    wanted = check.quantity(quantity)
    check.as_uuid(medicine_id, "medicine")
    if not ctx.can_see_branch(check.as_uuid(branch_id, "branch")):
        raise NotFound("No such branch.")
    rows = run(
        {"br": branch_id, "m": medicine_id, "n": wanted, "t": ctx.tenant_id, "ref": reference[:100], "u": ctx.user_id}
    )
    planned = [r for r in rows if r.step == "plan"]
    taken = [r for r in rows if r.step == "taken"]
    available = sum(r.take for r in planned)
    if available < wanted:
        raise OutOfStock(
            f"Only {available} in stock that can be sold (expired and recalled lots excluded); {wanted} asked.",
            field="quantity",
        )
    if len(taken) != len(planned):
        raise RaceLost  # a concurrent sale changed a batch after this plan; nothing is kept of this attempt
    return [
        Pick(str(r.id), r.lot_number, r.expiry_date, r.take) for r in sorted(taken, key=lambda r: (r.expiry_date, r.id))
    ]


# The same statement in the driver's placeholder style, for the lean path.
_DISPENSE_DRIVER_SQL = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", DISPENSE_SQL.text)


def dispense_stock(
    ctx: TenantContext, *, branch_id: str, medicine_id: str, quantity: object, reference: str = ""
) -> list[Pick]:
    """`dispense` in its own transaction, re-planned when a concurrent sale or a deadlock interferes.

    A standalone sale is one statement, so it runs on the bare driver connection: the ORM's
    bookkeeping cost more CPU than the database work (bench/sales.py).
    """

    def run(connection: psycopg.Connection) -> Callable[[dict[str, Any]], Sequence[Any]]:
        return lambda params: (
            connection.cursor(row_factory=namedtuple_row).execute(_DISPENSE_DRIVER_SQL, params).fetchall()
        )

    def attempt() -> list[Pick]:
        with tenant_connection(ctx) as connection:
            return _take(
                run(connection),
                ctx,
                branch_id=branch_id,
                medicine_id=medicine_id,
                quantity=quantity,
                reference=reference,
            )

    return retrying(attempt, STOCK_CHANGED)


# The lots a sale would take now, soonest expiry first, for several medicines at once.
_USABLE_LOTS_SQL = text(f"""
SELECT b.medicine_id, b.lot_number, b.expiry_date, b.quantity
FROM {_BATCHES_WITH_BRANCH}
WHERE b.branch_id = :br AND b.medicine_id = ANY(CAST(:ids AS uuid[])) AND {_USABLE_LOT}
ORDER BY b.medicine_id, b.expiry_date, b.id
""")  # noqa: S608 - fixed SQL


def fefo_preview(
    session: Session, ctx: TenantContext, branch_id: str, wanted: Mapping[str, int]
) -> dict[str, LinePreview]:
    """For each medicine id and quantity, the lots FEFO would take now and the sellable total.

    Only a preview (nothing is locked or taken): `dispense` decides the lots when the sale happens.
    The caller checks the member may sell; this checks the branch is theirs.
    """
    if not ctx.can_see_branch(check.as_uuid(branch_id, "branch")):
        raise NotFound("No such branch.")
    lots: dict[str, list[Any]] = {medicine: [] for medicine in wanted}
    rows = session.execute(_USABLE_LOTS_SQL, {"br": branch_id, "ids": [uuid.UUID(m) for m in wanted]}).all()
    for row in rows:
        lots[str(row.medicine_id)].append(row)
    return {medicine: _preview_line(medicine, lots[medicine], quantity) for medicine, quantity in wanted.items()}


def _preview_line(medicine_id: str, usable: Sequence[Any], quantity: int) -> LinePreview:
    taken, left = [], quantity
    for lot in usable:
        if left <= 0:
            break
        take = min(left, lot.quantity)
        taken.append(LotPreview(lot.lot_number, lot.expiry_date, take))
        left -= take
    return LinePreview(medicine_id, taken, sum(lot.quantity for lot in usable))


# Units back on their lots: a customer's return (billing), or an unclaimed prescription fill (prescriptions).
RETURN_KINDS = frozenset({"customer_return", "rx_return"})


def return_to_lots(
    session: Session,
    ctx: TenantContext,
    *,
    branch_id: uuid.UUID,
    lots: Sequence[tuple[uuid.UUID, int]],
    reason: str,
    reference: str,
    kind: str = "customer_return",
) -> None:
    """Put sold units back on the exact lots they were picked from, each with a `customer_return` movement
    (or `rx_return`: an unclaimed prescription fill that never left the pharmacy, its reference the fill's code).

    Billing calls it for a void (the whole bill) and a credit note (the resaleable units returned), and
    prescriptions for an unclaimed fill returned to stock, having checked the member may do that; the caller
    passes the lots in batch id order so concurrent returns lock batches in the same order. Expired or
    recalled lots take their units back too: they came from there, and a write-off is how they leave.
    """
    if kind not in RETURN_KINDS:
        raise ValueError(f"not a return movement: {kind!r}")
    returned = []
    for batch_id, quantity in lots:
        medicine_id = session.execute(
            text("UPDATE batches SET quantity = quantity + :q WHERE id = :b RETURNING medicine_id"),
            {"q": quantity, "b": batch_id},
        ).scalar_one()
        returned.append((batch_id, medicine_id, quantity))
    if not returned:
        return
    session.execute(
        text(
            "INSERT INTO stock_movements (tenant_id, batch_id, medicine_id, branch_id, kind, quantity, reason, "
            "reference, actor_user_id) VALUES (:t, :b, :m, :br, :kind, :q, :r, :ref, :u)"
        ),
        [
            {
                "kind": kind,
                "t": ctx.tenant_id,
                "b": batch,
                "m": medicine,
                "br": branch_id,
                "q": quantity,
                "r": reason,
                "ref": reference,
                "u": ctx.user_id,
            }
            for batch, medicine, quantity in returned
        ],
    )


# Stock that changes outside a sale, a delivery or a transfer: its movement kind, its direction
# (0: a signed count correction; -1 out of stock; +1 back into stock) and who may record it.
CORRECTIONS = {
    "adjust": (0, "inventory.adjust"),  # a recount or breakage
    "write_off": (-1, "inventory.adjust"),  # expired or damaged stock destroyed
    "supplier_return": (-1, "inventory.receive"),  # sent back: a recall, short-dated or wrong stock
    "customer_return": (1, "inventory.adjust"),  # an unopened pack back on the shelf
}
MIN_CORRECTION_REASON = 3  # stated beside the reason field of the stock forms


def adjust_stock(session: Session, ctx: TenantContext, *, batch_id: str, change: object, reason: str) -> None:
    """Correct a count (breakage, recount): a signed change with a reason; never below zero."""
    correct_stock(session, ctx, batch_id=batch_id, kind="adjust", change=change, reason=reason)


def correct_stock(
    session: Session, ctx: TenantContext, *, batch_id: str, kind: str, change: object, reason: str, reference: str = ""
) -> None:
    """A count correction, write-off, return to supplier or customer return (see CORRECTIONS).

    Expired and recalled lots may leave the shelf this way (that is what a write-off or a return is
    for); on-hand never goes below zero."""
    if kind not in CORRECTIONS:
        raise ValidationFailed("Choose a count correction, write-off, return to supplier or customer return.")
    direction, permission = CORRECTIONS[kind]
    require(ctx, permission)
    check.as_uuid(batch_id, "batch")
    delta = check.quantity(change, "change") * direction if direction else _signed_change(change)
    if len(reason.strip()) < MIN_CORRECTION_REASON:
        raise ValidationFailed(
            f"Say why the stock changes (at least {MIN_CORRECTION_REASON} characters).", field="reason"
        )
    row = session.execute(
        text(
            "UPDATE batches SET quantity = quantity + :d WHERE id = :b AND quantity + :d >= 0 "
            "RETURNING medicine_id, branch_id"
        ),
        {"d": delta, "b": batch_id},
    ).first()
    if row is None:
        raise Conflict("That would take the batch below zero (or there is no such batch).", field="change")
    if not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such batch.")
    _record(
        session,
        ctx,
        batch_id=batch_id,
        medicine_id=str(row.medicine_id),
        branch_id=str(row.branch_id),
        kind=kind,
        quantity=delta,
        reason=reason.strip(),
        reference=reference,
    )


def _signed_change(change: object) -> int:
    try:
        delta = int(str(change).strip())
    except ValueError:
        raise ValidationFailed("The change is a whole number, e.g. -2 or 5.", field="change") from None
    if delta == 0:
        raise ValidationFailed("The change cannot be zero.", field="change")
    return delta


# --- reading stock -----------------------------------------------------------------------------


def medicine_stock(
    session: Session, ctx: TenantContext, medicine_id: str, *, branch_id: str | None = None
) -> tuple[Medicine, list[BatchStock], list[Movement]]:
    """A medicine's batches per branch (soonest expiry first) and its latest movements, in the member's
    branches (or in `branch_id` only)."""
    require(ctx, "inventory.view")
    check.as_uuid(medicine_id, "medicine")
    if branch_id is not None and not ctx.can_see_branch(check.as_uuid(branch_id, "branch")):
        raise NotFound("No such branch.")
    visible = [branch_id] if branch_id is not None else sorted(str(b) for b in ctx.branch_ids) or None
    med = session.execute(text("SELECT * FROM medicines WHERE id = :m"), {"m": medicine_id}).first()
    if med is None:
        raise NotFound("No such medicine.")
    rows = session.execute(
        text(
            "SELECT b.id, br.name AS branch, br.time_zone, b.branch_id, b.lot_number, b.expiry_date, "
            "b.quantity, b.status, EXISTS (SELECT 1 FROM lot_recalls r WHERE r.medicine_id = b.medicine_id "
            "AND r.lot_number = b.lot_number) AS recalled "
            "FROM batches b JOIN branches br ON br.tenant_id = b.tenant_id AND br.id = b.branch_id "
            "WHERE b.medicine_id = :m "
            "AND (CAST(:visible AS uuid[]) IS NULL OR b.branch_id = ANY(CAST(:visible AS uuid[]))) "
            "ORDER BY br.name, b.expiry_date, b.id"
        ),
        {"m": medicine_id, "visible": visible},
    ).all()
    moves = session.execute(
        text(
            "SELECT s.occurred_at, s.kind, s.quantity, b.lot_number, br.name AS branch, s.reason, s.reference "
            "FROM stock_movements s JOIN batches b ON b.tenant_id = s.tenant_id AND b.id = s.batch_id "
            "JOIN branches br ON br.tenant_id = s.tenant_id AND br.id = s.branch_id "
            "WHERE s.medicine_id = :m "
            "AND (CAST(:visible AS uuid[]) IS NULL OR s.branch_id = ANY(CAST(:visible AS uuid[]))) "
            # Latest first by when they happened (the index's order), not by id: bulk-loaded
            # branches are written one after the other, so ids rise with time only within a branch.
            "ORDER BY s.occurred_at DESC, s.id DESC LIMIT 50"
        ),
        {"m": medicine_id, "visible": visible},
    ).all()
    batches = [
        BatchStock(
            str(r.id),
            r.branch,
            r.lot_number,
            r.expiry_date,
            r.quantity,
            r.status,
            r.recalled,
            r.expiry_date < datetime.now(ZoneInfo(r.time_zone)).date(),
            str(r.branch_id),
        )
        for r in rows
    ]
    medicine = _medicine(med, sum(b.quantity for b in batches))
    return (
        medicine,
        batches,
        [Movement(m.occurred_at, m.kind, m.quantity, m.lot_number, m.branch, m.reason, m.reference) for m in moves],
    )


@dataclass(frozen=True)
class LedgerDifference:
    tenant_slug: str
    batch_id: str
    lot_number: str
    on_hand: int
    ledger: int


def reconcile(*, tenant_slug: str | None = None, actor: str = "cli") -> list[LedgerDifference]:
    """Batches whose on-hand differs from the sum of their movements, for one chain or all."""
    with platform_session(reason="inventory reconcile", actor=actor) as session:
        rows = session.execute(
            text(
                "SELECT t.slug, b.id, b.lot_number, b.quantity, coalesce(s.total, 0) AS ledger FROM batches b "
                "JOIN tenants t ON t.id = b.tenant_id "
                "LEFT JOIN (SELECT tenant_id, batch_id, sum(quantity) AS total FROM stock_movements "
                "GROUP BY tenant_id, batch_id) s ON s.tenant_id = b.tenant_id AND s.batch_id = b.id "
                "WHERE (CAST(:slug AS text) IS NULL OR t.slug = :slug) AND b.quantity <> coalesce(s.total, 0) "
                "ORDER BY t.slug, b.id"
            ),
            {"slug": tenant_slug},
        ).all()
    return [LedgerDifference(r.slug, str(r.id), r.lot_number, r.quantity, int(r.ledger)) for r in rows]


def transfer_stock(
    session: Session, ctx: TenantContext, *, batch_id: str, to_branch_id: str, quantity: object, note: str = ""
) -> str:
    """Move part of a batch to another branch: out and in commit together or not at all.

    Returns the destination batch id. Expired, quarantined and recalled lots cannot move.
    """
    require(ctx, "inventory.transfer")
    count = check.quantity(quantity)
    check.as_uuid(batch_id, "batch")
    source = session.execute(
        text(
            "SELECT b.*, EXISTS (SELECT 1 FROM lot_recalls r WHERE r.medicine_id = b.medicine_id "
            "AND r.lot_number = b.lot_number) AS recalled FROM batches b WHERE b.id = :b"
        ),
        {"b": batch_id},
    ).first()
    if source is None or not ctx.can_see_branch(source.branch_id):
        raise NotFound("No such batch.")
    if str(source.branch_id) == str(to_branch_id):
        raise ValidationFailed("Choose another branch to send the stock to.", field="to_branch_id")
    branch_today(session, ctx, to_branch_id)  # the destination exists and is in scope
    # Stock may still leave a deactivated branch (that is how it is emptied), never arrive at one.
    require_active_branch(session, to_branch_id, "takes no transfers in")
    if source.recalled:
        raise ValidationFailed(f"Lot {source.lot_number} is recalled; it cannot be moved.", field="batch_id")
    if source.status != BatchStatus.ACTIVE or source.expiry_date < branch_today(session, ctx, str(source.branch_id)):
        raise ValidationFailed(
            f"Lot {source.lot_number} is expired or quarantined; it cannot be moved.", field="batch_id"
        )
    taken = session.execute(
        text("UPDATE batches SET quantity = quantity - :n WHERE id = :b AND quantity >= :n"),
        {"n": count, "b": batch_id},
    ).rowcount  # type: ignore[attr-defined]
    if taken != 1:
        raise OutOfStock(f"Only {source.quantity} of lot {source.lot_number} at this branch.", field="quantity")
    destination = session.execute(
        text(
            "INSERT INTO batches (tenant_id, id, medicine_id, branch_id, lot_number, expiry_date, cost_price, "
            "supplier_name, quantity) VALUES (:t, :id, :m, :br, :lot, :exp, :cost, :sup, :q) "
            "ON CONFLICT (tenant_id, branch_id, medicine_id, lot_number) "
            "DO UPDATE SET quantity = batches.quantity + EXCLUDED.quantity RETURNING id"
        ),
        {
            "t": ctx.tenant_id,
            "id": uuid.uuid4(),
            "m": source.medicine_id,
            "br": to_branch_id,
            "lot": source.lot_number,
            "exp": source.expiry_date,
            "cost": source.cost_price,
            "sup": source.supplier_name,
            "q": count,
        },
    ).scalar_one()
    reference = f"transfer {uuid.uuid4().hex[:8]}"
    _record(
        session,
        ctx,
        batch_id=batch_id,
        medicine_id=str(source.medicine_id),
        branch_id=str(source.branch_id),
        kind="transfer_out",
        quantity=-count,
        reason=note,
        reference=reference,
    )
    _record(
        session,
        ctx,
        batch_id=str(destination),
        medicine_id=str(source.medicine_id),
        branch_id=to_branch_id,
        kind="transfer_in",
        quantity=count,
        reason=note,
        reference=reference,
    )
    return str(destination)


def possible_duplicates(session: Session, ctx: TenantContext, generic_name: str, strength: str = "") -> list[Medicine]:
    """Catalog entries (active or not) that are the same medicine under another name and the same strength."""
    require(ctx, "inventory.view")
    return _duplicates(session, generic_name, strength)


def _duplicates(session: Session, generic_name: str, strength: str) -> list[Medicine]:
    match = resolve(generic_name)
    names = sorted(match.names()) if match else [generic_name.strip().lower()]
    rows = session.execute(
        text(
            "SELECT id, generic_name, brand_name, strength, dosage_form, barcode, schedule, dispensing_unit, "
            "default_sell_price, is_active FROM medicines WHERE (lower(generic_name) = ANY(CAST(:names AS text[])) "
            "OR lower(brand_name) = ANY(CAST(:names AS text[]))) "
            "AND (:strength = '' OR lower(replace(strength, ' ', '')) = lower(replace(:strength, ' ', ''))) "
            "ORDER BY lower(generic_name), id"
        ),
        {"names": names, "strength": strength.strip()},
    ).all()
    return [_medicine(r) for r in rows]
