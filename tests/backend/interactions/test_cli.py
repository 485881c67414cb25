"""`interactions check ... --json` as a separate process with no database, Redis or secret in its environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.interactions.cli import interactions_app

ROOT = Path(__file__).resolve().parents[3]


def bare_env(cache_dir) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("DATABASE_URL", "REDIS_URL")) and k != "SECRET_KEY"}
    env["PHARMACY_SAAS_CACHE_DIR"] = str(cache_dir)
    return env


def run_cli(cache_dir, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "pharmacy-saas"), "interactions", *args],
        cwd=ROOT,
        env=bare_env(cache_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, time.perf_counter() - started


def test_check_json_without_database_is_fast(name_cache, cache_dir):
    run_cli(cache_dir, "check", "Zocor", "clarithromycin", "--json")  # warm the OS file cache
    done, seconds = run_cli(cache_dir, "check", "Zocor", "clarithromycin", "Percocet", "xyzzy", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    answer = json.loads(done.stdout)
    assert set(answer) == {"pairs", "unknown"}
    assert [(p["a"], p["b"]) for p in answer["pairs"]] == [
        ("Zocor", "clarithromycin"),
        ("Zocor", "Percocet"),
        ("Zocor", "xyzzy"),
        ("clarithromycin", "Percocet"),
        ("clarithromycin", "xyzzy"),
        ("Percocet", "xyzzy"),
    ]
    for pair in answer["pairs"]:
        assert set(pair) == {"a", "b", "severity", "summary", "source"}
    assert answer["pairs"][0]["severity"] == "contraindicated"
    assert "Zocor" in answer["pairs"][0]["source"]
    assert answer["pairs"][2]["severity"] == "unknown"
    assert [u["name"] for u in answer["unknown"]] == ["xyzzy"]
    assert seconds < 3.0  # typically ~0.3 s; bench/interactions.py reports the real number


def test_build_index_is_idempotent(name_cache, cache_dir):
    done, _ = run_cli(cache_dir, "build-index")
    assert done.returncode == 0 and "up to date" in done.stdout


def test_human_output_and_argument_errors(default_name_cache):
    runner = CliRunner()
    out = runner.invoke(interactions_app, ["check", "Viagra", "nitroglycerin", "xyzzy"])
    assert out.exit_code == 0
    assert "CONTRAINDICATED" in out.output and "not identified: xyzzy" in out.output
    one = runner.invoke(interactions_app, ["check", "Viagra"])
    assert one.exit_code == 2 and "at least two" in one.output


@pytest.mark.parametrize("count", [21])
def test_too_many_drugs(default_name_cache, count):
    out = CliRunner().invoke(interactions_app, ["check", *[f"drug{i}" for i in range(count)]])
    assert out.exit_code == 2 and "at most 20" in out.output
