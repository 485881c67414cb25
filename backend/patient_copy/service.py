"""A patient's own copy: record the request, produce the copy (PDF and JSON), record its delivery.

- HIPAA's right of access (45 CFR 164.524(b)(2)): a request is answered within 30 days of the day the
  patient (or their personal representative) asked. `due_on` is that day, computed by the database.
- Producing a copy answers an open request of the patient, or records a new one asked today. Every
  production reads the records afresh (nothing of the copy is stored), is written to the patient's
  access log as 'viewed' with the reason "patient's own copy", and is audited; so is a delivery.
- Owners only (`patients.copy`): the copy holds the whole record, every prescription, bill and the
  access log. Services take `(session, ctx, ...)`; the adapter owns the transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.validation import as_uuid
from backend.patient_copy.contents import copy_json, read_copy
from backend.patient_copy.pdf import copy_pdf
from backend.patient_copy.statuses import AskedBy, CopyStatus, DeliveryMethod
from backend.patients.service import patient_summary
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

ACCESS_DAYS = 30  # 45 CFR 164.524(b)(2); the migration computes due_on with the same number
NOTE_LIMIT = 500
EARLIEST_REQUEST = date(2000, 1, 1)


class AlreadyDelivered(Conflict):
    code = "copy_already_delivered"


class NotProducedYet(Conflict):
    code = "copy_not_produced"


@dataclass(frozen=True)
class CopyRequest:
    id: str
    patient_id: str
    asked_by: AskedBy
    requested_on: date
    due_on: date
    note: str
    status: CopyStatus
    recorded_by: str
    recorded_at: datetime
    produced_by: str
    produced_at: datetime | None
    delivery_method: DeliveryMethod | None
    delivery_note: str
    delivered_by: str
    delivered_at: datetime | None

    def overdue(self, today: date) -> bool:
        return self.status in CopyStatus.open() and today > self.due_on


@dataclass(frozen=True)
class ProducedCopy:
    request: CopyRequest
    file_stem: str  # no name or date of birth in a file name: it shows in download folders and mail
    pdf: bytes
    json: bytes


_REQUEST_SQL = (
    "SELECT q.*, coalesce(rec.full_name, '') AS recorder, coalesce(pro.full_name, '') AS producer, "
    "coalesce(dlv.full_name, '') AS deliverer FROM patient_copy_requests q "
    "LEFT JOIN users rec ON rec.id = q.recorded_by LEFT JOIN users pro ON pro.id = q.produced_by "
    "LEFT JOIN users dlv ON dlv.id = q.delivered_by "
)


def _request_of(row: Any) -> CopyRequest:
    return CopyRequest(
        id=str(row.id),
        patient_id=str(row.patient_id),
        asked_by=AskedBy(row.asked_by),
        requested_on=row.requested_on,
        due_on=row.due_on,
        note=row.note,
        status=CopyStatus(row.status),
        recorded_by=row.recorder or "an API token",
        recorded_at=row.recorded_at,
        produced_by=row.producer or ("an API token" if row.produced_at else ""),
        produced_at=row.produced_at,
        delivery_method=DeliveryMethod(row.delivery_method) if row.delivery_method else None,
        delivery_note=row.delivery_note,
        delivered_by=row.deliverer or ("an API token" if row.delivered_at else ""),
        delivered_at=row.delivered_at,
    )


def _load(session: Session, key: uuid.UUID) -> CopyRequest:
    row = session.execute(text(_REQUEST_SQL + "WHERE q.id = :id"), {"id": key}).first()
    if row is None:
        raise NotFound("No such copy request.")
    return _request_of(row)


def _note(value: object, field: str) -> str:
    typed = " ".join(str(value or "").replace("\x00", "").split())
    if len(typed) > NOTE_LIMIT:
        raise ValidationFailed(f"At most {NOTE_LIMIT} characters here.", field=field)
    return typed


def _asked_by(value: object) -> AskedBy:
    try:
        return AskedBy(str(value or AskedBy.PATIENT))
    except ValueError:
        raise ValidationFailed("Say who asked: the patient or a personal representative.", field="asked_by") from None


def _requested_on(value: object) -> date:
    """The day the patient asked (today when left empty): not in the future, where the 30 days would stretch."""
    today = datetime.now(UTC).date()
    if value in (None, ""):
        return today
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed("Enter the day the patient asked as YYYY-MM-DD.", field="requested_on") from None
    # A day ahead of UTC is still today somewhere a branch may be.
    if day > today + timedelta(days=1):
        raise ValidationFailed("The request cannot be dated in the future.", field="requested_on")
    if day < EARLIEST_REQUEST:
        raise ValidationFailed("Check the date of the request.", field="requested_on")
    return day


def _patient_key(session: Session, ctx: TenantContext, patient_id: str) -> uuid.UUID:
    """The patient, in the member's scope (NotFound otherwise); not logged: it reads no record."""
    return uuid.UUID(patient_summary(session, ctx, patient_id).id)


def _audit(session: Session, ctx: TenantContext, action: str, request: CopyRequest, **details: Any) -> None:
    record_audit(
        session,
        ctx.tenant_id,
        action,
        actor_user_id=ctx.user_id,
        entity_type="patient",
        entity_id=request.patient_id,
        details={"request_id": request.id, **details},
    )


# --- the request ------------------------------------------------------------------------------------


def record_request(
    session: Session,
    ctx: TenantContext,
    patient_id: str,
    *,
    requested_on: object = None,
    asked_by: object = AskedBy.PATIENT,
    note: object = "",
) -> CopyRequest:
    """A patient's request for their copy, dated the day they asked (the 30 days run from it)."""
    require(ctx, "patients.copy")
    key = _patient_key(session, ctx, patient_id)
    request_id = uuid.uuid4()
    session.execute(
        text(
            "INSERT INTO patient_copy_requests (tenant_id, id, patient_id, asked_by, requested_on, note, status, "
            "recorded_by) VALUES (:t, :id, :p, :asked_by, :on, :note, :status, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "id": request_id,
            "p": key,
            "asked_by": _asked_by(asked_by),
            "on": _requested_on(requested_on),
            "note": _note(note, "note"),
            "status": CopyStatus.REQUESTED,
            "u": ctx.user_id,
        },
    )
    request = _load(session, request_id)
    _audit(session, ctx, "patient.copy_requested", request, due_on=request.due_on.isoformat())
    return request


def copy_requests(session: Session, ctx: TenantContext, patient_id: str) -> list[CopyRequest]:
    """The patient's copy requests, newest first."""
    require(ctx, "patients.copy")
    key = _patient_key(session, ctx, patient_id)
    rows = session.execute(
        text(_REQUEST_SQL + "WHERE q.patient_id = :p ORDER BY q.recorded_at DESC, q.id"), {"p": key}
    ).all()
    return [_request_of(r) for r in rows]


# --- producing and delivering -----------------------------------------------------------------------


def _open_request(session: Session, ctx: TenantContext, key: uuid.UUID, request_id: object) -> uuid.UUID:
    """The request a production answers: the one named (not delivered yet), else the patient's oldest open
    request, else a new one asked today by the patient."""
    if request_id:
        found = session.execute(
            text("SELECT id, status FROM patient_copy_requests WHERE id = :id AND patient_id = :p FOR UPDATE"),
            {"id": as_uuid(str(request_id), "copy request"), "p": key},
        ).first()
        if found is None:
            raise NotFound("No such copy request.")
        if found.status == CopyStatus.DELIVERED:
            raise AlreadyDelivered("This request was already delivered; record a new request for a new copy.")
        return found.id  # type: ignore[no-any-return]
    oldest = session.execute(
        text(
            "SELECT id FROM patient_copy_requests WHERE patient_id = :p AND status = ANY(:open) "
            "ORDER BY requested_on, recorded_at LIMIT 1 FOR UPDATE"
        ),
        {"p": key, "open": [s.value for s in CopyStatus.open()]},
    ).scalar()
    if oldest is not None:
        return oldest  # type: ignore[no-any-return]
    return uuid.UUID(record_request(session, ctx, str(key)).id)


def produce_copy(session: Session, ctx: TenantContext, patient_id: str, *, request_id: object = None) -> ProducedCopy:
    """Make the patient's copy (PDF and JSON) from the records as they are now and mark the request produced.

    Answers the request named, else the patient's oldest open one, else records a request asked today.
    The reading is written to the patient's access log (reason "patient's own copy") and audited.
    """
    require(ctx, "patients.copy")
    key = _patient_key(session, ctx, patient_id)
    request_key = _open_request(session, ctx, key, request_id)
    now = datetime.now(UTC)
    session.execute(
        text(
            "UPDATE patient_copy_requests SET status = :produced, produced_at = :now, produced_by = :u WHERE id = :id"
        ),
        {"produced": CopyStatus.PRODUCED, "now": now, "u": ctx.user_id, "id": request_key},
    )
    request = _load(session, request_key)
    contents = read_copy(session, ctx, str(key), now)
    _audit(
        session,
        ctx,
        "patient.copy_produced",
        request,
        prescriptions=len(contents.prescriptions),
        bills=len(contents.bills),
        claims=len(contents.claims),
    )
    stem = f"patient-copy-{now:%Y%m%d}-{request.id[:8]}"
    summary = {
        "id": request.id,
        "asked_by": request.asked_by,
        "requested_on": request.requested_on,
        "due_on": request.due_on,
        "produced_by": request.produced_by,
    }
    return ProducedCopy(
        request,
        stem,
        copy_pdf(contents, requested_on=request.requested_on, due_on=request.due_on),
        copy_json(contents, summary),
    )


def record_delivery(
    session: Session, ctx: TenantContext, request_id: str, *, method: object, note: object = ""
) -> CopyRequest:
    """How the produced copy reached the patient (handed over, e-mailed, posted), by whom and when."""
    require(ctx, "patients.copy")
    key = as_uuid(request_id, "copy request")
    try:
        how = DeliveryMethod(str(method or ""))
    except ValueError:
        raise ValidationFailed("Choose how the copy was delivered.", field="method") from None
    typed_note = _note(note, "delivery_note")
    found = session.execute(
        text("SELECT patient_id, status FROM patient_copy_requests WHERE id = :id FOR UPDATE"), {"id": key}
    ).first()
    if found is None:
        raise NotFound("No such copy request.")
    _patient_key(session, ctx, str(found.patient_id))  # the member's scope
    if found.status == CopyStatus.REQUESTED:
        raise NotProducedYet("Produce the copy before recording its delivery.")
    if found.status == CopyStatus.DELIVERED:
        raise AlreadyDelivered("This copy's delivery is already recorded.")
    session.execute(
        text(
            "UPDATE patient_copy_requests SET status = :delivered, delivery_method = :how, delivery_note = :note, "
            "delivered_by = :u, delivered_at = clock_timestamp() WHERE id = :id"
        ),
        {"delivered": CopyStatus.DELIVERED, "how": how, "note": typed_note, "u": ctx.user_id, "id": key},
    )
    request = _load(session, key)
    _audit(session, ctx, "patient.copy_delivered", request, method=how.value)
    return request
