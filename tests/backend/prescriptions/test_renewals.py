"""The prescriber's answer to a renewal request, recorded by a pharmacist: approved becomes a new prescription
(same patient, medicine and prescriber; the quantity and refills authorised) in verification, linked to the
old one; denied needs the prescriber's reason and shows it; both are prescription events."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from backend.core.errors import PermissionDenied, ValidationFailed
from backend.prescriptions import refills, renewals
from backend.prescriptions.enums import RenewalStatus, RxSource, RxStatus
from backend.prescriptions.service import RefusedTransition
from tests.backend.prescriptions.test_fills import receive
from tests.backend.prescriptions.test_refills import filled_and_checked, record, refill


def asked(pharmacy, db, medicine: str = "lisinopril", **entry):
    receive(pharmacy, medicine, "L1", 100)
    rx, _ = filled_and_checked(pharmacy, db, medicine=medicine, **({"refills_authorized": "0"} | entry))
    renewal = refill(pharmacy, rx.id).renewal
    assert renewal is not None
    return rx, renewal


def answer(pharmacy, renewal_id: str, decision: str, ctx=None, **typed):
    return pharmacy.run(ctx or pharmacy.pharmacist, renewals.answer_renewal, renewal_id, decision, **typed)


def renewal_count(db, pharmacy, status: str) -> int:
    """This chain's renewal requests in a status (other tests' chains may have committed theirs)."""
    db.execute(text("RESET ROLE"))
    return int(
        db.execute(
            text("SELECT count(*) FROM prescription_renewals WHERE status = :s AND tenant_id = :t"),
            {"s": status, "t": pharmacy.owner.tenant_id},
        ).scalar()
    )


def test_an_approved_renewal_is_a_new_prescription_in_verification(pharmacy, db):
    old, renewal = asked(pharmacy, db)

    done = answer(pharmacy, renewal.id, "approved", quantity="90", refills="3", source="fax")

    assert done.status is RenewalStatus.APPROVED and done.renewed_as_rx and done.answered_by
    new = record(pharmacy, done.renewed_as)
    assert new.status is RxStatus.VERIFICATION  # a new prescription: the pharmacist's DUR comes first
    assert (new.patient_id, new.medicine_id, new.prescriber_id) == (old.patient_id, old.medicine_id, old.prescriber_id)
    assert (new.quantity, new.refills_authorized, new.refills_remaining) == (90, 3, 3)
    assert (new.source, new.sig_written, new.days_supply) == (RxSource.FAX, old.sig_written, old.days_supply)
    assert new.rx_number != old.rx_number and f"renews {old.rx_number}" in [e.reason for e in new.events]
    # The old one stays as it was, its history says what became of it, and it is not refilled any more.
    before = record(pharmacy, old.id)
    assert before.status is RxStatus.READY_FOR_PICKUP
    assert ("renewal_approved", f"renewed as {new.rx_number}") in [(e.action, e.reason) for e in before.events]
    with pytest.raises(RefusedTransition, match=f"renewed it as {new.rx_number}"):
        refill(pharmacy, old.id)
    assert pharmacy.run(pharmacy.technician, refills.renewal_requests, pharmacy.branch) == []
    # Answered once: a second answer is refused.
    with pytest.raises(RefusedTransition, match="already answered"):
        answer(pharmacy, renewal.id, "denied", reason="changed my mind")


def test_a_denial_needs_the_prescribers_reason_and_shows_it(pharmacy, db):
    old, renewal = asked(pharmacy, db)
    with pytest.raises(ValidationFailed, match="reason") as refused:
        answer(pharmacy, renewal.id, "denied", reason="no")
    assert refused.value.field == "reason" and renewal_count(db, pharmacy, "requested") == 1

    done = answer(pharmacy, renewal.id, "denied", reason="Patient must be seen in clinic first")

    assert (done.status, done.answer_reason, done.renewed_as) == (
        RenewalStatus.DENIED,
        "Patient must be seen in clinic first",
        None,
    )
    shown = pharmacy.run(pharmacy.technician, refills.renewals_of, old.id)
    assert shown[0].answer_reason == "Patient must be seen in clinic first"
    events = [(e.action, e.reason) for e in record(pharmacy, old.id).events]
    assert ("renewal_denied", "prescriber denied: Patient must be seen in clinic first") in events


def test_an_incomplete_approval_writes_nothing(pharmacy, db):
    _, renewal = asked(pharmacy, db)
    with pytest.raises(ValidationFailed) as refused:
        answer(pharmacy, renewal.id, "approved", quantity="", refills="1")
    assert refused.value.field == "quantity"
    with pytest.raises(ValidationFailed) as refused:
        answer(pharmacy, renewal.id, "maybe")
    assert refused.value.field == "decision"
    assert renewal_count(db, pharmacy, "requested") == 1 and renewal_count(db, pharmacy, "approved") == 0


def test_a_cii_renewal_comes_electronically_without_refills(pharmacy, db):
    _, renewal = asked(pharmacy, db, medicine="oxycodone", refills_authorized="0")
    with pytest.raises(ValidationFailed, match="electronically"):
        answer(pharmacy, renewal.id, "approved", quantity="30", refills="0", source="phone")
    with pytest.raises(ValidationFailed, match="Schedule II") as refused:
        answer(pharmacy, renewal.id, "approved", quantity="30", refills="1", source="electronic")
    assert refused.value.field == "refills" and renewal_count(db, pharmacy, "requested") == 1

    done = answer(pharmacy, renewal.id, "approved", quantity="30", refills="0", source="electronic")
    assert record(pharmacy, done.renewed_as).schedule == "CII"


def test_only_a_pharmacist_records_the_answer(pharmacy, db):
    _, renewal = asked(pharmacy, db)
    for ctx in (pharmacy.technician, pharmacy.cashier, pharmacy.owner):
        with pytest.raises(PermissionDenied):
            answer(pharmacy, renewal.id, "approved", ctx=ctx, quantity="30", refills="1")
    assert renewal_count(db, pharmacy, "requested") == 1
