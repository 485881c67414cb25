"""`pharmacy-saas interactions ...`: check drug-drug interactions from the command line.

Needs no database, Redis or settings: the knowledge base is code and names resolve through the cached
drug index (`backend/interactions/names.py`). Also runnable alone: `python -m backend.interactions.cli`.
"""

from __future__ import annotations

import json
import logging
import time

import typer

interactions_app = typer.Typer(
    help="Drug-drug interactions (no database needed).", no_args_is_help=True, pretty_exceptions_enable=False
)

_SEVERITY_MARK = {
    "contraindicated": "CONTRAINDICATED",
    "major": "MAJOR",
    "moderate": "moderate",
    "minor": "minor",
    "none": "none",
    "unknown": "UNKNOWN",
}


def _quiet_dictionary() -> None:
    # The matcher logs a traceback when the dictionary's fuzzy pass trips on a name; for a person at a
    # terminal that name is simply "unknown" (shown with suggestions), so keep stderr clean.
    logging.getLogger("backend.drugs.matcher").setLevel(logging.ERROR)
    logging.getLogger("backend.interactions.names").setLevel(logging.ERROR)


@interactions_app.command("check")
def check_command(
    drugs: list[str] = typer.Argument(..., help="Two or more drug names: brands, generics or combinations."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: {pairs: [...], unknown: [...]}."),
) -> None:
    """Check every pair of the given drugs (unidentified names are listed with suggestions, never passed)."""
    from backend.interactions.checker import MAX_DRUGS, check

    _quiet_dictionary()
    if len(drugs) < 2:
        typer.echo("error: give at least two drugs", err=True)
        raise typer.Exit(code=2)
    if len(drugs) > MAX_DRUGS:
        typer.echo(f"error: at most {MAX_DRUGS} drugs at a time", err=True)
        raise typer.Exit(code=2)
    result = check(list(drugs))
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        for pair in result.pairs:
            typer.echo(f"{_SEVERITY_MARK[pair.severity]:16} {pair.a} + {pair.b}")
            typer.echo(f"{'':16} {pair.summary}")
            for finding in pair.findings[:1]:
                typer.echo(f"{'':16} mechanism: {finding.mechanism}")
            if pair.source:
                typer.echo(f"{'':16} source: {pair.source}")
        for unknown in result.unknown:
            hint = f" (did you mean: {', '.join(unknown.suggestions)}?)" if unknown.suggestions else ""
            typer.echo(f"not identified: {unknown.name}{hint}")


@interactions_app.command("build-index")
def build_index_command() -> None:
    """Build the cached drug-name index now (deploy step), so the first check is fast too."""
    from backend.interactions.names import NameCache

    _quiet_dictionary()
    started = time.perf_counter()
    cache = NameCache(build=False)
    if cache.has_index:
        typer.echo(f"drug index is up to date: {cache.index_path}")
        return
    cache.ensure_index()
    typer.echo(
        f"drug index built in {time.perf_counter() - started:.1f} s: "
        f"{len(cache.known_names()):,} names -> {cache.index_path}"
    )


if __name__ == "__main__":
    interactions_app()
