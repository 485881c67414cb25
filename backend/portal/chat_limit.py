"""How many questions one visitor may ask the portal's assistant: a fixed window per client IP and chain,
in Redis. Not a lockout of the chain (one IP's limit never touches another's); it keeps a script from
using the public chat as a free drug-information or model-provider endpoint."""

from __future__ import annotations

import uuid

from backend.core.queue import redis_connection
from backend.core.tokens import token_hash

WINDOW_SECONDS = 10 * 60
QUESTIONS_PER_WINDOW = 40


def seconds_to_wait(tenant_id: uuid.UUID, ip: str, limit: int = QUESTIONS_PER_WINDOW) -> int:
    """Count one question from this IP on this chain's portal; 0 to go ahead, else the seconds to wait."""
    key = f"portal:chat:{tenant_id}:{token_hash(ip or 'unknown')}"
    redis = redis_connection()
    asked = int(redis.incr(key))  # type: ignore[arg-type]
    if asked == 1:
        redis.expire(key, WINDOW_SECONDS)
    if asked <= limit:
        return 0
    return max(int(redis.ttl(key)), 1)  # type: ignore[arg-type]
