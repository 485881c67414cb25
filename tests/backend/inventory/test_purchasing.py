"""Suppliers and purchase orders: suggest from reorder points, send, receive in parts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.core.errors import Conflict, PermissionDenied, ValidationFailed
from backend.inventory.purchasing import (
    create_supplier,
    draft_order,
    list_orders,
    receive_order_line,
    send_order,
    suggest_order,
)
from backend.inventory.reorder import set_reorder_level
from backend.inventory.service import create_medicine, medicine_stock
from tenants.context import TenantContext
from tenants.session import run_in_tenant


def test_suggest_send_and_receive_an_order_in_two_deliveries(db, make_tenant):
    chain = make_tenant("po")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    supplier = run_in_tenant(owner, create_supplier, name="Northwind Pharma", lead_time_days=3)
    with pytest.raises(Conflict):
        run_in_tenant(owner, create_supplier, name="northwind pharma")
    low = run_in_tenant(owner, create_medicine, generic_name="Amlodipine", strength="5 mg")
    fine = run_in_tenant(owner, create_medicine, generic_name="Aspirin", strength="75 mg")
    run_in_tenant(owner, set_reorder_level, branch_id=branch, medicine_id=low, reorder_point=10, reorder_quantity=100)
    order_id = run_in_tenant(owner, suggest_order, supplier_id=supplier, branch_id=branch)
    assert order_id is not None
    [order] = run_in_tenant(owner, list_orders)
    assert order.status == "draft" and order.number.startswith("PO-")
    assert [(line.medicine, line.ordered) for line in order.lines] == [("Amlodipine 5 mg", 100)]
    assert fine not in [line.medicine_id for line in order.lines]

    expiry = (date.today() + timedelta(days=365)).isoformat()
    with pytest.raises(Conflict, match="draft"):
        run_in_tenant(
            owner,
            receive_order_line,
            order_id=order_id,
            medicine_id=low,
            lot_number="AML-1",
            expiry_date=expiry,
            quantity=60,
        )
    run_in_tenant(owner, send_order, order_id)
    run_in_tenant(
        owner,
        receive_order_line,
        order_id=order_id,
        medicine_id=low,
        lot_number="AML-1",
        expiry_date=expiry,
        quantity=60,
    )
    assert run_in_tenant(owner, list_orders)[0].status == "partially_received"
    with pytest.raises(ValidationFailed, match="not on this order"):
        run_in_tenant(
            owner,
            receive_order_line,
            order_id=order_id,
            medicine_id=fine,
            lot_number="X",
            expiry_date=expiry,
            quantity=1,
        )
    run_in_tenant(
        owner,
        receive_order_line,
        order_id=order_id,
        medicine_id=low,
        lot_number="AML-2",
        expiry_date=expiry,
        quantity=40,
    )
    [done] = run_in_tenant(owner, list_orders)
    assert done.status == "received" and done.lines[0].received == 100
    _, batches, movements = run_in_tenant(owner, medicine_stock, low)
    assert sorted(b.quantity for b in batches) == [40, 60]
    assert {m.reference for m in movements} == {done.number}


def test_only_purchasers_draft_orders(db, make_tenant):
    chain = make_tenant("po-perm")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    supplier = run_in_tenant(owner, create_supplier, name="Acme Wholesale")
    technician = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="technician")
    with pytest.raises(PermissionDenied):
        run_in_tenant(technician, draft_order, supplier_id=supplier, branch_id=str(chain.branch_ids[0]), lines=[])
    with pytest.raises(ValidationFailed, match="at least one line"):
        run_in_tenant(owner, draft_order, supplier_id=supplier, branch_id=str(chain.branch_ids[0]), lines=[])
    assert run_in_tenant(owner, suggest_order, supplier_id=supplier, branch_id=str(chain.branch_ids[0])) is None
