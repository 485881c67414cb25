"""POST /api/v1/dur/check with a real API token."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from backend.accounts.api_tokens import create_token
from backend.api import API_PREFIX, create_api
from backend.clinical.api import router
from backend.http import RequirePermission
from tenants.context import TenantContext
from tenants.roles import role_has

PATH = f"{API_PREFIX}/dur/check"
BODY = {
    "new": {"drug": "amoxicillin", "strength": "500 mg", "sig": "1 cap po tid x 10 days", "quantity": 30},
    "active": [{"drug": "warfarin", "last_fill": "2025-02-10", "days_supply": 30}, {"drug": "blorfacillin"}],
    "allergies": ["penicillin (hives)"],
}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


@pytest.fixture
def read_token(committed_tenant, default_name_cache):
    chain, _ = committed_tenant("dur-api")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    return {"Authorization": f"Bearer {create_token(owner, 'dur', ['read']).token}"}


def test_the_route_declares_its_permission():
    for route in router.routes:
        assert isinstance(route, APIRoute)
        declared = [d.call for d in route.dependant.dependencies if isinstance(d.call, RequirePermission)]
        assert [d.permission for d in declared] == ["dur.check"]
    # the people who dispense and API tokens; not the till, not platform support
    assert all(role_has(r, "dur.check") for r in ("pharmacist", "technician", "owner", "manager", "api-read"))
    assert not role_has("cashier", "dur.check") and not role_has("support", "dur.check")


def test_check_with_a_read_token(client, read_token):
    response = client.post(PATH, json=BODY, headers=read_token)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"alerts", "unknown"}
    first = body["alerts"][0]
    assert (first["type"], first["severity"], first["with"]) == ("allergy", "major", "penicillin (hives)")
    assert first["source"].startswith("FDA label: Amoxil")
    assert [u["name"] for u in body["unknown"]] == ["blorfacillin"]
    assert body["unknown"][0]["kind"] == "drug"


def test_bad_input_is_a_422_naming_the_field(client, read_token):
    bad_date = client.post(PATH, json={"new": {"drug": "x", "date": "tomorrow"}}, headers=read_token)
    assert bad_date.status_code == 422 and bad_date.json()["field"] == "new.date"
    no_new = client.post(PATH, json={"active": []}, headers=read_token)
    assert no_new.status_code == 422 and no_new.json()["message"].startswith("new:")
    not_json = client.post(PATH, content=b"{oops", headers={**read_token, "Content-Type": "application/json"})
    assert not_json.status_code == 422 and "not valid JSON" in not_json.json()["message"]
    too_many = client.post(PATH, json={"new": {"drug": "x"}, "active": [{"drug": "y"}] * 101}, headers=read_token)
    assert too_many.status_code == 422 and too_many.json()["field"] == "active"
    huge = client.post(PATH, content=b" " * (300 * 1024), headers=read_token)
    assert huge.status_code == 422 and "larger than" in huge.json()["message"]


def test_a_token_is_required(client):
    assert client.post(PATH, json=BODY).status_code == 401


def test_the_schema_is_documented(client):
    spec = client.get(f"{API_PREFIX}/openapi.json").json()
    body = spec["paths"][PATH]["post"]["requestBody"]["content"]["application/json"]
    assert "$defs" not in str(body["schema"]) and "last_fill" in str(body["schema"])
