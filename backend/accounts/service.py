"""Signing staff in and signing chains up."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import text

from backend.accounts import auth_path, throttle
from backend.accounts.passwords import check_password
from backend.core.errors import AuthenticationRequired, ValidationFailed
from backend.core.passwords import hash_password
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.models import TenantStatus
from tenants.provisioning import EMAIL_RE, NewBranch, NewChain, provision_tenant, validate_chain
from tenants.session import tenant_session, user_session

BAD_CREDENTIALS = "E-mail or password is not right."


class TooManyAttempts(AuthenticationRequired):
    code = "too_many_attempts"
    http_status = 429


@dataclass(frozen=True)
class MembershipSummary:
    tenant_id: str
    tenant_slug: str
    tenant_name: str
    role: str


@dataclass(frozen=True)
class SignedInUser:
    user_id: str
    full_name: str
    memberships: list[MembershipSummary]


def authenticate(email: str, password: str, *, ip: str = "") -> SignedInUser:
    """Check an e-mail and password, slowing repeated failures down.

    The answer never says whether the e-mail exists: unknown e-mails cost the same argon2 work and
    get the same message and the same delays.
    """
    email = email.strip().lower()
    wait = throttle.seconds_to_wait(email, ip)
    if wait:
        raise TooManyAttempts(f"Too many attempts. Wait {wait} seconds and try again.")
    login = auth_path.check_login(email, password)
    if not (login.password_ok and login.is_active and login.user_id):
        delay = throttle.record_failure(email, ip)
        if login.user_id is not None:  # an owner should see someone trying their staff's accounts
            _audit_failed_sign_in(login.user_id, ip, delay)
        raise AuthenticationRequired(BAD_CREDENTIALS)
    throttle.record_success(email)
    return SignedInUser(user_id=login.user_id, full_name=login.full_name, memberships=memberships_of(login.user_id))


def memberships_of(user_id: uuid.UUID | str) -> list[MembershipSummary]:
    """The active chains a user works for (suspended chains excluded)."""
    with user_session(str(user_id)) as session:
        rows = session.execute(text("SELECT * FROM auth_user_memberships(:u)"), {"u": str(user_id)}).all()
    return [
        MembershipSummary(str(r.tenant_id), r.tenant_slug, r.tenant_name, r.role)
        for r in rows
        if r.tenant_status == TenantStatus.ACTIVE
    ]


def _audit_failed_sign_in(user_id: str, ip: str, delay: int) -> None:
    for membership in memberships_of(user_id):
        ctx = TenantContext(tenant_id=uuid.UUID(membership.tenant_id), role="system")
        with tenant_session(ctx) as session:
            record_audit(
                session,
                ctx.tenant_id,
                "auth.sign_in_failed",
                entity_type="user",
                entity_id=user_id,
                details={"ip": ip[:64], "delay_seconds": delay},
            )


def record_sign_in(user_id: str, tenant_id: str, ip: str) -> None:
    ctx = TenantContext(tenant_id=uuid.UUID(tenant_id), user_id=uuid.UUID(user_id), role="system")
    with tenant_session(ctx) as session:
        record_audit(
            session,
            ctx.tenant_id,
            "auth.signed_in",
            actor_user_id=ctx.user_id,
            entity_type="user",
            entity_id=user_id,
            details={"ip": ip[:64]},
        )


@dataclass(frozen=True)
class SignUpForm:
    chain_name: str
    slug: str
    owner_name: str
    email: str
    password: str
    currency: str
    branch_name: str
    branch_address: str
    time_zone: str
    tax_rate: str
    prices_include_tax: bool


def sign_up(form: SignUpForm) -> tuple[str, str]:
    """Create a chain with its first branch and owner, all or nothing; returns (user_id, tenant_id)."""
    email = form.email.strip().lower()
    if not form.owner_name.strip():
        raise ValidationFailed("Enter your name.", field="owner_name")
    if not EMAIL_RE.match(email):
        raise ValidationFailed("Enter a valid e-mail address.", field="owner_email")
    check_password(form.password, email=email)
    if not form.branch_name.strip():
        raise ValidationFailed("Name your first branch.", field="branch_name")
    try:
        rate = Decimal(form.tax_rate.strip() or "0")
    except InvalidOperation:
        raise ValidationFailed("Tax rate must be a number such as 8.875.", field="default_tax_rate") from None
    chain = NewChain(
        name=form.chain_name.strip(),
        slug=form.slug.strip().lower(),
        owner_email=email,
        owner_name=form.owner_name.strip(),
        owner_password_hash="",
        currency=form.currency.strip().upper(),
        branches=(
            NewBranch(
                name=form.branch_name.strip(),
                code=re.sub(r"[^A-Z0-9]", "", form.branch_name.upper())[:6] or "MAIN",
                address=form.branch_address.strip(),
                time_zone=form.time_zone.strip(),
                prices_include_tax=form.prices_include_tax,
                default_tax_rate=rate,
            ),
        ),
    )
    validate_chain(chain)  # every field checked before the slow hash and before any write
    chain = NewChain(**{**chain.__dict__, "owner_password_hash": hash_password(form.password)})
    created = provision_tenant(chain, actor=f"signup:{email}", reason="self-service sign-up")
    # Sample data ("load demo data") is the sign-up adapter's next call, not this service's:
    # backend.demo.seed.load_demo_data_for_new_chain.
    return str(created.owner_user_id), str(created.tenant_id)
