"""Branches: the owner adds, edits, deactivates and reactivates them; bad input changes nothing; a
deactivated branch keeps its history and takes no sales, deliveries, transfers in or orders."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from backend.accounts.staff import invite
from backend.billing.bills.service import create_draft, finalize_bill, get_bill
from backend.billing.reports.service import daily_report
from backend.branches.service import (
    OpeningInterval,
    create_branch,
    get_branch,
    list_branches,
    opening_hours,
    set_branch_active,
    update_branch,
)
from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.inventory.alerts import stock_alerts
from backend.inventory.purchasing import create_supplier, draft_order, suggest_order
from backend.inventory.reorder import set_reorder_level
from backend.inventory.service import create_medicine, medicine_stock, receive_stock, transfer_stock
from tenants.context import TenantContext
from tenants.directory import BranchInactive, tenant_profile
from tenants.session import run_in_tenant, tenant_session

EXPIRY = (date.today() + timedelta(days=300)).isoformat()
NEW_BRANCH = {
    "name": "Old Town",
    "code": "ot1",
    "address": "4 Market Square",
    "phone": "+44 20 7946 0000",
    "time_zone": "Europe/London",
    "default_tax_rate": "20",
    "reduced_tax_rate": "5",
    "prices_include_tax": True,
    "opening_hours": {"mon": "09:00-18:00", "tue": "09:00-13:00, 14:00-18:00", "sun": "closed"},
}


def owner_of(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def counts(ctx: TenantContext) -> tuple[int, int]:
    """Branches and audit events of the chain: what a refused write must leave as it was."""
    with tenant_session(ctx) as session:
        return (
            session.execute(text("SELECT count(*) FROM branches")).scalar_one(),
            session.execute(text("SELECT count(*) FROM audit_events")).scalar_one(),
        )


def audit_actions(ctx: TenantContext) -> list[str]:
    with tenant_session(ctx) as session:
        return list(session.execute(text("SELECT action FROM audit_events ORDER BY seq")).scalars())


def test_an_owner_adds_a_branch_that_everything_sees_at_once(db, make_tenant):
    chain = make_tenant("branches")
    owner = owner_of(chain)
    branch = run_in_tenant(owner, create_branch, **NEW_BRANCH)
    assert (branch.code, branch.time_zone, branch.is_active) == ("OT1", "Europe/London", True)
    assert (branch.default_tax_rate, branch.reduced_tax_rate, branch.prices_include_tax) == (
        Decimal("20"),
        Decimal("5"),
        True,
    )
    assert branch.opening_hours["mon"] == [OpeningInterval("09:00", "18:00")]
    assert branch.opening_hours["tue"] == [OpeningInterval("09:00", "13:00"), OpeningInterval("14:00", "18:00")]
    assert branch.opening_hours["wed"] == [] and branch.opening_hours["sun"] == []  # not given: closed
    assert audit_actions(owner)[-1] == "branch.created"
    # The shell, transfers, reports and invitations read tenant_profile / the branches table afresh.
    assert [b.name for b in tenant_profile(owner).branches] == ["Branch 1", "Old Town"]
    assert run_in_tenant(owner, get_branch, branch.id) == branch
    assert [b.code for b in run_in_tenant(owner, list_branches)] == ["B1", "OT1"]
    # The new branch sells at once, with its own tax settings (prices include 20 %).
    medicine = run_in_tenant(
        owner, create_medicine, generic_name="Cetirizine", strength="10 mg", default_sell_price="6.00"
    )
    run_in_tenant(
        owner, receive_stock, branch_id=branch.id, medicine_id=medicine, lot_number="C1", expiry_date=EXPIRY, quantity=5
    )
    bill = run_in_tenant(
        owner,
        finalize_bill,
        run_in_tenant(owner, create_draft, branch_id=branch.id, lines=[{"medicine_id": medicine, "quantity": 1}]).id,
    )
    assert bill.number is not None and bill.number.startswith("OT1-")
    assert (bill.total, bill.tax_total) == (Decimal("6.0000"), Decimal("1.0000"))


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": " "}, "name", "Name the branch"),
        ({"code": "B 1!"}, "code", "letters, digits or hyphens"),
        ({"code": "b1"}, "code", "already has the code B1"),  # another branch's code, in other letters
        ({"name": "Branch 1"}, "name", "already called Branch 1"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone"),
        ({"time_zone": ""}, "time_zone", "time zone"),
        ({"phone": "call us"}, "phone", "6 to 15 digits"),
        ({"phone": "12 34"}, "phone", "6 to 15 digits"),
        ({"default_tax_rate": "100"}, "default_tax_rate", "between 0 and 100"),
        ({"reduced_tax_rate": "-1"}, "reduced_tax_rate", "between 0 and 100"),
        ({"default_tax_rate": "7.12345"}, "default_tax_rate", "4 decimals"),
        ({"default_tax_rate": "twenty"}, "default_tax_rate", "in percent"),
        ({"prices_include_tax": "perhaps"}, "prices_include_tax", "yes or no"),
        ({"opening_hours": {"mon": "18:00-09:00"}}, "opening_hours.mon", "closes before it opens"),
        ({"opening_hours": {"mon": "22:00-02:00"}}, "opening_hours.mon", "next day"),
        ({"opening_hours": {"tue": "09:00-13:00, 12:00-18:00"}}, "opening_hours.tue", "overlap"),
        ({"opening_hours": {"wed": "9 till 5"}}, "opening_hours.wed", "09:00-18:00"),
        ({"opening_hours": {"thu": "09:00-25:00"}}, "opening_hours.thu", "not a time"),
        ({"opening_hours": {"fri": "8-17"}}, "opening_hours.fri", "not a time"),
        (
            {"opening_hours": {"fri": "08:00-09:00, 10:00-11:00, 12:00-13:00, 14:00-15:00, 16:00-17:00"}},
            "opening_hours.fri",
            "at most 4",
        ),
        ({"opening_hours": {"funday": "09:00-17:00"}}, "opening_hours", "Unknown weekday"),
        ({"opening_hours": {"mon": "09:00-17:00", "monday": "10:00-12:00"}}, "opening_hours", "twice"),
        ({"opening_hours": ["09:00-17:00"]}, "opening_hours", "per weekday"),
        ({"opening_hours": {"sat": [{"opens": "09:00"}]}}, "opening_hours.sat", "each interval"),
    ],
)
def test_bad_input_is_refused_with_its_field_and_nothing_is_written(db, make_tenant, change, field, message):
    chain = make_tenant("branch-refusals")
    owner = owner_of(chain)
    before = counts(owner)
    with pytest.raises((ValidationFailed, Conflict)) as refused:
        run_in_tenant(owner, create_branch, **{**NEW_BRANCH, **change})
    assert refused.value.field == field and message in refused.value.message
    if change.get("code") != "b1" and change.get("name") != "Branch 1":  # its own name and code are fine
        with pytest.raises((ValidationFailed, Conflict)) as refused_edit:
            run_in_tenant(
                owner, update_branch, str(chain.branch_ids[0]), **{**NEW_BRANCH, "code": "B1", "name": "B", **change}
            )
        assert refused_edit.value.field == field
    assert counts(owner) == before
    assert run_in_tenant(owner, get_branch, str(chain.branch_ids[0])).name == "Branch 1"


def test_only_the_owner_manages_branches(db, make_tenant):
    chain = make_tenant("branch-roles", branches=2)
    before = counts(owner_of(chain))
    for role in ("manager", "pharmacist", "technician", "cashier", "api-write", "support"):
        ctx = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role=role)
        with pytest.raises(PermissionDenied):
            run_in_tenant(ctx, create_branch, **NEW_BRANCH)
        with pytest.raises(PermissionDenied):
            run_in_tenant(ctx, update_branch, str(chain.branch_ids[0]), **NEW_BRANCH)
        with pytest.raises(PermissionDenied):
            run_in_tenant(ctx, set_branch_active, str(chain.branch_ids[1]), False)
    admin_token = TenantContext(tenant_id=chain.tenant_id, user_id=None, role="api-admin")
    assert run_in_tenant(admin_token, create_branch, **NEW_BRANCH).code == "OT1"
    assert counts(owner_of(chain))[0] == before[0] + 1


def test_opening_hours_forms():
    assert opening_hours(None) == {} and opening_hours({}) == {}
    assert opening_hours({day: "" for day in ("mon", "tue")}) == {}  # a form left blank: not stated
    week = opening_hours(
        {
            "Monday": "9:00 - 18:00",
            "tue": "09:00–13:00; 14:00–18:30",
            "wed": [["08:00", "24:00"]],
            "thu": [{"opens": "00:00", "closes": "24:00"}],
            "fri": "closed",
        }
    )
    assert list(week) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert week["mon"] == [OpeningInterval("09:00", "18:00")]
    assert week["tue"] == [OpeningInterval("09:00", "13:00"), OpeningInterval("14:00", "18:30")]
    assert week["wed"] == [OpeningInterval("08:00", "24:00")]
    assert week["thu"] == [OpeningInterval("00:00", "24:00")]
    assert week["fri"] == week["sat"] == week["sun"] == []


def test_editing_a_branch_is_audited_and_its_code_is_kept_once_it_numbered_a_bill(db, make_tenant):
    chain = make_tenant("branch-edit", branches=2)
    owner = owner_of(chain)
    quiet, busy = (str(b) for b in chain.branch_ids)
    fields = {"name": "Branch 1", "code": "B1", "time_zone": "UTC"}
    assert run_in_tenant(owner, update_branch, quiet, **fields).name == "Branch 1"
    assert "branch.updated" not in audit_actions(owner)  # nothing changed, nothing recorded
    renamed = run_in_tenant(
        owner, update_branch, quiet, **{**fields, "name": "Riverside", "code": "RS", "phone": "555 0100 22"}
    )
    assert (renamed.name, renamed.code, renamed.phone) == ("Riverside", "RS", "555 0100 22")
    with tenant_session(owner) as session:
        details = session.execute(
            text("SELECT details FROM audit_events WHERE action = 'branch.updated' ORDER BY seq DESC LIMIT 1")
        ).scalar_one()
    assert details == {"fields": ["name", "code", "phone"]}

    medicine = run_in_tenant(owner, create_medicine, generic_name="Loratadine", default_sell_price="2.00")
    run_in_tenant(
        owner, receive_stock, branch_id=busy, medicine_id=medicine, lot_number="L1", expiry_date=EXPIRY, quantity=3
    )
    run_in_tenant(
        owner,
        finalize_bill,
        run_in_tenant(owner, create_draft, branch_id=busy, lines=[{"medicine_id": medicine, "quantity": 1}]).id,
    )
    with pytest.raises(Conflict, match="its code stays B2") as refused:
        run_in_tenant(owner, update_branch, busy, name="Branch 2", code="B9", time_zone="UTC")
    assert refused.value.field == "code"
    assert (
        run_in_tenant(owner, update_branch, busy, name="High Street", code="B2", time_zone="UTC").name == "High Street"
    )


def test_a_deactivated_branch_keeps_its_history_and_takes_no_new_work(db, make_tenant):
    chain = make_tenant("branch-closed", branches=2)
    owner = owner_of(chain)
    open_, closing = (str(b) for b in chain.branch_ids)
    medicine = run_in_tenant(
        owner, create_medicine, generic_name="Omeprazole", strength="20 mg", default_sell_price="3.00"
    )
    batch = run_in_tenant(
        owner, receive_stock, branch_id=closing, medicine_id=medicine, lot_number="O1", expiry_date=EXPIRY, quantity=10
    )
    sold = run_in_tenant(
        owner,
        finalize_bill,
        run_in_tenant(owner, create_draft, branch_id=closing, lines=[{"medicine_id": medicine, "quantity": 2}]).id,
    )
    draft = run_in_tenant(owner, create_draft, branch_id=closing, lines=[{"medicine_id": medicine, "quantity": 1}])
    run_in_tenant(
        owner, set_reorder_level, branch_id=closing, medicine_id=medicine, reorder_point=50, reorder_quantity=100
    )
    supplier = run_in_tenant(owner, create_supplier, name="Wholesale Ltd")
    assert [a.branch for a in run_in_tenant(owner, stock_alerts).low_stock] == ["Branch 2"]

    closed = run_in_tenant(owner, set_branch_active, closing, False)
    assert not closed.is_active and closed.deactivated_at is not None
    assert audit_actions(owner)[-1] == "branch.deactivated"
    assert [(b.name, b.is_active) for b in tenant_profile(owner).branches] == [("Branch 1", True), ("Branch 2", False)]

    refusals = [
        lambda: run_in_tenant(owner, create_draft, branch_id=closing, lines=[{"medicine_id": medicine, "quantity": 1}]),
        lambda: run_in_tenant(owner, finalize_bill, draft.id),  # a draft written before the branch closed
        lambda: run_in_tenant(
            owner,
            receive_stock,
            branch_id=closing,
            medicine_id=medicine,
            lot_number="O2",
            expiry_date=EXPIRY,
            quantity=1,
        ),
        lambda: run_in_tenant(
            owner, draft_order, supplier_id=supplier, branch_id=closing, lines=[(medicine, 5, "1.00")]
        ),
        lambda: run_in_tenant(owner, suggest_order, supplier_id=supplier, branch_id=closing),
        lambda: run_in_tenant(
            owner, set_reorder_level, branch_id=closing, medicine_id=medicine, reorder_point=1, reorder_quantity=2
        ),
    ]
    for refuse in refusals:
        with pytest.raises(BranchInactive, match="Branch 2 is deactivated"):
            refuse()
    # Stock may leave it (how it is emptied), never arrive.
    moved = run_in_tenant(owner, transfer_stock, batch_id=batch, to_branch_id=open_, quantity=3)
    with pytest.raises(BranchInactive, match="takes no transfers in"):
        run_in_tenant(owner, transfer_stock, batch_id=moved, to_branch_id=closing, quantity=1)
    # History stays readable: the bill, its report, the stock; its low-stock line no longer alerts.
    assert run_in_tenant(owner, get_bill, sold.id).number == sold.number
    assert run_in_tenant(owner, daily_report, closing, date.today()).bills == 1
    assert sorted(b.quantity for b in run_in_tenant(owner, medicine_stock, medicine)[1]) == [3, 5]
    assert run_in_tenant(owner, stock_alerts).low_stock == []

    with pytest.raises(ValidationFailed, match="deactivated"):  # nobody new is scoped to it
        invite(owner, "new.pharmacist@example.com", "pharmacist", [closing], send_email=False)
    with pytest.raises(Conflict, match="only active branch"):
        run_in_tenant(owner, set_branch_active, open_, False)
    assert run_in_tenant(owner, set_branch_active, closing, True).is_active
    assert audit_actions(owner)[-1] == "branch.reactivated"
    assert (run_in_tenant(owner, finalize_bill, draft.id).number or "").startswith("B2-")


def test_another_chain_or_an_unscoped_branch_is_not_found(db, make_tenant):
    chain, other = make_tenant("branch-mine", branches=2), make_tenant("branch-theirs")
    owner = owner_of(chain)
    for missing in (str(other.branch_ids[0]), "not-a-uuid"):
        with pytest.raises(NotFound):
            run_in_tenant(owner, get_branch, missing)
        with pytest.raises(NotFound):
            run_in_tenant(owner, update_branch, missing, **NEW_BRANCH)
        with pytest.raises(NotFound):
            run_in_tenant(owner, set_branch_active, missing, False)
    scoped = TenantContext(
        tenant_id=chain.tenant_id,
        user_id=chain.owner_user_id,
        role="owner",
        branch_ids=frozenset({chain.branch_ids[0]}),
    )
    with pytest.raises(NotFound):
        run_in_tenant(scoped, get_branch, str(chain.branch_ids[1]))
    assert [b.code for b in run_in_tenant(scoped, list_branches)] == ["B1"]
