"""Strengths as a pharmacy writes them: "500 mg", "5/325 mg", "160 mg/5 mL", "25 mcg/hr", "1 g".

A combination's parts are in the order its name lists the ingredients ("oxycodone/acetaminophen 5/325",
Percocet 5/325 mg), or named ("oxycodone 5 mg/acetaminophen 325 mg"); the caller maps parts to
ingredients (`dosing.ingredient_amounts`). A strength that cannot be read is None, never a guess:
without it a dose in tablets cannot become milligrams, and the dose check says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

MG_PER: dict[str, Fraction] = {
    "mg": Fraction(1),
    "mcg": Fraction(1, 1000),
    "ug": Fraction(1, 1000),
    "g": Fraction(1000),
    "gm": Fraction(1000),
}


@dataclass(frozen=True)
class Strength:
    parts_mg: tuple[Fraction, ...]  # mg of each part, per dosage unit (or per `per_ml` mL of a liquid)
    names: tuple[str, ...]  # the ingredient written with each part ("" when only numbers were written)
    per_ml: Fraction | None = None  # "160 mg/5 mL" -> 5; None for a tablet, capsule, suppository...
    mcg_per_hour: Fraction | None = None  # a transdermal patch's delivery rate

    @property
    def single_mg(self) -> Fraction | None:
        return self.parts_mg[0] if len(self.parts_mg) == 1 else None


_PATCH = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:mcg|ug)\s*/\s*(?:h|hr|hrs|hour)$")
_VOLUME = re.compile(r"/\s*(\d+(?:\.\d+)?)?\s*ml$")
_PART = re.compile(r"^([a-z][a-z .'-]*?)?\s*(\d+(?:\.\d+)?)\s*(mg|mcg|ug|g|gm)?$")


@lru_cache(maxsize=4096)
def parse_strength(text: str | None) -> Strength | None:
    """Read a strength; None when it is empty or not a mass per unit (a %, mEq, units)."""
    if not text:
        return None
    s = " ".join(str(text).lower().replace("per", "/").split())
    s = re.sub(r"(?<=\d)(?=[a-z])", " ", s)
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)  # 1,000 mg
    if m := _PATCH.match(s):
        return Strength((), (), mcg_per_hour=Fraction(m.group(1)))
    per_ml = None
    if m := _VOLUME.search(s):
        per_ml = Fraction(m.group(1)) if m.group(1) else Fraction(1)
        s = s[: m.start()].strip()
    raw_parts = [p.strip() for p in re.split(r"\s*(?:/|-|\+|,|\band\b)\s*", s) if p.strip()]
    if not raw_parts:
        return None
    amounts: list[tuple[str, Fraction, str | None]] = []
    for part in raw_parts:
        m = _PART.match(part)
        if not m:
            return None
        amounts.append(((m.group(1) or "").strip(), Fraction(m.group(2)), m.group(3)))
    # "5/325 mg": a unit written once, at the end, applies to every part
    last_unit = next((u for _, _, u in reversed(amounts) if u), None)
    if last_unit is None:
        return None
    parts_mg = tuple(amount * MG_PER[unit or last_unit] for _, amount, unit in amounts)
    if any(p <= 0 for p in parts_mg):
        return None
    return Strength(parts_mg, tuple(name for name, _, _ in amounts), per_ml=per_ml)
