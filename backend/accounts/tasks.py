"""Background jobs of the accounts domain."""

from __future__ import annotations

from sqlmodel import Session

from backend.accounts.password_reset import RESET_JOB, send_password_reset
from backend.jobs.registry import job
from tenants.context import TenantContext


@job(RESET_JOB)
def password_reset_mail(session: Session, ctx: TenantContext, *, user_id: str, outbox_id: str) -> None:
    send_password_reset(session, ctx, user_id=user_id, outbox_id=outbox_id)
