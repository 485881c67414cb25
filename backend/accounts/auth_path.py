"""The accounts service's pre-tenant path, on the auth database role.

Before a tenant is known (signing in, resetting a password, finding a chain's SSO configuration,
opening an invitation link) the service must look up users across every chain. Those lookups are
SECURITY DEFINER functions that only the auth role may execute (migration 0023): the app role, which
serves every request, cannot call them, so a SQL injection anywhere else or a leaked app-role
password cannot read password hashes, test e-mails or take over an account.

This module is the only opener of auth-role connections (tests/tenants/test_role_paths.py lists the
callers). Each function answers one question and returns only what its caller needs; a password
hash never leaves this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.core.database import lookup
from backend.core.passwords import verify_password


@dataclass(frozen=True)
class LoginCheck:
    """The outcome of an e-mail and password: who it is (when the e-mail exists) and whether it matched."""

    user_id: str | None
    full_name: str
    is_active: bool
    password_ok: bool


def check_login(email: str, password: str) -> LoginCheck:
    """Compare a password with the stored argon2 hash of the account with this e-mail.

    An unknown e-mail costs the same argon2 work (verify_password hashes against a dummy), so the
    time does not tell whether the account exists.
    """
    rows = lookup("SELECT * FROM auth_login_lookup(%(e)s)", {"e": email}, kind="auth")
    row = rows[0] if rows else None
    ok = verify_password(row.password_hash if row else None, password)
    if row is None:
        return LoginCheck(None, "", False, False)
    return LoginCheck(str(row.user_id), row.full_name, bool(row.is_active), ok)


def password_matches(email: str, password: str) -> bool:
    """Whether `password` is the one of the account with this e-mail (the signer's own)."""
    return check_login(email, password).password_ok


def user_id_by_email(email: str) -> str | None:
    """The id of the account with this e-mail, or None (sign-up, SSO and invitations need to know)."""
    rows = lookup("SELECT user_id_by_email(%(e)s) AS id", {"e": email}, kind="auth")
    return str(rows[0].id) if rows and rows[0].id else None


def issue_password_reset(user_id: str, token_hash: str, outbox_id: str, ttl_minutes: int) -> bool:
    """Store the hash of a new reset link for the job `outbox_id` (replacing an unsent, unused one)."""
    rows = lookup(
        "SELECT password_reset_issue(%(u)s, %(h)s, %(o)s, %(ttl)s) AS issued",
        {"u": user_id, "h": token_hash, "o": outbox_id, "ttl": ttl_minutes},
        kind="auth",
    )
    return bool(rows and rows[0].issued)


def apply_password_reset(token_hash: str, password_hash: str) -> str | None:
    """Spend a reset link: set the new hash, spend the user's other links, end their sessions."""
    rows = lookup(
        "SELECT password_reset_apply(%(h)s, %(p)s) AS user_id", {"h": token_hash, "p": password_hash}, kind="auth"
    )
    return str(rows[0].user_id) if rows and rows[0].user_id else None


def sso_config_row(slug: str) -> Any | None:
    """The enabled SSO configuration of an active chain, by its slug (one exact slug, one row)."""
    rows = lookup("SELECT * FROM sso_config_by_slug(%(s)s)", {"s": slug}, kind="auth")
    return rows[0] if rows else None


def invitation_row(token_hash: str) -> Any | None:
    """The invitation a link's token belongs to (by the token's hash), or None."""
    rows = lookup("SELECT * FROM invitation_by_token(%(h)s)", {"h": token_hash}, kind="auth")
    return rows[0] if rows else None


def portal_chain_row(slug: str) -> Any | None:
    """A chain's id, name and standing by its slug, for its public portal (one exact slug, one row)."""
    rows = lookup("SELECT * FROM portal_chain_by_slug(%(s)s)", {"s": slug}, kind="auth")
    return rows[0] if rows else None
