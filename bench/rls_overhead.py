"""What row-level security costs: the app's tenant session vs. the same SQL on a BYPASSRLS role.

1,000 tenants x 1,000 rows in a table built with the product's own RLS helper and grants.
Two queries: a tenant-scoped indexed list (50 rows by name) and a primary-key lookup.
Each is timed (a) as the query alone inside an open transaction and (b) as a whole transaction,
which for the app path includes tenant_session's set_config round trip.

Run: `make bench` (starts a throwaway Postgres) or TEST_DATABASE_URL=... python -m bench.rls_overhead
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable

import psycopg

from bench.common import fresh_database

TENANTS = int(os.environ.get("BENCH_TENANTS", "1000"))
ROWS_PER_TENANT = int(os.environ.get("BENCH_ROWS", "1000"))
ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "3000"))

LIST_SQL = "SELECT id, name, sku FROM bench_medicines WHERE tenant_id = :t ORDER BY name LIMIT 50"
PK_SQL = "SELECT id, name, sku FROM bench_medicines WHERE tenant_id = :t AND id = :id"


def prepare_database() -> None:
    fresh_database("pharmacy_bench")
    from backend.core.migration_helpers import tenant_rls_sql
    from backend.core.settings import get_settings

    settings = get_settings()
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE bench_medicines (
                tenant_id uuid NOT NULL, id uuid NOT NULL, name text NOT NULL, sku text NOT NULL,
                PRIMARY KEY (tenant_id, id))""")
        conn.execute("CREATE INDEX bench_medicines_name_idx ON bench_medicines (tenant_id, name)")
        for statement in tenant_rls_sql("bench_medicines"):
            conn.execute(statement)
        conn.execute(f'GRANT SELECT ON bench_medicines TO "{settings.APP_DB_ROLE}", "{settings.PLATFORM_DB_ROLE}"')
        print(f"loading {TENANTS} tenants x {ROWS_PER_TENANT} rows ...", file=sys.stderr, flush=True)
        conn.execute(
            """
            INSERT INTO bench_medicines
            SELECT t.tid, gen_random_uuid(), 'medicine ' || md5(t.n::text || '-' || r), 'SKU' || r
            FROM (SELECT gen_random_uuid() AS tid, n FROM generate_series(1, %s) n) t,
                 generate_series(1, %s) r""",
            (TENANTS, ROWS_PER_TENANT),
        )
        conn.execute("VACUUM ANALYZE bench_medicines")


def sample_keys(count: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT tenant_id, id FROM bench_medicines ORDER BY random() LIMIT %s", (count,)).fetchall()
    random.Random(7).shuffle(rows)
    return [(r[0], r[1]) for r in rows]


def timed_pair(
    rls: Callable[[uuid.UUID, uuid.UUID], object],
    raw: Callable[[uuid.UUID, uuid.UUID], object],
    keys: list[tuple[uuid.UUID, uuid.UUID]],
    rls_setup: Callable[[uuid.UUID], object] | None = None,
) -> tuple[list[float], list[float]]:
    """Microseconds per call, the two sides interleaved (alternating which goes first) so drift
    in CPU speed or caches hits both alike; `rls_setup(tenant)` runs off the clock."""
    rls_samples: list[float] = []
    raw_samples: list[float] = []
    for n, (tenant_id, row_id) in enumerate([*keys[:200], *keys]):  # the first 200 warm up
        order = [(rls, rls_samples), (raw, raw_samples)]
        if n % 2:
            order.reverse()
        for fn, samples in order:
            if fn is rls and rls_setup:
                rls_setup(tenant_id)
            start = time.perf_counter()
            fn(tenant_id, row_id)
            if n >= 200:
                samples.append((time.perf_counter() - start) * 1e6)
    return rls_samples, raw_samples


def percentile(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100)[p - 1]


def main() -> None:
    prepare_database()
    from sqlalchemy import text

    from backend.core.database import open_session
    from tenants.context import TenantContext
    from tenants.session import tenant_session

    keys = sample_keys(ITERATIONS)
    assert len(keys) >= ITERATIONS // 2, "not enough sample rows"
    set_tenant = text("SELECT set_config('app.tenant_id', :t, true)")
    results = []
    for label, sql in (("indexed list, 50 rows", text(LIST_SQL)), ("primary-key lookup", text(PK_SQL))):

        def app_transaction(t: uuid.UUID, i: uuid.UUID, sql=sql) -> None:
            with tenant_session(TenantContext.system(t)) as s:
                assert s.execute(sql, {"t": t, "id": i}).all()

        def raw_transaction(t: uuid.UUID, i: uuid.UUID, sql=sql) -> None:
            with open_session("platform") as s:  # the BYPASSRLS role, no tenant set
                assert s.execute(sql, {"t": t, "id": i}).all()

        results.append((f"{label}: whole transaction", *timed_pair(app_transaction, raw_transaction, keys)))

        # The query alone: each side in one open transaction; the app side's tenant is set off the clock.
        with tenant_session(TenantContext.system(keys[0][0])) as app, open_session("platform") as raw:
            pair = timed_pair(
                lambda t, i, sql=sql: app.execute(sql, {"t": t, "id": i}).all(),
                lambda t, i, sql=sql: raw.execute(sql, {"t": t, "id": i}).all(),
                keys,
                rls_setup=lambda t: app.execute(set_tenant, {"t": str(t)}),
            )
        results.append((f"{label}: query alone", *pair))
    print_table(results)


def print_table(results: list[tuple[str, list[float], list[float]]]) -> None:
    print(
        f"\nRLS overhead: {TENANTS} tenants x {ROWS_PER_TENANT} rows, {ITERATIONS} samples each, "
        "times in microseconds\n"
    )
    columns = ("RLS p50", "RLS p95", "raw p50", "raw p95")
    header = f"{'case':42} " + " ".join(f"{c:>9}" for c in columns) + f" {'p50 ratio':>10} {'p95 ratio':>10}"
    print(header)
    print("-" * len(header))
    for label, rls, raw in results:
        r50, r95, b50, b95 = (
            percentile(rls, 50),
            percentile(rls, 95),
            percentile(raw, 50),
            percentile(raw, 95),
        )
        print(f"{label:42} {r50:9.1f} {r95:9.1f} {b50:9.1f} {b95:9.1f} {r50 / b50:10.3f} {r95 / b95:10.3f}")
    print("\nRLS = the app role through tenants.tenant_session; raw = the same SQL on the BYPASSRLS role.")


if __name__ == "__main__":
    main()
