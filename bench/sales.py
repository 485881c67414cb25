"""10,000 concurrent sale decrements over 100 hot batches through `dispense_stock`, against a bare
durable conditional UPDATE measured in the same run (the raw baseline).

Checks: 0 oversold, ledger = on-hand. Reports sales/s and the ratio to the baseline.
Run: `make bench` or TEST_DATABASE_URL=... python -m bench.sales
"""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import date, timedelta

import psycopg

from bench.common import fresh_database

SALES = int(os.environ.get("BENCH_SALES", "10000"))
BATCHES = int(os.environ.get("BENCH_HOT_BATCHES", "100"))
THREADS = int(os.environ.get("BENCH_SALE_THREADS", "16"))
STOCK_PER_BATCH = SALES // BATCHES  # exactly enough: any oversell or lost update shows


def run_threads(work, total: int) -> float:  # type: ignore[no-untyped-def]
    """Spread `total` calls of work(i) over THREADS threads; returns elapsed seconds."""
    counter = iter(range(total))
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            work(i)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def main() -> None:
    url = fresh_database("pharmacy_bench_sales")
    os.environ["DB_POOL_SIZE"] = str(THREADS)
    from backend.core.errors import PharmacyError
    from backend.core.settings import reset_settings_cache

    reset_settings_cache()
    from backend.core.passwords import hash_password
    from backend.inventory.service import create_medicine, dispense_stock, receive_stock
    from tenants.context import TenantContext
    from tenants.provisioning import NewBranch, NewChain, provision_tenant

    chain = provision_tenant(
        NewChain(
            name="Bench Pharmacy",
            slug="bench-sales",
            owner_email="b@bench.example",
            owner_name="Bench",
            owner_password_hash=hash_password("x" * 12),
            branches=(NewBranch(name="Main", code="MAIN"),),
        ),
        actor="bench",
        reason="bench seed",
    )
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    expiry = (date.today() + timedelta(days=365)).isoformat()
    medicines = []
    for n in range(BATCHES):
        medicine = create_medicine(owner, generic_name=f"Hot medicine {n:03d}")
        receive_stock(
            owner,
            branch_id=branch,
            medicine_id=medicine,
            lot_number="HOT",
            expiry_date=expiry,
            quantity=STOCK_PER_BATCH,
        )
        medicines.append(medicine)
    cashier = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="cashier")
    order = [medicines[i % BATCHES] for i in range(SALES)]
    random.Random(3).shuffle(order)
    refused: list[int] = []

    def sell(i: int) -> None:
        try:
            dispense_stock(cashier, branch_id=branch, medicine_id=order[i], quantity=1)
        except PharmacyError:
            refused.append(i)

    product_seconds = run_threads(sell, SALES)

    # Baseline: the bare conditional UPDATE, one durable autocommit statement per sale, same threads.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE raw_stock (id int PRIMARY KEY, quantity int NOT NULL CHECK (quantity >= 0))")
        conn.execute("INSERT INTO raw_stock SELECT g, %s FROM generate_series(0, %s) g", (STOCK_PER_BATCH, BATCHES - 1))
    local = threading.local()

    def raw_sell(i: int) -> None:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(url, autocommit=True)
        local.conn.execute(
            "UPDATE raw_stock SET quantity = quantity - 1 WHERE id = %s AND quantity >= 1", (i % BATCHES,)
        )

    raw_seconds = run_threads(raw_sell, SALES)

    with psycopg.connect(url) as conn:
        on_hand, negative = conn.execute(
            "SELECT sum(quantity), count(*) FILTER (WHERE quantity < 0) FROM batches"
        ).fetchone()
        ledger = conn.execute("SELECT sum(quantity) FROM stock_movements").fetchone()[0]
    sold = SALES - len(refused)
    product_rate, raw_rate = SALES / product_seconds, SALES / raw_seconds
    print(f"\n{SALES} sales over {BATCHES} hot batches, {THREADS} threads, one process, synchronous_commit on\n")
    print(f"{'path':48} {'seconds':>8} {'sales/s':>9}")
    print(f"{'dispense_stock (RLS, FEFO plan, ledger row)':48} {product_seconds:8.2f} {product_rate:9.0f}")
    print(f"{'bare conditional UPDATE (autocommit)':48} {raw_seconds:8.2f} {raw_rate:9.0f}")
    print(f"\nratio to baseline: {product_rate / raw_rate:.2f}")
    print(f"sold {sold}, refused {len(refused)}, on hand {on_hand}, ledger {ledger}, batches below zero {negative}")
    print("OK: 0 oversold, ledger = on-hand" if negative == 0 and on_hand == ledger and sold == SALES else "MISMATCH")


if __name__ == "__main__":
    main()
