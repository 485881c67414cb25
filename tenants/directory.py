"""Read-only views of a tenant's own identity: its name and branches."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.models import Branch, Tenant
from tenants.roles import require
from tenants.session import tenant_session


@dataclass(frozen=True)
class BranchSummary:
    id: str
    name: str
    code: str
    time_zone: str


@dataclass(frozen=True)
class TenantProfile:
    id: str
    slug: str
    name: str
    currency: str
    require_mfa: bool
    branches: list[BranchSummary]


def tenant_profile(ctx: TenantContext) -> TenantProfile:
    """The signed-in chain and the branches this member may act on."""
    with tenant_session(ctx) as session:
        tenant = session.exec(select(Tenant)).one()  # RLS: exactly the current tenant's row
        branches = session.exec(select(Branch).order_by(Branch.name)).all()
        visible = [b for b in branches if ctx.can_see_branch(b.id)]
        return TenantProfile(
            id=str(tenant.id),
            slug=tenant.slug,
            name=tenant.name,
            currency=tenant.currency,
            require_mfa=tenant.require_mfa,
            branches=[BranchSummary(str(b.id), b.name, b.code, b.time_zone) for b in visible],
        )


def set_require_mfa(ctx: TenantContext, required: bool) -> None:
    """The owner decides whether every member must use two-factor sign-in."""
    require(ctx, "tenant.settings")
    with tenant_session(ctx) as session:
        tenant = session.exec(select(Tenant)).one()
        tenant.require_mfa = required
        session.add(tenant)
        record_audit(
            session,
            ctx.tenant_id,
            "tenant.require_mfa_changed",
            actor_user_id=ctx.user_id,
            entity_type="tenant",
            entity_id=str(ctx.tenant_id),
            details={"required": required},
        )
