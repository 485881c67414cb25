"""The super-admin console: chains, their usage, suspension and support access.

Every read and write goes through the one audited platform path (`platform_session`), naming
the admin and the reason; actions on a chain also land in that chain's own audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import text
from sqlmodel import col, func, select

from backend.accounts import throttle
from backend.accounts.mfa import mfa_enabled, verify_second_factor
from backend.accounts.service import BAD_CREDENTIALS, authenticate
from backend.accounts.sessions import PlatformPrincipal, issue_login_code
from backend.core.crypto import encrypt
from backend.core.errors import AuthenticationRequired, NotFound, PermissionDenied, ValidationFailed
from backend.core.models import new_id, utc_now
from backend.core.passwords import hash_password
from tenants.audit import record_audit
from tenants.models import Branch, Membership, Tenant, TenantStatus, User
from tenants.session import platform_session, user_session

SUPPORT_MAX_MINUTES = 120
MIN_REASON = 10  # for suspending, reactivating and support access: the owner and the audit log read it


@dataclass(frozen=True)
class TenantSummary:
    id: str
    slug: str
    name: str
    status: str
    plan: str
    currency: str
    branches: int
    users: int = 0
    events_30d: int = 0
    last_activity: datetime | None = None


def platform_sign_in(email: str, password: str, code: str, *, ip: str = "") -> str:
    """Password and a TOTP code (required) of a platform admin; returns a one-time login code."""
    user = authenticate(email, password, ip=ip)
    with user_session(user.user_id) as session:
        is_admin = session.execute(
            text("SELECT is_platform_admin FROM users WHERE id = :u"), {"u": user.user_id}
        ).scalar()
    if not is_admin:
        raise AuthenticationRequired(BAD_CREDENTIALS)  # the console does not reveal who is staff
    if not mfa_enabled(user.user_id):
        raise PermissionDenied(
            "Platform admins must have two-factor sign-in: run `pharmacy-saas platform create-admin` to enrol."
        )
    if wait := throttle.seconds_to_wait(f"mfa:{user.user_id}", ip):
        raise AuthenticationRequired(f"Too many attempts. Wait {wait} seconds and try again.")
    if not verify_second_factor(user.user_id, code):
        throttle.record_failure(f"mfa:{user.user_id}", ip)
        raise AuthenticationRequired("That code is not right (or was already used).")
    return issue_login_code(user.user_id, None, platform=True)


def list_tenants(*, actor: str, reason: str, search: str = "") -> list[TenantSummary]:
    """Every chain (or those matching `search`) with usage counts, for operators."""
    pattern = f"%{search.strip().lower().replace('%', '')}%"
    with platform_session(reason=reason, actor=actor) as session:
        branches = select(Branch.tenant_id, func.count().label("n")).group_by(col(Branch.tenant_id)).subquery()
        members = (
            select(Membership.tenant_id, func.count().label("n"))
            .where(col(Membership.is_active))
            .group_by(col(Membership.tenant_id))
            .subquery()
        )
        rows = session.exec(
            select(Tenant, func.coalesce(branches.c.n, 0), func.coalesce(members.c.n, 0))
            .join(branches, branches.c.tenant_id == Tenant.id, isouter=True)
            .join(members, members.c.tenant_id == Tenant.id, isouter=True)
            .where(func.lower(Tenant.name).like(pattern) | col(Tenant.slug).like(pattern))
            .order_by(col(Tenant.slug))
            .limit(200)
        ).all()
        activity = {
            r.tenant_id: (r.events, r.last)
            for r in session.execute(
                text(
                    "SELECT tenant_id, max(occurred_at) AS last, "
                    "count(*) FILTER (WHERE occurred_at > now() - interval '30 days') AS events "
                    "FROM audit_events WHERE tenant_id = ANY(CAST(:ids AS uuid[])) GROUP BY tenant_id"
                ),
                {"ids": [str(t.id) for t, _, _ in rows]},  # only the chains on this page
            )
        }
        return [
            TenantSummary(
                str(t.id),
                t.slug,
                t.name,
                t.status,
                t.plan,
                t.currency,
                int(b),
                int(u),
                int(activity.get(t.id, (0, None))[0]),
                activity.get(t.id, (0, None))[1],
            )
            for t, b, u in rows
        ]


def check_reason(reason: str, *, example: str = "") -> None:
    """Refuse a reason shorter than MIN_REASON (the console checks it before asking to confirm, too)."""
    if len(reason.strip()) < MIN_REASON:
        hint = f", e.g. {example}" if example else ""
        raise ValidationFailed(f"Give a reason (at least {MIN_REASON} characters){hint}.", field="reason")


def set_tenant_status(admin: PlatformPrincipal, tenant_id: str, status: str, reason: str) -> None:
    """Suspend (staff are refused on their next click, API tokens stop) or reactivate a chain."""
    if status not in tuple(TenantStatus):
        raise ValidationFailed("Status must be active or suspended.", field="status")
    check_reason(reason)
    with platform_session(
        reason=f"set status {status}: {reason.strip()}", actor=admin.email, tenant_id=tenant_id
    ) as session:
        tenant = session.exec(select(Tenant).where(Tenant.id == uuid.UUID(tenant_id)).with_for_update()).first()
        if tenant is None:
            raise NotFound("No such pharmacy chain.")
        tenant.status = status
        session.add(tenant)
        record_audit(
            session,
            tenant.id,
            "tenant.suspended" if status == TenantStatus.SUSPENDED else "tenant.reactivated",
            actor_user_id=uuid.UUID(admin.user_id),
            entity_type="tenant",
            entity_id=tenant_id,
            details={"reason": reason.strip(), "by": "platform"},
        )


def grant_support_access(admin: PlatformPrincipal, tenant_id: str, reason: str, minutes: int) -> str:
    """Time-limited, read-only access to one chain, shown to its owner; returns a login code."""
    check_reason(reason, example="the ticket number")
    if not 5 <= minutes <= SUPPORT_MAX_MINUTES:
        raise ValidationFailed(f"Access lasts 5 to {SUPPORT_MAX_MINUTES} minutes.", field="minutes")
    expires = utc_now() + timedelta(minutes=minutes)
    with platform_session(
        reason=f"support access: {reason.strip()}", actor=admin.email, tenant_id=tenant_id
    ) as session:
        if session.exec(select(Tenant.id).where(Tenant.id == uuid.UUID(tenant_id))).first() is None:
            raise NotFound("No such pharmacy chain.")
        session.execute(
            text(
                "INSERT INTO support_grants (tenant_id, id, admin_user_id, reason, expires_at) "
                "VALUES (:t, :i, :a, :r, :e)"
            ),
            {"t": tenant_id, "i": new_id(), "a": admin.user_id, "r": reason.strip(), "e": expires},
        )
        record_audit(
            session,
            uuid.UUID(tenant_id),
            "support.access_granted",
            actor_user_id=uuid.UUID(admin.user_id),
            entity_type="support",
            entity_id=admin.email,
            details={"reason": reason.strip(), "minutes": minutes, "admin": admin.full_name},
        )
    return issue_login_code(admin.user_id, tenant_id)


@dataclass(frozen=True)
class NewAdmin:
    email: str
    password: str
    otpauth_uri: str
    totp_secret: str


def create_platform_admin(email: str, full_name: str, password: str) -> NewAdmin:
    """Operator command: a platform admin with a password and TOTP already enrolled."""
    from backend.accounts.mfa import PURPOSE
    from backend.accounts.passwords import check_password

    email = email.strip().lower()
    check_password(password, email=email)
    secret = pyotp.random_base32()
    with platform_session(reason="create platform admin", actor="cli") as session:
        user = session.exec(select(User).where(User.email == email)).first()
        if user is None:
            user = User(email=email, full_name=full_name or email)
        user.password_hash, user.is_platform_admin, user.is_active = hash_password(password), True, True
        session.add(user)
        session.flush()
        user_id = str(user.id)
    # The TOTP seed is the user's own row: written under their user id, not through the bypass role.
    with user_session(user_id) as session:
        session.execute(
            text(
                "INSERT INTO user_mfa (user_id, secret_encrypted, enabled_at) VALUES (:u, :s, now()) "
                "ON CONFLICT (user_id) DO UPDATE SET secret_encrypted = EXCLUDED.secret_encrypted, "
                "enabled_at = now(), last_step = 0"
            ),
            {"u": user_id, "s": encrypt(PURPOSE, secret)},
        )
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="Pharmacy Cloud (platform)")
    return NewAdmin(email, password, uri, secret)
