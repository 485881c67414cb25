"""The financial audit chain: every change of money appends a hash-chained event, one chain per branch.

- An event carries the hash of the previous event of its branch's chain, so an edited, deleted or
  re-ordered row breaks the chain where it happened: `verify_chains` names the first broken link.
- It is written in the same transaction as the change it records (a rolled-back sale leaves no
  event), by the service that makes the change.
- One chain per branch: the writer locks only its branch's row in `financial_audit_heads`, so busy
  branches never wait for each other (the tenant-wide `audit_events` chain takes a per-tenant lock;
  putting every sale there would serialize every till of the chain). Take it last in a transaction,
  after the rows the change locks, so lock order is the same everywhere.
- Hashing follows `tenants.audit`: sha256 over the previous hash and the canonical JSON of the event
  (sorted keys, no whitespace, Decimal as its string, times in UTC ISO 8601). Money is never a float.
- The database keeps it append-only: UPDATE, DELETE and TRUNCATE are revoked from the app and
  platform roles (migration 0020); only the owner role could edit a row, and verify would show it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.statuses import BillStatus
from backend.core.bulk import copy_rows
from backend.core.errors import NotFound
from backend.core.models import utc_now
from tenants.audit import GENESIS_HASH, verify_chain
from tenants.context import TenantContext
from tenants.session import platform_session

# The kinds of entity whose changes are financial; an action is "<kind>.<what happened>".
FINANCIAL_KINDS = ("bill", "payment", "credit_note", "card")


@dataclass(frozen=True)
class FinancialEvent:
    branch_id: str
    seq: int
    hash: str


# --- canonical form and hashing ---------------------------------------------------------------------


def plain(value: Any) -> Any:
    """The JSON-safe canonical form: Decimal, UUID and dates as strings, times in UTC; no floats."""
    kind = type(value)  # exact types first: a bulk load canonicalises every event of a year
    if kind is str or value is None:
        return value
    if kind is Decimal:
        return str(value)
    if kind is dict:  # text and Decimal values inline: an event's details are mostly amounts
        return {
            str(key): item if type(item) is str else str(item) if type(item) is Decimal else plain(item)
            for key, item in value.items()
        }
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("audit times must be timezone-aware")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    raise TypeError(f"{type(value).__name__} has no canonical form in the audit chain (money is never a float)")


def canonical_json(value: Any) -> str:
    return _CANONICAL(plain(value))


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode  # json.dumps's output, one encoder
_PLACEHOLDER = "\x00"
_PLACEHOLDER_JSON = _CANONICAL(_PLACEHOLDER)


def event_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


def _body(tenant_id: object, branch_id: object, seq: int, row: Any, details: Any = None) -> dict[str, Any]:
    """What an event's hash covers: every column but the two hashes (`details` replaces the row's)."""
    return {
        "tenant_id": str(tenant_id),
        "branch_id": str(branch_id),
        "seq": int(seq),
        "occurred_at": row.occurred_at,
        "actor_user_id": str(row.actor_user_id) if row.actor_user_id else None,
        "action": row.action,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "details": row.details if details is None else details,
    }


# --- writing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewFinancialEvent:
    """An event to append: what happened, when, by whom (ids as UUID or text), with its details."""

    occurred_at: datetime
    actor_user_id: uuid.UUID | str | None
    action: str
    entity_type: str
    entity_id: str
    details: dict[str, Any]


def _check_action(action: str) -> None:
    kind, _, what = action.partition(".")
    if kind not in FINANCIAL_KINDS or not what:
        raise ValueError(f"not a financial action: {action!r}")


def _lock_head(session: Session, tenant_id: uuid.UUID, branch_id: object) -> tuple[int, str]:
    """The branch chain's last seq and hash, its row locked until this transaction ends."""
    session.execute(
        text(
            "INSERT INTO financial_audit_heads (tenant_id, branch_id, last_seq, last_hash) "
            "VALUES (:t, :b, 0, :genesis) ON CONFLICT (tenant_id, branch_id) DO NOTHING"
        ),
        {"t": tenant_id, "b": branch_id, "genesis": GENESIS_HASH},
    )
    head = session.execute(
        text(
            "SELECT last_seq, last_hash FROM financial_audit_heads WHERE tenant_id = :t AND branch_id = :b FOR UPDATE"
        ),
        {"t": tenant_id, "b": branch_id},
    ).one()
    return int(head.last_seq), str(head.last_hash)


def record_financial_event(
    session: Session,
    ctx: TenantContext,
    branch_id: object,
    action: str,
    entity_type: str,
    entity_id: object,
    details: Mapping[str, Any] | None = None,
) -> FinancialEvent:
    """Append one event to the branch's chain inside the caller's transaction (the change's own).

    `action` is e.g. bill.finalized, payment.recorded, bill.voided, credit_note.issued, card.captured;
    amounts in `details` go in as Decimal (stored and hashed as their string).
    """
    _check_action(action)
    branch = uuid.UUID(str(branch_id))
    event = NewFinancialEvent(utc_now(), ctx.user_id, action, entity_type, str(entity_id), plain(dict(details or {})))
    last_seq, prev_hash = _lock_head(session, ctx.tenant_id, branch)
    seq = last_seq + 1
    digest = event_hash(prev_hash, _body(ctx.tenant_id, branch, seq, event))
    session.execute(
        text(
            "INSERT INTO financial_audit_events (tenant_id, branch_id, seq, occurred_at, actor_user_id, action, "
            "entity_type, entity_id, details, prev_hash, hash) VALUES (:t, :b, :seq, :at, :actor, :action, "
            ":etype, :eid, CAST(:details AS jsonb), :prev, :hash)"
        ),
        {
            "t": ctx.tenant_id,
            "b": branch,
            "seq": seq,
            "at": event.occurred_at,
            "actor": event.actor_user_id,
            "action": action,
            "etype": entity_type,
            "eid": event.entity_id,
            "details": canonical_json(event.details),
            "prev": prev_hash,
            "hash": digest,
        },
    )
    session.execute(
        text(
            "UPDATE financial_audit_heads SET last_seq = :seq, last_hash = :hash "
            "WHERE tenant_id = :t AND branch_id = :b"
        ),
        {"seq": seq, "hash": digest, "t": ctx.tenant_id, "b": branch},
    )
    return FinancialEvent(str(branch), seq, digest)


_BILL_AMOUNTS = ("lines_total", "discount_total", "net_total", "tax_total", "total", "rounding", "total_due")


def record_bill_event(
    session: Session, ctx: TenantContext, action: str, bill_id: object, *, payment_id: object = None, **extra: Any
) -> FinancialEvent | None:
    """The billing service's hook: the bill's figures as they are now in this transaction, as one event.

    With `payment_id` the event is about that payment (its method and amounts). Discarding a draft
    (`was="draft"`) is not a financial change: a draft has no number and moved no money or stock.
    """
    if extra.get("was") == BillStatus.DRAFT:
        return None
    bill = session.execute(text("SELECT * FROM bills WHERE id = :b"), {"b": bill_id}).one()
    if payment_id is None:
        details = bill_event_details(bill, **extra)
        return record_financial_event(session, ctx, bill.branch_id, action, "bill", bill.id, details)
    payment = session.execute(
        text("SELECT method, amount, tendered, change_due, reference FROM bill_payments WHERE id = :p"),
        {"p": payment_id},
    ).one()
    details = bill_event_details(bill, payment=payment, **extra)
    return record_financial_event(session, ctx, bill.branch_id, action, "payment", payment_id, details)


def bill_event_details(bill: Any, *, payment: Any = None, **extra: Any) -> dict[str, Any]:
    """What a bill's event records: its figures as they are now (and the payment's, for a payment).

    `bill` and `payment` are rows or any objects with the same attributes (the bulk loader's bills),
    amounts at the 4 decimals the tables store.
    """
    details: dict[str, Any] = {
        "bill_id": bill.id,
        "number": bill.number,
        "status": bill.status,
        "currency": bill.currency,
        "amount_paid": bill.amount_paid,
        **{name: getattr(bill, name) for name in _BILL_AMOUNTS},
        **extra,
    }
    if bill.status == BillStatus.VOIDED:
        details["void_reason"] = bill.void_reason
    if payment is not None:
        details["payment"] = {name: getattr(payment, name) for name in _PAYMENT_FIELDS}
    return details


_PAYMENT_FIELDS = ("method", "amount", "tendered", "change_due", "reference")


def append_financial_events(
    session: Session, tenant_id: uuid.UUID | str, branch_id: object, events: Iterable[NewFinancialEvent]
) -> FinancialEvent | None:
    """Append many events to a branch's chain in one go (bulk loads): the same seq and hashes as one
    `record_financial_event` call per event, computed here in order, then written with COPY.

    `events` must be in the order they happened. The head row is locked first, as a live writer
    would, so the chain continues from whatever it already holds. Returns the new head, or None
    when there was nothing to append.
    """
    branch = uuid.UUID(str(branch_id))
    tenant = uuid.UUID(str(tenant_id))
    last_seq, prev_hash = _lock_head(session, tenant, branch)
    tenant_text, branch_text = str(tenant), str(branch)  # once, not per event
    rows: list[tuple[Any, ...]] = []
    previous_at: datetime | None = None
    for event in events:
        _check_action(event.action)
        if previous_at is not None and event.occurred_at < previous_at:
            raise ValueError("financial events are appended in the order they happened")
        previous_at = event.occurred_at
        last_seq += 1
        details = _CANONICAL(plain(event.details))
        # `event_hash(prev_hash, _body(...))`, computed once per event for a bulk load of hundreds of
        # thousands: the body's canonical JSON is the rest of the body with the details' canonical
        # JSON in place of a placeholder (a lone NUL, which JSON writes escaped, so nothing else in
        # the body can look like it); tests/backend/billing/test_audit_chain.py holds them equal.
        body = _body(tenant_text, branch_text, last_seq, event, _PLACEHOLDER)
        body["occurred_at"] = plain(event.occurred_at)
        canonical = _CANONICAL(body).replace(_PLACEHOLDER_JSON, details, 1)
        digest = hashlib.sha256((prev_hash + canonical).encode()).hexdigest()
        rows.append(
            (
                tenant_text,
                branch_text,
                last_seq,
                event.occurred_at,
                body["actor_user_id"],
                event.action,
                event.entity_type,
                event.entity_id,
                details,
                prev_hash,
                digest,
            )
        )
        prev_hash = digest
    if not rows:
        return None
    copy_rows(
        session,
        "financial_audit_events",
        (
            "tenant_id",
            "branch_id",
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
    session.execute(
        text(
            "UPDATE financial_audit_heads SET last_seq = :seq, last_hash = :hash "
            "WHERE tenant_id = :t AND branch_id = :b"
        ),
        {"seq": last_seq, "hash": prev_hash, "t": tenant, "b": branch},
    )
    return FinancialEvent(str(branch), last_seq, prev_hash)


# --- verifying --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    problem: str


@dataclass(frozen=True)
class ChainCheck:
    """One branch's chain: how many events it holds and its first broken link, if any."""

    branch_id: str
    branch_code: str
    events: int
    broken: BrokenLink | None


@dataclass(frozen=True)
class ChainReport:
    tenant_slug: str
    chains: list[ChainCheck]
    audit_log_events: int
    audit_log_broken_seq: int | None  # the tenant-wide audit_events chain

    @property
    def events(self) -> int:
        return sum(chain.events for chain in self.chains)

    @property
    def intact(self) -> bool:
        return self.audit_log_broken_seq is None and all(chain.broken is None for chain in self.chains)


def first_broken_link(
    tenant_id: object, branch_id: object, rows: Iterable[Any], head_seq: int | None
) -> BrokenLink | None:
    """Walk one chain in seq order; the first event that is missing, re-linked or edited."""
    prev_hash, expected = GENESIS_HASH, 1
    for row in rows:
        if row.seq != expected:
            after = f"seq {expected - 1}" if expected > 1 else "the start"
            return BrokenLink(expected, f"seq {expected} is missing (seq {row.seq} follows {after}): a row was deleted")
        if row.prev_hash != prev_hash:
            return BrokenLink(row.seq, f"prev_hash mismatch: it is not the hash of seq {row.seq - 1}")
        if row.hash != event_hash(prev_hash, _body(tenant_id, branch_id, row.seq, row)):
            return BrokenLink(row.seq, "hash mismatch: the row was changed after it was written")
        prev_hash, expected = row.hash, expected + 1
    if head_seq is not None and head_seq >= expected:
        return BrokenLink(
            expected,
            f"seq {expected} is missing: the chain head is at seq {head_seq}, the last row is seq {expected - 1}",
        )
    return None


def _check_branch(session: Session, tenant_id: uuid.UUID, branch: Any) -> ChainCheck:
    rows = session.execute(
        text(
            "SELECT seq, occurred_at, actor_user_id, action, entity_type, entity_id, details, prev_hash, hash "
            "FROM financial_audit_events WHERE tenant_id = :t AND branch_id = :b ORDER BY seq"
        ),
        {"t": tenant_id, "b": branch.id},
    ).all()
    broken = first_broken_link(tenant_id, branch.id, rows, branch.head_seq)
    return ChainCheck(str(branch.id), branch.code, len(rows), broken)


def verify_chains(tenant_slug: str, *, actor: str = "cli") -> ChainReport:
    """Check every branch's financial chain of one pharmacy chain (and its audit log), read on the
    operator's platform path: the first broken link of each chain, or None where it is intact."""
    with platform_session(reason=f"audit verify {tenant_slug}", actor=actor) as session:
        tenant_id = session.execute(text("SELECT id FROM tenants WHERE slug = :s"), {"s": tenant_slug}).scalar()
        if tenant_id is None:
            raise NotFound(f"No pharmacy chain with the slug {tenant_slug!r}.")
        branches = session.execute(
            text(
                "SELECT b.id, b.code, h.last_seq AS head_seq FROM branches b "
                "LEFT JOIN financial_audit_heads h ON h.tenant_id = b.tenant_id AND h.branch_id = b.id "
                "WHERE b.tenant_id = :t AND (h.branch_id IS NOT NULL OR EXISTS (SELECT 1 FROM financial_audit_events e "
                "WHERE e.tenant_id = b.tenant_id AND e.branch_id = b.id)) ORDER BY b.code"
            ),
            {"t": tenant_id},
        ).all()
        chains = [_check_branch(session, tenant_id, branch) for branch in branches]
        audit_events = session.execute(
            text("SELECT count(*) FROM audit_events WHERE tenant_id = :t"), {"t": tenant_id}
        ).scalar_one()
        audit_broken = verify_chain(session, tenant_id)
    return ChainReport(tenant_slug, chains, int(audit_events), audit_broken)
