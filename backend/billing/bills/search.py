"""Finding a bill: the bills of a branch (or of every branch the member may see), filtered, sorted and
paged on the server.

- Filters: bill number (a prefix; a whole number is exact), the branch's local business days (local
  midnights turned into UTC instants with zoneinfo, as in the reports), a patient (by id, or by a
  name / phone / date-of-birth search), the amount due (at least, at most, or exactly) and statuses.
  A bill's day is the day it was finalized; a draft's is the day it was opened (it has no other).
- Paging is keyset ("after this row"), never OFFSET: page 2,000 costs what page 1 costs, and a sale
  finalized while someone pages does not shift rows between pages. The cursor is opaque to callers.
- Branch scope: a member limited to some branches lists only those; asking for another branch (or
  another chain's) is "No such branch." Row-level security keeps other chains' bills out whatever
  the SQL says.
- A patient's purchases are part of their record: filtering by patient needs `patients.view` and is
  written to the patient access log by backend.patients (a 'viewed' row for an id, 'searched' for a
  name). Patient names appear in rows only for roles that may look patients up.

Speed: the list query starts from the index of migration 0025 on
`(tenant_id, branch_id, coalesce(finalized_at, created_at), id)` and stops after one page. Under
row-level security Postgres uses a condition as an index bound only when its operators are
leakproof: timestamps, uuids and text are, numeric is not. So date, number and keyset bounds reach
the index, and amounts are a filter over the rows those bounds select (see docs/architecture.md).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.reports.service import day_bounds
from backend.billing.statuses import BillStatus
from backend.core import validation as check
from backend.core.errors import NotFound, ValidationFailed
from backend.core.money import minor_unit
from backend.patients.service import identities, patient_for_history, patients_matching
from tenants.context import TenantContext
from tenants.roles import require, role_has

# Every status a bill can have, in the order a bill lives them, and how people say them.
STATUS_WORDS = {
    BillStatus.DRAFT: "Draft",
    BillStatus.FINALIZED: "Unpaid",
    BillStatus.PARTIALLY_PAID: "Partially paid",
    BillStatus.PAID: "Paid",
    BillStatus.VOIDED: "Voided",
    BillStatus.PARTIALLY_REFUNDED: "Partially refunded",
    BillStatus.REFUNDED: "Refunded",
}
STATUS_ALIASES = {"unpaid": BillStatus.FINALIZED}
# name -> (ORDER BY key, descending?)
SORTS = {
    "newest": ("date", True),
    "oldest": ("date", False),
    "highest": ("amount", True),
    "lowest": ("amount", False),
}
DEFAULT_SORT = "newest"
PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
COUNT_CAP = 10_000  # counting stops here: "10,000+" is as useful as an exact figure and costs a bounded read
MAX_MATCHING_PATIENTS = 200
_EARLIEST_DAY, _FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(2000, 1, 1), date(9998, 12, 31)
_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")

# The two keys a page can be ordered by. The date is a CASE, not coalesce(): under row-level security
# Postgres treats coalesce as possibly leaky and will not bound an index scan with it, while CASE and
# IS NULL are known safe. Written exactly as in the index of migration 0025, or the planner would not
# match them.
_ISSUED_AT = "CASE WHEN b.finalized_at IS NULL THEN b.created_at ELSE b.finalized_at END"
_KEYS = {"date": _ISSUED_AT, "amount": "b.total_due"}


@dataclass(frozen=True)
class BillListItem:
    id: str
    number: str | None  # None for a draft
    status: BillStatus
    status_label: str
    branch_id: str
    branch_code: str
    branch_name: str
    time_zone: str  # the branch's: times are shown in it
    issued_at: datetime  # finalized (a draft: opened), UTC
    finalized_at: datetime | None
    currency: str
    total_due: Decimal  # in the currency's minor unit
    amount_paid: Decimal
    outstanding: Decimal
    customer_name: str
    patient_id: str | None
    patient_name: str | None  # None for a walk-in, or when the role may not look patients up


@dataclass(frozen=True)
class BillsPage:
    items: list[BillListItem]
    next_cursor: str | None  # None on the last page
    total: int | None  # bills matching the filters, up to COUNT_CAP; on the first page only (None after)
    total_capped: bool  # True when there are at least COUNT_CAP (then `total` is COUNT_CAP)
    sort: str
    patient_name: str | None  # the patient filtered by id, to title the list


@dataclass(frozen=True)
class BillFilters:
    """The filters as checked: what the SQL is built from."""

    branch_id: uuid.UUID | None = None
    number: str = ""
    start: date | None = None
    end: date | None = None
    patient_id: uuid.UUID | None = None
    patient_name: str = ""
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    statuses: tuple[str, ...] = ()
    sort: str = DEFAULT_SORT


# --- checking input -------------------------------------------------------------------------------


def _text(value: object) -> str:
    return " ".join(str(value or "").replace("\x00", "").split())


def _day(value: object, field: str) -> date | None:
    if isinstance(value, date):
        return value
    typed = _text(value)
    if not typed:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", typed):
            raise ValueError
        day = date.fromisoformat(typed)
    except ValueError:
        raise ValidationFailed("Enter the date as YYYY-MM-DD.", field=field) from None
    if not _EARLIEST_DAY <= day <= _LAST_DAY:
        # Far-off years are no bill's, and near the ends of the calendar UTC instants overflow.
        raise ValidationFailed(f"Enter a date between {_EARLIEST_DAY} and {_LAST_DAY}.", field=field)
    return day


def _amount(value: object, field: str) -> Decimal | None:
    if isinstance(value, Decimal):
        value = str(value)
    typed = _text(value)
    if not typed:
        return None
    return check.money(typed, field)


def _statuses(value: object) -> tuple[str, ...]:
    """Statuses from a list or a comma-separated string; "unpaid" is the finalized status's everyday name."""
    parts: Iterable[object] = (
        value if isinstance(value, list | tuple | set | frozenset) else str(value or "").split(",")
    )
    found: list[str] = []
    for part in parts:
        name = _text(part).lower().replace(" ", "_")
        if not name:
            continue
        name = STATUS_ALIASES.get(name, name)
        if name not in STATUS_WORDS:
            raise ValidationFailed(
                f"Unknown status {_text(part)!r}: use draft, unpaid, partially_paid, paid, voided, "
                "partially_refunded or refunded.",
                field="status",
            )
        if name not in found:
            found.append(name)
    return tuple(found)


def _key(value: object, what: str) -> uuid.UUID | None:
    typed = _text(value)
    if not typed:
        return None
    try:
        return uuid.UUID(typed)
    except ValueError:
        raise NotFound(f"No such {what}.") from None


def bill_filters(
    *,
    branch_id: object = None,
    number: object = None,
    start: object = None,
    end: object = None,
    patient_id: object = None,
    patient_name: object = None,
    amount: object = None,
    min_amount: object = None,
    max_amount: object = None,
    status: object = None,
    sort: object = None,
) -> BillFilters:
    """Check every filter as typed (strings from a form or a query string, or typed values) before any
    query runs: bad input raises ValidationFailed naming the field and nothing is read."""
    typed_number = _text(number).upper().replace(" ", "")
    if typed_number and not _NUMBER.match(typed_number):
        raise ValidationFailed(
            "A bill number has letters, digits and hyphens, e.g. B1-2026-000123 (or its beginning, B1-2026).",
            field="number",
        )
    start_day, end_day = _day(start, "start"), _day(end, "end")
    if start_day and end_day and end_day < start_day:
        raise ValidationFailed("The end date is before the start date.", field="end")
    exact = _amount(amount, "amount")
    low, high = _amount(min_amount, "min_amount"), _amount(max_amount, "max_amount")
    if exact is not None:
        if low is not None or high is not None:
            raise ValidationFailed("Give an exact amount or a range, not both.", field="amount")
        low = high = exact
    if low is not None and high is not None and high < low:
        raise ValidationFailed("The largest amount is below the smallest.", field="max_amount")
    sort_name = _text(sort).lower() or DEFAULT_SORT
    if sort_name not in SORTS:
        raise ValidationFailed(f"Sort by {', '.join(SORTS)}.", field="sort")
    patient_key = _key(patient_id, "patient")
    name = _text(patient_name)
    if patient_key and name:
        raise ValidationFailed("Filter by one patient or by a patient search, not both.", field="patient_name")
    return BillFilters(
        branch_id=_key(branch_id, "branch"),
        number=typed_number,
        start=start_day,
        end=end_day,
        patient_id=patient_key,
        patient_name=name,
        min_amount=low,
        max_amount=high,
        statuses=_statuses(status),
        sort=sort_name,
    )


# --- the cursor -----------------------------------------------------------------------------------


def _cursor(sort: str, key: Any, bill_id: uuid.UUID) -> str:
    value = key.astimezone(UTC).isoformat() if isinstance(key, datetime) else str(key)
    raw = json.dumps([sort, value, str(bill_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: object, sort: str) -> tuple[Any, uuid.UUID] | None:
    """The last row of the previous page, from its cursor; a cursor of another sort order is refused."""
    typed = str(cursor or "").strip()
    if not typed:
        return None
    stale = ValidationFailed("This page link is out of date; start again from the first page.", field="after")
    try:
        raw = base64.urlsafe_b64decode(typed + "=" * (-len(typed) % 4))
        cursor_sort, value, bill_id = json.loads(raw)
        if cursor_sort != sort:
            raise stale
        key: Any = datetime.fromisoformat(value) if SORTS[sort][0] == "date" else Decimal(value)
        if isinstance(key, datetime) and key.tzinfo is None:
            raise ValueError
        return key, uuid.UUID(bill_id)
    except (ValueError, TypeError, KeyError, binascii.Error, ArithmeticError):
        raise stale from None


def _limit(value: object) -> int:
    if value in (None, ""):
        return PAGE_SIZE
    try:
        limit = int(str(value).strip())
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationFailed(f"A page has 1 to {MAX_PAGE_SIZE} bills.", field="limit")
    return limit


# --- the query ------------------------------------------------------------------------------------


def _branches(session: Session, ctx: TenantContext, branch_id: uuid.UUID | None) -> list[tuple[uuid.UUID, str]]:
    """The branches to list (id, time zone): the one asked for, or every branch the member may see."""
    rows = session.execute(text("SELECT id, time_zone FROM branches ORDER BY id")).all()
    visible = [(r.id, r.time_zone) for r in rows if ctx.can_see_branch(r.id)]
    if branch_id is None:
        return visible
    chosen = [b for b in visible if b[0] == branch_id]
    if not chosen:
        raise NotFound("No such branch.")
    return chosen


def _number_range(prefix: str) -> tuple[str, str]:
    """[prefix, the next prefix): a prefix search as a range, which an index can serve under RLS
    (LIKE cannot: its operator is not leakproof). Compared in the "C" collation, byte by byte, so the
    range holds whatever the database's own collation is; numbers are ASCII letters, digits, hyphens."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _where(
    session: Session, ctx: TenantContext, filters: BillFilters, branches: list[tuple[uuid.UUID, str]]
) -> tuple[list[str], dict[str, Any]]:
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if len(branches) == 1:
        # Plain equality, not ANY(...): with an array Postgres 16 will not read the index in order.
        conditions.append("b.branch_id = :branch")
        params["branch"] = branches[0][0]
    elif filters.branch_id is not None or ctx.branch_ids:
        # (With no limits and no branch asked for, every branch of the chain: RLS alone scopes it.)
        conditions.append("b.branch_id = ANY(CAST(:branches AS uuid[]))")
        params["branches"] = [b[0] for b in branches]
    if filters.number:
        conditions.append('b.number COLLATE "C" >= :number_from AND b.number COLLATE "C" < :number_to')
        params["number_from"], params["number_to"] = _number_range(filters.number)
    if filters.start or filters.end:
        conditions += _day_conditions(filters, branches, params)
    if filters.patient_id is not None:
        conditions.append("b.patient_id = :patient")
        params["patient"] = filters.patient_id
    elif filters.patient_name:
        conditions.append("b.patient_id = ANY(CAST(:patients AS uuid[]))")
        params["patients"] = patients_matching(session, ctx, filters.patient_name, limit=MAX_MATCHING_PATIENTS)
    if filters.min_amount is not None:
        conditions.append("b.total_due >= :min_amount")
        params["min_amount"] = filters.min_amount
    if filters.max_amount is not None:
        conditions.append("b.total_due <= :max_amount")
        params["max_amount"] = filters.max_amount
    if filters.statuses:
        conditions.append("b.status = ANY(CAST(:statuses AS text[]))")
        params["statuses"] = list(filters.statuses)
    return conditions, params


def _day_conditions(filters: BillFilters, branches: list[tuple[uuid.UUID, str]], params: dict[str, Any]) -> list[str]:
    """Local days of each branch as UTC bounds (zoneinfo): one pair per time zone among the branches.

    The widest bounds go first, as plain conditions the index serves; with branches in several zones,
    a CASE on the branch's zone then keeps each bill to its own branch's days.
    """
    zones = sorted({zone for _, zone in branches}) or ["UTC"]
    # An open end is bounded by a day no bill can reach, so every zone has a pair to compare.
    bounds = {zone: day_bounds(filters.start or _FIRST_DAY, filters.end or _LAST_DAY, zone) for zone in zones}
    key = _KEYS["date"]
    conditions = []
    if filters.start:
        params["since"] = min(start for start, _ in bounds.values())
        conditions.append(f"{key} >= :since")
    if filters.end:
        params["until"] = max(end for _, end in bounds.values())
        conditions.append(f"{key} < :until")
    if len(zones) > 1:
        cases = []
        for index, zone in enumerate(zones):
            params[f"zone_{index}"] = zone
            params[f"since_{index}"], params[f"until_{index}"] = bounds[zone]
            cases.append(f"WHEN :zone_{index} THEN {key} >= :since_{index} AND {key} < :until_{index}")
        conditions.append(f"CASE br.time_zone {' '.join(cases)} ELSE false END")
    return conditions


_FROM = "FROM bills b JOIN branches br ON br.tenant_id = b.tenant_id AND br.id = b.branch_id"
_SELECT = (
    "SELECT b.id, b.number, b.status, b.branch_id, br.code AS branch_code, br.name AS branch_name, "
    "br.time_zone, {date} AS issued_at, b.finalized_at, b.currency, b.total_due, b.amount_paid, "
    "b.customer_name, b.patient_id, {key} AS sort_key " + _FROM
)


def search_bills(
    session: Session,
    ctx: TenantContext,
    *,
    after: object = None,
    limit: object = None,
    **typed: object,
) -> BillsPage:
    """One page of the bills matching the filters (see `bill_filters` for their names), in the
    member's branch scope, with a cursor for the next page (`after`). Permission `billing.view`;
    a patient filter also needs `patients.view` and is written to the patient access log."""
    require(ctx, "billing.view")
    filters = bill_filters(**typed)
    if (filters.patient_id or filters.patient_name) and not role_has(ctx.role, "patients.view"):
        # A patient's purchases are their record: not for a role that only looks patients up at the till.
        require(ctx, "patients.view")
    page_size = _limit(limit)
    last = _after(after, filters.sort)
    key_name, descending = SORTS[filters.sort]
    key = _KEYS[key_name]
    branches = _branches(session, ctx, filters.branch_id)
    patient_name = None
    if filters.patient_id is not None:
        patient_name = patient_for_history(session, ctx, filters.patient_id).full_name
    conditions, params = _where(session, ctx, filters, branches)
    page_conditions = list(conditions)
    if last is not None:
        # The row comparison is what lets the index start right after the previous page.
        page_conditions.append(f"({key}, b.id) {'<' if descending else '>'} (:after_key, :after_id)")
        params["after_key"], params["after_id"] = last
    direction = "DESC" if descending else "ASC"
    select = _SELECT.format(date=_KEYS["date"], key=key)
    rows = session.execute(
        text(
            f"{select} WHERE {' AND '.join(page_conditions) or 'true'} "  # noqa: S608 - fixed SQL
            f"ORDER BY {key} {direction}, b.id {direction} LIMIT :limit"
        ),
        {**params, "limit": page_size + 1},
    ).all()
    more = len(rows) > page_size
    total: int | None = None
    if last is None:
        # Counted with the first page only (the caller keeps it while paging), and not at all when
        # the first page is the only one.
        where = " AND ".join(conditions) or "true"
        total = len(rows) if not more else _count(session, where, params)
    names = _patient_names(session, ctx, [r.patient_id for r in rows[:page_size] if r.patient_id])
    items = [_item(r, names) for r in rows[:page_size]]
    last_row = rows[page_size - 1] if more else None
    return BillsPage(
        items=items,
        next_cursor=_cursor(filters.sort, last_row.sort_key, last_row.id) if last_row is not None else None,
        total=total,
        total_capped=total is not None and total >= COUNT_CAP,
        sort=filters.sort,
        patient_name=patient_name,
    )


def _count(session: Session, where: str, params: dict[str, Any]) -> int:
    """How many bills match, counting no further than COUNT_CAP."""
    return int(
        session.execute(
            text(f"SELECT count(*) FROM (SELECT 1 {_FROM} WHERE {where} LIMIT :cap) matching"),  # noqa: S608
            {**params, "cap": COUNT_CAP},
        ).scalar_one()
    )


def _patient_names(session: Session, ctx: TenantContext, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Names of the page's patients, for roles that may look patients up (a bill in a branch the member
    sees puts its patient in the member's scope, so no further check is needed)."""
    if not ids or not role_has(ctx.role, "patients.lookup"):
        return {}
    return {key: who.full_name for key, who in identities(session, ctx, ids).items()}


def _item(row: Any, names: dict[uuid.UUID, str]) -> BillListItem:
    cash = minor_unit(row.currency)
    owed = Decimal(0) if row.status == BillStatus.VOIDED else row.total_due - row.amount_paid  # as the bill page says
    return BillListItem(
        id=str(row.id),
        number=row.number,
        status=BillStatus(row.status),
        status_label=STATUS_WORDS[row.status],
        branch_id=str(row.branch_id),
        branch_code=row.branch_code,
        branch_name=row.branch_name,
        time_zone=row.time_zone,
        issued_at=row.issued_at,
        finalized_at=row.finalized_at,
        currency=row.currency,
        total_due=row.total_due.quantize(cash),
        amount_paid=row.amount_paid.quantize(cash),
        outstanding=max(owed, Decimal(0)).quantize(cash),
        customer_name=row.customer_name,
        patient_id=str(row.patient_id) if row.patient_id else None,
        patient_name=names.get(row.patient_id) if row.patient_id else None,
    )
