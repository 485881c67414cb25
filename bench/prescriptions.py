"""Prescriptions: the queue's data for a branch with 10,000 open prescriptions (goal p95 <= 150 ms server
time) and the verification screen's DUR for a patient with 20 active medications (goal p95 <= 20 ms).

Seeds one branch (as the owner role, like the other benches) with 1,000 patients, 20 catalog medicines and
10,000 open prescriptions spread over intake, data entry, verification, on hold and waiting for the
prescriber, plus 5,000 closed ones, and one patient with 20 prescriptions ready to fill. Times, as the app
role under RLS through the services (each call one tenant transaction, as the screen's `transact`):
- the queue's first page (counts of every status + 50 oldest open), one status, a search by patient name;
- `verification.review` of a new NSAID for the patient on 20 medicines (reads + the DUR), and the bare
  `clinical.dur.check` of the same inputs (the DUR alone).
Run: TEST_DATABASE_URL=... python -m bench.prescriptions
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

import psycopg

from bench.common import fresh_database, insert_patients, md5_uuid

OPEN = 10_000
CLOSED = 5_000
PATIENTS = 1_000
RUNS = int(os.environ.get("BENCH_RX_RUNS", "60"))
QUEUE_GOAL_MS, DUR_GOAL_MS = 150, 20
DRUGS = [
    ("Warfarin", "5 mg", "1 tab po daily"),
    ("Lisinopril", "20 mg", "1 tab po daily"),
    ("Metoprolol", "50 mg", "1 tab po bid"),
    ("Atorvastatin", "40 mg", "1 tab po qhs"),
    ("Metformin", "1000 mg", "1 tab po bid"),
    ("Glipizide", "5 mg", "1 tab po qam"),
    ("Sertraline", "100 mg", "1 tab po daily"),
    ("Omeprazole", "20 mg", "1 cap po daily"),
    ("Acetaminophen", "500 mg", "2 tabs po q8h prn"),
    ("Gabapentin", "300 mg", "1 cap po tid"),
    ("Alprazolam", "0.5 mg", "1 tab po bid prn anxiety"),
    ("Furosemide", "40 mg", "1 tab po qam"),
    ("Levothyroxine", "75 mcg", "1 tab po qam"),
    ("Amlodipine", "10 mg", "1 tab po daily"),
    ("Clopidogrel", "75 mg", "1 tab po daily"),
    ("Montelukast", "10 mg", "1 tab po qhs"),
    ("Tamsulosin", "0.4 mg", "1 cap po qhs"),
    ("Aspirin", "81 mg", "1 tab po daily"),
    ("Losartan", "50 mg", "1 tab po daily"),
    ("Simvastatin", "20 mg", "1 tab po qhs"),
]


ALLERGIES = "penicillin, sulfa (rash), codeine"


def _seed(url: str, tenant: object, branch: object, user: object) -> None:
    today = date.today()
    insert_patients(
        tenant,
        branch,
        [
            (md5_uuid(f"p{p}"), f"Patient {p}", date(1950, 1, 1) + timedelta(days=p), ALLERGIES if p == 1 else "")
            for p in range(1, 1001)
        ],
    )
    with psycopg.connect(url) as conn:
        params = {"t": tenant, "b": branch, "u": user, "today": today}
        conn.execute(
            "INSERT INTO prescribers (tenant_id, id, full_name) VALUES (%(t)s, md5('dr')::uuid, 'Dana Rivera')", params
        )
        for index, (name, strength, _) in enumerate([*DRUGS, ("Ibuprofen", "800 mg", "")]):
            conn.execute(
                "INSERT INTO medicines (tenant_id, id, generic_name, strength, schedule) "
                "VALUES (%(t)s, md5(%(n)s)::uuid, %(n)s, %(s)s, 'prescription')",
                {**params, "n": name, "s": strength, "i": index},
            )
        statuses = ["intake", "data_entry", "verification", "on_hold", "waiting_prescriber"]
        conn.execute(
            """INSERT INTO prescriptions (tenant_id, id, branch_id, rx_seq, rx_number, patient_id, prescriber_id,
                   status, held_from, source, drug_written, medicine_id, sig_written, quantity, days_supply,
                   date_written, expires_on, created_at)
               SELECT %(t)s, gen_random_uuid(), %(b)s, n, 'B1-' || lpad(n::text, 6, '0'),
                   md5('p' || (1 + n %% 1000))::uuid, md5('dr')::uuid,
                   s.status, CASE WHEN s.status IN ('on_hold', 'waiting_prescriber') THEN 'verification' END,
                   'fax', 'Lisinopril', md5('Lisinopril')::uuid, '1 tab po daily', 30, 30,
                   %(today)s, %(today)s + 365, now() - make_interval(mins => %(total)s - n)
               FROM generate_series(1, %(total)s) n
               CROSS JOIN LATERAL (SELECT CASE WHEN n > %(open)s THEN 'cancelled'
                   ELSE (CAST(%(statuses)s AS text[]))[1 + n %% 5] END AS status) s""",
            {**params, "total": OPEN + CLOSED, "open": OPEN, "statuses": statuses},
        )
        # Patient 1's profile: 20 prescriptions ready to fill, verified today.
        for index, (name, strength, sig) in enumerate(DRUGS):
            seq = OPEN + CLOSED + 1 + index
            conn.execute(
                """INSERT INTO prescriptions (tenant_id, id, branch_id, rx_seq, rx_number, patient_id, prescriber_id,
                       status, source, drug_written, medicine_id, strength, sig_written, quantity, days_supply,
                       date_written, expires_on, verified_by, verified_at)
                   VALUES (%(t)s, gen_random_uuid(), %(b)s, %(seq)s, 'B1-' || lpad(%(seq)s::text, 6, '0'),
                       md5('p1')::uuid, md5('dr')::uuid, 'fill', 'fax', %(n)s, md5(%(n)s)::uuid, %(s)s, %(sig)s,
                       30, 30, %(today)s, %(today)s + 365, %(u)s, now())""",
                {**params, "seq": seq, "n": name, "s": strength, "sig": sig},
            )
        seq = OPEN + CLOSED + 100
        conn.execute(
            """INSERT INTO prescriptions (tenant_id, id, branch_id, rx_seq, rx_number, patient_id, prescriber_id,
                   status, source, drug_written, medicine_id, strength, sig_written, quantity, days_supply,
                   date_written, expires_on, entered_by)
               VALUES (%(t)s, md5('new-nsaid')::uuid, %(b)s, %(seq)s, 'B1-NEW', md5('p1')::uuid, md5('dr')::uuid,
                   'verification', 'fax', 'Motrin', md5('Ibuprofen')::uuid, '800 mg', '1 tab po tid prn pain', 30,
                   10, %(today)s, %(today)s + 365, gen_random_uuid())""",
            {**params, "seq": seq},
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE prescriptions")
        conn.execute("VACUUM ANALYZE patients")


def timings(call: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    call()  # warm: caches, prepared plans
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    url = fresh_database("pharmacy_bench_prescriptions")
    from backend.clinical.dur import check
    from backend.core.passwords import hash_password
    from backend.prescriptions import service, verification
    from tenants.context import TenantContext
    from tenants.provisioning import NewBranch, NewChain, provision_tenant
    from tenants.session import run_in_tenant

    chain = provision_tenant(
        NewChain(
            name="Bench Pharmacy",
            slug="bench-prescriptions",
            owner_email="rx@bench.example",
            owner_name="Bench",
            owner_password_hash=hash_password("x" * 12),
            branches=(NewBranch(name="Main", code="B1"),),
        ),
        actor="bench",
        reason="bench seed",
    )
    branch = str(chain.branch_ids[0])
    started = time.perf_counter()
    _seed(url, chain.tenant_id, branch, chain.owner_user_id)
    seeded = time.perf_counter() - started
    technician = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="technician")
    pharmacist = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="pharmacist")
    with psycopg.connect(url) as conn:
        new_id = str(conn.execute("SELECT md5('new-nsaid')::uuid").fetchone()[0])  # type: ignore[index]
    review = run_in_tenant(pharmacist, verification.review, new_id)
    assert len(review.active) == len(DRUGS), review.active
    from backend.clinical.medication import Medication, Patient

    new = Medication("Ibuprofen", "800 mg", "1 tab po tid prn pain", quantity=30, days_supply=10)
    active = [Medication(n, s, sig, quantity=30, days_supply=30, last_fill=date.today()) for n, s, sig in DRUGS]
    allergies = ["penicillin", "sulfa (rash)", "codeine"]
    cases: list[tuple[str, Callable[[], object], int]] = [
        ("queue: first page + counts", lambda: run_in_tenant(technician, service.queue, branch), QUEUE_GOAL_MS),
        (
            "page load: expire_due + first page",
            lambda: (
                run_in_tenant(technician, service.expire_due, branch),
                run_in_tenant(technician, service.queue, branch),
            ),
            QUEUE_GOAL_MS,
        ),
        (
            "queue: verification only",
            lambda: run_in_tenant(technician, service.queue, branch, status="verification"),
            QUEUE_GOAL_MS,
        ),
        (
            "queue: search a patient",
            lambda: run_in_tenant(technician, service.queue, branch, query="Patient 77"),
            QUEUE_GOAL_MS,
        ),
        (
            "queue: page 100 (deep)",
            lambda: run_in_tenant(technician, service.queue, branch, page=100),
            QUEUE_GOAL_MS,
        ),
        (
            "DUR alone (clinical.dur.check)",
            lambda: check(new, active, allergies, patient=Patient(age_years=75)),
            DUR_GOAL_MS,
        ),
        ("review: reads + DUR, 20 active", lambda: run_in_tenant(pharmacist, verification.review, new_id), 0),
    ]
    print(f"\n{OPEN:,} open + {CLOSED:,} cancelled prescriptions in one branch, {PATIENTS:,} patients")
    print(f"seeded in {seeded:.1f} s")
    print(f"review of the new NSAID: {len(review.alerts)} alerts against {len(review.active)} active medications")
    print(f"\n{'case':34} {'p50 ms':>8} {'p95 ms':>8} {'goal':>8}")
    for name, call, goal in cases:
        p50, p95 = timings(call)
        verdict = ("OK" if p95 <= goal else "SLOW") if goal else "-"
        print(f"{name:34} {p50:8.1f} {p95:8.1f} {verdict:>8}")


if __name__ == "__main__":
    main()
