"""The interaction check: names in, one answer per pair out.

Each name is identified first: a combination product is split into its ingredients (our table, then the
dictionary's own "x/y" and "x and y" generics), anything else goes through the drug dictionary (brands
and synonyms resolve to the generic; close typos resolve with a similarity). A name nobody can identify
is `unknown`, is listed with suggestions, and every pair it is in says `unknown`: an unchecked pair is
never reported as "no interaction". Then every pair of distinct inputs is checked ingredient by
ingredient against the rules in `knowledge.py`; the worst rule sets the pair's severity.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from backend.interactions.knowledge import (
    ALIASES,
    CLASSES,
    COMBINATIONS,
    RULES,
    SEVERITY_RANK,
    Rule,
    Severity,
    Source,
)
from backend.interactions.names import NameCache, Resolved, default_cache, normalise

MAX_DRUGS = 20
NO_RULE_SOURCE = "pharmacy-saas interaction knowledge base (docs/interactions.md): no rule for this pair"
SAME_INGREDIENT = Source("Same active ingredient (drug dictionary: backend/drugs/matcher.py)", "")
_SPLIT_PRODUCT = re.compile(r"\s*(?:/|\+)\s*")  # "oxycodone/acetaminophen", "sulfamethoxazole + trimethoprim"
_SPLIT_GENERIC = re.compile(r"\s*(?:/|\+|,\s*and\s+|,\s*|\s+and\s+|\s+with\s+)\s*")


@dataclass(frozen=True)
class Drug:
    """One input as the checker understood it."""

    name: str  # as given
    ingredients: tuple[str, ...]  # generics (lower case); empty when not identified
    read_as: str = ""  # set when a typo was resolved: "simvastatin (95% match)"
    suggestions: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return bool(self.ingredients)


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: Severity
    a_ingredient: str
    b_ingredient: str
    summary: str
    mechanism: str
    management: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class PairResult:
    a: str
    b: str
    severity: Severity
    summary: str
    source: str
    findings: tuple[Finding, ...] = ()

    def as_dict(self) -> dict[str, str]:
        return {"a": self.a, "b": self.b, "severity": self.severity, "summary": self.summary, "source": self.source}


@dataclass(frozen=True)
class UnknownDrug:
    name: str
    suggestions: tuple[str, ...]


@dataclass(frozen=True)
class CheckResult:
    pairs: tuple[PairResult, ...]
    unknown: tuple[UnknownDrug, ...]
    drugs: tuple[Drug, ...] = field(default=())

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        """The CLI's `--json` shape: {"pairs": [{a, b, severity, summary, source}], "unknown": [...]}."""
        return {
            "pairs": [p.as_dict() for p in self.pairs],
            "unknown": [{"name": u.name, "suggestions": list(u.suggestions)} for u in self.unknown],
        }


# ---------------------------------------------------------------------------------------------------------
# rule index


def _rule_index() -> tuple[dict[str, frozenset[str]], dict[frozenset[str], tuple[Rule, ...]]]:
    tags: dict[str, set[str]] = defaultdict(set)
    for cls in CLASSES.values():
        for member in cls.members:
            tags[member].add(f"class:{cls.key}")
    by_sides: dict[frozenset[str], list[Rule]] = defaultdict(list)
    for rule in RULES:
        for side in (rule.left, rule.right):
            if side.startswith("class:"):
                if side[6:] not in CLASSES:
                    raise ValueError(f"rule {rule.id} names an undefined class {side}")
            else:
                tags[side].add(side)
        by_sides[frozenset((rule.left, rule.right))].append(rule)
    for name in list(tags):
        tags[name].add(name)
    return {k: frozenset(v) for k, v in tags.items()}, {k: tuple(v) for k, v in by_sides.items()}


_TAGS, _RULES_BY_SIDES = _rule_index()


def vocabulary() -> frozenset[str]:
    """Every drug name the knowledge base mentions (generics, combination products, aliases)."""
    return frozenset(_TAGS) | frozenset(COMBINATIONS) | frozenset(ALIASES) | frozenset(ALIASES.values())


def _rules_for(x: str, y: str) -> list[Rule]:
    found: dict[str, Rule] = {}
    for tx in _TAGS.get(x, (x,)):
        for ty in _TAGS.get(y, (y,)):
            for rule in _RULES_BY_SIDES.get(frozenset((tx, ty)), ()):
                found[rule.id] = rule
    return list(found.values())


# ---------------------------------------------------------------------------------------------------------
# identification


def _canonical(generic: str) -> str:
    key = normalise(generic)
    return ALIASES.get(key, key)


def _single(name: str, cache: NameCache) -> tuple[str | None, Resolved | None]:
    """One ingredient name to a generic (alias table first, then the dictionary)."""
    key = normalise(name)
    if key in ALIASES:
        return ALIASES[key], None
    resolved = cache.resolve(name)
    if resolved is None:
        return None, None
    return _canonical(resolved.generic), resolved


def _split_all(parts: list[str], cache: NameCache) -> tuple[str, ...] | None:
    out: list[str] = []
    for part in parts:
        generic, _ = _single(part, cache)
        if generic is None:
            return None
        out.append(generic)
    return tuple(dict.fromkeys(out))


def identify(name: str, cache: NameCache | None = None) -> Drug:
    """What one typed name stands for: its ingredients, or nothing plus suggestions."""
    cache = cache or default_cache()
    key = normalise(name)
    if key in COMBINATIONS:
        return Drug(name, tuple(_canonical(i) for i in COMBINATIONS[key].ingredients))
    if key in ALIASES:
        return Drug(name, (ALIASES[key],))
    parts = [p for p in _SPLIT_PRODUCT.split(key) if p]
    if len(parts) > 1:
        ingredients = _split_all(parts, cache)
        if ingredients:
            return Drug(name, ingredients)
        return Drug(name, (), suggestions=suggest(name, cache))
    parts = [p for p in _SPLIT_GENERIC.split(key) if p]
    if len(parts) > 1:  # "tramadol and paracetamol", "codeine with acetaminophen": the dictionary would
        ingredients = _split_all(parts, cache)  # answer with the first word it knows and drop the rest
        if ingredients:
            return Drug(name, ingredients)
    generic, resolved = _single(name, cache)
    if generic is not None and resolved is not None:
        read_as = "" if resolved.exact else f"{resolved.generic.lower()} ({round(resolved.similarity * 100)}% match)"
        if generic in COMBINATIONS:  # the dictionary's own combination generics, e.g. "co-amoxiclav"
            return Drug(name, tuple(_canonical(i) for i in COMBINATIONS[generic].ingredients), read_as)
        generic_parts = [p for p in _SPLIT_GENERIC.split(generic) if p]
        if len(generic_parts) > 1:  # "lopinavir/ritonavir", "nirmatrelvir and ritonavir", "a, b, and c"
            ingredients = _split_all(generic_parts, cache)
            if ingredients:
                return Drug(name, ingredients, read_as)
        return Drug(name, (generic,), read_as)
    return Drug(name, (), suggestions=suggest(name, cache))


@lru_cache(maxsize=1)
def _vocabulary_list() -> tuple[str, ...]:
    return tuple(sorted(vocabulary()))


_buckets: dict[int, dict[str, list[str]]] = {}


def _index_bucket(cache: NameCache, first: str) -> list[str]:
    buckets = _buckets.get(id(cache))
    if buckets is None:
        buckets = defaultdict(list)
        for known in cache.known_names():
            buckets[known[:1]].append(known)
        _buckets.clear()
        _buckets[id(cache)] = buckets
    return buckets.get(first, [])


def suggest(name: str, cache: NameCache | None = None, limit: int = 5) -> tuple[str, ...]:
    """Names close to an unidentified one: the knowledge base's names first, then the dictionary's."""
    key = normalise(name)
    if not key:
        return ()
    ours = difflib.get_close_matches(key, _vocabulary_list(), n=limit, cutoff=0.6)
    theirs = difflib.get_close_matches(key, _index_bucket(cache or default_cache(), key[:1]), n=limit, cutoff=0.6)
    return tuple(dict.fromkeys(ours + theirs))[:limit]


# ---------------------------------------------------------------------------------------------------------
# the check


def _label(drug: Drug, ingredient: str) -> str:
    if drug.read_as and len(drug.ingredients) == 1:
        return f"{drug.name} (read as {drug.read_as})"
    if len(drug.ingredients) > 1:
        return f"{ingredient} (in {drug.name})"
    if normalise(drug.name) != ingredient:
        return f"{drug.name} ({ingredient})"
    return drug.name


def _check_pair(a: Drug, b: Drug) -> PairResult:
    if not a.known or not b.known:
        missing = [d.name for d in (a, b) if not d.known]
        return PairResult(
            a.name,
            b.name,
            "unknown",
            f"Not checked: could not identify {' or '.join(repr(m) for m in missing)}. Check the spelling or "
            "use the generic name.",
            "",
        )
    findings: list[Finding] = []
    for x in a.ingredients:
        for y in b.ingredients:
            if x == y:
                findings.append(
                    Finding(
                        "same-ingredient",
                        "moderate",
                        x,
                        y,
                        f"Both contain {x}: the same medicine twice (duplicate therapy, risk of overdose).",
                        "Same active ingredient.",
                        "Confirm both are intended and check the total daily dose.",
                        (SAME_INGREDIENT,),
                    )
                )
                continue
            for rule in _rules_for(x, y):
                findings.append(
                    Finding(
                        rule.id,
                        rule.severity,
                        x,
                        y,
                        rule.summary,
                        rule.mechanism,
                        rule.management,
                        (rule.source, *rule.also),
                    )
                )
    if not findings:
        read = "".join(f" {d.name} was read as {d.read_as}." for d in (a, b) if d.read_as)
        return PairResult(
            a.name,
            b.name,
            "none",
            "No interaction in this checker's knowledge base (it covers high-priority and common interactions, "
            f"not every possible one).{read}",
            NO_RULE_SOURCE,
        )
    findings.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.rule_id))
    worst = findings[0]
    summary = f"{_label(a, worst.a_ingredient)} + {_label(b, worst.b_ingredient)}: {worst.summary}"
    if worst.management:
        summary += f" {worst.management}"
    if len(findings) > 1:
        summary += f" ({len(findings) - 1} more finding{'s' if len(findings) > 2 else ''})"
    return PairResult(a.name, b.name, worst.severity, summary, worst.sources[0].cite(), tuple(findings))


def check_pair(a: Drug, b: Drug) -> PairResult:
    """One pair of identified drugs (the DUR checks a new drug against each active one, not every pair)."""
    return _check_pair(a, b)


def check(names: list[str], cache: NameCache | None = None) -> CheckResult:
    """Check every pair of the given drug names (brands, generics, combinations) for interactions.

    Duplicate names (same spelling ignoring case and spaces) count once; pairs come in input order with
    `a`/`b` echoing the names as given. Unidentified names are listed in `unknown` with suggestions and
    their pairs say `unknown`. Needs no database.
    """
    cache = cache or default_cache()
    seen: set[str] = set()
    drugs: list[Drug] = []
    for name in names:
        key = normalise(name)
        if not key or key in seen:
            continue
        seen.add(key)
        drugs.append(identify(name.strip(), cache))
    pairs = tuple(_check_pair(drugs[i], drugs[j]) for i in range(len(drugs)) for j in range(i + 1, len(drugs)))
    unknown = tuple(UnknownDrug(d.name, d.suggestions) for d in drugs if not d.known)
    return CheckResult(pairs, unknown, tuple(drugs))
