"""Filling a verified prescription: stock taken FEFO by inventory, the lots recorded on the fill, and
partial fills with the remainder owed.

A fill is one dispensing of the prescription (the original is dispensing 0; refills come next) in one
or more parts: when the shelf is short the technician fills what is there and the rest is owed
(`owed_after` on the part), completed later by another part of the same dispensing. A CII's remainder
must be supplied within 72 hours of the partial fill (21 CFR 1306.13(a)); after that it is forfeited
and the prescriber writes a new prescription.

Stock moves only through `inventory.service.dispense` (FEFO over usable lots: expired, recalled and
quarantined lots are refused), whose movement's reference is the fill's code (the label's barcode). The
services take `(session, ctx, ...)`; the adapter owns the transaction.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.claims.service import claim_fill
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.live import EventKind, event_for, publish_after_commit
from backend.core.validation import as_uuid
from backend.core.validation import quantity as whole_quantity
from backend.inventory.service import OutOfStock, dispense, fefo_preview
from backend.inventory.validation import barcode as read_barcode
from backend.jobs.service import enqueue_job
from backend.patients.service import patient_for_history
from backend.prescriptions.enums import FillStatus, RxStatus
from backend.prescriptions.service import (
    ExpiredPrescription,
    RefusedTransition,
    add_months,
    local_today,
    rx_settings,
)
from tenants.context import TenantContext
from tenants.roles import require

CII_REMAINDER_HOURS = 72  # 21 CFR 1306.13(a): the rest of a CII partial fill within 72 hours
DISCARD_MONTHS = 12  # the usual beyond-use date on a vial: a year from filling, never past the lot's expiry


class NothingOwed(RefusedTransition):
    code = "nothing_owed"


class RemainderForfeited(RefusedTransition):
    code = "remainder_forfeited"


class TooEarly(RefusedTransition):
    code = "too_early"


class NoRefillsLeft(RefusedTransition):
    code = "no_refills_left"


class WrongProduct(Conflict):
    """The bottle scanned at the final check is not the product the fill was taken from."""

    code = "wrong_product"


class NotAwaitingCheck(RefusedTransition):
    code = "not_awaiting_check"


@dataclass(frozen=True)
class FillLot:
    batch_id: str
    lot_number: str
    expiry_date: date
    quantity: int


@dataclass(frozen=True)
class Fill:
    id: str
    code: str
    prescription_id: str
    rx_number: str
    dispensing: int
    part: int
    quantity: int
    prescribed: int
    owed_after: int
    remainder_due_by: datetime | None
    status: FillStatus
    discard_after: date
    filled_at: datetime
    filled_by: str
    lots: list[FillLot] = field(default_factory=list)
    checked_at: datetime | None = None
    checked_by: str = ""
    counts_refill: bool = False  # this dispensing used up one of the prescription's refills
    returned_at: datetime | None = None

    @property
    def partial(self) -> bool:
        return self.owed_after > 0


_RX_FOR_FILL = text(
    "SELECT r.id, r.rx_number, r.branch_id, r.patient_id, r.status, r.medicine_id, r.quantity, r.schedule, "
    "r.expires_on, r.earliest_fill_date, r.refills_remaining, r.days_supply, br.time_zone FROM prescriptions r "
    "JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id WHERE r.id = :id"
)


def _prescription(session: Session, ctx: TenantContext, key: uuid.UUID, *, lock: bool = False) -> Any:
    row = session.execute(text(_RX_FOR_FILL.text + (" FOR UPDATE OF r" if lock else "")), {"id": key}).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such prescription.")
    return row


def fill_code(rx_number: str, dispensing: int, part: int) -> str:
    """The fill's barcode text: Code 39 carries upper-case letters, digits and hyphens."""
    base = re.sub(r"[^A-Z0-9-]", "-", rx_number.upper())
    return f"{base}-{dispensing}-{part}"[:40]


@dataclass(frozen=True)
class _Next:
    dispensing: int
    part: int
    owed: int  # what this dispensing still needs
    remainder_due_by: datetime | None


def _next_part(session: Session, row: Any) -> _Next:
    last = session.execute(
        text(
            "SELECT dispensing, part, owed_after, remainder_due_by FROM prescription_fills "
            "WHERE prescription_id = :p ORDER BY dispensing DESC, part DESC LIMIT 1"
        ),
        {"p": row.id},
    ).first()
    status = RxStatus(row.status)
    if status != RxStatus.FILL:
        if last is None or last.owed_after == 0:
            if status == RxStatus.FILLED:
                raise NothingOwed("This prescription is filled and waiting for the pharmacist's final check.")
            if status == RxStatus.DISPENSED:
                raise NothingOwed("This prescription was handed over; request a refill for the next fill.")
            raise NothingOwed("This prescription is filled, checked and ready for pickup.")
        return _Next(last.dispensing, last.part + 1, last.owed_after, last.remainder_due_by)
    # Ready to fill: the original, or the next dispensing (a refill, or the original again after the first
    # was returned to stock: a dispensing number is never reused, the fill's code names it).
    return _Next(0 if last is None else last.dispensing + 1, 1, row.quantity, None)


@dataclass(frozen=True)
class RefillBasis:
    """Whether the next dispensing uses up a refill, and the date the last one was filled."""

    refill: bool
    last_filled_on: date | None


def refill_basis(session: Session, prescription_id: uuid.UUID, time_zone: str) -> RefillBasis:
    """The next dispensing is a refill when an earlier one was handed over here (a returned one does not
    count: its refill was given back), or when the prescription was transferred in after being filled."""
    last = session.execute(
        text(
            "SELECT (min(filled_at) AT TIME ZONE :zone)::date AS day FROM prescription_fills "
            "WHERE prescription_id = :p AND status <> 'returned' GROUP BY dispensing ORDER BY dispensing DESC LIMIT 1"
        ),
        {"p": prescription_id, "zone": time_zone},
    ).first()
    if last is not None:
        return RefillBasis(True, last.day)
    elsewhere = session.execute(
        text(
            "SELECT last_filled_on FROM prescription_transfers WHERE prescription_id = :p AND kind = 'incoming' "
            "AND last_filled_on IS NOT NULL"
        ),
        {"p": prescription_id},
    ).first()
    return RefillBasis(elsewhere is not None, elsewhere.last_filled_on if elsewhere else None)


def refill_due_on(last_filled_on: date | None, days_supply: int | None, threshold: Decimal) -> date | None:
    """The earliest refill date: the chain's share of the last fill's days' supply used (0.75 of 30 days: day 23)."""
    if last_filled_on is None or not days_supply:
        return None
    return last_filled_on + timedelta(days=math.ceil(days_supply * threshold))


def _use_refill(session: Session, ctx: TenantContext, row: Any, today: date) -> bool:
    """Check a refill may be dispensed now (refills left, the earliest refill date passed); answers whether the
    next dispensing is a refill at all."""
    basis = refill_basis(session, row.id, row.time_zone)
    if not basis.refill:
        return False
    if row.refills_remaining <= 0:
        raise NoRefillsLeft("No refills left on this prescription: the prescriber must renew it.")
    due = refill_due_on(basis.last_filled_on, row.days_supply, rx_settings(session, ctx).early_refill_threshold)
    if due is not None and due > today:
        raise TooEarly(
            f"Too early to refill: last filled {basis.last_filled_on:%Y-%m-%d} for {row.days_supply} days; "
            f"it may be refilled from {due:%Y-%m-%d}."
        )
    return True


def fill_prescription(
    session: Session,
    ctx: TenantContext,
    prescription_id: str,
    *,
    quantity: object = None,
    partial: bool = False,
) -> Fill:
    """Fill a verified prescription (or the rest of a partial fill) from stock picked FEFO by inventory.

    `quantity` defaults to what is owed; with `partial` a short shelf fills what is there and owes the
    rest, else a short shelf is refused (OutOfStock) and nothing moves. Refused: a prescription not
    verified (or already filled in full), past its expiry, before its earliest fill date, a CII remainder
    after its 72 hours. The prescription moves to "filled, awaiting check".
    """
    require(ctx, "prescriptions.fill")
    key = as_uuid(prescription_id, "prescription")
    row = _prescription(session, ctx, key, lock=True)
    status = RxStatus(row.status)
    if status not in FillStatus.fillable_from():
        raise RefusedTransition(f"Only a verified prescription can be filled; this one is {status.label.lower()}.")
    today = local_today(row.time_zone)
    if row.expires_on is not None and row.expires_on < today:
        raise ExpiredPrescription(f"This prescription expired on {row.expires_on.isoformat()}; it cannot be filled.")
    if row.earliest_fill_date is not None and row.earliest_fill_date > today:
        raise TooEarly(f"This prescription may not be filled before {row.earliest_fill_date.isoformat()}.")
    step = _next_part(session, row)
    now = datetime.now().astimezone()
    if step.remainder_due_by is not None and step.remainder_due_by < now:
        raise RemainderForfeited(
            "The rest of this CII partial fill had to be supplied within 72 hours; it is forfeited. "
            "The prescriber must write a new prescription for it."
        )
    counts_refill = step.part == 1 and _use_refill(session, ctx, row, today)
    wanted = step.owed if quantity in (None, "") else whole_quantity(quantity)
    if wanted > step.owed:
        raise OutOfStock(f"Only {step.owed} are owed on this prescription; {wanted} asked.", field="quantity")
    branch, medicine = str(row.branch_id), str(row.medicine_id)
    code = fill_code(row.rx_number, step.dispensing, step.part)
    try:
        # The usual case takes everything owed in one statement; only a short shelf asks what is there.
        picks = dispense(session, ctx, branch_id=branch, medicine_id=medicine, quantity=wanted, reference=code)
    except OutOfStock:
        sellable = fefo_preview(session, ctx, branch, {medicine: wanted})[medicine].sellable
        if not partial or sellable == 0:
            raise OutOfStock(
                f"Only {sellable} in stock that can be dispensed (expired, recalled and quarantined lots "
                f"excluded); {wanted} needed."
                + (" Fill part now and owe the rest." if sellable and not partial else ""),
                field="quantity",
            ) from None
        picks = dispense(session, ctx, branch_id=branch, medicine_id=medicine, quantity=sellable, reference=code)
    take = sum(p.quantity for p in picks)
    owed_after = step.owed - take
    due_by = step.remainder_due_by
    if owed_after and row.schedule == "CII" and due_by is None:
        due_by = now + timedelta(hours=CII_REMAINDER_HOURS)
    discard = min([add_months(today, DISCARD_MONTHS), *(p.expiry_date for p in picks)])
    fill_id = uuid.uuid4()
    prescribed = row.quantity if step.part == 1 else _prescribed(session, key, step.dispensing)
    session.execute(
        text(
            "INSERT INTO prescription_fills (tenant_id, id, prescription_id, branch_id, medicine_id, code, "
            "dispensing, part, quantity, prescribed, owed_after, remainder_due_by, status, discard_after, "
            "filled_by, counts_refill) VALUES (:t, :id, :p, :br, :m, :code, :d, :part, :q, :pr, :owed, :due, :s, "
            ":discard, :u, :refill)"
        ),
        {
            "t": ctx.tenant_id,
            "id": fill_id,
            "p": key,
            "br": row.branch_id,
            "m": row.medicine_id,
            "code": code,
            "d": step.dispensing,
            "part": step.part,
            "q": take,
            "pr": prescribed,
            "owed": owed_after,
            "due": due_by,
            "s": FillStatus.AWAITING_CHECK,
            "discard": discard,
            "u": ctx.user_id,
            "refill": counts_refill,
        },
    )
    session.execute(
        text(
            "INSERT INTO prescription_fill_lots (tenant_id, fill_id, batch_id, lot_number, expiry_date, quantity) "
            "VALUES (:t, :f, :b, :lot, :exp, :q)"
        ),
        [
            {
                "t": ctx.tenant_id,
                "f": fill_id,
                "b": p.batch_id,
                "lot": p.lot_number,
                "exp": p.expiry_date,
                "q": p.quantity,
            }
            for p in picks
        ],
    )
    session.execute(
        text(
            "UPDATE prescriptions SET status = 'filled', refills_remaining = refills_remaining - :used, "
            "updated_at = now() WHERE id = :id"
        ),
        {"id": key, "used": int(counts_refill)},
    )
    # Insurance: the fill is claimed and adjudicated now, so the copay is known when it is picked up.
    claim = claim_fill(
        session, ctx, fill_id=str(fill_id), patient_id=str(row.patient_id), price=fill_price(session, medicine, take)
    )
    reason = f"{code}: {take} filled" + (f", {owed_after} owed" if owed_after else "")
    if counts_refill:
        reason += f"; refill, {row.refills_remaining - 1} left"
    if claim is not None:
        reason += f"; claim {claim.status.replace('_', ' ')}, copay {claim.patient_pays}"
    session.execute(
        text(
            "INSERT INTO prescription_events (tenant_id, prescription_id, action, from_status, to_status, reason, "
            "user_id) VALUES (:t, :p, :a, :f, 'filled', :r, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "p": key,
            "a": "partial_fill" if owed_after else "filled",
            "f": status,
            "r": reason,
            "u": ctx.user_id,
        },
    )
    return _fill(session, fill_id)


def fill_price(session: Session, medicine_id: str, quantity: int) -> Decimal:
    """A fill's price: the catalog's selling price of the medicine times the quantity filled."""
    price = session.execute(
        text("SELECT default_sell_price FROM medicines WHERE id = :m"), {"m": uuid.UUID(medicine_id)}
    ).scalar_one()
    return Decimal(price) * quantity


def _prescribed(session: Session, key: uuid.UUID, dispensing: int) -> int:
    return int(
        session.execute(
            text(
                "SELECT prescribed FROM prescription_fills WHERE prescription_id = :p AND dispensing = :d AND part = 1"
            ),
            {"p": key, "d": dispensing},
        ).scalar_one()
    )


_FILL_SQL = (
    "SELECT f.*, r.rx_number, coalesce(u.full_name, 'an API token') AS filler, "
    "coalesce(c.full_name, '') AS checker FROM prescription_fills f "
    "JOIN prescriptions r ON r.tenant_id = f.tenant_id AND r.id = f.prescription_id "
    "LEFT JOIN users u ON u.id = f.filled_by LEFT JOIN users c ON c.id = f.checked_by "
)


def _lots(session: Session, fill_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[FillLot]]:
    found: dict[uuid.UUID, list[FillLot]] = {key: [] for key in fill_ids}
    rows = session.execute(
        text(
            "SELECT fill_id, batch_id, lot_number, expiry_date, quantity FROM prescription_fill_lots "
            "WHERE fill_id = ANY(CAST(:ids AS uuid[])) ORDER BY expiry_date, lot_number"
        ),
        {"ids": fill_ids},
    ).all()
    for r in rows:
        found[r.fill_id].append(FillLot(str(r.batch_id), r.lot_number, r.expiry_date, r.quantity))
    return found


def _as_fill(row: Any, lots: list[FillLot]) -> Fill:
    r = row
    return Fill(
        id=str(r.id),
        code=r.code,
        prescription_id=str(r.prescription_id),
        rx_number=r.rx_number,
        dispensing=r.dispensing,
        part=r.part,
        quantity=r.quantity,
        prescribed=r.prescribed,
        owed_after=r.owed_after,
        remainder_due_by=r.remainder_due_by,
        status=FillStatus(r.status),
        discard_after=r.discard_after,
        filled_at=r.filled_at,
        filled_by=r.filler,
        lots=lots,
        checked_at=r.checked_at,
        checked_by=r.checker,
        counts_refill=r.counts_refill,
        returned_at=r.returned_at,
    )


def _fill(session: Session, fill_id: uuid.UUID) -> Fill:
    row = session.execute(text(_FILL_SQL + "WHERE f.id = :id"), {"id": fill_id}).one()
    return _as_fill(row, _lots(session, [fill_id])[fill_id])


def fills_of(session: Session, ctx: TenantContext, prescription_id: str) -> list[Fill]:
    """A prescription's fills, oldest first, each with its lots (read as part of the prescription)."""
    require(ctx, "prescriptions.view")
    key = as_uuid(prescription_id, "prescription")
    _prescription(session, ctx, key)
    rows = session.execute(
        text(_FILL_SQL + "WHERE f.prescription_id = :p ORDER BY f.dispensing, f.part"), {"p": key}
    ).all()
    lots = _lots(session, [r.id for r in rows])
    return [_as_fill(r, lots[r.id]) for r in rows]


def get_fill(session: Session, ctx: TenantContext, fill_id: str) -> Fill:
    """One fill with its lots; opening it is written to the patient's access log."""
    require(ctx, "prescriptions.view")
    key = as_uuid(fill_id, "fill")
    row = session.execute(
        text(
            "SELECT f.prescription_id, f.branch_id, r.patient_id FROM prescription_fills f "
            "JOIN prescriptions r ON r.tenant_id = f.tenant_id AND r.id = f.prescription_id WHERE f.id = :id"
        ),
        {"id": key},
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such fill.")
    patient_for_history(session, ctx, row.patient_id)
    return _fill(session, key)


@dataclass(frozen=True)
class FillPreview:
    """What a fill would do now: how many are owed, how many can be dispensed, and the lots FEFO would take."""

    owed: int
    dispensable: int
    lots: list[FillLot]
    remainder_due_by: datetime | None


def fill_preview(session: Session, ctx: TenantContext, prescription_id: str) -> FillPreview | None:
    """The next fill's preview, or None when the prescription cannot be filled now (nothing is taken)."""
    require(ctx, "prescriptions.fill")
    key = as_uuid(prescription_id, "prescription")
    row = _prescription(session, ctx, key)
    if RxStatus(row.status) not in FillStatus.fillable_from():
        return None
    try:
        step = _next_part(session, row)
    except NothingOwed:
        return None
    medicine = str(row.medicine_id)
    line = fefo_preview(session, ctx, str(row.branch_id), {medicine: step.owed})[medicine]
    lots = [FillLot("", lot.lot_number, lot.expiry_date, lot.quantity) for lot in line.lots]
    return FillPreview(step.owed, line.sellable, lots, step.remainder_due_by)


def branch_zone(session: Session, ctx: TenantContext, prescription_id: str) -> str:
    """The time zone of the prescription's branch, for showing its fills' times."""
    require(ctx, "prescriptions.view")
    row = _prescription(session, ctx, as_uuid(prescription_id, "prescription"))
    return str(row.time_zone)


def final_check(session: Session, ctx: TenantContext, fill_id: str, scanned: object) -> Fill:
    """The pharmacist's final check: the stock bottle's barcode must be the fill's product.

    A different product is refused loudly (WrongProduct, naming what was scanned) and nothing is written;
    so is a medicine with no barcode in the catalog (nothing to check against) and a fill already checked.
    When no fill of the prescription is left unchecked, the prescription is ready for pickup.
    """
    require(ctx, "prescriptions.check")
    key = as_uuid(fill_id, "fill")
    code = read_barcode(scanned, "barcode")
    if code is None:
        raise ValidationFailed("Scan the stock bottle's barcode.", field="barcode")
    row = session.execute(
        text(
            "SELECT f.id, f.prescription_id, f.branch_id, f.status, f.code, r.status AS rx_status, "
            "m.barcode, m.generic_name, m.strength FROM prescription_fills f "
            "JOIN prescriptions r ON r.tenant_id = f.tenant_id AND r.id = f.prescription_id "
            "JOIN medicines m ON m.tenant_id = f.tenant_id AND m.id = f.medicine_id WHERE f.id = :id FOR UPDATE OF f, r"
        ),
        {"id": key},
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such fill.")
    if FillStatus(row.status) != FillStatus.AWAITING_CHECK:
        raise NotAwaitingCheck(
            f"Fill {row.code} is {FillStatus(row.status).label.lower()}; it is not awaiting a check."
        )
    expected = f"{row.generic_name} {row.strength}".strip()
    if not row.barcode:
        raise WrongProduct(
            f"{expected} has no barcode in the catalog, so the bottle cannot be checked against it: "
            "add the barcode on the catalog form first.",
            field="barcode",
        )
    if code != row.barcode:
        other = session.execute(
            text("SELECT generic_name, strength FROM medicines WHERE barcode = :b"), {"b": code}
        ).first()
        scanned_as = f"{other.generic_name} {other.strength}".strip() if other else "a product not in the catalog"
        raise WrongProduct(
            f"WRONG PRODUCT: the bottle scanned ({code}) is {scanned_as}, but fill {row.code} is {expected}. "
            "Do not hand it out: check the vial against the right stock bottle.",
            field="barcode",
        )
    session.execute(
        text(
            "UPDATE prescription_fills SET status = :s, checked_by = :u, checked_at = now(), scanned_barcode = :b "
            "WHERE id = :id"
        ),
        {"s": FillStatus.CHECKED, "u": ctx.user_id, "b": code, "id": key},
    )
    unchecked = session.execute(
        text("SELECT count(*) FROM prescription_fills WHERE prescription_id = :p AND status = 'awaiting_check'"),
        {"p": row.prescription_id},
    ).scalar_one()
    before = RxStatus(row.rx_status)
    after = before if unchecked else RxStatus.READY_FOR_PICKUP
    if after != before:
        session.execute(
            text("UPDATE prescriptions SET status = :s, updated_at = now() WHERE id = :id"),
            {"s": after, "id": row.prescription_id},
        )
    session.execute(
        text(
            "INSERT INTO prescription_events (tenant_id, prescription_id, action, from_status, to_status, reason, "
            "user_id) VALUES (:t, :p, 'final_check', :f, :s, :r, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "p": row.prescription_id,
            "f": before,
            "s": after,
            "r": f"{row.code}: bottle {code} matches",
            "u": ctx.user_id,
        },
    )
    _tell_patient_ready(session, ctx, key)
    publish_after_commit(session, ctx, event_for(EventKind.FILL_READY, row.branch_id, key, row.prescription_id))
    return _fill(session, key)


PORTAL_READY_JOB = "portal.tell_ready"  # backend.portal.tasks (which imports this module)
READY_JOB = "prescriptions.tell_ready"  # handled by backend.prescriptions.ready_message


def _tell_patient_ready(session: Session, ctx: TenantContext, fill_id: uuid.UUID) -> None:
    """After commit, the patient is told the fill is ready: by the portal for a fill made from a portal refill
    request (issue 17, recorded on the request), otherwise on the channel the patient chose (issue 18)."""
    asked = session.execute(
        text("SELECT 1 FROM portal_refill_requests WHERE fill_id = :f AND status = 'accepted'"), {"f": fill_id}
    ).first()
    job_name = PORTAL_READY_JOB if asked is not None else READY_JOB
    enqueue_job(session, TenantContext.system(ctx.tenant_id), job_name, fill_id=str(fill_id))
