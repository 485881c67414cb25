"""The daily sales report of a branch with 100,000 bills over 30 days, against the 500 ms goal.

Seeds one branch (America/New_York) with BENCH_BILLS bills of 3 lines each, every line picked from a
costed lot and every bill paid (1 in 100 voided), in a few INSERT ... SELECT generate_series statements
as the owner role, in time order as a till writes them. BENCH_SCATTER=1 spreads each day's bills over
the whole table instead (the worst case: every row of a day on a different page). The last day is the
busy one (about twice the others). Then times `daily_report` (as the app role, under RLS) for the busy
day and a quiet day, and the 30-day `range_report`, with the index of migration 0015 and without it.
Run: TEST_DATABASE_URL=... python -m bench.daily_report (not part of `make bench`: it seeds 100,000 bills)
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

import psycopg

from bench.common import bench_chain, fresh_database
from tenants.session import run_in_tenant

BILLS = int(os.environ.get("BENCH_BILLS", "100000"))
DAYS = 30
MEDICINES = 300
RUNS = int(os.environ.get("BENCH_REPORT_RUNS", "30"))
GOAL_MS = 500
FIRST_DAY = date(2026, 10, 1)
ZONE = "America/New_York"
SCATTER = os.environ.get("BENCH_SCATTER") == "1"
# Where bill g falls along the DAYS + 1 shares of the period: in order, or day g mod (DAYS + 1).
_IN_ORDER = "(g - 1) * (%(days)s + 1.0) / %(bills)s"
_SCATTERED = "g %% (%(days)s + 1) + (g * 7919 %% 46800) / 46800.0"

# Every generated row is a pure function of its number, so the seed is repeatable; ids are
# md5-derived uuids, so lines, picks and payments find their bill without a lookup table.
_SEED = [
    "UPDATE branches SET time_zone = %(zone)s, default_tax_rate = 8 WHERE tenant_id = %(t)s",
    """INSERT INTO medicines (tenant_id, id, generic_name, strength, default_sell_price)
       SELECT %(t)s, md5('med-' || m)::uuid, 'Medicine ' || m, (10 * (1 + m %% 50)) || ' mg', 2 + (m %% 40) * 0.25
       FROM generate_series(0, %(meds)s - 1) m""",
    """INSERT INTO batches (tenant_id, id, medicine_id, branch_id, lot_number, expiry_date, cost_price, quantity)
       SELECT %(t)s, md5('lot-' || m)::uuid, md5('med-' || m)::uuid, %(b)s, 'LOT-' || m, DATE '2028-01-01',
              round((2 + (m %% 40) * 0.25) * 0.6, 4), 1000000
       FROM generate_series(0, %(meds)s - 1) m""",
    # Line k of bill g: a medicine, a quantity of 1-3, 8 % tax on the net (exclusive prices).
    """CREATE TEMP TABLE seed_lines AS
       SELECT g, k, m, q, price, q * price AS net, round(q * price * 0.08, 4) AS tax
       FROM generate_series(1, %(bills)s) g, generate_series(1, 3) k,
            LATERAL (SELECT (g * 7 + k * 13) %% %(meds)s AS m, 1 + (g + k) %% 3 AS q) pick,
            LATERAL (SELECT 2 + (pick.m %% 40) * 0.25 AS price) priced""",
    # Bills in the order a till issues them (the table's physical order follows time, as in real life):
    # bill g is at position `share` along DAYS + 1 shares of the period, each share 08:00-21:00 local,
    # and the last two shares fall on the last day: the busy day.
    """INSERT INTO bills (tenant_id, id, branch_id, status, number, number_year, number_seq, currency,
                          prices_include_tax, lines_total, discount_total, net_total, tax_total, total, rounding,
                          total_due, amount_paid, created_at, finalized_at)
       SELECT %(t)s, md5('bill-' || g)::uuid, %(b)s, CASE WHEN g %% 100 = 0 THEN 'voided' ELSE 'paid' END,
              'MAIN-2026-' || lpad(g::text, 6, '0'), 2026, g, 'USD', false,
              s.net, 0, s.net, s.tax, s.net + s.tax, round(s.net + s.tax, 2) - (s.net + s.tax),
              round(s.net + s.tax, 2), CASE WHEN g %% 100 = 0 THEN 0 ELSE round(s.net + s.tax, 2) END, at, at
       FROM (SELECT g, sum(net) AS net, sum(tax) AS tax FROM seed_lines GROUP BY g) s,
            LATERAL (SELECT $SHARE AS share) position,
            LATERAL (SELECT ((%(first)s::date + least(floor(share)::int, %(days)s - 1)) + TIME '08:00'
                             + (share - floor(share)) * INTERVAL '13 hours') AT TIME ZONE %(zone)s AS at) t
       ORDER BY g""",
    "ALTER TABLE bill_lines DISABLE TRIGGER bill_lines_only_on_drafts",  # lines of issued bills, seeded
    """INSERT INTO bill_lines (tenant_id, bill_id, line_no, medicine_id, description, schedule, quantity,
                               unit_price, tax_category, tax_rate, net_amount, tax_amount, gross_amount)
       SELECT %(t)s, md5('bill-' || g)::uuid, k, md5('med-' || m)::uuid, 'Medicine ' || m, 'otc', q, price,
              'standard', 8, net, tax, net + tax
       FROM seed_lines ORDER BY g, k""",
    "ALTER TABLE bill_lines ENABLE TRIGGER bill_lines_only_on_drafts",
    """INSERT INTO bill_picks (tenant_id, bill_id, line_no, batch_id, quantity)
       SELECT %(t)s, md5('bill-' || g)::uuid, k, md5('lot-' || m)::uuid, q FROM seed_lines ORDER BY g, k""",
    """INSERT INTO bill_payments (tenant_id, id, bill_id, method, amount, tendered, change_due, reference, received_at)
       SELECT %(t)s, md5('pay-' || id)::uuid, id, CASE WHEN number_seq %% 3 = 0 THEN 'other' ELSE 'cash' END,
              total_due, ceil(total_due), ceil(total_due) - total_due, '', finalized_at
       FROM bills WHERE tenant_id = %(t)s AND status = 'paid' ORDER BY number_seq""",
    # (the 'other' rows above get change too; a terminal would not give any, but the sums are the same work)
]


def seed(url: str, tenant_id: object, branch_id: object) -> float:
    params = {
        "t": tenant_id,
        "b": branch_id,
        "meds": MEDICINES,
        "bills": BILLS,
        "days": DAYS,
        "first": FIRST_DAY,
        "zone": ZONE,
    }
    start = time.perf_counter()
    with psycopg.connect(url) as conn:  # the owner role (BYPASSRLS), one transaction
        for statement in _SEED:
            conn.execute(statement.replace("$SHARE", _SCATTERED if SCATTER else _IN_ORDER), params)  # type: ignore[arg-type]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - start


def timings(call: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    """p50 and p95 in milliseconds, after one warm-up call."""
    call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(0.95 * len(samples)) - 1)]


def main() -> None:
    url = fresh_database("pharmacy_bench_reports")
    from backend.billing.reports.service import daily_report, range_report
    from tenants.context import TenantContext

    chain = bench_chain("bench-reports", "r@bench.example")
    branch = chain.branch_ids[0]
    seconds = seed(url, chain.tenant_id, branch)
    manager = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="manager")
    busy, quiet = FIRST_DAY + timedelta(days=DAYS - 1), FIRST_DAY + timedelta(days=10)
    cases: list[tuple[str, Callable[[], object]]] = [
        ("daily_report, busy day", lambda: run_in_tenant(manager, daily_report, branch, busy)),
        ("daily_report, quiet day", lambda: run_in_tenant(manager, daily_report, branch, quiet)),
    ]
    whole_period = ("range_report, 30 days", lambda: run_in_tenant(manager, range_report, branch, FIRST_DAY, busy))
    report = run_in_tenant(manager, daily_report, branch, busy)
    layout = "each day's bills scattered over the table" if SCATTER else "stored in time order"
    print(f"\n{BILLS:,} bills x 3 lines over {DAYS} days in one branch ({ZONE}), {layout}, seeded in {seconds:.1f} s")
    print(f"busy day {busy}: {report.bills:,} bills, {report.voided_bills} voided, net {report.net_sales:,.2f},")
    print(f"margin {report.gross_margin:,.2f} ({report.margin_percent} %), top {report.top_by_quantity[0].description}")
    print(f"\n{'report':34} {'index':>6} {'p50 ms':>8} {'p95 ms':>8} {'goal':>6}")
    rows = [(name, "0015", *timings(call)) for name, call in cases]
    rows.append((whole_period[0], "0015", *timings(whole_period[1], runs=5)))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP INDEX bills_branch_finalized_idx")
        rows += [(name, "none", *timings(call, runs=5)) for name, call in cases[:1]]
    for name, index, p50, p95 in rows:
        verdict = "-" if name.startswith("range") else "OK" if p95 <= GOAL_MS else "SLOW"  # the goal is a day's
        print(f"{name:34} {index:>6} {p50:8.1f} {p95:8.1f} {verdict:>6}")


if __name__ == "__main__":
    main()
