"""Password reset by e-mail: a one-time, expiring link built from APP_URL (never the Host header)."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from backend.accounts import auth_path
from backend.accounts.passwords import check_password
from backend.core.errors import ValidationFailed
from backend.core.passwords import hash_password
from backend.core.queue import redis_connection
from backend.core.settings import get_settings
from backend.core.tokens import new_token, token_hash
from backend.jobs.service import enqueue_job
from backend.notifications.mail import send_mail
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.session import tenant_session

SENT_MESSAGE = "If an account exists for that e-mail, we have sent a link to reset its password."
RESET_JOB = "accounts.send_password_reset"


def request_password_reset(email: str) -> str:
    """Queue a reset e-mail when the account exists; the answer is the same either way."""
    from backend.accounts.service import memberships_of

    email = email.strip().lower()
    # At most one mail a minute per address, so the form cannot be used to flood an inbox.
    if not email or not redis_connection().set(f"reset-mail:{token_hash(email)}", 1, nx=True, ex=60):
        return SENT_MESSAGE
    user_id = auth_path.user_id_by_email(email)
    chains = memberships_of(user_id) if user_id else []
    if chains:
        # The job row lives in one of the user's chains (the outbox is tenant-owned).
        ctx = TenantContext.system(uuid.UUID(chains[0].tenant_id))
        with tenant_session(ctx) as session:
            enqueue_job(session, ctx, RESET_JOB, user_id=str(user_id))
            record_audit(
                session,
                ctx.tenant_id,
                "auth.password_reset_requested",
                entity_type="user",
                entity_id=str(user_id),
            )
    return SENT_MESSAGE


def send_password_reset(session, ctx: TenantContext, *, user_id: str, outbox_id: str) -> None:  # type: ignore[no-untyped-def]
    """Job: mint the link and e-mail it. Keyed by the outbox row, so a re-run sends nothing twice."""
    token = new_token()
    # Issued on the auth path in its own transaction: a run after a failed e-mail replaces the unsent
    # link (and mails the new one); a link already spent is never replaced, and nothing is sent.
    if not auth_path.issue_password_reset(
        user_id, token_hash(token), outbox_id, get_settings().PASSWORD_RESET_TTL_MINUTES
    ):
        return
    email = session.execute(text("SELECT email FROM users WHERE id = :u"), {"u": user_id}).scalar_one()
    minutes = get_settings().PASSWORD_RESET_TTL_MINUTES
    link = f"{get_settings().APP_URL}/reset?token={token}"
    send_mail(
        email,
        "Reset your Pharmacy Cloud password",
        f"Someone asked to reset the password of this account.\n\nTo choose a new password, open:\n{link}\n\n"
        f"The link works once, for {minutes} minutes. If it was not you, ignore this e-mail: "
        "your password stays as it is.\n",
    )


def reset_password(token: str, password: str) -> str:
    """Spend a reset link: set the new password and end every session. Returns the user id."""
    if not token or len(token) > 200:
        raise ValidationFailed("This reset link is invalid or has expired; ask for a new one.", field="token")
    check_password(password)
    password_hash = hash_password(password)
    user_id = auth_path.apply_password_reset(token_hash(token), password_hash)
    if user_id is None:
        raise ValidationFailed("This reset link is invalid or has expired; ask for a new one.", field="token")
    return user_id
