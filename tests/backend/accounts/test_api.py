"""The REST API with real tokens: scopes, revocation, rate limits, and a permission on every route."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from backend.accounts.api_tokens import create_token, revoke_token
from backend.api import PUBLIC_ROUTES, create_api
from backend.core.errors import PermissionDenied, ValidationFailed
from backend.core.settings import get_settings
from backend.http import RequirePermission
from tenants.context import TenantContext


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def owner(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_route_declares_a_permission_or_is_public():
    undeclared = []
    for route in create_api().routes:
        if not isinstance(route, APIRoute) or route.path in PUBLIC_ROUTES:
            continue
        declared = [d.call for d in route.dependant.dependencies if isinstance(d.call, RequirePermission)]
        if len(declared) != 1:
            undeclared.append(route.path)
    assert undeclared == []


def test_tokens_by_scope(client, committed_tenant):
    chain, _ = committed_tenant("api")
    read = create_token(owner(chain), "stock sync", ["read"])
    admin = create_token(owner(chain), "back office", ["admin"])
    assert read.token.startswith("phs_") and read.info.prefix == read.token[:12]

    response = client.get("/api/v1/branches", headers=bearer(read.token))
    assert response.status_code == 200
    assert [b["name"] for b in response.json()] == ["Branch 1"]
    assert client.get("/api/v1/staff", headers=bearer(read.token)).status_code == 403
    staff = client.get("/api/v1/staff", headers=bearer(admin.token))
    assert staff.status_code == 200 and [m["role"] for m in staff.json()] == ["owner"]
    assert "password_hash" not in staff.text

    revoke_token(owner(chain), read.info.id)
    revoked = client.get("/api/v1/branches", headers=bearer(read.token))
    assert revoked.status_code == 401 and revoked.headers["WWW-Authenticate"] == "Bearer"
    assert client.get("/api/v1/branches").status_code == 401
    assert client.get("/api/v1/branches", headers=bearer("phs_forged")).status_code == 401


def test_tokens_never_cross_tenants(client, committed_tenant):
    a, _ = committed_tenant("api-a")
    b, _ = committed_tenant("api-b")
    token_a = create_token(owner(a), "a", ["read"]).token
    names = [x["name"] for x in client.get("/api/v1/branches", headers=bearer(token_a)).json()]
    with psycopg.connect(get_settings().owner_database_url().replace("+psycopg", "")) as conn:
        b_branches = conn.execute("SELECT id FROM branches WHERE tenant_id = %s", (b.tenant_id,)).fetchall()
    assert names == ["Branch 1"] and len(b_branches) == 1
    ids = [x["id"] for x in client.get("/api/v1/branches", headers=bearer(token_a)).json()]
    assert str(b_branches[0][0]) not in ids


def test_rate_limit_per_tenant_answers_429_with_retry_after(client, committed_tenant):
    chain, _ = committed_tenant("api-limit")
    with psycopg.connect(get_settings().owner_database_url().replace("+psycopg", "")) as conn:
        conn.execute("UPDATE tenants SET api_rate_limit_per_hour = 3 WHERE id = %s", (chain.tenant_id,))
    first = create_token(owner(chain), "one", ["read"]).token
    second = create_token(owner(chain), "two", ["read"]).token
    codes = [client.get("/api/v1/me", headers=bearer(first)).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    limited = client.get("/api/v1/me", headers=bearer(second))  # the tenant's budget is spent
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 3600


def test_only_owners_manage_tokens_and_bad_input_is_explained(db, make_tenant):
    chain = make_tenant("tok-rules")
    manager = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="manager")
    with pytest.raises(PermissionDenied):
        create_token(manager, "x", ["read"])
    with pytest.raises(ValidationFailed, match="scope"):
        create_token(owner(chain), "x", ["superuser"])
    with pytest.raises(ValidationFailed, match="name"):
        create_token(owner(chain), "   ", ["read"])


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.9"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),
        (2, "203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.9"),
    ],
)
def test_client_ip_trusts_only_configured_proxies(monkeypatch, hops, forwarded, expected):
    from starlette.requests import Request

    from backend.accounts.api import client_ip
    from backend.core.settings import reset_settings_cache

    monkeypatch.setenv("TRUSTED_PROXY_HOPS", str(hops))
    reset_settings_cache()
    request = Request(
        {"type": "http", "client": ("10.0.0.9", 1234), "headers": [(b"x-forwarded-for", forwarded.encode())]}
    )
    try:
        assert client_ip(request) == expected
    finally:
        monkeypatch.delenv("TRUSTED_PROXY_HOPS")
        reset_settings_cache()
