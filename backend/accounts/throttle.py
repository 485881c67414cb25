"""Progressive sign-in delays per account and per IP, kept in Redis.

Not a lockout: a stranger hammering a pharmacist's e-mail slows attempts down (up to a minute
between tries) but cannot lock the pharmacist out at the counter. Keys hold hashes, not e-mails.
"""

from __future__ import annotations

from backend.core.queue import redis_connection
from backend.core.tokens import token_hash

WINDOW_SECONDS = 15 * 60
FREE_TRIES_PER_ACCOUNT = 3
FREE_TRIES_PER_IP = 10
MAX_DELAY_SECONDS = 60


def _keys(email: str, ip: str) -> list[tuple[str, int]]:
    keys = [(f"signin:account:{token_hash(email.strip().lower())}", FREE_TRIES_PER_ACCOUNT)]
    if ip:
        keys.append((f"signin:ip:{token_hash(ip)}", FREE_TRIES_PER_IP))
    return keys


def seconds_to_wait(email: str, ip: str) -> int:
    """How long this account/IP must wait before the next try (0 = go ahead)."""
    redis = redis_connection()
    waits = [int(redis.ttl(f"{key}:wait")) for key, _ in _keys(email, ip)]  # type: ignore[arg-type]
    return max([w for w in waits if w > 0], default=0)


def record_failure(email: str, ip: str) -> int:
    """Count a failed try; returns the delay now imposed (seconds)."""
    redis = redis_connection()
    delay = 0
    for key, free in _keys(email, ip):
        failures = int(redis.incr(key))  # type: ignore[arg-type]
        redis.expire(key, WINDOW_SECONDS)
        if failures >= free:
            this_delay = min(2 ** (failures - free), MAX_DELAY_SECONDS)
            redis.set(f"{key}:wait", 1, ex=this_delay)
            delay = max(delay, this_delay)
    return delay


def record_success(email: str) -> None:
    redis = redis_connection()
    key, _ = _keys(email, "")[0]
    redis.delete(key, f"{key}:wait")
