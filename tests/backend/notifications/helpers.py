"""Deliver a chain's queued notifications now, in the test process (what the notifications worker does)."""

from __future__ import annotations

from sqlalchemy import text

from backend.notifications.delivery import deliver_message
from tenants.context import TenantContext
from tenants.session import tenant_session


def deliver_queued(tenant_id: object) -> list[str]:
    """Send every queued message of the chain once (a direct call is the delivery's last try)."""
    with tenant_session(TenantContext.system(tenant_id)) as session:  # type: ignore[arg-type]
        ids = [str(r.id) for r in session.execute(text("SELECT id FROM notification_messages WHERE status = 'queued'"))]
    return [deliver_message(str(tenant_id), message_id) for message_id in ids]
