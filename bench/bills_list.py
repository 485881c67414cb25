"""The bills list (`search_bills`) over a branch with 100,000 bills, against a 200 ms goal per page.

Seeds the branch as bench/daily_report.py does (BENCH_BILLS bills over 30 days, America/New_York), then
gives every 50th bill one of 1,000 patients, and times one page of 50 (with its capped count) as the
app role under RLS: the first page, a page 40 pages deep through the cursor, one local day, a whole
and a partial bill number, an amount range, a rare status, the dearest bills first, one patient's
bills and the chain-wide list without a branch.
Run: TEST_DATABASE_URL=... python -m bench.bills_list (not part of `make bench`: it seeds 100,000 bills)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, timedelta

import psycopg

from bench.common import bench_chain, fresh_database, insert_patients, md5_uuid
from bench.daily_report import BILLS, DAYS, FIRST_DAY, ZONE, seed, timings
from tenants.session import run_in_tenant

GOAL_MS = 200
PATIENTS = 1_000
RUNS = int(os.environ.get("BENCH_LIST_RUNS", "40"))

_PATIENTS = [
    # Issued bills are frozen by a trigger; the seed links them to patients as the till would have.
    "ALTER TABLE bills DISABLE TRIGGER bills_issued_are_immutable",
    """UPDATE bills SET patient_id = md5('patient-' || (1 + number_seq / 50 %% %(patients)s))::uuid
       WHERE tenant_id = %(t)s AND number_seq %% 50 = 0""",
    "ALTER TABLE bills ENABLE TRIGGER bills_issued_are_immutable",
]


def main() -> None:
    url = fresh_database("pharmacy_bench_bills_list")
    from backend.billing.bills.search import search_bills
    from tenants.context import TenantContext

    chain = bench_chain("bench-bills-list", "l@bench.example")
    branch = chain.branch_ids[0]
    seconds = seed(url, chain.tenant_id, branch)
    insert_patients(
        chain.tenant_id,
        branch,
        [
            (md5_uuid(f"patient-{p}"), f"Patient {p}", date(1960, 1, 1) + timedelta(days=p), "")
            for p in range(1, PATIENTS + 1)
        ],
    )
    with psycopg.connect(url) as conn:
        for statement in _PATIENTS:
            conn.execute(statement, {"t": chain.tenant_id, "b": branch, "patients": PATIENTS})  # type: ignore[arg-type]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE bills")
    manager = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="manager")
    busy = FIRST_DAY + timedelta(days=DAYS - 1)

    def deep_cursor() -> str:
        cursor = None
        for _ in range(40):
            cursor = run_in_tenant(manager, search_bills, branch_id=branch, after=cursor).next_cursor
        assert cursor
        return cursor

    deep = deep_cursor()
    patient = "00000000-0000-0000-0000-000000000000"
    with psycopg.connect(url) as conn:
        patient = str(conn.execute("SELECT md5('patient-7')::uuid").fetchone()[0])  # type: ignore[index]
    cases: list[tuple[str, Callable[[], object]]] = [
        ("first page, newest", lambda: run_in_tenant(manager, search_bills, branch_id=branch)),
        ("page 41 (cursor)", lambda: run_in_tenant(manager, search_bills, branch_id=branch, after=deep)),
        ("one local day", lambda: run_in_tenant(manager, search_bills, branch_id=branch, start=busy, end=busy)),
        ("whole number", lambda: run_in_tenant(manager, search_bills, branch_id=branch, number="MAIN-2026-054321")),
        (
            "number prefix (100 bills)",
            lambda: run_in_tenant(manager, search_bills, branch_id=branch, number="MAIN-2026-0543"),
        ),
        (
            "amount 20.00-20.50",
            lambda: run_in_tenant(manager, search_bills, branch_id=branch, min_amount="20", max_amount="20.5"),
        ),
        ("status voided (1 %)", lambda: run_in_tenant(manager, search_bills, branch_id=branch, status="voided")),
        ("dearest first", lambda: run_in_tenant(manager, search_bills, branch_id=branch, sort="highest")),
        ("one patient", lambda: run_in_tenant(manager, search_bills, patient_id=patient)),
        ("chain-wide, no branch", lambda: run_in_tenant(manager, search_bills)),
    ]
    first = run_in_tenant(manager, search_bills, branch_id=branch)
    print(f"\n{BILLS:,} bills over {DAYS} days in one branch ({ZONE}), seeded in {seconds:.1f} s;")
    print(f"{PATIENTS:,} patients on every 50th bill; first page: {len(first.items)} of {first.total:,}+ bills")
    print(f"\n{'page of 50 (with its count)':30} {'p50 ms':>8} {'p95 ms':>8} {'goal':>6}")
    for name, call in cases:
        p50, p95 = timings(call, runs=RUNS)
        print(f"{name:30} {p50:8.1f} {p95:8.1f} {'OK' if p95 <= GOAL_MS else 'SLOW':>6}")


if __name__ == "__main__":
    main()
