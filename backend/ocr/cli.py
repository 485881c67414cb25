"""`pharmacy-saas ocr IMAGE`: read a prescription image with no database, Redis or secret.

The same pipeline the OCR job runs (`pipeline.read_prescription`), for checks and scripting:
`--json` prints one object with exactly the prescription's field names, `_confidence` and `_seconds`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer

from backend.ocr.engines import ENGINES
from backend.ocr.fields import FIELDS
from backend.ocr.images import MAX_BYTES, ImageRefused


def ocr_command(
    image: Path = typer.Argument(..., help="A JPEG, PNG or PDF (a fax) of a prescription."),
    engine: str | None = typer.Option(
        None, "--engine", help=f"OCR engine: {' or '.join(ENGINES)} (default: the OCR_ENGINE setting)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (fields, _confidence, _seconds)."),
) -> None:
    """Read a prescription image and print its fields (no database or Redis needed)."""
    from backend.ocr.pipeline import read_prescription

    # A name the dictionary cannot place is simply not a drug (the field stays empty); its warnings
    # would only clutter a pipe.
    logging.getLogger("backend.drugs.matcher").setLevel(logging.ERROR)
    if engine is not None and engine not in ENGINES:
        typer.echo(f"error: unknown engine {engine!r}; choose {' or '.join(ENGINES)}", err=True)
        raise typer.Exit(code=2)
    if not image.is_file():
        typer.echo(f"error: no such file: {image}", err=True)
        raise typer.Exit(code=2)
    if image.stat().st_size > MAX_BYTES:
        # Checked before reading, so a huge file is not pulled into memory just to be refused.
        typer.echo(f"error: {image} is larger than 10 MB; the limit is 10 MB", err=True)
        raise typer.Exit(code=2)
    try:
        reading = read_prescription(image.read_bytes(), engine=engine)
    except ImageRefused as exc:
        typer.echo(f"error: {image}: {exc.message}", err=True)
        raise typer.Exit(code=2) from None
    if as_json:
        typer.echo(json.dumps(reading.as_json(), ensure_ascii=False))
        return
    low = set(reading.low_confidence())
    for name in FIELDS:
        value = reading.fields[name].value
        mark = "  (check)" if name in low else ""
        shown = "-" if value is None else value
        typer.echo(f"{name:22} {shown}{mark}")
    typer.echo(f"\nread by {reading.engine} in {reading.seconds:.2f} s; '(check)': low confidence or not found")
