"""TenantContext: the tenant, user and role a piece of work runs for."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TenantContext:
    """Who is acting, for which pharmacy chain.

    Built on the server from a verified session, API token or job row; never from what a
    browser sends. `branch_ids` empty means the member is not limited to some branches.
    """

    tenant_id: uuid.UUID
    user_id: uuid.UUID | None = None
    role: str | None = None
    branch_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    patient_id: uuid.UUID | None = None  # a verified portal customer: the one patient they may see

    @classmethod
    def system(cls, tenant_id: uuid.UUID) -> TenantContext:
        """Context for background work done on the tenant's behalf (jobs, seeding)."""
        return cls(tenant_id=tenant_id, user_id=None, role="system")

    def can_see_branch(self, branch_id: uuid.UUID) -> bool:
        return not self.branch_ids or branch_id in self.branch_ids
