"""The portal's limits: progressive waits per IP and per subject, hashed keys, the floor, the soft volume alert."""

from __future__ import annotations

import asyncio
import time
import uuid

from backend.core.queue import redis_connection
from backend.portal import abuse

CHAIN, OTHER_CHAIN = uuid.uuid4(), uuid.uuid4()


def _expire_waits() -> None:
    """Time passes: every imposed wait is over (the counts stay)."""
    redis = redis_connection()
    for key in redis.keys("portal:*:wait"):
        redis.delete(key)


def test_tries_on_one_subject_wait_longer_and_longer_from_any_ip(portal_settings):
    portal_settings(PORTAL_FREE_TRIES_PER_SUBJECT=3)
    assert [abuse.record("refill", f"10.0.0.{i}", "RX-1", CHAIN) for i in range(3)] == [0, 0, 1]
    assert abuse.check("refill", "10.9.9.9", "rx-1 ", CHAIN) >= 1  # another IP, the same number (normalised)
    assert abuse.check("refill", "10.9.9.9", "RX-2", CHAIN) == 0
    _expire_waits()
    assert abuse.record("refill", "10.0.0.7", "RX-1", CHAIN) == 2
    _expire_waits()
    assert abuse.record("refill", "10.0.0.8", "RX-1", CHAIN) == 4
    assert 2 <= abuse.check("refill", "10.0.0.8", "RX-1", CHAIN) <= 4
    assert abuse.check("code", "10.0.0.8", "RX-1", CHAIN) == 0  # kinds are counted apart
    # Rx numbers are a chain's own: another chain's patient with the same number is not slowed down
    assert abuse.check("refill", "10.9.9.9", "RX-1", OTHER_CHAIN) == 0


def test_one_ip_is_limited_across_subjects_and_keys_hold_no_ip_or_number(portal_settings):
    portal_settings(PORTAL_FREE_TRIES_PER_IP=4)
    for i in range(4):
        abuse.record("refill", "203.0.113.5", f"RX-{i}", CHAIN)
    assert abuse.check("refill", "203.0.113.5", "RX-99", CHAIN) >= 1
    assert abuse.check("refill", "203.0.113.6", "RX-99", CHAIN) == 0
    keys = b" ".join(redis_connection().keys("portal:*"))
    assert b"203.0.113" not in keys and b"RX-" not in keys


def test_the_wait_never_exceeds_the_maximum(portal_settings):
    portal_settings(PORTAL_FREE_TRIES_PER_SUBJECT=1, PORTAL_MAX_DELAY_SECONDS=30)
    delays = [abuse.record("refill", "", "RX-1", CHAIN) for _ in range(12)]
    assert max(delays) == 30 and delays[:3] == [1, 2, 4]


def test_the_floor_is_waited_out_from_the_request_start(portal_settings):
    portal_settings(PORTAL_RESPONSE_FLOOR_MS=150)
    started = time.monotonic()
    asyncio.run(abuse.wait_out_floor(started))
    assert 0.15 <= time.monotonic() - started < 0.3
    late = time.monotonic() - 1
    begun = time.monotonic()
    asyncio.run(abuse.wait_out_floor(late))  # already past the floor: no extra wait
    assert time.monotonic() - begun < 0.05


def test_the_volume_alert_fires_once_an_hour_past_the_threshold(portal_settings):
    portal_settings(PORTAL_CHAIN_ALERT_PER_HOUR=3)
    chain = uuid.uuid4()
    assert [abuse.chain_volume_alert(chain) for _ in range(6)] == [False, False, False, True, False, False]
    assert abuse.chain_volume_alert(uuid.uuid4()) is False


def test_wait_words(portal_settings):
    assert [abuse.wait_words(s) for s in (1, 30, 60, 61, 240)] == [
        "1 second", "30 seconds", "1 minute", "2 minutes", "4 minutes",
    ]  # fmt: skip
