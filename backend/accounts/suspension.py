"""What the staff of a suspended chain are told: why (to the owner) and what to do.

A suspended chain's sessions stay valid but every request is refused (`Principal.context`), so this
is the one read such a session may still make: its own chain's latest `tenant.suspended` audit event,
under RLS in its own tenant session. The reason the platform admin gave goes to owners only (it is
usually about the chain's account, e.g. an unpaid invoice); other staff are sent to their owner.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from backend.accounts.sessions import Principal
from backend.core.settings import get_settings
from tenants.context import TenantContext
from tenants.models import TenantStatus
from tenants.roles import OWNER
from tenants.session import tenant_session


@dataclass(frozen=True)
class SuspensionNotice:
    chain_name: str
    is_owner: bool
    reason: str  # empty unless the reader is an owner
    suspended_at: datetime | None
    support_email: str


def suspension_notice(principal: Principal) -> SuspensionNotice | None:
    """The notice for a member of a suspended chain; None when the chain is not suspended."""
    if principal.tenant_status != TenantStatus.SUSPENDED or not principal.tenant_id or not principal.role:
        return None
    is_owner = principal.role == OWNER
    # Built here, not through `principal.context()`, which refuses a suspended chain: it reads nothing
    # but the chain's own audit rows, and only for the owner.
    ctx = TenantContext(
        tenant_id=uuid.UUID(principal.tenant_id), user_id=uuid.UUID(principal.user_id), role=principal.role
    )
    reason, when = "", None
    with tenant_session(ctx) as session:
        row = session.execute(
            text(
                "SELECT details ->> 'reason' AS reason, occurred_at FROM audit_events "
                "WHERE action = 'tenant.suspended' ORDER BY seq DESC LIMIT 1"
            )
        ).first()
    if row is not None:
        when = row.occurred_at
        reason = (row.reason or "") if is_owner else ""
    return SuspensionNotice(
        chain_name=principal.tenant_name or "",
        is_owner=is_owner,
        reason=reason,
        suspended_at=when,
        support_email=get_settings().SUPPORT_EMAIL,
    )
