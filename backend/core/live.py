"""Live staff screens (issue 18 §5): domain events published through Redis after commit.

A domain says what happened with one line, `publish_after_commit(session, ctx, Event(...))`, inside its
transaction. Nothing is sent then: the event waits in the session until the transaction commits, and is
dropped if it rolls back, so a screen never shows something that did not happen. After commit each event
is published on its chain's Redis channel (`events:<tenant_id>`); a staff page that is open subscribes to
its own chain's channel only (the tenant comes from the server-side session, never from the browser),
keeps the events of branches the member may see and reloads its list through the domain, which checks
permissions again. So an event carries no patient data: its kind, the branch and row ids, the time.

Pub/sub, not a stream: a screen that is not connected reloads everything when it opens, so an event
nobody listens to may be lost. Publishing is best effort: Redis being away never fails the business
change (the event is logged as dropped and the screens catch up on their next load).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession

from backend.core.logging import log_event
from backend.core.queue import shared_redis
from backend.core.settings import get_settings

log = logging.getLogger(__name__)


class _Chain(Protocol):
    """A TenantContext (core imports nothing above itself): only its chain is needed here."""

    @property
    def tenant_id(self) -> Any: ...


_PENDING = "live.pending_events"  # session.info key: (tenant_id, Event) waiting for the commit


class EventKind(StrEnum):
    REFILL_REQUESTED = "refill_requested"  # a portal refill request (new, or a note added to an open one)
    PRESCRIPTION_RECEIVED = "prescription_received"  # a new prescription in the intake queue (portal upload too)
    FILL_READY = "fill_ready"  # a fill passed its final check
    STOCK_CHANGED = "stock_changed"  # a sale took stock


@dataclass(frozen=True)
class Event:
    """What happened, where, to which rows: ids only, never a name, a medicine or a note."""

    kind: EventKind
    branch_id: str
    ids: tuple[str, ...] = ()
    at: float = field(default=0.0, compare=False)  # when it was committed (epoch seconds; set on publish)

    def payload(self) -> str:
        return json.dumps({"kind": str(self.kind), "branch_id": self.branch_id, "ids": list(self.ids), "at": self.at})

    @classmethod
    def parse(cls, raw: bytes | str) -> Event | None:
        try:
            data = json.loads(raw)
            return cls(
                EventKind(data["kind"]), str(data["branch_id"]), tuple(str(i) for i in data.get("ids", ())),
                float(data.get("at") or 0.0),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError):
            return None


def channel(tenant_id: object) -> str:
    """The one Redis channel of a chain's events (a UUID, so no chain can name another's channel)."""
    return f"events:{uuid.UUID(str(tenant_id))}"


def event_for(kind: EventKind, branch_id: object, *ids: object) -> Event:
    """An Event from database values (UUIDs or strings)."""
    return Event(kind, str(branch_id), tuple(str(i) for i in ids))


def publish_after_commit(session: OrmSession, ctx: _Chain, event: Event) -> None:
    """Publish `event` on the chain's channel once this session's transaction commits (never if it rolls back)."""
    session.info.setdefault(_PENDING, []).append((ctx.tenant_id, event))


@sa_event.listens_for(OrmSession, "after_commit")
def _publish_pending(session: OrmSession) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        publish_now(pending)


@sa_event.listens_for(OrmSession, "after_soft_rollback")
def _forget_pending(session: OrmSession, previous_transaction: Any) -> None:
    if not previous_transaction.nested:  # a savepoint rolled back: the transaction may still commit
        session.info.pop(_PENDING, None)


def publish_now(events: list[tuple[Any, Event]]) -> None:
    """Publish committed events (best effort: a Redis outage is logged, never raised into the caller)."""
    now = time.time()
    try:
        pipe = shared_redis().pipeline(transaction=False)
        for tenant_id, event in events:
            stamped = Event(event.kind, event.branch_id, event.ids, now)
            pipe.publish(channel(tenant_id), stamped.payload())
        pipe.execute()
    except (RedisError, OSError) as exc:
        log_event(log, "live.publish_failed", logging.WARNING, error=type(exc).__name__, count=len(events))


HEARTBEAT_SECONDS = 5.0  # how often a quiet subscription asks `keep_going` whether its page is still open


async def subscribe(
    tenant_id: object,
    wanted: Callable[[Event], bool],
    keep_going: Callable[[], Any],
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
    name: str = "",
) -> AsyncIterator[Event]:
    """Yield the chain's events that `wanted` keeps, until `keep_going()` (awaited when it is a coroutine
    function, at least every `heartbeat` seconds) answers False. Events that arrive together are
    coalesced: a burst yields its last event once, so a page reloads once for them.

    One Redis connection per subscription (named `name` in Redis's CLIENT LIST, e.g. the page's path),
    closed on the way out however the caller stops.
    """
    client = aioredis.Redis.from_url(get_settings().REDIS_URL, socket_connect_timeout=3, client_name=name or None)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(channel(tenant_id))
        while True:
            message = await pubsub.get_message(timeout=heartbeat)
            found = None
            while message is not None:
                got = Event.parse(message["data"]) if message.get("type") == "message" else None
                if got is not None and wanted(got):
                    found = got
                message = await pubsub.get_message(timeout=0.0)  # drain the rest of a burst
            still = keep_going()
            if asyncio.iscoroutine(still):
                still = await still
            if not still:
                return
            if found is not None:
                yield found
    finally:
        # Shielded: a page-load chain cancelled by Reflex (navigation, disconnect) may be cancelled again
        # while it cleans up, which must not leave the connection open. Closing it ends the subscription.
        await asyncio.shield(_close(pubsub, client))


async def _close(pubsub: Any, client: aioredis.Redis) -> None:
    try:
        await pubsub.aclose()
    finally:
        await client.aclose()
