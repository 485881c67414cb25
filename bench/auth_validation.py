"""How long it takes to recognise a signed-in browser or an API token, and to check a password.

Session validation runs on every browser event; token validation on every API call (goal: p95
<= 2 ms). The baseline is the bare indexed lookup of the same row by its hash on the owner's
connection, so the ratio shows what the SECURITY DEFINER function and the service layer add.

Run: `make bench` (after the RLS benchmark) or TEST_DATABASE_URL=... python -m bench.auth_validation
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import psycopg

from bench.common import fresh_database

ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "3000"))


def prepare() -> None:
    fresh_database("pharmacy_bench_auth")


def timed(fn: Callable[[], object], n: int) -> list[float]:
    for _ in range(min(200, n)):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    prepare()
    from argon2 import PasswordHasher

    from backend.accounts.api_tokens import create_token, principal_for_api_token
    from backend.accounts.sessions import principal_for_token, start_session
    from backend.core.passwords import hash_password, verify_password
    from backend.core.tokens import token_hash
    from backend.demo.seed import seed_demo
    from tenants.context import TenantContext

    chain = seed_demo(only_if_empty=False)
    assert chain is not None
    session_token = start_session(str(chain.owner_user_id), str(chain.tenant_id))
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    api_token = create_token(owner, "bench", ["read"]).token
    assert principal_for_token(session_token) and principal_for_api_token(api_token)

    raw = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    session_hash, api_hash = token_hash(session_token), token_hash(api_token)
    rows = [
        (
            "session (every browser event)",
            timed(lambda: principal_for_token(session_token), ITERATIONS),
            timed(
                lambda: raw.execute("SELECT * FROM user_sessions WHERE token_hash = %s", (session_hash,)).fetchone(),
                ITERATIONS,
            ),
        ),
        (
            "API token (every REST call)",
            timed(lambda: principal_for_api_token(api_token), ITERATIONS),
            timed(
                lambda: raw.execute("SELECT * FROM api_tokens WHERE token_hash = %s", (api_hash,)).fetchone(),
                ITERATIONS,
            ),
        ),
    ]
    stored = hash_password("Kingfisher-Blue-77")
    argon = timed(lambda: verify_password(stored, "Kingfisher-Blue-77"), 30)
    hasher = PasswordHasher()

    print(f"\nValidation, {ITERATIONS} samples each, milliseconds\n")
    header = f"{'case':32} {'p50':>7} {'p95':>7} {'raw p50':>8} {'raw p95':>8} {'p95 ratio':>10}"
    print(header)
    print("-" * len(header))
    for label, ours, base in rows:
        q = statistics.quantiles(ours, n=100)
        b = statistics.quantiles(base, n=100)
        print(f"{label:32} {q[49]:7.3f} {q[94]:7.3f} {b[49]:8.3f} {b[94]:8.3f} {q[94] / b[94]:10.2f}")
    a = statistics.quantiles(argon, n=20)
    print(
        f"\nargon2id verify (sign-in cost): p50 {statistics.median(argon):.1f} ms, p95 {a[18]:.1f} ms "
        f"(time_cost={hasher.time_cost}, memory_cost={hasher.memory_cost} KiB, "
        f"parallelism={hasher.parallelism})"
    )


if __name__ == "__main__":
    main()
