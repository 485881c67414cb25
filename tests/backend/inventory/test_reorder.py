"""Reorder levels: manual and automatic modes, the bulk save (all or nothing), paging and filters, and
the low-stock alerts and suggested orders that fire from them."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from backend.branches.service import set_branch_active
from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.inventory.alerts import stock_alerts
from backend.inventory.csv_export import export_reorder_levels
from backend.inventory.csv_import import stage_import, start_import
from backend.inventory.purchasing import create_supplier, list_orders, suggest_order
from backend.inventory.reorder import (
    PAGE_SIZE,
    list_reorder_levels,
    medicine_reorder_levels,
    record_forecast_levels,
    reorder_level,
    save_reorder_levels,
)
from backend.inventory.service import create_medicine, receive_stock
from tenants.context import TenantContext
from tenants.directory import BranchInactive
from tenants.session import run_in_tenant, tenant_session

EXPIRY = (date.today() + timedelta(days=300)).isoformat()


def as_role(chain, role: str, **kwargs) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role=role, **kwargs)


def level(branch, medicine, mode="manual", point=None, quantity=None) -> dict:
    return {
        "branch_id": str(branch),
        "medicine_id": medicine,
        "mode": mode,
        "reorder_point": point,
        "reorder_quantity": quantity,
    }


def stored_levels(ctx: TenantContext) -> list[tuple]:
    with tenant_session(ctx) as session:
        return [
            tuple(r)
            for r in session.execute(
                text("SELECT medicine_id::text, mode, reorder_point, reorder_quantity FROM reorder_levels ORDER BY 1")
            )
        ]


@pytest.fixture
def shelf(db, make_tenant):
    """Branch 1 holds 8 amoxicillin and 30 ibuprofen; branch 2 holds nothing."""
    chain = make_tenant("reorder", branches=2)
    owner = as_role(chain, "owner")
    amoxicillin = run_in_tenant(
        owner, create_medicine, generic_name="Amoxicillin", strength="500 mg", barcode="5012345678900"
    )
    ibuprofen = run_in_tenant(
        owner, create_medicine, generic_name="Ibuprofen", strength="200 mg", barcode="5012345678917"
    )
    here = str(chain.branch_ids[0])
    for medicine, count in ((amoxicillin, 8), (ibuprofen, 30)):
        run_in_tenant(
            owner,
            receive_stock,
            branch_id=here,
            medicine_id=medicine,
            lot_number="L1",
            expiry_date=EXPIRY,
            quantity=count,
        )
    return chain, owner, here, amoxicillin, ibuprofen


def test_a_manual_level_raises_the_alert_and_the_suggested_order(shelf):
    chain, owner, here, amoxicillin, ibuprofen = shelf
    assert run_in_tenant(owner, stock_alerts).low_stock == []
    result = run_in_tenant(
        owner,
        save_reorder_levels,
        [level(here, amoxicillin, point=10, quantity=100), level(here, ibuprofen, point=5, quantity=50)],
    )
    assert (result.changed, result.cleared, result.unchanged) == (2, 0, 0)
    [alert] = run_in_tenant(owner, stock_alerts).low_stock
    assert (alert.medicine, alert.quantity, alert.detail) == ("Amoxicillin 500 mg", 8, "reorder point 10; order 100")
    supplier = run_in_tenant(owner, create_supplier, name="Northwind")
    assert run_in_tenant(owner, suggest_order, supplier_id=supplier, branch_id=here) is not None
    [order] = run_in_tenant(owner, list_orders)
    assert [(line.medicine, line.ordered) for line in order.lines] == [("Amoxicillin 500 mg", 100)]

    shown = run_in_tenant(owner, reorder_level, here, amoxicillin)
    assert (shown.source, shown.point_in_force, shown.low, shown.on_hand) == ("manual", 10, True, 8)
    assert shown.note == "Manual: reorder at 10, order 100."
    # Saving the same levels again changes nothing (and records nothing).
    again = run_in_tenant(owner, save_reorder_levels, [level(here, amoxicillin, point=10, quantity=100)])
    assert (again.changed, again.unchanged) == (0, 1)
    # Manual with no numbers clears the level: the alert goes.
    assert run_in_tenant(owner, save_reorder_levels, [level(here, amoxicillin)]).cleared == 1
    assert (
        run_in_tenant(owner, stock_alerts).low_stock == []
        and run_in_tenant(owner, reorder_level, here, amoxicillin).source == "none"
    )


def test_automatic_levels_use_the_forecast_and_say_when_they_fall_back(shelf):
    chain, owner, here, amoxicillin, ibuprofen = shelf
    run_in_tenant(
        owner,
        save_reorder_levels,
        [level(here, amoxicillin, "automatic", point=10, quantity=100), level(here, ibuprofen, "automatic")],
    )
    fallback = run_in_tenant(owner, reorder_level, here, amoxicillin)
    assert (fallback.source, fallback.point_in_force) == ("fallback", 10)
    assert "no forecast yet: using the manual level" in fallback.note
    nothing = run_in_tenant(owner, reorder_level, here, ibuprofen)
    assert (nothing.source, nothing.point_in_force, nothing.low) == ("none", None, False)
    assert "no forecast yet and no manual level" in nothing.note
    [alert] = run_in_tenant(owner, stock_alerts).low_stock  # from the fallback; ibuprofen has nothing in force
    assert alert.detail == "reorder point 10; order 100 (automatic, no forecast yet: manual level)"

    system = TenantContext.system(chain.tenant_id)  # forecasting runs as a background job
    with tenant_session(system) as session:
        record_forecast_levels(session, system, here, [(amoxicillin, 5, 40), (ibuprofen, 35, 120)])
    by_forecast = {a.medicine: a.detail for a in run_in_tenant(owner, stock_alerts).low_stock}
    assert by_forecast == {"Ibuprofen 200 mg": "reorder point 35; order 120 (forecast)"}  # 8 > 5: amoxicillin fine
    supplier = run_in_tenant(owner, create_supplier, name="Contoso")
    run_in_tenant(owner, suggest_order, supplier_id=supplier, branch_id=here)
    assert [(line.medicine, line.ordered) for line in run_in_tenant(owner, list_orders)[0].lines] == [
        ("Ibuprofen 200 mg", 120)
    ]
    # A manual level is a choice the forecast does not override, and switching back to automatic hands it over.
    run_in_tenant(owner, save_reorder_levels, [level(here, amoxicillin, point=9, quantity=60)])
    manual = run_in_tenant(owner, reorder_level, here, amoxicillin)
    assert (manual.source, manual.point_in_force, manual.forecast_point) == ("manual", 9, 5)
    run_in_tenant(owner, save_reorder_levels, [level(here, amoxicillin, "automatic", point=9, quantity=60)])
    assert run_in_tenant(owner, reorder_level, here, amoxicillin).source == "forecast"


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"reorder_point": -1, "reorder_quantity": 5}, "reorder_point", "0 or more"),
        ({"reorder_point": 3, "reorder_quantity": 0}, "reorder_quantity", "at least 1"),
        ({"reorder_point": "2.5", "reorder_quantity": 5}, "reorder_point", "whole numbers"),
        ({"reorder_point": True, "reorder_quantity": 5}, "reorder_point", "whole numbers"),
        ({"reorder_point": 3, "reorder_quantity": None}, "reorder_quantity", "or leave both empty"),
        ({"reorder_point": 3, "reorder_quantity": 10**9}, "reorder_quantity", "At most"),
        ({"mode": "forecast", "reorder_point": 3, "reorder_quantity": 5}, "mode", "manual or automatic"),
    ],
)
def test_a_bad_level_refuses_the_whole_save(shelf, bad, field, message):
    chain, owner, here, amoxicillin, ibuprofen = shelf
    run_in_tenant(owner, save_reorder_levels, [level(here, ibuprofen, point=1, quantity=2)])
    before = stored_levels(owner)
    with pytest.raises(ValidationFailed) as refused:
        run_in_tenant(
            owner,
            save_reorder_levels,
            [level(here, ibuprofen, point=7, quantity=70), {**level(here, amoxicillin), **bad}],
        )
    assert refused.value.field == field and message in refused.value.message
    assert refused.value.message.startswith("Amoxicillin 500 mg at Branch 1: ")
    assert stored_levels(owner) == before  # the good line was not saved either


def test_other_refusals(shelf, make_tenant):
    chain, owner, here, amoxicillin, ibuprofen = shelf
    other_chain = make_tenant("reorder-other")
    twice = [level(here, amoxicillin, point=1, quantity=2), level(here, amoxicillin, point=3, quantity=4)]
    with pytest.raises(ValidationFailed, match="listed twice"):
        run_in_tenant(owner, save_reorder_levels, twice)
    with pytest.raises(NotFound, match="branch"):
        run_in_tenant(owner, save_reorder_levels, [level(other_chain.branch_ids[0], amoxicillin, point=1, quantity=2)])
    with pytest.raises(NotFound, match="medicine"):
        run_in_tenant(
            owner, save_reorder_levels, [level(here, "9b2f0000-0000-4000-8000-000000000000", point=1, quantity=2)]
        )
    scoped = as_role(chain, "pharmacist", branch_ids=frozenset({chain.branch_ids[1]}))
    with pytest.raises(NotFound, match="branch"):
        run_in_tenant(scoped, save_reorder_levels, [level(here, amoxicillin, point=1, quantity=2)])
    for role in ("technician", "cashier", "api-write", "api-read"):
        with pytest.raises(PermissionDenied):
            run_in_tenant(as_role(chain, role), save_reorder_levels, [level(here, amoxicillin, point=1, quantity=2)])
    with pytest.raises(ValidationFailed, match="at most 1000"):
        run_in_tenant(owner, save_reorder_levels, [level(here, amoxicillin, point=1, quantity=2)] * 1001)
    run_in_tenant(owner, set_branch_active, here, False)
    with pytest.raises(BranchInactive):
        run_in_tenant(owner, save_reorder_levels, [level(here, amoxicillin, point=1, quantity=2)])
    assert stored_levels(owner) == []


def test_the_bulk_editor_pages_filters_and_searches_on_the_server(db, make_tenant):
    chain = make_tenant("reorder-pages", branches=2)
    owner = as_role(chain, "owner")
    here = str(chain.branch_ids[0])
    medicines = [run_in_tenant(owner, create_medicine, generic_name=f"Medicine {i:02d}") for i in range(PAGE_SIZE + 5)]
    run_in_tenant(
        owner, receive_stock, branch_id=here, medicine_id=medicines[0], lot_number="X", expiry_date=EXPIRY, quantity=4
    )
    run_in_tenant(owner, save_reorder_levels, [level(here, m, point=3, quantity=10) for m in medicines[:3]])
    first = run_in_tenant(owner, list_reorder_levels, here)
    assert len(first.items) == PAGE_SIZE and first.has_more
    second = run_in_tenant(owner, list_reorder_levels, here, page=1)
    assert [i.medicine for i in second.items] == [f"Medicine {i:02d}" for i in range(PAGE_SIZE, PAGE_SIZE + 5)]
    assert not second.has_more
    assert [i.medicine for i in run_in_tenant(owner, list_reorder_levels, here, show="set").items] == [
        "Medicine 00",
        "Medicine 01",
        "Medicine 02",
    ]
    assert len(run_in_tenant(owner, list_reorder_levels, here, show="unset").items) == PAGE_SIZE
    assert [i.medicine for i in run_in_tenant(owner, list_reorder_levels, here, show="low").items] == [
        "Medicine 01",
        "Medicine 02",
    ]
    assert [i.medicine for i in run_in_tenant(owner, list_reorder_levels, here, "medicine 2").items] == [
        f"Medicine {i}" for i in range(20, 30)
    ]
    with pytest.raises(ValidationFailed):
        run_in_tenant(owner, list_reorder_levels, here, show="everything")
    # The medicine page: one row per active branch, with or without a level.
    rows = run_in_tenant(owner, medicine_reorder_levels, medicines[0])
    assert [(r.branch, r.source, r.on_hand) for r in rows] == [("Branch 1", "manual", 4), ("Branch 2", "none", 0)]


def test_csv_export_edit_import_round_trips(shelf):
    chain, owner, here, amoxicillin, ibuprofen = shelf
    unlabelled = run_in_tenant(
        owner, create_medicine, generic_name="Zinc oxide", strength="25%"
    )  # no barcode: found by id
    run_in_tenant(
        owner,
        save_reorder_levels,
        [level(here, amoxicillin, point=10, quantity=100), level(here, ibuprofen, "automatic", point=5, quantity=50)],
    )
    exported, code = run_in_tenant(owner, export_reorder_levels, here)
    assert code == "B1"
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["generic_name"], r["reorder_mode"], r["reorder_point"], r["reorder_quantity"]) for r in rows] == [
        ("Amoxicillin", "manual", "10", "100"),
        ("Ibuprofen", "automatic", "5", "50"),
        ("Zinc oxide", "", "", ""),
    ]
    assert rows[1]["level_in_force"].startswith("Automatic, but there is no forecast yet")
    # Unchanged, the file imports as a no-op.
    staged = run_in_tenant(owner, stage_import, "reorder_levels", "levels.csv", exported.encode())
    assert (staged.total_rows, staged.valid_rows) == (3, 3)
    start_import(owner, staged.id)
    assert stored_levels(owner) == sorted(
        [(amoxicillin, "manual", 10, 100), (ibuprofen, "automatic", 5, 50)], key=lambda r: r[0]
    )
    # Edited in a spreadsheet: amoxicillin cleared, zinc oxide given a level, ibuprofen's numbers changed.
    rows[0].update(reorder_point="", reorder_quantity="")
    rows[1].update(reorder_point="12", reorder_quantity="60")
    rows[2].update(reorder_mode="manual", reorder_point="2", reorder_quantity="6")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    edited = run_in_tenant(owner, stage_import, "reorder_levels", "levels.csv", out.getvalue().encode())
    assert edited.valid_rows == 3
    assert start_import(owner, edited.id).imported_rows == 3
    assert stored_levels(owner) == sorted(
        [(ibuprofen, "automatic", 12, 60), (unlabelled, "manual", 2, 6)], key=lambda r: r[0]
    )


def test_csv_import_reports_bad_rows_and_imports_nothing_until_told(shelf):
    chain, owner, here, amoxicillin, ibuprofen = shelf
    run_in_tenant(owner, set_branch_active, str(chain.branch_ids[1]), False)
    file = (
        "barcode,branch_code,reorder_mode,reorder_point,reorder_quantity\n"
        "5012345678900,B1,manual,10,100\n"
        "5012345678900,B1,manual,11,110\n"  # row 3: the same medicine and branch again
        "0000000000000,B1,manual,1,2\n"  # row 4: no such barcode
        "5012345678917,B1,manual,-1,5\n"  # row 5: negative point
        "5012345678917,B2,manual,1,5\n"  # row 6: deactivated branch
        "5012345678917,ZZ,manual,1,5\n"  # row 7: no such branch
        ",B1,manual,1,5\n"  # row 8: no medicine named
        "5012345678917,,sometimes,1,5\n"  # row 9: bad mode (branch from the page)
    )
    staged = run_in_tenant(owner, stage_import, "reorder_levels", "levels.csv", file.encode(), branch_id=here)
    assert [(p.row, p.column) for p in staged.problems] == [
        (3, "barcode"),
        (4, ""),
        (5, "reorder_point"),
        (6, "branch_id"),
        (7, ""),
        (8, "barcode"),
        (9, "mode"),
    ]
    with pytest.raises(ValidationFailed, match="7 rows have problems"):
        start_import(owner, staged.id)
    assert stored_levels(owner) == []
    start_import(owner, staged.id, valid_rows_only=True)
    assert stored_levels(owner) == [(amoxicillin, "manual", 10, 100)]
    with pytest.raises(PermissionDenied):
        run_in_tenant(as_role(chain, "technician"), stage_import, "reorder_levels", "levels.csv", file.encode())
