"""Per-chain single sign-on with OpenID Connect (authorization code flow with PKCE, via authlib).

The server fetches the issuer's discovery document, JWKS and token endpoint, so every URL is
checked against SSRF first: private, loopback and link-local addresses are refused unless the
host is in SSO_ALLOWED_HOSTS. A person is matched to a membership only by a *verified* e-mail.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import socket
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import text
from sqlmodel import select

from backend.accounts import auth_path
from backend.core.crypto import decrypt, encrypt
from backend.core.errors import AuthenticationRequired, ValidationFailed
from backend.core.queue import redis_connection
from backend.core.settings import get_settings
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.models import Membership, User
from tenants.roles import require
from tenants.session import platform_session, tenant_session

PURPOSE = "sso-client-secret"
STATE_TTL_SECONDS = 600
HTTP_TIMEOUT = 5
CALLBACK_PATH = "/api/v1/auth/sso/callback"


class SsoFailed(AuthenticationRequired):
    code = "sso_failed"


@dataclass(frozen=True)
class SsoConfig:
    tenant_id: str
    tenant_name: str
    issuer: str
    client_id: str
    client_secret: str
    label: str
    allow_first_sign_in: bool
    default_role: str


# --- SSRF guard -----------------------------------------------------------------------------


def check_url_allowed(url: str) -> None:
    """Refuse URLs the server must not fetch: non-HTTPS, or hosts resolving to private addresses."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    allowed = get_settings().sso_allowed_hosts()
    if not host:
        raise ValidationFailed("The issuer URL needs a host name.", field="issuer")
    if host in allowed:
        return
    if parts.scheme != "https":
        raise ValidationFailed("The issuer must use https://.", field="issuer")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)}
    except OSError:
        raise ValidationFailed(f"Cannot resolve {host}.", field="issuer") from None
    for address in addresses:
        if not ipaddress.ip_address(str(address).split("%")[0]).is_global:
            raise ValidationFailed(f"{host} points at a private or local address; refused.", field="issuer")


def _get_json(url: str) -> dict[str, Any]:
    check_url_allowed(url)
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT, allow_redirects=False)
        response.raise_for_status()
        return dict(response.json())
    except (requests.RequestException, ValueError) as exc:
        raise ValidationFailed(f"Could not read {url} ({type(exc).__name__}).", field="issuer") from None


def discover(issuer: str) -> dict[str, Any]:
    issuer = issuer.rstrip("/")
    document = _get_json(f"{issuer}/.well-known/openid-configuration")
    if document.get("issuer", "").rstrip("/") != issuer:
        raise ValidationFailed("The discovery document names another issuer.", field="issuer")
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not document.get(key):
            raise ValidationFailed(f"The discovery document has no {key}.", field="issuer")
        check_url_allowed(document[key])
    return document


# --- configuration (owner) --------------------------------------------------------------------


def save_config(
    ctx: TenantContext,
    *,
    issuer: str,
    client_id: str,
    client_secret: str,
    label: str,
    allow_first_sign_in: bool,
    default_role: str,
) -> None:
    """Store the chain's OIDC provider after checking its discovery document can be read."""
    require(ctx, "tenant.settings")
    issuer = issuer.strip().rstrip("/")
    if not client_id.strip():
        raise ValidationFailed("Enter the client id.", field="client_id")
    if default_role not in ("manager", "pharmacist", "technician", "cashier"):
        raise ValidationFailed("Choose the role for first sign-ins.", field="default_role")
    discover(issuer)
    with tenant_session(ctx) as session:
        existing = session.execute(text("SELECT client_secret_encrypted FROM sso_configs")).scalar()
        if not client_secret and existing is None:
            raise ValidationFailed("Enter the client secret.", field="client_secret")
        secret = encrypt(PURPOSE, client_secret) if client_secret else existing
        session.execute(
            text(
                "INSERT INTO sso_configs (tenant_id, issuer, client_id, client_secret_encrypted, label, "
                "allow_first_sign_in, default_role) VALUES (:t, :i, :c, :s, :l, :a, :r) "
                "ON CONFLICT (tenant_id) DO UPDATE SET issuer = :i, client_id = :c, "
                "client_secret_encrypted = :s, label = :l, allow_first_sign_in = :a, default_role = :r, "
                "enabled = true, updated_at = now()"
            ),
            {
                "t": ctx.tenant_id,
                "i": issuer,
                "c": client_id.strip(),
                "s": secret,
                "l": label.strip()[:60] or "SSO",
                "a": allow_first_sign_in,
                "r": default_role,
            },
        )
        record_audit(
            session,
            ctx.tenant_id,
            "sso.configured",
            actor_user_id=ctx.user_id,
            entity_type="sso",
            entity_id=issuer,
            details={"allow_first_sign_in": allow_first_sign_in},
        )


def config_for_slug(slug: str) -> SsoConfig | None:
    r = auth_path.sso_config_row(slug.strip().lower()[:40])
    if r is None:
        return None
    secret = decrypt(PURPOSE, r.client_secret_encrypted)
    if secret is None:
        return None
    return SsoConfig(
        str(r.tenant_id),
        r.tenant_name,
        r.issuer,
        r.client_id,
        secret,
        r.label,
        r.allow_first_sign_in,
        r.default_role,
    )


def _client(config: SsoConfig) -> OAuth2Session:
    return OAuth2Session(
        config.client_id,
        config.client_secret,
        scope="openid email profile",
        redirect_uri=get_settings().APP_URL + CALLBACK_PATH,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )


# --- the flow -----------------------------------------------------------------------------------


def start_sign_in(slug: str) -> str:
    """The provider URL to send the browser to; state, nonce and PKCE verifier stay in Redis."""
    config = config_for_slug(slug)
    if config is None:
        raise SsoFailed("Single sign-on is not set up for that pharmacy chain.")
    endpoints = discover(config.issuer)
    nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    url, state = _client(config).create_authorization_url(
        endpoints["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )
    redis_connection().set(
        f"sso-state:{state}",
        json.dumps({"slug": slug, "nonce": nonce, "verifier": verifier}),
        ex=STATE_TTL_SECONDS,
    )
    return str(url)


def finish_sign_in(state: str, code: str) -> tuple[str, str]:
    """Check state, exchange the code, verify the ID token; returns (user_id, tenant_id)."""
    raw = redis_connection().getdel(f"sso-state:{state}") if state and len(state) < 200 else None
    if raw is None:
        raise SsoFailed("This sign-in expired or was tampered with; start again.")
    flow = json.loads(raw)  # type: ignore[arg-type]
    config = config_for_slug(flow["slug"])
    if config is None:
        raise SsoFailed("Single sign-on is no longer set up for that pharmacy chain.")
    endpoints = discover(config.issuer)
    try:
        token = _client(config).fetch_token(
            endpoints["token_endpoint"], code=code, code_verifier=flow["verifier"], timeout=HTTP_TIMEOUT
        )
    except Exception as exc:  # noqa: BLE001 - any provider error means "not signed in"
        raise SsoFailed(f"The identity provider refused the sign-in ({type(exc).__name__}).") from None
    claims = _verified_claims(token.get("id_token", ""), endpoints, config, flow["nonce"])
    if claims.get("email_verified") is not True or not claims.get("email"):
        raise SsoFailed("Your identity provider has not verified your e-mail address.")
    return _member_for(config, str(claims["email"]).lower(), str(claims.get("name") or claims["email"]))


def _verified_claims(id_token: str, endpoints: dict[str, Any], config: SsoConfig, nonce: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(_get_json(endpoints["jwks_uri"]))  # type: ignore[arg-type]
    try:
        decoded = jwt.decode(id_token, keys, algorithms=["RS256", "ES256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": config.issuer},
            aud={"essential": True, "value": config.client_id},
            nonce={"essential": True, "value": nonce},
            exp={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise SsoFailed(f"The identity token is not valid ({type(exc).__name__}).") from None
    return dict(decoded.claims)


def _member_for(config: SsoConfig, email: str, name: str) -> tuple[str, str]:
    from backend.accounts.service import memberships_of

    user_id = auth_path.user_id_by_email(email)
    if user_id and config.tenant_id in {m.tenant_id for m in memberships_of(user_id)}:
        return user_id, config.tenant_id
    if not config.allow_first_sign_in:
        raise SsoFailed(f"{email} is not a member of {config.tenant_name}. Ask the owner for an invitation.")
    return _join_on_first_sign_in(config, email, name, user_id)


def _join_on_first_sign_in(config: SsoConfig, email: str, name: str, user_id: str | None) -> tuple[str, str]:
    """The owner allowed it: a verified e-mail from their provider joins with the default role."""
    tenant = uuid.UUID(config.tenant_id)
    with platform_session(reason="sso first sign-in", actor=email, tenant_id=config.tenant_id) as session:
        if user_id is None:
            user = User(email=email, full_name=name[:120], password_hash=None)
            session.add(user)
            session.flush()
            user_id = str(user.id)
        existing = session.exec(
            select(Membership).where(Membership.tenant_id == tenant, Membership.user_id == uuid.UUID(user_id))
        ).first()
        if existing is not None and not existing.is_active:
            raise SsoFailed(f"Your membership of {config.tenant_name} was deactivated.")
        if existing is None:
            session.add(Membership(tenant_id=tenant, user_id=uuid.UUID(user_id), role=config.default_role))
            record_audit(
                session,
                tenant,
                "staff.joined_by_sso",
                actor_user_id=uuid.UUID(user_id),
                entity_type="user",
                entity_id=user_id,
                details={"role": config.default_role},
            )
    return user_id, config.tenant_id
