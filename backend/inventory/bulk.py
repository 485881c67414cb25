"""Stock in bulk (the demo chain): the catalog, lots, recalls, reorder levels and the movement ledger.

`StockBook` applies the rules of backend/inventory/service.py in memory, while a bulk loader replays
months of trading, and then writes inventory's tables with COPY (backend/core/bulk.py) in the
caller's transaction. The rules are the same ones the counter meets:

- A medicine's catalog fields are checked by `catalog_values`, the catalog form's own check.
- `dispense` (`plan`, then `take`) takes FEFO from usable lots only, as DISPENSE_SQL does: active, in
  stock, not expired by the branch's local date, not recalled at the time of the sale; soonest
  expiry first, then lot id. A shelf lists only the lots in stock, so the scan is short.
- Every change of a lot's quantity is one movement, applied at once: a lot never goes below zero at
  any moment, movements of a lot arrive in time order, and a lot's on-hand when written is the sum
  of its movements, so `pharmacy-saas inventory reconcile` has nothing to report.

Only this module and the inventory service write `medicines`, `batches`, `lot_recalls`,
`reorder_levels` and `stock_movements`; other domains ask a `StockBook` (billing's bulk loader takes
its picks from `dispense` and puts voided or refunded units back with `customer_return`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from backend.core.bulk import copy_rows
from backend.inventory.service import MOVEMENT_KINDS, OutOfStock, catalog_values
from backend.inventory.statuses import BatchStatus

MEDICINE_COLUMNS = (
    "tenant_id",
    "id",
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
    "created_at",
)
BATCH_COLUMNS = (
    "tenant_id",
    "id",
    "medicine_id",
    "branch_id",
    "lot_number",
    "expiry_date",
    "cost_price",
    "supplier_name",
    "received_at",
    "quantity",
    "status",
)
MOVEMENT_COLUMNS = (
    "tenant_id",
    "batch_id",
    "medicine_id",
    "branch_id",
    "kind",
    "quantity",
    "reason",
    "reference",
    "actor_user_id",
    "occurred_at",
)


@dataclass
class BulkMedicine:
    """A catalog line, with its fields as `catalog_values` returned them (and the ones a sale reads)."""

    id: str
    values: dict[str, Any]
    created_at: datetime
    schedule: str = field(init=False)
    price: Decimal = field(init=False)
    tax_category: str = field(init=False)

    def __post_init__(self) -> None:
        self.schedule = str(self.values["schedule"])
        self.price = Decimal(self.values["default_sell_price"])
        self.tax_category = str(self.values["tax_category"])


@dataclass
class BulkLot:
    """A batch on a branch's shelf, its quantity as of the last movement applied."""

    id: str
    medicine_id: str
    branch_id: str
    lot_number: str
    expiry_date: date
    cost_price: Decimal
    supplier_name: str
    received_at: datetime
    quantity: int = 0
    last_movement_at: datetime | None = None
    recalled_at: datetime | None = None
    expiry_day: int = field(init=False)  # the expiry as a proleptic ordinal, compared on every sale

    def __post_init__(self) -> None:
        self.expiry_day = self.expiry_date.toordinal()


@dataclass(frozen=True)
class Recall:
    medicine_id: str
    lot_number: str
    reason: str
    recalled_at: datetime


class StockBook:
    """One chain's catalog and stock, changed only through inventory's rules, written at the end."""

    def __init__(self, tenant_id: str, new_id: Callable[[], str]) -> None:
        self.tenant_id = tenant_id
        self._new_id = new_id
        self.medicines: dict[str, BulkMedicine] = {}
        self.lots: dict[str, BulkLot] = {}
        # (branch, medicine) -> the lots in stock in FEFO order (expiry, id); ids rise with creation.
        self._shelves: dict[tuple[str, str], list[BulkLot]] = {}
        self._lot_numbers: set[tuple[str, str, str]] = set()
        self._branch_lots: dict[str, list[BulkLot]] = {}
        self.recalls: list[Recall] = []
        self.reorder_levels: dict[tuple[str, str], tuple[int, int]] = {}
        self.movements: dict[str, list[tuple[Any, ...]]] = {}  # by branch, in the order they happened

    # --- catalog ----------------------------------------------------------------------------------

    def add_medicine(self, raw: dict[str, Any], *, created_at: datetime) -> BulkMedicine:
        """A catalog line checked as the catalog form checks it (ValidationFailed on a bad field)."""
        values = catalog_values(raw)
        taken = {m.values["barcode"] for m in self.medicines.values()}
        if values["barcode"] is not None and values["barcode"] in taken:
            raise ValueError(f"barcode {values['barcode']} is used twice in the catalog")
        medicine = BulkMedicine(self._new_id(), values, created_at)
        self.medicines[medicine.id] = medicine
        return medicine

    # --- lots and movements -----------------------------------------------------------------------

    def _move(
        self, lot: BulkLot, kind: str, quantity: int, at: datetime, actor: str | None, reason: str, ref: str
    ) -> None:
        if quantity == 0:
            raise ValueError("a movement moves something")
        if lot.last_movement_at is not None and at < lot.last_movement_at:
            raise ValueError(f"movements of lot {lot.lot_number} must arrive in time order")
        if lot.quantity + quantity < 0:
            raise OutOfStock(f"Lot {lot.lot_number} has {lot.quantity}; {-quantity} asked.")
        was = lot.quantity
        lot.quantity += quantity
        lot.last_movement_at = at
        # A shelf lists the lots in stock only, so FEFO never walks past empty lots.
        if was == 0:
            shelf = self._shelves.setdefault((lot.branch_id, lot.medicine_id), [])
            bisect.insort(shelf, lot, key=lambda item: (item.expiry_day, item.id))
        elif lot.quantity == 0:
            self._shelves[(lot.branch_id, lot.medicine_id)].remove(lot)
        self.movements.setdefault(lot.branch_id, []).append(
            (lot.id, lot.medicine_id, lot.branch_id, kind, quantity, reason[:300], ref[:100], actor, at)
        )

    def receive(
        self,
        *,
        branch_id: str,
        medicine_id: str,
        lot_number: str,
        expiry_date: date,
        quantity: int,
        cost_price: Decimal,
        supplier_name: str,
        at: datetime,
        actor: str | None,
        reference: str = "",
    ) -> BulkLot:
        """A delivery into a new lot (a lot number arrives once per branch and medicine here)."""
        if quantity <= 0:
            raise ValueError("a delivery has units")
        lot = BulkLot(
            self._new_id(), medicine_id, branch_id, lot_number, expiry_date, cost_price, supplier_name[:120], at
        )
        for recall in self.recalls:
            if recall.medicine_id == medicine_id and recall.lot_number == lot_number:
                if recall.recalled_at <= at:
                    raise ValueError(f"lot {lot_number} is recalled; it cannot be received")
                lot.recalled_at = recall.recalled_at
        if (branch_id, medicine_id, lot_number) in self._lot_numbers:
            raise ValueError(f"lot {lot_number} is already on this shelf")
        self._lot_numbers.add((branch_id, medicine_id, lot_number))
        self.lots[lot.id] = lot
        self._branch_lots.setdefault(branch_id, []).append(lot)
        self._move(lot, "receive", quantity, at, actor, "", reference)
        return lot

    def shelf(self, branch_id: str, medicine_id: str) -> list[BulkLot]:
        """The lots of a medicine in stock in a branch, in FEFO order (read-only use)."""
        return self._shelves.get((branch_id, medicine_id)) or []

    def sellable(self, branch_id: str, medicine_id: str, local_day: int, at: datetime) -> int:
        total = 0
        for lot in self._shelves.get((branch_id, medicine_id)) or ():
            if lot.expiry_day >= local_day and (lot.recalled_at is None or lot.recalled_at > at):
                total += lot.quantity
        return total

    def plan(
        self, branch_id: str, medicine_id: str, quantity: int, *, local_day: int, at: datetime
    ) -> list[tuple[BulkLot, int]]:
        """What FEFO would take for `quantity` now, changing nothing; OutOfStock when usable lots are short."""
        picks, left = [], quantity
        for lot in self._shelves.get((branch_id, medicine_id)) or ():
            if lot.expiry_day >= local_day and (lot.recalled_at is None or lot.recalled_at > at):
                take = lot.quantity if lot.quantity < left else left
                picks.append((lot, take))
                left -= take
                if not left:
                    return picks
        raise OutOfStock(
            f"Only {quantity - left} in stock that can be sold (expired and recalled lots excluded); {quantity} asked."
        )

    def take(self, picks: list[tuple[BulkLot, int]], *, at: datetime, actor: str | None, reference: str) -> None:
        """Dispense a plan from `plan` (made at the same moment, nothing moved since)."""
        for lot, quantity in picks:
            self._move(lot, "dispense", -quantity, at, actor, "", reference)

    def dispense(
        self,
        *,
        branch_id: str,
        medicine_id: str,
        quantity: int,
        local_day: int,
        at: datetime,
        actor: str | None,
        reference: str,
    ) -> list[tuple[BulkLot, int]]:
        """Take `quantity` FEFO from usable lots (see the module docstring); OutOfStock when short."""
        picks = self.plan(branch_id, medicine_id, quantity, local_day=local_day, at=at)
        self.take(picks, at=at, actor=actor, reference=reference)
        return picks

    def customer_return(
        self, lot_id: str, quantity: int, *, at: datetime, actor: str | None, reason: str, reference: str
    ) -> None:
        """Units back on the lot they were sold from (a void, or a credit note's resaleable units)."""
        self._move(self.lots[lot_id], "customer_return", quantity, at, actor, reason, reference)

    def write_off(self, lot_id: str, quantity: int, *, at: datetime, actor: str | None, reason: str) -> None:
        """Expired or damaged units destroyed (`correct_stock(kind="write_off")`)."""
        self._move(self.lots[lot_id], "write_off", -quantity, at, actor, reason, "")

    def adjust(self, lot_id: str, change: int, *, at: datetime, actor: str | None, reason: str) -> None:
        """A count correction (`correct_stock(kind="adjust")`)."""
        self._move(self.lots[lot_id], "adjust", change, at, actor, reason, "")

    def recall(self, medicine_id: str, lot_number: str, *, reason: str, at: datetime) -> None:
        """Block a lot in every branch from `at` on (`recall_lot`); lots received before `at` are
        blocked from then on, and the lot cannot be received after it."""
        if len(reason.strip()) < 5:
            raise ValueError("a recall gives its reason or notice number")
        self.recalls.append(Recall(medicine_id, lot_number, reason.strip(), at))
        for lot in self.lots.values():
            if lot.medicine_id == medicine_id and lot.lot_number == lot_number:
                lot.recalled_at = at

    def set_reorder_level(self, branch_id: str, medicine_id: str, *, reorder_point: int, reorder_quantity: int) -> None:
        """A manual reorder point and quantity (`set_reorder_level`'s checks)."""
        if reorder_point < 0 or reorder_quantity <= 0:
            raise ValueError("the reorder point is 0 or more and the reorder quantity more than 0")
        self.reorder_levels[(branch_id, medicine_id)] = (reorder_point, reorder_quantity)

    # --- writing ----------------------------------------------------------------------------------
    #
    # A loader may write one branch's lots and ledger while it still replays another's (they never
    # share a lot), so both are written per branch, after the catalog.

    def write_catalog(self, session: Session) -> dict[str, int]:
        """The medicines and the recalls (a recall names a medicine and a lot number, not a batch)."""
        t = self.tenant_id
        return {
            "medicines": copy_rows(
                session,
                "medicines",
                MEDICINE_COLUMNS,
                (
                    (t, m.id, *(m.values[name] for name in MEDICINE_COLUMNS[2:-1]), m.created_at)
                    for m in self.medicines.values()
                ),
            ),
            "lot_recalls": copy_rows(
                session,
                "lot_recalls",
                ("tenant_id", "medicine_id", "lot_number", "reason", "recalled_at"),
                ((t, r.medicine_id, r.lot_number, r.reason, r.recalled_at) for r in self.recalls),
            ),
        }

    def write_lots(self, session: Session, branch_id: str) -> int:
        """A branch's lots with their on-hand now (before any bill picks from them)."""
        t = self.tenant_id
        return copy_rows(
            session,
            "batches",
            BATCH_COLUMNS,
            (
                (
                    t,
                    lot.id,
                    lot.medicine_id,
                    lot.branch_id,
                    lot.lot_number,
                    lot.expiry_date,
                    lot.cost_price,
                    lot.supplier_name,
                    lot.received_at,
                    lot.quantity,
                    BatchStatus.ACTIVE,
                )
                for lot in self._branch_lots.get(branch_id, [])
            ),
        )

    def write_reorder_levels(self, session: Session) -> int:
        t = self.tenant_id
        return copy_rows(
            session,
            "reorder_levels",
            ("tenant_id", "branch_id", "medicine_id", "reorder_point", "reorder_quantity"),
            (
                (t, branch, medicine, point, quantity)
                for (branch, medicine), (point, quantity) in self.reorder_levels.items()
            ),
        )

    def write_movements(self, session: Session, branch_id: str) -> int:
        """A branch's ledger in time order (its identity ids then rise with time within the branch)."""
        self.check_ledger(branch_id)
        return copy_rows(session, "stock_movements", MOVEMENT_COLUMNS, self._ledger_rows(branch_id))

    def _ledger_rows(self, branch_id: str) -> Iterator[tuple[Any, ...]]:
        t = self.tenant_id
        for batch, medicine, branch, kind, quantity, reason, reference, actor, at in sorted(
            self.movements.get(branch_id, []), key=lambda row: row[8]
        ):
            yield (t, batch, medicine, branch, kind, quantity, reason, reference, actor, at)

    def check_ledger(self, branch_id: str) -> None:
        """Every lot of the branch has an on-hand that is the sum of its movements, of known kinds."""
        totals: dict[str, int] = {}
        for batch, _medicine, _branch, kind, quantity, *_ in self.movements.get(branch_id, []):
            if kind not in MOVEMENT_KINDS:
                raise ValueError(f"unknown movement kind {kind!r}")
            totals[batch] = totals.get(batch, 0) + quantity
        for lot in self._branch_lots.get(branch_id, []):
            if totals.get(lot.id, 0) != lot.quantity or lot.quantity < 0:
                raise ValueError(f"lot {lot.lot_number}: on-hand {lot.quantity} is not its ledger")
