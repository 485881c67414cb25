"""Unclaimed fills: listed after the chain's N days; returning one puts its units back on the lots it came
from (an rx_return movement naming the fill, so the ledger still equals on-hand), marks it returned, gives
the refill back and makes the prescription fillable again; a picked-up fill never goes back."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from backend.core.errors import PermissionDenied
from backend.inventory.service import reconcile
from backend.prescriptions import fills, refills, unclaimed
from backend.prescriptions.enums import FillStatus, RxStatus
from backend.prescriptions.service import update_rx_settings
from tests.backend.prescriptions.test_fills import on_hand, receive
from tests.backend.prescriptions.test_pickup import picked_up
from tests.backend.prescriptions.test_refills import filled_and_checked, record


def waited(db, fill_id: str, days: int) -> None:
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE prescription_fills SET checked_at = now() - make_interval(days => :d) WHERE id = :f"),
        {"d": days, "f": fill_id},
    )


def movements(db, pharmacy, reference: str) -> list[tuple[str, str, int]]:
    """The chain's stock movements naming a fill (fill codes are unique in a chain, not across chains)."""
    db.execute(text("RESET ROLE"))
    rows = db.execute(
        text(
            "SELECT b.lot_number, m.kind, m.quantity FROM stock_movements m JOIN batches b ON b.id = m.batch_id "
            "WHERE m.tenant_id = :t AND m.reference = :r ORDER BY m.id"
        ),
        {"t": pharmacy.chain.tenant_id, "r": reference},
    ).all()
    return [(r.lot_number, r.kind, r.quantity) for r in rows]


def ledger_matches(db, pharmacy, medicine: str) -> None:
    db.execute(text("RESET ROLE"))
    rows = db.execute(
        text(
            "SELECT b.quantity, coalesce(sum(m.quantity), 0) AS moved FROM batches b "
            "LEFT JOIN stock_movements m ON m.batch_id = b.id WHERE b.medicine_id = :m "
            "GROUP BY b.tenant_id, b.id, b.quantity"
        ),
        {"m": pharmacy.medicines[medicine]},
    ).all()
    assert rows and all(r.quantity == r.moved for r in rows), rows


def test_a_returned_refill_goes_back_on_its_lots_and_gives_the_refill_back(pharmacy, db):
    receive(pharmacy, "lisinopril", "SOON", 20, days=100)
    receive(pharmacy, "lisinopril", "LATE", 100, days=600)
    rx, _ = filled_and_checked(pharmacy, db, refills_authorized="2")
    assert on_hand(db, pharmacy, "lisinopril") == {"LATE": 90, "SOON": 0}
    refill = pharmacy.run(pharmacy.technician, refills.request_refill, rx.id, "staff").fill
    pharmacy.run(pharmacy.technician, refills.set_auto_refill, rx.id, False)
    db.execute(text("RESET ROLE"))
    db.execute(
        text(
            "UPDATE prescription_fills SET status = 'checked', checked_at = now(), scanned_barcode = '00000000' "
            "WHERE id = :f"
        ),
        {"f": refill.id},
    )
    waited(db, refill.id, 15)
    assert record(pharmacy, rx.id).refills_remaining == 1
    assert on_hand(db, pharmacy, "lisinopril") == {"LATE": 60, "SOON": 0}

    days, listed = pharmacy.run(pharmacy.pharmacist, unclaimed.unclaimed_fills, pharmacy.branch)
    assert days == 14
    assert [(u.code, u.quantity, u.days_waiting) for u in listed] == [(refill.code, 30, 15)]

    back = pharmacy.run(pharmacy.pharmacist, unclaimed.return_to_stock, refill.id)

    assert back.status == FillStatus.RETURNED and back.returned_at is not None
    assert on_hand(db, pharmacy, "lisinopril") == {"LATE": 90, "SOON": 0}
    assert movements(db, pharmacy, refill.code) == [("LATE", "dispense", -30), ("LATE", "rx_return", 30)]
    ledger_matches(db, pharmacy, "lisinopril")
    assert reconcile(tenant_slug=pharmacy.chain.slug) == []
    now = record(pharmacy, rx.id)
    assert now.refills_remaining == 2
    assert now.events[-1].action == "returned_to_stock" and "refill is given back" in now.events[-1].reason
    assert pharmacy.run(pharmacy.pharmacist, unclaimed.unclaimed_fills, pharmacy.branch)[1] == []
    # Returned once: a second return is refused and moves nothing.
    with pytest.raises(unclaimed.NotReturnable, match="returned to stock"):
        pharmacy.run(pharmacy.pharmacist, unclaimed.return_to_stock, refill.id)
    assert on_hand(db, pharmacy, "lisinopril") == {"LATE": 90, "SOON": 0}


def test_returning_the_original_makes_the_prescription_fillable_again_without_using_a_refill(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    rx, first = filled_and_checked(pharmacy, db, refills_authorized="1", days_ago=20)
    waited(db, first.id, 20)
    pharmacy.run(pharmacy.pharmacist, unclaimed.return_to_stock, first.id)
    now = record(pharmacy, rx.id)
    assert (now.status, now.refills_remaining) == (RxStatus.FILL, 1)
    again = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    assert (again.code, again.counts_refill) == (f"{rx.rx_number}-1-1", False)
    assert record(pharmacy, rx.id).refills_remaining == 1


def test_the_chain_sets_how_many_days_make_a_fill_unclaimed(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    _, first = filled_and_checked(pharmacy, db)
    waited(db, first.id, 8)
    assert pharmacy.run(pharmacy.pharmacist, unclaimed.unclaimed_fills, pharmacy.branch)[1] == []
    pharmacy.run(pharmacy.owner, update_rx_settings, unclaimed_days="7")
    days, listed = pharmacy.run(pharmacy.pharmacist, unclaimed.unclaimed_fills, pharmacy.branch)
    assert days == 7 and [u.id for u in listed] == [first.id]


def test_only_a_pharmacist_returns_and_a_picked_up_fill_never_goes_back(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    _, first = filled_and_checked(pharmacy, db)
    with pytest.raises(PermissionDenied):
        pharmacy.run(pharmacy.technician, unclaimed.return_to_stock, first.id)
    picked_up(pharmacy, first.id)
    with pytest.raises(unclaimed.NotReturnable, match="never goes back on the shelf"):
        pharmacy.run(pharmacy.pharmacist, unclaimed.return_to_stock, first.id)
    assert on_hand(db, pharmacy, "lisinopril") == {"L1": 70}


def test_a_return_to_stock_reverses_the_fills_claim(pharmacy, db):
    from backend.billing.claims import service as claims
    from backend.billing.statuses import ClaimStatus

    patient = pharmacy.patient("Una Unclaimed")
    payer = pharmacy.run(pharmacy.owner, claims.create_payer, name="Gamma Health", payer_code="GAMMA")
    pharmacy.run(pharmacy.owner, claims.add_coverage, patient_id=patient, payer_id=payer.id, member_id="G-1")
    receive(pharmacy, "lisinopril", "L1", 100)
    rx = pharmacy.on_profile(patient, "lisinopril", days_supply="30")
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    assert pharmacy.run(pharmacy.owner, claims.claim_of_fill, done.id).status == ClaimStatus.APPROVED
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE prescription_fills SET status = 'checked', checked_at = now(), scanned_barcode = '00000000' "
             "WHERE id = :f"),
        {"f": done.id},
    )  # fmt: skip
    waited(db, done.id, 15)

    pharmacy.run(pharmacy.pharmacist, unclaimed.return_to_stock, done.id)

    claim = pharmacy.run(pharmacy.owner, claims.claim_of_fill, done.id)
    assert claim.status == ClaimStatus.REVERSED and claim.events[-1].note == "returned to stock"
    assert on_hand(db, pharmacy, "lisinopril") == {"L1": 100}
