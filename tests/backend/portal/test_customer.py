"""Verified customers (issue 17 §3, §4): the one-time code (hashed at rest, 10 minutes, 5 tries, the same
answer whether or not anything matched), the customer session and its scope, the access log as the customer,
my prescriptions with a one-tap refill, the choices on the record, and a photo into the intake queue."""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.core.errors import NotFound
from backend.jobs.service import run_outbox_job
from backend.patients.customer import customer_choices, set_customer_choices
from backend.patients.service import create_patient
from backend.portal import codes
from backend.portal.chains import chain_for_slug, visitor_context
from backend.portal.customers import (
    CUSTOMER_COOKIE,
    customer_context,
    customer_for_token,
    end_customer_session,
    issue_exchange,
    my_prescriptions,
    request_my_refill,
    send_my_prescription,
    start_customer_session,
)
from backend.prescriptions import fills
from tenants.session import run_in_tenant
from tests.backend.notifications.helpers import deliver_queued
from tests.backend.prescriptions.test_fills import receive

BORN = date(1971, 3, 9)
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "prescriptions"  # copies of ../shared/prescriptions


def _customer_rx(pharmacy, db, email: str = "pat.portal@example.com", refills: str = "2"):
    patient = run_in_tenant(
        pharmacy.owner, create_patient, full_name="Pat Portal", date_of_birth=BORN.isoformat(),
        home_branch_id=pharmacy.branch, email=email,
    ).id  # fmt: skip
    receive(pharmacy, "lisinopril", "L1", 100)
    rx = pharmacy.on_profile(patient, "lisinopril", days_supply="30", refills_authorized=refills)
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    db.execute(text("RESET ROLE"))
    db.execute(
        text(
            "UPDATE prescription_fills SET status = 'checked', checked_at = now(), scanned_barcode = '00000000', "
            "filled_at = now() - interval '30 days' WHERE id = :f"
        ),
        {"f": done.id},
    )
    db.execute(text("UPDATE prescriptions SET status = 'ready_for_pickup' WHERE id = :p"), {"p": rx.id})
    return patient, rx


def _visitor(pharmacy):
    return visitor_context(chain_for_slug(pharmacy.chain.slug))


def _ask(pharmacy, rx_number: str, surname: str = "Portal", born: date = BORN) -> str:
    challenge = codes.new_challenge()
    run_in_tenant(_visitor(pharmacy), codes.request_code, challenge, rx_number, born, surname)
    return challenge


def _run_code_jobs(pharmacy, db) -> int:
    db.execute(text("RESET ROLE"))
    ids = db.execute(
        text("SELECT id FROM outbox WHERE tenant_id = :t AND job_name = :j AND status <> 'done'"),
        {"t": pharmacy.chain.tenant_id, "j": codes.SEND_JOB},
    ).scalars()
    ran = [run_outbox_job(str(pharmacy.chain.tenant_id), str(i)) for i in list(ids)]
    deliver_queued(pharmacy.chain.tenant_id)  # the notifications worker's part
    return len(ran)


def _mailed_code(mail_sink, address: str) -> str:
    body = mail_sink.text(mail_sink.to(address)[-1])
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


def _verify(pharmacy, challenge: str, code: str):
    return run_in_tenant(_visitor(pharmacy), codes.verify_code, challenge, code)


def test_a_matching_request_mails_a_code_kept_only_as_a_hash(pharmacy, db, mail_sink):
    _, rx = _customer_rx(pharmacy, db)
    before = len(mail_sink.messages)
    challenge = _ask(pharmacy, rx.rx_number)
    assert len(mail_sink.messages) == before  # never from the request: the outbox job sends it
    assert _run_code_jobs(pharmacy, db) == 1
    message = mail_sink.to("pat.portal@example.com")[-1]
    body = mail_sink.text(message)
    code = _mailed_code(mail_sink, "pat.portal@example.com")
    assert "It expires in 10 minutes" in body and chain_for_slug(pharmacy.chain.slug).name in body
    assert "Lisinopril" not in body + str(message["Subject"]) and rx.rx_number not in body  # the minimum
    db.execute(text("RESET ROLE"))
    row = db.execute(text("SELECT * FROM customer_codes WHERE prescription_id = :p"), {"p": rx.id}).one()
    assert code.encode() not in bytes(row.code_hash) and len(bytes(row.code_hash)) == 16  # a keyed hash (HMAC) only
    assert challenge not in row.challenge_hash
    verified = _verify(pharmacy, challenge, code)
    assert verified.result == codes.CodeResult.OK and str(verified.patient_id) == rx.patient_id
    assert _verify(pharmacy, challenge, code).result == codes.CodeResult.VOID  # used once


def test_the_same_answer_and_nothing_stored_for_details_that_match_nothing(pharmacy, db, mail_sink):
    _, rx = _customer_rx(pharmacy, db)
    for rx_number, surname, born in [
        (rx.rx_number, "Wrong", BORN), (rx.rx_number, "Portal", date(1971, 3, 10)), ("NOPE-000001", "Portal", BORN),
    ]:  # fmt: skip
        challenge = _ask(pharmacy, rx_number, surname, born)
        assert _verify(pharmacy, challenge, "123456").result == codes.CodeResult.WRONG
    db.execute(text("RESET ROLE"))
    chain = {"t": pharmacy.chain.tenant_id}
    assert db.execute(text("SELECT count(*) FROM customer_codes WHERE tenant_id = :t"), chain).scalar() == 0
    assert _run_code_jobs(pharmacy, db) == 0


def test_a_code_expires_after_ten_minutes(pharmacy, db, mail_sink):
    _, rx = _customer_rx(pharmacy, db)
    challenge = _ask(pharmacy, rx.rx_number)
    _run_code_jobs(pharmacy, db)
    code = _mailed_code(mail_sink, "pat.portal@example.com")
    db.execute(text("RESET ROLE"))
    # nine minutes on: still good to try (a wrong try counts), then past the ten minutes
    mine = {"t": pharmacy.chain.tenant_id}
    db.execute(text("UPDATE customer_codes SET created_at = created_at - interval '9 minutes', "
                    "expires_at = expires_at - interval '9 minutes' WHERE tenant_id = :t"), mine)  # fmt: skip
    assert _verify(pharmacy, challenge, "000000" if code != "000000" else "111111").result == codes.CodeResult.WRONG
    db.execute(
        text("UPDATE customer_codes SET expires_at = expires_at - interval '61 seconds' WHERE tenant_id = :t"), mine
    )
    assert _verify(pharmacy, challenge, code).result == codes.CodeResult.VOID


def test_five_wrong_tries_void_the_code(pharmacy, db, mail_sink):
    _, rx = _customer_rx(pharmacy, db)
    challenge = _ask(pharmacy, rx.rx_number)
    _run_code_jobs(pharmacy, db)
    code = _mailed_code(mail_sink, "pat.portal@example.com")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    results = [_verify(pharmacy, challenge, wrong).result for _ in range(5)]
    assert results == [codes.CodeResult.WRONG] * 4 + [codes.CodeResult.VOID]
    assert _verify(pharmacy, challenge, code).result == codes.CodeResult.VOID  # the right code is void too
    db.execute(text("RESET ROLE"))
    row = db.execute(
        text("SELECT attempts, voided_at FROM customer_codes WHERE tenant_id = :t"), {"t": pharmacy.chain.tenant_id}
    ).one()
    assert row.attempts == 5 and row.voided_at is not None


def _session(pharmacy, patient_id) -> str:
    return run_in_tenant(_visitor(pharmacy), start_customer_session, uuid.UUID(str(patient_id)))


def test_the_session_is_short_lived_scoped_to_its_chain_and_ends_on_sign_out(pharmacy, db, make_tenant):
    patient, _ = _customer_rx(pharmacy, db)
    token = _session(pharmacy, patient)
    assert str(run_in_tenant(_visitor(pharmacy), customer_for_token, token)) == patient
    other = make_tenant("other")
    other_visitor = visitor_context(chain_for_slug(other.slug))
    assert run_in_tenant(other_visitor, customer_for_token, token) is None  # another chain: not there
    db.execute(text("RESET ROLE"))
    mine = {"t": pharmacy.chain.tenant_id}
    db.execute(
        text("UPDATE customer_sessions SET last_seen_at = now() - interval '31 minutes' WHERE tenant_id = :t"), mine
    )
    assert run_in_tenant(_visitor(pharmacy), customer_for_token, token) is None  # idle too long
    token = _session(pharmacy, patient)
    db.execute(text("UPDATE customer_sessions SET expires_at = now() - interval '1 second' "
                    "WHERE ended_at IS NULL AND tenant_id = :t"), mine)  # fmt: skip
    assert run_in_tenant(_visitor(pharmacy), customer_for_token, token) is None  # past its two hours
    token = _session(pharmacy, patient)
    run_in_tenant(_visitor(pharmacy), end_customer_session, token)
    assert run_in_tenant(_visitor(pharmacy), customer_for_token, token) is None
    row = db.execute(
        text("SELECT token_hash FROM customer_sessions WHERE tenant_id = :t ORDER BY created_at DESC LIMIT 1"), mine
    ).one()
    assert token not in row.token_hash


def test_my_prescriptions_one_tap_refill_and_the_access_log_as_the_customer(pharmacy, db):
    patient, rx = _customer_rx(pharmacy, db)
    someone_else = pharmacy.on_profile(pharmacy.patient(), "lisinopril", days_supply="30")
    me = customer_context(pharmacy.chain.tenant_id, uuid.UUID(patient))
    listed = run_in_tenant(me, my_prescriptions)
    assert [m.prescription.id for m in listed] == [rx.id]  # only their own
    first = listed[0].prescription
    assert first.refills_left == 2 and first.ready_at and first.last_fill and first.refillable
    run_in_tenant(me, request_my_refill, rx.id)
    again = run_in_tenant(me, my_prescriptions)[0]
    assert again.request_status == "Waiting for the pharmacy"
    db.execute(text("RESET ROLE"))
    request = db.execute(text("SELECT source, status FROM portal_refill_requests WHERE prescription_id = :p"),
                         {"p": rx.id}).one()  # fmt: skip
    assert (request.source, request.status) == ("customer", "pending")
    with pytest.raises(NotFound):
        run_in_tenant(me, request_my_refill, someone_else.id)  # another patient's prescription id
    logged = db.execute(
        text("SELECT action, actor, user_id FROM patient_access_log WHERE patient_id = :p AND actor = 'customer'"),
        {"p": patient},
    ).all()
    assert len(logged) >= 2 and all(r.user_id is None for r in logged)
    from backend.patients.service import access_log

    assert any(e.who == "the patient (portal)" for e in run_in_tenant(pharmacy.owner, access_log, patient))


def test_choices_are_recorded_on_the_patient_record_as_given_in_the_portal(pharmacy, db):
    patient, _ = _customer_rx(pharmacy, db)
    me = customer_context(pharmacy.chain.tenant_id, uuid.UUID(patient))
    saved = run_in_tenant(me, set_customer_choices, refill_reminders=True, channel="sms", detailed_messages=True)
    assert (saved.refill_reminders, saved.reminder_channel, saved.detailed_messages) == (True, "sms", True)
    db.execute(text("RESET ROLE"))
    consent = db.execute(text("SELECT channel, recorded_by FROM patient_message_consents WHERE patient_id = :p"),
                         {"p": patient}).one()  # fmt: skip
    assert (consent.channel, consent.recorded_by) == ("portal", None)
    back = run_in_tenant(me, set_customer_choices, refill_reminders=False, channel="email", detailed_messages=False)
    assert not back.detailed_messages and run_in_tenant(me, customer_choices).first_name == "Pat"


def test_a_photo_goes_to_the_branch_intake_queue_with_the_staff_upload_rules(pharmacy, db):
    from backend.notifications.disclosure import set_disclosure
    from backend.patients.message_consent import record_message_consent

    patient, _ = _customer_rx(pharmacy, db)
    # The chain allows detail in this kind and the patient consented: the photo still names nothing (unread).
    pharmacy.run(pharmacy.owner, set_disclosure, "prescription_received", True)
    pharmacy.run(pharmacy.owner, record_message_consent, patient, "in_person")
    me = customer_context(pharmacy.chain.tenant_id, uuid.UUID(patient))
    sample = sorted(p for p in SAMPLES.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[0]
    new_id = run_in_tenant(me, send_my_prescription, pharmacy.branch, sample.read_bytes())
    db.execute(text("RESET ROLE"))
    row = db.execute(text("SELECT status, source, patient_id, branch_id FROM prescriptions WHERE id = :p"),
                     {"p": new_id}).one()  # fmt: skip
    assert (row.status, row.source, str(row.patient_id), str(row.branch_id)) == (
        "intake", "portal", patient, pharmacy.branch,
    )  # fmt: skip
    assert db.execute(text("SELECT count(*) FROM prescription_readings WHERE prescription_id = :p"),
                      {"p": new_id}).scalar() == 1  # its OCR reading is queued  # fmt: skip
    # "We received your prescription", written with the upload, naming no medicine (nobody has read it yet)
    told = db.execute(text("SELECT kind, channel, status, reason FROM notification_messages WHERE dedupe_key = :k"),
                      {"k": f"portal.received:{new_id}"}).one()  # fmt: skip
    assert (told.kind, told.channel, told.status) == ("prescription_received", "email", "suppressed")
    assert told.reason == "The patient has not agreed to be contacted"  # e-mail on file, no contact consent
    from backend.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        run_in_tenant(me, send_my_prescription, pharmacy.branch, b"not a picture at all")


def test_a_customer_cookie_opens_no_staff_page_or_endpoint(pharmacy, db):
    patient, _ = _customer_rx(pharmacy, db)
    token = _session(pharmacy, patient)
    from backend.accounts.sessions import principal_for_token
    from backend.api import create_api

    assert principal_for_token(token) is None  # staff pages re-read the staff session: there is none
    client = TestClient(create_api())
    client.cookies.set(CUSTOMER_COOKIE, token)
    assert client.get("/api/v1/patients").status_code == 401
    assert client.get("/api/v1/prescriptions").status_code == 401
    assert client.get("/api/v1/patients", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_the_exchange_sets_the_customer_cookie_once(pharmacy, db):
    patient, _ = _customer_rx(pharmacy, db)
    from backend.api import create_api

    client = TestClient(create_api())
    code = issue_exchange(pharmacy.chain.tenant_id, uuid.UUID(patient))
    slug = pharmacy.chain.slug
    answer = client.get(f"/api/v1/portal/{slug}/session?code={code}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/portal/{slug}/prescriptions"
    cookie = answer.headers["set-cookie"]
    assert CUSTOMER_COOKIE in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Path=/" in cookie
    again = client.get(f"/api/v1/portal/{slug}/session?code={code}", follow_redirects=False)
    assert "expired=1" in again.headers["location"] and "set-cookie" not in again.headers


def test_the_response_floor_covers_the_work_of_a_matched_and_an_unmatched_code_request(pharmacy, db, capsys):
    """The page waits out PORTAL_RESPONSE_FLOOR_MS from the request's start; the work behind it (match, row,
    outbox job when matched) must take less than that floor, or the time would tell."""
    import statistics
    import time

    from backend.core.settings import get_settings

    _, rx = _customer_rx(pharmacy, db)
    timings: dict[str, list[float]] = {"matched": [], "unmatched": []}
    for _ in range(15):
        for label, surname in (("matched", "Portal"), ("unmatched", "Nobody")):
            started = time.perf_counter()
            _ask(pharmacy, rx.rx_number, surname)
            timings[label].append((time.perf_counter() - started) * 1000)
    floor = get_settings().PORTAL_RESPONSE_FLOOR_MS
    medians = {k: statistics.median(v) for k, v in timings.items()}
    with capsys.disabled():
        print(
            f"\ncode request work, median ms: {medians}, max ms: {max(map(max, timings.values())):.1f}, floor {floor}"
        )
    assert max(map(max, timings.values())) < floor
