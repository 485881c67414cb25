"""10,000 concurrent sale decrements over 100 hot batches through `dispense_stock`, against a bare
durable conditional UPDATE measured in the same run (the raw baseline).

Checks: 0 oversold, ledger = on-hand. Reports sales/s and the ratio to the baseline.
Run: `make bench` or TEST_DATABASE_URL=... python -m bench.sales
"""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time
from datetime import date, timedelta

import psycopg

from bench.common import fresh_database
from tenants.session import run_in_tenant

SALES = int(os.environ.get("BENCH_SALES", "10000"))
BATCHES = int(os.environ.get("BENCH_HOT_BATCHES", "100"))
THREADS = int(os.environ.get("BENCH_SALE_THREADS", "16"))  # per process
PROCESSES = int(os.environ.get("BENCH_SALE_PROCESSES", "2"))  # one Python process cannot use both cores
STOCK_PER_BATCH = SALES // BATCHES  # exactly enough: any oversell or lost update shows


def run_processes(work, total: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """Spread `total` calls of work(i) over PROCESSES forked processes of THREADS threads each
    (process p takes every PROCESSES-th call). Returns elapsed seconds and how many calls returned
    False. Forked, so `work` may be a closure."""
    ctx = multiprocessing.get_context("fork")
    refused = ctx.Value("i", 0)

    def share(offset: int) -> None:
        failures = [0]

        def counted(i: int) -> None:
            if work(i) is False:
                failures[0] += 1

        run_threads(counted, range(offset, total, PROCESSES))
        with refused.get_lock():
            refused.value += failures[0]

    processes = [ctx.Process(target=share, args=(p,)) for p in range(PROCESSES)]
    start = time.perf_counter()
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return time.perf_counter() - start, refused.value


def run_threads(work, calls) -> float:  # type: ignore[no-untyped-def]
    """Spread the calls work(i) over THREADS threads; returns elapsed seconds."""
    counter = iter(calls)
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
        medicine = run_in_tenant(owner, create_medicine, generic_name=f"Hot medicine {n:03d}")
        run_in_tenant(
            owner,
            receive_stock,
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

    def sell(i: int) -> bool:
        try:
            dispense_stock(cashier, branch_id=branch, medicine_id=order[i], quantity=1)
        except PharmacyError:
            return False
        return True

    from backend.core.database import dispose_engines

    dispose_engines()  # the children open their own connections
    product_seconds, refused = run_processes(sell, SALES)

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

    raw_seconds, _ = run_processes(raw_sell, SALES)

    with psycopg.connect(url) as conn:
        on_hand, negative = conn.execute(
            "SELECT sum(quantity), count(*) FILTER (WHERE quantity < 0) FROM batches"
        ).fetchone()
        ledger = conn.execute("SELECT sum(quantity) FROM stock_movements").fetchone()[0]
    sold = SALES - refused
    product_rate, raw_rate = SALES / product_seconds, SALES / raw_seconds
    print(f"\n{SALES} sales over {BATCHES} hot batches, {PROCESSES} processes x {THREADS} threads, durable\n")
    print(f"{'path':48} {'seconds':>8} {'sales/s':>9}")
    print(f"{'dispense_stock (RLS, FEFO plan, ledger row)':48} {product_seconds:8.2f} {product_rate:9.0f}")
    print(f"{'bare conditional UPDATE (autocommit)':48} {raw_seconds:8.2f} {raw_rate:9.0f}")
    print(f"\nratio to baseline: {product_rate / raw_rate:.2f}")
    print(f"sold {sold}, refused {refused}, on hand {on_hand}, ledger {ledger}, batches below zero {negative}")
    print("OK: 0 oversold, ledger = on-hand" if negative == 0 and on_hand == ledger and sold == SALES else "MISMATCH")


if __name__ == "__main__":
    main()
