"""Electronic signatures (21 CFR Part 11 style): a member re-proves who they are to sign one thing.

- Signing needs the member's password (argon2) or a current TOTP code now; the signed-in session
  alone is not enough, so a till left open cannot sign for the pharmacist who opened it.
- A signature records who, when, what it means in words ("verified the prescription-only supply of
  Amoxicillin 500 mg on bill B1-2026-000123"), the method, and what was signed (entity type and id),
  with a sha256 over all of it. `electronic_signatures` is append-only (UPDATE, DELETE and TRUNCATE
  revoked from the app role, migration 0020).
- Wrong credentials are refused with nothing recorded and count against the same progressive delay
  as sign-in (`backend.accounts.throttle`), never a lockout.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session

from backend.accounts import throttle
from backend.accounts.auth_path import password_matches
from backend.accounts.mfa import verify_second_factor
from backend.accounts.service import TooManyAttempts
from backend.core.errors import AuthenticationRequired, NotFound, PermissionDenied, ValidationFailed
from backend.core.models import utc_now
from tenants.context import TenantContext
from tenants.roles import require, role_has
from tenants.session import tenant_session

FRESH_FOR = timedelta(minutes=5)  # how long a signature may be spent on the action it was given for
MIN_MEANING, MAX_MEANING = 10, 500


class SignatureRefused(PermissionDenied):
    """The credentials were wrong, or a signature offered for an action does not fit it."""

    code = "signature_refused"


@dataclass(frozen=True)
class Signature:
    id: str
    user_id: str
    signed_at: datetime
    meaning: str
    method: str
    entity_type: str
    entity_id: str
    signed_hash: str


def signed_hash(tenant_id: object, signature_id: object, user_id: object, signed_at: datetime, **fields: str) -> str:
    """sha256 of the canonical JSON (sorted keys, UTC time) of everything a signature says."""
    body = {
        "tenant_id": str(tenant_id),
        "id": str(signature_id),
        "user_id": str(user_id),
        "signed_at": signed_at.astimezone(UTC).isoformat(),
        **fields,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _what(meaning: str, entity_type: str, entity_id: str) -> dict[str, str]:
    meaning = " ".join(str(meaning or "").split())
    if not MIN_MEANING <= len(meaning) <= MAX_MEANING:
        raise ValidationFailed(
            f"Say what the signature means ({MIN_MEANING} to {MAX_MEANING} characters).", field="meaning"
        )
    entity_type, entity_id = str(entity_type or "").strip(), str(entity_id or "").strip()
    if not 1 <= len(entity_type) <= 40:
        raise ValidationFailed("Say what kind of record is signed.", field="entity_type")
    if not 1 <= len(entity_id) <= 100:
        raise ValidationFailed("Say which record is signed.", field="entity_id")
    return {"meaning": meaning, "entity_type": entity_type, "entity_id": entity_id}


def _method(password: str | None, totp: str | None) -> tuple[str, str]:
    if bool(password) == bool(totp):
        raise ValidationFailed("Sign with your password or with a code from your authenticator app.", field="password")
    if password:
        return "password", password
    code = str(totp).replace(" ", "")
    if not code.isdigit():  # a recovery code is for signing in, not for signing
        raise ValidationFailed("Enter the 6-digit code from your authenticator app.", field="totp")
    return "totp", code


def _credentials_ok(
    ctx: TenantContext, method: str, secret: str, member_email: str | None = None
) -> tuple[str, uuid.UUID, bool]:
    """The signer's e-mail (the throttle's key), id, and whether the password or code is theirs, checked now.

    The signer is the signed-in member, or with `member_email` another active member of the same chain
    (a pharmacist signing at a cashier's till: they type their own e-mail and password)."""
    with tenant_session(ctx) as session:
        if member_email:
            row = session.execute(
                text(
                    "SELECT u.id, u.email FROM users u JOIN memberships m ON m.user_id = u.id "
                    "WHERE lower(u.email) = lower(:e) AND m.tenant_id = :t AND u.is_active AND m.is_active"
                ),
                {"e": member_email.strip(), "t": ctx.tenant_id},
            ).first()
            if row is None:
                raise SignatureRefused("No active member of this chain has that e-mail; nothing was signed.")
        else:
            row = session.execute(
                text(
                    "SELECT u.id, u.email FROM users u JOIN memberships m ON m.user_id = u.id "
                    "WHERE u.id = :u AND u.is_active AND m.is_active"
                ),
                {"u": ctx.user_id},
            ).first()
            if row is None:
                raise AuthenticationRequired("Please sign in.")
    email, user_id = row.email, row.id
    if wait := throttle.seconds_to_wait(email, ""):
        raise TooManyAttempts(f"Too many attempts. Wait {wait} seconds and try again.")
    if method == "password":
        # The hash is compared on the auth path; the app role cannot read it (migration 0023).
        return email, user_id, password_matches(email, secret)
    return email, user_id, verify_second_factor(str(user_id), secret)


# What can be signed: an entity type and how to tell that one of them exists in the signer's chain.
# Each domain registers its own records (billing: "bill"), so this module never reads their tables.
RecordExists = Callable[[Session, str], bool]
_SIGNABLE: dict[str, RecordExists] = {}


def signable(entity_type: str) -> Callable[[RecordExists], RecordExists]:
    """Register `exists(session, entity_id)` for a kind of record members may sign."""

    def register(exists: RecordExists) -> RecordExists:
        _SIGNABLE[entity_type] = exists
        return exists

    return register


def _check_record(ctx: TenantContext, entity_type: str, entity_id: str, *, new_draft: bool) -> None:
    """A signature points at a record of the signer's chain (RLS hides every other chain's)."""
    exists = _SIGNABLE.get(entity_type)
    if exists is None:
        known = ", ".join(sorted(_SIGNABLE)) or "none"
        message = f"Records of type {entity_type!r} cannot be signed (known: {known})."
        raise ValidationFailed(message, field="entity_type")
    with tenant_session(ctx) as session:
        found = exists(session, entity_id)
    if new_draft and not found and entity_type == "bill":
        return  # the counter signs the id it chose for the draft it is about to open with that line
    if not found:
        raise NotFound(f"There is no {entity_type} {entity_id} in this chain to sign.")


def sign(
    ctx: TenantContext,
    *,
    password: str | None = None,
    totp: str | None = None,
    meaning: str,
    entity_type: str,
    entity_id: str,
    new_draft: bool = False,
    member_email: str | None = None,
) -> str:
    """Record the member's electronic signature of one record after checking their password or TOTP
    code now; returns the signature's id. Wrong credentials raise SignatureRefused and record nothing.

    The record must exist in the member's chain. `new_draft` (the counter only, never REST) lets a
    pharmacist sign the id of the draft bill their override line is about to open. `member_email`
    (the counter only) is another member of the chain signing at this till with their own credentials.
    """
    require(ctx, "signatures.sign")
    if ctx.user_id is None:
        raise AuthenticationRequired("Please sign in.")
    what = _what(meaning, entity_type, entity_id)
    _check_record(ctx, what["entity_type"], what["entity_id"], new_draft=new_draft)
    method, secret = _method(password, totp)
    email, signer, ok = _credentials_ok(ctx, method, secret, member_email or None)
    if not ok:
        throttle.record_failure(email, "")
        wrong = "password" if method == "password" else "code"
        raise SignatureRefused(f"That {wrong} is not right; nothing was signed.", field=method)
    throttle.record_success(email)
    signature_id, signed_at = uuid.uuid4(), utc_now()
    fields = {**what, "method": method}
    with tenant_session(ctx) as session:
        session.execute(
            text(
                "INSERT INTO electronic_signatures (tenant_id, id, user_id, signed_at, meaning, method, entity_type, "
                "entity_id, signed_hash) VALUES (:t, :id, :u, :at, :meaning, :method, :entity_type, :entity_id, :hash)"
            ),
            {
                "t": ctx.tenant_id,
                "id": signature_id,
                "u": signer,
                "at": signed_at,
                **fields,
                "hash": signed_hash(ctx.tenant_id, signature_id, signer, signed_at, **fields),
            },
        )
    return str(signature_id)


def _signature(session: Session, tenant_id: uuid.UUID, signature_id: object) -> Signature | None:
    try:
        key = uuid.UUID(str(signature_id))
    except ValueError:
        return None
    row = session.execute(text("SELECT * FROM electronic_signatures WHERE id = :s"), {"s": key}).first()
    if row is None:
        return None
    fields = {k: getattr(row, k) for k in ("meaning", "method", "entity_type", "entity_id")}
    if row.signed_hash != signed_hash(tenant_id, row.id, row.user_id, row.signed_at, **fields):
        return None  # changed after signing: worth nothing
    return Signature(str(row.id), str(row.user_id), row.signed_at, signed_hash=row.signed_hash, **fields)


def require_fresh_signature(
    session: Session,
    ctx: TenantContext,
    signature_id: object,
    *,
    entity_type: str,
    entity_id: object,
    now: datetime | None = None,
    by_permission: str | None = None,
) -> Signature:
    """The member's own signature of this record, made in the last five minutes (for an action that
    must be signed, e.g. a pharmacist's prescription override); SignatureRefused otherwise.

    With `by_permission` the signer may be any active member of the chain whose role holds that
    permission (a pharmacist confirming a cashier's pickup), and no one else."""
    found = _signature(session, ctx.tenant_id, signature_id)
    if found is None or (by_permission is None and found.user_id != str(ctx.user_id)):
        raise SignatureRefused("Sign this with your password or code first.", field="signature_id")
    if (found.entity_type, found.entity_id) != (entity_type, str(entity_id)):
        raise SignatureRefused("That signature is for another record.", field="signature_id")
    if (now or utc_now()) - found.signed_at > FRESH_FOR:
        raise SignatureRefused("That signature is more than five minutes old; sign again.", field="signature_id")
    if by_permission is not None:
        role = session.execute(
            text("SELECT role FROM memberships WHERE user_id = :u AND tenant_id = :t AND is_active"),
            {"u": uuid.UUID(found.user_id), "t": ctx.tenant_id},
        ).scalar()
        if not role_has(role, by_permission):
            raise SignatureRefused(
                f"The member who signed is a {role or 'former member'}: this needs a pharmacist's signature.",
                field="signature_id",
            )
    return found


def get_signature(ctx: TenantContext, signature_id: str) -> Signature | None:
    """One signature of the chain (None if there is none, or it no longer matches its hash)."""
    require(ctx, "signatures.sign")
    with tenant_session(ctx) as session:
        return _signature(session, ctx.tenant_id, signature_id)
