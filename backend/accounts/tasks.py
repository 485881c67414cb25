"""Background jobs of the accounts domain."""

from __future__ import annotations

from sqlmodel import Session

from backend.accounts.password_reset import RESET_JOB, send_password_reset
from backend.accounts.staff import INVITE_JOB, send_invitation_mail
from backend.jobs.registry import job
from tenants.context import TenantContext


@job(RESET_JOB)
def password_reset_mail(session: Session, ctx: TenantContext, *, user_id: str, outbox_id: str) -> None:
    send_password_reset(session, ctx, user_id=user_id, outbox_id=outbox_id)


@job(INVITE_JOB)
def invitation_mail(session: Session, ctx: TenantContext, *, invitation_id: str) -> None:
    send_invitation_mail(session, ctx, invitation_id=invitation_id)
