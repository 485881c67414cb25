"""A patient's own copy: everything the chain holds about the patient (and nothing of another chain),
owners only, every production logged and audited, the request, its due date and its delivery recorded."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.patient_copy.service import (
    AlreadyDelivered,
    NotProducedYet,
    copy_requests,
    produce_copy,
    record_delivery,
    record_request,
)
from backend.patient_copy.statuses import AskedBy, CopyStatus, DeliveryMethod
from backend.patients.service import COPY_REASON, create_patient, find_patients
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session
from tests.tenants.test_rls import two_chains  # noqa: F401 - the fixture: two chains, every table seeded


def as_role(chain, role: str) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role=role)


def pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def rows(ctx: TenantContext, sql: str, **params) -> list:
    with tenant_session(ctx) as session:
        return list(session.execute(text(sql), params).all())


def seeded_patient(ctx: TenantContext) -> str:
    return run_in_tenant(ctx, find_patients, "Seeded Patient").items[0].id


def test_the_copy_holds_everything_about_the_patient_and_nothing_of_another_chain(two_chains):  # noqa: F811
    a, b = two_chains
    owner, owner_b = as_role(a, "owner"), as_role(b, "owner")
    patient_id = seeded_patient(owner)
    log_before = rows(owner, "SELECT id FROM patient_access_log WHERE patient_id = :p", p=patient_id)

    made = run_in_tenant(owner, produce_copy, patient_id)
    data = json.loads(made.json)

    assert data["patient"]["full_name"] == "Seeded Patient" and data["patient"]["date_of_birth"] == "1970-01-01"
    assert [e["written"] for e in data["allergies"]["entries"]] == ["penicillin (rash)"]
    assert [c["member_id"] for c in data["coverages"]] == ["SEED-1"]
    # Both prescriptions, with their history, the pharmacist's signed verification and the fills.
    rx_numbers = {
        r.rx_number for r in rows(owner, "SELECT rx_number FROM prescriptions WHERE patient_id = :p", p=patient_id)
    }
    assert {p["rx_number"] for p in data["prescriptions"]} == rx_numbers and len(rx_numbers) == 2
    for prescription in data["prescriptions"]:
        assert prescription["events"], prescription["rx_number"]
        assert [v["signature_meaning"] for v in prescription["verifications"]] == ["verified the seeded prescription"]
    fills = [f for p in data["prescriptions"] for f in p["fills"]]
    assert len(fills) == 2 and all(f["lots"] for f in fills)
    pickups = [f["pickup"] for f in fills if f["pickup"]]
    assert len(pickups) == 1 and pickups[0]["picked_up_by"] == "patient" and pickups[0]["signature_png"]
    # The counter sale (with its claim) and the bill the fill was handed over on.
    numbers = {r.number for r in rows(owner, "SELECT number FROM bills WHERE patient_id = :p", p=patient_id)}
    assert {bill["number"] for bill in data["bills"]} == numbers and len(numbers) == 2
    claims = {str(r.id) for r in rows(owner, "SELECT id FROM claims WHERE patient_id = :p", p=patient_id)}
    assert {c["id"] for c in data["claims"]} == claims and len(claims) >= 2  # the sale's, and the fills'
    assert ("Seeded Insurer", "0.50") in [(c["payer_name"], c["claimed_amount"]) for c in data["claims"]]
    # The consent to messages naming the medicine (the seed records it in person).
    assert data["message_consent"]["consented"] is True
    assert [c["channel"] for c in data["message_consent"]["history"]] == ["in_person"]
    # The access log, ending with this production.
    assert data["access_log"][-1]["reason"] == COPY_REASON and data["access_log"][0]["action"] == "created"
    assert (
        data["request"]["due_on"] == (date.fromisoformat(data["request"]["requested_on"]) + timedelta(30)).isoformat()
    )

    # Chain B's patient, prescriptions and bills share names and numbers but not ids: none appears.
    others = rows(
        owner_b,
        "SELECT id::text FROM patients UNION ALL SELECT id::text FROM prescriptions "
        "UNION ALL SELECT id::text FROM bills",
    )
    assert others and not [r.id for r in others if r.id in made.json.decode()]

    words = pdf_text(made.pdf)
    for expected in (
        "Seeded Patient",
        "1970-01-01",
        "Seeded Insurer",
        "SEED-1",
        "penicillin",
        COPY_REASON,
        "Messages naming your medicine",
        "You agreed.",
        *rx_numbers,
    ):
        assert expected in words, expected
    assert f"Due by (30 days, HIPAA right of access): {made.request.due_on.isoformat()}" in words
    assert all(number in words for number in numbers)

    # One access-log row for the whole production, with its reason; and an audit event.
    log_after = rows(owner, "SELECT reason FROM patient_access_log WHERE patient_id = :p ORDER BY id", p=patient_id)
    assert len(log_after) == len(log_before) + 1 and log_after[-1].reason == COPY_REASON
    audited = rows(
        owner,
        "SELECT details FROM audit_events WHERE action = 'patient.copy_produced' AND entity_id = :p",
        p=patient_id,
    )
    assert audited and audited[-1].details["prescriptions"] == 2 and audited[-1].details["bills"] == 2

    # Chain B's owner cannot make chain A's patient's copy: no such patient there.
    with pytest.raises(NotFound):
        run_in_tenant(owner_b, produce_copy, patient_id)


@pytest.fixture
def patient(make_tenant):
    chain = make_tenant("copy", branches=1)
    created = run_in_tenant(
        as_role(chain, "owner"),
        create_patient,
        full_name="Ada Copy",
        date_of_birth="1980-02-03",
        home_branch_id=str(chain.branch_ids[0]),
        phone="+1 555 0142",
    )
    return chain, created.id


@pytest.mark.parametrize("role", ["manager", "pharmacist", "technician", "cashier", "api-read"])
def test_only_owners_produce_a_copy_and_a_refusal_writes_nothing(patient, role):
    chain, patient_id = patient
    other = as_role(chain, role)
    for service, args in (
        (produce_copy, (patient_id,)),
        (record_request, (patient_id,)),
        (copy_requests, (patient_id,)),
    ):
        with pytest.raises(PermissionDenied):
            run_in_tenant(other, service, *args)
    owner = as_role(chain, "owner")
    assert rows(owner, "SELECT id FROM patient_copy_requests") == []
    assert [r.reason for r in rows(owner, "SELECT reason FROM patient_access_log WHERE reason <> ''")] == []


def test_request_due_date_production_and_delivery_are_recorded(patient):
    chain, patient_id = patient
    owner = as_role(chain, "owner")
    asked = date.today() - timedelta(days=10)
    request = run_in_tenant(
        owner, record_request, patient_id, requested_on=asked.isoformat(), asked_by="representative", note="by letter"
    )
    assert request.status == CopyStatus.REQUESTED and request.asked_by == AskedBy.REPRESENTATIVE
    assert request.due_on == asked + timedelta(days=30) and not request.overdue(date.today())
    assert request.overdue(asked + timedelta(days=31))
    with pytest.raises(NotProducedYet):
        run_in_tenant(owner, record_delivery, request.id, method="posted")

    made = run_in_tenant(owner, produce_copy, patient_id)  # answers the open request
    assert made.request.id == request.id and made.request.status == CopyStatus.PRODUCED
    assert made.request.produced_at is not None and made.request.produced_by

    for bad in ("", "faxed"):
        with pytest.raises(ValidationFailed):
            run_in_tenant(owner, record_delivery, request.id, method=bad)
    assert run_in_tenant(owner, copy_requests, patient_id)[0].status == CopyStatus.PRODUCED  # nothing written

    delivered = run_in_tenant(owner, record_delivery, request.id, method="posted", note="first class, tracked")
    assert delivered.status == CopyStatus.DELIVERED and delivered.delivery_method == DeliveryMethod.POSTED
    assert delivered.delivery_note == "first class, tracked" and delivered.delivered_by
    assert delivered.delivered_at and delivered.delivered_at <= datetime.now(UTC)
    with pytest.raises(AlreadyDelivered):
        run_in_tenant(owner, record_delivery, request.id, method="emailed")
    with pytest.raises(AlreadyDelivered):
        run_in_tenant(owner, produce_copy, patient_id, request_id=request.id)

    # A new production with nothing open records a new request, asked today.
    again = run_in_tenant(owner, produce_copy, patient_id)
    assert again.request.id != request.id and again.request.requested_on >= date.today() - timedelta(days=1)
    listed = run_in_tenant(owner, copy_requests, patient_id)
    assert [r.id for r in listed] == [again.request.id, request.id]
    actions = [
        r.action for r in rows(owner, "SELECT action FROM audit_events WHERE action LIKE 'patient.copy%' ORDER BY seq")
    ]
    assert actions == [
        "patient.copy_requested",
        "patient.copy_produced",
        "patient.copy_delivered",
        "patient.copy_requested",
        "patient.copy_produced",
    ]


def test_bad_request_input_is_refused(patient):
    chain, patient_id = patient
    owner = as_role(chain, "owner")
    for typed in ({"requested_on": (date.today() + timedelta(days=5)).isoformat()}, {"requested_on": "12/01/2026"},
                  {"asked_by": "neighbour"}, {"note": "x" * 501}):  # fmt: skip
        with pytest.raises(ValidationFailed):
            run_in_tenant(owner, record_request, patient_id, **typed)
    with pytest.raises(NotFound):
        run_in_tenant(owner, produce_copy, "not-a-uuid")
    assert rows(owner, "SELECT id FROM patient_copy_requests") == []
