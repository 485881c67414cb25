"""Refills: a request from staff, the patient's call, the portal or auto-refill becomes the next dispensing's
fill when the prescription allows it, else a renewal request to the prescriber.

The rules (US federal; the chain's settings in `prescription_settings`): a refill needs refills left, a
prescription not expired (controlled: 6 months from writing), and the chain's share of the last fill's days'
supply used (`early_refill_threshold`); a CII never has refills (21 CFR 1306.12) and CIII-IV at most five
within six months (21 CFR 1306.22). No refills left, expired or a CII: the prescriber is asked for a new
prescription (a renewal request, recorded here; sending it comes with notifications). Too early: refused
with the date it may be refilled, and nothing is written.

The fill itself is `fills.fill_prescription`, which takes the stock FEFO and uses up the refill. Services
take `(session, ctx, ...)`; the adapter owns the transaction.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import NotFound, PharmacyError, ValidationFailed
from backend.core.logging import log_event
from backend.core.validation import as_uuid
from backend.jobs.registry import job
from backend.jobs.service import enqueue_job
from backend.patients.service import identities
from backend.prescriptions.enums import RefillSource, RenewalStatus, RxStatus
from backend.prescriptions.fills import Fill, TooEarly, fill_prescription, refill_basis, refill_due_on
from backend.prescriptions.service import RefusedTransition, chain_rx_settings, local_today, rx_settings
from tenants.context import TenantContext
from tenants.roles import require

log = logging.getLogger(__name__)

AUTO_REFILL_JOB = "prescriptions.auto_refill"


@dataclass(frozen=True)
class Renewal:
    id: str
    prescription_id: str
    rx_number: str
    patient_name: str
    drug: str
    prescriber_name: str
    reason: str
    status: RenewalStatus
    requested_at: datetime
    requested_by: str
    answer_reason: str = ""  # the prescriber's reason for a denial
    renewed_as: str | None = None  # the new prescription of an approved renewal
    renewed_as_rx: str = ""
    answered_by: str = ""


@dataclass(frozen=True)
class RefillOutcome:
    """What a refill request came to: a fill (stock taken, a refill used), or a renewal request and why."""

    fill: Fill | None
    renewal: Renewal | None
    message: str


_RX = text(
    "SELECT r.id, r.rx_number, r.branch_id, r.status, r.schedule, r.expires_on, r.refills_remaining, "
    "r.refills_authorized, r.days_supply, r.prescriber_id, br.time_zone, "
    "(SELECT t.pharmacy_name FROM prescription_transfers t WHERE t.prescription_id = r.id AND t.kind = 'outgoing' "
    "ORDER BY t.recorded_at DESC LIMIT 1) AS transferred_to FROM prescriptions r "
    "JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id WHERE r.id = :id FOR UPDATE OF r"
)


def _source(value: object) -> RefillSource:
    try:
        return RefillSource(str(value))
    except ValueError:
        raise ValidationFailed("Say who asked: staff, phone, portal or auto-refill.", field="source") from None


def _refused(row: Any) -> str | None:
    """Why this prescription cannot be refilled at all (not even by a renewal), or None."""
    status = RxStatus(row.status)
    if status is RxStatus.TRANSFERRED_OUT:
        return f"{row.rx_number} was transferred to {row.transferred_to or 'another pharmacy'}; it is refilled there."
    if status is RxStatus.CANCELLED:
        return f"{row.rx_number} is cancelled; it cannot be refilled."
    if status is RxStatus.FILLED:
        return f"{row.rx_number} has a fill waiting for the pharmacist's final check; refill it after that."
    if status not in RxStatus.refillable() and status is not RxStatus.EXPIRED:
        return f"{row.rx_number} is {status.label.lower()}: only a verified, filled prescription is refilled."
    return None


def _renewed(session: Session, key: uuid.UUID) -> str | None:
    """The prescriber renewed it: the refills are on the new prescription now."""
    number = session.execute(
        text(
            "SELECT r.rx_number FROM prescription_renewals n JOIN prescriptions r ON r.tenant_id = n.tenant_id "
            "AND r.id = n.renewed_as WHERE n.prescription_id = :p AND n.status = 'approved' "
            "ORDER BY n.decided_at DESC LIMIT 1"
        ),
        {"p": key},
    ).scalar()
    return f"The prescriber renewed it as {number}: refill that one." if number else None


def _renewal_reason(session: Session, ctx: TenantContext, row: Any, today: date) -> str | None:
    """Why the prescriber must write a new prescription, or None when a refill may be dispensed."""
    del ctx  # the caller checked its permission; the chain's rules are read as they are
    if row.schedule == "CII":
        return "A Schedule II prescription has no refills (21 CFR 1306.12): the prescriber must write a new one."
    if RxStatus(row.status) is RxStatus.EXPIRED or (row.expires_on is not None and row.expires_on < today):
        return f"The prescription expired on {row.expires_on:%Y-%m-%d}."
    if row.refills_remaining <= 0:
        return f"No refills left ({row.refills_authorized} authorized)."
    if row.schedule in ("CIII", "CIV"):
        limit = chain_rx_settings(session).controlled_max_refills
        used = session.execute(
            text("SELECT count(*) FROM prescription_fills WHERE prescription_id = :p AND counts_refill AND part = 1"),
            {"p": row.id},
        ).scalar_one()
        if used >= limit:
            return f"A Schedule III-IV prescription is refilled at most {limit} times (21 CFR 1306.22)."
    return None


def request_refill(
    session: Session,
    ctx: TenantContext,
    prescription_id: str,
    source: object = RefillSource.STAFF,
    *,
    partial: bool = False,
) -> RefillOutcome:
    """Refill a prescription: the next dispensing is filled from stock when refills remain, the prescription is
    valid and the earliest refill date has passed; otherwise the prescriber is asked to renew it (recorded,
    and the answer says why). Too early, or a last fill still waiting, is refused and nothing is written.
    With `partial`, a short shelf fills what is there and owes the rest (as any fill)."""
    require(ctx, "prescriptions.refill")
    asked = _source(source)
    key = as_uuid(prescription_id, "prescription")
    row = session.execute(_RX, {"id": key}).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such prescription.")
    refused = _refused(row) or _renewed(session, key)
    if refused:
        raise RefusedTransition(refused)
    today = local_today(row.time_zone)
    basis = refill_basis(session, key, row.time_zone)
    if RxStatus(row.status) is RxStatus.FILL and not basis.refill:
        raise RefusedTransition(f"{row.rx_number} has not been filled yet: fill the original first.")
    owed = session.execute(
        text(
            "SELECT code, owed_after FROM prescription_fills WHERE prescription_id = :p AND status <> 'returned' "
            "ORDER BY dispensing DESC, part DESC LIMIT 1"
        ),
        {"p": key},
    ).first()
    if owed is not None and owed.owed_after:
        raise RefusedTransition(f"{owed.owed_after} are still owed on {owed.code}: fill the rest before a refill.")
    why = _renewal_reason(session, ctx, row, today)
    if why is not None:
        renewal = _ask_prescriber(session, ctx, row, why)
        _record_request(session, ctx, key, asked, renewal_id=uuid.UUID(renewal.id))
        return RefillOutcome(None, renewal, f"Not refilled: {why} A renewal request to the prescriber is recorded.")
    due = refill_due_on(basis.last_filled_on, row.days_supply, rx_settings(session, ctx).early_refill_threshold)
    if due is not None and due > today:
        raise TooEarly(
            f"Too early to refill: last filled {basis.last_filled_on:%Y-%m-%d} for {row.days_supply} days; "
            f"it may be refilled from {due:%Y-%m-%d}."
        )
    before = RxStatus(row.status)
    if before is not RxStatus.FILL:
        session.execute(
            text("UPDATE prescriptions SET status = 'fill', status_reason = '', updated_at = now() WHERE id = :id"),
            {"id": key},
        )
    _event(session, ctx, key, "refill_requested", before, RxStatus.FILL, f"asked by {asked.label.lower()}")
    done = fill_prescription(session, ctx, str(key), partial=partial)
    _record_request(session, ctx, key, asked, fill_id=uuid.UUID(done.id))
    said = f"Refilled: {done.code}, {done.quantity} filled" + (f", {done.owed_after} owed." if done.owed_after else ".")
    return RefillOutcome(done, None, said)


def _event(
    session: Session, ctx: TenantContext, key: uuid.UUID, action: str, before: RxStatus, after: RxStatus, reason: str
) -> None:
    session.execute(
        text(
            "INSERT INTO prescription_events (tenant_id, prescription_id, action, from_status, to_status, reason, "
            "user_id) VALUES (:t, :p, :a, :f, :s, :r, :u)"
        ),
        {"t": ctx.tenant_id, "p": key, "a": action, "f": before, "s": after, "r": reason[:500], "u": ctx.user_id},
    )


def _record_request(
    session: Session,
    ctx: TenantContext,
    key: uuid.UUID,
    source: RefillSource,
    *,
    fill_id: uuid.UUID | None = None,
    renewal_id: uuid.UUID | None = None,
) -> None:
    session.execute(
        text(
            "INSERT INTO prescription_refill_requests (tenant_id, id, prescription_id, source, fill_id, renewal_id, "
            "requested_by) VALUES (:t, :id, :p, :s, :f, :r, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "id": uuid.uuid4(),
            "p": key,
            "s": source,
            "f": fill_id,
            "r": renewal_id,
            "u": ctx.user_id,
        },
    )


# --- renewal requests -------------------------------------------------------------------------------------

_RENEWAL_SQL = (
    "SELECT n.*, r.rx_number, r.patient_id, coalesce(pr.full_name, '') AS prescriber_name, "
    "coalesce(m.generic_name || ' ' || m.strength, r.drug_written) AS drug, "
    "coalesce(u.full_name, 'auto-refill') AS requester, coalesce(a.full_name, '') AS answerer, "
    "coalesce(nr.rx_number, '') AS renewed_as_rx FROM prescription_renewals n "
    "JOIN prescriptions r ON r.tenant_id = n.tenant_id AND r.id = n.prescription_id "
    "LEFT JOIN prescribers pr ON pr.tenant_id = n.tenant_id AND pr.id = n.prescriber_id "
    "LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
    "LEFT JOIN users u ON u.id = n.requested_by "
    "LEFT JOIN users a ON a.id = n.answered_by "
    "LEFT JOIN prescriptions nr ON nr.tenant_id = n.tenant_id AND nr.id = n.renewed_as "
)


def _renewals(session: Session, ctx: TenantContext, rows: Any) -> list[Renewal]:
    """Renewals from `_RENEWAL_SQL` rows, the patients' names from the patients service (they are sealed)."""
    people = identities(session, ctx, [r.patient_id for r in rows])
    return [_renewal(r, people[r.patient_id].full_name) for r in rows]


def _renewal(row: Any, patient_name: str) -> Renewal:
    return Renewal(
        id=str(row.id),
        prescription_id=str(row.prescription_id),
        rx_number=row.rx_number,
        patient_name=patient_name,
        drug=row.drug,
        prescriber_name=row.prescriber_name,
        reason=row.reason,
        status=RenewalStatus(row.status),
        requested_at=row.requested_at,
        requested_by=row.requester,
        answer_reason=row.answer_reason,
        renewed_as=str(row.renewed_as) if row.renewed_as else None,
        renewed_as_rx=row.renewed_as_rx,
        answered_by=row.answerer,
    )


def _ask_prescriber(session: Session, ctx: TenantContext, row: Any, why: str) -> Renewal:
    """Record a renewal request; one already open for the prescription is the answer (asking twice sends one)."""
    session.execute(
        text(
            "INSERT INTO prescription_renewals (tenant_id, id, prescription_id, branch_id, prescriber_id, reason, "
            "status, requested_by) VALUES (:t, :id, :p, :b, :pr, :r, 'requested', :u) "
            "ON CONFLICT (tenant_id, prescription_id) WHERE status = 'requested' DO NOTHING"
        ),
        {
            "t": ctx.tenant_id,
            "id": uuid.uuid4(),
            "p": row.id,
            "b": row.branch_id,
            "pr": row.prescriber_id,
            "r": why[:500],
            "u": ctx.user_id,
        },
    )
    status = RxStatus(row.status)
    _event(session, ctx, row.id, "renewal_requested", status, status, why)
    found = session.execute(
        text(_RENEWAL_SQL + "WHERE n.prescription_id = :p AND n.status = 'requested'"), {"p": row.id}
    ).one()
    return _renewals(session, ctx, [found])[0]


def renewal_requests(
    session: Session, ctx: TenantContext, branch_id: str, *, status: str = RenewalStatus.REQUESTED
) -> list[Renewal]:
    """A branch's renewal requests (open ones by default), oldest first."""
    require(ctx, "prescriptions.view")
    branch = as_uuid(branch_id, "branch")
    if not ctx.can_see_branch(branch):
        raise NotFound("No such branch.")
    try:
        wanted = RenewalStatus(str(status))
    except ValueError:
        raise ValidationFailed("No such status: requested, approved or denied.", field="status") from None
    rows = session.execute(
        text(_RENEWAL_SQL + "WHERE n.branch_id = :b AND n.status = :s ORDER BY n.requested_at LIMIT 500"),
        {"b": branch, "s": wanted},
    ).all()
    return _renewals(session, ctx, rows)


def renewals_of(session: Session, ctx: TenantContext, prescription_id: str) -> list[Renewal]:
    """A prescription's renewal requests, newest first (shown on its page)."""
    require(ctx, "prescriptions.view")
    key = as_uuid(prescription_id, "prescription")
    branch = session.execute(text("SELECT branch_id FROM prescriptions WHERE id = :p"), {"p": key}).scalar()
    if branch is None or not ctx.can_see_branch(branch):
        raise NotFound("No such prescription.")
    rows = session.execute(
        text(_RENEWAL_SQL + "WHERE n.prescription_id = :p ORDER BY n.requested_at DESC"), {"p": key}
    ).all()
    return _renewals(session, ctx, rows)


# --- auto-refill ------------------------------------------------------------------------------------------


def set_auto_refill(session: Session, ctx: TenantContext, prescription_id: str, enabled: bool) -> bool:
    """Turn auto-refill on or off for a prescription (the patient asked for it); answers the new setting."""
    require(ctx, "prescriptions.enter")
    key = as_uuid(prescription_id, "prescription")
    row = session.execute(
        text("SELECT branch_id, status, auto_refill FROM prescriptions WHERE id = :p FOR UPDATE"), {"p": key}
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such prescription.")
    status = RxStatus(row.status)
    if enabled and status in RxStatus.closed():
        raise RefusedTransition(f"This prescription is {status.label.lower()}; it cannot be refilled automatically.")
    if row.auto_refill != bool(enabled):
        session.execute(
            text("UPDATE prescriptions SET auto_refill = :a, updated_at = now() WHERE id = :p"),
            {"a": bool(enabled), "p": key},
        )
        _event(session, ctx, key, "auto_refill_on" if enabled else "auto_refill_off", status, status, "")
    return bool(enabled)


def due_for_refill(session: Session, ctx: TenantContext, branch_id: str | None = None) -> list[str]:
    """The ids of auto-refill prescriptions (of one branch, or every branch) whose earliest refill date has
    passed and that are waiting for nothing else."""
    require(ctx, "prescriptions.view")
    threshold = rx_settings(session, ctx).early_refill_threshold
    refillable = [s.value for s in RxStatus.refillable()]
    rows = session.execute(
        text(
            "SELECT r.id, r.branch_id, r.days_supply, br.time_zone FROM prescriptions r "
            "JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id "
            "WHERE r.auto_refill AND r.refills_remaining > 0 AND r.status = ANY(:s) "
            "AND (CAST(:b AS uuid) IS NULL OR r.branch_id = CAST(:b AS uuid)) ORDER BY r.created_at LIMIT 5000"
        ),
        {"s": refillable, "b": branch_id or None},
    ).all()
    due = []
    for r in rows:
        if not ctx.can_see_branch(r.branch_id):
            continue
        basis = refill_basis(session, r.id, r.time_zone)
        when = refill_due_on(basis.last_filled_on, r.days_supply, threshold)
        if basis.refill and (when is None or when <= local_today(r.time_zone)):
            due.append(str(r.id))
    return due


def queue_auto_refills(session: Session, ctx: TenantContext) -> uuid.UUID:
    """Put the auto-refill job on the outbox for this chain (the daily schedule calls this per chain)."""
    require(ctx, "prescriptions.refill")
    return enqueue_job(session, ctx, AUTO_REFILL_JOB)


@job(AUTO_REFILL_JOB)
def run_auto_refills(session: Session, ctx: TenantContext, *, branch_id: str = "") -> str:
    """The auto-refill job: request a refill (source auto) of every auto-refill prescription that is due.

    Each runs in a savepoint, so one that cannot be filled (the shelf is short) is logged and the rest go
    ahead; running the job twice fills nothing twice (a filled prescription is no longer due)."""
    filled = renewals = failed = 0
    for prescription_id in due_for_refill(session, ctx, branch_id or None):
        try:
            with session.begin_nested():
                outcome = request_refill(session, ctx, prescription_id, RefillSource.AUTO)
        except PharmacyError as exc:
            failed += 1
            log_event(log, "prescriptions.auto_refill_failed", logging.WARNING, code=exc.code)
            continue
        if outcome.fill is not None:
            filled += 1
        else:
            renewals += 1
    return f"{filled} filled, {renewals} renewal requests, {failed} not filled"


@dataclass(frozen=True)
class RefillStatus:
    """The refill side of a prescription, for its page (read as part of the prescription: not logged again)."""

    refills_authorized: int
    refills_remaining: int
    auto_refill: bool
    next_refill_on: date | None  # the earliest refill date, when it was filled before
    requestable: bool  # a refill (or, when none is left, a renewal) may be asked for now
    renewals: list[Renewal]


def refill_status(session: Session, ctx: TenantContext, prescription_id: str) -> RefillStatus:
    """Refills left, auto-refill, the earliest refill date, whether a refill may be asked for, the renewals."""
    require(ctx, "prescriptions.view")
    key = as_uuid(prescription_id, "prescription")
    row = session.execute(
        text(
            "SELECT r.status, r.branch_id, r.refills_authorized, r.refills_remaining, r.auto_refill, r.days_supply, "
            "br.time_zone FROM prescriptions r JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id "
            "WHERE r.id = :p"
        ),
        {"p": key},
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such prescription.")
    basis = refill_basis(session, key, row.time_zone)
    status = RxStatus(row.status)
    due = refill_due_on(basis.last_filled_on, row.days_supply, rx_settings(session, ctx).early_refill_threshold)
    return RefillStatus(
        refills_authorized=row.refills_authorized,
        refills_remaining=row.refills_remaining,
        auto_refill=row.auto_refill,
        next_refill_on=due if basis.refill else None,
        requestable=basis.refill and (status in RxStatus.refillable() or status is RxStatus.EXPIRED),
        renewals=renewals_of(session, ctx, prescription_id),
    )


def online_refill_obstacle(session: Session, ctx: TenantContext, prescription_id: str) -> str | None:
    """Why a refill asked for online needs a person to call the customer (transferred, cancelled, no refills
    left, expired, a CII...), or None when it can go in the queue to be filled. Reads only; for the portal,
    whose answer to the customer is the same either way (the reason is for staff)."""
    require(ctx, "portal.request")
    key = as_uuid(prescription_id, "prescription")
    row = session.execute(_RX, {"id": key}).first()
    if row is None:
        raise NotFound("No such prescription.")
    return _refused(row) or _renewed(session, key) or _renewal_reason(session, ctx, row, local_today(row.time_zone))
