"""The offline drug dictionary: brand names and synonyms resolve to the generic.

Built on the `drug-named-entity-recognition` package's data, wrapped in our own tolerant matcher:
exact lookups first, then a fuzzy pass that is guarded (the package's fuzzy mode has crashed on
multi-word names) and accepted only above a similarity cut-off we check ourselves. The inventory
search, duplicate checks and the assistant all use this one module.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from functools import lru_cache

log = logging.getLogger(__name__)

SIMILARITY_CUTOFF = 0.8


@dataclass(frozen=True)
class DrugMatch:
    generic: str  # the dictionary's preferred name, e.g. "Acetaminophen"
    matched: str  # what was typed
    exact: bool
    similarity: float
    synonyms: tuple[str, ...]  # lower-case names the same medicine goes by (paracetamol, tylenol, ...)

    def names(self) -> set[str]:
        return {self.generic.lower(), *self.synonyms}


@lru_cache(maxsize=1)
def _finder():  # type: ignore[no-untyped-def]
    from drug_named_entity_recognition import find_drugs  # loads the dictionary once (~2 s)

    return find_drugs


def _from_hit(hit: dict, typed: str, exact: bool, similarity: float) -> DrugMatch:  # type: ignore[type-arg]
    synonyms = tuple(sorted({s.lower() for s in hit.get("synonyms", []) if isinstance(s, str)}))
    return DrugMatch(generic=str(hit["name"]), matched=typed, exact=exact, similarity=similarity, synonyms=synonyms)


@lru_cache(maxsize=4096)
def resolve(name: str, *, fuzzy: bool = True) -> DrugMatch | None:
    """The generic a name stands for, or None when nothing is close enough.

    `fuzzy=False` looks up exact names only (brands, synonyms, any case): well under a millisecond,
    for search-as-you-type, where a half-typed word should not be "corrected" into another drug and
    the fuzzy pass (10-20 ms on a miss) would dominate the search."""
    typed = " ".join(name.strip().split())
    if len(typed) < 3 or len(typed) > 80:
        return None
    tokens = typed.split()
    find_drugs = _finder()
    # Some dictionary entries come back without a name (e.g. "aluminum metal"): not a drug we can use.
    exact = [hit for hit, *_ in find_drugs(tokens, is_ignore_case=True) if hit.get("name")]
    if exact:
        return _from_hit(exact[0], typed, True, 1.0)
    if not fuzzy:
        return None
    try:
        near = [found for found in find_drugs(tokens, is_fuzzy_match=True, is_ignore_case=True) if found[0].get("name")]
    except Exception:  # noqa: BLE001 - a dictionary bug must not break a search box
        log.warning("fuzzy drug lookup failed", exc_info=True)
        return None
    # The package returns fuzzy hits in no stable order (it walks sets): take the most similar,
    # ties by name, so the same words resolve the same way in every process.
    scored = sorted(
        (
            (-difflib.SequenceMatcher(None, typed.lower(), _variant(hit)).ratio(), str(hit["name"]), index)
            for index, (hit, *_) in enumerate(near)
        ),
    )
    if not scored or -scored[0][0] < SIMILARITY_CUTOFF:
        return None
    best_score, _, index = scored[0]
    return _from_hit(near[index][0], typed, False, round(-best_score, 3))


def _variant(hit: dict) -> str:  # type: ignore[type-arg]
    return str(hit.get("match_variant") or hit["name"]).lower()


def same_medicine(a: str, b: str) -> bool:
    """Do two names (brand, generic, synonym) mean the same medicine?"""
    left, right = resolve(a), resolve(b)
    if left is None or right is None:
        return a.strip().lower() == b.strip().lower()
    return left.generic == right.generic
