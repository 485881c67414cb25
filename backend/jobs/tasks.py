"""Job handlers of the jobs domain itself."""

from __future__ import annotations

from sqlmodel import Session

from backend.jobs.registry import job
from tenants.audit import record_audit
from tenants.context import TenantContext


@job("system.heartbeat")
def heartbeat(session: Session, ctx: TenantContext, *, note: str = "") -> None:
    """Record that the worker ran a job for this tenant (health checks and tests use it)."""
    record_audit(session, ctx.tenant_id, "job.heartbeat", details={"note": note[:100]})
