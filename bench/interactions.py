"""Interaction checker speed: 10 drugs (45 pairs) in-process, and the CLI from a cold process.

- check(10 drugs): p50/p95 over many runs of `backend.interactions.checker.check` with the name
  cache loaded (target: p95 <= 20 ms);
- CLI cold start: wall time of `python -m backend.interactions.cli check ... --json` as a new process
  with no DATABASE_URL, SECRET_KEY or REDIS_URL, the drug index already built (target: well under 1 s);
- first run ever: the same with an empty cache directory (loads the dictionary and builds the index once).

Run: python -m bench.interactions [--runs 2000 --cli-runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DRUGS = ["Zocor", "clarithromycin", "Percocet", "alprazolam", "warfarin", "ibuprofen", "lisinopril",
         "potassium chloride", "sertraline", "Imitrex"]  # fmt: skip


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cli_once(cache_dir: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("DATABASE_URL", "REDIS_URL")) and k != "SECRET_KEY"}
    env["PHARMACY_SAAS_CACHE_DIR"] = cache_dir
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "backend.interactions.cli", "check", *DRUGS, "--json"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--cli-runs", type=int, default=10)
    args = parser.parse_args()

    from backend.interactions.checker import check
    from backend.interactions.names import NameCache

    with tempfile.TemporaryDirectory() as cache_dir:
        first = cli_once(cache_dir)  # builds the index in this empty directory
        cache = NameCache(Path(cache_dir))
        assert len(check(DRUGS, cache).pairs) == 45
        samples = []
        for _ in range(args.runs):
            started = time.perf_counter()
            check(DRUGS, cache)
            samples.append((time.perf_counter() - started) * 1000)
        cold = [cli_once(cache_dir) for _ in range(args.cli_runs)]

    rows = [
        ("check, 10 drugs / 45 pairs (ms)", statistics.median(samples), pct(samples, 0.95), "p95 <= 20 ms"),
        ("CLI cold start, index built (s)", statistics.median(cold), pct(cold, 0.95), "well under 1 s"),
        ("CLI first run ever, builds index (s)", first, first, "once per machine"),
    ]
    print(f"{'measure':40} {'p50':>10} {'p95':>10}  target")
    for name, p50, p95, target in rows:
        print(f"{name:40} {p50:10.3f} {p95:10.3f}  {target}")


if __name__ == "__main__":
    main()
