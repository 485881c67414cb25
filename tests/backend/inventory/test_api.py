"""/api/v1/inventory with real tokens: scopes, idempotent writes, clear 4xx answers."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from backend.accounts.api_tokens import create_token
from backend.api import create_api
from backend.inventory.service import create_medicine, medicine_stock
from tenants.context import TenantContext
from tenants.session import run_in_tenant


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


@pytest.fixture
def setup(committed_tenant):
    chain, _ = committed_tenant("inv-api")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    medicine = run_in_tenant(
        owner, create_medicine, generic_name="Cetirizine", strength="10 mg", barcode=str(uuid.uuid4().int)[:13]
    )
    write = {"Authorization": f"Bearer {create_token(owner, 'pos', ['write']).token}"}
    read = {"Authorization": f"Bearer {create_token(owner, 'bi', ['read']).token}"}
    return chain, owner, medicine, write, read


def delivery(chain, medicine, **overrides):
    body = {
        "branch_id": str(chain.branch_ids[0]),
        "medicine_id": medicine,
        "lot_number": "CET-01",
        "expiry_date": (date.today() + timedelta(days=200)).isoformat(),
        "quantity": 30,
        "cost_price": "0.0450",
    }
    body.update(overrides)
    return body


def test_receive_is_idempotent_and_a_reused_key_with_another_body_is_refused(client, setup):
    chain, owner, medicine, write, read = setup
    headers = {**write, "Idempotency-Key": "delivery-2026-11-26-001"}
    first = client.post("/api/v1/inventory/receive", json=delivery(chain, medicine), headers=headers)
    assert first.status_code == 201 and first.headers["Idempotent-Replayed"] == "false"
    for _ in range(5):
        again = client.post("/api/v1/inventory/receive", json=delivery(chain, medicine), headers=headers)
        assert again.status_code == 201 and again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
    _, batches, movements = run_in_tenant(owner, medicine_stock, medicine)
    assert [b.quantity for b in batches] == [30] and len(movements) == 1  # moved once
    other = client.post("/api/v1/inventory/receive", json=delivery(chain, medicine, quantity=31), headers=headers)
    assert other.status_code == 422 and "different request" in other.json()["message"]


def test_dispense_replayed_100_times_sells_once(client, setup):
    chain, owner, medicine, write, read = setup
    client.post(
        "/api/v1/inventory/receive",
        json=delivery(chain, medicine),
        headers={**write, "Idempotency-Key": "receive-for-dispense"},
    )
    body = {"branch_id": str(chain.branch_ids[0]), "medicine_id": medicine, "quantity": 3, "reference": "BILL-9"}
    answers = {
        client.post(
            "/api/v1/inventory/dispense", json=body, headers={**write, "Idempotency-Key": "sale-bill-9"}
        ).json()["picks"][0]["quantity"]
        for _ in range(100)
    }
    assert answers == {3}
    _, batches, _ = run_in_tenant(owner, medicine_stock, medicine)
    assert batches[0].quantity == 27


def test_scopes_missing_keys_and_bad_input_get_clear_4xx(client, setup):
    chain, owner, medicine, write, read = setup
    refused = client.post(
        "/api/v1/inventory/receive",
        json=delivery(chain, medicine),
        headers={**read, "Idempotency-Key": "read-scope-try"},
    )
    assert refused.status_code == 403
    assert client.post("/api/v1/inventory/receive", json=delivery(chain, medicine), headers=write).status_code == 422
    expired = client.post(
        "/api/v1/inventory/receive",
        headers={**write, "Idempotency-Key": "expired-lot-1"},
        json=delivery(chain, medicine, expiry_date="2001-01-01"),
    )
    assert expired.status_code == 422 and expired.json()["field"] == "expiry_date"
    unknown = client.post(
        "/api/v1/inventory/receive",
        headers={**write, "Idempotency-Key": "unknown-med-1"},
        json=delivery(chain, "not-a-medicine"),
    )
    assert unknown.status_code == 404
    short = client.post(
        "/api/v1/inventory/dispense",
        headers={**write, "Idempotency-Key": "too-much-1"},
        json={"branch_id": str(chain.branch_ids[0]), "medicine_id": medicine, "quantity": 5},
    )
    assert short.status_code == 409 and short.json()["error"] == "out_of_stock"
    found = client.get("/api/v1/inventory/medicines", params={"q": "ceti"}, headers=read).json()
    assert [m["generic_name"] for m in found["items"]] == ["Cetirizine"]


def test_adjust_transfer_and_movements_over_rest(client, committed_tenant):
    chain, _ = committed_tenant("inv-api-2", branches=2)
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    medicine = run_in_tenant(owner, create_medicine, generic_name="Losartan", strength="50 mg")
    admin = {"Authorization": f"Bearer {create_token(owner, 'erp', ['admin']).token}"}
    received = client.post(
        "/api/v1/inventory/receive",
        json=delivery(chain, medicine, lot_number="LOS-1"),
        headers={**admin, "Idempotency-Key": "los-receive-1"},
    ).json()
    adjust = {"batch_id": received["batch_id"], "change": -2, "reason": "two packs crushed"}
    for _ in range(3):
        answer = client.post("/api/v1/inventory/adjust", json=adjust, headers={**admin, "Idempotency-Key": "los-adj-1"})
        assert answer.status_code == 200
    move = {"batch_id": received["batch_id"], "to_branch_id": str(chain.branch_ids[1]), "quantity": 8}
    moved = client.post("/api/v1/inventory/transfer", json=move, headers={**admin, "Idempotency-Key": "los-move-1"})
    assert moved.status_code == 201
    below = client.post(
        "/api/v1/inventory/adjust", headers={**admin, "Idempotency-Key": "los-adj-2"}, json={**adjust, "change": -500}
    )
    assert below.status_code == 409
    kinds = [m["kind"] for m in client.get(f"/api/v1/inventory/medicines/{medicine}/movements", headers=admin).json()]
    assert kinds == ["transfer_in", "transfer_out", "adjust", "receive"]  # the adjustment counted once
    _, batches, _ = run_in_tenant(owner, medicine_stock, medicine)
    assert sorted(b.quantity for b in batches) == [8, 20]


def test_write_off_and_supplier_return_over_rest(client, setup):
    chain, owner, medicine, write, read = setup
    batch = client.post(
        "/api/v1/inventory/receive",
        json=delivery(chain, medicine),
        headers={**write, "Idempotency-Key": "receive-for-returns"},
    ).json()["batch_id"]
    body = {"batch_id": batch, "quantity": 4, "reason": "recall R-12", "reference": "RA-77"}
    for _ in range(3):  # replayed: returned once
        back = client.post(
            "/api/v1/inventory/supplier-return", json=body, headers={**write, "Idempotency-Key": "return-ra-77"}
        )
        assert back.status_code == 200, back.json()
        assert back.json() == {"batch_id": batch, "kind": "supplier_return", "quantity": 4}
    # A write token may receive and return stock but not write it off (that is an adjustment).
    refused = client.post(
        "/api/v1/inventory/write-off",
        json={**body, "reason": "broken vials"},
        headers={**write, "Idempotency-Key": "write-off-1"},
    )
    assert refused.status_code == 403
    too_many = client.post(
        "/api/v1/inventory/supplier-return",
        json={**body, "quantity": 27},
        headers={**write, "Idempotency-Key": "return-too-many"},
    )
    assert too_many.status_code == 409 and "below zero" in too_many.json()["message"]
    _, batches, movements = run_in_tenant(owner, medicine_stock, medicine)
    assert batches[0].quantity == 26
    assert [(m.kind, m.quantity) for m in movements] == [("supplier_return", -4), ("receive", 30)]
