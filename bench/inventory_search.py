"""Catalog search at scale through the real REST path, with row-level security on and off.

Seeds `pharmacy-saas demo seed --tenants N` worth of chains (default 1,000 chains x 2,000 medicines,
20 million stock movements) into a fresh bench database, then starts the REST app twice under
granian (the server the product runs on), identical but for the database role:
  - RLS on:  the app role, as the product runs (NOBYPASSRLS, policies apply);
  - RLS off: a bench-only role that is a member of the app role (same grants) with BYPASSRLS.
Each sample is GET /api/v1/inventory/medicines with a read-scoped API token of a random chain,
sent to both servers (alternating which goes first); both answers must be identical.

Run: TEST_DATABASE_URL=... python -m bench.inventory_search [--tenants 1000 --medicines 2000 ...]
     --reuse keeps an already seeded bench database (after a first full run) and only migrates it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from bench.common import fresh_database

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "pharmacy_bench_search"
BYPASS_ROLE = "pharmacy_bench_bypass"
KINDS = ("name prefix", "brand name", "barcode", "empty query, page 2", "sort by on-hand")
P95_GOAL_MS, RATIO_GOAL = 15.0, 1.2


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--medicines", type=int, default=2000, help="per chain")
    parser.add_argument("--branches", type=int, default=2, help="per chain")
    parser.add_argument("--movements-per-batch", type=int, default=5)
    parser.add_argument("--samples", type=int, default=400, help="requests per query kind and side")
    parser.add_argument("--sample-tenants", type=int, default=100, help="chains the requests are spread over")
    parser.add_argument("--reuse", action="store_true", help="keep a bench database seeded by an earlier run")
    args, _ = parser.parse_known_args(argv)  # `make bench` passes its arguments to every benchmark
    return args


def prepare_database(args: argparse.Namespace) -> str:
    """A migrated bench database holding the seeded chains; returns the owner's URL."""
    server = os.environ.get("TEST_DATABASE_URL") or sys.exit("set TEST_DATABASE_URL (or run `make bench`)")
    server = server.replace("postgresql+psycopg://", "postgresql://")
    url = server.rsplit("/", 1)[0] + f"/{DATABASE}"
    wanted = args.tenants * args.medicines * args.branches * args.movements_per_batch
    if args.reuse and _seeded_movements(url) == wanted:
        from backend.core import dbadmin
        from backend.core.settings import reset_settings_cache

        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production-000000")
        reset_settings_cache()
        dbadmin.upgrade()  # new migrations (e.g. indexes) land on the seeded data
        print(f"reusing {DATABASE}: {wanted:,} movements already seeded", file=sys.stderr, flush=True)
        return url
    url = fresh_database(DATABASE)
    from backend.demo.scale import ScaleSpec, seed_scale

    spec = ScaleSpec(
        tenants=args.tenants,
        medicines=args.medicines,
        branches=args.branches,
        movements_per_batch=args.movements_per_batch,
        slug_prefix="bench",
    )
    print(f"seeding {args.tenants:,} chains x {args.medicines:,} medicines ...", file=sys.stderr, flush=True)
    result = seed_scale(
        spec, actor="bench", workers=2, bulk_window=True, analyze=True, progress=lambda m: print(m, file=sys.stderr)
    )
    print(
        f"seeded in {result.seconds:.1f} s: {len(result.slugs):,} chains, {result.medicines:,} medicines, "
        f"{result.batches:,} batches, {result.movements:,} movements",
        file=sys.stderr,
        flush=True,
    )
    return url


def _seeded_movements(url: str) -> int:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM stock_movements").fetchone()[0])  # type: ignore[index]
    except psycopg.Error:
        return -1


@dataclass(frozen=True)
class Sample:
    kind: str
    token: str
    params: dict[str, str]


def make_samples(url: str, args: argparse.Namespace) -> list[Sample]:
    """Read-scoped tokens for random chains, and per kind of query a realistic input from that chain."""
    from backend.accounts.api_tokens import create_token
    from tenants.context import TenantContext

    rng = random.Random(11)
    with psycopg.connect(url, autocommit=True) as conn:
        chains = conn.execute(
            "SELECT t.id, m.user_id FROM tenants t JOIN memberships m ON m.tenant_id = t.id AND m.role = 'owner' "
            "WHERE t.slug LIKE 'bench-%' ORDER BY t.slug"
        ).fetchall()
        chosen = rng.sample(chains, min(args.sample_tenants, len(chains)))
        # Bench chains only: the hourly API limit must not cut a run short.
        conn.execute(
            "UPDATE tenants SET api_rate_limit_per_hour = 10000000 WHERE id = ANY(%s)", ([c[0] for c in chosen],)
        )
        inputs = {}
        for tenant_id, _ in chosen:
            inputs[tenant_id] = conn.execute(
                "SELECT generic_name, brand_name, barcode FROM medicines WHERE tenant_id = %s "
                "ORDER BY md5(id::text) LIMIT 50",
                (tenant_id,),
            ).fetchall()
    tokens = {
        tenant_id: create_token(
            TenantContext(tenant_id=tenant_id, user_id=owner, role="owner"), "bench", ["read"]
        ).token
        for tenant_id, owner in chosen
    }
    samples = []
    for kind in KINDS:
        for _ in range(args.samples):
            tenant_id = rng.choice(chosen)[0]
            generic, brand, barcode = rng.choice(inputs[tenant_id])
            params = {
                "name prefix": {"q": generic[: rng.randint(3, 5)].lower()},
                "brand name": {"q": brand},
                "barcode": {"q": barcode},
                "empty query, page 2": {"page": "1"},
                "sort by on-hand": {"sort": "on_hand"},
            }[kind]
            samples.append(Sample(kind, tokens[tenant_id], params))
    return samples


def ensure_bypass_role(url: str) -> str:
    """The RLS-off side: the app role's grants (membership) plus BYPASSRLS. Returns its URL."""
    from backend.core.settings import get_settings, with_credentials

    settings = get_settings()
    password = settings.role_password(BYPASS_ROLE)
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (BYPASS_ROLE,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(f"{verb} ROLE {BYPASS_ROLE} LOGIN BYPASSRLS NOSUPERUSER INHERIT PASSWORD '{password}'")
        conn.execute(f'GRANT "{settings.APP_DB_ROLE}" TO {BYPASS_ROLE}')
    return with_credentials(url, BYPASS_ROLE, password)


def drop_bypass_role(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {BYPASS_ROLE}")


@contextmanager
def api_server(app_database_url: str) -> Iterator[str]:
    """The REST app under granian (one worker, as in a small deployment) using the given app-role URL."""
    from devtools.services import free_port

    port = free_port()
    env = {
        **os.environ,
        "APP_DATABASE_URL": app_database_url,
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "LOG_LEVEL": "WARNING",
        "DB_POOL_SIZE": "5",
        # The drug dictionary's fuzzy pass depends on set order: the same hash seed on both sides
        # makes them pick the same alias, so their answers can be compared.
        "PYTHONHASHSEED": "0",
    }
    command = [
        str(Path(sys.executable).parent / "granian"),
        "--interface",
        "asgi",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-log",
        "backend.api:create_api",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/api/v1/health", timeout=2)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the API server did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def run(samples: list[Sample], rls_base: str, raw_base: str) -> dict[str, tuple[list[float], list[float]]]:
    """Milliseconds per request on each side; the two sides alternate which goes first."""
    results: dict[str, tuple[list[float], list[float]]] = {kind: ([], []) for kind in KINDS}
    order = list(range(len(samples)))
    random.Random(5).shuffle(order)
    with httpx.Client(base_url=rls_base, timeout=60) as rls, httpx.Client(base_url=raw_base, timeout=60) as raw:
        for n, i in enumerate([*order[:100], *order]):  # the first 100 warm both servers up
            sample = samples[i]
            headers = {"Authorization": f"Bearer {sample.token}"}
            answers = []
            sides = [(rls, 0), (raw, 1)] if n % 2 else [(raw, 1), (rls, 0)]
            timings = [0.0, 0.0]
            for client, side in sides:
                start = time.perf_counter()
                response = client.get("/api/v1/inventory/medicines", params=sample.params, headers=headers)
                timings[side] = (time.perf_counter() - start) * 1000
                response.raise_for_status()
                answers.append(response.json())
            if answers[0] != answers[1]:
                raise SystemExit(f"RLS on and off disagree for {sample.kind} {sample.params}")
            if n >= 100:
                results[sample.kind][0].append(timings[0])
                results[sample.kind][1].append(timings[1])
    return results


def print_table(args: argparse.Namespace, results: dict[str, tuple[list[float], list[float]]]) -> None:
    movements = args.tenants * args.medicines * args.branches * args.movements_per_batch
    print(
        f"\nInventory search over REST: {args.tenants:,} chains x {args.medicines:,} medicines, "
        f"{movements:,} movements; {args.samples} requests per kind and side, milliseconds\n"
    )
    header = (
        f"{'query':22} {'RLS p50':>8} {'RLS p95':>8} {'off p50':>8} {'off p95':>8} {'p50 ratio':>10} {'p95 ratio':>10}"
    )
    print(header)
    print("-" * len(header))
    worst_p95 = worst_ratio = 0.0
    for kind, (rls, raw) in results.items():
        r, b = statistics.quantiles(rls, n=100), statistics.quantiles(raw, n=100)
        worst_p95, worst_ratio = max(worst_p95, r[94]), max(worst_ratio, r[94] / b[94], r[49] / b[49])
        print(
            f"{kind:22} {r[49]:8.2f} {r[94]:8.2f} {b[49]:8.2f} {b[94]:8.2f} {r[49] / b[49]:10.2f} {r[94] / b[94]:10.2f}"
        )
    print(
        "\nRLS = the app role (as the product runs); off = the same server and SQL on a BYPASSRLS member of "
        "the app role.\nGET /api/v1/inventory/medicines with a read token of a random chain, granian, one worker, "
        "loopback."
    )
    verdict = "OK" if worst_p95 <= P95_GOAL_MS and worst_ratio <= RATIO_GOAL else "MISSED"
    print(
        f"{verdict}: worst RLS p95 {worst_p95:.2f} ms (goal <= {P95_GOAL_MS}), "
        f"worst ratio {worst_ratio:.2f} (goal <= {RATIO_GOAL})"
    )


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    url = prepare_database(args)
    samples = make_samples(url, args)
    bypass_url = ensure_bypass_role(url)
    from backend.core.settings import get_settings

    try:
        with api_server(get_settings().app_database_url()) as rls_base, api_server(bypass_url) as raw_base:
            results = run(samples, rls_base, raw_base)
    finally:
        drop_bypass_role(url)
    print_table(args, results)


if __name__ == "__main__":
    main(sys.argv[1:])
