"""Read-only views of a tenant's own identity: its name and branches."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session, select

from backend.core.errors import Conflict
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
    is_active: bool = True


@dataclass(frozen=True)
class TenantProfile:
    id: str
    slug: str
    name: str
    currency: str
    require_mfa: bool
    branches: list[BranchSummary]


def tenant_profile(ctx: TenantContext) -> TenantProfile:
    """The signed-in chain and the branches this member may see, deactivated ones included
    (`is_active`): the shell's switcher offers only the active ones, reports and the assistant
    still reach the others' history. Read on every page load, never cached, so a branch added or
    deactivated in Settings shows everywhere at the next page without signing out."""
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
            branches=[BranchSummary(str(b.id), b.name, b.code, b.time_zone, b.is_active) for b in visible],
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


class BranchInactive(Conflict):
    """The branch was deactivated: its history stays, but it takes no new sales or stock."""

    code = "branch_inactive"


def require_active_branch(session: Session, branch_id: object, refused: str) -> None:
    """Refuse work at a deactivated branch, saying what it no longer does (`refused`, e.g. "takes no
    sales"). An unknown id passes: the caller's own look-up answers NotFound as before."""
    try:
        key = uuid.UUID(str(branch_id))
    except ValueError:
        return
    row = session.execute(text("SELECT name, is_active FROM branches WHERE id = :b"), {"b": key}).first()
    if row is not None and not row.is_active:
        raise branch_inactive(row.name, refused)


def branch_inactive(name: str, refused: str) -> BranchInactive:
    """The one wording of the refusal, for callers that already read the branch row."""
    return BranchInactive(
        f"{name} is deactivated and {refused}. An owner can reactivate it in Settings, under Branches.",
        field="branch_id",
    )
