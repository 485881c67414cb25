"""Patient search by blind index at 100,000 patients per chain, and decrypting a page of 25 (issue 16).

Seeds one chain with PATIENTS patients (sealed and indexed as the app stores them; last names drawn
from a long-tailed list, so common surnames share a three-letter prefix with thousands of others, as
in a real register), plus the same people in a plaintext table with ordinary indexes: the raw baseline,
measured in the same run against the same server, of what the search cost before encryption.

Each encrypted case is the counter's real call, `find_patients` in its own tenant transaction (scope
check, blind-index lookup, candidates decrypted and filtered, sorted by name, the access-log row);
the baseline is the equivalent plaintext SQL (prefix LIKE on an indexed lower(last name), equality on
phone / last four / date of birth, name order and LIMIT in SQL). Goals: search p95 ≤ 10 ms, decrypting
a page of 25 (`identities`, one query) ≤ 5 ms.

Run: TEST_DATABASE_URL=... python -m bench.patient_search   (BENCH_PATIENTS, BENCH_RUNS to change sizes)
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import Counter
from datetime import date, timedelta

import psycopg

from bench.common import bench_chain, fresh_database, insert_patients
from bench.prescriptions import timings

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "200"))
SEARCH_GOAL_MS, PAGE_GOAL_MS = 10.0, 5.0
SYLLABLES = ["an", "ber", "cor", "dal", "el", "far", "gon", "hol", "is", "jen", "kel", "lor", "mas", "nor", "os"]
SYLLABLES += ["pen", "quin", "ros", "sten", "tor", "ul", "van", "wes", "yar", "zel", "bright", "ford", "ley", "ton"]


def surnames(rng: random.Random) -> tuple[list[str], list[float]]:
    """The demo's surnames first, then made-up ones; weights fall off as 1/rank^0.7 (a long tail: the
    commonest name ~1.5% of people, its three-letter prefix a few per cent, like Smith/"smi" in the US)."""
    from backend.demo.people import LAST_NAMES

    names = list(dict.fromkeys(LAST_NAMES))
    while len(names) < 20_000:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3)))).capitalize()
        if name not in names:
            names.append(name)
    return names, [1 / (rank + 1) ** 0.7 for rank in range(len(names))]


def people(rng: random.Random) -> list[tuple[str, str, date, str]]:
    from backend.demo.people import FIRST_NAMES

    names, weights = surnames(rng)
    last = rng.choices(names, weights, k=PATIENTS)
    return [
        (
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            f"{rng.choice(FIRST_NAMES)} {last[i]}",
            date(1935, 1, 1) + timedelta(days=rng.randrange(88 * 365)),
            f"+1555{i:07d}",
        )
        for i in range(PATIENTS)
    ]


PLAIN = [
    "CREATE TABLE bench_plain_patients (tenant_id uuid, id uuid, full_name text, last_name text, "
    "date_of_birth date, phone text)",
    "CREATE INDEX ON bench_plain_patients (id)",
    "CREATE INDEX ON bench_plain_patients (tenant_id, lower(last_name) text_pattern_ops)",
    "CREATE INDEX ON bench_plain_patients (tenant_id, phone)",
    "CREATE INDEX ON bench_plain_patients (tenant_id, right(phone, 4))",
    "CREATE INDEX ON bench_plain_patients (tenant_id, date_of_birth)",
]
PLAIN_SEARCH = {
    "last name": "lower(last_name) LIKE %(v)s || '%%'",
    "first three letters": "lower(last_name) LIKE %(v)s || '%%'",
    "phone, full": "phone = %(v)s",
    "phone, last four": "right(phone, 4) = %(v)s",
    "date of birth": "date_of_birth = %(v)s",
}


def main() -> None:
    url = fresh_database("pharmacy_bench_patient_search")
    from backend.patients.service import find_patients, identities
    from tenants.context import TenantContext
    from tenants.session import run_in_tenant

    chain = bench_chain("bench-patients", "p@bench.example")
    branch = chain.branch_ids[0]
    rng = random.Random(16)
    everyone = people(rng)
    started = time.perf_counter()
    insert_patients(chain.tenant_id, branch, [(pid, name, born, "", phone) for pid, name, born, phone in everyone])
    seeded = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        for statement in PLAIN:
            conn.execute(statement)  # type: ignore[arg-type]
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY bench_plain_patients (tenant_id, id, full_name, last_name, date_of_birth, phone) FROM STDIN"
            ) as copy,
        ):
            for pid, name, born, phone in everyone:
                copy.write_row((chain.tenant_id, pid, name, name.split()[-1], born, phone))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE patients")
        conn.execute("VACUUM ANALYZE bench_plain_patients")

    pharmacist = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="pharmacist")
    sample = rng.sample(everyone, 50)
    common = Counter(n.split()[-1] for _, n, _, _ in everyone).most_common(1)[0][0]
    cases = {
        "last name": lambda p: p[1].split()[-1],
        "first three letters": lambda p: p[1].split()[-1][:3],
        "phone, full": lambda p: p[3],
        "phone, last four": lambda p: p[3][-4:],
        "date of birth": lambda p: p[2].isoformat(),
    }
    rows = []
    for case, typed in cases.items():
        queries = iter([typed(p) for p in sample] * (RUNS // len(sample) + 2))
        found = [len(run_in_tenant(pharmacist, find_patients, typed(p)).items) for p in sample[:5]]
        p50, p95 = timings(lambda q=queries: run_in_tenant(pharmacist, find_patients, next(q)), RUNS)
        plain_queries = iter([typed(p) for p in sample] * (RUNS // len(sample) + 2))
        r50, r95 = _plain(url, chain.tenant_id, PLAIN_SEARCH[case], plain_queries, case)
        rows.append((f"search: {case}", p50, p95, r50, r95, SEARCH_GOAL_MS, found))
    worst = iter([common] * (RUNS + 2))
    p50, p95 = timings(lambda: run_in_tenant(pharmacist, find_patients, next(worst)), RUNS // 4)
    r50, r95 = _plain(url, chain.tenant_id, PLAIN_SEARCH["last name"], iter([common.lower()] * (RUNS + 2)), "")
    rows.append((f"search: commonest name ({common})", p50, p95, r50, r95, None, []))

    pages = [[p[0] for p in rng.sample(everyone, 25)] for _ in range(20)]
    page_iter = iter(pages * (RUNS // 20 + 2))
    p50, p95 = timings(lambda: run_in_tenant(pharmacist, identities, next(page_iter)), RUNS)
    raw_iter = iter(pages * (RUNS // 20 + 2))
    with psycopg.connect(url) as conn:
        r50, r95 = timings(
            lambda: conn.execute(
                "SELECT id, full_name, date_of_birth FROM bench_plain_patients WHERE id = ANY(%s::uuid[])",
                (next(raw_iter),),
            ).fetchall(),
            RUNS,
        )
    rows.append(("decrypt a page of 25 (identities)", p50, p95, r50, r95, PAGE_GOAL_MS, []))

    print(f"\n{PATIENTS:,} patients in one chain, sealed and indexed in {seeded:.1f} s; {RUNS} runs per case")
    print("encrypted: find_patients / identities in a tenant transaction; raw: plaintext SQL, same server")
    print(f"\n{'case':44} {'p50 ms':>7} {'p95 ms':>7} {'raw p50':>8} {'raw p95':>8} {'goal':>6} {'verdict':>8}")
    for name, e50, e95, b50, b95, goal, _ in rows:
        verdict = "" if goal is None else ("ok" if e95 <= goal else "MISSED")
        shown_goal = "" if goal is None else f"{goal:.0f}"
        print(f"{name:44} {e50:7.2f} {e95:7.2f} {b50:8.2f} {b95:8.2f} {shown_goal:>6} {verdict:>8}")


def _plain(url: str, tenant: object, where: str, queries: object, case: str) -> tuple[float, float]:
    """The baseline: the same search on plaintext columns, name order and the page in SQL."""
    with psycopg.connect(url) as conn:

        def run() -> object:
            value = next(queries)  # type: ignore[call-overload]
            if case in ("last name", "first three letters"):
                value = value.lower()
            return conn.execute(
                f"SELECT id, full_name, date_of_birth FROM bench_plain_patients WHERE tenant_id = %(t)s AND {where} "  # noqa: S608
                "ORDER BY lower(full_name), date_of_birth, id LIMIT 26",
                {"t": tenant, "v": value},
            ).fetchall()

        return timings(run, RUNS)


if __name__ == "__main__":
    main()
