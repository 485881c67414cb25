"""/api/v1/retention/holds with real API tokens: an admin token places and releases legal holds once per
Idempotency-Key; read and write tokens are refused. And reviews of committed chains racing each other."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.accounts.api_tokens import create_token
from backend.api import create_api
from backend.patients.service import create_patient
from backend.retention.service import review_disposals
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def test_an_admin_token_places_and_releases_a_hold_once_per_key(client, committed_tenant):
    chain, _ = committed_tenant("ret-api")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    tokens = {
        scope: {"Authorization": f"Bearer {create_token(owner, scope, [scope]).token}"}
        for scope in ("read", "write", "admin")
    }
    patient = run_in_tenant(
        owner,
        create_patient,
        full_name="Paula Rest",
        date_of_birth="1950-01-02",
        home_branch_id=str(chain.branch_ids[0]),
    )
    body = {"reason": "Subpoena 2026-114", "patient_id": patient.id}
    for scope in ("read", "write"):
        refused = client.post(
            "/api/v1/retention/holds", json=body, headers={**tokens[scope], "Idempotency-Key": f"hold-{scope}-01"}
        )
        assert refused.status_code == 403
    headers = {**tokens["admin"], "Idempotency-Key": "hold-paula-0001"}
    first = client.post("/api/v1/retention/holds", json=body, headers=headers)
    assert first.status_code == 201, first.json()
    hold = first.json()
    assert (hold["patient_name"], hold["reason"], hold["released_at"]) == ("Paula Rest", "Subpoena 2026-114", None)
    assert client.post("/api/v1/retention/holds", json=body, headers=headers).json() == hold
    with tenant_session(owner) as session:
        assert session.execute(text("SELECT count(*) FROM legal_holds")).scalar_one() == 1
        assert (
            session.execute(
                text("SELECT count(*) FROM audit_events WHERE action = 'retention.hold_placed'")
            ).scalar_one()
            == 1
        )

    short = client.post(
        f"/api/v1/retention/holds/{hold['id']}/release",
        json={"reason": "ok"},
        headers={**tokens["admin"], "Idempotency-Key": "release-paula-0001"},
    )
    assert short.status_code == 422 and "reason" in short.json()["message"]
    released = client.post(
        f"/api/v1/retention/holds/{hold['id']}/release",
        json={"reason": "Case closed by the court"},
        headers={**tokens["admin"], "Idempotency-Key": "release-paula-0002"},
    )
    assert released.status_code == 200, released.json()
    assert released.json()["release_reason"] == "Case closed by the court"
    listed = client.get("/api/v1/retention/holds", headers=tokens["admin"]).json()
    assert [h["id"] for h in listed] == [hold["id"]] and listed[0]["released_at"] is not None
    assert client.get("/api/v1/retention/holds", headers=tokens["read"]).status_code == 403
    # An admin token never reviews or disposes.
    admin = TenantContext(tenant_id=chain.tenant_id, user_id=None, role="api-admin")
    with pytest.raises(Exception, match="may not do this"):
        run_in_tenant(admin, review_disposals)


def test_two_reviews_at_once_leave_one_batch_awaiting_approval(committed_tenant):
    from concurrent.futures import ThreadPoolExecutor

    chain, _ = committed_tenant("ret-race")
    system = TenantContext.system(chain.tenant_id)
    with ThreadPoolExecutor(max_workers=4) as pool:
        batches = list(pool.map(lambda _: run_in_tenant(system, review_disposals), range(4)))
    assert len({b.id for b in batches}) == 4
    with tenant_session(system) as session:
        statuses = session.execute(text("SELECT status, count(*) FROM disposal_batches GROUP BY status")).all()
    assert dict(statuses) == {"awaiting_approval": 1, "superseded": 3}
