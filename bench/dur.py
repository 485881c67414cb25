"""DUR speed: one new prescription against a patient with 20 active medications (target p95 <= 20 ms).

Rows, all measured in the same run with the drug-name index loaded:
- baseline, interaction check: `backend.interactions.checker.check` of the same 21 names (every pair, 210);
- DUR: `backend.clinical.dur.check` with sigs, strengths, fill dates, 3 allergies and a patient weight,
  so every check runs (interactions new-vs-active, allergy, duplication, early refill, dose totals, MME);
- DUR with the identification, sig and strength caches cleared before each run (a process that has not
  seen these names and sigs yet);
- the CLI as a new process (`python -m backend.clinical.cli check FILE --json`, no database or secret).

Run: python -m bench.dur [--runs 2000 --cli-runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NEW = {"drug": "ibuprofen", "strength": "800 mg", "sig": "1 tab po tid prn pain", "quantity": 90, "date": "2025-03-20"}
ACTIVE = [
    ("warfarin", "5 mg", "1 tab po daily"),
    ("lisinopril", "20 mg", "1 tab po daily"),
    ("metoprolol succinate ER", "50 mg", "1 tab po daily"),
    ("atorvastatin", "40 mg", "1 tab po qhs"),
    ("metformin", "1000 mg", "1 tab po bid"),
    ("glipizide", "5 mg", "1 tab po qam ac"),
    ("sertraline", "100 mg", "1 tab po daily"),
    ("omeprazole", "20 mg", "1 cap po daily ac"),
    ("Percocet", "5/325 mg", "1-2 tabs po q4-6h prn pain"),
    ("Tylenol", "500 mg", "2 tabs po q8h prn"),
    ("gabapentin", "300 mg", "1 cap po tid"),
    ("alprazolam", "0.5 mg", "1 tab po bid prn anxiety"),
    ("furosemide", "40 mg", "1 tab po qam"),
    ("potassium chloride", "20 mEq", "1 tab po daily"),
    ("levothyroxine", "75 mcg", "1 tab po qam"),
    ("amlodipine", "10 mg", "1 tab po daily"),
    ("clopidogrel", "75 mg", "1 tab po daily"),
    ("montelukast", "10 mg", "1 tab po qhs"),
    ("Flomax", "0.4 mg", "1 cap po qhs"),
    ("aspirin", "81 mg", "1 tab po daily"),
]
ALLERGIES = ["penicillin", "sulfa (rash)", "codeine"]


def request() -> dict[str, object]:
    return {
        "new": NEW,
        "active": [
            {"drug": d, "strength": s, "sig": sig, "last_fill": "2025-03-01", "days_supply": 30} for d, s, sig in ACTIVE
        ],
        "allergies": ALLERGIES,
        "patient": {"weight_kg": 82, "age_years": 71},
    }


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn, runs: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Wall-clock and CPU milliseconds per run. On a shared machine the wall clock includes waiting for a
    core; the process CPU time does not, so both are printed."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def cli_once(cache_dir: str, *args: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("DATABASE_URL", "REDIS_URL")) and k != "SECRET_KEY"}
    env["PHARMACY_SAAS_CACHE_DIR"] = cache_dir
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--cli-runs", type=int, default=5)
    args = parser.parse_args()

    from backend.clinical import drugs, sig, strength
    from backend.clinical.dur import check
    from backend.clinical.schemas import parse_request
    from backend.interactions.checker import check as interaction_check
    from backend.interactions.names import NameCache

    parsed = parse_request(request())
    names = [NEW["drug"], *(d for d, _, _ in ACTIVE)]
    with tempfile.TemporaryDirectory() as cache_dir:
        cache = NameCache(Path(cache_dir))
        cache.ensure_index()
        today = date(2025, 3, 20)

        def dur() -> None:
            check(parsed.new, parsed.active, parsed.allergies, patient=parsed.patient, today=today, cache=cache)

        def dur_cold() -> None:
            drugs._identify.cache_clear()
            sig.expand.cache_clear()
            strength.parse_strength.cache_clear()
            dur()

        result = check(parsed.new, parsed.active, parsed.allergies, patient=parsed.patient, today=today, cache=cache)
        assert not result.unknown, result.unknown
        assert len(interaction_check(names, cache).pairs) == 210
        for _ in range(50):  # warm up both paths
            dur()
            interaction_check(names, cache)
        baseline = timed(lambda: interaction_check(names, cache), args.runs)
        warm = timed(dur, args.runs)
        cold = timed(dur_cold, max(200, args.runs // 5))
        path = Path(cache_dir) / "request.json"
        path.write_text(json.dumps(request()))
        cli = [cli_once(cache_dir, "backend.clinical.cli", "check", str(path), "--json") for _ in range(args.cli_runs)]
        cli_baseline = [
            cli_once(cache_dir, "backend.interactions.cli", "check", *names[:20], "--json")
            for _ in range(args.cli_runs)
        ]

    print(f"DUR result: {len(result.alerts)} alerts: " + ", ".join(f"{a.type}/{a.severity}" for a in result.alerts))
    rows = [
        ("baseline: interaction check, 21 drugs / 210 pairs (ms)", *baseline, "(reference)"),
        ("DUR, 1 new vs 20 active, 3 allergies (ms)", *warm, "p95 <= 20 ms"),
        ("DUR, name/sig/strength caches cleared each run (ms)", *cold, "p95 <= 20 ms"),
        ("baseline: interactions CLI cold start, 20 drugs (s)", cli_baseline, cli_baseline, "(reference)"),
        ("DUR CLI cold start, index built (s)", cli, cli, "about the interactions CLI"),
    ]
    print(f"{'measure':56} {'p50':>9} {'p95':>9} {'cpu p50':>9} {'cpu p95':>9}  target")
    for name, wall, cpu, target in rows:
        cpu_cols = f"{statistics.median(cpu):9.3f} {pct(cpu, 0.95):9.3f}" if cpu is not wall else f"{'':9} {'':9}"
        print(f"{name:56} {statistics.median(wall):9.3f} {pct(wall, 0.95):9.3f} {cpu_cols}  {target}")


if __name__ == "__main__":
    main()
