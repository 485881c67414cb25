"""API tokens for /api/v1: created by owners, shown once, stored as SHA-256 hashes, rate-limited."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from backend.accounts.models import ApiToken
from backend.core.database import lookup
from backend.core.errors import (
    AuthenticationRequired,
    ChainSuspended,
    NotFound,
    PharmacyError,
    ValidationFailed,
)
from backend.core.models import utc_now
from backend.core.queue import shared_redis
from backend.core.tokens import new_token, token_hash
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.models import TenantStatus
from tenants.roles import api_role, require
from tenants.session import tenant_session

TOKEN_PREFIX = "phs_"
SCOPES = ("read", "write", "admin")


class RateLimited(PharmacyError):
    http_status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


@dataclass(frozen=True)
class CreatedToken:
    token: str  # shown once, never stored
    info: TokenInfo


@dataclass(frozen=True)
class ApiPrincipal:
    tenant_id: str
    token_id: str
    scopes: tuple[str, ...]
    rate_limit_per_hour: int
    created_by: str | None

    def context(self) -> TenantContext:
        return TenantContext(
            tenant_id=uuid.UUID(self.tenant_id),
            user_id=uuid.UUID(self.created_by) if self.created_by else None,
            role=api_role(self.scopes),
        )


def _info(token: ApiToken) -> TokenInfo:
    return TokenInfo(
        str(token.id),
        token.name,
        token.token_prefix,
        list(token.scopes),
        token.created_at,
        token.last_used_at,
        token.revoked_at is not None,
    )


def create_token(ctx: TenantContext, name: str, scopes: list[str]) -> CreatedToken:
    require(ctx, "tokens.manage")
    name = name.strip()
    if not 1 <= len(name) <= 80:
        raise ValidationFailed("Give the token a name (up to 80 characters).", field="name")
    if not scopes or not set(scopes) <= set(SCOPES):
        raise ValidationFailed("Choose at least one scope: read, write or admin.", field="scopes")
    plain = new_token(TOKEN_PREFIX)
    with tenant_session(ctx) as session:
        token = ApiToken(
            tenant_id=ctx.tenant_id,
            name=name,
            token_prefix=plain[:12],
            token_hash=token_hash(plain),
            scopes=sorted(set(scopes)),
            created_by=ctx.user_id,
        )
        session.add(token)
        session.flush()
        record_audit(
            session,
            ctx.tenant_id,
            "api_token.created",
            actor_user_id=ctx.user_id,
            entity_type="api_token",
            entity_id=str(token.id),
            details={"scopes": token.scopes},
        )
        return CreatedToken(plain, _info(token))


def list_tokens(ctx: TenantContext) -> list[TokenInfo]:
    require(ctx, "tokens.manage")
    with tenant_session(ctx) as session:
        return [_info(t) for t in session.exec(select(ApiToken).order_by(col(ApiToken.created_at).desc())).all()]


def revoke_token(ctx: TenantContext, token_id: str) -> None:
    require(ctx, "tokens.manage")
    with tenant_session(ctx) as session:
        token = session.exec(select(ApiToken).where(ApiToken.id == uuid.UUID(token_id))).first()
        if token is None:
            raise NotFound("No such token.")
        if token.revoked_at is None:
            token.revoked_at = utc_now()
            session.add(token)
            record_audit(
                session,
                ctx.tenant_id,
                "api_token.revoked",
                actor_user_id=ctx.user_id,
                entity_type="api_token",
                entity_id=token_id,
            )


def principal_for_api_token(token: str | None) -> ApiPrincipal:
    """Validate a bearer token: one indexed lookup of its hash."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise AuthenticationRequired("Missing or invalid API token.")
    rows = lookup("SELECT * FROM api_token_principal(%(h)s)", {"h": token_hash(token)})
    if not rows:
        raise AuthenticationRequired("Missing or invalid API token.")
    row = rows[0]
    if row.tenant_status != TenantStatus.ACTIVE:
        raise ChainSuspended("This pharmacy chain's account is suspended.")
    return ApiPrincipal(
        str(row.tenant_id),
        str(row.token_id),
        tuple(row.scopes),
        int(row.rate_limit_per_hour),
        str(row.created_by) if row.created_by else None,
    )


def check_rate_limit(principal: ApiPrincipal, *, now: float | None = None) -> None:
    """Fixed one-hour windows per token and per tenant; raises RateLimited with Retry-After."""
    now = now if now is not None else time.time()
    window = int(now // 3600)
    retry_after = 3600 - int(now % 3600)
    pipe = shared_redis().pipeline()
    keys = [
        f"ratelimit:token:{principal.token_id}:{window}",
        f"ratelimit:tenant:{principal.tenant_id}:{window}",
    ]
    for key in keys:
        pipe.incr(key)
        pipe.expire(key, 3700)
    counts = pipe.execute()[::2]
    if max(counts) > principal.rate_limit_per_hour:
        raise RateLimited(f"Rate limit of {principal.rate_limit_per_hour} requests per hour reached.", retry_after)
