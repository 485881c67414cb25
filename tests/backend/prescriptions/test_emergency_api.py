"""REST emergency supply with real tokens: an admin token sends it with a pharmacist's fresh signature
(idempotent); a write token, a cashier's signature or none are refused and nothing is written. The bill
API's reference and override follow the chain's counter rule (tests/backend/billing/test_api.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.accounts.signatures import sign
from backend.api import create_api
from tests.backend.prescriptions.conftest import stock
from tests.backend.prescriptions.test_api import auth
from tests.backend.prescriptions.test_fills import receive
from tests.backend.prescriptions.test_pickup import PASSWORD, member


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def _barcode(session, ctx, medicine_id: str) -> None:
    session.execute(text("UPDATE medicines SET barcode = '00093711101' WHERE id = :m"), {"m": medicine_id})


def test_an_emergency_supply_through_rest(client, committed_tenant):
    chain, _ = committed_tenant("rx-emergency-api", branches=2)
    pharmacy = stock(chain)
    pharmacist, _ = member(pharmacy, "pharmacist")
    cashier, _ = member(pharmacy, "cashier")
    receive(pharmacy, "lisinopril", "EMG-LOT", 40)
    pharmacy.run(pharmacy.owner, _barcode, pharmacy.medicines["lisinopril"])
    patient = pharmacy.patient("Rhea Rest")
    admin, write = auth(chain, "admin"), auth(chain, "write")

    def signed(by) -> str:
        return sign(
            by,
            password=PASSWORD,
            meaning="supplied lisinopril as an emergency supply",
            entity_type="emergency_supply",
            entity_id=patient,
        )

    body = {
        "branch_id": pharmacy.branch,
        "patient_id": patient,
        "medicine_id": pharmacy.medicines["lisinopril"],
        "quantity": 6,
        "days_supply": 3,
        "sig": "1 tab po bid",
        "reason": "usual medicine, surgery closed until Monday",
        "barcode": "00093711101",
    }
    url = "/api/v1/emergency-supplies"
    token = client.post(
        url, json={**body, "signature_id": signed(pharmacist)}, headers={**write, "Idempotency-Key": "emergency-0"}
    )
    assert token.status_code == 403  # a write token never records one
    for signature, key in (("", "emergency-1"), (signed(cashier), "emergency-2")):
        refused = client.post(url, json={**body, "signature_id": signature}, headers={**admin, "Idempotency-Key": key})
        assert refused.status_code == 403 and refused.json()["field"] == "signature_id", refused.json()
    over = client.post(
        url,
        json={**body, "days_supply": 4, "signature_id": signed(pharmacist)},
        headers={**admin, "Idempotency-Key": "emergency-3"},
    )
    assert over.status_code == 422 and over.json()["field"] == "days_supply"

    signature = signed(pharmacist)
    made = client.post(
        url, json={**body, "signature_id": signature}, headers={**admin, "Idempotency-Key": "emergency-4"}
    )
    assert made.status_code == 201, made.text
    assert set(made.json()) == {"prescription_id", "rx_number", "fill_id", "fill_code", "quantity", "days_supply"}
    again = client.post(
        url, json={**body, "signature_id": signature}, headers={**admin, "Idempotency-Key": "emergency-4"}
    )
    assert again.json() == made.json() and again.headers["Idempotent-Replayed"] == "true"
    record = client.get(f"/api/v1/prescriptions/{made.json()['prescription_id']}", headers=admin).json()
    assert record["source"] == "emergency_supply" and record["status"] == "ready_for_pickup"
    assert record["prescriber_id"] is None and record["refills_authorized"] == 0

    # Its fill goes on a bill like any fill.
    bill = client.post(
        "/api/v1/bills",
        json={"branch_id": pharmacy.branch, "lines": [{"fill_id": made.json()["fill_id"]}]},
        headers={**admin, "Idempotency-Key": "emergency-bill"},
    )
    assert bill.status_code == 201 and bill.json()["lines"][0]["prescription_ref"] == made.json()["fill_code"]
