"""Catalog, receiving, FEFO dispensing and the ledger, as the app role."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from backend.core.errors import Conflict, PermissionDenied, ValidationFailed
from backend.inventory.service import (
    OutOfStock,
    adjust_stock,
    create_medicine,
    dispense_stock,
    medicine_stock,
    recall_lot,
    receive_stock,
    search_medicines,
)
from tenants.context import TenantContext
from tenants.session import run_in_tenant


def as_role(chain, role: str) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role=role)


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@pytest.fixture
def shelf(db, make_tenant):
    chain = make_tenant("stock")
    owner = as_role(chain, "owner")
    med = run_in_tenant(
        owner,
        create_medicine,
        generic_name="Amoxicillin",
        strength="500 mg",
        dosage_form="capsule",
        barcode="5012345678900",
        schedule="prescription",
        default_sell_price="0.35",
    )
    branch = str(chain.branch_ids[0])
    late = run_in_tenant(
        owner,
        receive_stock,
        branch_id=branch,
        medicine_id=med,
        lot_number="LATE-1",
        expiry_date=in_days(300),
        quantity=50,
        cost_price="0.1200",
    )
    soon = run_in_tenant(
        owner,
        receive_stock,
        branch_id=branch,
        medicine_id=med,
        lot_number="SOON-1",
        expiry_date=in_days(30),
        quantity=20,
        cost_price="0.1150",
    )
    return chain, owner, med, branch, soon, late


def ledger_matches_on_hand(db, chain) -> bool:
    """Every batch of this chain holds exactly the sum of its movements."""
    db.execute(text("RESET ROLE"))
    diff = db.execute(
        text(
            "SELECT count(*) FROM batches b WHERE b.tenant_id = :t AND b.quantity <> "
            "(SELECT coalesce(sum(quantity), 0) FROM stock_movements s WHERE s.tenant_id = b.tenant_id "
            "AND s.batch_id = b.id)"
        ),
        {"t": chain.tenant_id},
    ).scalar_one()
    return diff == 0


def test_dispense_takes_the_soonest_expiring_batch_first_and_spans_batches(db, shelf):
    chain, owner, med, branch, soon, late = shelf
    cashier = as_role(chain, "cashier")
    first = dispense_stock(cashier, branch_id=branch, medicine_id=med, quantity=15, reference="BILL-1")
    assert [(p.lot_number, p.quantity) for p in first] == [("SOON-1", 15)]
    second = dispense_stock(cashier, branch_id=branch, medicine_id=med, quantity=10)
    assert [(p.lot_number, p.quantity) for p in second] == [("SOON-1", 5), ("LATE-1", 5)]
    _, batches, movements = run_in_tenant(owner, medicine_stock, med)
    assert {b.lot_number: b.quantity for b in batches} == {"SOON-1": 0, "LATE-1": 45}
    assert [m.kind for m in movements][:3] == ["dispense", "dispense", "dispense"]
    assert ledger_matches_on_hand(db, chain)


def test_a_sale_that_would_oversell_fails_whole(db, shelf):
    chain, owner, med, branch, *_ = shelf
    with pytest.raises(OutOfStock, match="Only 70"):
        dispense_stock(owner, branch_id=branch, medicine_id=med, quantity=71)
    _, batches, _ = run_in_tenant(owner, medicine_stock, med)
    assert sum(b.quantity for b in batches) == 70  # nothing taken
    assert ledger_matches_on_hand(db, chain)


def test_expired_and_recalled_lots_are_never_sold(db, shelf):
    chain, owner, med, branch, soon, late = shelf
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE batches SET expiry_date = current_date - 1 WHERE id = :b"), {"b": soon})
    picks = dispense_stock(owner, branch_id=branch, medicine_id=med, quantity=5)
    assert [p.lot_number for p in picks] == ["LATE-1"]
    run_in_tenant(owner, recall_lot, med, "LATE-1", "Manufacturer recall notice R-77")
    with pytest.raises(OutOfStock):
        dispense_stock(owner, branch_id=branch, medicine_id=med, quantity=1)
    _, batches, _ = run_in_tenant(owner, medicine_stock, med)
    assert {(b.lot_number, b.expired, b.recalled) for b in batches} == {
        ("SOON-1", True, False),
        ("LATE-1", False, True),
    }
    with pytest.raises(ValidationFailed, match="recalled"):
        run_in_tenant(
            owner,
            receive_stock,
            branch_id=branch,
            medicine_id=med,
            lot_number="LATE-1",
            expiry_date=in_days(300),
            quantity=5,
        )
    with pytest.raises(ValidationFailed, match="expired"):
        run_in_tenant(
            owner,
            receive_stock,
            branch_id=branch,
            medicine_id=med,
            lot_number="OLD-9",
            expiry_date=in_days(-1),
            quantity=5,
        )


def test_receiving_the_same_lot_again_grows_it_and_bad_input_changes_nothing(db, shelf):
    chain, owner, med, branch, soon, late = shelf
    again = run_in_tenant(
        owner,
        receive_stock,
        branch_id=branch,
        medicine_id=med,
        lot_number="SOON-1",
        expiry_date=in_days(30),
        quantity=5,
    )
    assert again == soon
    for bad, field in (
        ({"quantity": "2.5"}, "quantity"),
        ({"quantity": 0}, "quantity"),
        ({"expiry_date": "31/12/2027"}, "expiry_date"),
        ({"lot_number": " "}, "lot_number"),
        ({"expiry_date": in_days(99)}, "expiry_date"),
    ):
        args = {
            "branch_id": branch,
            "medicine_id": med,
            "lot_number": "SOON-1",
            "expiry_date": in_days(30),
            "quantity": 1,
            **bad,
        }
        with pytest.raises(ValidationFailed) as failure:
            run_in_tenant(owner, receive_stock, **args)
        assert failure.value.field == field
    _, batches, _ = run_in_tenant(owner, medicine_stock, med)
    assert {b.lot_number: b.quantity for b in batches} == {"SOON-1": 25, "LATE-1": 50}
    assert ledger_matches_on_hand(db, chain)


def test_adjustments_need_a_reason_and_never_go_below_zero(db, shelf):
    chain, owner, med, branch, soon, late = shelf
    with pytest.raises(ValidationFailed, match="why"):
        run_in_tenant(owner, adjust_stock, batch_id=soon, change=-1, reason="")
    with pytest.raises(Conflict, match="below zero"):
        run_in_tenant(owner, adjust_stock, batch_id=soon, change=-21, reason="recount")
    run_in_tenant(owner, adjust_stock, batch_id=soon, change=-2, reason="broken bottle")
    assert ledger_matches_on_hand(db, chain)
    with pytest.raises(PermissionDenied):
        run_in_tenant(as_role(chain, "cashier"), adjust_stock, batch_id=soon, change=-1, reason="recount")
    with pytest.raises(PermissionDenied):
        run_in_tenant(
            as_role(chain, "cashier"),
            receive_stock,
            branch_id=branch,
            medicine_id=med,
            lot_number="X",
            expiry_date=in_days(10),
            quantity=1,
        )


def test_search_by_name_brand_or_barcode_with_stock_and_isolation(db, shelf, make_tenant):
    chain, owner, med, branch, *_ = shelf
    found, more = run_in_tenant(as_role(chain, "cashier"), search_medicines, "amox")
    assert [(m.generic_name, m.on_hand) for m in found] == [("Amoxicillin", 70)] and not more
    assert [m.id for m in run_in_tenant(owner, search_medicines, "5012345678900")[0]] == [med]
    other = make_tenant("other-stock")
    assert run_in_tenant(as_role(other, "owner"), search_medicines, "amox")[0] == []


def test_transfers_move_stock_atomically_between_branches(db, make_tenant):
    from backend.inventory.service import transfer_stock

    chain = make_tenant("transfer", branches=2)
    owner = as_role(chain, "owner")
    med = run_in_tenant(owner, create_medicine, generic_name="Omeprazole", strength="20 mg")
    here, there = str(chain.branch_ids[0]), str(chain.branch_ids[1])
    batch = run_in_tenant(
        owner, receive_stock, branch_id=here, medicine_id=med, lot_number="OME-1", expiry_date=in_days(90), quantity=40
    )
    arrived = run_in_tenant(
        as_role(chain, "technician"), transfer_stock, batch_id=batch, to_branch_id=there, quantity=15
    )
    _, batches, movements = run_in_tenant(owner, medicine_stock, med)
    assert {(b.branch, b.quantity) for b in batches} == {("Branch 1", 25), ("Branch 2", 15)}
    assert sorted(m.kind for m in movements[:2]) == ["transfer_in", "transfer_out"]
    assert arrived != batch and ledger_matches_on_hand(db, chain)
    with pytest.raises(OutOfStock):
        run_in_tenant(owner, transfer_stock, batch_id=batch, to_branch_id=there, quantity=26)
    with pytest.raises(ValidationFailed, match="another branch"):
        run_in_tenant(owner, transfer_stock, batch_id=batch, to_branch_id=here, quantity=1)
    run_in_tenant(owner, recall_lot, med, "OME-1", "Recall notice R-12")
    with pytest.raises(ValidationFailed, match="recalled"):
        run_in_tenant(owner, transfer_stock, batch_id=batch, to_branch_id=there, quantity=1)
    with pytest.raises(PermissionDenied):
        run_in_tenant(as_role(chain, "cashier"), transfer_stock, batch_id=batch, to_branch_id=there, quantity=1)
    _, batches, _ = run_in_tenant(owner, medicine_stock, med)
    assert {(b.branch, b.quantity) for b in batches} == {
        ("Branch 1", 25),
        ("Branch 2", 15),
    }  # refused moves changed nothing
