"""Tills racing for the last units: one sale per unit, a clear out-of-stock for the rest, numbers without gaps."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import psycopg

from backend.billing.bills.service import create_draft, finalize_bill, get_bill
from backend.core.errors import PharmacyError
from backend.core.settings import get_settings
from backend.inventory.service import OutOfStock, create_medicine, receive_stock
from tenants.session import run_in_tenant
from tests.backend.billing.conftest import as_role


def race(contexts, bill_ids) -> list[object]:
    """Finalize every bill at once, one thread per till; each result is the Bill or the error raised."""
    start = threading.Barrier(len(bill_ids))
    results: list[object] = [None] * len(bill_ids)

    def till(index: int) -> None:
        start.wait()
        try:
            results[index] = run_in_tenant(contexts[index], finalize_bill, bill_ids[index])
        except PharmacyError as exc:
            results[index] = exc

    threads = [threading.Thread(target=till, args=(i,)) for i in range(len(bill_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def shelf_and_ledger(medicine: str) -> tuple[int, int]:
    with psycopg.connect(get_settings().owner_database_url().replace("+psycopg", "")) as conn:
        on_hand = conn.execute("SELECT sum(quantity) FROM batches WHERE medicine_id = %s", (medicine,)).fetchone()[0]
        ledger = conn.execute(
            "SELECT sum(quantity) FROM stock_movements WHERE medicine_id = %s", (medicine,)
        ).fetchone()[0]
    return int(on_hand), int(ledger)


def test_two_cashiers_selling_the_last_unit_make_one_sale_and_one_clear_refusal(committed_tenant):
    chain, _ = committed_tenant("last-unit")
    owner = as_role(chain, "owner")
    branch = str(chain.branch_ids[0])
    for round_no in range(5):  # several rounds, so the two finalizes really overlap at least once
        medicine = run_in_tenant(
            owner, create_medicine, generic_name=f"Loratadine {round_no}", default_sell_price="3.00"
        )
        expiry = (date.today() + timedelta(days=90)).isoformat()
        run_in_tenant(
            owner,
            receive_stock,
            branch_id=branch,
            medicine_id=medicine,
            lot_number="LAST",
            expiry_date=expiry,
            quantity=1,
        )
        tills = [as_role(chain, "cashier"), as_role(chain, "cashier")]
        drafts = [
            run_in_tenant(t, create_draft, branch_id=branch, lines=[{"medicine_id": medicine, "quantity": 1}]).id
            for t in tills
        ]
        results = race(tills, drafts)
        sold = [r for r in results if not isinstance(r, Exception)]
        refused = [r for r in results if isinstance(r, Exception)]
        assert len(sold) == 1 and len(refused) == 1, results
        assert isinstance(refused[0], OutOfStock) and "Only 0 in stock" in refused[0].message
        assert shelf_and_ledger(medicine) == (0, 0)
        loser = drafts[results.index(refused[0])]
        assert (
            run_in_tenant(owner, get_bill, loser).status == "draft"
            and run_in_tenant(owner, get_bill, loser).number is None
        )
    numbers = sorted(run_in_tenant(owner, get_bill, bill_id).number for bill_id in _finalized(chain))
    assert [n.rsplit("-", 1)[1] for n in numbers] == ["000001", "000002", "000003", "000004", "000005"]


def test_eight_tills_three_units_three_sales_and_consecutive_numbers(committed_tenant):
    chain, _ = committed_tenant("rush")
    owner = as_role(chain, "owner")
    branch = str(chain.branch_ids[0])
    medicine = run_in_tenant(owner, create_medicine, generic_name="Cetirizine", default_sell_price="2.00")
    expiry = (date.today() + timedelta(days=90)).isoformat()
    for lot in ("A", "B", "C"):  # one unit per lot: sales that need two lots race on both
        run_in_tenant(
            owner, receive_stock, branch_id=branch, medicine_id=medicine, lot_number=lot, expiry_date=expiry, quantity=1
        )
    tills = [as_role(chain, "cashier") for _ in range(8)]
    drafts = [
        run_in_tenant(t, create_draft, branch_id=branch, lines=[{"medicine_id": medicine, "quantity": 1}]).id
        for t in tills
    ]
    results = race(tills, drafts)
    sold = [r for r in results if not isinstance(r, Exception)]
    assert len(sold) == 3 and all(isinstance(r, OutOfStock) for r in results if isinstance(r, Exception)), results
    assert sorted(b.number.rsplit("-", 1)[1] for b in sold) == ["000001", "000002", "000003"]
    assert shelf_and_ledger(medicine) == (0, 0)


def _finalized(chain) -> list[str]:
    with psycopg.connect(get_settings().owner_database_url().replace("+psycopg", "")) as conn:
        rows = conn.execute(
            "SELECT id FROM bills WHERE tenant_id = %s AND number IS NOT NULL", (chain.tenant_id,)
        ).fetchall()
    return [str(r[0]) for r in rows]
