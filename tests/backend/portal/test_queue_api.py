"""The portal requests queue through REST with real tokens: the list with the customer's note, an idempotent
accept (the fill), a denial refused without a reason and then made, and a read token refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.api import create_api
from tests.backend.portal.test_queue import ask
from tests.backend.prescriptions.conftest import stock
from tests.backend.prescriptions.test_api import auth
from tests.backend.prescriptions.test_fills import receive
from tests.backend.prescriptions.test_refills_api import checked_long_ago


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def test_the_queue_through_rest(client, committed_tenant):
    chain, _ = committed_tenant("portal-api", branches=2)
    pharmacy = stock(chain)
    receive(pharmacy, "lisinopril", "PQ-LOT", 200)
    rx, _ = checked_long_ago(pharmacy, "2")
    other, _ = checked_long_ago(pharmacy, "2")
    first = ask(pharmacy, rx.rx_number, "Friday please")
    second = ask(pharmacy, other.rx_number)
    admin, read = auth(chain, "admin"), auth(chain, "read")

    listed = client.get(f"/api/v1/portal-requests?branch={pharmacy.branch}", headers=admin)
    assert listed.status_code == 200, listed.text
    assert [(r["id"], r["note"], r["status"]) for r in listed.json()["open"]] == [
        (first, "Friday please", "pending"), (second, "", "pending"),
    ]  # fmt: skip
    assert client.get(f"/api/v1/portal-requests?branch={pharmacy.branch}", headers=read).status_code == 403

    url = f"/api/v1/portal-requests/{first}/accept"
    done = client.post(url, headers={**admin, "Idempotency-Key": "portal-accept-1"})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["fill_code"]) == ("accepted", f"{rx.rx_number}-1-1")
    again = client.post(url, headers={**admin, "Idempotency-Key": "portal-accept-1"})
    assert again.json() == done.json()

    deny = f"/api/v1/portal-requests/{second}/deny"
    empty = client.post(deny, json={"reason": " "}, headers={**admin, "Idempotency-Key": "portal-deny-1"})
    assert empty.status_code == 422 and "reason" in empty.text
    made = client.post(deny, json={"reason": "Moved away"}, headers={**admin, "Idempotency-Key": "portal-deny-2"})
    assert made.status_code == 200 and made.json()["status"] == "denied"
    refused = client.post(deny, json={"reason": "x"}, headers={**read, "Idempotency-Key": "portal-deny-3"})
    assert refused.status_code == 403
    decided = client.get(f"/api/v1/portal-requests?branch={pharmacy.branch}", headers=admin).json()
    assert decided["open"] == [] and {r["id"] for r in decided["decided"]} == {first, second}
