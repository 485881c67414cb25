"""The demo pharmacy chain that `make run` creates on an empty database."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import func, select

from backend.core.passwords import hash_password
from backend.core.settings import get_settings
from tenants.models import Tenant
from tenants.provisioning import NewBranch, NewChain, ProvisionedTenant, provision_tenant
from tenants.session import platform_session

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
