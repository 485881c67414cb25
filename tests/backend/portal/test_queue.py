"""The staff queue of portal refill requests: accepting fills through the prescriptions service (a refill
used), denial needs a reason, a "call the customer" request is closed after the call, the branch scope and
the roles hold; the customer is e-mailed the outcome by the job, naming the medicine only when the chain
allows it and the patient consented."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import text

from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.jobs.registry import handler_for
from backend.notifications.disclosure import MessageKind, set_disclosure
from backend.patients.message_consent import record_message_consent
from backend.patients.service import create_patient
from backend.portal import queue
from backend.portal.chains import chain_for_slug, visitor_context
from backend.portal.refill_requests import record_request
from backend.portal.service import match_prescription
from backend.portal.statuses import RefillRequestSource, RefillRequestStatus
from backend.prescriptions import fills
from backend.prescriptions.enums import FillStatus
from backend.prescriptions.service import RefusedTransition, get_prescription
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.backend.notifications.helpers import deliver_queued
from tests.backend.prescriptions.test_fills import receive
from tests.backend.prescriptions.test_refills import backdate
from tests.helpers import wait_until


def customer(pharmacy, *, email: str | None = "", consent: bool = True) -> tuple[str, str]:
    """A patient 'Pat Example' born 1960-05-01 with an e-mail (unique: the mail sink is the session's)."""
    address = f"pat-{uuid.uuid4().hex[:8]}@example.com" if email == "" else (email or "")
    patient = pharmacy.run(
        pharmacy.owner, create_patient, full_name="Pat Example", date_of_birth="1960-05-01",
        home_branch_id=pharmacy.branch, email=address, contact_consent=consent and bool(address),
    ).id  # fmt: skip
    return patient, address


def filled_for(pharmacy, db, patient: str, medicine: str = "lisinopril", days_ago: int = 30, **entry):
    rx = pharmacy.on_profile(patient, medicine, **{"days_supply": "30", **entry})
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    backdate(db, done.id, days_ago)
    db.execute(
        text(
            "UPDATE prescription_fills SET status = 'checked', checked_at = now(), scanned_barcode = '00000000' "
            "WHERE id = :f"
        ),
        {"f": done.id},
    )
    db.execute(text("UPDATE prescriptions SET status = 'ready_for_pickup' WHERE id = :p"), {"p": rx.id})
    return rx


def ask(pharmacy, rx_number: str, note: str = "", branch: str | None = None) -> str:
    visitor = visitor_context(chain_for_slug(pharmacy.chain.slug))

    def asking(session, ctx):
        found = match_prescription(session, ctx, rx_number, date(1960, 5, 1), "Example")
        assert found is not None
        return record_request(session, ctx, found, branch, note, RefillRequestSource.PORTAL_FORM)

    return str(run_in_tenant(visitor, asking))


def row(db, request_id):
    db.execute(text("RESET ROLE"))
    return db.execute(text("SELECT * FROM portal_refill_requests WHERE id = :r"), {"r": request_id}).one()


def outbox(db, request_id) -> int:
    db.execute(text("RESET ROLE"))
    return db.execute(
        text("SELECT count(*) FROM outbox WHERE job_name = :j AND payload->>'request_id' = :r"),
        {"j": queue.OUTCOME_JOB, "r": request_id},
    ).scalar_one()


def tell(pharmacy, request_id: str) -> str:
    """Run the outcome job, then deliver the e-mail it queued (the notifications worker's part)."""
    told = pharmacy.run(
        TenantContext.system(pharmacy.chain.tenant_id), handler_for(queue.OUTCOME_JOB), request_id=request_id
    )
    deliver_queued(pharmacy.chain.tenant_id)
    return told


def test_the_queue_lists_the_request_and_accepting_fills_it_using_a_refill(pharmacy, db, mail_sink):
    receive(pharmacy, "lisinopril", "L1", 100)
    patient, address = customer(pharmacy)
    rx = filled_for(pharmacy, db, patient, refills_authorized="2")
    request = ask(pharmacy, rx.rx_number, "<b>Friday</b> please")

    listed = pharmacy.run(pharmacy.technician, queue.portal_queue, pharmacy.branch)
    assert [r.id for r in listed.open] == [request] and listed.decided == []
    seen = listed.open[0]
    assert (seen.rx_number, seen.patient_name, seen.drug, seen.refills_left) == (
        rx.rx_number, "Pat Example", "Lisinopril 10 mg", 2,
    )  # fmt: skip
    assert (seen.note, seen.source_label, seen.status) == (
        "<b>Friday</b> please", "Portal form", RefillRequestStatus.PENDING,
    )  # fmt: skip

    decision = pharmacy.run(pharmacy.technician, queue.accept_request, request)

    assert decision.request.status is RefillRequestStatus.ACCEPTED and decision.request.fill_code
    made = pharmacy.run(pharmacy.pharmacist, fills.get_fill, decision.request.fill_id)
    assert (made.counts_refill, made.status) == (True, FillStatus.AWAITING_CHECK)
    assert pharmacy.run(pharmacy.pharmacist, get_prescription, rx.id).refills_remaining == 1
    db.execute(text("RESET ROLE"))
    asked = db.execute(
        text("SELECT source FROM prescription_refill_requests WHERE fill_id = :f"), {"f": made.id}
    ).scalar_one()
    assert asked == "portal"
    assert outbox(db, request) == 1
    audit = db.execute(
        text("SELECT action FROM audit_events WHERE entity_id = :r"), {"r": request}
    ).scalars().all()  # fmt: skip
    assert "portal.request_accepted" in audit
    # The job tells the customer, once, without the medicine (the chain did not allow it).
    assert tell(pharmacy, request) == "emailed"
    assert tell(pharmacy, request) == "already emailed"
    mails = wait_until(lambda: mail_sink.to(address), message="the outcome e-mail")
    body = mail_sink.text(mails[-1]) + str(mails[-1]["Subject"])
    assert "received your refill request" in body and "lisinopril" not in body.lower()
    assert len(mail_sink.to(address)) == 1
    assert pharmacy.run(pharmacy.technician, queue.portal_queue, pharmacy.branch).decided[0].id == request
    with pytest.raises(RefusedTransition, match="already accepted"):
        pharmacy.run(pharmacy.technician, queue.accept_request, request)


def test_the_medicine_is_named_only_when_the_chain_allows_it_and_the_patient_consented(pharmacy, db, mail_sink):
    receive(pharmacy, "lisinopril", "L1", 100)
    receive(pharmacy, "amoxicillin", "A1", 100)
    patient, address = customer(pharmacy)
    pharmacy.run(pharmacy.owner, set_disclosure, MessageKind.REFILL_REQUEST_DENIED, True)
    first = filled_for(pharmacy, db, patient, refills_authorized="2")
    request = ask(pharmacy, first.rx_number)
    pharmacy.run(pharmacy.pharmacist, queue.deny_request, request, "Patient moved away")
    assert tell(pharmacy, request) == "emailed"  # allowed, not consented: the minimum
    body = mail_sink.text(wait_until(lambda: mail_sink.to(address), message="the denial")[-1])
    assert "could not fill" in body and "lisinopril" not in body.lower() and "moved" not in body

    pharmacy.run(pharmacy.owner, record_message_consent, patient, "in_person")
    second = filled_for(pharmacy, db, patient, "amoxicillin", refills_authorized="2")
    again = ask(pharmacy, second.rx_number)
    pharmacy.run(pharmacy.pharmacist, queue.deny_request, again, "Duplicate")
    assert tell(pharmacy, again) == "emailed"
    mails = wait_until(lambda: mail_sink.to(address)[1:], message="the detailed denial")
    assert "Amoxicillin 500 mg" in mail_sink.text(mails[-1])


def test_denial_needs_a_reason_and_writes_nothing_without_one(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    patient, _ = customer(pharmacy)
    rx = filled_for(pharmacy, db, patient, refills_authorized="2")
    request = ask(pharmacy, rx.rx_number)
    with pytest.raises(ValidationFailed, match="reason") as refused:
        pharmacy.run(pharmacy.pharmacist, queue.deny_request, request, "   ")
    assert refused.value.field == "reason"
    assert row(db, request).status == RefillRequestStatus.PENDING and outbox(db, request) == 0
    pharmacy.run(pharmacy.pharmacist, queue.deny_request, request, "  Needs a new prescription  ")
    stored = row(db, request)
    assert (stored.status, stored.decision_reason, stored.decided_by) == (
        RefillRequestStatus.DENIED, "Needs a new prescription", pharmacy.pharmacist.user_id,
    )  # fmt: skip
    assert outbox(db, request) == 1


def test_no_email_or_no_consent_sends_nothing_and_says_so(pharmacy, db, mail_sink):
    receive(pharmacy, "lisinopril", "L1", 100)
    receive(pharmacy, "amoxicillin", "A1", 100)
    before = len(mail_sink.messages)
    patient, _ = customer(pharmacy, email=None)
    rx = filled_for(pharmacy, db, patient, refills_authorized="2")
    request = ask(pharmacy, rx.rx_number)
    pharmacy.run(pharmacy.pharmacist, queue.deny_request, request, "No")
    assert tell(pharmacy, request) == "no_consent"  # no address: no consent to be contacted either
    assert row(db, request).customer_told == "no_consent" and len(mail_sink.messages) == before

    other = pharmacy.run(
        pharmacy.owner, create_patient, full_name="Pat Example", date_of_birth="1960-05-01",
        home_branch_id=pharmacy.branch, phone="555-0100", contact_consent=True,
    ).id  # fmt: skip
    rx2 = filled_for(pharmacy, db, other, "amoxicillin", refills_authorized="2")
    second = ask(pharmacy, rx2.rx_number)
    pharmacy.run(pharmacy.pharmacist, queue.deny_request, second, "No")
    assert tell(pharmacy, second) == "no_email" and len(mail_sink.messages) == before
    db.execute(text("RESET ROLE"))
    suppressed = db.execute(
        text("SELECT status, reason FROM notification_messages WHERE patient_id = :p"), {"p": other}
    ).one()
    assert (suppressed.status, suppressed.reason) == ("suppressed", "No e-mail address on file")


def test_too_early_keeps_the_request_and_a_call_customer_request_is_closed_after_the_call(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    receive(pharmacy, "amoxicillin", "A1", 100)
    patient, _ = customer(pharmacy)
    early = filled_for(pharmacy, db, patient, refills_authorized="2", days_ago=5)
    request = ask(pharmacy, early.rx_number)
    with pytest.raises(fills.TooEarly, match="stays in the queue"):
        pharmacy.run(pharmacy.pharmacist, queue.accept_request, request)
    assert row(db, request).status == RefillRequestStatus.PENDING and outbox(db, request) == 0

    none_left = filled_for(pharmacy, db, patient, "amoxicillin", refills_authorized="0")
    call = ask(pharmacy, none_left.rx_number)
    assert row(db, call).status == RefillRequestStatus.CALL_CUSTOMER
    listed = {r.id: r for r in pharmacy.run(pharmacy.pharmacist, queue.portal_queue, pharmacy.branch).open}
    assert "No refills left" in listed[call].why_call
    with pytest.raises(RefusedTransition, match="call the customer"):
        pharmacy.run(pharmacy.pharmacist, queue.accept_request, call)
    with pytest.raises(ValidationFailed, match="note of the call"):
        pharmacy.run(pharmacy.pharmacist, queue.close_after_call, call, "")
    with pytest.raises(RefusedTransition, match="call the customer"):
        pharmacy.run(pharmacy.pharmacist, queue.close_after_call, request, "Called")
    done = pharmacy.run(pharmacy.pharmacist, queue.close_after_call, call, "Spoke to her: asks her doctor")
    assert done.request.status is RefillRequestStatus.CLOSED
    assert (row(db, call).customer_told, outbox(db, call)) == ("not_sent", 0)


def test_branch_scope_and_roles(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    patient, _ = customer(pharmacy)
    rx = filled_for(pharmacy, db, patient, refills_authorized="2")
    request = ask(pharmacy, rx.rx_number, branch=pharmacy.other_branch)  # picked up at the other branch
    assert pharmacy.run(pharmacy.pharmacist, queue.portal_queue, pharmacy.branch).open == []
    assert [r.id for r in pharmacy.run(pharmacy.pharmacist, queue.portal_queue, pharmacy.other_branch).open] == [
        request
    ]
    here_only = TenantContext(
        tenant_id=pharmacy.chain.tenant_id, user_id=pharmacy.pharmacist.user_id, role="pharmacist",
        branch_ids=frozenset({uuid.UUID(pharmacy.branch)}),
    )  # fmt: skip
    with pytest.raises(NotFound):
        pharmacy.run(here_only, queue.portal_queue, pharmacy.other_branch)
    with pytest.raises(NotFound):
        pharmacy.run(here_only, queue.deny_request, request, "Not ours")
    for refused in (
        lambda: pharmacy.run(pharmacy.cashier, queue.portal_queue, pharmacy.other_branch),
        lambda: pharmacy.run(pharmacy.cashier, queue.accept_request, request),
        lambda: pharmacy.run(pharmacy.cashier, queue.deny_request, request, "No"),
    ):
        with pytest.raises(PermissionDenied):
            refused()
    assert row(db, request).status == RefillRequestStatus.PENDING


def test_the_fill_of_an_accepted_request_passing_its_final_check_tells_the_customer_it_is_ready(
    pharmacy, db, mail_sink
):
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE medicines SET barcode = '00093711101' WHERE id = :m"), {"m": pharmacy.medicines["lisinopril"]}
    )
    receive(pharmacy, "lisinopril", "L1", 100)
    patient, address = customer(pharmacy)
    pharmacy.run(pharmacy.owner, set_disclosure, MessageKind.READY_FOR_PICKUP, True)
    pharmacy.run(pharmacy.owner, record_message_consent, patient, "portal")
    rx = filled_for(pharmacy, db, patient, refills_authorized="2")
    request = ask(pharmacy, rx.rx_number)
    made = pharmacy.run(pharmacy.technician, queue.accept_request, request).request.fill_id

    pharmacy.run(pharmacy.pharmacist, fills.final_check, made, "00093711101")

    db.execute(text("RESET ROLE"))
    waiting = db.execute(
        text("SELECT count(*) FROM outbox WHERE job_name = 'portal.tell_ready' AND payload->>'fill_id' = :f"),
        {"f": made},
    ).scalar_one()
    assert waiting == 1
    system = TenantContext.system(pharmacy.chain.tenant_id)
    assert pharmacy.run(system, handler_for("portal.tell_ready"), fill_id=made) == "emailed"
    deliver_queued(pharmacy.chain.tenant_id)
    assert pharmacy.run(system, handler_for("portal.tell_ready"), fill_id=made) == "already emailed"
    mails = wait_until(lambda: [m for m in mail_sink.to(address) if "ready" in str(m["Subject"])], message="ready")
    assert f"Lisinopril 10 mg (Rx {rx.rx_number}) is ready for pickup" in mail_sink.text(mails[-1])
    assert len(mails) == 1


def test_a_refill_that_became_a_renewal_request_closes_the_request_and_says_it_needs_the_prescriber(
    pharmacy, db, mail_sink
):
    receive(pharmacy, "lisinopril", "L1", 100)
    patient, address = customer(pharmacy)
    rx = filled_for(pharmacy, db, patient, refills_authorized="1")
    request = ask(pharmacy, rx.rx_number)
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE prescriptions SET refills_remaining = 0 WHERE id = :p"), {"p": rx.id})  # used since

    done = pharmacy.run(pharmacy.pharmacist, queue.accept_request, request)

    assert (done.request.status, done.request.fill_id) == (RefillRequestStatus.ACCEPTED, None)
    assert "No refills left" in done.message and "prescriber" in done.message
    assert tell(pharmacy, request) == "emailed"
    body = mail_sink.text(wait_until(lambda: mail_sink.to(address), message="the renewal e-mail")[-1])
    assert "needs your prescriber's approval" in body and "lisinopril" not in body.lower()
