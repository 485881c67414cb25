"""Server-side sessions: the browser holds a random token in an HttpOnly cookie; the server keeps
the session (expiry, last seen, IP, user agent) and can end it at any time.

Every browser event re-reads the session through `principal_for_token`, so an ended session, a
deactivated member or a suspended chain is refused on the very next click.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import col, update

from backend.accounts.models import UserSession
from backend.core.database import lookup
from backend.core.errors import AuthenticationRequired, ChainSuspended, PermissionDenied
from backend.core.models import utc_now
from backend.core.queue import redis_connection
from backend.core.settings import get_settings
from backend.core.tokens import new_token, token_hash
from tenants.context import TenantContext
from tenants.models import TenantStatus
from tenants.session import user_session

LOGIN_CODE_TTL_SECONDS = 60
SUSPENDED_MESSAGE = "This pharmacy chain's account is suspended. Contact your chain's owner."

SESSION_COOKIE = "pharmacy_session"
PLATFORM_COOKIE = "pharmacy_platform_session"  # the console's own session, never a chain's


@dataclass(frozen=True)
class Principal:
    """A signed-in person and their role in the chain the session is working in."""

    session_id: str
    user_id: str
    full_name: str
    email: str
    tenant_id: str | None = None
    tenant_name: str | None = None
    tenant_status: str | None = None
    role: str | None = None
    branch_ids: tuple[str, ...] = field(default_factory=tuple)
    mfa_enabled: bool = False
    tenant_requires_mfa: bool = False

    def context(self) -> TenantContext:
        """The TenantContext for this principal; refuses when no active chain is selected."""
        if not self.tenant_id or not self.role:
            raise PermissionDenied("Your account is not a member of this pharmacy chain any more.")
        if self.tenant_status != TenantStatus.ACTIVE:
            raise ChainSuspended(SUSPENDED_MESSAGE)
        return TenantContext(
            tenant_id=uuid.UUID(self.tenant_id),
            user_id=uuid.UUID(self.user_id),
            role=self.role,
            branch_ids=frozenset(uuid.UUID(b) for b in self.branch_ids),
        )


def start_session(
    user_id: str, tenant_id: str | None, *, ip: str = "", user_agent: str = "", platform: bool = False
) -> str:
    """Create a session and return its token (only its hash is stored).

    A platform session (super-admin console) never works inside a chain, and a chain session
    never opens the console: they are told apart by `is_platform` and carried in different cookies.
    """
    token = new_token()
    now = utc_now()
    with user_session(user_id) as session:
        session.add(
            UserSession(
                user_id=uuid.UUID(user_id),
                token_hash=token_hash(token),
                current_tenant_id=uuid.UUID(tenant_id) if tenant_id else None,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=get_settings().SESSION_TTL_HOURS),
                ip=ip[:64] or None,
                user_agent=user_agent[:300] or None,
                is_platform=platform,
            )
        )
    return token


def principal_for_token(token: str | None) -> Principal | None:
    """The live session's principal, or None for a missing, ended or expired session."""
    if not token or len(token) > 200:
        return None
    rows = lookup("SELECT * FROM session_principal(%(h)s)", {"h": token_hash(token)})
    if not rows:
        return None
    row = rows[0]
    return Principal(
        session_id=str(row.session_id),
        user_id=str(row.user_id),
        full_name=row.full_name,
        email=row.email,
        tenant_id=str(row.tenant_id) if row.tenant_id else None,
        tenant_name=row.tenant_name,
        tenant_status=row.tenant_status,
        role=row.role,
        branch_ids=tuple(str(b) for b in row.branch_ids or ()),
        mfa_enabled=bool(row.mfa_enabled),
        tenant_requires_mfa=bool(row.tenant_requires_mfa),
    )


def require_principal(token: str | None) -> Principal:
    principal = principal_for_token(token)
    if principal is None:
        raise AuthenticationRequired("Please sign in.")
    return principal


def end_session(token: str | None) -> None:
    """Sign out this browser: the session is ended on the server, whatever the cookie does."""
    principal = principal_for_token(token)
    if principal is None or token is None:
        return
    with user_session(principal.user_id) as session:
        session.exec(
            update(UserSession).where(col(UserSession.token_hash) == token_hash(token)).values(revoked_at=utc_now())
        )


def end_all_sessions(user_id: str) -> int:
    """Sign out everywhere: end every live session of this user."""
    with user_session(user_id) as session:
        result = session.exec(
            update(UserSession)
            .where(col(UserSession.user_id) == uuid.UUID(user_id), col(UserSession.revoked_at).is_(None))
            .values(revoked_at=utc_now())
        )
        return int(result.rowcount)


def switch_tenant(principal: Principal, tenant_id: str) -> None:
    """Move this session to another chain the user is an active member of (checked here)."""
    from backend.accounts.service import memberships_of

    if tenant_id not in {m.tenant_id for m in memberships_of(principal.user_id)}:
        raise PermissionDenied("You are not a member of that pharmacy chain.")
    with user_session(principal.user_id) as session:
        session.exec(
            update(UserSession)
            .where(col(UserSession.id) == uuid.UUID(principal.session_id))
            .values(current_tenant_id=uuid.UUID(tenant_id))
        )


def issue_login_code(user_id: str, tenant_id: str | None, *, platform: bool = False) -> str:
    """A one-time code the browser exchanges (over HTTP) for its HttpOnly session cookie."""
    code = new_token()
    redis_connection().set(
        f"login-code:{token_hash(code)}",
        json.dumps({"user_id": user_id, "tenant_id": tenant_id, "platform": platform}),
        ex=LOGIN_CODE_TTL_SECONDS,
    )
    return code


@dataclass(frozen=True)
class LoginGrant:
    user_id: str
    tenant_id: str | None
    platform: bool


def redeem_login_code(code: str) -> LoginGrant | None:
    """What a code was issued for; each code works once, for one minute."""
    if not code or len(code) > 200:
        return None
    raw = redis_connection().getdel(f"login-code:{token_hash(code)}")
    if raw is None:
        return None
    data = json.loads(raw)  # type: ignore[arg-type]
    return LoginGrant(data["user_id"], data["tenant_id"], bool(data.get("platform")))


@dataclass(frozen=True)
class PlatformPrincipal:
    session_id: str
    user_id: str
    full_name: str
    email: str


def platform_principal_for_token(token: str | None) -> PlatformPrincipal | None:
    """A live console session of an active platform admin with MFA on, else None."""
    if not token or len(token) > 200:
        return None
    rows = lookup("SELECT * FROM platform_principal(%(h)s)", {"h": token_hash(token)})
    if not rows:
        return None
    row = rows[0]
    return PlatformPrincipal(str(row.session_id), str(row.user_id), row.full_name, row.email)


def stash_notice(message: str) -> str:
    """Keep a message for the sign-in page for a minute; returns the id to put in the URL."""
    notice_id = new_token()[:16]
    redis_connection().set(f"signin-notice:{notice_id}", message[:300], ex=60)
    return notice_id


def take_notice(notice_id: str) -> str:
    if not notice_id or len(notice_id) > 32:
        return ""
    raw = redis_connection().getdel(f"signin-notice:{notice_id}")
    return raw.decode() if isinstance(raw, bytes) else ""
