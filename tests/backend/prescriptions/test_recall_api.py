"""REST recall trace with real tokens: GET /api/v1/lots/{lot}/patients lists who received the lot,
asks for medicine_id when makers share the number, and refuses tokens without the permission."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.api import create_api
from backend.core import database
from tests.backend.prescriptions.conftest import stock
from tests.backend.prescriptions.test_api import auth
from tests.backend.prescriptions.test_recall import recalled_chain


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def test_the_patients_who_received_a_lot_through_rest(client, committed_tenant):
    chain, _ = committed_tenant("rx-recall-api", branches=2)
    recalled = recalled_chain(stock(chain))
    lisinopril = recalled.pharmacy.medicines["lisinopril"]
    admin = auth(chain, "admin")

    listed = client.get("/api/v1/lots/A-100/patients", params={"medicine_id": lisinopril}, headers=admin)

    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [(r["patient_name"], r["kind"], r["reference"], r["quantity"]) for r in body] == [
        ("Ann Archer", "fill", recalled.fill_codes["Ann Archer"], 30),
        ("Ben Baker", "fill", recalled.fill_codes["Ben Baker"], 30),
    ]
    assert set(body[0]) >= {
        "patient_id", "patient_name", "date_of_birth", "phone", "email", "contact_consent", "record_id",
        "received_at", "branch_id", "branch", "lot_number", "medicine", "status",
    }  # fmt: skip
    assert body[0]["patient_id"] == recalled.ann and body[0]["date_of_birth"] == "1960-05-01"
    with database.owner_engine().connect() as connection:
        logged = connection.execute(
            text("SELECT count(*) FROM patient_access_log WHERE tenant_id = :t AND reason = 'recall trace'"),
            {"t": chain.tenant_id},
        ).scalar_one()
    assert logged == 2

    # Lot B is one medicine's: no medicine_id needed.
    only_b = client.get("/api/v1/lots/B-200/patients", headers=admin)
    assert [r["patient_name"] for r in only_b.json()] == ["Cy Cole"]
    # Two makers number a lot A-100: the caller is told which, and nobody is listed.
    ambiguous = client.get("/api/v1/lots/A-100/patients", headers=admin)
    assert ambiguous.status_code == 422
    assert "Cetirizine 10 mg, Zyrtec" in ambiguous.json()["message"] and lisinopril in ambiguous.json()["message"]
    unknown = client.get("/api/v1/lots/NO-SUCH/patients", headers=admin)
    assert unknown.status_code == 404 and "No lot NO-SUCH" in unknown.json()["message"]
    # A read or write token holds no health data.
    for scope in ("read", "write"):
        refused = client.get("/api/v1/lots/B-200/patients", headers=auth(chain, scope))
        assert refused.status_code == 403
