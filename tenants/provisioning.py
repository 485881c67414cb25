"""Creating a pharmacy chain: tenant, branches, owner and first audit events in one transaction."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlmodel import Session, select

from backend.core.errors import Conflict, ValidationFailed
from backend.core.models import utc_now
from tenants.audit import record_audit
from tenants.models import Branch, Membership, MembershipBranch, Tenant, User
from tenants.roles import OWNER, STAFF_ROLES
from tenants.session import platform_session

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class NewBranch:
    name: str
    code: str
    address: str = ""
    time_zone: str = "UTC"
    prices_include_tax: bool = False
    default_tax_rate: Decimal = Decimal("0")


@dataclass(frozen=True)
class NewMember:
    """A staff member created with the chain (the demo chain's staff), already able to sign in."""

    email: str
    full_name: str
    role: str
    password_hash: str
    branch_codes: tuple[str, ...] = ()  # the branches they act on; none means every branch


@dataclass(frozen=True)
class NewChain:
    name: str
    slug: str
    owner_email: str
    owner_name: str
    owner_password_hash: str
    currency: str = "USD"
    branches: tuple[NewBranch, ...] = field(default_factory=tuple)
    members: tuple[NewMember, ...] = field(default_factory=tuple)
    # When the chain started (a demo chain with a history began before it); None is now.
    created_at: datetime | None = None


@dataclass(frozen=True)
class ProvisionedTenant:
    tenant_id: uuid.UUID
    slug: str
    owner_user_id: uuid.UUID
    branch_ids: tuple[uuid.UUID, ...]
    member_user_ids: tuple[uuid.UUID, ...] = ()  # in the order of NewChain.members


def suggest_slug(name: str) -> str:
    """A URL slug from a chain's name: lowercase letters, digits and single hyphens."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:40].strip("-")


def validate_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"Unknown time zone {name!r} (use a name like Europe/London).", field="time_zone"
        ) from None
    if name not in available_timezones():
        raise ValidationFailed(f"Unknown time zone {name!r}.", field="time_zone")
    return name


def validate_chain(chain: NewChain) -> None:
    """Bad input gets a message naming the field, before anything is written."""
    if not chain.name.strip():
        raise ValidationFailed("The chain needs a name.", field="name")
    if not SLUG_RE.match(chain.slug):
        raise ValidationFailed("The URL slug must be 3-40 lowercase letters, digits or hyphens.", field="slug")
    if not EMAIL_RE.match(chain.owner_email):
        raise ValidationFailed("Enter a valid e-mail address.", field="owner_email")
    if not re.fullmatch(r"[A-Z]{3}", chain.currency):
        raise ValidationFailed("Currency must be a 3-letter ISO code such as USD.", field="currency")
    if not chain.branches:
        raise ValidationFailed("Add at least one branch.", field="branches")
    for branch in chain.branches:
        validate_time_zone(branch.time_zone)
        try:
            rate = Decimal(branch.default_tax_rate)
        except InvalidOperation:
            raise ValidationFailed("Tax rate must be a number.", field="default_tax_rate") from None
        if rate < 0 or rate >= 100:
            raise ValidationFailed("Tax rate must be between 0 and 100 percent.", field="default_tax_rate")
    codes = {b.code.strip().upper() for b in chain.branches}
    emails = [chain.owner_email.strip().lower()]
    for member in chain.members:
        email = member.email.strip().lower()
        if not EMAIL_RE.match(email) or email in emails:
            raise ValidationFailed(f"Each member needs an e-mail address of their own ({email}).", field="members")
        emails.append(email)
        if member.role not in STAFF_ROLES or not member.full_name.strip():
            raise ValidationFailed(f"{email}: a name and one of the staff roles.", field="members")
        if not {code.strip().upper() for code in member.branch_codes} <= codes:
            raise ValidationFailed(f"{email}: branches must be the chain's own.", field="members")


def provision_tenant(chain: NewChain, *, actor: str, reason: str) -> ProvisionedTenant:
    """Create a chain with its branches and owner, all or nothing, through the platform path."""
    validate_chain(chain)  # before opening the bypass: bad input never reaches it
    with platform_session(reason=reason, actor=actor) as session:
        return provision_in(session, chain, actor=actor, validated=True)


def provision_in(session: Session, chain: NewChain, *, actor: str, validated: bool = False) -> ProvisionedTenant:
    """`provision_tenant` inside the caller's platform transaction (a seed that loads the chain's
    data in the same transaction, so the chain exists whole or not at all)."""
    if not validated:  # listing the time zones to check them takes a noticeable moment: once is enough
        validate_chain(chain)
    email = chain.owner_email.strip().lower()
    started = chain.created_at or utc_now()
    if session.exec(select(Tenant.id).where(Tenant.slug == chain.slug)).first():
        raise Conflict("That URL slug is taken; try another.", field="slug")
    emails = [email, *(m.email.strip().lower() for m in chain.members)]
    if session.exec(select(User.id).where(User.email.in_(emails))).first():  # type: ignore[attr-defined]
        raise Conflict("An account with this e-mail already exists; sign in instead.", field="owner_email")
    tenant = Tenant(slug=chain.slug, name=chain.name.strip(), currency=chain.currency, created_at=started)
    owner = User(
        email=email, full_name=chain.owner_name.strip(), password_hash=chain.owner_password_hash, created_at=started
    )
    session.add(tenant)
    session.add(owner)
    session.flush()
    branches = [
        Branch(
            tenant_id=tenant.id,
            name=b.name.strip(),
            code=b.code.strip().upper(),
            address=b.address,
            time_zone=b.time_zone,
            prices_include_tax=b.prices_include_tax,
            default_tax_rate=Decimal(b.default_tax_rate),
            created_at=started,
        )
        for b in chain.branches
    ]
    session.add_all(branches)
    session.add(Membership(tenant_id=tenant.id, user_id=owner.id, role=OWNER, created_at=started))
    session.flush()
    record_audit(
        session,
        tenant.id,
        "tenant.provisioned",
        actor_user_id=owner.id,
        entity_type="tenant",
        entity_id=str(tenant.id),
        details={"slug": tenant.slug, "branches": len(branches), "by": actor},
        occurred_at=started,
    )
    member_ids = [_add_member(session, tenant.id, owner.id, member, branches, started) for member in chain.members]
    return ProvisionedTenant(
        tenant_id=tenant.id,
        slug=tenant.slug,
        owner_user_id=owner.id,
        branch_ids=tuple(b.id for b in branches),
        member_user_ids=tuple(member_ids),
    )


def _add_member(
    session: Session, tenant_id: uuid.UUID, owner_id: uuid.UUID, member: NewMember, branches: list[Branch], at: datetime
) -> uuid.UUID:
    user = User(
        email=member.email.strip().lower(),
        full_name=member.full_name.strip(),
        password_hash=member.password_hash,
        created_at=at,
    )
    session.add(user)
    session.flush()
    membership = Membership(tenant_id=tenant_id, user_id=user.id, role=member.role, created_at=at)
    session.add(membership)
    session.flush()
    scope = [b.id for b in branches if b.code in {code.strip().upper() for code in member.branch_codes}]
    session.add_all(MembershipBranch(tenant_id=tenant_id, membership_id=membership.id, branch_id=b) for b in scope)
    record_audit(
        session,
        tenant_id,
        "staff.added",
        actor_user_id=owner_id,
        entity_type="membership",
        entity_id=str(membership.id),
        details={"role": member.role, "branches": len(scope)},
        occurred_at=at,
    )
    return user.id
