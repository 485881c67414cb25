"""Prescribers of a chain: searchable, with NPI and DEA numbers checked, and duplicates flagged.

One record per NPI in a chain (the database refuses a second); two records with the same name are
allowed (two Dr. Lee) but flagged, so the technician picks the right one or the manager merges them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.validation import as_uuid
from tenants.context import TenantContext
from tenants.roles import require

PAGE_SIZE = 25
TEXT_LIMITS = {"credentials": 40, "license_number": 40, "phone": 20, "fax": 20, "email": 254, "address": 500}


class DuplicatePrescriber(Conflict):
    """Another record of the chain has this NPI."""

    code = "duplicate_prescriber"


@dataclass(frozen=True)
class Prescriber:
    id: str
    full_name: str
    credentials: str
    license_number: str
    npi: str
    dea_number: str
    phone: str
    fax: str
    email: str
    address: str
    is_active: bool
    # other records of the chain with the same name (or DEA or licence number): possibly the same person
    possible_duplicates: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        name = f"{self.full_name}, {self.credentials}" if self.credentials else self.full_name
        return f"{name} (NPI {self.npi})" if self.npi else name


@dataclass(frozen=True)
class PrescriberPage:
    items: list[Prescriber]
    page: int
    has_more: bool


def _line(value: object) -> str:
    return " ".join(str(value or "").replace("\x00", "").split())


def npi_valid(npi: str) -> bool:
    """The NPI check digit: Luhn over the 9 digits prefixed with 80840 (CMS NPI standard)."""
    if not re.fullmatch(r"\d{10}", npi):
        return False
    digits = [int(d) for d in "80840" + npi[:9]]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:  # every second digit from the right, starting with the rightmost of the 14
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def dea_valid(dea: str) -> bool:
    """Two letters and seven digits whose last is the DEA check digit ((1+3+5) + 2*(2+4+6), last digit)."""
    if not re.fullmatch(r"[A-Z][A-Z9]\d{7}", dea):
        return False
    d = [int(c) for c in dea[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


def _checked(typed: Mapping[str, Any]) -> dict[str, Any]:
    name = _line(typed.get("full_name"))
    if not name:
        raise ValidationFailed("Enter the prescriber's name.", field="full_name")
    if len(name) > 120:
        raise ValidationFailed("A name has at most 120 characters.", field="full_name")
    fields: dict[str, Any] = {"full_name": name}
    for key, limit in TEXT_LIMITS.items():
        value = _line(typed.get(key)) if key != "address" else str(typed.get(key) or "").strip()
        if len(value) > limit:
            raise ValidationFailed(f"At most {limit} characters here.", field=key)
        fields[key] = value
    npi = re.sub(r"[\s-]", "", str(typed.get("npi") or ""))
    if npi and not npi_valid(npi):
        raise ValidationFailed("An NPI is 10 digits with a valid check digit; check the number.", field="npi")
    dea = re.sub(r"[\s-]", "", str(typed.get("dea_number") or "")).upper()
    if dea and not dea_valid(dea):
        raise ValidationFailed(
            "A DEA number is 2 letters and 7 digits with a valid check digit; check the number.", field="dea_number"
        )
    fields["npi"], fields["dea_number"] = npi, dea
    return fields


def _row(row: Any, duplicates: list[str] | None = None) -> Prescriber:
    return Prescriber(
        id=str(row.id),
        full_name=row.full_name,
        credentials=row.credentials,
        license_number=row.license_number,
        npi=row.npi,
        dea_number=row.dea_number,
        phone=row.phone,
        fax=row.fax,
        email=row.email,
        address=row.address,
        is_active=row.is_active,
        possible_duplicates=duplicates or [],
    )


def _duplicates(session: Session, prescriber_id: uuid.UUID, fields: Mapping[str, Any]) -> list[str]:
    """Other records with the same name, DEA or licence number: "name (NPI …)" of each."""
    rows = session.execute(
        text(
            "SELECT full_name, npi FROM prescribers WHERE id <> :id AND (lower(full_name) = lower(:name) "
            "OR (:dea <> '' AND dea_number = :dea) OR (:lic <> '' AND license_number = :lic)) "
            "ORDER BY full_name LIMIT 5"
        ),
        {
            "id": prescriber_id,
            "name": fields["full_name"],
            "dea": fields["dea_number"],
            "lic": fields["license_number"],
        },
    ).all()
    return [f"{r.full_name} (NPI {r.npi})" if r.npi else r.full_name for r in rows]


def _npi_free(session: Session, npi: str, prescriber_id: uuid.UUID) -> None:
    if not npi:
        return
    other = session.execute(
        text("SELECT full_name FROM prescribers WHERE npi = :npi AND id <> :id"), {"npi": npi, "id": prescriber_id}
    ).scalar()
    if other is not None:
        raise DuplicatePrescriber(f"NPI {npi} is already on file for {other}.", field="npi")


def create_prescriber(session: Session, ctx: TenantContext, **typed: Any) -> Prescriber:
    """A new prescriber from full_name and optionally credentials, license_number, npi, dea_number, phone,
    fax, email, address. An NPI already on file is refused; a same-named record is flagged in
    `possible_duplicates`. Bad input writes nothing."""
    require(ctx, "prescribers.manage")
    fields = _checked(typed)
    prescriber_id = uuid.uuid4()
    _npi_free(session, fields["npi"], prescriber_id)
    session.execute(
        text(
            "INSERT INTO prescribers (tenant_id, id, full_name, credentials, license_number, npi, dea_number, phone, "
            "fax, email, address, created_by) VALUES (:t, :id, :full_name, :credentials, :license_number, :npi, "
            ":dea_number, :phone, :fax, :email, :address, :u)"
        ),
        {"t": ctx.tenant_id, "id": prescriber_id, "u": ctx.user_id, **fields},
    )
    return get_prescriber(session, ctx, str(prescriber_id))


def update_prescriber(session: Session, ctx: TenantContext, prescriber_id: str, **typed: Any) -> Prescriber:
    """Replace a prescriber's fields (the same fields as creating one)."""
    require(ctx, "prescribers.manage")
    key = as_uuid(prescriber_id, "prescriber")
    fields = _checked(typed)
    found = session.execute(text("SELECT 1 FROM prescribers WHERE id = :id FOR UPDATE"), {"id": key}).first()
    if found is None:
        raise NotFound("No such prescriber.")
    _npi_free(session, fields["npi"], key)
    session.execute(
        text(
            "UPDATE prescribers SET full_name = :full_name, credentials = :credentials, "
            "license_number = :license_number, npi = :npi, dea_number = :dea_number, phone = :phone, fax = :fax, "
            "email = :email, address = :address, updated_at = now() WHERE id = :id"
        ),
        {"id": key, **fields},
    )
    return get_prescriber(session, ctx, str(key))


def get_prescriber(session: Session, ctx: TenantContext, prescriber_id: str) -> Prescriber:
    """One prescriber of the chain, with the records that may be the same person."""
    require(ctx, "prescribers.view")
    key = as_uuid(prescriber_id, "prescriber")
    row = session.execute(text("SELECT * FROM prescribers WHERE id = :id"), {"id": key}).first()
    if row is None:
        raise NotFound("No such prescriber.")
    fields = {"full_name": row.full_name, "dea_number": row.dea_number, "license_number": row.license_number}
    return _row(row, _duplicates(session, key, fields))


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def find_prescribers(session: Session, ctx: TenantContext, query: str = "", *, page: int = 0) -> PrescriberPage:
    """Prescribers by name, NPI, DEA or licence number, by name; each flagged when another record has
    the same name."""
    require(ctx, "prescribers.view")
    words = _line(query)[:100].split()[:6]
    conditions, params = [], {}
    for index, word in enumerate(words):
        params[f"w{index}"] = _like(word)
        conditions.append(
            f"(p.full_name ILIKE :w{index} OR p.npi LIKE :w{index} OR p.dea_number ILIKE :w{index} "
            f"OR p.license_number ILIKE :w{index})"
        )
    where = " AND ".join(conditions) or "true"
    page = max(0, int(page))
    rows = session.execute(
        text(
            "SELECT p.*, (SELECT count(*) FROM prescribers o WHERE o.tenant_id = p.tenant_id "  # noqa: S608 - fixed SQL
            "AND lower(o.full_name) = lower(p.full_name) AND o.id <> p.id) AS same_name "
            f"FROM prescribers p WHERE p.is_active AND {where} "
            "ORDER BY lower(p.full_name), p.id LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": PAGE_SIZE + 1, "offset": page * PAGE_SIZE},
    ).all()
    items = [
        _row(r, [f"{r.same_name} other record(s) named {r.full_name}"] if r.same_name else []) for r in rows[:PAGE_SIZE]
    ]
    return PrescriberPage(items, page, len(rows) > PAGE_SIZE)
