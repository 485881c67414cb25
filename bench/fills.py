"""Filling: `fills.fill_prescription` with its stock moves (goal p95 <= 50 ms server time per fill).

Seeds one branch (as the owner role, like the other benches) with 400 verified prescriptions ready to fill
and the medicine's stock spread over lots of 7 units each, so a fill of 10 takes two or three lots (FEFO plan,
conditional UPDATEs, ledger rows, the fill, its lots, the prescription's status and event). Each fill is one
tenant transaction as the app role under RLS, as the screen's `transact`.
Run: TEST_DATABASE_URL=... python -m bench.fills
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import psycopg

from bench.common import fresh_database, insert_patients, md5_uuid
from bench.prescriptions import timings

FILLS = int(os.environ.get("BENCH_FILLS", "400"))
GOAL_MS = 50
PER_LOT, PER_FILL = 7, 10


def _seed(url: str, tenant: object, branch: object, user: object) -> None:
    today = date.today()
    params = {"t": tenant, "b": branch, "u": user, "today": today, "n": FILLS}
    insert_patients(
        tenant,
        branch,
        [(md5_uuid(f"p{p}"), f"Patient {p}", date(1950, 1, 1) + timedelta(days=p), "") for p in range(1, 201)],
    )
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO prescribers (tenant_id, id, full_name) VALUES (%(t)s, md5('dr')::uuid, 'Dana Rivera')", params
        )
        conn.execute(
            "INSERT INTO medicines (tenant_id, id, generic_name, strength, schedule) "
            "VALUES (%(t)s, md5('lisinopril')::uuid, 'Lisinopril', '10 mg', 'prescription')",
            params,
        )
        lots = FILLS * PER_FILL // PER_LOT + 10
        conn.execute(
            "INSERT INTO batches (tenant_id, id, medicine_id, branch_id, lot_number, expiry_date, quantity) "
            "SELECT %(t)s, gen_random_uuid(), md5('lisinopril')::uuid, %(b)s, 'L' || lpad(l::text, 5, '0'), "
            "%(today)s + 100 + l, %(q)s FROM generate_series(1, %(lots)s) l",
            {**params, "lots": lots, "q": PER_LOT},
        )
        conn.execute(
            "INSERT INTO stock_movements (tenant_id, batch_id, medicine_id, branch_id, kind, quantity, reference) "
            "SELECT tenant_id, id, medicine_id, branch_id, 'receive', quantity, 'bench' FROM batches"
        )
        conn.execute(
            """INSERT INTO prescriptions (tenant_id, id, branch_id, rx_seq, rx_number, patient_id, prescriber_id,
                   status, source, drug_written, medicine_id, sig_written, quantity, days_supply,
                   date_written, expires_on, verified_by, verified_at)
               SELECT %(t)s, md5('rx' || n)::uuid, %(b)s, n, 'B1-' || lpad(n::text, 6, '0'),
                   md5('p' || (1 + n %% 200))::uuid, md5('dr')::uuid, 'fill', 'fax', 'Lisinopril',
                   md5('lisinopril')::uuid, '1 tab po daily', 10, 10, %(today)s, %(today)s + 365, %(u)s, now()
               FROM generate_series(1, %(n)s) n""",
            params,
        )
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("prescriptions", "batches", "stock_movements"):
            conn.execute(f"VACUUM ANALYZE {table}")


def main() -> None:
    url = fresh_database("pharmacy_bench_fills")
    from backend.core.passwords import hash_password
    from backend.prescriptions import fills
    from tenants.context import TenantContext
    from tenants.provisioning import NewBranch, NewChain, provision_tenant
    from tenants.session import run_in_tenant

    chain = provision_tenant(
        NewChain(
            name="Bench Pharmacy",
            slug="bench-fills",
            owner_email="fills@bench.example",
            owner_name="Bench",
            owner_password_hash=hash_password("x" * 12),
            branches=(NewBranch(name="Main", code="B1"),),
        ),
        actor="bench",
        reason="bench seed",
    )
    _seed(url, chain.tenant_id, chain.branch_ids[0], chain.owner_user_id)
    technician = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="technician")
    with psycopg.connect(url) as conn:
        ids = [str(r[0]) for r in conn.execute("SELECT id FROM prescriptions ORDER BY rx_seq").fetchall()]
    queue = iter(ids)
    moved = []

    def one() -> None:
        done = run_in_tenant(technician, fills.fill_prescription, next(queue))
        moved.append(len(done.lots))

    p50, p95 = timings(one, runs=len(ids) - 1)
    with psycopg.connect(url) as conn:
        on_hand = conn.execute("SELECT sum(quantity) FROM batches").fetchone()[0]  # type: ignore[index]
        ledger = conn.execute("SELECT sum(quantity) FROM stock_movements").fetchone()[0]  # type: ignore[index]
    assert on_hand == ledger, (on_hand, ledger)
    print(f"\n{len(moved)} fills of {PER_FILL} from lots of {PER_LOT} (avg {sum(moved) / len(moved):.2f} lots each)")
    print(f"ledger = on-hand: {ledger}")
    print(f"{'case':34} {'p50 ms':>8} {'p95 ms':>8} {'goal':>8}")
    print(f"{'fill with stock moves':34} {p50:8.1f} {p95:8.1f} {'OK' if p95 <= GOAL_MS else 'SLOW':>8}")


if __name__ == "__main__":
    main()
