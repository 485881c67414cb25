"""The tenant audit trail: append-only and hash-chained, so a deleted or edited row shows."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.bulk import copy_rows
from backend.core.models import utc_now
from tenants.context import TenantContext
from tenants.models import AuditEvent
from tenants.roles import require
from tenants.session import tenant_session

GENESIS_HASH = "0" * 64


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _event_hash(prev_hash: str, event: dict[str, Any]) -> str:
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def record_audit(
    session: Session,
    tenant_id: uuid.UUID,
    action: str,
    *,
    actor_user_id: uuid.UUID | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    details: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the tenant's chain inside the caller's transaction.

    `occurred_at` is now unless given (a chain provisioned with a history starts in the past)."""
    # One writer per tenant at a time keeps `seq` gap-free and the chain linear.
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('audit:' || :t, 0))"),
        {"t": str(tenant_id)},
    )
    last = session.execute(
        text("SELECT seq, hash FROM audit_events WHERE tenant_id = :t ORDER BY seq DESC LIMIT 1"),
        {"t": tenant_id},
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    occurred_at = occurred_at or utc_now()
    body = {
        "tenant_id": str(tenant_id),
        "seq": seq,
        "occurred_at": _iso(occurred_at),
        "actor_user_id": str(actor_user_id) if actor_user_id else None,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "details": details or {},
    }
    event = AuditEvent(
        tenant_id=tenant_id,
        seq=seq,
        occurred_at=occurred_at,
        actor_user_id=actor_user_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        details=details or {},
        prev_hash=prev_hash,
        hash=_event_hash(prev_hash, body),
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class NewAuditEvent:
    """An event for `append_audit_events`: what happened, when, by whom (ids as UUID or text)."""

    occurred_at: datetime
    action: str
    actor_user_id: uuid.UUID | str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    details: dict[str, Any] | None = None


def append_audit_events(session: Session, tenant_id: uuid.UUID, events: Sequence[NewAuditEvent]) -> int:
    """Append many events to the tenant's chain in one go (bulk loads), continuing from its last event.

    The seq and hashes are those `record_audit` would give one call at a time, computed in order
    here under the same per-tenant lock and written with COPY. `events` must be in time order and
    none may be older than the chain's last event. Returns how many were appended.
    """
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended('audit:' || :t, 0))"),
        {"t": str(tenant_id)},
    )
    last = session.execute(
        text("SELECT seq, hash, occurred_at FROM audit_events WHERE tenant_id = :t ORDER BY seq DESC LIMIT 1"),
        {"t": tenant_id},
    ).first()
    seq, prev_hash, previous_at = (last[0], last[1], last[2]) if last else (0, GENESIS_HASH, None)
    rows = []
    for event in events:
        if previous_at is not None and event.occurred_at < previous_at:
            raise ValueError("audit events are appended in the order they happened")
        previous_at = event.occurred_at
        seq += 1
        actor = str(event.actor_user_id) if event.actor_user_id else None
        body = {
            "tenant_id": str(tenant_id),
            "seq": seq,
            "occurred_at": _iso(event.occurred_at),
            "actor_user_id": actor,
            "action": event.action,
            "entity_type": event.entity_type,
            "entity_id": event.entity_id,
            "details": event.details or {},
        }
        digest = _event_hash(prev_hash, body)
        details = json.dumps(event.details or {}, sort_keys=True, separators=(",", ":"), default=str)
        rows.append(
            (str(tenant_id), seq, event.occurred_at, actor, event.action, event.entity_type, event.entity_id, details)
            + (prev_hash, digest)
        )
        prev_hash = digest
    return copy_rows(
        session,
        "audit_events",
        (
            "tenant_id",
            "seq",
            "occurred_at",
            "actor_user_id",
            "action",
            "entity_type",
            "entity_id",
            "details",
            "prev_hash",
            "hash",
        ),
        rows,
    )


def verify_chain(session: Session, tenant_id: uuid.UUID) -> int | None:
    """The first seq whose hash does not match its contents or predecessor, or None if intact."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    rows = session.execute(
        text(
            "SELECT seq, occurred_at, actor_user_id, action, entity_type, entity_id, details, "
            "prev_hash, hash FROM audit_events WHERE tenant_id = :t ORDER BY seq"
        ),
        {"t": tenant_id},
    )
    for row in rows:
        body = {
            "tenant_id": str(tenant_id),
            "seq": row.seq,
            "occurred_at": _iso(row.occurred_at),
            "actor_user_id": str(row.actor_user_id) if row.actor_user_id else None,
            "action": row.action,
            "entity_type": row.entity_type,
            "entity_id": row.entity_id,
            "details": row.details,
        }
        if row.seq != expected_seq or row.prev_hash != prev_hash or row.hash != _event_hash(prev_hash, body):
            return int(row.seq)
        prev_hash, expected_seq = row.hash, expected_seq + 1
    return None


@dataclass(frozen=True)
class AuditRow:
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    entity: str
    details: str


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    chain_intact: bool
    has_more: bool


AUDIT_PAGE_SIZE = 50


def list_audit(ctx: TenantContext, *, action_prefix: str = "", page: int = 0) -> AuditPage:
    """The chain's audit trail, newest first, filtered by kind of action; checks the hash chain."""
    require(ctx, "audit.view")
    page = max(0, page)
    with tenant_session(ctx) as session:
        rows = session.execute(
            text(
                "SELECT a.seq, a.occurred_at, coalesce(u.full_name, 'system') AS actor, a.action, "
                "coalesce(a.entity_type || ' ' || left(a.entity_id, 8), '') AS entity, a.details::text "
                "FROM audit_events a LEFT JOIN users u ON u.id = a.actor_user_id "
                "WHERE a.action LIKE :prefix ORDER BY a.seq DESC LIMIT :limit OFFSET :offset"
            ),
            {
                "prefix": action_prefix.replace("%", "") + "%",
                "limit": AUDIT_PAGE_SIZE + 1,
                "offset": page * AUDIT_PAGE_SIZE,
            },
        ).all()
        intact = verify_chain(session, ctx.tenant_id) is None
    return AuditPage(
        rows=[AuditRow(r.seq, r.occurred_at, r.actor, r.action, r.entity, r.details) for r in rows[:AUDIT_PAGE_SIZE]],
        chain_intact=intact,
        has_more=len(rows) > AUDIT_PAGE_SIZE,
    )
