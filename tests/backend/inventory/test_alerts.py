"""Stock alerts: low stock, expiry windows, expired and recalled stock on the shelf, value at risk."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text

from backend.inventory.alerts import stock_alerts
from backend.inventory.reorder import set_reorder_level
from backend.inventory.service import create_medicine, dispense_stock, recall_lot, receive_stock
from tenants.context import TenantContext
from tenants.session import run_in_tenant


def test_alerts_cover_low_expiring_expired_and_recalled_stock(db, make_tenant):
    chain = make_tenant("alerts", branches=2)
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    here = str(chain.branch_ids[0])
    med = run_in_tenant(owner, create_medicine, generic_name="Insulin glargine", strength="100 U/ml")
    soon = run_in_tenant(
        owner,
        receive_stock,
        branch_id=here,
        medicine_id=med,
        lot_number="SOON",
        expiry_date=(date.today() + timedelta(days=20)).isoformat(),
        quantity=10,
        cost_price="3.5000",
    )
    run_in_tenant(
        owner,
        receive_stock,
        branch_id=here,
        medicine_id=med,
        lot_number="LATER",
        expiry_date=(date.today() + timedelta(days=75)).isoformat(),
        quantity=4,
        cost_price="3.5000",
    )
    run_in_tenant(
        owner,
        receive_stock,
        branch_id=here,
        medicine_id=med,
        lot_number="FAR",
        expiry_date=(date.today() + timedelta(days=400)).isoformat(),
        quantity=2,
        cost_price="3.5000",
    )
    run_in_tenant(
        owner,
        receive_stock,
        branch_id=here,
        medicine_id=med,
        lot_number="BAD",
        expiry_date=(date.today() + timedelta(days=300)).isoformat(),
        quantity=1,
        cost_price="3.5000",
    )
    run_in_tenant(owner, recall_lot, med, "BAD", "Recall notice R-9")
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE batches SET expiry_date = current_date - 3 WHERE id = :b"), {"b": soon})
    run_in_tenant(owner, set_reorder_level, branch_id=here, medicine_id=med, reorder_point=20, reorder_quantity=50)

    alerts = run_in_tenant(
        TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="cashier"), stock_alerts
    )
    assert alerts.windows == [30, 60, 90]
    assert [(a.lot, a.quantity) for a in alerts.expired_on_shelf] == [("SOON", 10)]
    assert [(a.lot, a.detail) for a in alerts.expiring] == [("LATER", "75 days left")]
    assert alerts.expiring_within(30) == 0 and alerts.expiring_within(90) == 1
    assert [a.lot for a in alerts.recalled_in_stock] == ["BAD"]
    assert [(a.medicine, a.quantity) for a in alerts.low_stock] == [("Insulin glargine 100 U/ml", 17)]
    assert alerts.value_at_risk == Decimal("3.5") * (10 + 4 + 1)

    dispense_stock(owner, branch_id=here, medicine_id=med, quantity=6)  # sells LATER (SOON is expired)
    after = run_in_tenant(owner, stock_alerts)
    assert after.expiring == [] and after.low_stock[0].quantity == 11


def test_a_branch_scoped_member_sees_only_their_branches(db, make_tenant):
    chain = make_tenant("alerts-scope", branches=2)
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    med = run_in_tenant(owner, create_medicine, generic_name="Salbutamol")
    for branch in chain.branch_ids:
        run_in_tenant(
            owner,
            receive_stock,
            branch_id=str(branch),
            medicine_id=med,
            lot_number="S1",
            expiry_date=(date.today() + timedelta(days=10)).isoformat(),
            quantity=3,
        )
    scoped = TenantContext(
        tenant_id=chain.tenant_id,
        user_id=chain.owner_user_id,
        role="pharmacist",
        branch_ids=frozenset({chain.branch_ids[1]}),
    )
    assert [a.branch for a in run_in_tenant(scoped, stock_alerts).expiring] == ["Branch 2"]
