"""Single sign-on against a real OIDC provider on 127.0.0.1 (authorization code + PKCE, RS256)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import text

from backend.accounts.service import memberships_of
from backend.accounts.sso import SsoFailed, finish_sign_in, save_config, start_sign_in
from backend.core.errors import ValidationFailed
from tenants.audit import list_audit
from tenants.context import TenantContext
from tests.oidc_provider import TestUser


def owner(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def configure(chain, provider, *, allow_first_sign_in: bool = False) -> None:
    save_config(
        owner(chain),
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        label="Test IdP",
        allow_first_sign_in=allow_first_sign_in,
        default_role="cashier",
    )


def slug_of(db, chain) -> str:
    db.execute(text("RESET ROLE"))
    return db.execute(text("SELECT slug FROM tenants WHERE id = :t"), {"t": chain.tenant_id}).scalar_one()


def email_of(db, user_id) -> str:
    db.execute(text("RESET ROLE"))
    return db.execute(text("SELECT email FROM users WHERE id = :u"), {"u": user_id}).scalar_one()


def through_provider(slug: str) -> tuple[str, str]:
    """What the browser does: follow our redirect to the provider, which redirects back."""
    authorize = start_sign_in(slug)
    assert "code_challenge=" in authorize and "nonce=" in authorize
    back = requests.get(authorize, allow_redirects=False, timeout=5)
    assert back.status_code == 302
    query = parse_qs(urlsplit(back.headers["Location"]).query)
    assert back.headers["Location"].split("?")[0].endswith("/api/v1/auth/sso/callback")
    return query["state"][0], query["code"][0]


def test_member_signs_in_with_sso_and_the_secret_is_encrypted(db, make_tenant, oidc_provider):
    chain = make_tenant("sso")
    oidc_provider.user = TestUser(email_of(db, chain.owner_user_id).upper())
    configure(chain, oidc_provider)
    db.execute(text("RESET ROLE"))
    stored = db.execute(text("SELECT client_secret_encrypted FROM sso_configs")).scalar_one()
    assert oidc_provider.client_secret not in stored
    state, code = through_provider(slug_of(db, chain))
    assert finish_sign_in(state, code) == (str(chain.owner_user_id), str(chain.tenant_id))
    with pytest.raises(SsoFailed, match="expired or was tampered"):
        finish_sign_in(state, code)  # a state works once


def test_tampered_state_nonce_or_unverified_email_is_refused(db, make_tenant, oidc_provider):
    chain = make_tenant("sso-tamper")
    oidc_provider.user = TestUser(email_of(db, chain.owner_user_id))
    configure(chain, oidc_provider)
    slug = slug_of(db, chain)
    state, code = through_provider(slug)
    with pytest.raises(SsoFailed, match="tampered"):
        finish_sign_in(state + "x", code)
    oidc_provider.tamper_nonce = True
    state, code = through_provider(slug)
    with pytest.raises(SsoFailed, match="not valid"):
        finish_sign_in(state, code)
    oidc_provider.tamper_nonce = False
    oidc_provider.user = TestUser(oidc_provider.user.email, email_verified=False)
    state, code = through_provider(slug)
    with pytest.raises(SsoFailed, match="not verified"):
        finish_sign_in(state, code)


def test_strangers_join_only_when_the_owner_allows(db, make_tenant, oidc_provider):
    chain = make_tenant("sso-join")
    oidc_provider.user = TestUser("new.colleague@example.com", name="Nia New")
    configure(chain, oidc_provider)
    slug = slug_of(db, chain)
    with pytest.raises(SsoFailed, match="not a member"):
        finish_sign_in(*through_provider(slug))
    configure(chain, oidc_provider, allow_first_sign_in=True)
    user_id, tenant_id = finish_sign_in(*through_provider(slug))
    assert [(m.tenant_id, m.role) for m in memberships_of(user_id)] == [(tenant_id, "cashier")]
    assert list_audit(owner(chain), action_prefix="staff.joined_by_sso").rows


@pytest.mark.parametrize(
    "issuer",
    ["https://10.1.2.3", "http://localhost:8080", "https://169.254.169.254", "ftp://login.example.com"],
)
def test_issuer_on_private_or_local_addresses_is_refused(db, make_tenant, issuer):
    chain = make_tenant("sso-ssrf")
    with pytest.raises(ValidationFailed):
        save_config(
            owner(chain),
            issuer=issuer,
            client_id="x",
            client_secret="y",
            label="",
            allow_first_sign_in=False,
            default_role="cashier",
        )
