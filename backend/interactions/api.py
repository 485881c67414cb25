"""REST: GET /api/v1/interactions?drugs=a,b,c — the interaction check for every pair of the given drugs."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from backend.core.errors import ValidationFailed
from backend.http import RequirePermission
from backend.interactions.checker import MAX_DRUGS, check
from backend.interactions.names import normalise
from tenants.context import TenantContext

# Every staff role, API token scope and support session holds inventory.view; the check reads no tenant data.
PERMISSION = "inventory.view"

router = APIRouter(prefix="/interactions", tags=["interactions"])


def parse_drugs(raw: str) -> list[str]:
    """Split `a,b,c`; refuse fewer than 2 or more than MAX_DRUGS distinct names with a clear 422."""
    names = [part.strip() for part in raw.split(",") if part.strip()]
    distinct = {normalise(n) for n in names}
    if len(distinct) < 2:
        raise ValidationFailed("Give at least two different drugs, separated by commas.", field="drugs")
    if len(distinct) > MAX_DRUGS:
        raise ValidationFailed(f"Check at most {MAX_DRUGS} drugs at a time.", field="drugs")
    return names


@router.get("", summary="Drug-drug interactions between every pair of the given drugs")
async def interactions(
    drugs: Annotated[
        str,
        Query(
            max_length=2000,
            description="Comma-separated names: brands, generics or combinations written with / or + "
            "(e.g. Zocor,clarithromycin,oxycodone/acetaminophen)",
        ),
    ],
    ctx: TenantContext = Depends(RequirePermission(PERMISSION)),
) -> dict[str, Any]:
    """One entry per pair (`a`/`b` as given) with severity none/minor/moderate/major/contraindicated, or
    `unknown` when a drug could not be identified (listed under `unknown` with suggestions)."""
    names = parse_drugs(drugs)
    # The first call in a process may load the drug dictionary; never on the event loop.
    result = await run_in_threadpool(check, names)
    return {
        "pairs": [
            {
                **pair.as_dict(),
                "findings": [
                    {
                        **{k: v for k, v in asdict(f).items() if k != "sources"},
                        "sources": [{"title": s.title, "url": s.url} for s in f.sources],
                    }
                    for f in pair.findings
                ],
            }
            for pair in result.pairs
        ],
        "unknown": [{"name": u.name, "suggestions": list(u.suggestions)} for u in result.unknown],
        "drugs": [{"name": d.name, "ingredients": list(d.ingredients), "read_as": d.read_as} for d in result.drugs],
    }
