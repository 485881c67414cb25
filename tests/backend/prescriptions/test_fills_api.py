"""REST filling with real tokens: an idempotent fill, the fills with their lots, the label PDF, and refusals."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.api import create_api
from tests.backend.prescriptions.conftest import stock
from tests.backend.prescriptions.test_api import auth
from tests.backend.prescriptions.test_fills import receive


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def test_fill_and_label_through_rest(client, committed_tenant):
    chain, _ = committed_tenant("rx-fill-api", branches=2)
    pharmacy = stock(chain)
    receive(pharmacy, "lisinopril", "REST-LOT", 20)
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30")
    admin, read = auth(chain, "admin"), auth(chain, "read")
    url = f"/api/v1/prescriptions/{rx.id}/fills"

    short = client.post(url, json={}, headers={**admin, "Idempotency-Key": "fill-0001"})
    assert short.status_code == 409 and "Only 20 in stock" in short.json()["message"]
    done = client.post(url, json={"partial": True}, headers={**admin, "Idempotency-Key": "fill-0002"})
    assert done.status_code == 201, done.text
    assert done.json()["quantity"] == 20 and done.json()["owed_after"] == 10
    again = client.post(url, json={"partial": True}, headers={**admin, "Idempotency-Key": "fill-0002"})
    assert again.json() == done.json() and again.headers["Idempotent-Replayed"] == "true"

    listed = client.get(url, headers=admin)
    assert [(f["code"], [lot["lot_number"] for lot in f["lots"]]) for f in listed.json()] == [
        (done.json()["code"], ["REST-LOT"])
    ]
    pdf = client.get(f"/api/v1/fills/{done.json()['id']}/label.pdf", headers=admin)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    # A read-only token may not fill (nor read prescriptions: health data is for admin tokens).
    refused = client.post(url, json={}, headers={**read, "Idempotency-Key": "fill-0003"})
    assert refused.status_code == 403

    # The final check is a pharmacist's act: no API token does it.
    token_check = client.post(
        f"/api/v1/fills/{done.json()['id']}/check",
        json={"barcode": "00093711101"},
        headers={**admin, "Idempotency-Key": "check-0001"},
    )
    assert token_check.status_code == 403
