"""REST pickup with real tokens: a checked fill on a bill, finalize with the pickup (idempotent), and the
fill's claim and pickup in GET /fills/{id}; refusals write nothing."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.accounts.signatures import sign
from backend.api import create_api
from backend.billing.claims import service as claims
from backend.prescriptions import fills
from tests.backend.prescriptions.conftest import stock
from tests.backend.prescriptions.test_api import auth
from tests.backend.prescriptions.test_fills import receive
from tests.backend.prescriptions.test_pickup import PASSWORD, member, png


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def test_pickup_through_rest(client, committed_tenant):
    chain, _ = committed_tenant("rx-pickup-api", branches=2)
    pharmacy = stock(chain)
    pharmacist, _ = member(pharmacy, "pharmacist")
    receive(pharmacy, "lisinopril", "API-LOT", 40)
    patient = pharmacy.patient("Ana Api")
    payer = pharmacy.run(pharmacy.owner, claims.create_payer, name="Gamma Plan", payer_code="GAMMA")
    pharmacy.run(
        pharmacy.owner, claims.add_coverage, patient_id=patient, payer_id=payer.id, member_id="G-1", copay="3.00"
    )
    rx = pharmacy.on_profile(patient, "lisinopril", quantity="30")
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    admin, read = auth(chain, "admin"), auth(chain, "read")

    # Not checked yet: refused, and no bill is opened.
    early = client.post(
        "/api/v1/bills",
        json={"branch_id": pharmacy.branch, "lines": [{"fill_id": done.id}]},
        headers={**admin, "Idempotency-Key": "pickup-bill-0"},
    )
    assert early.status_code == 409 and "final check" in early.json()["message"]

    pharmacy.run(pharmacy.owner, _barcode, pharmacy.medicines["lisinopril"])
    pharmacy.run(pharmacy.pharmacist, fills.final_check, done.id, "00093711101")
    bill = client.post(
        "/api/v1/bills",
        json={"branch_id": pharmacy.branch, "lines": [{"fill_id": done.id}]},
        headers={**admin, "Idempotency-Key": "pickup-bill-1"},
    )
    assert bill.status_code == 201, bill.text
    assert bill.json()["total_due"] == "3.00" and bill.json()["lines"][0]["fill_id"] == done.id
    url = f"/api/v1/bills/{bill.json()['id']}/finalize"

    missing = client.post(url, headers={**admin, "Idempotency-Key": "pickup-fin-0"})
    assert missing.status_code == 422 and "record the pickup" in missing.json()["message"]

    signature = sign(
        pharmacist,
        password=PASSWORD,
        meaning="offered to counsel the patient",
        entity_type="bill",
        entity_id=bill.json()["id"],
    )
    body = {
        "pickup": {
            "picked_up_by": "patient",
            "picked_up_by_name": "Ana Api",
            "counselling": "declined",
            "counsel_signature_id": signature,
            "signature_png": "data:image/png;base64," + base64.b64encode(png()).decode(),
        }
    }
    assert client.post(url, json=body, headers={**read, "Idempotency-Key": "pickup-fin-1"}).status_code == 403
    issued = client.post(url, json=body, headers={**admin, "Idempotency-Key": "pickup-fin-2"})
    assert issued.status_code == 200, issued.text
    again = client.post(url, json=body, headers={**admin, "Idempotency-Key": "pickup-fin-2"})
    assert again.json() == issued.json() and again.headers["Idempotent-Replayed"] == "true"

    shown = client.get(f"/api/v1/fills/{done.id}", headers=admin)
    assert shown.status_code == 200, shown.text
    assert shown.json()["status"] == "picked_up"
    assert shown.json()["claim"]["status"] == "approved" and shown.json()["claim"]["patient_pays"] == "3.00"
    assert shown.json()["pickup"]["counselling"] == "declined"
    assert shown.json()["pickup"]["counselled_by"] == "Pharmacist Member"
    assert client.get(f"/api/v1/fills/{done.id}", headers=read).status_code == 403


def _barcode(session, ctx, medicine_id):
    session.execute(text("UPDATE medicines SET barcode = '00093711101' WHERE id = :m"), {"m": medicine_id})
