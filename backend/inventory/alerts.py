"""Stock alerts: low stock, lots expiring within the chain's windows, expired or recalled stock still
on the shelf, and the value of stock at risk. The notifications issue will deliver these by e-mail
and SMS through this same service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session

from backend.inventory.reorder import EFFECTIVE_POINT, alert_detail, in_force
from tenants.context import TenantContext
from tenants.roles import require


@dataclass(frozen=True)
class AlertLine:
    branch: str
    medicine: str
    lot: str
    quantity: int
    expiry: date | None
    value: Decimal
    detail: str
    days_left: int | None = None  # for expiring lots, by the branch's local date


@dataclass(frozen=True)
class StockAlerts:
    windows: list[int]
    low_stock: list[AlertLine] = field(default_factory=list)
    expiring: list[AlertLine] = field(default_factory=list)  # within the widest window, soonest first
    expired_on_shelf: list[AlertLine] = field(default_factory=list)
    recalled_in_stock: list[AlertLine] = field(default_factory=list)

    @property
    def value_at_risk(self) -> Decimal:
        """Cost of stock that cannot be sold (expired, recalled) or may not be sold in time."""
        return sum((a.value for a in (*self.expiring, *self.expired_on_shelf, *self.recalled_in_stock)), Decimal("0"))

    def expiring_within(self, days: int) -> int:
        return sum(1 for a in self.expiring if a.days_left is not None and a.days_left <= days)


LOTS_SQL = """
    SELECT br.id AS branch_id, br.name AS branch, br.time_zone,
           m.generic_name || ' ' || m.strength AS medicine, b.lot_number, b.quantity, b.expiry_date,
           b.cost_price * b.quantity AS value,
           EXISTS (SELECT 1 FROM lot_recalls r
                   WHERE r.medicine_id = b.medicine_id AND r.lot_number = b.lot_number) AS recalled
    FROM batches b
    JOIN branches br ON br.tenant_id = b.tenant_id AND br.id = b.branch_id
    JOIN medicines m ON m.tenant_id = b.tenant_id AND m.id = b.medicine_id
    WHERE b.quantity > 0
      -- only lots that can alert: recalled, or expiring within reach (Python judges each by its branch's date;
      -- :reach is the widest window plus a day, as a branch's date may run ahead of the server's)
      AND (b.expiry_date <= current_date + CAST(:reach AS integer)
           OR EXISTS (SELECT 1 FROM lot_recalls r WHERE r.medicine_id = b.medicine_id AND r.lot_number = b.lot_number))
    ORDER BY b.expiry_date, br.name
"""


# Lines at or below the level in force (manual, or the forecast's for automatic levels) at active
# branches: a deactivated branch orders nothing, so its lines would only be noise.
LOW_STOCK_SQL = f"""
    SELECT br.id AS branch_id, br.name AS branch, m.generic_name || ' ' || m.strength AS medicine,
           r.mode, r.reorder_point, r.reorder_quantity, r.forecast_point, r.forecast_quantity,
           coalesce(sum(b.quantity), 0)::int AS on_hand
    FROM reorder_levels r JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id
    JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id
    LEFT JOIN batches b ON b.tenant_id = r.tenant_id AND b.branch_id = r.branch_id AND b.medicine_id = r.medicine_id
    WHERE br.is_active AND {EFFECTIVE_POINT} IS NOT NULL
    GROUP BY br.id, br.name, m.generic_name, m.strength, r.mode, r.reorder_point, r.reorder_quantity,
             r.forecast_point, r.forecast_quantity
    HAVING coalesce(sum(b.quantity), 0) <= {EFFECTIVE_POINT}
    ORDER BY br.name, m.generic_name
"""  # noqa: S608 - EFFECTIVE_POINT is our own SQL text, not input


def stock_alerts(session: Session, ctx: TenantContext) -> StockAlerts:
    """Every alert in the branches this member may see, each judged by its branch's local date."""
    require(ctx, "inventory.view")
    windows = sorted(session.execute(text("SELECT expiry_alert_days FROM tenants")).scalar_one() or [30, 60, 90])
    lots = session.execute(text(LOTS_SQL), {"reach": max(windows) + 1}).all()
    low = session.execute(text(LOW_STOCK_SQL)).all()
    alerts = StockAlerts(windows=windows)
    horizon = max(windows)
    for lot in lots:
        if not ctx.can_see_branch(uuid.UUID(str(lot.branch_id))):
            continue
        today = datetime.now(ZoneInfo(lot.time_zone)).date()
        days_left = (lot.expiry_date - today).days
        line = AlertLine(
            lot.branch, lot.medicine.strip(), lot.lot_number, lot.quantity, lot.expiry_date, Decimal(lot.value), ""
        )
        if lot.recalled:
            alerts.recalled_in_stock.append(line)
        elif days_left < 0:
            alerts.expired_on_shelf.append(line)
        elif days_left <= horizon:
            alerts.expiring.append(
                AlertLine(**{**line.__dict__, "detail": f"{days_left} days left", "days_left": days_left})
            )
    for row in low:
        if ctx.can_see_branch(uuid.UUID(str(row.branch_id))):
            point, quantity, source, _ = in_force(
                row.mode, row.reorder_point, row.reorder_quantity, row.forecast_point, row.forecast_quantity
            )
            if point is None or quantity is None:  # the query keeps only lines with a level in force
                continue
            alerts.low_stock.append(
                AlertLine(
                    row.branch,
                    row.medicine.strip(),
                    "",
                    row.on_hand,
                    None,
                    Decimal("0"),
                    alert_detail(point, quantity, source),
                )
            )
    return alerts
