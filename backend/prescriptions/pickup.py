"""Pickup: a checked fill handed over at the counter, with the offer to counsel, an ID check for controlled
substances, and the signature of whoever collects it.

The counter scans the label's barcode (the fill's code): `fill_at_counter` finds the fill and says
whether it can be handed over (only a fill that passed the final check, not picked up yet). The bill
carries it as a fill line at its price or copay; its stock already moved when it was filled, so the
sale never dispenses it again. When the bill is finalized, billing calls `record_pickup` in the same
transaction: the pickup is recorded (who collected it, counselling offered and answered to a pharmacist
who signs it, the ID seen when the chain's setting asks for one, the signature drawn on the screen as a
PNG), the fills become picked up and a prescription with nothing left to hand over is dispensed. Each
step is a `prescription_events` row like the other prescription events.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import text
from sqlmodel import Session

from backend.accounts.signatures import require_fresh_signature
from backend.core.errors import NotFound, ValidationFailed
from backend.core.validation import as_uuid
from backend.patients.service import identity_of
from backend.prescriptions.enums import Counselling, FillStatus, PickedUpBy, RxStatus
from backend.prescriptions.service import RefusedTransition
from backend.protection.keys import chain_keys, reseal_rows
from tenants.context import TenantContext
from tenants.roles import require

PNG_HEADER = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 300_000  # a 600 x 200 canvas drawing is 5-30 kB
DEFAULT_ID_SCHEDULES = ("CII", "CIII", "CIV", "CV")


class NotReadyForPickup(RefusedTransition):
    code = "not_ready_for_pickup"


@dataclass(frozen=True)
class CounterFill:
    """A fill as the counter sees it when its label is scanned."""

    id: str
    code: str
    rx_number: str
    medicine_id: str
    description: str
    quantity: int
    patient_id: str
    patient_name: str
    schedule: str  # the prescription's DEA schedule ('' when not controlled)
    needs_id: bool  # the chain's setting asks for an ID at pickup for this fill


_FILL_AT_COUNTER = (
    "SELECT f.id, f.code, f.status, f.branch_id, f.medicine_id, f.quantity, r.rx_number, r.patient_id, "
    "coalesce(r.schedule, '') AS schedule, trim(m.generic_name || ' ' || m.strength) AS description "
    "FROM prescription_fills f JOIN prescriptions r ON r.tenant_id = f.tenant_id AND r.id = f.prescription_id "
    "JOIN medicines m ON m.tenant_id = f.tenant_id AND m.id = f.medicine_id "
)


def id_check_schedules(session: Session) -> tuple[str, ...]:
    """The schedules whose fills need an ID at pickup (the chain's setting; US default CII-CV)."""
    found = session.execute(text("SELECT pickup_id_schedules FROM prescription_settings")).scalar()
    return DEFAULT_ID_SCHEDULES if found is None else tuple(found)


def _refuse_unless_checked(row: Any) -> None:
    status = FillStatus(row.status)
    if status == FillStatus.CHECKED:
        return
    if status == FillStatus.AWAITING_CHECK:
        raise NotReadyForPickup(
            f"Fill {row.code} has not passed the pharmacist's final check yet; it cannot be handed over."
        )
    if status == FillStatus.PICKED_UP:
        raise NotReadyForPickup(f"Fill {row.code} was already picked up.")
    raise NotReadyForPickup(f"Fill {row.code} is {status.label.lower()}; it cannot be handed over.")


def _counter_fill(session: Session, ctx: TenantContext, row: Any) -> CounterFill:
    return CounterFill(
        id=str(row.id),
        code=row.code,
        rx_number=row.rx_number,
        medicine_id=str(row.medicine_id),
        description=row.description,
        quantity=row.quantity,
        patient_id=str(row.patient_id),
        patient_name=identity_of(session, ctx, row.patient_id).full_name,
        schedule=row.schedule,
        needs_id=bool(row.schedule) and row.schedule in id_check_schedules(session),
    )


def fill_at_counter(session: Session, ctx: TenantContext, code: object, branch_id: str) -> CounterFill | None:
    """The fill whose label was scanned at this branch's counter; None when no fill has that code (the
    counter then looks the code up as a product). A fill of another branch, or one that cannot be handed
    over (not checked, already picked up, returned), is refused with the reason."""
    require(ctx, "prescriptions.pickup")
    typed = str(code or "").strip().upper()
    if not typed or len(typed) > 40:
        return None
    row = session.execute(text(_FILL_AT_COUNTER + "WHERE f.code = :c"), {"c": typed}).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        return None
    if str(row.branch_id) != str(branch_id):
        raise NotReadyForPickup(f"Fill {row.code} was filled at another branch; it is handed over there.")
    _refuse_unless_checked(row)
    return _counter_fill(session, ctx, row)


def fill_for_bill(session: Session, ctx: TenantContext, fill_id: object, branch_id: object) -> CounterFill:
    """The fill a bill line names, if it can go on a bill of this branch (billing asks when it writes a draft)."""
    require(ctx, "prescriptions.pickup")
    key = as_uuid(str(fill_id), "fill")
    row = session.execute(text(_FILL_AT_COUNTER + "WHERE f.id = :f"), {"f": key}).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such fill.")
    if str(row.branch_id) != str(branch_id):
        raise NotReadyForPickup(f"Fill {row.code} was filled at another branch; it is handed over there.")
    _refuse_unless_checked(row)
    return _counter_fill(session, ctx, row)


# --- the pickup record --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PickupInput:
    """What the counter collects before the fills are handed over."""

    picked_up_by: PickedUpBy
    picked_up_by_name: str
    counselling: Counselling
    counsel_signature_id: str  # the pharmacist's electronic signature of the bill: they offered to counsel
    signature_png: bytes  # the patient's or agent's signature drawn on the screen
    id_type: str = ""
    id_number: str = ""


def _one_line(value: object, field_name: str, low: int, high: int, message: str) -> str:
    cleaned = " ".join(str(value or "").split())
    if not low <= len(cleaned) <= high:
        raise ValidationFailed(message, field=field_name)
    return cleaned


def _choice(kind: type[Any], value: object, field_name: str, message: str) -> Any:
    try:
        return kind(str(value or ""))
    except ValueError:
        raise ValidationFailed(message, field=field_name) from None


def read_signature_png(data: object) -> bytes:
    """The drawn signature: a PNG of sensible size with something drawn on it."""
    raw = data if isinstance(data, bytes) else b""
    if not raw:
        raise ValidationFailed(
            "The patient or agent signs on the screen before the fills are handed over.", field="signature_png"
        )
    if not raw.startswith(PNG_HEADER):
        raise ValidationFailed("The signature must be a PNG image.", field="signature_png")
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise ValidationFailed("The signature image is too large.", field="signature_png")
    try:
        with Image.open(io.BytesIO(raw)) as image:
            drawn = image.convert("RGBA")
            # Ink is whatever is not transparent and not white: a blank canvas has none.
            alpha = drawn.getchannel("A").point(lambda a: 255 if a > 0 else 0)
            dark = drawn.convert("L").point(lambda v: 255 if v < 200 else 0)
            ink = Image.composite(dark, Image.new("L", drawn.size, 0), alpha)
    except (UnidentifiedImageError, OSError, ValueError):
        raise ValidationFailed("The signature image cannot be read; sign again.", field="signature_png") from None
    if ink.getbbox() is None:
        raise ValidationFailed("The signature box is empty: the patient or agent signs in it.", field="signature_png")
    return raw


def pickup_input(values: Mapping[str, Any]) -> PickupInput:
    """The pickup's fields as typed at the counter or sent over REST, checked for shape."""
    return PickupInput(
        picked_up_by=_choice(
            PickedUpBy,
            values.get("picked_up_by"),
            "picked_up_by",
            "Say who collects the medicine: the patient or an agent.",
        ),
        picked_up_by_name=_one_line(
            values.get("picked_up_by_name"),
            "picked_up_by_name",
            2,
            120,
            "Type the name of the person collecting (2 to 120 characters).",
        ),
        counselling=_choice(
            Counselling,
            values.get("counselling"),
            "counselling",
            "Record the answer to the offer to counsel: accepted or declined.",
        ),
        counsel_signature_id=str(values.get("counsel_signature_id") or ""),
        signature_png=read_signature_png(values.get("signature_png")),
        id_type=" ".join(str(values.get("id_type") or "").split())[:40],
        id_number=" ".join(str(values.get("id_number") or "").split())[:40],
    )


def record_pickup(
    session: Session,
    ctx: TenantContext,
    *,
    bill_id: str,
    branch_id: str,
    patient_id: str,
    fill_ids: Sequence[str],
    pickup: PickupInput | Mapping[str, Any] | None,
) -> str:
    """Record the hand-over of a bill's fills (billing calls it while finalizing the bill); the pickup's id.

    Refused, and nothing is written: no pickup details; a fill that is no longer checked (picked up at
    another till, returned); a counselling signature that is not a pharmacist's fresh signature of this
    bill (a cashier cannot counsel); a controlled fill without the ID the chain's setting asks for.
    """
    require(ctx, "prescriptions.pickup")
    if pickup is None:
        raise ValidationFailed(
            "This bill hands over prescription fills: record the pickup (counselling, ID, signature) first.",
            field="pickup",
        )
    given = pickup if isinstance(pickup, PickupInput) else pickup_input(pickup)
    rows = session.execute(
        text(_FILL_AT_COUNTER + "WHERE f.id = ANY(CAST(:ids AS uuid[])) ORDER BY f.code FOR UPDATE OF f"),
        {"ids": [as_uuid(str(f), "fill") for f in fill_ids]},
    ).all()
    if len(rows) != len(set(fill_ids)):
        raise NotFound("No such fill.")
    for row in rows:
        _refuse_unless_checked(row)
        if str(row.patient_id) != str(patient_id):
            raise ValidationFailed(f"Fill {row.code} is another patient's; it cannot go on this bill.", field="lines")
    needs_id = [r.code for r in rows if r.schedule and r.schedule in id_check_schedules(session)]
    if needs_id and not (given.id_type and given.id_number):
        raise ValidationFailed(
            f"Controlled substance ({', '.join(needs_id)}): check the ID of the person collecting and record its "
            "type and number.",
            field="id_number",
        )
    counsellor = require_fresh_signature(
        session,
        ctx,
        given.counsel_signature_id,
        entity_type="bill",
        entity_id=bill_id,
        by_permission="prescriptions.counsel",
    )
    id_type = given.id_type if needs_id or given.id_number else ""
    id_number = given.id_number if needs_id or given.id_type else ""
    if bool(id_type) != bool(id_number):  # was a CHECK on the plaintext column
        raise ValidationFailed("Enter both the ID's type and its number, or neither.", field="id_number")
    pickup_id = uuid.uuid4()
    session.execute(
        text(
            "INSERT INTO prescription_pickups (tenant_id, id, branch_id, bill_id, patient_id, picked_up_by, "
            "picked_up_by_name_enc, counselling, counselled_by, counsel_signature_id, id_type, id_number_enc, "
            "signature_enc, recorded_by) VALUES (:t, :id, :br, :bill, :p, :by, :name, :counsel, :pharmacist, :sig, "
            ":idt, :idn, :png, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "id": pickup_id,
            "br": as_uuid(branch_id, "branch"),
            "bill": as_uuid(bill_id, "bill"),
            "p": as_uuid(patient_id, "patient"),
            "by": given.picked_up_by,
            "counsel": given.counselling,
            "pharmacist": uuid.UUID(counsellor.user_id),
            "sig": uuid.UUID(counsellor.id),
            "idt": id_type,
            # Who collected, their ID number and their signature identify a person: sealed (issue 16).
            **_sealed_pickup(session, ctx, pickup_id, given, id_number),
            "u": ctx.user_id,
        },
    )
    for row in rows:
        _hand_over(session, ctx, row, pickup_id, given)
    return str(pickup_id)


def _hand_over(session: Session, ctx: TenantContext, fill: Any, pickup_id: uuid.UUID, given: PickupInput) -> None:
    """One fill picked up; its prescription is dispensed once nothing is left to fill, check or collect."""
    session.execute(
        text("UPDATE prescription_fills SET status = :s, pickup_id = :pk WHERE id = :f"),
        {"s": FillStatus.PICKED_UP, "pk": pickup_id, "f": fill.id},
    )
    rx = session.execute(
        text(
            "SELECT r.id, r.status, "
            "(SELECT count(*) FROM prescription_fills o WHERE o.prescription_id = r.id "
            " AND o.status IN ('awaiting_check', 'checked')) AS waiting, "
            "(SELECT o.owed_after FROM prescription_fills o WHERE o.prescription_id = r.id "
            " ORDER BY o.dispensing DESC, o.part DESC LIMIT 1) AS owed "
            "FROM prescriptions r JOIN prescription_fills f ON f.tenant_id = r.tenant_id "
            "AND f.prescription_id = r.id WHERE f.id = :f FOR UPDATE OF r"
        ),
        {"f": fill.id},
    ).one()
    before = RxStatus(rx.status)
    after = RxStatus.DISPENSED if rx.waiting == 0 and rx.owed == 0 else before
    if after != before:
        session.execute(
            text("UPDATE prescriptions SET status = :s, updated_at = now() WHERE id = :id"), {"s": after, "id": rx.id}
        )
    # The history names nobody (the pickup record holds the sealed name): "by an agent", not the agent's name.
    who = "the patient" if given.picked_up_by == PickedUpBy.PATIENT else "an agent"
    reason = f"{fill.code}: picked up by {who}; counselling {given.counselling}"
    if given.id_number:
        reason += f"; ID {given.id_type} checked"
    session.execute(
        text(
            "INSERT INTO prescription_events (tenant_id, prescription_id, action, from_status, to_status, reason, "
            "user_id) VALUES (:t, :p, 'picked_up', :f, :s, :r, :u)"
        ),
        {"t": ctx.tenant_id, "p": rx.id, "f": before, "s": after, "r": reason[:500], "u": ctx.user_id},
    )


@dataclass(frozen=True)
class Pickup:
    id: str
    bill_id: str
    picked_up_by: PickedUpBy
    picked_up_by_name: str
    counselling: Counselling
    counselled_by: str  # the pharmacist's name
    id_type: str
    id_number: str
    signature_png: bytes
    picked_up_at: Any


def pickup_of_fill(session: Session, ctx: TenantContext, fill_id: str) -> Pickup | None:
    """The hand-over of a fill (None until it is picked up)."""
    require(ctx, "prescriptions.view")
    row = session.execute(
        text(
            "SELECT k.*, coalesce(u.full_name, '') AS pharmacist FROM prescription_fills f "
            "JOIN prescription_pickups k ON k.tenant_id = f.tenant_id AND k.id = f.pickup_id "
            "LEFT JOIN users u ON u.id = k.counselled_by WHERE f.id = :f"
        ),
        {"f": as_uuid(fill_id, "fill")},
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        return None
    keys = chain_keys(session, ctx.tenant_id)
    return Pickup(
        str(row.id),
        str(row.bill_id),
        PickedUpBy(row.picked_up_by),
        keys.open(PICKUPS, "picked_up_by_name_enc", row.id, row.picked_up_by_name_enc),
        Counselling(row.counselling),
        row.pharmacist,
        row.id_type,
        keys.open(PICKUPS, "id_number_enc", row.id, row.id_number_enc),
        keys.open_bytes(PICKUPS, "signature_enc", row.id, row.signature_enc),
        row.picked_up_at,
    )


PICKUPS = "prescription_pickups"
SEALED_PICKUP_COLUMNS = ("picked_up_by_name_enc", "id_number_enc", "signature_enc")


def _sealed_pickup(
    session: Session, ctx: TenantContext, pickup_id: uuid.UUID, given: PickupInput, id_number: str
) -> dict[str, bytes]:
    keys = chain_keys(session, ctx.tenant_id)
    return {
        "name": keys.seal(PICKUPS, "picked_up_by_name_enc", pickup_id, given.picked_up_by_name),
        "idn": keys.seal(PICKUPS, "id_number_enc", pickup_id, id_number),
        "png": keys.seal_bytes(PICKUPS, "signature_enc", pickup_id, given.signature_png),
    }


def reseal_pickups(session: Session, ctx: TenantContext, after: object, limit: int) -> tuple[object, int]:
    """One batch of a key rotation's re-encryption of the pickups."""
    require(ctx, "keys.rotate")
    return reseal_rows(session, chain_keys(session, ctx.tenant_id), PICKUPS, SEALED_PICKUP_COLUMNS, after, limit)


@dataclass(frozen=True)
class HandedOverFill:
    """A fill as the portal's feedback sees it: whose it is, where it was handed over, and when."""

    id: str
    patient_id: str
    branch_id: str
    description: str
    picked_up: bool
    pickup_id: str | None
    picked_up_at: datetime | None


def handed_over_fill(session: Session, fill_id: object) -> HandedOverFill | None:
    """One fill and whether it was picked up (None: no such fill), for a caller that checked its own
    permission (a customer rating the visit; their patient is checked by the caller)."""
    try:
        key = uuid.UUID(str(fill_id))
    except ValueError:
        return None
    row = session.execute(
        text(
            "SELECT f.id, r.patient_id, f.branch_id, f.status, f.pickup_id, p.picked_up_at, "
            "trim(m.generic_name || ' ' || m.strength) AS description "
            "FROM prescription_fills f JOIN prescriptions r ON r.tenant_id = f.tenant_id AND r.id = f.prescription_id "
            "JOIN medicines m ON m.tenant_id = f.tenant_id AND m.id = f.medicine_id "
            "LEFT JOIN prescription_pickups p ON p.tenant_id = f.tenant_id AND p.id = f.pickup_id WHERE f.id = :f"
        ),
        {"f": key},
    ).first()
    if row is None:
        return None
    return HandedOverFill(
        id=str(row.id),
        patient_id=str(row.patient_id),
        branch_id=str(row.branch_id),
        description=row.description,
        picked_up=row.status == FillStatus.PICKED_UP,
        pickup_id=str(row.pickup_id) if row.pickup_id else None,
        picked_up_at=row.picked_up_at,
    )
