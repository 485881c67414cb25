"""The pipeline with one engine (RapidOCR, the default) on a few of the shared samples, and the CLI.

Kept to a few images: the benchmark (`python -m bench.ocr`) reads all of them with both engines.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli import app
from backend.core.settings import reset_settings_cache
from backend.ocr.fields import FIELDS
from backend.ocr.pipeline import read_prescription

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "tests" / "data" / "prescriptions"  # copies of ../shared/prescriptions

pytestmark = pytest.mark.skipif(not (SAMPLES / "expected.json").is_file(), reason=f"no samples at {SAMPLES}")


def _expected(name: str) -> dict[str, object]:
    fields = json.loads((SAMPLES / "expected.json").read_text())[name]
    return {key: value for key, value in fields.items() if not key.startswith("_")}


# A binarised fax of a boxed form, a photographed pad on a desk (rotation, perspective, noise) with a
# brand name, and a clean e-prescription with "Last, First" and an Rx number.
@pytest.mark.parametrize("name", ["rx_001.png", "rx_012.jpg", "rx_002.png"])
def test_every_field_of_a_sample(name):
    reading = read_prescription((SAMPLES / name).read_bytes(), engine="rapidocr")
    assert reading.as_json() | {"_confidence": None, "_seconds": None} == _expected(name) | {
        "_confidence": None,
        "_seconds": None,
    }
    for field in FIELDS:
        value = reading.fields[field]
        if value.value is None:
            assert value.confidence == 0.0 and value.box is None  # missing is never dressed up
        else:
            assert 0.5 < value.confidence <= 1.0
            assert value.box is not None and 0 <= value.box.left < value.box.right <= reading.page_sizes[0][0]


def test_cli_prints_the_fields_as_json_without_database_or_redis(tmp_path, monkeypatch):
    # In-process (the engine is already loaded by the tests above) with no database, Redis or secret
    # configured: nothing the command does may need them.
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    reset_settings_cache()
    try:
        done = CliRunner().invoke(app, ["ocr", str(SAMPLES / "rx_005.png"), "--engine", "rapidocr", "--json"])
        assert done.exit_code == 0, done.output
        out = json.loads(done.stdout)
        assert list(out) == [*FIELDS, "_confidence", "_seconds"]
        assert {key: out[key] for key in FIELDS} == _expected("rx_005.png")
        assert set(out["_confidence"]) == set(FIELDS) and all(0 <= c <= 1 for c in out["_confidence"].values())
        assert isinstance(out["quantity"], int) and isinstance(out["refills"], int) and out["_seconds"] > 0

        # A file that is not an image: one clear line, exit code 2, no traceback.
        bad = tmp_path / "prescription.jpg"
        bad.write_bytes(b"this is a text file renamed to .jpg")
        done = CliRunner().invoke(app, ["ocr", str(bad), "--json"])
        assert done.exit_code == 2
        assert "not a JPEG, PNG or PDF" in done.stderr and "Traceback" not in done.output
    finally:
        monkeypatch.undo()
        reset_settings_cache()
