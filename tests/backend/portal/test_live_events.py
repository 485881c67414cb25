"""Live staff screens (issue 18 §5), the publishing side: a domain event reaches Redis only after its
transaction commits, only on its own chain's channel, and carries ids, never patient data."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from typing import Any

import pytest

from backend.core.live import Event, EventKind, channel, event_for, publish_after_commit, subscribe
from backend.core.queue import redis_connection
from tenants.session import run_in_tenant
from tests.backend.portal.test_refill_requests import _ask
from tests.backend.prescriptions.test_fills import receive
from tests.backend.prescriptions.test_refills import filled_and_checked


class Boom(Exception):
    pass


@pytest.fixture
def heard():
    """Every event published on any chain's channel while the test runs: (channel, payload)."""
    listener = redis_connection().pubsub(ignore_subscribe_messages=True)
    listener.psubscribe("events:*")
    got: list[tuple[str, dict[str, Any]]] = []

    def collect() -> list[tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + 0.5  # publishing is synchronous with the commit; allow the hop
        while time.monotonic() < deadline:
            message = listener.get_message(timeout=0.05)
            if message and message["type"] == "pmessage":
                got.append((message["channel"].decode(), json.loads(message["data"])))
        return got

    yield collect
    listener.close()


def test_a_refill_request_is_published_after_commit_on_its_chain_only(pharmacy, db, make_tenant, heard):
    other = make_tenant("other-chain")
    receive(pharmacy, "lisinopril", "L1", 100)
    rx, _ = filled_and_checked(pharmacy, db, refills_authorized="2")
    heard().clear()  # the set-up's own events (prescriptions received)

    request_id = _ask(pharmacy, rx.rx_number, "Running low, pick up Friday", pharmacy.other_branch)

    events = heard()
    assert [(c, p["kind"]) for c, p in events] == [(f"events:{pharmacy.chain.tenant_id}", "refill_requested")]
    payload = events[0][1]
    assert set(payload) == {"kind", "branch_id", "ids", "at"}  # no name, medicine, note or phone
    assert payload["branch_id"] == pharmacy.other_branch and payload["ids"] == [str(request_id)]
    text = json.dumps(payload).lower()
    assert "example" not in text and "lisinopril" not in text and "friday" not in text
    assert channel(other.tenant_id) not in {c for c, _ in events}


def test_a_rolled_back_transaction_publishes_nothing(pharmacy, db, heard):
    receive(pharmacy, "lisinopril", "L1", 100)
    rx, _ = filled_and_checked(pharmacy, db, refills_authorized="2")
    heard().clear()

    def then_fail(session, ctx):
        publish_after_commit(session, ctx, event_for(EventKind.STOCK_CHANGED, pharmacy.branch, uuid.uuid4()))
        raise Boom

    with pytest.raises(Boom):
        run_in_tenant(pharmacy.owner, then_fail)
    assert heard() == []

    # The same request, made in a transaction that then fails: nothing stored, nothing published.
    from backend.portal.chains import chain_for_slug, visitor_context
    from backend.portal.refill_requests import record_request
    from backend.portal.service import match_prescription
    from backend.portal.statuses import RefillRequestSource

    def ask_then_fail(session, ctx):
        from datetime import date

        found = match_prescription(session, ctx, rx.rx_number, date(1960, 5, 1), "Example")
        record_request(session, ctx, found, None, "", RefillRequestSource.PORTAL_FORM)
        raise Boom

    with pytest.raises(Boom):
        run_in_tenant(visitor_context(chain_for_slug(pharmacy.chain.slug)), ask_then_fail)
    assert heard() == []

    # A later transaction of the same kind that commits publishes only its own event.
    run_in_tenant(
        pharmacy.owner,
        lambda s, c: publish_after_commit(s, c, event_for(EventKind.STOCK_CHANGED, pharmacy.branch, "m1")),
    )
    assert [(p["kind"], p["ids"]) for _, p in heard()] == [("stock_changed", ["m1"])]


def test_a_subscriber_gets_its_chains_wanted_events_and_stops_when_told(pharmacy, make_tenant):
    other = make_tenant("other-chain")
    mine, theirs = pharmacy.chain.tenant_id, other.tenant_id
    stop = threading.Event()

    def publish_later() -> None:
        time.sleep(0.3)
        client = redis_connection()
        client.publish(channel(theirs), Event(EventKind.REFILL_REQUESTED, pharmacy.branch, ("x",)).payload())
        client.publish(channel(mine), Event(EventKind.STOCK_CHANGED, pharmacy.branch, ("skip",)).payload())
        client.publish(channel(mine), Event(EventKind.REFILL_REQUESTED, pharmacy.other_branch, ("y",)).payload())
        time.sleep(0.5)
        client.publish(channel(mine), Event(EventKind.REFILL_REQUESTED, pharmacy.branch, ("z",)).payload())
        time.sleep(0.3)
        stop.set()

    async def listen() -> list[Event]:
        got = []
        wanted = lambda e: e.kind is EventKind.REFILL_REQUESTED  # noqa: E731
        async for found in subscribe(mine, wanted, lambda: not stop.is_set(), heartbeat=0.1):
            got.append(found)
        return got

    threading.Thread(target=publish_later, daemon=True).start()
    started = time.monotonic()
    got = asyncio.run(listen())
    assert [e.ids for e in got] == [("y",), ("z",)]  # another chain's and unwanted kinds never arrive
    assert time.monotonic() - started < 5  # it ended when told, within a heartbeat
