"""Two-factor sign-in with TOTP (authenticator apps) and single-use recovery codes."""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import text

from backend.core.crypto import decrypt, encrypt
from backend.core.errors import Conflict, ValidationFailed
from backend.core.tokens import token_hash
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.session import tenant_session, user_session

ISSUER = "Pharmacy Cloud"
PURPOSE = "totp-secret"
RECOVERY_CODES = 10
STEP = 30


@dataclass(frozen=True)
class Enrolment:
    manual_key: str
    otpauth_uri: str
    qr_svg_data_uri: str  # rendered here: the secret never goes to a third-party QR service


def mfa_enabled(user_id: str) -> bool:
    with user_session(user_id) as session:
        return bool(
            session.execute(
                text("SELECT enabled_at IS NOT NULL FROM user_mfa WHERE user_id = :u"), {"u": user_id}
            ).scalar()
        )


def start_enrolment(user_id: str, email: str) -> Enrolment:
    """A new secret, pending until the first code from it is verified."""
    if mfa_enabled(user_id):
        raise Conflict("Two-factor sign-in is already on.")
    secret = pyotp.random_base32()
    with user_session(user_id) as session:
        session.execute(
            text(
                "INSERT INTO user_mfa (user_id, secret_encrypted) VALUES (:u, :s) "
                "ON CONFLICT (user_id) DO UPDATE SET secret_encrypted = EXCLUDED.secret_encrypted, "
                "enabled_at = NULL, last_step = 0"
            ),
            {"u": user_id, "s": encrypt(PURPOSE, secret)},
        )
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4)
    data_uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return Enrolment(
        manual_key=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        otpauth_uri=uri,
        qr_svg_data_uri=data_uri,
    )


def _matching_step(secret: str, code: str, now: float) -> int | None:
    totp = pyotp.TOTP(secret)
    current = int(now // STEP)
    for step in (current, current - 1, current + 1):  # one step of clock drift either way
        if secrets.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def _check_totp(session, user_id: str, code: str, *, require_enabled: bool, now: float) -> bool:  # type: ignore[no-untyped-def]
    row = session.execute(
        text("SELECT secret_encrypted, enabled_at, last_step FROM user_mfa WHERE user_id = :u FOR UPDATE"),
        {"u": user_id},
    ).first()
    if row is None or (require_enabled and row.enabled_at is None):
        return False
    secret = decrypt(PURPOSE, row.secret_encrypted)
    step = _matching_step(secret, code, now) if secret else None
    if step is None or step <= row.last_step:  # a code already used in its window is refused
        return False
    session.execute(text("UPDATE user_mfa SET last_step = :s WHERE user_id = :u"), {"s": step, "u": user_id})
    return True


def confirm_enrolment(user_id: str, code: str, *, now: float | None = None) -> list[str]:
    """Switch MFA on after a correct first code; returns ten recovery codes, shown once."""
    code = code.replace(" ", "")
    with user_session(user_id) as session:
        if not _check_totp(session, user_id, code, require_enabled=False, now=now or time.time()):
            raise ValidationFailed("That code is not right; check the time on your phone and try again.", field="code")
        session.execute(text("UPDATE user_mfa SET enabled_at = now() WHERE user_id = :u"), {"u": user_id})
        session.execute(text("DELETE FROM recovery_codes WHERE user_id = :u"), {"u": user_id})
        codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
        for recovery in codes:
            session.execute(
                text("INSERT INTO recovery_codes (user_id, code_hash) VALUES (:u, :h)"),
                {"u": user_id, "h": token_hash(recovery)},
            )
    return codes


def verify_second_factor(user_id: str, code: str, *, now: float | None = None) -> bool:
    """A current TOTP code (each usable once) or an unused recovery code (spent now)."""
    code = code.strip().lower().replace(" ", "")
    if not code or len(code) > 20:
        return False
    with user_session(user_id) as session:
        if "-" in code:
            spent = session.execute(  # type: ignore[attr-defined]
                text(
                    "UPDATE recovery_codes SET used_at = now() WHERE user_id = :u AND code_hash = :h "
                    "AND used_at IS NULL"
                ),
                {"u": user_id, "h": token_hash(code)},
            ).rowcount
            return bool(spent)
        return _check_totp(session, user_id, code, require_enabled=True, now=now or time.time())


def disable_mfa(user_id: str, code: str) -> None:
    """Turn MFA off; needs a current code so a borrowed session cannot do it."""
    if not verify_second_factor(user_id, code):
        raise ValidationFailed("That code is not right.", field="code")
    with user_session(user_id) as session:
        session.execute(text("DELETE FROM recovery_codes WHERE user_id = :u"), {"u": user_id})
        session.execute(text("DELETE FROM user_mfa WHERE user_id = :u"), {"u": uuid.UUID(user_id)})


def remaining_recovery_codes(user_id: str) -> int:
    with user_session(user_id) as session:
        return int(
            session.execute(
                text("SELECT count(*) FROM recovery_codes WHERE user_id = :u AND used_at IS NULL"),
                {"u": user_id},
            ).scalar_one()
        )


def record_mfa_change(ctx: TenantContext, enabled: bool) -> None:
    """Note the change in the chain the member is working in, for the owner's audit log."""
    with tenant_session(ctx) as session:
        record_audit(
            session,
            ctx.tenant_id,
            "mfa.enabled" if enabled else "mfa.disabled",
            actor_user_id=ctx.user_id,
            entity_type="user",
            entity_id=str(ctx.user_id),
        )
