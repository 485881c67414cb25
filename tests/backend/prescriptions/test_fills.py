"""Filling a verified prescription: FEFO lots from inventory, the lots on the fill, the dispense movement
that names the fill, partial fills with the remainder owed, and every refusal writing nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from backend.core.errors import PermissionDenied
from backend.inventory.service import OutOfStock, recall_lot, receive_stock
from backend.prescriptions import fills
from backend.prescriptions.enums import FillStatus, RxStatus
from backend.prescriptions.service import RefusedTransition, get_prescription


def receive(pharmacy, medicine: str, lot: str, quantity: int, days: int = 400) -> str:
    return pharmacy.run(
        pharmacy.owner,
        receive_stock,
        branch_id=pharmacy.branch,
        medicine_id=pharmacy.medicines[medicine],
        lot_number=lot,
        expiry_date=(date.today() + timedelta(days=days)).isoformat(),
        quantity=quantity,
    )


def on_hand(db, pharmacy, medicine: str) -> dict[str, int]:
    db.execute(text("RESET ROLE"))
    rows = db.execute(
        text("SELECT lot_number, quantity FROM batches WHERE medicine_id = :m ORDER BY lot_number"),
        {"m": pharmacy.medicines[medicine]},
    ).all()
    return {r.lot_number: r.quantity for r in rows}


def movements(db, reference: str, tenant_id) -> list[tuple[str, str, int]]:
    """The stock moves of a fill (its code as the reference) in the test's chain: committed chains of other
    tests may hold the same code."""
    db.execute(text("RESET ROLE"))
    rows = db.execute(
        text(
            "SELECT b.lot_number, m.kind, m.quantity FROM stock_movements m JOIN batches b ON b.id = m.batch_id "
            "WHERE m.reference = :r AND m.tenant_id = :t ORDER BY b.lot_number"
        ),
        {"r": reference, "t": tenant_id},
    ).all()
    return [(r.lot_number, r.kind, r.quantity) for r in rows]


def fill(pharmacy, rx_id: str, ctx=None, **kwargs):
    return pharmacy.run(ctx or pharmacy.technician, fills.fill_prescription, rx_id, **kwargs)


def test_a_verified_prescription_is_filled_from_the_soonest_expiring_lots(pharmacy, db):
    receive(pharmacy, "lisinopril", "LATE", 50, days=600)
    receive(pharmacy, "lisinopril", "SOON", 20, days=100)
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30")
    assert rx.status == RxStatus.FILL

    done = fill(pharmacy, rx.id)

    assert (done.quantity, done.owed_after, done.status) == (30, 0, FillStatus.AWAITING_CHECK)
    assert [(lot.lot_number, lot.quantity) for lot in done.lots] == [("SOON", 20), ("LATE", 10)]
    assert done.code == f"{rx.rx_number}-0-1"
    # The soonest lot's expiry comes before a year from today: the label's discard-after date is the lot's.
    assert done.discard_after == date.today() + timedelta(days=100)
    assert on_hand(db, pharmacy, "lisinopril") == {"LATE": 40, "SOON": 0}
    assert movements(db, done.code, pharmacy.owner.tenant_id) == [("LATE", "dispense", -10), ("SOON", "dispense", -20)]
    record = pharmacy.run(pharmacy.pharmacist, get_prescription, rx.id)
    assert record.status == RxStatus.FILLED
    assert record.events[-1].action == "filled" and done.code in record.events[-1].reason
    # Filled in full: another fill is refused until the next step, and nothing moves.
    with pytest.raises(fills.NothingOwed, match="final check"):
        fill(pharmacy, rx.id)
    assert on_hand(db, pharmacy, "lisinopril") == {"LATE": 40, "SOON": 0}


def test_a_long_dated_lot_gives_a_discard_date_a_year_from_filling(pharmacy):
    receive(pharmacy, "lisinopril", "L1", 30, days=900)
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30")
    done = fill(pharmacy, rx.id)
    today = date.today()
    assert done.discard_after == fills.add_months(today, 12)


def test_a_recalled_lot_is_never_picked(pharmacy, db):
    receive(pharmacy, "lisinopril", "RECALLED", 30, days=100)
    receive(pharmacy, "lisinopril", "GOOD", 30, days=300)
    pharmacy.run(pharmacy.owner, recall_lot, pharmacy.medicines["lisinopril"], "RECALLED", "maker's recall notice")
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30")
    done = fill(pharmacy, rx.id)
    assert [lot.lot_number for lot in done.lots] == ["GOOD"]
    assert on_hand(db, pharmacy, "lisinopril") == {"GOOD": 0, "RECALLED": 30}


def test_an_unverified_prescription_is_not_filled_and_nothing_moves(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 30)
    rx = pharmacy.entered(pharmacy.patient(), "lisinopril", quantity="30")
    with pytest.raises(RefusedTransition, match="Only a verified prescription can be filled; this one is pharmacist"):
        fill(pharmacy, rx.id)
    assert on_hand(db, pharmacy, "lisinopril") == {"L1": 30}
    counted = db.execute(
        text("SELECT count(*) FROM prescription_fills WHERE tenant_id = :t"), {"t": pharmacy.owner.tenant_id}
    )
    assert counted.scalar_one() == 0


def test_a_cashier_cannot_fill(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 30)
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30")
    with pytest.raises(PermissionDenied):
        fill(pharmacy, rx.id, ctx=pharmacy.cashier)
    assert on_hand(db, pharmacy, "lisinopril") == {"L1": 30}


def test_a_short_shelf_is_refused_unless_filling_part_and_the_rest_is_owed_then_completed(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 12)
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30")
    with pytest.raises(OutOfStock, match="Only 12 in stock.*30 needed. Fill part now and owe the rest"):
        fill(pharmacy, rx.id)
    assert on_hand(db, pharmacy, "lisinopril") == {"L1": 12}

    first = fill(pharmacy, rx.id, partial=True)
    assert (first.quantity, first.owed_after, first.partial) == (12, 18, True)
    assert first.remainder_due_by is None  # not a CII
    record = pharmacy.run(pharmacy.pharmacist, get_prescription, rx.id)
    assert record.status == RxStatus.FILLED and record.events[-1].action == "partial_fill"
    assert "18 owed" in record.events[-1].reason

    # Nothing on the shelf: even a partial fill has nothing to take.
    with pytest.raises(OutOfStock, match="Only 0 in stock"):
        fill(pharmacy, rx.id, partial=True)
    # More than is owed is refused.
    receive(pharmacy, "lisinopril", "L2", 40)
    with pytest.raises(OutOfStock, match="Only 18 are owed"):
        fill(pharmacy, rx.id, quantity="20")

    rest = fill(pharmacy, rx.id)
    assert (rest.dispensing, rest.part, rest.quantity, rest.owed_after, rest.prescribed) == (0, 2, 18, 0, 30)
    assert rest.code == f"{rx.rx_number}-0-2"
    assert on_hand(db, pharmacy, "lisinopril") == {"L1": 0, "L2": 22}
    listed = pharmacy.run(pharmacy.pharmacist, fills.fills_of, rx.id)
    assert [(f.part, f.quantity, f.owed_after) for f in listed] == [(1, 12, 18), (2, 18, 0)]
    with pytest.raises(fills.NothingOwed):
        fill(pharmacy, rx.id)


def test_a_cii_remainder_is_due_within_72_hours_and_then_forfeited(pharmacy, db):
    receive(pharmacy, "oxycodone", "OX1", 10)
    rx = pharmacy.on_profile(pharmacy.patient(), "oxycodone", quantity="20", sig_written="1 tab po q12h prn pain")
    first = fill(pharmacy, rx.id, partial=True)
    assert first.owed_after == 10
    assert first.remainder_due_by is not None
    hours = (first.remainder_due_by - first.filled_at).total_seconds() / 3600
    assert 71.9 < hours < 72.1
    receive(pharmacy, "oxycodone", "OX2", 10)
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE prescription_fills SET remainder_due_by = now() - interval '1 minute' WHERE id = :id"),
        {"id": first.id},
    )
    with pytest.raises(fills.RemainderForfeited, match="72 hours"):
        fill(pharmacy, rx.id)
    assert on_hand(db, pharmacy, "oxycodone") == {"OX1": 0, "OX2": 10}


def test_final_check_refuses_a_different_product_loudly_and_accepts_the_right_bottle(pharmacy, db):
    db.execute(text("RESET ROLE"))
    for name, code in (("lisinopril", "00093711101"), ("warfarin", "00555083202")):
        db.execute(text("UPDATE medicines SET barcode = :b WHERE id = :m"), {"b": code, "m": pharmacy.medicines[name]})
    receive(pharmacy, "lisinopril", "L1", 30)
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30")
    done = fill(pharmacy, rx.id)

    # A technician does not do the final check.
    with pytest.raises(PermissionDenied):
        pharmacy.run(pharmacy.technician, fills.final_check, done.id, "00093711101")
    # The warfarin bottle: refused, naming what was scanned and what the fill is; nothing written.
    with pytest.raises(fills.WrongProduct, match=r"WRONG PRODUCT.*Warfarin 5 mg.*Lisinopril 10 mg"):
        pharmacy.run(pharmacy.pharmacist, fills.final_check, done.id, "00555-0832-02")
    with pytest.raises(fills.WrongProduct, match="a product not in the catalog"):
        pharmacy.run(pharmacy.pharmacist, fills.final_check, done.id, "12345678")
    record = pharmacy.run(pharmacy.pharmacist, get_prescription, rx.id)
    assert record.status == RxStatus.FILLED and record.events[-1].action == "filled"

    checked = pharmacy.run(pharmacy.pharmacist, fills.final_check, done.id, "00093711101")
    assert checked.status == FillStatus.CHECKED and checked.checked_at is not None
    record = pharmacy.run(pharmacy.pharmacist, get_prescription, rx.id)
    assert record.status == RxStatus.READY_FOR_PICKUP and record.events[-1].action == "final_check"
    with pytest.raises(fills.NotAwaitingCheck):
        pharmacy.run(pharmacy.pharmacist, fills.final_check, done.id, "00093711101")


def test_a_medicine_without_a_barcode_cannot_pass_the_final_check(pharmacy):
    receive(pharmacy, "lisinopril", "L1", 30)
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30")
    done = fill(pharmacy, rx.id)
    with pytest.raises(fills.WrongProduct, match="no barcode in the catalog"):
        pharmacy.run(pharmacy.pharmacist, fills.final_check, done.id, "00093711101")


def test_the_rest_of_a_checked_partial_fill_is_filled_and_checked_again(pharmacy, db):
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE medicines SET barcode = '00093711101' WHERE id = :m"), {"m": pharmacy.medicines["lisinopril"]}
    )
    receive(pharmacy, "lisinopril", "L1", 10)
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30")
    first = fill(pharmacy, rx.id, partial=True)
    pharmacy.run(pharmacy.pharmacist, fills.final_check, first.id, "00093711101")
    assert pharmacy.run(pharmacy.pharmacist, get_prescription, rx.id).status == RxStatus.READY_FOR_PICKUP
    receive(pharmacy, "lisinopril", "L2", 30)
    rest = fill(pharmacy, rx.id)
    assert (rest.part, rest.quantity) == (2, 20)
    assert pharmacy.run(pharmacy.pharmacist, get_prescription, rx.id).status == RxStatus.FILLED
    pharmacy.run(pharmacy.pharmacist, fills.final_check, rest.id, "00093711101")
    assert pharmacy.run(pharmacy.pharmacist, get_prescription, rx.id).status == RxStatus.READY_FOR_PICKUP
    with pytest.raises(fills.NothingOwed, match="ready for pickup"):
        fill(pharmacy, rx.id)
