"""The demo pharmacy chain that `make run` creates on an empty database."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import func, select

from backend.core.passwords import hash_password
from backend.core.settings import get_settings
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.models import Branch, Tenant
from tenants.provisioning import NewBranch, NewChain, ProvisionedTenant, provision_tenant
from tenants.roles import require
from tenants.session import platform_session, tenant_session

DEMO_SLUG = "demo-pharmacy"


def demo_chain(owner_email: str, owner_password_hash: str) -> NewChain:
    return NewChain(
        name="Demo Pharmacy",
        slug=DEMO_SLUG,
        owner_email=owner_email,
        owner_name="Dana Demo",
        owner_password_hash=owner_password_hash,
        currency="USD",
        branches=(
            NewBranch(
                name="Main Street",
                code="MAIN",
                address="1 Main Street",
                time_zone="America/New_York",
                default_tax_rate=Decimal("8.8750"),
            ),
            NewBranch(
                name="Harbour",
                code="HARB",
                address="22 Harbour Road",
                time_zone="America/New_York",
                default_tax_rate=Decimal("8.8750"),
            ),
        ),
    )


def seed_demo(*, only_if_empty: bool = True) -> ProvisionedTenant | None:
    """Create the demo chain; with only_if_empty, do nothing when any chain exists."""
    settings = get_settings()
    with platform_session(reason="demo seed: check for existing chains", actor="cli") as session:
        count = session.exec(select(func.count()).select_from(Tenant)).one()
    if only_if_empty and count:
        return None
    chain = demo_chain(settings.DEMO_OWNER_EMAIL, hash_password(settings.DEMO_OWNER_PASSWORD))
    return provision_tenant(chain, actor="cli", reason="demo seed")


DEMO_BRANCH = NewBranch(name="Riverside (demo)", code="DEMO", address="7 River Walk", time_zone="UTC")
DEMO_STAFF = (
    ("pharmacist", "demo-pharmacist"),
    ("technician", "demo-technician"),
    ("cashier", "demo-cashier"),
)


def load_demo_data(ctx: TenantContext) -> None:
    """The sign-up page's "load demo data" box: a second branch and sample staff invitations to try
    the staff and branch features with (not e-mailed: the addresses are placeholders). Sample stock
    joins here when the inventory arrives."""
    from backend.accounts.staff import invite

    require(ctx, "tenant.settings")
    with tenant_session(ctx) as session:
        time_zone = session.exec(select(Branch.time_zone)).first() or "UTC"
        session.add(
            Branch(
                tenant_id=ctx.tenant_id,
                name=DEMO_BRANCH.name,
                code=DEMO_BRANCH.code,
                address=DEMO_BRANCH.address,
                time_zone=time_zone,
            )
        )
        record_audit(session, ctx.tenant_id, "demo.loaded", actor_user_id=ctx.user_id)
    for role, name in DEMO_STAFF:
        invite(ctx, f"{name}@{ctx.tenant_id.hex[:8]}.example.invalid", role, send_email=False)
