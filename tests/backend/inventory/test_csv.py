"""CSV import (validation report, nothing half-imported, background job) and export, as the app role."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from backend.core.errors import Conflict, PermissionDenied, ValidationFailed
from backend.core.queue import redis_connection
from backend.inventory.csv_export import export_catalog, export_movements, export_stock
from backend.inventory.csv_import import import_summary, stage_import, start_import
from backend.inventory.service import create_medicine, medicine_stock, recall_lot, search_medicines
from backend.jobs.service import relay_once
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session
from tests.helpers import start_cli, stop, wait_until

CATALOG_HEADER = "generic_name,brand_name,strength,dosage_form,barcode,schedule,controlled_class,default_sell_price\n"


def as_role(chain, role: str) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role=role)


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def medicine_count(ctx: TenantContext) -> int:
    with tenant_session(ctx) as session:
        return session.execute(text("SELECT count(*) FROM medicines")).scalar_one()


def parsed(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


def test_catalog_import_reports_each_bad_row_and_imports_nothing_until_told(db, make_tenant):
    owner = as_role(make_tenant("csv-cat"), "owner")
    run_in_tenant(owner, create_medicine, generic_name="Cetirizine", barcode="50000000000017")
    file = (
        CATALOG_HEADER + "Amoxicillin,Amoxil,500 mg,capsule,50000000000024,prescription,,0.35\n"
        "Ibuprofen,Advil,200 mg,tablet,50000000000031,otc,,0.10\n"
        "Codeine,,30 mg,tablet,,sometimes,,0.50\n"  # row 4: bad schedule
        "\n"  # row 5: blank lines are skipped
        "Loratadine,Claritin,10 mg,tablet,50000000000031,otc,,0.20\n"  # row 6: barcode twice in the file
        "Cetirizine,Zyrtec,10 mg,tablet,50000000000017,otc,,0.20\n"  # row 7: barcode already in the catalog
        "Morphine,,10 mg,tablet,,controlled,CII,abc\n"  # row 8: price is not an amount
        "Oxycodone,,5 mg,tablet,,controlled,CII,1.20\n"
    )
    staged = run_in_tenant(owner, stage_import, "catalog", "catalog.csv", file.encode())
    assert (staged.status, staged.total_rows, staged.valid_rows) == ("validated", 7, 3)
    assert [(p.row, p.column) for p in staged.problems] == [
        (4, "schedule"),
        (6, "barcode"),
        (7, "barcode"),
        (8, "default_sell_price"),
    ]
    assert "already in the catalog" in staged.problems[2].reason
    assert medicine_count(owner) == 1  # checking imports nothing

    with pytest.raises(ValidationFailed, match="4 rows have problems"):
        start_import(owner, staged.id)
    assert medicine_count(owner) == 1

    done = start_import(owner, staged.id, valid_rows_only=True)
    assert (done.status, done.imported_rows) == ("done", 3)
    found, _ = run_in_tenant(owner, search_medicines, "Advil")
    assert [(m.generic_name, m.barcode, str(m.default_sell_price)) for m in found] == [
        ("Ibuprofen", "50000000000031", "0.1000")
    ]
    assert medicine_count(owner) == 4
    with pytest.raises(Conflict, match="already been imported"):
        start_import(owner, staged.id, valid_rows_only=True)  # a second click imports nothing twice
    assert medicine_count(owner) == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"generic_name,brand_name\n", "no rows"),
        (b"brand_name,strength\nAdvil,200 mg\n", "needs the column generic_name"),
        (b"generic_name,colour\nIbuprofen,red\n", "Unknown column colour"),
        ("generic_name\nParacétamol\n".encode("latin-1"), "CSV UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "CSV"),
    ],
)
def test_a_file_that_is_not_a_usable_csv_is_refused_with_a_reason(db, make_tenant, content, message):
    owner = as_role(make_tenant("csv-bad"), "owner")
    with pytest.raises(ValidationFailed, match=message):
        run_in_tenant(owner, stage_import, "catalog", "bad.csv", content)
    with tenant_session(owner) as session:
        assert session.execute(text("SELECT count(*) FROM catalog_imports")).scalar_one() == 0


def test_opening_stock_import_receives_batches_into_the_ledger(db, make_tenant):
    chain = make_tenant("csv-stock", branches=2)
    owner = as_role(chain, "owner")
    med = run_in_tenant(owner, create_medicine, generic_name="Amoxicillin", strength="500 mg", barcode="50000000000024")
    run_in_tenant(owner, recall_lot, med, "BAD-LOT", "FDA recall notice 2026-11")
    with tenant_session(owner) as session:
        codes = dict(session.execute(text("SELECT id, code FROM branches")).all())
    second = codes[chain.branch_ids[1]]
    file = (
        "barcode,lot_number,expiry_date,quantity,cost_price,branch_code\n"
        f"50000000000024,A-1,{in_days(200)},100,0.1200,\n"  # the branch chosen in the page
        f"50000000000024,A-2,{in_days(400)},40,0.1300,{second}\n"
        f"50000000000024,OLD,{in_days(-1)},10,0.1,\n"  # row 4: expired
        f"99999999999999,X-1,{in_days(100)},10,0.1,\n"  # row 5: not in the catalog
        f"50000000000024,BAD-LOT,{in_days(100)},10,0.1,\n"  # row 6: recalled
        f"50000000000024,A-3,{in_days(100)},ten,0.1,\n"  # row 7: quantity
        f"50000000000024,A-4,{in_days(100)},5,0.1,NOPE\n"  # row 8: unknown branch
    )
    staged = run_in_tenant(
        owner, stage_import, "opening_stock", "stock.csv", file.encode(), branch_id=str(chain.branch_ids[0])
    )
    assert [(p.row, p.column) for p in staged.problems] == [
        (4, "expiry_date"),
        (5, ""),
        (6, "lot_number"),
        (7, "quantity"),
        (8, ""),
    ]
    done = start_import(owner, staged.id, valid_rows_only=True)
    assert done.imported_rows == 2
    medicine, batches, movements = run_in_tenant(owner, medicine_stock, med)
    assert medicine.on_hand == 140
    assert sorted((b.lot_number, b.quantity) for b in batches) == [("A-1", 100), ("A-2", 40)]
    assert sorted((m.kind, m.quantity) for m in movements) == [("receive", 40), ("receive", 100)]
    assert all(m.reference.startswith("opening stock import") for m in movements)


def test_importing_follows_the_role_matrix(db, make_tenant):
    chain = make_tenant("csv-roles")
    file = (CATALOG_HEADER + "Ibuprofen,,200 mg,tablet,,otc,,0.10\n").encode()
    with pytest.raises(PermissionDenied):
        run_in_tenant(as_role(chain, "cashier"), stage_import, "catalog", "c.csv", file)
    with pytest.raises(PermissionDenied):
        run_in_tenant(
            as_role(chain, "technician"), stage_import, "catalog", "c.csv", file
        )  # receives stock, not the catalog
    staged = run_in_tenant(as_role(chain, "pharmacist"), stage_import, "catalog", "c.csv", file)
    with pytest.raises(PermissionDenied):
        start_import(as_role(chain, "cashier"), staged.id)
    assert medicine_count(as_role(chain, "owner")) == 0


def test_exports_round_trip_into_another_chain_and_defuse_formulas(db, make_tenant):
    alpha, bravo = make_tenant("csv-alpha"), make_tenant("csv-bravo")
    a, b = as_role(alpha, "owner"), as_role(bravo, "owner")
    run_in_tenant(
        a, create_medicine, generic_name="Ibuprofen", brand_name='=HYPERLINK("http://x")', barcode="50000000000031"
    )
    run_in_tenant(
        a, create_medicine, generic_name="Morphine", strength="10 mg", schedule="controlled", controlled_class="CII"
    )
    run_in_tenant(b, create_medicine, generic_name="Only in Bravo")
    exported = run_in_tenant(a, export_catalog)
    rows = parsed(exported)
    assert [r["generic_name"] for r in rows] == ["Ibuprofen", "Morphine"]  # nothing of Bravo's
    assert rows[0]["brand_name"] == '\'=HYPERLINK("http://x")'  # a spreadsheet shows it, never runs it
    assert rows[1]["controlled_class"] == "CII"

    staged = run_in_tenant(b, stage_import, "catalog", "from-alpha.csv", exported.encode())
    assert staged.problems == [] and staged.valid_rows == 2
    start_import(b, staged.id)
    assert sorted(r["generic_name"] for r in parsed(run_in_tenant(b, export_catalog))) == [
        "Ibuprofen",
        "Morphine",
        "Only in Bravo",
    ]


def test_stock_and_movement_exports_cover_the_ledger_and_only_visible_branches(db, make_tenant):
    chain = make_tenant("csv-ledger", branches=2)
    owner = as_role(chain, "owner")
    med = run_in_tenant(owner, create_medicine, generic_name="Amoxicillin", barcode="50000000000024")
    file = (
        "barcode,lot_number,expiry_date,quantity,branch_code\n"
        f"50000000000024,A-1,{in_days(200)},100,B1\n"
        f"50000000000024,B-1,{in_days(200)},7,B2\n"
    )
    start_import(owner, run_in_tenant(owner, stage_import, "opening_stock", "s.csv", file.encode()).id)
    stock = parsed(run_in_tenant(owner, export_stock))
    assert sorted((r["branch_code"], r["lot_number"], r["quantity"]) for r in stock) == [
        ("B1", "A-1", "100"),
        ("B2", "B-1", "7"),
    ]
    today = date.today()
    moves = parsed(run_in_tenant(owner, export_movements, today - timedelta(days=1), today + timedelta(days=1)))
    assert sorted((r["lot_number"], r["kind"], r["quantity"]) for r in moves) == [
        ("A-1", "receive", "100"),
        ("B-1", "receive", "7"),
    ]
    scoped = TenantContext(
        tenant_id=chain.tenant_id,
        user_id=chain.owner_user_id,
        role="pharmacist",
        branch_ids=frozenset({chain.branch_ids[1]}),
    )
    assert [r["lot_number"] for r in parsed(run_in_tenant(scoped, export_stock))] == ["B-1"]
    assert parsed(run_in_tenant(owner, export_movements, today - timedelta(days=30), today - timedelta(days=2))) == []
    with pytest.raises(ValidationFailed, match="before the start"):
        run_in_tenant(owner, export_movements, today, today - timedelta(days=1))
    assert med  # the medicine the rows belong to


@pytest.fixture
def worker():
    process = start_cli("worker", log_name="test-csv-worker")
    yield process
    stop(process)


def test_a_large_file_imports_in_the_background_with_progress(worker, committed_tenant):
    chain, _ = committed_tenant("csv-big")
    owner = as_role(chain, "owner")
    lines = [f"Generic {i:05d},Brand {i},{i % 50 + 1} mg,tablet,{70000000000000 + i},otc,,1.25" for i in range(1200)]
    lines.insert(600, "Broken,,1 mg,tablet,,otc,,-1")  # row 602: a negative price
    staged = run_in_tenant(owner, stage_import, "catalog", "big.csv", (CATALOG_HEADER + "\n".join(lines)).encode())
    assert (staged.total_rows, staged.valid_rows) == (1201, 1200)
    queued = start_import(owner, staged.id, valid_rows_only=True)
    assert queued.status == "queued" and queued.imported_rows == 0
    relay_once(redis_connection())
    seen: set[int] = set()

    def finished() -> bool:
        summary = run_in_tenant(owner, import_summary, staged.id)
        seen.add(summary.processed_rows)
        return summary.status == "done"

    wait_until(finished, timeout=60, interval=0.05, message="the background import")
    done = run_in_tenant(owner, import_summary, staged.id)
    assert (done.processed_rows, done.imported_rows) == (1201, 1200)
    assert [p.row for p in done.problems] == [602]
    assert medicine_count(owner) == 1200
    assert seen >= {1201}
