"""`pharmacy-saas dur ...`: drug-use review and sig expansion from the command line.

Needs no database, Redis or settings, like `pharmacy-saas interactions`: the knowledge is code and names
resolve through the cached drug index. Also runnable alone: `python -m backend.clinical.cli check FILE`.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path

import typer

dur_app = typer.Typer(
    help="Drug-use review: interactions, allergies, duplication, early refill, dose (no database needed).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

_SEVERITY_MARK = {"contraindicated": "CONTRAINDICATED", "major": "MAJOR", "moderate": "moderate", "minor": "minor"}


def _quiet_dictionary() -> None:
    # An unidentified name is reported in the output (with suggestions); the matcher's tracebacks about it
    # would only clutter a terminal or a pipe.
    for name in ("backend.drugs.matcher", "backend.interactions.names"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _read(file: str) -> str:
    if file == "-":
        return sys.stdin.read()
    path = Path(file)
    if not path.is_file():
        typer.echo(f"error: no such file: {file}", err=True)
        raise typer.Exit(code=2)
    return path.read_text(encoding="utf-8")


@dur_app.command("check")
def check_command(
    file: str = typer.Argument(
        ..., help='JSON request file, or - for stdin: {"new": {...}, "active": [...], "allergies": [...]}'
    ),
    as_json: bool = typer.Option(False, "--json", help='Print JSON: {"alerts": [...], "unknown": [...]}.'),
    today: str = typer.Option("", help="The date to check as (YYYY-MM-DD) when new.date is not given; default today."),
) -> None:
    """Review a new medication against the active ones and the allergies (schema: docs/clinical.md)."""
    from backend.clinical.schemas import check_request, parse_json
    from backend.core.errors import ValidationFailed

    _quiet_dictionary()
    try:
        on = date.fromisoformat(today) if today else None
    except ValueError:
        typer.echo(f"error: --today {today!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(code=2) from None
    try:
        request = parse_json(_read(file))
    except ValidationFailed as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(code=2) from None
    result = check_request(request, today=on)
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
        return
    if result.sig is not None:
        typer.echo(f"sig: {result.sig.text}")
    if result.days_supply is not None:
        typer.echo(f"days' supply: {result.days_supply}")
    for alert in result.alerts:
        typer.echo(f"{_SEVERITY_MARK[alert.severity]:16} {alert.type:12} {alert.with_}")
        typer.echo(f"{'':16} {alert.summary}")
        typer.echo(f"{'':16} source: {alert.source}")
    for unknown in result.unknown:
        hint = f" (did you mean: {', '.join(unknown.suggestions)}?)" if unknown.suggestions else ""
        typer.echo(f"not identified ({unknown.kind}): {unknown.name}{hint}")
    if not result.alerts and not result.unknown:
        typer.echo("no alerts (the knowledge base covers high-priority and common problems, not every possible one)")


@dur_app.command("sig")
def sig_command(
    sig: str = typer.Argument(..., help='The sig as written, e.g. "1-2 tabs po q4-6h prn pain".'),
    quantity: float = typer.Option(0, help="Quantity dispensed, for the days' supply."),
    strength: str = typer.Option("", help='Strength, when the sig doses in mg ("500 mg").'),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Expand a sig into label English, with doses per day and the days' supply."""
    from backend.clinical.sig import expand

    result = expand(sig, quantity=quantity or None, strength=strength or None)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    typer.echo(result.text)
    if result.doses_per_day is not None:
        typer.echo(f"doses per day: {result.doses_per_day:g}")
    if result.days_supply is not None:
        typer.echo(f"days' supply: {result.days_supply}")
    for flag in result.flags:
        typer.echo(f"note: {flag}")


if __name__ == "__main__":
    dur_app()
