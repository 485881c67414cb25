"""Which chain a portal address belongs to, and the context its visitors act in.

The portal knows only the slug in its address. The chain is found on the auth role (the app role cannot
look across chains); everything after that runs in a tenant transaction of that chain, under row-level
security, as the `portal` role: never a user, never staff, so no staff permission applies.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from backend.accounts.auth_path import portal_chain_row
from tenants.context import TenantContext
from tenants.models import TenantStatus
from tenants.roles import PORTAL

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


@dataclass(frozen=True)
class PortalChain:
    tenant_id: uuid.UUID
    slug: str
    name: str
    suspended: bool  # the chain's portal is closed: it says the pharmacy is not taking online requests


def chain_for_slug(slug: str) -> PortalChain | None:
    """The chain whose portal is at /portal/<slug>, or None (a slug that cannot be one is not looked up)."""
    wanted = str(slug or "").strip().lower()
    if not _SLUG.fullmatch(wanted):
        return None
    row = portal_chain_row(wanted)
    if row is None:
        return None
    return PortalChain(row.tenant_id, wanted, row.tenant_name, row.status != TenantStatus.ACTIVE)


def visitor_context(chain: PortalChain) -> TenantContext:
    """Anyone on the chain's portal: may read what the portal shows and name a prescription, nothing else."""
    return TenantContext(tenant_id=chain.tenant_id, user_id=None, role=PORTAL)
