"""POST /api/v1/portal/{slug}/refill-requests: every well-formed request gets the same status, body, headers
and (with the response floor) time, whether its details name a prescription or not; brute force of a date of
birth is slowed down per Rx number from any IP; malformed input is refused naming the field, echoing nothing
and writing nothing; cookies mean nothing; a busy hour is only a soft alert for the owner."""

from __future__ import annotations

import statistics
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.api import create_api
from backend.core.queue import redis_connection
from backend.portal.chains import chain_for_slug
from backend.portal.refill_form import volume_alerts
from tests.backend.prescriptions.conftest import stock

BORN, SURNAME = "1971-03-09", "O'Brien"


@pytest.fixture
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


@pytest.fixture
def label(pharmacy):
    """A prescription of the chain as its label shows it."""
    rx = pharmacy.entered(pharmacy.patient("Zoë O'Brien", born=BORN), "lisinopril")
    return {"rx_number": rx.rx_number, "date_of_birth": BORN, "last_name": SURNAME}


def _url(pharmacy) -> str:
    return f"/api/v1/portal/{pharmacy.chain.slug}/refill-requests"


def _requests(db, pharmacy) -> list:
    db.execute(text("RESET ROLE"))
    return db.execute(
        text("SELECT source, status FROM portal_refill_requests WHERE tenant_id = :t"), {"t": pharmacy.chain.tenant_id}
    ).all()


def _cases(pharmacy, make_tenant, label) -> dict[str, dict]:
    other = stock(make_tenant("other", branches=2))
    for _ in range(3):  # the other chain's number is one this chain has not given out
        theirs = other.entered(other.patient("Ada Lovelace", born="1980-12-10"), "lisinopril")
    return {
        "matched": label,
        "wrong birth date": {**label, "date_of_birth": "1971-03-10"},
        "no such number": {**label, "rx_number": "B9-999999"},
        "another chain's": {"rx_number": theirs.rx_number, "date_of_birth": "1980-12-10", "last_name": "Lovelace"},
    }


def _shape(response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k not in {"date", "x-request-id"}}
    return response.status_code, response.content, tuple(sorted(headers.items()))


def test_every_well_formed_request_gets_the_same_answer(pharmacy, make_tenant, label, client, db, portal_settings):
    portal_settings(PORTAL_RESPONSE_FLOOR_MS=50)
    cases = _cases(pharmacy, make_tenant, label)
    answers = {name: client.post(_url(pharmacy), json=body) for name, body in cases.items()}
    shapes = {name: _shape(answer) for name, answer in answers.items()}
    assert len(set(shapes.values())) == 1, shapes
    assert answers["matched"].status_code == 202
    assert answers["matched"].json() == {
        "message": f"If these details match a prescription at {chain_for_slug(pharmacy.chain.slug).name}, "
        "the pharmacy will contact you at the phone or e-mail on file."
    }
    assert "set-cookie" not in answers["matched"].headers
    assert [r.source for r in _requests(db, pharmacy)] == ["portal_api"]  # only the matched one is in the queue


def test_matched_and_unmatched_requests_take_the_same_time(pharmacy, make_tenant, label, client, portal_settings):
    portal_settings(PORTAL_RESPONSE_FLOOR_MS=150, PORTAL_FREE_TRIES_PER_IP=10_000, PORTAL_FREE_TRIES_PER_SUBJECT=10_000)
    cases = _cases(pharmacy, make_tenant, label)
    for body in cases.values():  # warm every path once
        client.post(_url(pharmacy), json=body)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(50):
        for name, body in cases.items():  # interleaved, so drifts of the machine hit every case alike
            started = time.perf_counter()
            assert client.post(_url(pharmacy), json=body).status_code == 202
            times[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(t) for name, t in times.items()}
    assert min(medians.values()) >= 0.15
    assert max(medians.values()) <= 1.2 * min(medians.values()), medians


def test_guessing_a_birth_date_is_slowed_down_per_rx_number_from_any_ip(pharmacy, label, client, portal_settings):
    portal_settings(PORTAL_RESPONSE_FLOOR_MS=0, PORTAL_FREE_TRIES_PER_SUBJECT=3, TRUSTED_PROXY_HOPS=1)
    guesses = [f"1971-03-{day:02d}" for day in range(10, 28)]
    answers = [
        client.post(_url(pharmacy), json={**label, "date_of_birth": dob}, headers={"X-Forwarded-For": "198.51.100.7"})
        for dob in guesses[:4]
    ]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    limited = answers[-1]
    assert limited.headers["retry-after"] == "1" and limited.json()["error"] == "rate_limited"
    assert "Try again in 1 second" in limited.json()["message"]
    elsewhere = client.post(_url(pharmacy), json=label, headers={"X-Forwarded-For": "203.0.113.9"})
    assert elsewhere.status_code == 429  # another IP: the Rx number's own limit holds
    other_number = client.post(_url(pharmacy), json={**label, "rx_number": "B1-777777"})
    assert other_number.status_code == 202
    waits = []
    for dob in guesses[4:8]:
        _wait_over()
        assert client.post(_url(pharmacy), json={**label, "date_of_birth": dob}).status_code == 202
        waits.append(int(client.post(_url(pharmacy), json=label).headers["retry-after"]))
    assert waits == [2, 4, 8, 16]  # each later try waits longer


def _wait_over() -> None:
    redis = redis_connection()
    for key in redis.keys("portal:*:wait"):
        redis.delete(key)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rx_number": ""}, "rx_number"),
        ({"rx_number": "B1 <script>"}, "rx_number"),
        ({"date_of_birth": "09/03/1971"}, "date_of_birth"),
        ({"date_of_birth": "1971-02-30"}, "date_of_birth"),
        ({"date_of_birth": "1871-03-09"}, "date_of_birth"),
        ({"date_of_birth": "2999-03-09"}, "date_of_birth"),
        ({"last_name": "  "}, "last_name"),
        ({"last_name": "Robert'); DROP TABLE x;--"}, "last_name"),
        ({"branch_id": "the big one"}, "branch_id"),
        ({"note": "n" * 501}, "note"),
    ],
)
def test_a_malformed_field_is_named_and_nothing_is_written(pharmacy, label, client, db, portal_settings, change, field):
    portal_settings()
    answer = client.post(_url(pharmacy), json={**label, **change})
    assert answer.status_code == 422 and answer.json()["field"] == field
    assert label["rx_number"] not in answer.text and "Brien" not in answer.text  # nothing echoed
    assert _requests(db, pharmacy) == [] and redis_connection().keys("portal:*") == []


def test_a_body_of_the_wrong_shape_is_refused_without_echo(pharmacy, label, client, db, portal_settings):
    portal_settings()
    for body in ({**label, "last_name": 42}, {"rx_number": label["rx_number"]}, {**label, "note": "x" * 5000}):
        answer = client.post(_url(pharmacy), json=body)
        assert answer.status_code == 422 and label["rx_number"] not in answer.text and "xxxx" not in answer.text
    assert _requests(db, pharmacy) == []


def test_cookies_mean_nothing_to_the_endpoint(pharmacy, label, client, db, portal_settings):
    portal_settings(PORTAL_RESPONSE_FLOOR_MS=0)
    plain = client.post(_url(pharmacy), json={**label, "rx_number": "B9-000001"})
    with_cookie = client.post(
        _url(pharmacy), json={**label, "rx_number": "B9-000002"}, headers={"Cookie": "session=staff-session-token"}
    )
    assert _shape(plain) == _shape(with_cookie)
    assert client.post(_url(pharmacy), json=label, headers={"Cookie": "session=x"}).status_code == 202
    assert [r.source for r in _requests(db, pharmacy)] == ["portal_api"]  # as the portal, never as staff


def test_an_unknown_or_closed_portal_is_refused(pharmacy, label, client, db, portal_settings):
    portal_settings()
    unknown = client.post("/api/v1/portal/no-such-chain/refill-requests", json=label)
    assert unknown.status_code == 404
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE tenants SET status = 'suspended' WHERE id = :t"), {"t": pharmacy.chain.tenant_id})
    closed = client.post(_url(pharmacy), json=label)
    assert closed.status_code == 403 and closed.json()["error"] == "portal_closed"
    assert "not taking online requests" in closed.json()["message"]


def test_a_busy_hour_alerts_the_owner_and_every_request_is_still_answered(pharmacy, label, client, portal_settings):
    portal_settings(PORTAL_RESPONSE_FLOOR_MS=0, PORTAL_CHAIN_ALERT_PER_HOUR=3, PORTAL_FREE_TRIES_PER_IP=100)
    answers = [client.post(_url(pharmacy), json={**label, "rx_number": f"B9-{i:06d}"}) for i in range(8)]
    assert {a.status_code for a in answers} == {202}  # a soft alert, never a per-chain limit
    alerts = pharmacy.run(pharmacy.owner, volume_alerts)
    assert len(alerts) == 1 and alerts[0].kind == "refill"


def test_the_endpoint_is_in_the_offline_reference(client):
    spec = client.get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/api/v1/portal/{slug}/refill-requests"]["post"]
    assert {"202", "422", "429"} <= set(operation["responses"])
    assert "no CSRF token" in operation["description"] or "cookie" in operation["description"]
