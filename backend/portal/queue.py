"""The staff side of portal refill requests (issue 17 §2): a branch's queue, and each request's outcome.

A member of the branch's staff (`portal.queue`) sees the pick-up branch's open requests, oldest first, with
where each came from and the customer's note, and the recent decisions. Each is then:

- accepted (pending rows): the refill goes through `prescriptions.refills.request_refill` (source portal,
  `prescriptions.refill` checked there) in the same transaction, and the request is marked accepted with
  the fill. When the refill turned into a renewal request to the prescriber, the request is closed as
  accepted without a fill ("asked the prescriber") and the customer is told their refill needs the
  prescriber. When the refill is refused (too early, a fill still waiting for its final check, owed units),
  nothing is written, the request stays in the queue and the message says why: accept it later or deny it.
- denied (pending or call-customer rows) with a reason for the record; the customer is told to contact the
  branch (the reason is staff's free text and never goes in a patient message).
- closed after calling the customer (call-customer rows), with a note of the call; no e-mail.

The customer is told by the outcome job (`backend.portal.tasks`), put on the outbox in the decision's
transaction, so a rolled-back decision tells nobody.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import NotFound, ValidationFailed
from backend.core.validation import as_uuid
from backend.jobs.service import enqueue_job
from backend.patients.service import identities
from backend.portal.refill_requests import open_note
from backend.portal.statuses import RefillRequestSource, RefillRequestStatus
from backend.prescriptions.enums import RefillSource
from backend.prescriptions.refills import request_refill
from backend.prescriptions.service import RefusedTransition
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

OUTCOME_JOB = "portal.tell_outcome"
REASON_LIMIT = 500
RECENT_DAYS = 7


@dataclass(frozen=True)
class PortalRequest:
    id: str
    prescription_id: str
    rx_number: str
    patient_name: str
    patient_phone: str  # to call the customer
    drug: str
    refills_left: int
    source: RefillRequestSource
    branch_id: str  # where the customer will pick it up
    branch_name: str
    note: str  # the customer's own words: show as text, never as markup
    status: RefillRequestStatus
    why_call: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str
    decision_reason: str
    fill_id: str | None
    fill_code: str
    customer_told: str  # '', emailed, no_email, no_consent, not_sent

    @property
    def source_label(self) -> str:
        return self.source.label

    @property
    def is_open(self) -> bool:
        return self.status in RefillRequestStatus.open()


@dataclass(frozen=True)
class PortalQueue:
    open: list[PortalRequest]  # oldest first
    decided: list[PortalRequest]  # the last RECENT_DAYS days', newest first


@dataclass(frozen=True)
class Decision:
    request: PortalRequest
    message: str  # what the member is told


_SELECT = (
    "SELECT q.*, r.rx_number, r.refills_remaining, b.name AS branch_name, "
    "coalesce(m.generic_name || ' ' || m.strength, r.drug_written) AS drug, "
    "coalesce(u.full_name, '') AS decider, coalesce(f.code, '') AS fill_code FROM portal_refill_requests q "
    "JOIN prescriptions r ON r.tenant_id = q.tenant_id AND r.id = q.prescription_id "
    "JOIN branches b ON b.tenant_id = q.tenant_id AND b.id = q.branch_id "
    "LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
    "LEFT JOIN users u ON u.id = q.decided_by "
    "LEFT JOIN prescription_fills f ON f.tenant_id = q.tenant_id AND f.id = q.fill_id "
)


def _requests(session: Session, ctx: TenantContext, rows: Any) -> list[PortalRequest]:
    people = identities(session, ctx, [r.patient_id for r in rows], contact=True)
    return [
        PortalRequest(
            id=str(r.id),
            prescription_id=str(r.prescription_id),
            rx_number=r.rx_number,
            patient_name=people[r.patient_id].full_name if r.patient_id in people else "",
            patient_phone=people[r.patient_id].phone if r.patient_id in people else "",
            drug=r.drug,
            refills_left=r.refills_remaining,
            source=RefillRequestSource(r.source),
            branch_id=str(r.branch_id),
            branch_name=r.branch_name,
            note=open_note(session, ctx, r.id, r.note_enc),
            status=RefillRequestStatus(r.status),
            why_call=r.why_call,
            created_at=r.created_at,
            decided_at=r.decided_at,
            decided_by=r.decider,
            decision_reason=r.decision_reason,
            fill_id=str(r.fill_id) if r.fill_id else None,
            fill_code=r.fill_code,
            customer_told=r.customer_told,
        )
        for r in rows
    ]


def portal_queue(session: Session, ctx: TenantContext, branch_id: str) -> PortalQueue:
    """The branch's open portal requests (oldest first) and its decisions of the last RECENT_DAYS days."""
    require(ctx, "portal.queue")
    branch = as_uuid(branch_id, "branch")
    if not ctx.can_see_branch(branch):
        raise NotFound("No such branch.")
    opened = session.execute(
        text(_SELECT + "WHERE q.branch_id = :b AND q.status = ANY(:s) ORDER BY q.created_at LIMIT 500"),
        {"b": branch, "s": [str(s) for s in RefillRequestStatus.open()]},
    ).all()
    decided = session.execute(
        text(
            _SELECT + "WHERE q.branch_id = :b AND q.decided_at > now() - make_interval(days => :d) "
            "ORDER BY q.decided_at DESC LIMIT 100"
        ),
        {"b": branch, "d": RECENT_DAYS},
    ).all()
    return PortalQueue(_requests(session, ctx, opened), _requests(session, ctx, decided))


def open_count(session: Session, ctx: TenantContext, branch_id: str) -> int:
    """How many portal requests wait in the branch's queue (the dashboard's attention list)."""
    require(ctx, "portal.queue")
    branch = as_uuid(branch_id, "branch")
    if not ctx.can_see_branch(branch):
        raise NotFound("No such branch.")
    return session.execute(
        text("SELECT count(*) FROM portal_refill_requests WHERE branch_id = :b AND status = ANY(:s)"),
        {"b": branch, "s": [str(s) for s in RefillRequestStatus.open()]},
    ).scalar_one()


def get_request(session: Session, ctx: TenantContext, request_id: str) -> PortalRequest:
    require(ctx, "portal.queue")
    return _one(session, ctx, _key(request_id))


def _key(request_id: str) -> uuid.UUID:
    return as_uuid(request_id, "request")


def _one(session: Session, ctx: TenantContext, key: uuid.UUID) -> PortalRequest:
    row = session.execute(text(_SELECT + "WHERE q.id = :id"), {"id": key}).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such portal request.")
    return _requests(session, ctx, [row])[0]


def _locked(session: Session, ctx: TenantContext, key: uuid.UUID, allowed: set[RefillRequestStatus]) -> Any:
    """The request's row, locked, when this member's branches include its pick-up branch and it is open."""
    row = session.execute(
        text("SELECT id, prescription_id, branch_id, status FROM portal_refill_requests WHERE id = :id FOR UPDATE"),
        {"id": key},
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such portal request.")
    status = RefillRequestStatus(row.status)
    if status not in RefillRequestStatus.open():
        raise RefusedTransition(f"This request was already {status.label.lower()}.")
    if status not in allowed:
        if status is RefillRequestStatus.CALL_CUSTOMER:
            raise RefusedTransition(
                "This prescription cannot be refilled online: call the customer, then close the request with a "
                "note of the call (or deny it with a reason)."
            )
        raise RefusedTransition("Only a request marked 'call the customer' is closed after a call.")
    return row


def _decide(
    session: Session,
    ctx: TenantContext,
    key: uuid.UUID,
    status: RefillRequestStatus,
    reason: str,
    *,
    fill_id: str | None = None,
    told: str = "",
) -> None:
    session.execute(
        text(
            "UPDATE portal_refill_requests SET status = :s, decision_reason = :r, decided_by = :u, decided_at = now(), "
            "fill_id = :f, customer_told = :told, told_at = CASE WHEN :told <> '' THEN now() END WHERE id = :id"
        ),
        {"s": status, "r": reason[:REASON_LIMIT], "u": ctx.user_id, "f": fill_id, "told": told, "id": key},
    )


def _audit(session: Session, ctx: TenantContext, action: str, key: uuid.UUID, **details: Any) -> None:
    record_audit(
        session, ctx.tenant_id, action, actor_user_id=ctx.user_id, entity_type="portal_refill_request",
        entity_id=str(key), details=details,
    )  # fmt: skip


def _tell_customer(session: Session, ctx: TenantContext, key: uuid.UUID) -> None:
    # The job runs as the chain's system (a technician's role does not put jobs on the outbox itself).
    enqueue_job(session, TenantContext.system(ctx.tenant_id), OUTCOME_JOB, request_id=str(key))


def accept_request(session: Session, ctx: TenantContext, request_id: str) -> Decision:
    """Refill the request's prescription (source portal) and mark the request accepted with the fill; or,
    when the refill became a renewal request, close it as accepted without a fill. A refused refill (too
    early...) writes nothing: the request stays in the queue."""
    require(ctx, "portal.queue")
    key = _key(request_id)
    row = _locked(session, ctx, key, {RefillRequestStatus.PENDING})
    try:
        outcome = request_refill(session, ctx, str(row.prescription_id), RefillSource.PORTAL)
    except RefusedTransition as exc:
        raise type(exc)(
            f"Not accepted: {exc.message} The request stays in the queue: accept it later, or deny it with a reason."
        ) from None
    if outcome.fill is not None:
        _decide(session, ctx, key, RefillRequestStatus.ACCEPTED, outcome.message, fill_id=outcome.fill.id)
        _audit(session, ctx, "portal.request_accepted", key, fill_id=outcome.fill.id)
        said = f"Accepted. {outcome.message} The customer will be told."
    else:
        _decide(session, ctx, key, RefillRequestStatus.ACCEPTED, outcome.message)
        _audit(session, ctx, "portal.request_accepted", key, renewal_id=outcome.renewal.id if outcome.renewal else "")
        said = f"{outcome.message} The request is closed; the customer will be told it needs the prescriber."
    _tell_customer(session, ctx, key)
    return Decision(_one(session, ctx, key), said)


def _text(value: object, what: str, field: str) -> str:
    said = " ".join(str(value or "").split())
    if not said:
        raise ValidationFailed(f"Give {what}.", field=field)
    if len(said) > REASON_LIMIT:
        raise ValidationFailed(f"Keep it within {REASON_LIMIT} characters.", field=field)
    return said


def deny_request(session: Session, ctx: TenantContext, request_id: str, reason: object) -> Decision:
    """Deny an open request with a reason (kept for the record; the customer is told to contact the branch)."""
    require(ctx, "portal.queue")
    why = _text(reason, "the reason for the denial (the customer is told to contact the branch)", "reason")
    key = _key(request_id)
    _locked(session, ctx, key, set(RefillRequestStatus.open()))
    _decide(session, ctx, key, RefillRequestStatus.DENIED, why)
    _audit(session, ctx, "portal.request_denied", key)
    _tell_customer(session, ctx, key)
    return Decision(_one(session, ctx, key), "Denied. The customer will be told to contact the branch.")


def close_after_call(session: Session, ctx: TenantContext, request_id: str, note: object) -> Decision:
    """Close a "call the customer" request after the call, with a note of what was said (no e-mail)."""
    require(ctx, "portal.queue")
    said = _text(note, "a note of the call", "note")
    key = _key(request_id)
    _locked(session, ctx, key, {RefillRequestStatus.CALL_CUSTOMER})
    _decide(session, ctx, key, RefillRequestStatus.CLOSED, said, told="not_sent")
    _audit(session, ctx, "portal.request_closed_after_call", key)
    return Decision(_one(session, ctx, key), "Closed after the call.")
