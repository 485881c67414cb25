"""OCR of a prescription's original: the `ocr` job, what it read per field, the person's confirmation
(each field confirmed or corrected, recorded), and the chain's per-field accuracy report.

The reading is a suggestion: nothing OCR read reaches the prescription until a person confirms it on the
confirm screen, and then it goes through data entry (`service.save_entry`) with its usual checks; the
draft moves on to the pharmacist's verification when everything verification needs is there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import ValidationFailed
from backend.core.logging import log_event
from backend.core.validation import as_uuid
from backend.jobs.registry import job
from backend.jobs.service import outbox_status
from backend.ocr.fields import FIELDS  # issue 15 section 2, in the order the confirm screen shows them
from backend.ocr.images import ImageRefused
from backend.ocr.pipeline import read_prescription
from backend.prescriptions import service
from backend.prescriptions.enums import ReadingStatus
from backend.prescriptions.originals import OCR_JOB, original_bytes, original_preview
from backend.prescriptions.prescribers import find_prescribers
from backend.protection.keys import ChainKeys, chain_keys
from tenants.context import TenantContext
from tenants.roles import require

log = logging.getLogger(__name__)

LOW_CONFIDENCE = 0.8  # the pipeline's threshold: below it (or missing) the screen marks the field
MAX_VALUE = 500  # checked here (`_value`): the sealed columns cannot be checked by the database
FIELDS_TABLE = "prescription_reading_fields"
# What OCR read and what the person confirmed are sealed (issue 16): they hold the patient's name, date of
# birth and address as written on the prescription. Field names, confidences and boxes stay plain.
SEALED = ("value_enc", "confirmed_value_enc")


def _row_id(prescription_id: object, name: str) -> str:
    """The row a sealed value is bound to: a field of one prescription's reading."""
    return f"{prescription_id}/{name}"


def _seal(keys: ChainKeys, column: str, prescription_id: object, name: str, value: str | None) -> bytes | None:
    return None if value is None else keys.seal(FIELDS_TABLE, column, _row_id(prescription_id, name), value)


def _open(keys: ChainKeys, column: str, prescription_id: object, name: str, sealed: bytes | None) -> str | None:
    return None if sealed is None else keys.open(FIELDS_TABLE, column, _row_id(prescription_id, name), sealed)


@dataclass(frozen=True)
class ReadField:
    name: str
    value: str  # what OCR read ("" when it could not)
    confidence: float
    page: int | None
    box: tuple[int, int, int, int] | None  # left, top, right, bottom in the stored page's pixels
    confirmed_value: str | None
    corrected: bool | None

    @property
    def low(self) -> bool:
        return self.confidence < LOW_CONFIDENCE or not self.value


@dataclass(frozen=True)
class ReadingView:
    prescription_id: str
    status: ReadingStatus
    job_status: str  # the outbox row: pending (waiting for the relay), relayed (with a worker), done
    engine: str
    seconds: float | None
    error: str
    width: int | None
    height: int | None
    pages: int
    queued_at: datetime
    read_at: datetime | None
    confirmed_at: datetime | None
    fields: list[ReadField] = field(default_factory=list)


def _value(value: object) -> str:
    return "" if value is None else str(value).replace("\x00", "").strip()[:MAX_VALUE]


# --- the job --------------------------------------------------------------------------------------------


@job(OCR_JOB)
def read_original(session: Session, ctx: TenantContext, *, prescription_id: str) -> str:
    """Read a stored original with OCR and keep each field (value, confidence, box, page).

    Idempotent: a reading already done (or confirmed) is left as it is, and the fields are inserted
    with ON CONFLICT DO NOTHING, so a job handed over twice or retried after a crash has one effect.
    A file the pipeline refuses marks the reading failed (retrying would refuse it again); any other
    error propagates so RQ retries the job."""
    key = as_uuid(prescription_id, "prescription")
    reading = session.execute(
        text("SELECT status FROM prescription_readings WHERE prescription_id = :p FOR UPDATE"), {"p": key}
    ).first()
    if reading is None or ReadingStatus(reading.status) is not ReadingStatus.QUEUED:
        return "nothing to do"
    image = original_bytes(session, ctx, key)
    if image is None:
        return "no original"
    try:
        result = read_prescription(image[1])
    except ImageRefused as exc:
        session.execute(
            text(
                "UPDATE prescription_readings SET status = 'failed', error = :e, read_at = now() "
                "WHERE prescription_id = :p"
            ),
            {"p": key, "e": exc.message[:500]},
        )
        return "refused"
    keys = chain_keys(session, ctx.tenant_id)
    for name in FIELDS:
        found = result.fields.get(name)
        box = found.box if found is not None else None
        read = _value(found.value) if found is not None and found.value is not None else None
        session.execute(
            text(
                "INSERT INTO prescription_reading_fields (tenant_id, prescription_id, field, value_enc, confidence, "
                "page, box_left, box_top, box_right, box_bottom) VALUES (:t, :p, :f, :v, :c, :page, :l, :top, :r, :b) "
                "ON CONFLICT DO NOTHING"
            ),
            {
                "t": ctx.tenant_id,
                "p": key,
                "f": name,
                "v": _seal(keys, "value_enc", key, name, read),
                "c": round(min(1.0, max(0.0, float(found.confidence))), 3) if found is not None else 0,
                "page": result.page_of.get(name) if box is not None else None,
                "l": round(box.left) if box is not None else None,
                "top": round(box.top) if box is not None else None,
                "r": round(box.right) if box is not None else None,
                "b": round(box.bottom) if box is not None else None,
            },
        )
    session.execute(
        text(
            "UPDATE prescription_readings SET status = 'read', engine = :e, seconds = :s, read_at = now() "
            "WHERE prescription_id = :p"
        ),
        {"p": key, "e": result.engine[:40], "s": round(result.seconds, 3)},
    )
    log_event(log, "prescription.ocr_read", seconds=round(result.seconds, 3), engine=result.engine)
    return "read"


# --- reading it -----------------------------------------------------------------------------------------


def get_reading(session: Session, ctx: TenantContext, prescription_id: str) -> ReadingView | None:
    """What OCR read from the prescription's original (None when it has no reading), with the job's
    progress; written to the patient access log like opening the prescription."""
    require(ctx, "prescriptions.view")
    key = as_uuid(prescription_id, "prescription")
    service.get_prescription(session, ctx, prescription_id)  # scope check (404) + the access log
    row = session.execute(
        text(
            "SELECT r.*, i.width, i.height, i.pages FROM prescription_readings r "
            "JOIN prescription_images i ON i.tenant_id = r.tenant_id AND i.prescription_id = r.prescription_id "
            "WHERE r.prescription_id = :p"
        ),
        {"p": key},
    ).first()
    if row is None:
        return None
    rows = {
        f.field: f
        for f in session.execute(
            text("SELECT * FROM prescription_reading_fields WHERE prescription_id = :p"), {"p": key}
        ).all()
    }
    keys = chain_keys(session, ctx.tenant_id)
    fields = []
    for name in FIELDS if rows else ():
        f = rows.get(name)
        if f is None:
            continue
        box = (
            (f.box_left, f.box_top, f.box_right, f.box_bottom)
            if f.box_left is not None and f.box_top is not None and f.box_right is not None and f.box_bottom is not None
            else None
        )
        value = _open(keys, "value_enc", key, name, f.value_enc) or ""
        confirmed = _open(keys, "confirmed_value_enc", key, name, f.confirmed_value_enc)
        fields.append(ReadField(name, value, float(f.confidence), f.page, box, confirmed, f.corrected))
    return ReadingView(
        prescription_id=str(key),
        status=ReadingStatus(row.status),
        job_status=outbox_status(session, row.job_id) or "done",
        engine=row.engine,
        seconds=float(row.seconds) if row.seconds is not None else None,
        error=row.error,
        width=row.width,
        height=row.height,
        pages=row.pages,
        queued_at=row.queued_at,
        read_at=row.read_at,
        confirmed_at=row.confirmed_at,
        fields=fields,
    )


def reading_progress(session: Session, ctx: TenantContext, prescription_id: str) -> tuple[ReadingStatus, str] | None:
    """Where the reading is (its status and the job's), for a page polling until it lands. Holds no
    patient data, so it is not written to the access log (the fields are read through `get_reading`)."""
    require(ctx, "prescriptions.view")
    key = as_uuid(prescription_id, "prescription")
    row = session.execute(
        text(
            "SELECT r.status, r.job_id, p.branch_id FROM prescription_readings r "
            "JOIN prescriptions p ON p.tenant_id = r.tenant_id AND p.id = r.prescription_id "
            "WHERE r.prescription_id = :p"
        ),
        {"p": key},
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        return None
    return ReadingStatus(row.status), outbox_status(session, row.job_id) or "done"


def page_image(session: Session, ctx: TenantContext, prescription_id: str) -> tuple[str, bytes] | None:
    """The page the reading's boxes refer to (the picture, or a PDF's first page as PNG); logged like
    opening the prescription's original."""
    found = service.prescription_image(session, ctx, prescription_id)  # scope check + the access log
    if found is None:
        return None
    if found[0] != "application/pdf":
        return found
    preview = original_preview(session, ctx, as_uuid(prescription_id, "prescription"))
    return ("image/png", preview) if preview else None


# --- the person confirms --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Confirmation:
    prescription: service.Prescription
    corrected: list[str]
    submitted: bool
    missing: str  # what data entry still needs before verification ("" when it was submitted)


def _prescriber_id(session: Session, ctx: TenantContext, name: str) -> str | None:
    """The chain's prescriber of exactly that name (case and spacing aside), when there is one only."""
    wanted = " ".join(name.lower().split())
    if not wanted:
        return None
    found = [p for p in find_prescribers(session, ctx, name).items if " ".join(p.full_name.lower().split()) == wanted]
    return found[0].id if len(found) == 1 else None


def confirm_reading(
    session: Session, ctx: TenantContext, prescription_id: str, values: Mapping[str, Any]
) -> Confirmation:
    """The person's answer to the reading: each field as confirmed (the value OCR read, or what they typed
    instead). Records per field what was corrected, saves the entry (the drug through the drug matcher,
    the prescriber when the chain has exactly one of that name), and sends the draft on to verification
    when everything verification needs is there; otherwise it stays in data entry naming what is missing.
    Refused (nothing written) unless the reading is read and not yet confirmed."""
    require(ctx, "prescriptions.enter")
    key = as_uuid(prescription_id, "prescription")
    reading = session.execute(
        text("SELECT status FROM prescription_readings WHERE prescription_id = :p FOR UPDATE"), {"p": key}
    ).first()
    if reading is None:
        raise ValidationFailed("This prescription has no OCR reading to confirm.", field="reading")
    status = ReadingStatus(reading.status)
    if status is ReadingStatus.CONFIRMED:
        raise service.RefusedTransition("This reading was already confirmed.")
    if status is not ReadingStatus.READ:
        raise service.RefusedTransition("The original has not been read yet.")
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown field: {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    keys = chain_keys(session, ctx.tenant_id)
    rows = {
        f.field: _open(keys, "value_enc", key, f.field, f.value_enc) or ""
        for f in session.execute(
            text("SELECT field, value_enc FROM prescription_reading_fields WHERE prescription_id = :p"), {"p": key}
        ).all()
    }
    final = {name: _value(values[name]) if name in values else rows.get(name, "") for name in FIELDS}
    drug = final["drug"] or final["drug_as_written"]
    medicines = service.match_medicines(session, ctx, drug, final["strength"]) if drug else []
    entry: dict[str, Any] = {
        "drug_written": final["drug_as_written"] or final["drug"],
        "strength": final["strength"],
        "sig_written": final["sig"],
        "quantity": final["quantity"] or None,
        "quantity_unit": final["quantity_unit"],
        "refills_authorized": final["refills"] or None,
        "date_written": final["date_written"] or None,
        "medicine_id": medicines[0].id if len(medicines) >= 1 else None,
        "prescriber_id": _prescriber_id(session, ctx, final["prescriber"]),
    }
    record = service.save_entry(session, ctx, prescription_id, **entry)  # refuses bad values naming the field
    corrected = []
    for name in FIELDS:
        read = rows.get(name, "")
        changed = " ".join(final[name].lower().split()) != " ".join(read.lower().split())
        if changed:
            corrected.append(name)
        session.execute(
            text(
                "INSERT INTO prescription_reading_fields AS f (tenant_id, prescription_id, field, value_enc, "
                "confidence, confirmed_value_enc, corrected) VALUES (:t, :p, :f, NULL, 0, :v, :c) "
                "ON CONFLICT (tenant_id, prescription_id, field) DO UPDATE SET confirmed_value_enc = :v, corrected = :c"
            ),
            {
                "t": ctx.tenant_id,
                "p": key,
                "f": name,
                "v": _seal(keys, "confirmed_value_enc", key, name, final[name]),
                "c": changed,
            },
        )
    session.execute(
        text(
            "UPDATE prescription_readings SET status = 'confirmed', confirmed_at = now(), confirmed_by = :u "
            "WHERE prescription_id = :p"
        ),
        {"p": key, "u": ctx.user_id},
    )
    missing = [label for name, label in service.MISSING.items() if getattr(record, name) in (None, "")]
    if missing:
        return Confirmation(record, corrected, False, f"Enter {', '.join(missing)} before sending it for verification.")
    record = service.submit_for_verification(session, ctx, prescription_id)
    return Confirmation(record, corrected, True, "")


def reseal_reading_fields(session: Session, ctx: TenantContext, after: Any, limit: int) -> tuple[Any, int]:
    """One batch of a key rotation's re-encryption of the read fields: the next `limit` rows by
    (prescription, field) after `after`, each stale value sealed again. Returns (the last key seen, or
    None at the end; values changed). The row key is two columns, so `reseal_rows` (one uuid id) does not fit."""
    require(ctx, "keys.rotate")
    keys = chain_keys(session, ctx.tenant_id)
    prescription, name = after if after is not None else (None, "")
    rows = session.execute(
        text(
            "SELECT prescription_id, field, value_enc, confirmed_value_enc FROM prescription_reading_fields "
            "WHERE CAST(:p AS uuid) IS NULL OR (prescription_id, field) > (CAST(:p AS uuid), :f) "
            "ORDER BY prescription_id, field LIMIT :n FOR UPDATE"
        ),
        {"p": prescription, "f": name, "n": limit},
    ).all()
    changed = 0
    for row in rows:
        row_id = _row_id(row.prescription_id, row.field)
        stale = {c: getattr(row, c) for c in SEALED if getattr(row, c) is not None}
        fresh = {c: keys.reseal(FIELDS_TABLE, c, row_id, v) for c, v in stale.items()}
        fresh = {c: v for c, v in fresh.items() if v is not None}
        if fresh:
            changed += len(fresh)
            session.execute(
                text(
                    f"UPDATE prescription_reading_fields SET {', '.join(f'{c} = :{c}' for c in fresh)} "  # noqa: S608
                    "WHERE prescription_id = :p AND field = :f"
                ),
                {"p": row.prescription_id, "f": row.field, **fresh},
            )
    last = (str(rows[-1].prescription_id), rows[-1].field) if len(rows) == limit else None
    return last, changed


# --- the chain's report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldAccuracy:
    field: str
    confirmed: int  # readings a person confirmed
    right: int  # of those, how many OCR had right (not corrected)

    @property
    def rate(self) -> float | None:
        return self.right / self.confirmed if self.confirmed else None


def accuracy_report(session: Session, ctx: TenantContext) -> list[FieldAccuracy]:
    """Per field, how often OCR was right across the chain's confirmed readings (names only; no patient data)."""
    require(ctx, "prescriptions.view")
    counts = {
        r.field: r
        for r in session.execute(
            text(
                "SELECT field, count(*) AS confirmed, count(*) FILTER (WHERE NOT corrected) AS right_ "
                "FROM prescription_reading_fields WHERE corrected IS NOT NULL GROUP BY field"
            )
        ).all()
    }
    return [
        FieldAccuracy(name, int(counts[name].confirmed), int(counts[name].right_))
        if name in counts
        else FieldAccuracy(name, 0, 0)
        for name in FIELDS
    ]
