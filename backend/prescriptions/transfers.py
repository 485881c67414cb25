"""Transfers: between branches of the chain, and to and from other pharmacies, as the regulations require.

- Between branches the prescription moves to the other branch; its Rx number, fills and history stay with it
  (the branches share one record, the "real-time, online database" of 21 CFR 1306.25(a)).
- Out to another pharmacy: the other pharmacy (name, address, phone, NPI, DEA for a controlled substance),
  its pharmacist, ours, the date and the refills transferred are recorded, and the prescription becomes
  "transferred out": void here, never filled here again (21 CFR 1306.25(b)(1)).
- In from another pharmacy: a prescription is created here with the original's date written, refills
  authorized and remaining, first and last fill dates and the other pharmacy's Rx number; it goes to the
  pharmacist's verification like any other.

A CII is never transferred, except the one-time transfer of an electronic CII prescription not yet filled,
for its first fill (21 CFR 1306.08(e)); a CIII-V moves between pharmacies only once (21 CFR 1306.25(a)).
Only pharmacists transfer. Services take `(session, ctx, ...)`; the adapter owns the transaction.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import NotFound, ValidationFailed
from backend.core.validation import as_uuid
from backend.prescriptions.enums import RxSource, RxStatus, TransferKind
from backend.prescriptions.fills import refill_basis
from backend.prescriptions.prescribers import dea_valid, npi_valid
from backend.prescriptions.service import (
    MISSING,
    ExpiredPrescription,
    Prescription,
    RefusedTransition,
    get_prescription,
    local_today,
    receive,
    submit_for_verification,
)
from tenants.context import TenantContext
from tenants.roles import require


class CiiTransferRefused(RefusedTransition):
    code = "cii_transfer_refused"


CII_REFUSED = (
    "A Schedule II prescription cannot be transferred; only an electronic CII prescription that was never "
    "filled may be transferred, once, for its first fill (21 CFR 1306.08(e))."
)


@dataclass(frozen=True)
class Transfer:
    id: str
    prescription_id: str
    rx_number: str
    kind: TransferKind
    from_branch: str
    to_branch: str
    pharmacy_name: str
    pharmacy_address: str
    pharmacy_phone: str
    pharmacy_npi: str
    pharmacy_dea: str
    other_pharmacist: str
    other_rx_number: str
    pharmacist_name: str
    transferred_on: date
    refills_transferred: int
    first_filled_on: date | None
    last_filled_on: date | None
    electronic: bool
    recorded_at: datetime


@dataclass(frozen=True)
class OtherPharmacy:
    name: str
    address: str
    phone: str
    npi: str
    dea: str
    pharmacist: str


_TRANSFER_SQL = (
    "SELECT t.*, r.rx_number, coalesce(fb.name, '') AS from_branch, coalesce(tb.name, '') AS to_branch "
    "FROM prescription_transfers t JOIN prescriptions r ON r.tenant_id = t.tenant_id AND r.id = t.prescription_id "
    "LEFT JOIN branches fb ON fb.tenant_id = t.tenant_id AND fb.id = t.from_branch_id "
    "LEFT JOIN branches tb ON tb.tenant_id = t.tenant_id AND tb.id = t.to_branch_id "
)


def _transfer(row: Any) -> Transfer:
    return Transfer(
        id=str(row.id),
        prescription_id=str(row.prescription_id),
        rx_number=row.rx_number,
        kind=TransferKind(row.kind),
        from_branch=row.from_branch,
        to_branch=row.to_branch,
        pharmacy_name=row.pharmacy_name,
        pharmacy_address=row.pharmacy_address,
        pharmacy_phone=row.pharmacy_phone,
        pharmacy_npi=row.pharmacy_npi,
        pharmacy_dea=row.pharmacy_dea,
        other_pharmacist=row.other_pharmacist,
        other_rx_number=row.other_rx_number,
        pharmacist_name=row.pharmacist_name,
        transferred_on=row.transferred_on,
        refills_transferred=row.refills_transferred,
        first_filled_on=row.first_filled_on,
        last_filled_on=row.last_filled_on,
        electronic=row.electronic,
        recorded_at=row.recorded_at,
    )


def _line(value: object, limit: int, name: str, what: str, *, required: bool = True) -> str:
    typed = " ".join(str(value or "").replace("\x00", "").split())
    if required and not typed:
        raise ValidationFailed(f"Enter {what}.", field=name)
    if len(typed) > limit:
        raise ValidationFailed(f"At most {limit} characters here.", field=name)
    return typed


def other_pharmacy(typed: dict[str, Any], *, controlled: bool) -> OtherPharmacy:
    """The other pharmacy as the regulations ask for it; a controlled substance needs its DEA number."""
    npi = re.sub(r"\s", "", str(typed.get("pharmacy_npi") or ""))
    if npi and not npi_valid(npi):
        raise ValidationFailed("That NPI is not valid (10 digits with its check digit).", field="pharmacy_npi")
    dea = re.sub(r"\s", "", str(typed.get("pharmacy_dea") or "")).upper()
    if dea and not dea_valid(dea):
        raise ValidationFailed("That DEA number is not valid (two letters, seven digits).", field="pharmacy_dea")
    if controlled and not dea:
        raise ValidationFailed(
            "A controlled-substance transfer records the other pharmacy's DEA number.", field="pharmacy_dea"
        )
    return OtherPharmacy(
        name=_line(typed.get("pharmacy_name"), 120, "pharmacy_name", "the other pharmacy's name"),
        address=_line(typed.get("pharmacy_address"), 300, "pharmacy_address", "the other pharmacy's address"),
        phone=_line(typed.get("pharmacy_phone"), 20, "pharmacy_phone", "the other pharmacy's phone"),
        npi=npi,
        dea=dea,
        pharmacist=_line(typed.get("other_pharmacist"), 120, "other_pharmacist", "the other pharmacist's name"),
    )


def _pharmacist_name(session: Session, ctx: TenantContext) -> str:
    name = session.execute(text("SELECT full_name FROM users WHERE id = :u"), {"u": ctx.user_id}).scalar()
    return str(name or "a pharmacist")


_RX = text(
    "SELECT r.id, r.rx_number, r.branch_id, r.status, r.schedule, r.source, r.expires_on, r.refills_remaining, "
    "br.name AS branch_name, br.time_zone FROM prescriptions r "
    "JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id WHERE r.id = :id FOR UPDATE OF r"
)


def _movable(session: Session, ctx: TenantContext, prescription_id: str) -> Any:
    """The prescription, locked, when it may leave this branch; refused (naming why) otherwise."""
    key = as_uuid(prescription_id, "prescription")
    row = session.execute(_RX, {"id": key}).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such prescription.")
    status = RxStatus(row.status)
    if status not in RxStatus.transferable():
        raise RefusedTransition(
            f"{row.rx_number} is {status.label.lower()}: only a verified prescription with nothing waiting "
            "at the counter is transferred."
        )
    if row.expires_on is not None and row.expires_on < local_today(row.time_zone):
        raise ExpiredPrescription(f"{row.rx_number} expired on {row.expires_on:%Y-%m-%d}; it cannot be transferred.")
    waiting = session.execute(
        text(
            "SELECT code, owed_after, status FROM prescription_fills WHERE prescription_id = :p "
            "AND (status IN ('awaiting_check', 'checked') OR owed_after > 0) AND status <> 'returned' "
            "ORDER BY dispensing DESC, part DESC LIMIT 1"
        ),
        {"p": key},
    ).first()
    if waiting is not None:
        if waiting.owed_after:
            raise RefusedTransition(f"{waiting.owed_after} are still owed on {waiting.code}: fill the rest first.")
        raise RefusedTransition(
            f"Fill {waiting.code} is waiting at {row.branch_name}: hand it out or return it to stock first."
        )
    return row


def _controlled_rules(session: Session, row: Any, kind: TransferKind) -> None:
    earlier = session.execute(
        text("SELECT kind FROM prescription_transfers WHERE prescription_id = :p"), {"p": row.id}
    ).scalars()
    kinds = set(earlier)
    if row.schedule == "CII":
        filled = session.execute(
            text("SELECT 1 FROM prescription_fills WHERE prescription_id = :p LIMIT 1"), {"p": row.id}
        ).first()
        if row.source != RxSource.ELECTRONIC or filled is not None or kinds:
            raise CiiTransferRefused(CII_REFUSED)
    elif row.schedule and kind is TransferKind.OUTGOING and kinds & {TransferKind.OUTGOING, TransferKind.INCOMING}:
        raise RefusedTransition(
            f"A Schedule {row.schedule[1:]} prescription moves between pharmacies only once (21 CFR 1306.25(a)); "
            "this one already has. The prescriber must write a new prescription."
        )


def _fill_dates(session: Session, key: uuid.UUID, zone: str) -> tuple[date | None, date | None]:
    row = session.execute(
        text(
            "SELECT (min(filled_at) AT TIME ZONE :z)::date AS first, (max(filled_at) AT TIME ZONE :z)::date AS last "
            "FROM prescription_fills WHERE prescription_id = :p AND status <> 'returned'"
        ),
        {"p": key, "z": zone},
    ).one()
    return row.first, row.last


def _event(
    session: Session, ctx: TenantContext, key: Any, action: str, before: RxStatus, after: RxStatus, why: str
) -> None:
    session.execute(
        text(
            "INSERT INTO prescription_events (tenant_id, prescription_id, action, from_status, to_status, reason, "
            "user_id) VALUES (:t, :p, :a, :f, :s, :r, :u)"
        ),
        {"t": ctx.tenant_id, "p": key, "a": action, "f": before, "s": after, "r": why[:500], "u": ctx.user_id},
    )


def _insert(session: Session, ctx: TenantContext, **values: Any) -> uuid.UUID:
    key = uuid.uuid4()
    columns = {
        "from_branch_id": None,
        "to_branch_id": None,
        "pharmacy_name": "",
        "pharmacy_address": "",
        "pharmacy_phone": "",
        "pharmacy_npi": "",
        "pharmacy_dea": "",
        "other_pharmacist": "",
        "other_rx_number": "",
        "first_filled_on": None,
        "last_filled_on": None,
        "electronic": False,
        **values,
    }
    names = ", ".join(columns)
    session.execute(
        text(
            f"INSERT INTO prescription_transfers (tenant_id, id, pharmacist_id, pharmacist_name, {names}) "  # noqa: S608
            f"VALUES (:t, :id, :u, :who, {', '.join(':' + n for n in columns)})"
        ),
        {"t": ctx.tenant_id, "id": key, "u": ctx.user_id, "who": _pharmacist_name(session, ctx), **columns},
    )
    return key


def _one(session: Session, key: uuid.UUID) -> Transfer:
    return _transfer(session.execute(text(_TRANSFER_SQL + "WHERE t.id = :id"), {"id": key}).one())


def transfer_to_branch(session: Session, ctx: TenantContext, prescription_id: str, branch_id: str) -> Transfer:
    """Move a prescription to another branch of the chain (the patient fills it there from now on). Its Rx
    number, fills and history stay with it; the earlier fills stay on the branch that made them."""
    require(ctx, "prescriptions.transfer")
    row = _movable(session, ctx, prescription_id)
    try:
        target = uuid.UUID(str(branch_id))
    except ValueError:
        raise ValidationFailed("Choose the branch it goes to.", field="branch_id") from None
    found = session.execute(text("SELECT name, is_active FROM branches WHERE id = :b"), {"b": target}).first()
    if found is None or not found.is_active:
        raise ValidationFailed("Choose one of the chain's open branches.", field="branch_id")
    if target == row.branch_id:
        raise ValidationFailed(f"{row.rx_number} is already at {found.name}.", field="branch_id")
    _controlled_rules(session, row, TransferKind.BRANCH)
    first, last = _fill_dates(session, row.id, row.time_zone)
    key = _insert(
        session,
        ctx,
        prescription_id=row.id,
        kind=TransferKind.BRANCH,
        from_branch_id=row.branch_id,
        to_branch_id=target,
        transferred_on=local_today(row.time_zone),
        refills_transferred=row.refills_remaining,
        first_filled_on=first,
        last_filled_on=last,
        electronic=row.source == RxSource.ELECTRONIC,
    )
    session.execute(
        text("UPDATE prescriptions SET branch_id = :b, updated_at = now() WHERE id = :id"),
        {"b": target, "id": row.id},
    )
    status = RxStatus(row.status)
    _event(session, ctx, row.id, "transferred_branch", status, status, f"from {row.branch_name} to {found.name}")
    return _one(session, key)


def transfer_out(session: Session, ctx: TenantContext, prescription_id: str, **typed: Any) -> Transfer:
    """Transfer a prescription to another pharmacy: recorded with the other pharmacy, its pharmacist, ours,
    the date and the refills transferred; the prescription is void here ("transferred out")."""
    require(ctx, "prescriptions.transfer")
    row = _movable(session, ctx, prescription_id)
    other = other_pharmacy(typed, controlled=bool(row.schedule))
    _controlled_rules(session, row, TransferKind.OUTGOING)
    basis = refill_basis(session, row.id, row.time_zone)
    if basis.refill and row.refills_remaining <= 0:
        raise RefusedTransition(f"{row.rx_number} has no refills left to transfer.")
    first, last = _fill_dates(session, row.id, row.time_zone)
    key = _insert(
        session,
        ctx,
        prescription_id=row.id,
        kind=TransferKind.OUTGOING,
        from_branch_id=row.branch_id,
        pharmacy_name=other.name,
        pharmacy_address=other.address,
        pharmacy_phone=other.phone,
        pharmacy_npi=other.npi,
        pharmacy_dea=other.dea,
        other_pharmacist=other.pharmacist,
        transferred_on=local_today(row.time_zone),
        refills_transferred=row.refills_remaining,
        first_filled_on=first,
        last_filled_on=last,
        electronic=row.source == RxSource.ELECTRONIC,
    )
    why = f"to {other.name} ({other.pharmacist}), {row.refills_remaining} refills"
    session.execute(
        text(
            "UPDATE prescriptions SET status = 'transferred_out', auto_refill = false, status_reason = :r, "
            "updated_at = now() WHERE id = :id"
        ),
        {"r": f"Transferred {why}"[:500], "id": row.id},
    )
    _event(session, ctx, row.id, "transferred_out", RxStatus(row.status), RxStatus.TRANSFERRED_OUT, why)
    return _one(session, key)


def _optional_day(value: object, name: str) -> date | None:
    typed = str(value or "").strip()
    if not typed:
        return None
    try:
        return date.fromisoformat(typed)
    except ValueError:
        raise ValidationFailed("Enter the date as YYYY-MM-DD.", field=name) from None


def receive_transfer(
    session: Session, ctx: TenantContext, *, branch_id: str, patient_id: str, **typed: Any
) -> Prescription:
    """Record a prescription transferred in from another pharmacy: a prescription here (source "transfer")
    with the original's date written, refills authorized, the refills remaining as transferred, and the
    first and last fill dates there; it goes to verification, or stays in data entry when the prescriber or
    the catalog medicine is still to be chosen. The other pharmacy's Rx number, its pharmacist and ours are
    on the transfer record. A CII only when electronic and never filled."""
    require(ctx, "prescriptions.transfer")
    electronic = str(typed.get("electronic") or "").lower() in {"1", "true", "on", "yes"}
    first = _optional_day(typed.get("first_filled_on"), "first_filled_on")
    last = _optional_day(typed.get("last_filled_on"), "last_filled_on") or first
    remaining = str(typed.get("refills_remaining") or "0").strip()
    if not re.fullmatch(r"\d{1,2}", remaining):
        raise ValidationFailed("Enter the refills remaining as a whole number.", field="refills_remaining")
    left = int(remaining)
    authorized = str(typed.get("refills_authorized") or "0").strip()
    if not re.fullmatch(r"\d{1,2}", authorized) or int(authorized) < left:
        raise ValidationFailed(
            "The refills authorized on the original are at least the refills remaining.", field="refills_authorized"
        )
    other_rx = _line(typed.get("other_rx_number"), 40, "other_rx_number", "the other pharmacy's Rx number")
    entry = {
        name: typed.get(name, "")
        for name in (
            "prescriber_id",
            "drug_written",
            "medicine_id",
            "strength",
            "sig_written",
            "quantity",
            "quantity_unit",
            "days_supply",
            "date_written",
            "daw",
        )
    }
    record = receive(
        session,
        ctx,
        branch_id=branch_id,
        patient_id=patient_id,
        source=RxSource.TRANSFER,
        notes=str(typed.get("notes") or ""),
        refills_authorized=authorized,
        **entry,
    )
    other = other_pharmacy(typed, controlled=bool(record.schedule))
    today = local_today(record.time_zone)
    for day, name in ((first, "first_filled_on"), (last, "last_filled_on")):
        if day is not None and (day > today or (record.date_written is not None and day < record.date_written)):
            raise ValidationFailed("A fill date is between the date written and today.", field=name)
    if record.schedule == "CII" and (not electronic or last is not None):
        raise CiiTransferRefused(CII_REFUSED)
    if last is not None and left == 0:
        raise RefusedTransition("It has been filled and has no refills left: there is nothing to transfer.")
    key = uuid.UUID(record.id)
    session.execute(text("UPDATE prescriptions SET refills_remaining = :n WHERE id = :id"), {"n": left, "id": key})
    _insert(
        session,
        ctx,
        prescription_id=key,
        kind=TransferKind.INCOMING,
        to_branch_id=uuid.UUID(record.branch_id),
        pharmacy_name=other.name,
        pharmacy_address=other.address,
        pharmacy_phone=other.phone,
        pharmacy_npi=other.npi,
        pharmacy_dea=other.dea,
        other_pharmacist=other.pharmacist,
        other_rx_number=other_rx,
        transferred_on=today,
        refills_transferred=left,
        first_filled_on=first,
        last_filled_on=last,
        electronic=electronic,
    )
    _event(
        session,
        ctx,
        key,
        "transferred_in",
        RxStatus.DATA_ENTRY,
        RxStatus.DATA_ENTRY,
        f"from {other.name} ({other.pharmacist}), their Rx {other_rx}, {left} refills",
    )
    if not any(getattr(record, name) in (None, "") for name in MISSING):
        submit_for_verification(session, ctx, record.id)  # else data entry completes it (prescriber, medicine)
    return get_prescription(session, ctx, record.id)


def transfers_of(session: Session, ctx: TenantContext, prescription_id: str) -> list[Transfer]:
    """A prescription's transfers, oldest first (read as part of the prescription)."""
    require(ctx, "prescriptions.view")
    key = as_uuid(prescription_id, "prescription")
    branch = session.execute(text("SELECT branch_id FROM prescriptions WHERE id = :p"), {"p": key}).scalar()
    if branch is None or not ctx.can_see_branch(branch):
        raise NotFound("No such prescription.")
    rows = session.execute(text(_TRANSFER_SQL + "WHERE t.prescription_id = :p ORDER BY t.recorded_at"), {"p": key})
    return [_transfer(r) for r in rows]


def branch_choices(session: Session, ctx: TenantContext, prescription_id: str) -> list[tuple[str, str]]:
    """The chain's other open branches a prescription may move to: (id, name)."""
    require(ctx, "prescriptions.view")
    key = as_uuid(prescription_id, "prescription")
    rows = session.execute(
        text(
            "SELECT b.id, b.name FROM branches b WHERE b.is_active AND b.id <> "
            "(SELECT branch_id FROM prescriptions WHERE id = :p) ORDER BY b.name"
        ),
        {"p": key},
    ).all()
    return [(str(r.id), r.name) for r in rows]
