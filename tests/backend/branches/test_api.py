"""/api/v1/branches with real API tokens: admin tokens manage, others read; writes are idempotent."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.accounts.api_tokens import create_token
from backend.api import create_api
from backend.inventory.service import create_medicine
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session

BODY = {
    "name": "Harbour",
    "code": "hb1",
    "address": "1 Quay Street",
    "phone": "+1 555 0199",
    "time_zone": "America/New_York",
    "default_tax_rate": "8.875",
    "reduced_tax_rate": "0",
    "prices_include_tax": False,
    "opening_hours": {"mon": [{"opens": "09:00", "closes": "18:00"}], "sat": [{"opens": "10:00", "closes": "14:00"}]},
}


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


@pytest.fixture
def chain(committed_tenant):
    chain, _ = committed_tenant("branch-api")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    tokens = {
        scope: {"Authorization": f"Bearer {create_token(owner, scope, [scope]).token}"}
        for scope in ("read", "write", "admin")
    }
    return chain, owner, tokens


def branch_count(owner: TenantContext) -> int:
    with tenant_session(owner) as session:
        return session.execute(text("SELECT count(*) FROM branches")).scalar_one()


def test_an_admin_token_adds_a_branch_once_per_key(client, chain):
    chain, owner, tokens = chain
    headers = {**tokens["admin"], "Idempotency-Key": "add-harbour-0001"}
    first = client.post("/api/v1/branches", json=BODY, headers=headers)
    assert first.status_code == 201, first.json()
    created = first.json()
    assert (created["code"], created["time_zone"], created["default_tax_rate"]) == ("HB1", "America/New_York", "8.8750")
    assert created["opening_hours"]["mon"] == [{"opens": "09:00", "closes": "18:00"}]
    assert created["opening_hours"]["sun"] == [] and created["is_active"] is True
    for _ in range(3):
        again = client.post("/api/v1/branches", json=BODY, headers=headers)
        assert again.status_code == 201 and again.json() == created
        assert again.headers["Idempotent-Replayed"] == "true"
    assert branch_count(owner) == 2
    listed = client.get("/api/v1/branches", headers=tokens["read"]).json()
    assert [(b["code"], b["is_active"]) for b in listed] == [("B1", True), ("HB1", True)]
    assert client.get(f"/api/v1/branches/{created['id']}", headers=tokens["read"]).json() == created


def test_put_edits_deactivates_and_reactivates(client, chain):
    chain, owner, tokens = chain
    branch_id = str(chain.branch_ids[0])
    created = client.post(
        "/api/v1/branches", json=BODY, headers={**tokens["admin"], "Idempotency-Key": "add-harbour-0002"}
    ).json()
    edited = client.put(
        f"/api/v1/branches/{created['id']}",
        json={**BODY, "name": "Harbour Front", "phone": "", "is_active": False},
        headers={**tokens["admin"], "Idempotency-Key": "edit-harbour-0001"},
    )
    assert edited.status_code == 200, edited.json()
    assert (edited.json()["name"], edited.json()["phone"], edited.json()["is_active"]) == ("Harbour Front", "", False)
    # A deactivated branch takes no sales over REST either, the stock API's included.
    medicine = run_in_tenant(owner, create_medicine, generic_name="Paracetamol", strength="500 mg")
    sale = client.post(
        "/api/v1/inventory/dispense",
        json={"branch_id": created["id"], "medicine_id": medicine, "quantity": 1},
        headers={**tokens["write"], "Idempotency-Key": "closed-sale-0001"},
    )
    assert sale.status_code == 409 and sale.json()["error"] == "branch_inactive"
    draft = client.post(
        "/api/v1/bills",
        json={"branch_id": created["id"], "lines": [{"medicine_id": medicine, "quantity": 1}]},
        headers={**tokens["write"], "Idempotency-Key": "closed-bill-0001"},
    )
    assert draft.status_code == 409 and "Harbour Front is deactivated and takes no sales" in draft.json()["message"]
    # The chain's last active branch stays open: the whole PUT is refused, the name too.
    last = client.put(
        f"/api/v1/branches/{branch_id}",
        json={**BODY, "name": "Renamed", "code": "B1", "is_active": False},
        headers={**tokens["admin"], "Idempotency-Key": "close-last-0001"},
    )
    assert last.status_code == 409 and "only active branch" in last.json()["message"]
    assert client.get(f"/api/v1/branches/{branch_id}", headers=tokens["read"]).json()["name"] == "Branch 1"
    reopened = client.put(
        f"/api/v1/branches/{created['id']}",
        json={**BODY, "name": "Harbour Front", "phone": "", "is_active": True},
        headers={**tokens["admin"], "Idempotency-Key": "open-harbour-0001"},
    )
    assert reopened.json()["is_active"] is True


def test_refusals_over_rest(client, chain, committed_tenant):
    chain, owner, tokens = chain
    before = branch_count(owner)
    for scope in ("read", "write"):  # only the owner's admin tokens manage branches
        refused = client.post(
            "/api/v1/branches", json=BODY, headers={**tokens[scope], "Idempotency-Key": f"try-{scope}-0001"}
        )
        assert refused.status_code == 403
    assert client.post("/api/v1/branches", json=BODY, headers=tokens["admin"]).status_code == 422  # no key
    bad_zone = client.post(
        "/api/v1/branches",
        json={**BODY, "time_zone": "Atlantis/Capital"},
        headers={**tokens["admin"], "Idempotency-Key": "bad-zone-0001"},
    )
    assert bad_zone.status_code == 422 and bad_zone.json()["field"] == "time_zone"
    bad_hours = client.post(
        "/api/v1/branches",
        json={**BODY, "opening_hours": {"mon": [{"opens": "18:00", "closes": "09:00"}]}},
        headers={**tokens["admin"], "Idempotency-Key": "bad-hours-0001"},
    )
    assert bad_hours.status_code == 422 and bad_hours.json()["field"] == "opening_hours.mon"
    taken = client.post(
        "/api/v1/branches",
        json={**BODY, "code": "b1"},
        headers={**tokens["admin"], "Idempotency-Key": "taken-code-0001"},
    )
    assert taken.status_code == 409 and taken.json()["field"] == "code"
    assert branch_count(owner) == before
    other, _ = committed_tenant("branch-api-other")
    assert client.get(f"/api/v1/branches/{other.branch_ids[0]}", headers=tokens["read"]).status_code == 404
    foreign = client.put(
        f"/api/v1/branches/{other.branch_ids[0]}",
        json=BODY,
        headers={**tokens["admin"], "Idempotency-Key": "foreign-0001"},
    )
    assert foreign.status_code == 404
