"""The interaction checker page: several medicines in, a matrix of severities and the advice out."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError, ValidationFailed
from backend.interactions.checker import MAX_DRUGS, CheckResult, check
from pharmacy_saas.state.base import guarded, run_service
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext

# Severity → Radix colour, worst first (the matrix cell and the finding's badge).
SEVERITY_COLOURS = {
    "contraindicated": "red",
    "major": "orange",
    "moderate": "amber",
    "minor": "blue",
    "none": "green",
    "unknown": "gray",
}


@dataclasses.dataclass
class Cell:
    severity: str
    colour: str


@dataclasses.dataclass
class MatrixRow:
    name: str
    cells: list[Cell]


@dataclasses.dataclass
class Advice:
    a: str
    b: str
    severity: str
    colour: str
    summary: str
    mechanism: str
    management: str
    sources: list[str]


class InteractionsState(ShellState):
    names: list[str] = []
    matrix: list[MatrixRow] = []
    advice: list[Advice] = []
    unknown: list[str] = []
    error: str = ""

    @rx.event
    @guarded("inventory.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)

    @rx.event
    @guarded("inventory.view")
    async def run_check(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        """One medicine per line (or separated by commas); brands, generics and combinations all work."""
        names = [n.strip() for n in re.split(r"[\n,;]+", str(form.get("drugs", ""))) if n.strip()]
        try:
            if len(names) < 2:
                raise ValidationFailed("Enter at least two medicines.")
            if len(names) > MAX_DRUGS:
                raise ValidationFailed(f"Check at most {MAX_DRUGS} medicines at a time.")
            result = await run_service(check, names)
        except PharmacyError as exc:
            self.error, self.matrix, self.advice, self.unknown = exc.message, [], [], []
            return
        self.error = ""
        self._show(result)

    def _show(self, result: CheckResult) -> None:
        names = list(dict.fromkeys(p for pair in result.pairs for p in (pair.a, pair.b)))
        severity = {(p.a, p.b): p.severity for p in result.pairs}
        severity.update({(p.b, p.a): p.severity for p in result.pairs})

        def cell(a: str, b: str) -> Cell:
            level = "" if a == b else str(severity.get((a, b), "none"))
            return Cell(level, SEVERITY_COLOURS.get(level, "gray"))

        self.names = names
        self.matrix = [MatrixRow(a, [cell(a, b) for b in names]) for a in names]
        self.advice = [
            Advice(
                p.a,
                p.b,
                str(f.severity),
                SEVERITY_COLOURS.get(str(f.severity), "gray"),
                f.summary,
                f.mechanism,
                f.management,
                [s.cite() for s in f.sources],
            )
            for p in result.pairs
            for f in p.findings
        ]
        self.unknown = [
            f"{u.name}" + (f" (did you mean {', '.join(u.suggestions)}?)" if u.suggestions else "")
            for u in result.unknown
        ]
