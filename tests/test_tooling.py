"""Lint, format and type checks run with the suite, so a red lint is a red CI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "."],
        ["ruff", "format", "--check", "."],
        ["mypy", "backend", "tenants"],
        # Copied code (settings in pyproject.toml [tool.pylint]); `make lint` runs the same.
        ["pylint", "backend", "tenants", "pharmacy_saas"],
    ],
    ids=["ruff-check", "ruff-format", "mypy", "duplicate-code"],
)
def test_tool_passes(command):
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_committed_package_json_is_in_reflexs_own_rendering():
    """Reflex copies its rendering of package.json back into reflex.lock/ on every build: committed in
    any other layout (bun's indented one), `make run` would leave every checkout modified."""
    import json

    from devtools.reflex_lock import LOCK_DIR, rendered

    committed = (LOCK_DIR / "package.json").read_text()
    assert committed == rendered(json.loads(committed)), "run `python -m devtools.reflex_lock` and commit"


def test_a_stale_web_dir_gets_the_committed_bytes(tmp_path):
    import json

    from devtools.reflex_lock import LOCK_DIR, align_web_dir

    committed = (LOCK_DIR / "package.json").read_bytes()
    (tmp_path / "package.json").write_text(json.dumps(json.loads(committed), indent=2))  # as bun writes it
    align_web_dir(tmp_path)
    assert (tmp_path / "package.json").read_bytes() == committed

    other = {**json.loads(committed), "dependencies": {"left-pad": "1.3.0"}}  # a real change stays for Reflex
    (tmp_path / "package.json").write_text(json.dumps(other, indent=2))
    align_web_dir(tmp_path)
    assert json.loads((tmp_path / "package.json").read_text()) == other
