"""/api/v1/patients with real tokens: an idempotent create, the record, search shape, scopes, another chain."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.accounts.api_tokens import create_token
from backend.api import API_PREFIX, create_api
from backend.patients.api import router as patients_router
from tenants.context import TenantContext


@pytest.fixture(scope="module")
def client():
    api = create_api()
    if not any(getattr(route, "path", "").startswith(f"{API_PREFIX}/patients") for route in api.routes):
        api.include_router(patients_router, prefix=API_PREFIX)  # until backend/api.py mounts it
    with TestClient(api) as test_client:
        yield test_client


def tokens_for(chain) -> dict[str, dict[str, str]]:
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    return {
        scope: {"Authorization": f"Bearer {create_token(owner, f'{scope} patients', [scope]).token}"}
        for scope in ("read", "admin")
    }


def test_create_read_update_and_search_over_rest(client, committed_tenant):
    chain, _ = committed_tenant("patient-api")
    auth = tokens_for(chain)
    body = {
        "full_name": "Maria Example",
        "date_of_birth": "1961-04-12",
        "home_branch_id": str(chain.branch_ids[0]),
        "phone": "+1 555 0100",
        "allergies": "penicillin",
    }
    admin_key = {**auth["admin"], "Idempotency-Key": "patient-create-0001"}
    created = client.post("/api/v1/patients", json=body, headers=admin_key)
    assert created.status_code == 201, created.text
    assert set(created.json()) == {"id", "full_name", "date_of_birth", "home_branch_id"}  # no allergies stored twice
    again = client.post("/api/v1/patients", json=body, headers=admin_key)
    assert again.json() == created.json() and again.headers["Idempotent-Replayed"] == "true"
    patient_id = created.json()["id"]

    record = client.get(f"/api/v1/patients/{patient_id}", headers=auth["admin"])
    assert record.status_code == 200 and record.json()["allergies"] == "penicillin"
    assert record.json()["phone"] == "+15550100"

    changed = client.put(f"/api/v1/patients/{patient_id}", json={**body, "allergies": "none"}, headers=auth["admin"])
    assert changed.status_code == 200 and changed.json()["allergies"] == "none"

    found = client.get("/api/v1/patients", params={"q": "example"}, headers=auth["read"])
    assert found.status_code == 200
    assert found.json()["items"] == [{"id": patient_id, "full_name": "Maria Example", "date_of_birth": "1961-04-12"}]

    # A read token finds patients but does not open or change records.
    assert client.get(f"/api/v1/patients/{patient_id}", headers=auth["read"]).status_code == 403
    assert client.put(f"/api/v1/patients/{patient_id}", json=body, headers=auth["read"]).status_code == 403


def test_bad_input_and_another_chain_over_rest(client, committed_tenant):
    chain, _ = committed_tenant("patient-api")
    rival, _ = committed_tenant("patient-rival")
    auth, rival_auth = tokens_for(chain), tokens_for(rival)
    body = {"full_name": "Bo", "date_of_birth": "2999-01-01", "home_branch_id": str(chain.branch_ids[0])}
    refused = client.post("/api/v1/patients", json=body, headers={**auth["admin"], "Idempotency-Key": "bad-dob-01"})
    assert refused.status_code == 422
    assert refused.json()["field"] == "date_of_birth" and "future" in refused.json()["message"]
    assert client.get("/api/v1/patients", headers=auth["admin"]).json()["items"] == []

    body["date_of_birth"] = "1990-01-01"
    created = client.post("/api/v1/patients", json=body, headers={**auth["admin"], "Idempotency-Key": "ok-dob-001"})
    assert created.status_code == 201
    assert client.get(f"/api/v1/patients/{created.json()['id']}", headers=rival_auth["admin"]).status_code == 404
    assert client.get("/api/v1/patients", params={"q": "Bo"}, headers=rival_auth["read"]).json()["items"] == []
