"""Idempotent writes: the key, the request's fingerprint and the response commit with the write itself."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import ValidationFailed
from tenants.context import TenantContext


def fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def run_once(
    session: Session,
    ctx: TenantContext,
    key: str,
    payload: Any,
    write: Callable[[Session], tuple[int, dict[str, Any]]],
) -> tuple[int, dict[str, Any], bool]:
    """Do `write` once per (tenant, key) in the caller's transaction; returns (status, body, replayed).

    The same key with another body is refused (422). Concurrent requests with one key wait on a
    per-key lock, so only one of them writes; the others get its stored answer. The key and answer
    commit with the write itself, so a rolled-back write leaves the key unused.
    """
    if not 8 <= len(key) <= 100 or not key.isprintable():
        raise ValidationFailed("Idempotency-Key must be 8 to 100 printable characters.", field="Idempotency-Key")
    digest = fingerprint(payload)
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"{ctx.tenant_id}:{key}"})
    stored = session.execute(
        text("SELECT request_hash, status_code, response FROM idempotency_keys WHERE key = :k"), {"k": key}
    ).first()
    if stored is not None:
        if stored.request_hash != digest:
            raise ValidationFailed("This Idempotency-Key was used with a different request.", field="Idempotency-Key")
        return int(stored.status_code), dict(stored.response), True
    status, body = write(session)
    session.execute(
        text(
            "INSERT INTO idempotency_keys (tenant_id, key, request_hash, status_code, response) "
            "VALUES (:t, :k, :h, :s, CAST(:r AS jsonb))"
        ),
        {"t": ctx.tenant_id, "k": key, "h": digest, "s": status, "r": json.dumps(body, default=str)},
    )
    return status, body, False
