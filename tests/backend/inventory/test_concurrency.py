"""2 processes x 25 threads selling the same 100 units: never below zero, ledger = on-hand.

The same race run with a naive read-then-write sale shows the test would catch an oversell.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from backend.core.settings import get_settings
from backend.inventory.service import create_medicine, receive_stock
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.helpers import ROOT

STOCK = 100


def race(chain, medicine: str, *, naive: bool) -> tuple[int, list[str]]:
    command = [
        sys.executable,
        "-m",
        "tests.backend.inventory.race",
        "--tenant",
        str(chain.tenant_id),
        "--branch",
        str(chain.branch_ids[0]),
        "--medicine",
        medicine,
        "--threads",
        "25",
        "--attempts",
        "4",
    ]
    if naive:
        command.append("--naive")
    env = {**os.environ, "DB_POOL_SIZE": "12"}  # 2 x 24 connections, inside the server's limit
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    results = [json.loads(p.communicate(timeout=240)[0]) for p in processes]
    return sum(r["sold"] for r in results), [e for r in results for e in r["errors"]]


def stock_and_ledger(medicine: str) -> tuple[int, int]:
    with psycopg.connect(get_settings().owner_database_url().replace("+psycopg", "")) as conn:
        on_hand = conn.execute("SELECT sum(quantity) FROM batches WHERE medicine_id = %s", (medicine,)).fetchone()[0]
        ledger = conn.execute(
            "SELECT sum(quantity) FROM stock_movements WHERE medicine_id = %s", (medicine,)
        ).fetchone()[0]
    return int(on_hand), int(ledger)


@pytest.fixture
def hot_batch(committed_tenant):
    chain, _ = committed_tenant("race")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")

    def make() -> str:
        medicine = run_in_tenant(owner, create_medicine, generic_name="Paracetamol", strength="500 mg")
        for lot, days, quantity in (("A", 40, STOCK // 2), ("B", 80, STOCK // 2)):
            run_in_tenant(
                owner,
                receive_stock,
                branch_id=str(chain.branch_ids[0]),
                medicine_id=medicine,
                lot_number=lot,
                expiry_date=(date.today() + timedelta(days=days)).isoformat(),
                quantity=quantity,
            )
        return medicine

    return chain, make


def test_concurrent_sales_never_oversell_and_the_ledger_balances(hot_batch):
    chain, make = hot_batch
    medicine = make()
    sold, errors = race(chain, medicine, naive=False)  # 200 attempts for 100 units, over two batches
    assert errors == []  # no deadlock or serialization failure reached a cashier
    assert sold == STOCK
    assert stock_and_ledger(medicine) == (0, 0)
    assert reconcile_exit_code(chain) == 0


def test_the_same_race_catches_a_naive_read_then_write(hot_batch):
    chain, make = hot_batch
    medicine = make()
    sold, errors = race(chain, medicine, naive=True)
    on_hand, ledger = stock_and_ledger(medicine)
    # Lost updates: more sales than stock, and the shelf no longer matches the ledger.
    assert sold > STOCK or on_hand != ledger, (sold, on_hand, ledger, errors)
    assert reconcile_exit_code(chain) == 1  # the operator's check finds it too


def reconcile_exit_code(chain) -> int:
    cli = str(Path(sys.executable).parent / "pharmacy-saas")
    command = [cli, "inventory", "reconcile", "--tenant", chain.slug]
    return subprocess.run(command, capture_output=True, text=True, timeout=60).returncode
