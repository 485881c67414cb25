"""/api/v1/bills and /api/v1/payments with real tokens: idempotent writes, 409 on issued bills, scopes, RLS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from backend.accounts.api_tokens import create_token
from backend.api import create_api
from backend.inventory.service import medicine_stock
from tenants.session import run_in_tenant
from tests.backend.billing.conftest import as_role, stock_up, supply_without_a_fill_allowed


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


@pytest.fixture
def shop(committed_tenant):
    chain, _ = committed_tenant("bill-api", branches=2)
    counter = stock_up(chain)
    tokens = {
        scope: create_token(counter.owner, f"{scope} till", [scope]).token for scope in ("read", "write", "admin")
    }
    return counter, {scope: {"Authorization": f"Bearer {token}"} for scope, token in tokens.items()}


def with_key(headers: dict, key: str) -> dict:
    return {**headers, "Idempotency-Key": key}


def new_bill(counter, *lines) -> dict:
    return {"branch_id": counter.branch, "lines": list(lines) or [{"medicine_id": counter.ibuprofen, "quantity": 2}]}


def test_draft_update_finalize_and_read_over_rest(client, shop):
    counter, auth = shop
    created = client.post("/api/v1/bills", json=new_bill(counter), headers=with_key(auth["write"], "bill-create-0001"))
    assert created.status_code == 201, created.text
    bill = created.json()
    assert bill["status"] == "draft" and bill["number"] is None and bill["total_due"] == "10.87"  # 9.98 + 0.8857
    assert bill["lines"][0]["unit_price"] == "4.9900"  # money is a decimal string, never a float

    change = {"lines": [{"medicine_id": counter.ibuprofen, "quantity": 3, "line_discount": "0.50"}]}
    updated = client.put(f"/api/v1/bills/{bill['id']}", json=change, headers=with_key(auth["write"], "bill-put-0001"))
    assert updated.status_code == 200 and updated.json()["total_due"] == "15.75"

    finalize = f"/api/v1/bills/{bill['id']}/finalize"
    first = client.post(finalize, headers=with_key(auth["write"], "bill-final-0001"))
    assert first.status_code == 200, first.text
    assert first.json()["number"] == f"B1-{datetime.now(UTC).year}-000001"
    for _ in range(3):  # a till retrying after a dropped connection: the same answer, one sale
        again = client.post(finalize, headers=with_key(auth["write"], "bill-final-0001"))
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    _, batches, _ = run_in_tenant(counter.owner, medicine_stock, counter.ibuprofen, branch_id=counter.branch)
    assert sum(b.quantity for b in batches) == 17

    refused = client.put(f"/api/v1/bills/{bill['id']}", json=change, headers=with_key(auth["write"], "bill-put-0002"))
    assert refused.status_code == 409 and refused.json()["error"] == "bill_not_draft"
    twice = client.post(finalize, headers=with_key(auth["write"], "bill-final-0002"))
    assert twice.status_code == 409
    read = client.get(f"/api/v1/bills/{bill['id']}", headers=auth["read"])
    assert read.status_code == 200 and read.json() == first.json()


def test_a_payment_replayed_100_times_is_taken_once(client, shop):
    counter, auth = shop
    bill = client.post(
        "/api/v1/bills", json=new_bill(counter), headers=with_key(auth["write"], "pay-bill-create")
    ).json()
    client.post(f"/api/v1/bills/{bill['id']}/finalize", headers=with_key(auth["write"], "pay-bill-final"))
    body = {"bill_id": bill["id"], "tendered": "5.00"}
    answers = [
        client.post("/api/v1/payments", json=body, headers=with_key(auth["write"], "cash-0001")) for _ in range(100)
    ]
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["payment"]["id"] for a in answers}) == 1
    assert answers[0].json()["bill_status"] == "partially_paid" and answers[0].json()["outstanding"] == "5.87"
    paid = client.get(f"/api/v1/bills/{bill['id']}", headers=auth["read"]).json()
    assert paid["amount_paid"] == "5.00" and len(paid["payments"]) == 1
    other = client.post(
        "/api/v1/payments", json={**body, "tendered": "6.00"}, headers=with_key(auth["write"], "cash-0001")
    )
    assert other.status_code == 422 and "different request" in other.json()["message"]
    rest = client.post(
        "/api/v1/payments", json={**body, "tendered": "20"}, headers=with_key(auth["write"], "cash-0002")
    )
    assert rest.json()["payment"]["change_due"] == "14.13" and rest.json()["bill_status"] == "paid"


def test_one_key_reused_for_another_bill_is_refused_not_replayed(client, shop):
    counter, auth = shop
    ids = [
        client.post(
            "/api/v1/bills", json=new_bill(counter), headers=with_key(auth["write"], f"reuse-create-{i}")
        ).json()["id"]
        for i in range(2)
    ]
    assert (
        client.post(f"/api/v1/bills/{ids[0]}/finalize", headers=with_key(auth["write"], "reuse-final")).status_code
        == 200
    )
    second = client.post(f"/api/v1/bills/{ids[1]}/finalize", headers=with_key(auth["write"], "reuse-final"))
    assert second.status_code == 422


def test_scopes_roles_keys_and_other_chains(client, shop, committed_tenant):
    counter, auth = shop
    assert (
        client.post("/api/v1/bills", json=new_bill(counter), headers=with_key(auth["read"], "scope-read-1")).status_code
        == 403
    )
    assert client.post("/api/v1/bills", json=new_bill(counter), headers=auth["write"]).status_code == 422  # no key
    unknown = client.post(
        "/api/v1/bills",
        json=new_bill(counter, {"medicine_id": "nope", "quantity": 1}),
        headers=with_key(auth["write"], "bad-medicine-1"),
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "lines[0].medicine_id"
    rx = client.post(
        "/api/v1/bills",
        json=new_bill(
            counter, {"medicine_id": counter.amoxicillin, "quantity": 1, "override_reason": "token says so, trust me"}
        ),
        headers=with_key(auth["admin"], "rx-override-1"),
    )
    assert rx.status_code == 422  # the US rule: only a fill, whoever asks
    assert rx.json()["field"] == "lines[0].medicine_id" and "record an emergency supply" in rx.json()["message"]
    supply_without_a_fill_allowed(counter.owner)
    rx = client.post(
        "/api/v1/bills",
        json=new_bill(
            counter, {"medicine_id": counter.amoxicillin, "quantity": 1, "override_reason": "token says so, trust me"}
        ),
        headers=with_key(auth["admin"], "rx-override-2"),
    )
    assert rx.status_code == 403  # where an override is allowed, an API token is never a pharmacist

    bill = client.post("/api/v1/bills", json=new_bill(counter), headers=with_key(auth["write"], "void-create-1")).json()
    client.post(f"/api/v1/bills/{bill['id']}/finalize", headers=with_key(auth["write"], "void-final-1"))
    void = f"/api/v1/bills/{bill['id']}/void"
    reason = {"reason": "scanned twice"}
    assert client.post(void, json=reason, headers=with_key(auth["write"], "void-write-1")).status_code == 403
    voided = client.post(void, json=reason, headers=with_key(auth["admin"], "void-admin-1"))
    assert voided.status_code == 200 and voided.json()["status"] == "voided"

    # A token without billing.void learns nothing of an issued bill's state: 403 before "has payments".
    paid = client.post("/api/v1/bills", json=new_bill(counter), headers=with_key(auth["write"], "void-paid-1")).json()
    client.post(f"/api/v1/bills/{paid['id']}/finalize", headers=with_key(auth["write"], "void-paid-2"))
    cash = {"bill_id": paid["id"], "method": "cash", "tendered": "100"}
    assert client.post("/api/v1/payments", json=cash, headers=with_key(auth["write"], "void-paid-3")).status_code == 201
    void_paid = f"/api/v1/bills/{paid['id']}/void"
    assert client.post(void_paid, json=reason, headers=with_key(auth["write"], "void-paid-4")).status_code == 403
    assert client.post(void_paid, json=reason, headers=with_key(auth["admin"], "void-paid-5")).status_code == 409

    stranger, _ = committed_tenant("bill-stranger")
    owner = as_role(stranger, "owner")
    theirs = {"Authorization": f"Bearer {create_token(owner, 'their till', ['admin']).token}"}
    assert client.get(f"/api/v1/bills/{bill['id']}", headers=theirs).status_code == 404
    assert client.post(void, json=reason, headers=with_key(theirs, "void-stranger-1")).status_code == 404
    assert client.get("/api/v1/bills/not-an-id", headers=auth["read"]).status_code == 404


def test_openapi_documents_the_billing_paths_with_examples(client):
    spec = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/bills",
        "/api/v1/bills/{bill_id}",
        "/api/v1/bills/{bill_id}/finalize",
        "/api/v1/bills/{bill_id}/void",
        "/api/v1/payments",
    ):
        assert path in spec["paths"]
    schemas = spec["components"]["schemas"]
    assert schemas["NewBillIn"]["examples"] and schemas["PaymentIn"]["examples"] and schemas["BillOut"]["examples"]
