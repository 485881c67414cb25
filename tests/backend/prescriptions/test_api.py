"""/api/v1/prescriptions and /api/v1/prescribers with real tokens: idempotent writes, scopes, another chain."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from backend.accounts.api_tokens import create_token
from backend.api import create_api
from backend.inventory.service import create_medicine
from backend.patients.service import create_patient
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.backend.prescriptions.conftest import MEDICINES, VALID_NPI


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def auth(chain, scope: str) -> dict[str, str]:
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    return {"Authorization": f"Bearer {create_token(owner, f'{scope} rx', [scope]).token}"}


def test_a_prescription_through_rest(client, committed_tenant):
    chain, _ = committed_tenant("rx-api", branches=1)
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    lisinopril = run_in_tenant(owner, create_medicine, default_sell_price="1.00", **MEDICINES["lisinopril"])
    patient = run_in_tenant(
        owner,
        create_patient,
        full_name="Rest Patient",
        date_of_birth="1950-01-01",
        home_branch_id=str(chain.branch_ids[0]),
    ).id
    admin, read = auth(chain, "admin"), auth(chain, "read")

    body = {"full_name": "Dana Rivera", "credentials": "MD", "npi": VALID_NPI}
    created = client.post("/api/v1/prescribers", json=body, headers={**admin, "Idempotency-Key": "prescriber-0001"})
    assert created.status_code == 201, created.text
    again = client.post("/api/v1/prescribers", json=body, headers={**admin, "Idempotency-Key": "prescriber-0001"})
    assert again.json()["id"] == created.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    twin = client.post("/api/v1/prescribers", json=body, headers={**admin, "Idempotency-Key": "prescriber-0002"})
    assert twin.status_code == 409 and "already on file" in twin.json()["message"]
    bad = client.post(
        "/api/v1/prescribers",
        json={**body, "npi": "1234567890"},
        headers={**admin, "Idempotency-Key": "prescriber-0003"},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "npi"
    found = client.get("/api/v1/prescribers", params={"q": "rivera"}, headers=read)
    assert [p["npi"] for p in found.json()["items"]] == [VALID_NPI]

    intake = {
        "branch_id": str(chain.branch_ids[0]),
        "patient_id": patient,
        "source": "phone",
        "prescriber_id": created.json()["id"],
        "medicine_id": lisinopril,
        "drug_written": "lisinopril 10 mg",
        "sig_written": "1 tab po qam",
        "quantity": 30,
        "date_written": date.today().isoformat(),
    }
    assert (
        client.post(
            "/api/v1/prescriptions", json=intake, headers={**read, "Idempotency-Key": "rx-key-0000"}
        ).status_code
        == 403
    )
    rx = client.post("/api/v1/prescriptions", json=intake, headers={**admin, "Idempotency-Key": "rx-key-0001"})
    assert rx.status_code == 201, rx.text
    assert set(rx.json()) == {"id", "rx_number", "status"} and rx.json()["status"] == "data_entry"
    rx_id = rx.json()["id"]
    record = client.get(f"/api/v1/prescriptions/{rx_id}", headers=admin).json()
    assert record["sig_expanded"] == "Take 1 tablet by mouth every morning" and record["days_supply"] == 30
    changed = client.put(
        f"/api/v1/prescriptions/{rx_id}", json={"quantity": 60}, headers={**admin, "Idempotency-Key": "rx-key-0002"}
    )
    assert changed.status_code == 200
    assert client.get(f"/api/v1/prescriptions/{rx_id}", headers=admin).json()["days_supply"] == 60
    submitted = client.post(
        f"/api/v1/prescriptions/{rx_id}/submit", headers={**admin, "Idempotency-Key": "rx-key-0003"}
    )
    assert submitted.json()["status"] == "verification"
    review = client.get(f"/api/v1/prescriptions/{rx_id}/review", headers=admin)
    assert review.status_code == 200 and review.json()["prescription"]["id"] == rx_id
    # A verification is a pharmacist's signed act: no token may do it.
    verify = client.post(
        f"/api/v1/prescriptions/{rx_id}/verify",
        json={"signature_id": rx_id},
        headers={**admin, "Idempotency-Key": "rx-key-0004"},
    )
    assert verify.status_code == 403
    held = client.post(
        f"/api/v1/prescriptions/{rx_id}/hold", json={"reason": "x"}, headers={**admin, "Idempotency-Key": "rx-key-0005"}
    )
    assert held.status_code == 422 and held.json()["field"] == "reason"
    held = client.post(
        f"/api/v1/prescriptions/{rx_id}/hold",
        json={"reason": "insurance prior auth"},
        headers={**admin, "Idempotency-Key": "rx-key-0006"},
    )
    assert held.json()["status"] == "on_hold"
    queue = client.get("/api/v1/prescriptions", params={"branch_id": str(chain.branch_ids[0])}, headers=admin).json()
    assert queue["counts"]["on_hold"] == 1 and [i["id"] for i in queue["items"]] == [rx_id]
    resumed = client.post(f"/api/v1/prescriptions/{rx_id}/resume", headers={**admin, "Idempotency-Key": "rx-key-0007"})
    assert resumed.json()["status"] == "verification"
    cancelled = client.post(
        f"/api/v1/prescriptions/{rx_id}/cancel",
        json={"reason": "patient declined"},
        headers={**admin, "Idempotency-Key": "rx-key-0008"},
    )
    assert cancelled.json()["status"] == "cancelled"
    refused = client.post(
        f"/api/v1/prescriptions/{rx_id}/cancel",
        json={"reason": "patient declined again"},
        headers={**admin, "Idempotency-Key": "rx-key-0009"},
    )
    assert refused.status_code == 409

    other, _ = committed_tenant("rx-api-other", branches=1)
    assert client.get(f"/api/v1/prescriptions/{rx_id}", headers=auth(other, "admin")).status_code == 404


def test_an_original_uploaded_over_rest_is_checked_stored_once_and_queued_for_ocr(client, committed_tenant):
    import base64
    import io

    from PIL import Image

    chain, _ = committed_tenant("rx-api-image", branches=1)
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    patient = run_in_tenant(
        owner,
        create_patient,
        full_name="Image Patient",
        date_of_birth="1950-01-01",
        home_branch_id=str(chain.branch_ids[0]),
    ).id
    admin = auth(chain, "admin")
    rx = client.post(
        "/api/v1/prescriptions",
        json={"branch_id": str(chain.branch_ids[0]), "patient_id": patient, "source": "walk_in"},
        headers={**admin, "Idempotency-Key": "rx-image-0001"},
    ).json()
    not_a_picture = base64.b64encode(b"MZ\x90\x00 renamed.png").decode()
    refused = client.post(
        "/api/v1/prescriptions/images",
        json={"prescription_id": rx["id"], "image_base64": not_a_picture},
        headers={**admin, "Idempotency-Key": "rx-image-0002"},
    )
    assert refused.status_code == 422 and "not a JPEG, PNG or PDF" in refused.json()["message"]
    assert client.get(f"/api/v1/prescriptions/{rx['id']}/reading", headers=admin).status_code == 404

    out = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(out, format="PNG")
    body = {"prescription_id": rx["id"], "image_base64": base64.b64encode(out.getvalue()).decode()}
    read_only = client.post(
        "/api/v1/prescriptions/images", json=body, headers={**auth(chain, "read"), "Idempotency-Key": "rx-image-0003"}
    )
    assert read_only.status_code == 403
    stored = client.post(
        "/api/v1/prescriptions/images", json=body, headers={**admin, "Idempotency-Key": "rx-image-0004"}
    )
    assert stored.status_code == 201, stored.text
    assert stored.json() == {"id": rx["id"], "rx_number": rx["rx_number"], "status": "intake", "reading": "queued"}
    again = client.post(
        "/api/v1/prescriptions/images", json=body, headers={**admin, "Idempotency-Key": "rx-image-0004"}
    )
    assert again.headers["Idempotent-Replayed"] == "true"
    found = client.get(f"/api/v1/prescriptions/{rx['id']}/reading", headers=admin).json()
    assert found["status"] == "queued" and found["fields"] == [] and (found["width"], found["height"]) == (60, 40)
    early = client.post(
        f"/api/v1/prescriptions/{rx['id']}/reading/confirm",
        json={"fields": {}},
        headers={**admin, "Idempotency-Key": "rx-image-0005"},
    )
    assert early.status_code == 409 and "not been read yet" in early.json()["message"]
    report = client.get("/api/v1/prescriptions/readings/report", headers=admin).json()
    assert {r["field"] for r in report} >= {"drug", "quantity"} and all(r["confirmed"] == 0 for r in report)

    other, _ = committed_tenant("rx-api-image-other", branches=1)
    assert client.get(f"/api/v1/prescriptions/{rx['id']}/reading", headers=auth(other, "admin")).status_code == 404
