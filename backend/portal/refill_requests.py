"""Refill requests from the portal: the row the staff queue works from.

A request is stored only when its Rx number, date of birth and last name named one of the chain's
prescriptions (`backend.portal.service.match_prescription`); otherwise nothing is written, because there is
nobody to contact. A prescription that cannot be refilled online (no refills left, expired, transferred, a
CII...) is stored as "call the customer" with the reason, for staff; the customer's answer never differs.
One open request per prescription: asking again adds the new note to the open one instead of a second row.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlmodel import Session

from backend.core.live import EventKind, event_for, publish_after_commit
from backend.portal.statuses import RefillRequestSource, RefillRequestStatus
from backend.prescriptions.refills import online_refill_obstacle
from backend.prescriptions.service import NumberedPrescription
from backend.protection.keys import chain_keys, reseal_rows
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

TABLE = "portal_refill_requests"
NOTE_LIMIT = 500


def seal_note(session: Session, ctx: TenantContext, request_id: uuid.UUID, note: str) -> bytes | None:
    """The customer's note sealed for its row (None for no note)."""
    note = note.strip()[:NOTE_LIMIT]
    return chain_keys(session, ctx.tenant_id).seal(TABLE, "note_enc", request_id, note) if note else None


def open_note(session: Session, ctx: TenantContext, request_id: object, sealed: bytes | None) -> str:
    return chain_keys(session, ctx.tenant_id).open(TABLE, "note_enc", request_id, sealed) if sealed else ""


def record_request(
    session: Session,
    ctx: TenantContext,
    prescription: NumberedPrescription,
    branch_id: str | None,
    note: str,
    source: RefillRequestSource,
) -> uuid.UUID:
    """Put a named prescription's refill request in the staff queue (or add the note to its open one).
    `branch_id` is the pick-up branch the customer chose (None: the prescription's own branch)."""
    require(ctx, "portal.request")
    obstacle = online_refill_obstacle(session, ctx, prescription.id)
    status = RefillRequestStatus.CALL_CUSTOMER if obstacle else RefillRequestStatus.PENDING
    pick_up = _pick_up_branch(session, branch_id) or prescription.branch_id
    existing = session.execute(
        text(
            "SELECT id, note_enc FROM portal_refill_requests WHERE prescription_id = :p AND status = ANY(:open) "
            "FOR UPDATE"
        ),
        {"p": prescription.id, "open": [str(s) for s in RefillRequestStatus.open()]},
    ).first()
    if existing is not None:
        earlier = open_note(session, ctx, existing.id, existing.note_enc)
        combined = "\n".join(n for n in (earlier, note.strip()) if n)
        session.execute(
            text("UPDATE portal_refill_requests SET note_enc = :n, branch_id = :b WHERE id = :id"),
            {"n": seal_note(session, ctx, existing.id, combined[-NOTE_LIMIT:]), "b": pick_up, "id": existing.id},
        )
        return uuid.UUID(str(existing.id))
    request_id = uuid.uuid4()
    session.execute(
        text(
            "INSERT INTO portal_refill_requests (tenant_id, id, prescription_id, patient_id, branch_id, source, "
            "status, why_call, note_enc) VALUES (:t, :id, :p, :pat, :b, :s, :st, :why, :n)"
        ),
        {
            "t": ctx.tenant_id, "id": request_id, "p": prescription.id, "pat": prescription.patient_id,
            "b": pick_up, "s": source, "st": status, "why": (obstacle or "")[:300],
            "n": seal_note(session, ctx, request_id, note),
        },
    )  # fmt: skip
    record_audit(
        session, ctx.tenant_id, "portal.refill_requested", entity_type="prescription", entity_id=prescription.id,
        details={"source": str(source), "status": str(status)},
    )  # fmt: skip
    publish_after_commit(session, ctx, event_for(EventKind.REFILL_REQUESTED, pick_up, request_id))
    return request_id


def _pick_up_branch(session: Session, branch_id: str | None) -> str | None:
    """The chosen branch when it is one of the chain's open branches (anything else: the prescription's)."""
    if not branch_id:
        return None
    try:
        key = uuid.UUID(str(branch_id))
    except ValueError:
        return None
    found = session.execute(text("SELECT id FROM branches WHERE id = :b AND is_active"), {"b": key}).scalar()
    return str(found) if found else None


def reseal_refill_requests(session: Session, ctx: TenantContext, after: object, limit: int) -> tuple[object, int]:
    """One batch of a key rotation's re-encryption of the customers' notes (`pharmacy-saas keys rotate`)."""
    require(ctx, "keys.rotate")
    return reseal_rows(session, chain_keys(session, ctx.tenant_id), TABLE, ("note_enc",), after, limit)


def forget_disposed_customers(session: Session, ctx: TenantContext, patient_ids: list[str]) -> int:
    """Records retention's disposal: the customers' own words on their portal requests go (the requests stay,
    as the prescriptions do), their codes are voided and their portal sessions end. Returns the notes removed."""
    require(ctx, "retention.dispose")
    keys = [uuid.UUID(str(p)) for p in patient_ids]
    session.execute(
        text(
            "UPDATE customer_codes SET voided_at = coalesce(voided_at, now()) "
            "WHERE patient_id = ANY(CAST(:p AS uuid[])) AND used_at IS NULL"
        ),
        {"p": keys},
    )
    session.execute(
        text(
            "UPDATE customer_sessions SET ended_at = coalesce(ended_at, now()) "
            "WHERE patient_id = ANY(CAST(:p AS uuid[]))"
        ),
        {"p": keys},
    )
    forgotten = session.execute(
        text(
            "UPDATE portal_refill_requests SET note_enc = NULL "
            "WHERE patient_id = ANY(CAST(:p AS uuid[])) AND note_enc IS NOT NULL"
        ),
        {"p": keys},
    )
    return int(forgotten.rowcount or 0)  # type: ignore[attr-defined]
