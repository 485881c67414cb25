"""Drug-use review (DUR): one new medication against the patient's active medications and allergies.

`check(new, active, allergies, patient=..., today=...)` is the one service the verification screen, the
REST endpoint (`POST /api/v1/dur/check`) and the CLI (`pharmacy-saas dur check`) call. It needs no
database: the knowledge is code. Alerts, each with a type, a severity, what it concerns (`with_`), a summary
and a source:

- interaction: the interaction checker's rules, new drug against each active one (not the active ones
  against each other: those were reviewed when they were filled);
- allergy: the allergen itself or a member of its class is `major`; a cross-sensitivity is `moderate` or
  lower as its evidence says (allergies.py);
- duplication: the same therapeutic class with a different ingredient (therapeutic.py), and the same
  ingredient in a different product (Percocet while on Tylenol);
- early_refill: the same product (same ingredients) before `early_refill_threshold` x its days' supply has
  passed since the last fill; `major` for a controlled substance. Never also a duplication;
- dose: dose range, age and weight limits (dosing.py);
- controlled: the schedule and what it means at the counter (controlled.py).

A name or allergen nothing identifies is listed in `unknown` and every check it would be part of is
skipped, so the result never says "no alerts" about something it could not read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, Literal

from backend.clinical.alerts import Alert
from backend.clinical.allergies import (
    ALLERGY_CLASSES,
    CLASS_ALIASES,
    CROSS_SENSITIVITIES,
    NO_KNOWN_ALLERGIES,
    NON_DRUG_ALLERGENS,
    AllergyClass,
    CrossSensitivity,
)
from backend.clinical.controlled import REFILL_RULES, SCHEDULE_SOURCES, federal_schedule, normalise_schedule
from backend.clinical.dosing import OPIOIDS, Regimen, check_doses, regimen, strength_of
from backend.clinical.drugs import ClinicalDrug, identify
from backend.clinical.medication import Medication, Patient
from backend.clinical.sig import Sig, expand
from backend.clinical.therapeutic import PAIR_RULES, THERAPEUTIC_CLASSES, TherapeuticClass
from backend.interactions.checker import SAME_INGREDIENT, check_pair
from backend.interactions.knowledge import SEVERITY_RANK, Severity
from backend.interactions.names import NameCache, normalise

DEFAULT_EARLY_REFILL_THRESHOLD = 0.75
MAX_ACTIVE = 100  # a profile longer than this is not a patient, it is a mistake (or an attack on the CPU)
MAX_ALLERGIES = 50
TOTALLED = frozenset({"acetaminophen"}) | OPIOIDS


@dataclass(frozen=True)
class Unknown:
    name: str
    kind: Literal["drug", "allergen"]
    suggestions: tuple[str, ...] = ()
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "suggestions": list(self.suggestions), "reason": self.reason}


@dataclass(frozen=True)
class DurResult:
    alerts: tuple[Alert, ...]
    unknown: tuple[Unknown, ...]
    drug: ClinicalDrug  # the new medication as identified
    days_supply: int | None = None  # the new one's, as given or computed from its sig and quantity
    sig: Sig | None = None  # the new one's sig, expanded

    @property
    def needs_resolution(self) -> tuple[Alert, ...]:
        """Major and contraindicated alerts: each needs an override with a signed reason, or hold/cancel."""
        return tuple(a for a in self.alerts if a.needs_resolution)

    def as_json(self) -> dict[str, list[dict[str, Any]]]:
        """The CLI's and the REST endpoint's shape: {"alerts": [{type, severity, with, summary, source}],
        "unknown": [{name, kind, suggestions, reason}]}."""
        return {"alerts": [a.as_dict() for a in self.alerts], "unknown": [u.as_dict() for u in self.unknown]}


# --------------------------------------------------------------------------------------------------
# inputs


def as_medication(value: Medication | Mapping[str, Any]) -> Medication:
    if isinstance(value, Medication):
        return value
    from backend.clinical.schemas import medication_from  # pydantic only when a dict comes in

    return medication_from(value)


def _name_for(drug: ClinicalDrug, ingredient: str) -> str:
    """How an alert names a drug: as written, with the ingredient it concerns, and how a typo was read
    (a fuzzy match is the dictionary's reading, which the pharmacist must be able to see and reject)."""
    if drug.read_as and len(drug.ingredients) == 1:
        return f"{drug.name} (read as {drug.read_as})"
    if len(drug.ingredients) > 1:
        return f"{drug.name} ({ingredient})"
    if normalise(drug.name) != ingredient:
        return f"{drug.name} ({ingredient})"
    return drug.name


# --------------------------------------------------------------------------------------------------
# interactions


def _interactions(new: ClinicalDrug, active: list[tuple[Medication, ClinicalDrug]]) -> list[Alert]:
    alerts = []
    for med, drug in active:
        pair = check_pair(new.for_interactions(), drug.for_interactions())
        findings = [f for f in pair.findings if f.rule_id != "same-ingredient"]  # refills are early_refill's
        if not findings:
            continue
        worst = max(findings, key=lambda f: (SEVERITY_RANK[f.severity], f.rule_id))
        summary = f"{_name_for(new, worst.a_ingredient)} + {_name_for(drug, worst.b_ingredient)}: {worst.summary}"
        if worst.management:
            summary += f" {worst.management}"
        if len(findings) > 1:
            summary += f" ({len(findings) - 1} more finding{'s' if len(findings) > 2 else ''})"
        alerts.append(
            Alert(
                "interaction",
                worst.severity,
                med.drug,
                summary,
                worst.sources[0].cite(),
                f"interaction:{worst.rule_id}:{normalise(med.drug)}",
            )
        )
    return alerts


# --------------------------------------------------------------------------------------------------
# same ingredient: early refill, or the same ingredient in another product


def _early_refill(
    new_med: Medication,
    new: ClinicalDrug,
    active: list[tuple[Medication, ClinicalDrug]],
    on: date,
    threshold: float,
    controlled: bool,
) -> list[Alert]:
    alerts = []
    source = (
        f"pharmacy-saas DUR (docs/clinical.md): early refill before {threshold:.0%} of the last fill's days' supply "
        "has passed (the chain's setting)"
    )
    for med, drug in active:
        if set(drug.ingredients) != set(new.ingredients):
            continue
        code = f"early_refill:{normalise(med.drug)}"
        if med.last_fill is None or not med.days_supply:
            alerts.append(
                Alert(
                    "early_refill",
                    "minor",
                    med.drug,
                    f"{new_med.drug} is already active as {med.drug}; its last fill date or days' supply was not "
                    "given, so an early refill cannot be ruled out. Check the fill history.",
                    source,
                    code,
                )
            )
            continue
        due = med.last_fill + timedelta(days=math.ceil(threshold * med.days_supply - 1e-9))
        if on >= due:
            continue
        elapsed = (on - med.last_fill).days
        used = max(elapsed, 0) / med.days_supply
        severity: Severity = "major" if controlled else "moderate"
        summary = (
            f"Refill too soon: {med.drug} was last filled {med.last_fill.isoformat()} for {med.days_supply} days; "
            f"{elapsed} day{'s' if elapsed != 1 else ''} ({used:.0%}) have passed. Due from {due.isoformat()} "
            f"({threshold:.0%} of the days' supply)."
        )
        if controlled:
            summary += " Controlled substance: document the reason (lost, stolen, dose increase) or wait."
        alerts.append(Alert("early_refill", severity, med.drug, summary, source, code))
    return alerts


# --------------------------------------------------------------------------------------------------
# duplication


def _class_order() -> tuple[TherapeuticClass, ...]:
    return tuple(THERAPEUTIC_CLASSES.values())


_CLASSES = _class_order()


def _aspirin_dose(reg: Regimen, med: Medication) -> Fraction | None:
    if "aspirin" in reg.mg_per_dose:
        return reg.mg_per_dose["aspirin"]
    strength = strength_of(med)
    if strength is not None and len(strength.parts_mg) == 1 and reg.drug.ingredients == ("aspirin",):
        return strength.parts_mg[0]
    return None


def _pair_rule(x: str, y: str) -> tuple[str, Severity, str, str] | None:
    for rule in PAIR_RULES:
        for left, right in ((x, y), (y, x)):
            if _side_matches(rule.left, left, THERAPEUTIC_CLASSES) and _side_matches(
                rule.right, right, THERAPEUTIC_CLASSES
            ):
                return rule.id, rule.severity, rule.summary, rule.source.cite()
    return None


def _side_matches(side: str, ingredient: str, classes: Mapping[str, TherapeuticClass | AllergyClass]) -> bool:
    if side.startswith("class:"):
        cls = classes.get(side[6:])
        return cls is not None and ingredient in cls.members
    return side == ingredient


RegimenOf = Callable[[Medication, ClinicalDrug], Regimen]
_INDEX: dict[int, dict[str, list[int]]] = {}


def _first_class(x: str, y: str) -> TherapeuticClass | None:
    """The first class (table order) holding both ingredients, through an ingredient -> classes index."""
    index = _INDEX.get(id(_CLASSES))
    if index is None:  # built once per class table (a test may swap the table)
        index = {}
        for position, cls in enumerate(_CLASSES):
            for member in cls.members:
                index.setdefault(member, []).append(position)
        _INDEX.clear()
        _INDEX[id(_CLASSES)] = index
    shared = set(index.get(x, ())) & set(index.get(y, ()))
    return _CLASSES[min(shared)] if shared else None


def _duplications(
    new_med: Medication,
    new: ClinicalDrug,
    active: list[tuple[Medication, ClinicalDrug]],
    regimen_of: RegimenOf,
) -> list[Alert]:
    alerts: list[Alert] = []
    for med, drug in active:
        if set(drug.ingredients) == set(new.ingredients):
            continue  # the same product: a refill, judged by the early-refill check
        shared = [i for i in new.ingredients if i in drug.ingredients]
        for ingredient in shared:
            alerts.append(
                Alert(
                    "duplication",
                    "moderate",
                    med.drug,
                    f"{new_med.drug} and {med.drug} both contain {ingredient}: the same ingredient twice. Confirm both "
                    "are intended and check the total daily dose.",
                    SAME_INGREDIENT.cite(),
                    f"duplication:ingredient:{ingredient}:{normalise(med.drug)}",
                )
            )
        reported: set[str] = set()
        for x in new.ingredients:
            for y in drug.ingredients:
                if x == y or x in drug.ingredients or y in new.ingredients:
                    continue
                special = _pair_rule(x, y)
                if special is not None and special[0] not in reported:
                    rule_id, severity, summary, source = special
                    reported.add(rule_id)
                    alerts.append(
                        Alert(
                            "duplication",
                            severity,
                            med.drug,
                            summary,
                            source,
                            f"duplication:{rule_id}:{normalise(med.drug)}",
                        )
                    )
                cls = _first_class(x, y)
                if cls is None or cls.key in reported or any(r.id in reported for r in PAIR_RULES):
                    continue
                alert = _class_duplication(cls, new_med, new, x, med, drug, y, regimen_of)
                if alert is not None:
                    reported.add(cls.key)
                    alerts.append(alert)
    return alerts


def _class_duplication(
    cls: TherapeuticClass,
    new_med: Medication,
    new: ClinicalDrug,
    x: str,
    med: Medication,
    drug: ClinicalDrug,
    y: str,
    regimen_of: RegimenOf,
) -> Alert | None:
    severity: Severity = cls.severity
    summary = f"Two {cls.name}: {_name_for(new, x)} with {_name_for(drug, y)}. {cls.note}".strip()
    for ingredient, side_med, side_drug in ((x, new_med, new), (y, med, drug)):
        threshold = cls.dose_dependent.get(ingredient)
        if threshold is None:
            continue
        side_reg = regimen_of(side_med, side_drug)
        dose = _aspirin_dose(side_reg, side_med) if ingredient == "aspirin" else side_reg.mg_per_dose.get(ingredient)
        if dose is None:
            severity = "minor"
            named = side_med.drug if normalise(side_med.drug) == ingredient else f"{side_med.drug} ({ingredient})"
            summary = (
                f"{named} with another NSAID, dose not given: a duplication if it is taken for "
                f"pain (over {threshold} mg a dose); low-dose aspirin for the heart is not one, but the NSAID "
                "raises bleeding risk and ibuprofen can block aspirin's effect (see the interaction alert)."
            )
        elif dose <= threshold:
            return None  # low-dose (antiplatelet) aspirin: not an NSAID duplication (see therapeutic.py)
    return Alert(
        "duplication", severity, med.drug, summary, cls.source.cite(), f"duplication:{cls.key}:{normalise(med.drug)}"
    )


# --------------------------------------------------------------------------------------------------
# allergies


def _allergen_key(raw: str) -> tuple[str, str]:
    """'Penicillin (rash)' -> ('penicillin', 'rash'); 'sulfa allergy' -> ('sulfa', '')."""
    text = " ".join(raw.split())
    reaction = ""
    if "(" in text and text.endswith(")"):
        text, reaction = text[: text.index("(")].strip(), text[text.index("(") + 1 : -1].strip()
    elif " - " in text:
        text, reaction = (part.strip() for part in text.split(" - ", 1))
    words = text.split()
    while words and words[-1].lower() in ("allergy", "allergies", "allergic", "intolerance", "sensitivity"):
        words.pop()
    return " ".join(words), reaction


@dataclass(frozen=True)
class _Allergen:
    raw: str
    name: str  # without the reaction
    reaction: str
    ingredients: tuple[str, ...]
    classes: tuple[AllergyClass, ...]
    read_as: str = ""  # a typo read by the dictionary ("Keflx" -> cephalexin): said in the alert

    @property
    def class_keys(self) -> set[str]:
        keys = set()
        for cls in self.classes:
            keys.add(cls.key)
            keys.update(cls.includes)
        return keys


def _read_allergen(raw: str, cache: NameCache | None) -> _Allergen | Unknown | None:
    name, reaction = _allergen_key(raw)
    key = normalise(name)
    if not key or key in NO_KNOWN_ALLERGIES:
        return None
    if key in CLASS_ALIASES:
        return _Allergen(raw, name, reaction, (), (ALLERGY_CLASSES[CLASS_ALIASES[key]],))
    if key in NON_DRUG_ALLERGENS:
        return Unknown(
            raw, "allergen", (), "not a drug ingredient: check the product's inactive ingredients and packaging"
        )
    drug = identify(name, cache)
    if not drug.known:
        return Unknown(raw, "allergen", drug.suggestions, "not identified as a drug or an allergy class")
    classes = tuple(
        c
        for c in ALLERGY_CLASSES.values()
        if not c.umbrella and c.within is not None and set(drug.ingredients) & c.members
    )
    return _Allergen(raw, name, reaction, drug.ingredients, classes, drug.read_as)


def _cross_rules(allergen: _Allergen, x: str) -> list[CrossSensitivity]:
    found = []
    keys = allergen.class_keys
    for rule in CROSS_SENSITIVITIES:
        directions = [(rule.allergen, rule.drug)] + ([(rule.drug, rule.allergen)] if rule.both_ways else [])
        for allergen_side, drug_side in directions:
            allergen_ok = (
                allergen_side.startswith("class:") and allergen_side[6:] in keys
            ) or allergen_side in allergen.ingredients
            if allergen_ok and _side_matches(drug_side, x, ALLERGY_CLASSES):
                found.append(rule)
                break
    return found


def _allergy(new: ClinicalDrug, allergen: _Allergen) -> Alert | None:
    """The worst allergy finding of one allergen against the new drug's ingredients (direct beats class beats
    cross-sensitivity at the same severity)."""
    candidates: list[tuple[int, int, Alert]] = []
    recorded = f"allergy recorded: {allergen.raw}" + (f", read as {allergen.read_as}" if allergen.read_as else "")
    for x in new.ingredients:
        if x in allergen.ingredients:
            summary = (
                f"{_name_for(new, x)}: the patient is allergic to {x} ({recorded}). "
                "Do not dispense without the prescriber."
            )
            candidates.append(
                (
                    SEVERITY_RANK["major"],
                    3,
                    Alert("allergy", "major", allergen.raw, summary, _class_source(x), f"allergy:direct:{x}"),
                )
            )
            continue
        in_class = False
        for cls in allergen.classes:
            if x in cls.members and cls.within is not None:
                in_class = True
                note = f" {cls.note}" if cls.note else ""
                how = "recorded as a class" if not allergen.ingredients else f"so is {', '.join(allergen.ingredients)}"
                summary = f"{_name_for(new, x)} is one of the {cls.name} ({recorded}; {how}).{note}"
                alert = Alert(
                    "allergy", cls.within, allergen.raw, summary, cls.source.cite(), f"allergy:class:{cls.key}:{x}"
                )
                candidates.append((SEVERITY_RANK[cls.within], 2, alert))
        if in_class:
            continue
        for rule in _cross_rules(allergen, x)[:1]:  # the first matching rule is the most specific (table order)
            summary = f"{_name_for(new, x)} ({recorded}): {rule.summary}"
            sources = "; ".join(src.cite() for src in (rule.source, *rule.also))
            alert = Alert("allergy", rule.severity, allergen.raw, summary, sources, f"allergy:cross:{rule.id}:{x}")
            candidates.append((SEVERITY_RANK[rule.severity], 1, alert))
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c[0], c[1]))[2]


def _class_source(ingredient: str) -> str:
    for cls in ALLERGY_CLASSES.values():
        if ingredient in cls.members and not cls.umbrella and cls.within is not None:
            return cls.source.cite()
    return "The patient's allergy record (the allergen itself)"


# --------------------------------------------------------------------------------------------------
# controlled substances


def _schedule(med: Medication, drug: ClinicalDrug) -> str | None:
    return normalise_schedule(med.schedule) or federal_schedule(drug.ingredients)


_SCHEDULE_TEXT = {
    "CII": "Schedule II controlled substance: no refills (each fill needs its own prescription); check the "
    "prescriber's DEA registration and the state PDMP before filling.",
    "CIII": "Schedule III controlled substance: at most 5 refills within 6 months of the date written; check the "
    "state PDMP.",
    "CIV": "Schedule IV controlled substance: at most 5 refills within 6 months of the date written; check the "
    "state PDMP.",
    "CV": "Schedule V controlled substance: refills as the prescriber authorizes; state rules may be stricter.",
}


def _controlled(new_med: Medication, schedule: str | None) -> list[Alert]:
    if schedule is None:
        return []
    source = f"{SCHEDULE_SOURCES[schedule].cite()}; {REFILL_RULES.cite()}"
    return [Alert("controlled", "minor", new_med.drug, _SCHEDULE_TEXT[schedule], source, f"controlled:{schedule}")]


# --------------------------------------------------------------------------------------------------
# the check


def check(
    new: Medication | Mapping[str, Any],
    active: Sequence[Medication | Mapping[str, Any]] = (),
    allergies: Sequence[str] = (),
    *,
    patient: Patient | None = None,
    today: date | None = None,
    early_refill_threshold: float = DEFAULT_EARLY_REFILL_THRESHOLD,
    cache: NameCache | None = None,
) -> DurResult:
    """Review one new medication against the active ones and the allergies; alerts most severe first.

    `new.date` (else `today`, else the system date) is when the fill happens; early refill compares it with
    each active medication's `last_fill` + `early_refill_threshold` x `days_supply`. `patient` (weight, age,
    opioid tolerance) enables the weight, age and opioid-naive checks. Unidentified drugs and allergens
    are returned in `unknown`, never treated as safe. Needs no database.
    """
    if not 0 < early_refill_threshold <= 1:
        raise ValueError("early_refill_threshold must be in (0, 1]")
    new_med = as_medication(new)
    actives = [as_medication(m) for m in active]
    if len(actives) > MAX_ACTIVE or len(allergies) > MAX_ALLERGIES:
        raise ValueError(f"at most {MAX_ACTIVE} active medications and {MAX_ALLERGIES} allergies")
    on = new_med.date or today or date.today()
    unknown: list[Unknown] = []

    new_drug = identify(new_med.drug, cache)
    if not new_drug.known:
        unknown.append(
            Unknown(new_med.drug, "drug", new_drug.suggestions, "not identified: nothing was checked for it")
        )
    identified: list[tuple[Medication, ClinicalDrug]] = []
    for med in actives:
        drug = identify(med.drug, cache)
        if drug.known:
            identified.append((med, drug))
        else:
            unknown.append(
                Unknown(med.drug, "drug", drug.suggestions, "not identified: not checked against the new drug")
            )
    allergens: list[_Allergen] = []
    for raw in allergies:
        read = _read_allergen(str(raw), cache)
        if isinstance(read, Unknown):
            unknown.append(read)
        elif read is not None:
            allergens.append(read)

    sig = None
    days_supply = new_med.days_supply
    if new_med.sig:
        sig = expand(new_med.sig, quantity=new_med.quantity, strength=new_med.strength)
        if days_supply is None:
            days_supply = sig.days_supply

    alerts: list[Alert] = []
    if new_drug.known:
        schedule = _schedule(new_med, new_drug)
        memo: dict[int, Regimen] = {}

        def regimen_of(med: Medication, drug: ClinicalDrug) -> Regimen:
            # Reading a sig and a strength is most of the DUR's cost: only for the medications a check needs.
            if id(med) not in memo:
                memo[id(med)] = regimen(med, drug, cache)
            return memo[id(med)]

        new_reg = regimen_of(new_med, new_drug)
        alerts += _interactions(new_drug, identified)
        alerts += _early_refill(new_med, new_drug, identified, on, early_refill_threshold, schedule is not None)
        alerts += _duplications(new_med, new_drug, identified, regimen_of)
        for allergen in allergens:
            if (alert := _allergy(new_drug, allergen)) is not None:
                alerts.append(alert)
        totals = TOTALLED & set(new_drug.ingredients)  # acetaminophen and opioids add up across products
        if totals & OPIOIDS:
            totals |= OPIOIDS
        others = [regimen_of(med, drug) for med, drug in identified if totals & set(drug.ingredients)]
        alerts += check_doses(new_reg, others, patient)
        alerts += _controlled(new_med, schedule)
    alerts.sort(key=Alert.sort_key)
    return DurResult(tuple(alerts), tuple(unknown), new_drug, days_supply, sig)


# --------------------------------------------------------------------------------------------------
# an allergy record's entry, read once when it is recorded


@dataclass(frozen=True)
class AllergenReading:
    """What one allergy entry stands for: an allergy class, a drug's ingredients, a non-drug allergen, or
    nothing identified (kept as typed, never guessed). `matched` is what the DUR reads back."""

    written: str
    name: str  # without the reaction
    reaction: str
    kind: Literal["class", "ingredient", "non_drug", "unmatched", "none_known"]
    matched: str  # the class's name, the ingredients joined with " + ", or "" when not matched
    suggestions: tuple[str, ...] = ()


def read_allergen(raw: str, cache: NameCache | None = None) -> AllergenReading:
    """Match an allergy as staff type it ("Penicillin (hives)", "sulfa", "Keflex - rash", "latex")."""
    name, reaction = _allergen_key(raw)
    read = _read_allergen(raw, cache)
    if read is None:
        return AllergenReading(raw, name, reaction, "none_known", "")
    if isinstance(read, Unknown):
        kind: Literal["non_drug", "unmatched"] = "non_drug" if read.reason.startswith("not a drug") else "unmatched"
        return AllergenReading(raw, name, reaction, kind, "", read.suggestions)
    if read.ingredients:
        return AllergenReading(raw, name, reaction, "ingredient", " + ".join(read.ingredients))
    return AllergenReading(raw, name, reaction, "class", read.classes[0].name)
