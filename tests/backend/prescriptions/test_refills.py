"""Refills: a request becomes the next dispensing's fill (a refill used, shown on the record) when refills
remain, the prescription is valid and the earliest refill date has passed; otherwise a renewal request to
the prescriber is recorded and the answer says why; too early is refused and writes nothing. Auto-refill
fills what is due and nothing twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from backend.core.errors import PermissionDenied, ValidationFailed
from backend.prescriptions import fills, refills
from backend.prescriptions.enums import FillStatus, RenewalStatus, RxStatus
from backend.prescriptions.service import RefusedTransition, get_prescription
from tenants.context import TenantContext
from tests.backend.prescriptions.test_fills import on_hand, receive


def filled_and_checked(pharmacy, db, medicine: str = "lisinopril", days_ago: int = 30, **entry):
    """A verified prescription whose original was filled `days_ago` days ago and passed the final check."""
    rx = pharmacy.on_profile(pharmacy.patient(), medicine, **{"days_supply": "30", **entry})
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    backdate(db, done.id, days_ago)
    db.execute(text("RESET ROLE"))
    db.execute(
        text(
            "UPDATE prescription_fills SET status = 'checked', checked_at = now(), scanned_barcode = '00000000' "
            "WHERE id = :f"
        ),
        {"f": done.id},
    )
    db.execute(text("UPDATE prescriptions SET status = 'ready_for_pickup' WHERE id = :p"), {"p": rx.id})
    return rx, done


def backdate(db, fill_id: str, days: int) -> None:
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE prescription_fills SET filled_at = now() - make_interval(days => :d) WHERE id = :f"),
        {"d": days, "f": fill_id},
    )


def refill(pharmacy, rx_id: str, ctx=None, source: str = "staff", **kwargs):
    return pharmacy.run(ctx or pharmacy.technician, refills.request_refill, rx_id, source, **kwargs)


def record(pharmacy, rx_id: str):
    return pharmacy.run(pharmacy.pharmacist, get_prescription, rx_id)


def test_a_refill_fills_the_next_dispensing_and_uses_up_a_refill(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    rx, first = filled_and_checked(pharmacy, db, refills_authorized="2")
    assert (first.counts_refill, record(pharmacy, rx.id).refills_remaining) == (False, 2)  # the original

    outcome = refill(pharmacy, rx.id, source="phone")

    assert outcome.renewal is None and outcome.fill is not None
    assert (outcome.fill.code, outcome.fill.dispensing, outcome.fill.counts_refill) == (
        f"{rx.rx_number}-1-1",
        1,
        True,
    )
    assert outcome.fill.status == FillStatus.AWAITING_CHECK
    assert on_hand(db, pharmacy, "lisinopril") == {"L1": 40}
    now = record(pharmacy, rx.id)
    assert (now.status, now.refills_remaining) == (RxStatus.FILLED, 1)
    assert [e.action for e in now.events[-2:]] == ["refill_requested", "filled"]
    assert "phone" in now.events[-2].reason and "1 left" in now.events[-1].reason
    db.execute(text("RESET ROLE"))
    asked = db.execute(
        text("SELECT source, fill_id FROM prescription_refill_requests WHERE prescription_id = :p"), {"p": rx.id}
    ).one()
    assert (asked.source, str(asked.fill_id)) == ("phone", outcome.fill.id)
    # The last fill is waiting for its final check: a second refill now is refused.
    with pytest.raises(RefusedTransition, match="final check"):
        refill(pharmacy, rx.id)


def test_too_early_is_refused_with_the_date_and_writes_nothing(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    rx, first = filled_and_checked(pharmacy, db, refills_authorized="2", days_ago=10)
    with pytest.raises(fills.TooEarly) as refused:
        refill(pharmacy, rx.id)
    # 0.75 x 30 days' supply: day 23 after the last fill.
    due = date.today() - timedelta(days=10) + timedelta(days=23)
    assert due.isoformat() in refused.value.message
    now = record(pharmacy, rx.id)
    assert (now.status, now.refills_remaining) == (RxStatus.READY_FOR_PICKUP, 2)
    assert on_hand(db, pharmacy, "lisinopril") == {"L1": 70}
    backdate(db, first.id, 23)
    assert refill(pharmacy, rx.id).fill is not None


def test_no_refill_left_records_a_renewal_request_and_fills_nothing(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    rx, _ = filled_and_checked(pharmacy, db, refills_authorized="0")

    outcome = refill(pharmacy, rx.id)

    assert outcome.fill is None and outcome.renewal is not None
    assert "No refills left" in outcome.message and "renewal request" in outcome.message
    assert (outcome.renewal.status, outcome.renewal.prescriber_name) == (RenewalStatus.REQUESTED, "Dana Rivera")
    assert on_hand(db, pharmacy, "lisinopril") == {"L1": 70}
    assert record(pharmacy, rx.id).status == RxStatus.READY_FOR_PICKUP
    # Asking again answers the open request: the prescriber is asked once.
    again = refill(pharmacy, rx.id)
    assert again.renewal is not None and again.renewal.id == outcome.renewal.id
    listed = pharmacy.run(pharmacy.technician, refills.renewal_requests, pharmacy.branch)
    assert [r.rx_number for r in listed] == [rx.rx_number]


def test_an_expired_prescription_asks_the_prescriber(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    rx, _ = filled_and_checked(pharmacy, db, refills_authorized="3")
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE prescriptions SET expires_on = current_date - 1 WHERE id = :p"), {"p": rx.id})
    outcome = refill(pharmacy, rx.id)
    assert outcome.fill is None and "expired" in outcome.message
    assert record(pharmacy, rx.id).refills_remaining == 3


def test_a_cii_is_never_refilled(pharmacy, db):
    receive(pharmacy, "oxycodone", "OX1", 100)
    rx, _ = filled_and_checked(pharmacy, db, medicine="oxycodone")
    outcome = refill(pharmacy, rx.id)
    assert outcome.fill is None and "Schedule II" in outcome.message


def test_an_unfilled_or_unverified_prescription_is_not_refilled(pharmacy):
    receive(pharmacy, "lisinopril", "L1", 100)
    verified = pharmacy.on_profile(pharmacy.patient(), "lisinopril", refills_authorized="2")
    with pytest.raises(RefusedTransition, match="fill the original"):
        refill(pharmacy, verified.id)
    entered = pharmacy.entered(pharmacy.patient("Other One"), "lisinopril")
    with pytest.raises(RefusedTransition, match="only a verified"):
        refill(pharmacy, entered.id)
    with pytest.raises(ValidationFailed):
        refill(pharmacy, verified.id, source="email")
    with pytest.raises(PermissionDenied):
        refill(pharmacy, verified.id, ctx=pharmacy.cashier)


def test_auto_refill_fills_what_is_due_once(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 200)
    due, _ = filled_and_checked(pharmacy, db, refills_authorized="2", days_ago=28)
    early, _ = filled_and_checked(pharmacy, db, refills_authorized="2", days_ago=5)
    off, _ = filled_and_checked(pharmacy, db, refills_authorized="2", days_ago=28)
    for rx in (due, early):
        assert pharmacy.run(pharmacy.technician, refills.set_auto_refill, rx.id, True) is True
    system = TenantContext.system(pharmacy.chain.tenant_id)

    said = pharmacy.run(system, refills.run_auto_refills)

    assert said.startswith("1 filled")
    assert record(pharmacy, due.id).status == RxStatus.FILLED
    assert record(pharmacy, due.id).refills_remaining == 1
    assert record(pharmacy, early.id).status == RxStatus.READY_FOR_PICKUP
    assert record(pharmacy, off.id).status == RxStatus.READY_FOR_PICKUP
    assert pharmacy.run(system, refills.run_auto_refills).startswith("0 filled")
    db.execute(text("RESET ROLE"))
    assert (
        db.execute(
            text("SELECT source FROM prescription_refill_requests WHERE prescription_id = :p"), {"p": due.id}
        ).scalar_one()
        == "auto"
    )


def test_the_daily_schedule_queues_the_auto_refill_job(pharmacy, db):
    system = TenantContext.system(pharmacy.chain.tenant_id)
    job_id = pharmacy.run(system, refills.queue_auto_refills)
    db.execute(text("RESET ROLE"))
    queued = db.execute(text("SELECT job_name, status FROM outbox WHERE id = :j"), {"j": job_id}).one()
    assert (queued.job_name, queued.status) == (refills.AUTO_REFILL_JOB, "pending")
