"""Platform (super-admin) views across tenants, all through the audited platform path."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, func, select

from tenants.models import Branch, Tenant
from tenants.session import platform_session


@dataclass(frozen=True)
class TenantSummary:
    id: str
    slug: str
    name: str
    status: str
    plan: str
    currency: str
    branches: int


def list_tenants(*, actor: str, reason: str) -> list[TenantSummary]:
    """Every chain with its branch count, for operators."""
    with platform_session(reason=reason, actor=actor) as session:
        counts = select(Branch.tenant_id, func.count().label("n")).group_by(col(Branch.tenant_id)).subquery()
        rows = session.exec(
            select(Tenant, func.coalesce(counts.c.n, 0))
            .join(counts, counts.c.tenant_id == Tenant.id, isouter=True)
            .order_by(Tenant.slug)
        ).all()
        return [
            TenantSummary(str(t.id), t.slug, t.name, t.status, t.plan, t.currency, int(n)) for t, n in rows
        ]
