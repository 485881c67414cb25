"""The portal's abuse resistance, kept in Redis: progressive delays, the response floor, the volume alert.

- `check(kind, ip, subject, chain)`: how long this client IP and this subject (an Rx number of that chain)
  must wait before the next try of `kind` ("refill", "code"...); 0 = go ahead. A limited try is refused
  without being counted. The subject is counted per chain: Rx numbers are the chain's own ("B1-000001" exists
  in every chain with a branch B1), so hammering one chain's number never slows another chain's patient.
- `record(kind, ip, subject, chain)`: count one well-formed try (matched or not: the caller cannot tell them apart
  either); past the free tries each try imposes a longer wait (1 s, 2 s, 4 s... up to the maximum). Not a
  lockout: whoever hammers an Rx number only slows tries on it down.
- `wait_out_floor(started_at)`: every well-formed answer is sent no earlier than the fixed floor after the
  request started (`time.monotonic()`), so the time an answer takes does not tell whether anything matched.
- `chain_volume_alert(tenant_id)`: count one try on the chain this hour; True once per hour, when the
  count passes the soft threshold (the caller records the audit event the owner's dashboard shows).
Keys hold hashes, never an IP or an Rx number. Limits come from settings (PORTAL_*) so tests can raise them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

from backend.core.queue import redis_connection
from backend.core.settings import get_settings
from backend.core.tokens import token_hash

CHAIN_ALERT_ACTION = "portal.volume_alert"


def _subject(subject: str) -> str:
    return "".join(str(subject or "").split()).upper()


def _keys(kind: str, ip: str, subject: str, chain: object) -> list[tuple[str, int]]:
    settings = get_settings()
    keys = []
    if ip:
        keys.append((f"portal:{kind}:ip:{token_hash(ip)}", settings.PORTAL_FREE_TRIES_PER_IP))
    if _subject(subject):
        counted = token_hash(f"{chain}:{_subject(subject)}")  # the chain's own number
        keys.append((f"portal:{kind}:subject:{counted}", settings.PORTAL_FREE_TRIES_PER_SUBJECT))
    return keys


def check(kind: str, ip: str, subject: str, chain: object) -> int:
    """Seconds this IP and the chain's subject must wait before the next try of `kind` (0 = go ahead)."""
    redis = redis_connection()
    waits = [int(redis.ttl(f"{key}:wait")) for key, _ in _keys(kind, ip, subject, chain)]  # type: ignore[arg-type]
    return max([w for w in waits if w > 0], default=0)


def record(kind: str, ip: str, subject: str, chain: object) -> int:
    """Count one well-formed try; returns the wait it now imposes on the next one (seconds, 0 = none)."""
    settings = get_settings()
    redis = redis_connection()
    delay = 0
    for key, free in _keys(kind, ip, subject, chain):
        tries = int(redis.incr(key))  # type: ignore[arg-type]
        redis.expire(key, settings.PORTAL_LIMIT_WINDOW_SECONDS)
        if tries >= free:
            this_delay = min(2 ** min(tries - free, 30), settings.PORTAL_MAX_DELAY_SECONDS)
            redis.set(f"{key}:wait", 1, ex=max(this_delay, 1))
            delay = max(delay, this_delay)
    return delay


def floor_left(started_at: float) -> float:
    """Seconds still to wait before an answer to a request started at `started_at` (monotonic) may go."""
    return max(0.0, get_settings().PORTAL_RESPONSE_FLOOR_MS / 1000 - (time.monotonic() - started_at))


async def wait_out_floor(started_at: float) -> None:
    """Sleep until the response floor after `started_at` (a `time.monotonic()` taken at the request's start)."""
    left = floor_left(started_at)
    if left > 0:
        await asyncio.sleep(left)


def chain_volume_alert(tenant_id: uuid.UUID) -> bool:
    """Count one portal try on the chain this hour; True the first time this hour it passes the threshold."""
    hour = datetime.now(UTC).strftime("%Y%m%d%H")
    key = f"portal:chain:{tenant_id}:{hour}"
    redis = redis_connection()
    count = int(redis.incr(key))  # type: ignore[arg-type]
    redis.expire(key, 2 * 60 * 60)
    if count <= get_settings().PORTAL_CHAIN_ALERT_PER_HOUR:
        return False
    return bool(redis.set(f"{key}:alerted", 1, nx=True, ex=2 * 60 * 60))


def wait_words(seconds: int) -> str:
    """'30 seconds', '1 minute', '4 minutes': how long a limited visitor must wait, for the page."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
