"""Branches: the owner adds, edits, deactivates and reactivates the chain's pharmacies.

A branch carries what every sale there depends on: its time zone (a business day, an expiry date and a
bill number's year are the branch's local ones) and its tax settings (rates and whether shelf prices
include tax, applied when a bill is finalized). It also carries the address, phone and opening hours
a customer sees.

A branch is never deleted: bills, lots and the ledger point at it. Deactivating it keeps all of that
and stops new work there (sales, deliveries, transfers in, purchase orders); reactivating it undoes
that. Every change is an audit event.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from backend.billing.bills.service import branch_has_numbers
from backend.core.errors import Conflict, NotFound, ValidationFailed
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.provisioning import validate_time_zone
from tenants.roles import require

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
MAX_INTERVALS = 4  # morning, afternoon and evening with breaks between is already a lot
# Fields a person edits; is_active has its own service (set_branch_active).
EDITABLE = (
    "name",
    "code",
    "address",
    "phone",
    "time_zone",
    "default_tax_rate",
    "reduced_tax_rate",
    "prices_include_tax",
    "opening_hours",
)
_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,9}")
_TIME = re.compile(r"(\d{1,2}):?(\d{2})")
_PHONE_CHARACTERS = re.compile(r"[0-9+ ()./-]+")
_INTERVAL_SPLIT = re.compile(r"\s*(?:-|–|—|\bto\b)\s*")


@dataclass(frozen=True)
class OpeningInterval:
    opens: str  # "09:00"
    closes: str  # "18:00"; "24:00" is midnight at the end of the day


@dataclass(frozen=True)
class Branch:
    """A branch as the Settings page and the REST API show it."""

    id: str
    name: str
    code: str
    address: str
    phone: str
    time_zone: str
    default_tax_rate: Decimal
    reduced_tax_rate: Decimal
    prices_include_tax: bool
    # every weekday (mon..sun) with its intervals, [] when closed; {} when the hours were never given
    opening_hours: dict[str, list[OpeningInterval]]
    is_active: bool
    deactivated_at: datetime | None
    created_at: datetime


# --- checks --------------------------------------------------------------------------------------


def _single_line(value: object, field: str, limit: int, *, required: str = "") -> str:
    cleaned = " ".join(str(value or "").split())
    if required and not cleaned:
        raise ValidationFailed(required, field=field)
    if len(cleaned) > limit:
        raise ValidationFailed(f"At most {limit} characters here.", field=field)
    return cleaned


def _code(value: object) -> str:
    code = "".join(str(value or "").split()).upper()
    if not _CODE.fullmatch(code):
        raise ValidationFailed(
            "A branch code is 1 to 10 letters, digits or hyphens, e.g. DT1: it starts every bill number of the branch.",
            field="code",
        )
    return code


def _phone(value: object) -> str:
    """Kept as typed (people read it on receipts and the portal), once it is plausibly a phone number."""
    phone = " ".join(str(value or "").split())
    if not phone:
        return ""
    digits = sum(c.isdigit() for c in phone)
    if not _PHONE_CHARACTERS.fullmatch(phone) or not 6 <= digits <= 15 or "+" in phone[1:]:
        raise ValidationFailed(
            "A phone number has 6 to 15 digits, optionally starting with +; spaces, dashes and brackets are fine.",
            field="phone",
        )
    return phone


def _rate(value: object, field: str) -> Decimal:
    try:
        rate = Decimal(str(value).strip() or "0")
    except InvalidOperation:
        raise ValidationFailed("Enter the tax rate in percent, e.g. 20 or 7.5.", field=field) from None
    if not rate.is_finite() or not 0 <= rate < 100:
        raise ValidationFailed("A tax rate is between 0 and 100 percent.", field=field)
    if rate.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValidationFailed("A tax rate has at most 4 decimals.", field=field)
    return rate


def _flag(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    typed = str(value or "").strip().lower()
    if typed in ("", "0", "false", "no", "off"):
        return False
    if typed in ("1", "true", "yes", "on"):
        return True
    raise ValidationFailed("Answer yes or no.", field=field)


def _minutes(value: object, field: str, day: str) -> int:
    match = _TIME.fullmatch(str(value or "").strip())
    hours, minutes = (int(match.group(1)), int(match.group(2))) if match else (-1, -1)
    if not (0 <= hours <= 23 and 0 <= minutes <= 59) and (hours, minutes) != (24, 0):
        raise ValidationFailed(
            f"{WEEKDAY_NAMES[day]}: {value!r} is not a time; write times as 09:00 or 18:30.", field=field
        )
    return hours * 60 + minutes


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _day_intervals(day: str, value: object) -> list[OpeningInterval]:
    """One weekday's hours: "09:00-18:00", "09:00-13:00, 14:00-18:00", "closed", or a list of
    {"opens", "closes"} (or [opens, closes]) pairs."""
    field = f"opening_hours.{day}"
    if value is None:
        return []
    pairs: list[tuple[object, object]] = []
    if isinstance(value, str):
        typed = value.strip().lower()
        if typed in ("", "closed", "-"):
            return []
        for part in re.split(r"[,;]", typed):
            ends = _INTERVAL_SPLIT.split(part.strip())
            if len(ends) != 2:
                raise ValidationFailed(
                    f"{WEEKDAY_NAMES[day]}: write the hours as 09:00-18:00, several as 09:00-13:00, 14:00-18:00, "
                    "or 'closed'.",
                    field=field,
                )
            pairs.append((ends[0], ends[1]))
    elif isinstance(value, Sequence):
        for item in value:
            if isinstance(item, Mapping) and set(item) == {"opens", "closes"}:
                pairs.append((item["opens"], item["closes"]))
            elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
                pairs.append((item[0], item[1]))
            else:
                raise ValidationFailed(
                    f'{WEEKDAY_NAMES[day]}: each interval is {{"opens": "09:00", "closes": "18:00"}}.',
                    field=field,
                )
    else:
        raise ValidationFailed(f"{WEEKDAY_NAMES[day]}: give the opening intervals or 'closed'.", field=field)
    if len(pairs) > MAX_INTERVALS:
        raise ValidationFailed(f"{WEEKDAY_NAMES[day]}: at most {MAX_INTERVALS} opening intervals.", field=field)
    spans = sorted((_minutes(a, field, day), _minutes(b, field, day)) for a, b in pairs)
    for opens, closes in spans:
        if opens == 24 * 60 or closes <= opens:
            raise ValidationFailed(
                f"{WEEKDAY_NAMES[day]}: {_clock(opens)}-{_clock(closes)} closes before it opens. Hours past "
                "midnight belong to the next day (e.g. 22:00-24:00, then 00:00-02:00).",
                field=field,
            )
    for (_, first_closes), (second_opens, _) in zip(spans, spans[1:], strict=False):
        if second_opens < first_closes:
            raise ValidationFailed(f"{WEEKDAY_NAMES[day]}: the opening intervals overlap.", field=field)
    return [OpeningInterval(_clock(a), _clock(b)) for a, b in spans]


def _weekday(key: object) -> str:
    typed = str(key).strip().lower()
    day = typed[:3]
    if day not in WEEKDAYS or not WEEKDAY_NAMES[day].lower().startswith(typed):
        raise ValidationFailed(
            f"Unknown weekday {key!r} in the opening hours; use {', '.join(WEEKDAYS)}.", field="opening_hours"
        )
    return day


def opening_hours(value: object) -> dict[str, list[OpeningInterval]]:
    """Check opening hours given per weekday (keys mon..sun, or the full names).

    Nothing given, or every day blank, means the hours are not stated ({}); otherwise every weekday is
    stored and a day not given is closed.
    """
    if value is None or value == {}:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationFailed("Give the opening hours per weekday (mon to sun).", field="opening_hours")
    given: dict[str, object] = {}
    for key, hours in value.items():
        day = _weekday(key)
        if day in given:
            raise ValidationFailed(f"{WEEKDAY_NAMES[day]} is given twice in the opening hours.", field="opening_hours")
        given[day] = hours
    if all(isinstance(h, str) and not h.strip() for h in given.values()):
        return {}  # a form left blank: not "closed all week"
    return {day: _day_intervals(day, given.get(day)) for day in WEEKDAYS}


def hours_text(intervals: Sequence[OpeningInterval]) -> str:
    """One weekday's hours as the form shows them: "09:00-13:00, 14:00-18:00" or "closed"."""
    return ", ".join(f"{i.opens}-{i.closes}" for i in intervals) or "closed"


def branch_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check a branch's fields together; raises ValidationFailed naming the first bad one."""
    unknown = sorted(set(raw) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(f"Unknown branch field {unknown[0]!r}.", field=unknown[0])
    zone = str(raw.get("time_zone") or "").strip()
    if not zone:
        raise ValidationFailed("Choose the branch's time zone, e.g. Europe/London.", field="time_zone")
    return {
        "name": _single_line(raw.get("name"), "name", 120, required="Name the branch."),
        "code": _code(raw.get("code")),
        "address": _single_line(raw.get("address"), "address", 300),
        "phone": _phone(raw.get("phone")),
        "time_zone": validate_time_zone(zone),
        "default_tax_rate": _rate(raw.get("default_tax_rate", "0"), "default_tax_rate"),
        "reduced_tax_rate": _rate(raw.get("reduced_tax_rate", "0"), "reduced_tax_rate"),
        "prices_include_tax": _flag(raw.get("prices_include_tax", False), "prices_include_tax"),
        "opening_hours": opening_hours(raw.get("opening_hours")),
    }


# --- reading -------------------------------------------------------------------------------------


def _branch(row: Any) -> Branch:
    hours = {
        day: [OpeningInterval(i["opens"], i["closes"]) for i in row.opening_hours.get(day, [])]
        for day in WEEKDAYS
        if row.opening_hours
    }
    return Branch(
        id=str(row.id),
        name=row.name,
        code=row.code,
        address=row.address,
        phone=row.phone,
        time_zone=row.time_zone,
        default_tax_rate=row.default_tax_rate,
        reduced_tax_rate=row.reduced_tax_rate,
        prices_include_tax=row.prices_include_tax,
        opening_hours=hours,
        is_active=row.is_active,
        deactivated_at=row.deactivated_at,
        created_at=row.created_at,
    )


def _key(branch_id: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(branch_id))
    except ValueError:
        raise NotFound("No such branch.") from None


def _load(session: Session, ctx: TenantContext, branch_id: object, *, lock: bool = False) -> Branch:
    key = _key(branch_id)
    row = session.execute(
        text(f"SELECT * FROM branches WHERE id = :b{' FOR UPDATE' if lock else ''}"),  # noqa: S608 - fixed text
        {"b": key},
    ).first()
    if row is None or not ctx.can_see_branch(key):
        raise NotFound("No such branch.")
    return _branch(row)


def get_branch(session: Session, ctx: TenantContext, branch_id: str) -> Branch:
    """One branch of the chain (within the member's branch scope), active or not."""
    require(ctx, "branches.view")
    return _load(session, ctx, branch_id)


def list_branches(session: Session, ctx: TenantContext) -> list[Branch]:
    """Every branch the member may see: active ones first, then by name."""
    require(ctx, "branches.view")
    rows = session.execute(text("SELECT * FROM branches ORDER BY NOT is_active, lower(name), id")).all()
    return [_branch(r) for r in rows if ctx.can_see_branch(r.id)]


# --- writing -------------------------------------------------------------------------------------


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """The checked values as bound parameters (opening hours as JSON text)."""
    hours = {day: [{"opens": i.opens, "closes": i.closes} for i in ivs] for day, ivs in values["opening_hours"].items()}
    return {**values, "opening_hours": json.dumps(hours)}


def _refuse_taken(session: Session, values: dict[str, Any], branch_id: uuid.UUID) -> None:
    """Names and codes are unique in the chain (a deactivated branch keeps its own)."""
    taken = session.execute(
        text(
            "SELECT lower(name) = lower(:name) AS same_name, upper(code) = :code AS same_code, is_active "
            "FROM branches WHERE id <> :id AND (lower(name) = lower(:name) OR upper(code) = :code)"
        ),
        {"name": values["name"], "code": values["code"], "id": branch_id},
    ).first()
    if taken is None:
        return
    which = "deactivated " if not taken.is_active else ""
    if taken.same_code:
        raise Conflict(f"Another {which}branch already has the code {values['code']}.", field="code")
    raise Conflict(f"Another {which}branch is already called {values['name']}.", field="name")


def _write(session: Session, statement: str, params: dict[str, Any], values: dict[str, Any]) -> None:
    """Two owners saving the same name or code at once get the Conflict, not a 500."""
    try:
        session.execute(text(statement), params)
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", "") or ""
        if "code" in constraint:
            raise Conflict(f"Another branch already has the code {values['code']}.", field="code") from None
        if "name" in constraint:
            raise Conflict(f"Another branch is already called {values['name']}.", field="name") from None
        raise


def _placeholder(name: str) -> str:
    return f"CAST(:{name} AS jsonb)" if name == "opening_hours" else f":{name}"


def create_branch(session: Session, ctx: TenantContext, **fields: Any) -> Branch:
    """A new, active branch from name, code and time_zone and optionally address, phone, the tax
    settings and opening hours. Every field is checked before anything is written."""
    require(ctx, "branches.manage")
    values = branch_values(fields)
    branch_id = uuid.uuid4()
    _refuse_taken(session, values, branch_id)
    _write(
        session,
        f"INSERT INTO branches (tenant_id, id, {', '.join(EDITABLE)}) "  # noqa: S608 - fixed names
        f"VALUES (:tenant_id, :id, {', '.join(_placeholder(n) for n in EDITABLE)})",
        {**_stored(values), "tenant_id": ctx.tenant_id, "id": branch_id},
        values,
    )
    record_audit(
        session,
        ctx.tenant_id,
        "branch.created",
        actor_user_id=ctx.user_id,
        entity_type="branch",
        entity_id=str(branch_id),
        details={"name": values["name"], "code": values["code"], "time_zone": values["time_zone"]},
    )
    return _load(session, ctx, branch_id)


def update_branch(session: Session, ctx: TenantContext, branch_id: str, **fields: Any) -> Branch:
    """Replace the editable fields (every field: one omitted takes its empty value or default).

    The code cannot change once the branch has numbered a bill or credit note: numbers carry it, and
    a code given up could otherwise be taken by another branch and repeat a number.
    """
    require(ctx, "branches.manage")
    current = _load(session, ctx, branch_id, lock=True)
    values = branch_values(fields)
    changed = [name for name in EDITABLE if values[name] != getattr(current, name)]
    if not changed:
        return current
    key = uuid.UUID(current.id)
    if "code" in changed and branch_has_numbers(session, key):
        raise Conflict(
            f"{current.name} has issued bills numbered {current.code}-...; its code stays {current.code}.",
            field="code",
        )
    _refuse_taken(session, values, key)
    stored = _stored(values)
    _write(
        session,
        f"UPDATE branches SET {', '.join(f'{n} = {_placeholder(n)}' for n in changed)} WHERE id = :id",  # noqa: S608
        {**{n: stored[n] for n in changed}, "id": key},
        values,
    )
    record_audit(
        session,
        ctx.tenant_id,
        "branch.updated",
        actor_user_id=ctx.user_id,
        entity_type="branch",
        entity_id=current.id,
        details={"fields": changed},
    )
    return _load(session, ctx, key)


def set_branch_active(session: Session, ctx: TenantContext, branch_id: str, active: bool) -> Branch:
    """Deactivate a branch (its bills, stock and ledger stay; it takes no sales, deliveries or
    transfers) or reactivate it. The chain's last active branch cannot be deactivated."""
    require(ctx, "branches.manage")
    # Lock every active branch first: two owners deactivating the last two at once would otherwise
    # both see another one still open.
    session.execute(text("SELECT id FROM branches WHERE is_active ORDER BY id FOR UPDATE"))
    current = _load(session, ctx, branch_id, lock=True)
    if current.is_active == bool(active):
        return current
    if not active:
        others = session.execute(
            text("SELECT count(*) FROM branches WHERE is_active AND id <> :b"), {"b": uuid.UUID(current.id)}
        ).scalar_one()
        if others == 0:
            raise Conflict(
                f"{current.name} is the chain's only active branch; add or reactivate another one first.",
                field="is_active",
            )
    session.execute(
        text(
            "UPDATE branches SET is_active = :a, deactivated_at = CASE WHEN :a THEN NULL ELSE now() END WHERE id = :b"
        ),
        {"a": bool(active), "b": uuid.UUID(current.id)},
    )
    record_audit(
        session,
        ctx.tenant_id,
        "branch.reactivated" if active else "branch.deactivated",
        actor_user_id=ctx.user_id,
        entity_type="branch",
        entity_id=current.id,
        details={"name": current.name, "code": current.code},
    )
    return _load(session, ctx, current.id)


# --- the public portal --------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicBranch:
    """What a chain's public portal shows of a branch: where it is, how to call it, when it is open."""

    id: str
    name: str
    address: str
    phone: str
    time_zone: str
    hours: list[tuple[str, str]]  # (weekday name, "09:00-18:00" / "closed"), Monday first; [] when never given


def public_branches(session: Session, ctx: TenantContext) -> list[PublicBranch]:
    """The chain's open branches as its portal lists them, by name (inactive branches are not shown)."""
    require(ctx, "portal.view")
    rows = session.execute(text("SELECT * FROM branches WHERE is_active ORDER BY lower(name), id")).all()
    out = []
    for row in rows:
        branch = _branch(row)
        given = branch.opening_hours
        hours = [(WEEKDAY_NAMES[day], hours_text(given[day])) for day in WEEKDAYS if given]
        out.append(PublicBranch(branch.id, branch.name, branch.address, branch.phone, branch.time_zone, hours))
    return out
