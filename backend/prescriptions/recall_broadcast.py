"""The recall broadcast (issue 18 §6): "notify everyone who received this lot".

1. `start_broadcast` (pharmacist or owner, after a trace): inserts one `recall_broadcasts` row per chain,
   medicine and lot (upper-cased) with ON CONFLICT DO NOTHING, so a second click, or two members at once,
   find the first broadcast and notify nobody again. The inserting transaction puts the outbox job
   `prescriptions.recall_broadcast` on the queue; nothing is sent if it rolls back.
2. The job (as the system, over every branch of the chain: a recall is the chain's, whoever clicked)
   re-runs the trace and writes the messages in batches of `BATCH` patients, each batch its own transaction,
   then puts the next batch on the outbox. So a recall of thousands of patients neither holds the clicking
   request nor one long transaction, and a batch that fails is retried by the outbox without doubling
   anything: every message has the dedupe key `recall:<broadcast>:p:<patient>:<channel>`.
   Per patient: the LOT_RECALL message (`message_for_patient`: the medicine and lot only if the chain allows
   detail for recalls and the patient consented) on every channel with an address on file, the patient's
   reminder channel first (a recall is a safety message: both e-mail and text when both are on file). No
   consent to be contacted, or no address at all: one `suppressed` row with the reason, for the report.
3. The last batch writes a staff e-mail to the managers and pharmacists of each branch where the lot was
   dispensed or sold ("Lot X of M is recalled; N patients of B are being notified"; no patient named).
4. `broadcast_progress` counts the patient messages by status (nothing about a patient: the page polls it);
   `broadcast_report` lists each patient of the member's trace with what became of their messages, for the
   pharmacist to phone those not reached. It re-runs the trace, so each patient listed is written to the
   access log as the trace is.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.accounts.staff import branch_mail_recipients
from backend.core.errors import NotFound, ValidationFailed
from backend.core.validation import as_uuid
from backend.jobs.registry import job
from backend.jobs.service import enqueue_job
from backend.notifications.delivery import MessageStatus, queue_patient_message
from backend.notifications.disclosure import MessageKind
from backend.notifications.notify import Channel
from backend.notifications.staff import queue_staff_message
from backend.patients.message_consent import message_for_patient
from backend.prescriptions import recall
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import MANAGER, PHARMACIST, require

PERMISSION = "prescriptions.recall_notify"
BROADCAST_JOB = "prescriptions.recall_broadcast"
STAFF_KIND = "staff.lot_recall"
BATCH = 200  # patients whose messages one job writes in one transaction


def patient_prefix(broadcast_id: object) -> str:
    return f"recall:{broadcast_id}:p:"


@dataclass(frozen=True)
class Broadcast:
    id: str
    lot_number: str
    medicine: str
    started_at: datetime
    started_by: str  # the member's name
    patients: int  # traced when it started
    patients_written: int
    staff_messages: int
    written: bool  # every message written (the job's last batch ran)
    created: bool = False  # False: this click found an earlier broadcast of the lot


@dataclass(frozen=True)
class Progress:
    broadcast: Broadcast
    counts: dict[str, int]  # patient messages by status: queued, sent, failed, suppressed

    @property
    def done(self) -> bool:
        return self.broadcast.written and not self.counts.get(MessageStatus.QUEUED.value, 0)

    @property
    def percent(self) -> int:
        total = sum(self.counts.values())
        if not self.broadcast.written or not total:
            # still writing: the share of patients written so far, below the half
            return min(50, 50 * self.broadcast.patients_written // max(1, self.broadcast.patients))
        settled = total - self.counts.get(MessageStatus.QUEUED.value, 0)
        return 50 + 50 * settled // total


@dataclass(frozen=True)
class ChannelOutcome:
    channel: str
    recipient: str  # masked
    status: str
    reason: str


@dataclass(frozen=True)
class PatientOutcome:
    patient_id: str
    patient_name: str
    branch: str
    outcome: str  # sent / sending / failed / no contact
    channels: list[ChannelOutcome]


@dataclass(frozen=True)
class Report:
    progress: Progress
    patients: list[PatientOutcome] = field(default_factory=list)  # the member's branches only

    def count(self, outcome: str) -> int:
        return sum(1 for p in self.patients if p.outcome == outcome)


# --- starting -------------------------------------------------------------------------------------------


def _traced(session: Session, ctx: TenantContext, lot_number: object, medicine_id: object) -> recall.LotTrace:
    if medicine_id in (None, ""):
        raise ValidationFailed("Trace the lot and choose the medicine first.", field="medicine_id")
    found = recall.trace_lot(session, ctx, lot_number, medicine_id)
    if found.product is None:
        raise NotFound(f"No lot {found.lot_number} in your branches.")
    return found


def start_broadcast(session: Session, ctx: TenantContext, lot_number: object, medicine_id: object) -> Broadcast:
    """Notify everyone who received this lot of this medicine, once per chain: a second call (a double click,
    another member) answers the first broadcast and writes nothing."""
    require(ctx, PERMISSION)
    found = _traced(session, ctx, lot_number, medicine_id)
    assert found.product is not None
    medicine = uuid.UUID(found.product.medicine_id)
    existing = _find(session, medicine, found.lot_number)
    if existing is not None:
        return existing
    if not found.recipients:
        raise ValidationFailed(f"Nobody received lot {found.lot_number}: there is nobody to notify.")
    broadcast_id = uuid.uuid4()
    inserted = session.execute(
        text(
            "INSERT INTO recall_broadcasts (tenant_id, id, medicine_id, lot_key, lot_number, medicine_label, "
            "started_by, patients) VALUES (:t, :id, :m, upper(:lot), :lot, :label, :u, :n) "
            "ON CONFLICT (tenant_id, medicine_id, lot_key) DO NOTHING RETURNING id"
        ),
        {
            "t": ctx.tenant_id, "id": broadcast_id, "m": medicine, "lot": found.recipients[0].lot_number,
            "label": found.product.label(), "u": ctx.user_id, "n": found.patients,
        },
    ).first()  # fmt: skip
    if inserted is None:  # another member's click committed first: theirs is the broadcast
        first = _find(session, medicine, found.lot_number)
        assert first is not None
        return first
    enqueue_job(session, ctx, BROADCAST_JOB, broadcast_id=str(broadcast_id), after="")
    record_audit(
        session, ctx.tenant_id, "recall.broadcast_started", actor_user_id=ctx.user_id, entity_type="recall_broadcast",
        entity_id=str(broadcast_id), details={"lot": found.lot_number, "medicine_id": str(medicine),
                                              "patients": found.patients},
    )  # fmt: skip
    made = _find(session, medicine, found.lot_number)
    assert made is not None
    return _with_created(made)


def _with_created(b: Broadcast) -> Broadcast:
    return Broadcast(b.id, b.lot_number, b.medicine, b.started_at, b.started_by, b.patients, b.patients_written,
                     b.staff_messages, b.written, created=True)  # fmt: skip


_BROADCAST = (
    "SELECT b.id, b.lot_number, b.medicine_label, b.started_at, coalesce(u.full_name, '') AS started_by, "
    "b.patients, b.patients_written, b.staff_messages, b.written_at FROM recall_broadcasts b "
    "LEFT JOIN users u ON u.id = b.started_by "
)


def _broadcast(row: Any) -> Broadcast:
    return Broadcast(str(row.id), row.lot_number, row.medicine_label, row.started_at, row.started_by, row.patients,
                     row.patients_written, row.staff_messages, row.written_at is not None)  # fmt: skip


def _find(session: Session, medicine: uuid.UUID, lot: str) -> Broadcast | None:
    row = session.execute(
        text(_BROADCAST + "WHERE b.medicine_id = :m AND b.lot_key = upper(:lot)"), {"m": medicine, "lot": lot}
    ).first()
    return _broadcast(row) if row is not None else None


def broadcast_of(session: Session, ctx: TenantContext, lot_number: object, medicine_id: object) -> Broadcast | None:
    """The broadcast of this lot, if one was started (nothing about a patient: no trace, no log)."""
    require(ctx, recall.PERMISSION)
    if medicine_id in (None, ""):
        return None
    return _find(session, as_uuid(str(medicine_id), "medicine"), " ".join(str(lot_number or "").split()))


# --- writing the messages (the outbox job) ----------------------------------------------------------------


def _channels(preferred: str, email: str, phone: str, consented: bool) -> list[tuple[Channel, str]]:
    """The channels to write on: the reminder channel first, then the other one, each only with an address on
    file; none (or no consent): the reminder channel alone, to be suppressed with the reason."""
    first = Channel.SMS if preferred == Channel.SMS.value else Channel.EMAIL
    order = [first, Channel.EMAIL if first is Channel.SMS else Channel.SMS]
    address = {Channel.EMAIL: email, Channel.SMS: phone}
    reachable = [(c, address[c]) for c in order if address[c]]
    if not consented or not reachable:
        return [(first, address[first])]
    return reachable


@job(BROADCAST_JOB)
def write_broadcast(session: Session, ctx: TenantContext, *, broadcast_id: str, after: str = "") -> str:
    """Write the messages of the next `BATCH` patients (ordered by id, after `after`), then queue the next
    batch; the last batch writes the staff messages and marks the broadcast written."""
    row = session.execute(
        text("SELECT * FROM recall_broadcasts WHERE id = :id FOR UPDATE"), {"id": as_uuid(broadcast_id, "broadcast")}
    ).first()
    if row is None:
        return "missing"
    if row.written_at is not None:
        return "already written"
    product = next((p for p in recall._products(session, ctx, row.lot_number)
                    if p.medicine_id == str(row.medicine_id)), None)  # fmt: skip
    recipients = recall._recipients(session, ctx, row.lot_number, product) if product is not None else []
    by_patient: dict[str, list[recall.Recipient]] = defaultdict(list)
    for r in recipients:
        by_patient[r.patient_id].append(r)
    pending = sorted(p for p in by_patient if p > after)
    batch = pending[:BATCH]
    _write_patients(session, ctx, row, {p: by_patient[p] for p in batch})
    session.execute(
        text("UPDATE recall_broadcasts SET patients_written = patients_written + :n WHERE id = :id"),
        {"n": len(batch), "id": row.id},
    )
    if len(pending) > BATCH:
        enqueue_job(session, ctx, BROADCAST_JOB, broadcast_id=broadcast_id, after=batch[-1])
        return f"wrote {len(batch)} patients, more to come"
    staff = _write_staff(session, ctx, row, recipients)
    session.execute(
        text("UPDATE recall_broadcasts SET written_at = now(), staff_messages = :s WHERE id = :id"),
        {"s": staff, "id": row.id},
    )
    return f"wrote {len(batch)} patients and {staff} staff messages"


def _write_patients(session: Session, ctx: TenantContext, row: Any, batch: dict[str, list[recall.Recipient]]) -> None:
    if not batch:
        return
    ids = [uuid.UUID(p) for p in batch]
    preferred = dict(
        session.execute(text("SELECT id, reminder_channel FROM patients WHERE id = ANY(:ids)"), {"ids": ids}).all()
    )
    phones = dict(session.execute(text("SELECT id, phone FROM branches")).all())
    chain = session.execute(text("SELECT name FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}).scalar_one()
    for patient_id, received in batch.items():
        first = received[0]  # where they first received it: the branch they are asked to call
        values = {
            "branch": first.branch, "branch_phone": phones.get(uuid.UUID(first.branch_id)) or "", "chain": chain,
            "medicine": row.medicine_label, "lot": first.lot_number,
        }  # fmt: skip
        message = message_for_patient(session, ctx, patient_id, MessageKind.LOT_RECALL, values)
        wanted = preferred.get(uuid.UUID(patient_id), Channel.EMAIL.value)
        for channel, address in _channels(wanted, first.email, first.phone, first.contact_consent):
            queue_patient_message(
                session, ctx, patient_id=uuid.UUID(patient_id), message=message, channel=channel, address=address,
                consented=first.contact_consent, dedupe_key=f"{patient_prefix(row.id)}{patient_id}:{channel.value}",
                branch_id=first.branch_id,
            )  # fmt: skip


def _write_staff(session: Session, ctx: TenantContext, row: Any, recipients: list[recall.Recipient]) -> int:
    """One e-mail to each manager and pharmacist of each branch where the lot reached a patient."""
    patients: dict[str, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    for r in recipients:
        patients[r.branch_id].add(r.patient_id)
        names[r.branch_id] = r.branch
    written = 0
    for branch_id, people in sorted(patients.items()):
        subject = f"Recall: lot {row.lot_number} of {row.medicine_label}"
        body = (
            f"Lot {row.lot_number} of {row.medicine_label} is recalled; {len(people)} patient(s) of "
            f"{names[branch_id]} are being notified. The report (who could not be reached, to phone) is under "
            "Inventory → Recall trace.\n"
        )
        for address in branch_mail_recipients(session, uuid.UUID(branch_id), (MANAGER, PHARMACIST)):
            digest = hashlib.sha256(address.lower().encode()).hexdigest()[:16]
            queue_staff_message(
                session, ctx, kind=STAFF_KIND, address=address, subject=subject, body=body,
                dedupe_key=f"recall:{row.id}:s:{branch_id}:{digest}",
            )  # fmt: skip
            written += 1
    return written


# --- progress and report --------------------------------------------------------------------------------


def _counts(session: Session, broadcast_id: str) -> dict[str, int]:
    rows = session.execute(
        text("SELECT status, count(*) AS n FROM notification_messages WHERE dedupe_key LIKE :p GROUP BY status"),
        {"p": patient_prefix(broadcast_id) + "%"},
    ).all()
    counts = {s.value: 0 for s in MessageStatus}
    counts.update({r.status: int(r.n) for r in rows})
    return counts


def broadcast_progress(session: Session, ctx: TenantContext, broadcast_id: object) -> Progress:
    """How far the broadcast is: patient messages by status (no patient named, nothing logged)."""
    require(ctx, recall.PERMISSION)
    row = session.execute(text(_BROADCAST + "WHERE b.id = :id"), {"id": as_uuid(str(broadcast_id), "broadcast")})
    found = row.first()
    if found is None:
        raise NotFound("No such recall broadcast.")
    return Progress(_broadcast(found), _counts(session, str(found.id)))


def _outcome(statuses: list[str]) -> str:
    if MessageStatus.SENT.value in statuses:
        return "sent"
    if MessageStatus.QUEUED.value in statuses or not statuses:
        return "sending"
    if MessageStatus.FAILED.value in statuses:
        return "failed"
    return "no contact"


def broadcast_report(session: Session, ctx: TenantContext, lot_number: object, medicine_id: object) -> Report:
    """Each patient of the member's trace with what became of their messages (the trace's access logging)."""
    require(ctx, recall.PERMISSION)
    found = _traced(session, ctx, lot_number, medicine_id)
    assert found.product is not None
    broadcast = _find(session, uuid.UUID(found.product.medicine_id), found.lot_number)
    if broadcast is None:
        raise NotFound(f"Nobody has been notified of lot {found.lot_number} yet.")
    rows = session.execute(
        text(
            "SELECT patient_id, channel, recipient_hint, status, reason FROM notification_messages "
            "WHERE dedupe_key LIKE :p ORDER BY dedupe_key"
        ),
        {"p": patient_prefix(broadcast.id) + "%"},
    ).all()
    messages: dict[str, list[ChannelOutcome]] = defaultdict(list)
    for m in rows:
        messages[str(m.patient_id)].append(ChannelOutcome(m.channel, m.recipient_hint, m.status, m.reason))
    seen: dict[str, recall.Recipient] = {}
    for r in found.recipients:
        seen.setdefault(r.patient_id, r)
    patients = [
        PatientOutcome(pid, r.patient_name, r.branch, _outcome([c.status for c in messages[pid]]), messages[pid])
        for pid, r in seen.items()
    ]
    order = Counter({"failed": 0, "no contact": 1, "sending": 2, "sent": 3})
    patients.sort(key=lambda p: (order[p.outcome], p.patient_name.lower()))
    return Report(Progress(broadcast, _counts(session, broadcast.id)), patients)
