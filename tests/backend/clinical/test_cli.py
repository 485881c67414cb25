"""`pharmacy-saas dur check FILE --json` and `dur sig`: no database, Redis or settings needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from backend.clinical.cli import dur_app

ROOT = Path(__file__).resolve().parents[3]
REQUEST = {
    "new": {"drug": "ibuprofen", "strength": "800 mg", "sig": "1 tab po tid", "quantity": 90, "date": "2025-03-01"},
    "active": [
        {"drug": "warfarin", "last_fill": "2025-02-10", "days_supply": 30},
        {"drug": "naproxen"},
        {"drug": "xyzzy"},
    ],
    "allergies": ["aspirin"],
}


def test_check_json(default_name_cache, tmp_path):
    request = tmp_path / "request.json"
    request.write_text(json.dumps(REQUEST))
    out = CliRunner().invoke(dur_app, ["check", str(request), "--json"])
    assert out.exit_code == 0, out.output
    answer = json.loads(out.stdout)
    assert set(answer) == {"alerts", "unknown"}
    kinds = [(a["type"], a["severity"], a["with"]) for a in answer["alerts"]]
    assert kinds[:2] == [("allergy", "major", "aspirin"), ("interaction", "major", "warfarin")]
    assert ("duplication", "moderate", "naproxen") in kinds
    for alert in answer["alerts"]:
        assert set(alert) == {"type", "severity", "with", "summary", "source"} and alert["source"]
    assert [(u["name"], u["kind"]) for u in answer["unknown"]] == [("xyzzy", "drug")]


def test_check_from_stdin_and_human_output(default_name_cache):
    out = CliRunner().invoke(dur_app, ["check", "-"], input=json.dumps(REQUEST))
    assert out.exit_code == 0
    assert "sig: Take 1 tablet by mouth three times daily" in out.output
    assert "days' supply: 30" in out.output
    assert "MAJOR" in out.output and "not identified (drug): xyzzy" in out.output


def test_bad_input_is_refused_with_the_field_named(default_name_cache, tmp_path):
    runner = CliRunner()
    for body, message in [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"active": []}', "new: Field required"),
        ('{"new": {"drug": "x", "date": "soon"}}', "new.date:"),
        ('{"new": {"drug": "x", "last_filled": "2025-01-01"}}', "new.last_filled: Extra inputs are not permitted"),
        ('{"new": {"drug": "x"}, "active": [{"drug": ""}]}', "active[0].drug:"),
        ('{"new": {"drug": "x", "dose": "1000"}}', "new.dose: give an amount with a unit"),
        ('{"new": {"drug": "x", "schedule": "C7"}}', "new.schedule: not a controlled-substance schedule"),
        ('{"new": {"drug": "x"}, "early_refill_threshold": 2}', "early_refill_threshold:"),
    ]:
        out = runner.invoke(dur_app, ["check", "-"], input=body)
        assert out.exit_code == 2, body
        assert message in out.stderr, (body, out.stderr)
    missing = runner.invoke(dur_app, ["check", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_sig_command():
    out = CliRunner().invoke(dur_app, ["sig", "1 tab po bid", "--quantity", "60", "--json"])
    assert out.exit_code == 0
    assert json.loads(out.stdout) | {"flags": []} == {
        "written": "1 tab po bid",
        "text": "Take 1 tablet by mouth twice daily",
        "unknown": [],
        "doses_per_day": 2.0,
        "days_supply": 30,
        "flags": [],
    }


def test_the_installed_command_runs_without_database_redis_or_secret(name_cache, cache_dir, tmp_path):
    request = tmp_path / "request.json"
    request.write_text(json.dumps(REQUEST))
    env = {k: v for k, v in os.environ.items() if not k.endswith(("DATABASE_URL", "REDIS_URL")) and k != "SECRET_KEY"}
    env["PHARMACY_SAAS_CACHE_DIR"] = str(cache_dir)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "pharmacy-saas"), "dur", "check", str(request), "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(done.stdout)["alerts"][0]["type"] == "allergy"
