"""REST refills, renewals, transfers and unclaimed fills with real tokens: an idempotent refill (201 with the
fill), a renewal request (200), the lists, and transfers and returns refused to every token (a pharmacist's
own acts)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.api import create_api
from backend.core import database
from backend.prescriptions import fills
from tests.backend.prescriptions.conftest import stock
from tests.backend.prescriptions.test_api import auth
from tests.backend.prescriptions.test_fills import receive


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def checked_long_ago(pharmacy, refills_authorized: str, days: int = 30):
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", days_supply="30", refills_authorized=refills_authorized)
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    with database.owner_engine().begin() as owner:
        owner.execute(
            text(
                "UPDATE prescription_fills SET status = 'checked', scanned_barcode = '00000000', "
                "filled_at = now() - make_interval(days => :d), checked_at = now() - make_interval(days => :d) "
                "WHERE id = :f"
            ),
            {"d": days, "f": done.id},
        )
        owner.execute(text("UPDATE prescriptions SET status = 'ready_for_pickup' WHERE id = :p"), {"p": rx.id})
    return rx, done


def test_refills_renewals_and_unclaimed_fills_through_rest(client, committed_tenant):
    chain, _ = committed_tenant("rx-refill-api", branches=2)
    pharmacy = stock(chain)
    receive(pharmacy, "lisinopril", "REST-LOT", 200)
    rx, first = checked_long_ago(pharmacy, "2")
    spent, _ = checked_long_ago(pharmacy, "0")
    admin, read = auth(chain, "admin"), auth(chain, "read")

    url = f"/api/v1/prescriptions/{rx.id}/refills"
    done = client.post(url, json={"source": "phone"}, headers={**admin, "Idempotency-Key": "refill-0001"})
    assert done.status_code == 201, done.text
    assert done.json()["outcome"] == "filled" and done.json()["fill"]["code"] == f"{rx.rx_number}-1-1"
    again = client.post(url, json={"source": "phone"}, headers={**admin, "Idempotency-Key": "refill-0001"})
    assert again.json() == done.json() and again.headers["Idempotent-Replayed"] == "true"
    bad = client.post(url, json={"source": "email"}, headers={**admin, "Idempotency-Key": "refill-0002"})
    assert bad.status_code == 422

    renewal = client.post(
        f"/api/v1/prescriptions/{spent.id}/refills", json={}, headers={**admin, "Idempotency-Key": "refill-0003"}
    )
    assert renewal.status_code == 200 and renewal.json()["outcome"] == "renewal_requested"
    assert "No refills left" in renewal.json()["message"]
    listed = client.get(f"/api/v1/branches/{pharmacy.branch}/renewal-requests", headers=admin)
    assert [r["rx_number"] for r in listed.json()] == [spent.rx_number]
    assert client.get(f"/api/v1/branches/{pharmacy.branch}/renewal-requests", headers=read).status_code == 403

    waiting = client.get(f"/api/v1/branches/{pharmacy.branch}/unclaimed-fills", headers=admin).json()
    assert waiting["unclaimed_days"] == 14
    assert sorted(f["code"] for f in waiting["fills"]) == sorted([first.code, f"{spent.rx_number}-0-1"])

    # A read-only token may not ask for a refill; no token transfers or returns to stock.
    refused = client.post(url, json={}, headers={**read, "Idempotency-Key": "refill-0004"})
    assert refused.status_code == 403
    transfer = client.post(
        f"/api/v1/prescriptions/{rx.id}/transfers",
        json={"branch_id": pharmacy.other_branch},
        headers={**admin, "Idempotency-Key": "transfer-0001"},
    )
    assert transfer.status_code == 403
    back = client.post(f"/api/v1/fills/{first.id}/return-to-stock", headers={**admin, "Idempotency-Key": "return-0001"})
    assert back.status_code == 403


def test_the_prescribers_answer_to_a_renewal_through_rest(client, committed_tenant):
    chain, _ = committed_tenant("rx-renew-api", branches=2)
    pharmacy = stock(chain)
    receive(pharmacy, "lisinopril", "REN-LOT", 200)
    spent, _ = checked_long_ago(pharmacy, "0")
    other, _ = checked_long_ago(pharmacy, "0")
    admin, write = auth(chain, "admin"), auth(chain, "write")
    asked = [
        client.post(
            f"/api/v1/prescriptions/{rx.id}/refills", json={}, headers={**admin, "Idempotency-Key": f"renew-ask-000{n}"}
        )
        for n, rx in enumerate((spent, other))
    ]
    first, second = (a.json()["renewal"]["id"] for a in asked)

    url = f"/api/v1/renewal-requests/{first}/answer"
    body = {"decision": "approved", "quantity": 90, "refills": 3}
    refused = client.post(url, json=body, headers={**write, "Idempotency-Key": "answer-0001"})
    assert refused.status_code == 403  # a write token does not answer for the prescriber
    done = client.post(url, json=body, headers={**admin, "Idempotency-Key": "answer-0002"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "approved" and done.json()["renewed_as_rx"] != spent.rx_number
    again = client.post(url, json=body, headers={**admin, "Idempotency-Key": "answer-0002"})
    assert again.json() == done.json() and again.headers["Idempotent-Replayed"] == "true"
    twice = client.post(url, json=body, headers={**admin, "Idempotency-Key": "answer-0003"})
    assert twice.status_code == 409
    new = client.get(f"/api/v1/prescriptions/{done.json()['renewed_as']}", headers=admin).json()
    assert (new["status"], new["quantity"], new["refills_authorized"]) == ("verification", 90, 3)

    denied_url = f"/api/v1/renewal-requests/{second}/answer"
    no_reason = client.post(
        denied_url, json={"decision": "denied"}, headers={**admin, "Idempotency-Key": "renew-deny-0001"}
    )
    assert no_reason.status_code == 422
    denied = client.post(
        denied_url,
        json={"decision": "denied", "reason": "Therapy stopped at last visit"},
        headers={**admin, "Idempotency-Key": "renew-deny-0002"},
    )
    assert denied.status_code == 200 and denied.json()["status"] == "denied"
    listed = client.get(f"/api/v1/branches/{pharmacy.branch}/renewal-requests?status=denied", headers=admin).json()
    assert [(r["rx_number"], r["answer_reason"]) for r in listed] == [
        (other.rx_number, "Therapy stopped at last visit")
    ]
