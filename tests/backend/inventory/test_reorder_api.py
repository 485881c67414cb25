"""/api/v1/inventory/reorder-levels with real API tokens: read with any scope, write with admin."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from backend.accounts.api_tokens import create_token
from backend.api import create_api
from backend.inventory.alerts import stock_alerts
from backend.inventory.service import create_medicine, receive_stock
from tenants.context import TenantContext
from tenants.session import run_in_tenant

EXPIRY = (date.today() + timedelta(days=300)).isoformat()


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


@pytest.fixture
def setup(committed_tenant):
    chain, _ = committed_tenant("reorder-api", branches=2)
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    here = str(chain.branch_ids[0])
    medicine = run_in_tenant(
        owner, create_medicine, generic_name="Metformin", strength="500 mg", barcode="5099999999994"
    )
    other = run_in_tenant(owner, create_medicine, generic_name="Atorvastatin", strength="20 mg")
    run_in_tenant(
        owner, receive_stock, branch_id=here, medicine_id=medicine, lot_number="M1", expiry_date=EXPIRY, quantity=12
    )
    tokens = {
        scope: {"Authorization": f"Bearer {create_token(owner, scope, [scope]).token}"}
        for scope in ("read", "write", "admin")
    }
    return chain, owner, here, medicine, other, tokens


def test_put_and_get_one_level(client, setup):
    chain, owner, here, medicine, other, tokens = setup
    path = f"/api/v1/inventory/reorder-levels/{here}/{medicine}"
    before = client.get(path, headers=tokens["read"]).json()
    assert (before["mode"], before["source"], before["on_hand"]) == (None, "none", 12)
    body = {"mode": "manual", "reorder_point": 20, "reorder_quantity": 200}
    headers = {**tokens["admin"], "Idempotency-Key": "metformin-level-01"}
    for _ in range(3):
        put = client.put(path, json=body, headers=headers)
        assert put.status_code == 200, put.json()
    assert put.headers["Idempotent-Replayed"] == "true"
    assert (put.json()["point_in_force"], put.json()["low"], put.json()["note"]) == (
        20,
        True,
        "Manual: reorder at 20, order 200.",
    )
    assert client.get(path, headers=tokens["read"]).json()["reorder_quantity"] == 200
    [alert] = run_in_tenant(owner, stock_alerts).low_stock
    assert alert.medicine == "Metformin 500 mg" and alert.quantity == 12
    cleared = client.put(
        path,
        json={"mode": "manual", "reorder_point": None, "reorder_quantity": None},
        headers={**tokens["admin"], "Idempotency-Key": "metformin-level-02"},
    )
    assert cleared.json()["source"] == "none" and run_in_tenant(owner, stock_alerts).low_stock == []


def test_bulk_put_is_all_or_nothing_and_the_list_pages(client, setup):
    chain, owner, here, medicine, other, tokens = setup
    good = [
        {"branch_id": here, "medicine_id": medicine, "mode": "manual", "reorder_point": 5, "reorder_quantity": 50},
        {"branch_id": here, "medicine_id": other, "mode": "automatic", "reorder_point": 2, "reorder_quantity": 20},
    ]
    bad = {"branch_id": here, "medicine_id": other, "mode": "manual", "reorder_point": 2, "reorder_quantity": None}
    refused = client.put(
        "/api/v1/inventory/reorder-levels",
        json={"levels": [good[0], bad]},
        headers={**tokens["admin"], "Idempotency-Key": "bulk-levels-bad-1"},
    )
    assert refused.status_code == 422 and refused.json()["field"] == "reorder_quantity"
    assert "Atorvastatin 20 mg at Branch 1" in refused.json()["message"]
    listed = client.get(
        "/api/v1/inventory/reorder-levels", params={"branch_id": here, "show": "set"}, headers=tokens["read"]
    )
    assert listed.json()["items"] == []  # the good line was not saved either
    saved = client.put(
        "/api/v1/inventory/reorder-levels",
        json={"levels": good},
        headers={**tokens["admin"], "Idempotency-Key": "bulk-levels-ok-1"},
    )
    assert saved.status_code == 200 and saved.json() == {"changed": 2, "cleared": 0, "unchanged": 0}
    page = client.get("/api/v1/inventory/reorder-levels", params={"branch_id": here}, headers=tokens["read"]).json()
    assert [(i["medicine"], i["mode"], i["source"]) for i in page["items"]] == [
        ("Atorvastatin 20 mg", "automatic", "fallback"),
        ("Metformin 500 mg", "manual", "manual"),
    ]
    assert page["has_more"] is False
    export = client.get(
        "/api/v1/inventory/export/reorder-levels.csv", params={"branch_id": here}, headers=tokens["read"]
    )
    assert export.status_code == 200 and 'filename="reorder-levels-B1.csv"' in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["generic_name"], r["reorder_point"]) for r in rows] == [("Atorvastatin", "2"), ("Metformin", "5")]


def test_refusals_over_rest(client, setup, committed_tenant):
    chain, owner, here, medicine, other, tokens = setup
    path = f"/api/v1/inventory/reorder-levels/{here}/{medicine}"
    body = {"mode": "manual", "reorder_point": 1, "reorder_quantity": 10}
    for scope in ("read", "write"):  # setting levels is stock planning: admin tokens only
        assert (
            client.put(path, json=body, headers={**tokens[scope], "Idempotency-Key": f"lv-{scope}-01"}).status_code
            == 403
        )
    assert client.put(path, json=body, headers=tokens["admin"]).status_code == 422  # no Idempotency-Key
    negative = client.put(
        path, json={**body, "reorder_point": -3}, headers={**tokens["admin"], "Idempotency-Key": "lv-negative-1"}
    )
    assert negative.status_code == 422
    unknown_mode = client.put(
        path, json={**body, "mode": "psychic"}, headers={**tokens["admin"], "Idempotency-Key": "lv-mode-1"}
    )
    assert unknown_mode.status_code == 422
    foreign, _ = committed_tenant("reorder-api-other")
    elsewhere = client.put(
        f"/api/v1/inventory/reorder-levels/{foreign.branch_ids[0]}/{medicine}",
        json=body,
        headers={**tokens["admin"], "Idempotency-Key": "lv-foreign-1"},
    )
    assert elsewhere.status_code == 404
    assert (
        client.get(f"/api/v1/inventory/reorder-levels/{here}/not-a-medicine", headers=tokens["read"]).status_code == 404
    )
    shown = client.get(
        "/api/v1/inventory/reorder-levels", params={"branch_id": here, "show": "all"}, headers=tokens["read"]
    )
    assert all(i["mode"] is None for i in shown.json()["items"])
