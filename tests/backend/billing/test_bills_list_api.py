"""GET /api/v1/bills with real API tokens: the page's filters and cursor over REST, clear 422s for bad
filters, the patient filter's permission, and another chain's bills and branches never reachable."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from backend.accounts.api_tokens import create_token
from backend.api import create_api
from backend.billing.bills.service import create_draft, finalize_bill
from backend.billing.payments.service import record_payment
from backend.patients.service import create_patient
from tenants.session import run_in_tenant
from tests.backend.billing.conftest import stock_up
from tests.backend.billing.reporting import clock_at

URL = "/api/v1/bills"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def sale(counter, quantity: int, when: str, *, patient: str | None = None, pay: bool = True):
    draft = run_in_tenant(
        counter.owner,
        create_draft,
        branch_id=counter.branch,
        lines=[{"medicine_id": counter.vitamin_d, "quantity": quantity}],  # 6.00 a unit, zero-rated
        patient_id=patient,
    )
    with clock_at(datetime.fromisoformat(when).replace(tzinfo=UTC)):
        bill = run_in_tenant(counter.owner, finalize_bill, draft.id)
    if pay:
        run_in_tenant(counter.owner, record_payment, bill_id=bill.id, tendered=str(bill.total_due))
    return bill


@pytest.fixture
def shop(committed_tenant):
    chain, _ = committed_tenant("bills-list-api", branches=2)
    counter = stock_up(chain)
    tokens = {scope: create_token(counter.owner, f"{scope} list", [scope]).token for scope in ("read", "admin")}
    return counter, {scope: {"Authorization": f"Bearer {token}"} for scope, token in tokens.items()}


def test_filters_and_pages_over_rest(client, shop):
    counter, auth = shop
    bills = [sale(counter, q, f"2026-03-1{q} 15:00:00", pay=q != 3) for q in (1, 2, 3)]  # 6.00, 12.00, 18.00

    first = client.get(URL, params={"limit": "2"}, headers=auth["read"])
    assert first.status_code == 200, first.text
    body = first.json()
    assert [i["number"] for i in body["items"]] == ["B1-2026-000003", "B1-2026-000002"]
    assert (body["total"], body["total_capped"], body["sort"]) == (3, False, "newest")
    newest = body["items"][0]
    assert (newest["status"], newest["status_label"], newest["total_due"], newest["outstanding"]) == (
        "finalized",
        "Unpaid",
        "18.00",  # money is a decimal string at the currency's minor unit, never a float
        "18.00",
    )
    assert newest["branch_code"] == "B1" and newest["time_zone"] == "UTC" and newest["patient_name"] is None
    rest = client.get(URL, params={"limit": "2", "after": body["next_cursor"]}, headers=auth["read"]).json()
    assert [i["id"] for i in rest["items"]] == [bills[0].id] and rest["next_cursor"] is None and rest["total"] is None

    def ids(**params) -> list[str]:
        answer = client.get(URL, params=params, headers=auth["read"])
        assert answer.status_code == 200, answer.text
        return [i["id"] for i in answer.json()["items"]]

    assert ids(number="b1-2026-000002") == [bills[1].id]
    assert ids(start="2026-03-12", end="2026-03-13") == [bills[2].id, bills[1].id]
    assert ids(branch=counter.branch, start="2026-03-11", end="2026-03-11") == [bills[0].id]
    assert ids(branch=counter.other_branch) == []
    assert ids(amount="12.00") == [bills[1].id]
    assert ids(min_amount="10", max_amount="20") == [bills[2].id, bills[1].id]
    assert ids(status="unpaid") == [bills[2].id]
    assert ids(status="paid,refunded", sort="highest") == [bills[1].id, bills[0].id]
    assert ids(sort="lowest") == [b.id for b in bills]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2026-02-30"}, "start", "YYYY-MM-DD"),
        ({"start": "2026-03-12", "end": "2026-03-11"}, "end", "before the start"),
        ({"amount": "ten"}, "amount", "amount such as"),
        ({"min_amount": "5", "max_amount": "1"}, "max_amount", "below the smallest"),
        ({"status": "sold"}, "status", "Unknown status"),
        ({"sort": "random"}, "sort", "Sort by"),
        ({"limit": "1000"}, "limit", "1 to 100"),
        ({"after": "not-a-cursor"}, "after", "out of date"),
        ({"number": "B1_2026"}, "number", "letters, digits and hyphens"),
    ],
)
def test_a_bad_filter_is_a_clear_422(client, shop, params, field, message):
    _, auth = shop
    answer = client.get(URL, params=params, headers=auth["read"])
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "invalid" and body["field"] == field and message in body["message"]
    assert "Traceback" not in answer.text


def test_patient_filter_needs_the_record_permission(client, shop):
    counter, auth = shop
    maria = run_in_tenant(
        counter.owner,
        create_patient,
        full_name="Maria Example",
        date_of_birth="1961-04-12",
        home_branch_id=counter.branch,
    )
    bought = sale(counter, 1, "2026-03-11 10:00:00", patient=maria.id)
    sale(counter, 2, "2026-03-11 11:00:00")

    listed = client.get(URL, params={"patient": maria.id}, headers=auth["admin"])
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert [i["id"] for i in body["items"]] == [bought.id] and body["patient_name"] == "Maria Example"
    assert body["items"][0]["patient_name"] == "Maria Example"
    by_name = client.get(URL, params={"patient_name": "example"}, headers=auth["admin"]).json()
    assert [i["id"] for i in by_name["items"]] == [bought.id]
    # A read token looks patients up but does not open records: no purchase history.
    assert client.get(URL, params={"patient": maria.id}, headers=auth["read"]).status_code == 403
    names = {i["patient_name"] for i in client.get(URL, headers=auth["read"]).json()["items"]}
    assert names == {"Maria Example", None}


def test_tokens_and_other_chains(client, shop, committed_tenant):
    counter, auth = shop
    mine = sale(counter, 1, "2026-03-11 10:00:00")
    rival_chain, _ = committed_tenant("bills-list-rival", branches=2)
    rival = stock_up(rival_chain)
    theirs = sale(rival, 1, "2026-03-11 10:00:00")
    assert theirs.number == mine.number  # the same branch codes and numbers in both chains
    rival_token = create_token(rival.owner, "rival", ["read"]).token

    assert [i["id"] for i in client.get(URL, headers=auth["read"]).json()["items"]] == [mine.id]
    rival_view = client.get(URL, params={"number": mine.number}, headers={"Authorization": f"Bearer {rival_token}"})
    assert [i["id"] for i in rival_view.json()["items"]] == [theirs.id]
    other_branch = client.get(URL, params={"branch": rival.branch}, headers=auth["read"])
    assert other_branch.status_code == 404 and other_branch.json()["message"] == "No such branch."
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers={"Authorization": "Bearer phs_nope"}).status_code == 401
