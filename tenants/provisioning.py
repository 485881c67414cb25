"""Creating a pharmacy chain: tenant, branches, owner and first audit events in one transaction."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlmodel import select

from backend.core.errors import Conflict, ValidationFailed
from tenants.audit import record_audit
from tenants.models import Branch, Membership, Tenant, User
from tenants.roles import OWNER
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
class NewChain:
    name: str
    slug: str
    owner_email: str
    owner_name: str
    owner_password_hash: str
    currency: str = "USD"
    branches: tuple[NewBranch, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ProvisionedTenant:
    tenant_id: uuid.UUID
    slug: str
    owner_user_id: uuid.UUID
    branch_ids: tuple[uuid.UUID, ...]


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


def provision_tenant(chain: NewChain, *, actor: str, reason: str) -> ProvisionedTenant:
    """Create a chain with its branches and owner, all or nothing, through the platform path."""
    validate_chain(chain)
    email = chain.owner_email.strip().lower()
    with platform_session(reason=reason, actor=actor) as session:
        if session.exec(select(Tenant.id).where(Tenant.slug == chain.slug)).first():
            raise Conflict("That URL slug is taken; try another.", field="slug")
        if session.exec(select(User.id).where(User.email == email)).first():
            raise Conflict("An account with this e-mail already exists; sign in instead.", field="owner_email")
        tenant = Tenant(slug=chain.slug, name=chain.name.strip(), currency=chain.currency)
        owner = User(email=email, full_name=chain.owner_name.strip(), password_hash=chain.owner_password_hash)
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
            )
            for b in chain.branches
        ]
        session.add_all(branches)
        session.add(Membership(tenant_id=tenant.id, user_id=owner.id, role=OWNER))
        session.flush()
        record_audit(
            session,
            tenant.id,
            "tenant.provisioned",
            actor_user_id=owner.id,
            entity_type="tenant",
            entity_id=str(tenant.id),
            details={"slug": tenant.slug, "branches": len(branches), "by": actor},
        )
        return ProvisionedTenant(
            tenant_id=tenant.id,
            slug=tenant.slug,
            owner_user_id=owner.id,
            branch_ids=tuple(b.id for b in branches),
        )
