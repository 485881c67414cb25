"""A member limited to some branches sees and moves stock only there, on every inventory path."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.core.errors import NotFound
from backend.inventory.alerts import stock_alerts
from backend.inventory.service import (
    create_medicine,
    dispense_stock,
    medicine_stock,
    receive_stock,
    search_medicines,
    transfer_stock,
)
from tenants.context import TenantContext
from tenants.session import run_in_tenant


@pytest.fixture
def two_branches(db, make_tenant):
    chain = make_tenant("scope", branches=2)
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    home, other = (str(b) for b in chain.branch_ids)
    med = run_in_tenant(owner, create_medicine, generic_name="Salbutamol", strength="100 mcg")
    expiry = (date.today() + timedelta(days=15)).isoformat()  # inside the expiry alert window
    run_in_tenant(
        owner, receive_stock, branch_id=home, medicine_id=med, lot_number="HOME-1", expiry_date=expiry, quantity=5
    )
    run_in_tenant(
        owner, receive_stock, branch_id=other, medicine_id=med, lot_number="AWAY-1", expiry_date=expiry, quantity=70
    )
    scoped = TenantContext(
        tenant_id=chain.tenant_id,
        user_id=chain.owner_user_id,
        role="pharmacist",
        branch_ids=frozenset({chain.branch_ids[0]}),
    )
    return scoped, med, home, other


def test_a_scoped_member_sees_only_their_branch(two_branches):
    scoped, med, _, other = two_branches
    medicine, batches, movements = run_in_tenant(scoped, medicine_stock, med)
    assert medicine.on_hand == 5
    assert [b.lot_number for b in batches] == ["HOME-1"]
    assert [m.lot_number for m in movements] == ["HOME-1"]
    found, _ = run_in_tenant(scoped, search_medicines, "salbutamol")
    assert [m.on_hand for m in found] == [5]
    with pytest.raises(NotFound):
        run_in_tenant(scoped, search_medicines, "salbutamol", branch_id=other)
    alerts = run_in_tenant(scoped, stock_alerts)
    assert {line.lot for line in alerts.expiring} == {"HOME-1"}


def test_a_scoped_member_cannot_move_stock_in_another_branch(two_branches):
    scoped, med, home, other = two_branches
    expiry = (date.today() + timedelta(days=200)).isoformat()
    with pytest.raises(NotFound):
        run_in_tenant(
            scoped, receive_stock, branch_id=other, medicine_id=med, lot_number="X", expiry_date=expiry, quantity=1
        )
    with pytest.raises(NotFound):
        dispense_stock(scoped, branch_id=other, medicine_id=med, quantity=1)
    _, batches, _ = run_in_tenant(scoped, medicine_stock, med)
    with pytest.raises(NotFound):
        run_in_tenant(scoped, transfer_stock, batch_id=batches[0].id, to_branch_id=other, quantity=1)
    assert dispense_stock(scoped, branch_id=home, medicine_id=med, quantity=2)[0].lot_number == "HOME-1"


def test_stock_of_one_branch_and_bad_ids_get_clear_answers(two_branches):
    scoped, med, home, other = two_branches
    owner = TenantContext(tenant_id=scoped.tenant_id, user_id=scoped.user_id, role="owner")
    medicine, batches, _ = run_in_tenant(owner, medicine_stock, med, branch_id=other)
    assert (medicine.on_hand, [b.lot_number for b in batches]) == (70, ["AWAY-1"])
    assert {b.branch_id for b in batches} == {other}
    with pytest.raises(NotFound, match="branch"):
        run_in_tenant(scoped, medicine_stock, med, branch_id=other)
    with pytest.raises(NotFound, match="medicine"):
        run_in_tenant(owner, medicine_stock, "not-a-uuid")
    assert home
