"""What every part of the controlled-substance records needs: the branch (in the member's scope), the
scheduled medicines, the on-hand by the ledger, and the dates of the branch's calendar."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import NotFound, ValidationFailed
from backend.core.validation import as_uuid
from tenants.context import TenantContext
from tenants.roles import require


@dataclass(frozen=True)
class Branch:
    id: str
    name: str
    code: str
    address: str
    time_zone: str


def branch(session: Session, ctx: TenantContext, branch_id: str) -> Branch:
    """The branch, if the member may see it (another chain's or branch's is simply not there)."""
    key = as_uuid(branch_id, "branch")
    row = session.execute(
        text("SELECT id, name, code, address, time_zone FROM branches WHERE id = :b"), {"b": key}
    ).first()
    if row is None or not ctx.can_see_branch(key):
        raise NotFound("No such branch.")
    return Branch(str(row.id), row.name, row.code, row.address, row.time_zone)


def scheduled_medicine(session: Session, medicine_id: str) -> Any:
    """A catalog medicine on a controlled schedule (CII to CV), or NotFound."""
    row = session.execute(
        text(
            "SELECT id, generic_name, brand_name, strength, dosage_form, barcode, controlled_class, dispensing_unit, "
            "is_active FROM medicines WHERE id = :m AND schedule = 'controlled'"
        ),
        {"m": as_uuid(medicine_id, "medicine")},
    ).first()
    if row is None:
        raise NotFound("No such controlled medicine.")
    return row


def medicine_name(row: Any) -> str:
    return " ".join(part for part in (row.generic_name, row.strength) if part)


def ledger_on_hand(session: Session, branch_id: str, medicine_ids: list[uuid.UUID] | None = None) -> dict[str, int]:
    """On hand per scheduled medicine at the branch, as the sum of its ledger movements."""
    rows = session.execute(
        text(
            "SELECT s.medicine_id, sum(s.quantity)::int AS total FROM stock_movements s "
            "JOIN medicines m ON m.tenant_id = s.tenant_id AND m.id = s.medicine_id "
            "WHERE s.branch_id = :b AND m.schedule = 'controlled' "
            "AND (CAST(:ids AS uuid[]) IS NULL OR s.medicine_id = ANY(CAST(:ids AS uuid[]))) "
            "GROUP BY s.medicine_id"
        ),
        {"b": as_uuid(branch_id, "branch"), "ids": medicine_ids},
    ).all()
    return {str(r.medicine_id): r.total for r in rows}


def parse_day(value: object, field: str) -> date:
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed("Enter the date as YYYY-MM-DD.", field=field) from None


def day_bounds(start: date, end: date, time_zone: str) -> tuple[datetime, datetime]:
    """From the start of `start` to the start of the day after `end` in the branch's calendar (half open)."""
    zone = ZoneInfo(time_zone)
    return datetime.combine(start, time.min, zone), datetime.combine(end + timedelta(days=1), time.min, zone)


def local_today(time_zone: str) -> date:
    return datetime.now(ZoneInfo(time_zone)).date()


@dataclass(frozen=True)
class ScheduledMedicine:
    id: str
    name: str
    schedule: str


def scheduled_medicines(session: Session, ctx: TenantContext) -> list[ScheduledMedicine]:
    """The catalog's controlled medicines (active or not: the register covers their history), by name."""
    require(ctx, "controlled.view")
    rows = session.execute(
        text(
            "SELECT id, generic_name, strength, controlled_class FROM medicines WHERE schedule = 'controlled' "
            "ORDER BY lower(generic_name), strength, id"
        )
    ).all()
    return [ScheduledMedicine(str(r.id), medicine_name(r), r.controlled_class) for r in rows]
