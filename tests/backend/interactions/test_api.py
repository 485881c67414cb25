"""GET /api/v1/interactions with a real API token."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from backend.accounts.api_tokens import create_token
from backend.api import API_PREFIX, create_api
from backend.http import RequirePermission
from backend.interactions.api import router
from tenants.context import TenantContext

PATH = f"{API_PREFIX}/interactions"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


@pytest.fixture
def read_token(committed_tenant, default_name_cache):
    chain, _ = committed_tenant("ddi-api")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    return {"Authorization": f"Bearer {create_token(owner, 'ddi', ['read']).token}"}


def test_the_route_declares_a_permission():
    for route in router.routes:
        assert isinstance(route, APIRoute)
        declared = [d.call for d in route.dependant.dependencies if isinstance(d.call, RequirePermission)]
        assert [d.permission for d in declared] == ["inventory.view"]


def test_check_with_a_read_token(client, read_token):
    response = client.get(PATH, params={"drugs": "Zocor, clarithromycin,Percocet,xyzzy"}, headers=read_token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(p["a"], p["b"]) for p in body["pairs"]][:2] == [("Zocor", "clarithromycin"), ("Zocor", "Percocet")]
    first = body["pairs"][0]
    assert first["severity"] == "contraindicated"
    assert first["findings"][0]["rule_id"] == "statin+strong_3a4"
    assert first["findings"][0]["sources"][0]["url"].startswith("https://dailymed.nlm.nih.gov/")
    assert body["unknown"] == [{"name": "xyzzy", "suggestions": body["unknown"][0]["suggestions"]}]
    assert {"name": "Percocet", "ingredients": ["oxycodone", "acetaminophen"], "read_as": ""} in body["drugs"]


def test_bad_input_and_missing_token(client, read_token):
    one = client.get(PATH, params={"drugs": "Zocor"}, headers=read_token)
    assert one.status_code == 422 and one.json()["field"] == "drugs" and "at least two" in one.json()["message"]
    same = client.get(PATH, params={"drugs": "Zocor, zocor"}, headers=read_token)
    assert same.status_code == 422
    many = client.get(PATH, params={"drugs": ",".join(f"d{i}" for i in range(21))}, headers=read_token)
    assert many.status_code == 422 and "at most 20" in many.json()["message"]
    assert client.get(PATH, headers=read_token).status_code == 422  # no drugs parameter at all
    assert client.get(PATH, params={"drugs": "Zocor,clarithromycin"}).status_code == 401
