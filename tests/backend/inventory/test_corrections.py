"""Stock that leaves or returns outside a sale: write-offs, returns to the supplier, customer returns."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from backend.core.errors import Conflict, PermissionDenied, ValidationFailed
from backend.inventory.service import correct_stock, medicine_stock, recall_lot
from tenants.session import run_in_tenant
from tests.backend.inventory.test_service import as_role, ledger_matches_on_hand, shelf  # noqa: F401


def test_expired_stock_is_written_off_and_recalled_stock_goes_back_to_the_supplier(db, shelf):  # noqa: F811
    chain, owner, med, branch, soon, late = shelf
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE batches SET expiry_date = current_date - 1 WHERE id = :b"), {"b": soon})
    run_in_tenant(owner, correct_stock, batch_id=soon, kind="write_off", change=20, reason="expired, destroyed per SOP")
    run_in_tenant(owner, recall_lot, med, "LATE-1", "Manufacturer recall notice R-77")
    technician = as_role(chain, "technician")
    run_in_tenant(
        technician,
        correct_stock,
        batch_id=late,
        kind="supplier_return",
        change=50,
        reason="recall R-77",
        reference="RA-5521",
    )
    _, batches, movements = run_in_tenant(owner, medicine_stock, med)
    assert {b.lot_number: b.quantity for b in batches} == {"SOON-1": 0, "LATE-1": 0}
    assert [(m.kind, m.quantity, m.reference) for m in movements[:2]] == [
        ("supplier_return", -50, "RA-5521"),
        ("write_off", -20, ""),
    ]
    assert ledger_matches_on_hand(db, chain)


def test_a_customer_return_goes_back_into_its_batch(db, shelf):  # noqa: F811
    chain, owner, med, branch, soon, late = shelf
    run_in_tenant(
        owner, correct_stock, batch_id=late, kind="customer_return", change=3, reason="unopened, returned same day"
    )
    _, batches, movements = run_in_tenant(owner, medicine_stock, med)
    assert {b.lot_number: b.quantity for b in batches}["LATE-1"] == 53
    assert (movements[0].kind, movements[0].quantity) == ("customer_return", 3)
    assert ledger_matches_on_hand(db, chain)


def test_corrections_refuse_bad_input_and_roles_without_the_permission(db, shelf):  # noqa: F811
    chain, owner, med, branch, soon, late = shelf
    with pytest.raises(Conflict, match="below zero"):
        run_in_tenant(owner, correct_stock, batch_id=soon, kind="write_off", change=21, reason="breakage")
    with pytest.raises(ValidationFailed, match="more than zero"):
        run_in_tenant(owner, correct_stock, batch_id=soon, kind="write_off", change=-2, reason="breakage")
    with pytest.raises(ValidationFailed, match="why"):
        run_in_tenant(owner, correct_stock, batch_id=soon, kind="write_off", change=2, reason="")
    with pytest.raises(ValidationFailed, match="Choose"):
        run_in_tenant(owner, correct_stock, batch_id=soon, kind="lost", change=2, reason="breakage")
    with pytest.raises(PermissionDenied):
        run_in_tenant(
            as_role(chain, "cashier"), correct_stock, batch_id=soon, kind="customer_return", change=1, reason="unopened"
        )
    with pytest.raises(PermissionDenied):
        run_in_tenant(
            as_role(chain, "technician"), correct_stock, batch_id=soon, kind="write_off", change=1, reason="broken"
        )
    _, batches, _ = run_in_tenant(owner, medicine_stock, med)
    assert {b.lot_number: b.quantity for b in batches} == {"SOON-1": 20, "LATE-1": 50}  # nothing changed
    assert ledger_matches_on_hand(db, chain)
