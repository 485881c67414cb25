"""Signing staff in (the foundation's minimal password check; the accounts issue extends it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text

from backend.core.database import open_session
from backend.core.errors import AuthenticationRequired
from backend.core.passwords import verify_password
from tenants.session import user_session

BAD_CREDENTIALS = "E-mail or password is not right."


@dataclass(frozen=True)
class MembershipSummary:
    tenant_id: str
    tenant_slug: str
    tenant_name: str
    role: str


@dataclass(frozen=True)
class SignedInUser:
    user_id: str
    full_name: str
    memberships: list[MembershipSummary]


def authenticate(email: str, password: str) -> SignedInUser:
    """Check an e-mail and password; the error never says which of the two was wrong."""
    with open_session("app") as session:
        row = session.execute(
            text("SELECT * FROM auth_login_lookup(:email)"), {"email": email.strip().lower()}
        ).first()
    if not verify_password(row.password_hash if row else None, password) or not row or not row.is_active:
        raise AuthenticationRequired(BAD_CREDENTIALS)
    return SignedInUser(
        user_id=str(row.user_id), full_name=row.full_name, memberships=memberships_of(row.user_id)
    )


def memberships_of(user_id: uuid.UUID | str) -> list[MembershipSummary]:
    """The active chains a user works for (suspended chains excluded)."""
    with user_session(str(user_id)) as session:
        rows = session.execute(text("SELECT * FROM auth_user_memberships(:u)"), {"u": str(user_id)}).all()
    return [
        MembershipSummary(str(r.tenant_id), r.tenant_slug, r.tenant_name, r.role)
        for r in rows
        if r.tenant_status == "active"
    ]
