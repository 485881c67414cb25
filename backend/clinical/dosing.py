"""Dose-range checks for the high-risk drugs where a dosing error kills, each limit with its label source.

Covered (see `LIMITS` for the numbers and sources, docs/clinical.md for the reasoning):
- methotrexate more often than once weekly (the daily-instead-of-weekly error), or its frequency missing;
  weekly dose above the labelled non-cancer maximum;
- acetaminophen over 4,000 mg a day summed across every active product that contains it (combinations
  included), and weight-based limits under 50 kg;
- ibuprofen over the labelled daily maximum, weight-based under 12 years, and under 6 months;
- colchicine above the labelled daily doses;
- opioids: products only for opioid-tolerant patients (fentanyl patches and transmucosal fentanyl,
  hydromorphone ER, high OxyContin and MS Contin doses) when tolerance is not established; extended-release
  or long-acting opioids started in an opioid-naive patient; total morphine milligram equivalents (MME) a day
  across the new and active opioids;
- age limits that are label contraindications or FDA warnings: codeine and tramadol under 12, promethazine
  under 2, over-the-counter cough and cold ingredients under 2, benzonatate under 10, aspirin under 18.

A dose is the most the sig (or dose + frequency) allows: the larger end of a range, the shorter interval,
capped by a written "max N a day". When a dose cannot be known (no sig, no strength, a dose in mg for a
combination) the check says "not checked" and why, instead of passing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

from backend.clinical.alerts import Alert
from backend.clinical.drugs import ClinicalDrug, bare_name, identify, written_order
from backend.clinical.medication import Medication, Patient
from backend.clinical.sig import Unit, expand, frequency_per_day
from backend.clinical.strength import Strength, parse_strength
from backend.clinical.therapeutic import CDC_2022
from backend.interactions.knowledge import Severity, Source, label
from backend.interactions.names import NameCache

# --------------------------------------------------------------------------------------------------
# the limits


@dataclass(frozen=True)
class DoseLimit:
    id: str
    drug: str  # the generic (or group) it applies to
    limit: str  # the limit in words, as the alert says it
    value: Fraction
    unit: str  # mg/day, mg/week, mg/kg/dose, mg/kg/day, doses/day, MME/day, years
    severity: Severity
    source: Source
    also: tuple[Source, ...] = ()

    def cite(self) -> str:
        return "; ".join(s.cite() for s in (self.source, *self.also))


FDA_ACETAMINOPHEN_2011 = Source(
    "FDA Drug Safety Communication (2011-01-13): prescription acetaminophen combination products limited to "
    "325 mg per dosage unit; boxed warning for severe liver injury",
    "https://www.fda.gov/drugs/drug-safety-and-availability/"
    "fda-drug-safety-communication-prescription-acetaminophen-products-be-limited-325-mg-dosage-unit",
)
ISMP_METHOTREXATE = Source(
    "ISMP: Call to action: longstanding strategies to prevent accidental daily methotrexate dosing must be "
    "implemented (oral methotrexate for non-oncologic use is on the ISMP List of High-Alert Medications)",
    "https://www.ismp.org/resources/call-action-longstanding-strategies-prevent-accidental-daily-methotrexate-dosing-must-be",
)
METHOTREXATE_LABEL = label(
    "Trexall",
    "methotrexate tablets",
    "5 Warnings (serious adverse reactions from improper dosing: mistaken daily use has led to fatal toxicity); "
    "2 Dosage (once weekly)",
)
FDA_CODEINE_TRAMADOL_2017 = Source(
    "FDA Drug Safety Communication (2017-04-20): codeine and tramadol contraindicated in children younger than 12",
    "https://www.fda.gov/drugs/drug-safety-and-availability/"
    "fda-drug-safety-communication-fda-restricts-use-prescription-codeine-pain-and-cough-medicines-and",
)
FDA_COUGH_COLD_2008 = Source(
    "FDA Public Health Advisory (2008-01-17): nonprescription cough and cold medicines should not be used in "
    "children under 2 years",
    "https://www.fda.gov/drugs/special-features/use-caution-when-giving-cough-and-cold-products-kids",
)
OPIOID_TOLERANT = label(
    "OxyContin",
    "oxycodone extended-release",
    "1 Indications; 2 Dosage (opioid-tolerant: for a week or longer at least 60 mg oral morphine, 25 mcg/hour "
    "transdermal fentanyl, 30 mg oxycodone, 8 mg hydromorphone, 25 mg oxymorphone or 60 mg hydrocodone a day)",
)


def _limit(
    id: str,
    drug: str,
    limit: str,
    value: float | Fraction,
    unit: str,
    severity: Severity,
    source: Source,
    *also: Source,
) -> DoseLimit:  # noqa: A002
    return DoseLimit(id, drug, limit, Fraction(value).limit_denominator(1000), unit, severity, source, also)


_LIMITS = [
    _limit(
        "methotrexate-daily",
        "methotrexate",
        "once weekly for non-cancer use; daily dosing by mistake has killed patients",
        1,
        "doses/day",
        "major",
        METHOTREXATE_LABEL,
        ISMP_METHOTREXATE,
    ),
    _limit(
        "methotrexate-more-than-weekly",
        "methotrexate",
        "once weekly for non-cancer use (the 2020 labels removed the 3-doses-12-hours-apart option)",
        Fraction(1, 7),
        "doses/day",
        "moderate",
        METHOTREXATE_LABEL,
        ISMP_METHOTREXATE,
    ),
    _limit(
        "methotrexate-weekly-max",
        "methotrexate",
        "30 mg a week (psoriasis; rheumatoid arthritis usually up to 20-25 mg)",
        30,
        "mg/week",
        "moderate",
        label("methotrexate tablets", "methotrexate", "2 Dosage (psoriasis: not ordinarily over 30 mg a week)"),
    ),
    _limit(
        "acetaminophen-4g",
        "acetaminophen",
        "4,000 mg a day from all products",
        4000,
        "mg/day",
        "major",
        label(
            "Norco", "hydrocodone bitartrate and acetaminophen", "Boxed warning (hepatotoxicity above 4,000 mg a day)"
        ),
        FDA_ACETAMINOPHEN_2011,
    ),
    _limit(
        "acetaminophen-kg-dose",
        "acetaminophen",
        "15 mg/kg a dose under 50 kg",
        15,
        "mg/kg/dose",
        "moderate",
        label(
            "Ofirmev",
            "acetaminophen injection",
            "2 Dosage (under 50 kg: 15 mg/kg every 6 hours, at most 75 mg/kg a day)",
        ),
    ),
    _limit(
        "acetaminophen-kg-day",
        "acetaminophen",
        "75 mg/kg a day under 50 kg",
        75,
        "mg/kg/day",
        "major",
        label(
            "Ofirmev",
            "acetaminophen injection",
            "2 Dosage (under 50 kg: 15 mg/kg every 6 hours, at most 75 mg/kg a day)",
        ),
    ),
    _limit(
        "ibuprofen-day",
        "ibuprofen",
        "3,200 mg a day",
        3200,
        "mg/day",
        "major",
        label("Motrin", "ibuprofen tablets", "2 Dosage (do not exceed 3200 mg total daily dose)"),
    ),
    _limit(
        "ibuprofen-kg-dose",
        "ibuprofen",
        "10 mg/kg a dose in children under 12",
        10,
        "mg/kg/dose",
        "moderate",
        label("Motrin", "ibuprofen oral suspension", "Dosage (children: 5-10 mg/kg a dose, at most 40 mg/kg a day)"),
    ),
    _limit(
        "ibuprofen-kg-day",
        "ibuprofen",
        "40 mg/kg a day in children under 12",
        40,
        "mg/kg/day",
        "major",
        label("Motrin", "ibuprofen oral suspension", "Dosage (children: 5-10 mg/kg a dose, at most 40 mg/kg a day)"),
    ),
    _limit(
        "ibuprofen-age",
        "ibuprofen",
        "not established under 6 months",
        Fraction(1, 2),
        "years",
        "moderate",
        label("Motrin", "ibuprofen oral suspension", "Pediatric use (under 6 months not established)"),
    ),
    _limit(
        "colchicine-day",
        "colchicine",
        "2.4 mg a day (the highest labelled daily dose, familial Mediterranean fever)",
        Fraction(12, 5),
        "mg/day",
        "major",
        label(
            "Colcrys",
            "colchicine",
            "2 Dosage (FMF 1.2-2.4 mg a day; gout prophylaxis up to 1.2 mg a day; flare 1.8 mg over 1 hour)",
        ),
    ),
    _limit(
        "colchicine-prophylaxis",
        "colchicine",
        "1.2 mg a day for gout prophylaxis (more only for familial Mediterranean fever)",
        Fraction(6, 5),
        "mg/day",
        "moderate",
        label(
            "Colcrys",
            "colchicine",
            "2 Dosage (FMF 1.2-2.4 mg a day; gout prophylaxis up to 1.2 mg a day; flare 1.8 mg over 1 hour)",
        ),
    ),
    _limit("mme-naive", "opioids", "50 MME a day in an opioid-naive patient", 50, "MME/day", "major", CDC_2022),
    _limit("mme-90", "opioids", "90 MME a day", 90, "MME/day", "moderate", CDC_2022),
    _limit(
        "opioid-naive-er",
        "opioids",
        "immediate-release opioids to start (not extended-release or long-acting)",
        0,
        "MME/day",
        "moderate",
        CDC_2022,
    ),
    _limit(
        "opioid-tolerant-only",
        "fentanyl patches and transmucosal fentanyl, hydromorphone ER",
        "only for opioid-tolerant patients",
        0,
        "MME/day",
        "contraindicated",
        label("Duragesic", "fentanyl transdermal system", "4 Contraindications (opioid non-tolerant patients)"),
        label("Exalgo", "hydromorphone extended-release", "4 Contraindications (opioid non-tolerant patients)"),
        OPIOID_TOLERANT,
    ),
    _limit(
        "oxycodone-er-tolerant",
        "oxycodone ER",
        "a single dose over 40 mg or over 80 mg a day only for opioid-tolerant patients",
        80,
        "mg/day",
        "major",
        label("OxyContin", "oxycodone extended-release", "2 Dosage (single dose over 40 mg or daily over 80 mg)"),
    ),
    _limit(
        "morphine-er-tolerant",
        "morphine ER",
        "a single dose over 60 mg or over 120 mg a day only for opioid-tolerant patients",
        120,
        "mg/day",
        "major",
        label(
            "MS Contin",
            "morphine sulfate extended-release",
            "2 Dosage (100/200 mg tablets, single dose over 60 mg, daily over 120 mg)",
        ),
    ),
    _limit(
        "codeine-age",
        "codeine",
        "contraindicated under 12 years (ultra-rapid metabolism: fatal respiratory depression)",
        12,
        "years",
        "contraindicated",
        label("codeine sulfate tablets", "codeine", "4 Contraindications (children younger than 12)"),
        FDA_CODEINE_TRAMADOL_2017,
    ),
    _limit(
        "tramadol-age",
        "tramadol",
        "contraindicated under 12 years",
        12,
        "years",
        "contraindicated",
        label("Ultram", "tramadol", "4 Contraindications (children younger than 12)"),
        FDA_CODEINE_TRAMADOL_2017,
    ),
    _limit(
        "promethazine-age",
        "promethazine",
        "contraindicated under 2 years (fatal respiratory depression)",
        2,
        "years",
        "contraindicated",
        label("Phenergan", "promethazine", "Boxed warning (children under 2 years)"),
    ),
    _limit(
        "cough-cold-age",
        "cough and cold ingredients",
        "not for children under 2 years",
        2,
        "years",
        "major",
        FDA_COUGH_COLD_2008,
    ),
    _limit(
        "benzonatate-age",
        "benzonatate",
        "not for children under 10 (accidental ingestion has been fatal)",
        10,
        "years",
        "major",
        label("Tessalon", "benzonatate", "Warnings (accidental ingestion and overdose in children under 10)"),
    ),
    _limit(
        "aspirin-age",
        "aspirin",
        "not for children and teenagers with chickenpox or flu-like symptoms (Reye's syndrome)",
        18,
        "years",
        "moderate",
        label("Bayer Aspirin", "aspirin", "Drug Facts: Reye's syndrome warning"),
    ),
]
LIMITS: MappingProxyType[str, DoseLimit] = MappingProxyType({limit.id: limit for limit in _LIMITS})

COUGH_COLD = frozenset(
    {
        "dextromethorphan",
        "pseudoephedrine",
        "phenylephrine",
        "brompheniramine",
        "chlorpheniramine",
        "diphenhydramine",
        "guaifenesin",
        "doxylamine",
    }
)
AGE_LIMITS: MappingProxyType[str, str] = MappingProxyType(
    {
        "codeine": "codeine-age",
        "tramadol": "tramadol-age",
        "promethazine": "promethazine-age",
        "benzonatate": "benzonatate-age",
        "aspirin": "aspirin-age",
        **dict.fromkeys(COUGH_COLD, "cough-cold-age"),
    }
)

# Morphine milligram equivalents per mg (fentanyl: per mcg/hour of a patch). CDC 2022 guideline, Table.
# Buprenorphine has none on purpose (CDC: its MME would mislead); an opioid without a factor is named as
# "not counted" in the total, never counted as zero silently.
MME_FACTORS: MappingProxyType[str, Fraction] = MappingProxyType(
    {
        "codeine": Fraction(15, 100),
        "hydrocodone": Fraction(1),
        "hydromorphone": Fraction(5),
        "methadone": Fraction(47, 10),
        "morphine": Fraction(1),
        "oxycodone": Fraction(3, 2),
        "oxymorphone": Fraction(3),
        "tapentadol": Fraction(2, 5),
        "tramadol": Fraction(1, 5),
    }
)
FENTANYL_PATCH_MME_PER_MCG_HOUR = Fraction(12, 5)
OPIOIDS = frozenset(
    {
        "morphine",
        "codeine",
        "hydrocodone",
        "hydromorphone",
        "oxycodone",
        "oxymorphone",
        "fentanyl",
        "methadone",
        "tramadol",
        "tapentadol",
        "meperidine",
        "levorphanol",
        "buprenorphine",
        "butorphanol",
        "dihydrocodeine",
        "pentazocine",
        "sufentanil",
        "alfentanil",
        "remifentanil",
    }
)
# The label's opioid-tolerant threshold, a day, for a week or longer (OPIOID_TOLERANT).
TOLERANCE_MG_A_DAY: MappingProxyType[str, Fraction] = MappingProxyType(
    {
        "morphine": Fraction(60),
        "oxycodone": Fraction(30),
        "hydromorphone": Fraction(8),
        "oxymorphone": Fraction(25),
        "hydrocodone": Fraction(60),
    }
)
TOLERANCE_FENTANYL_MCG_HOUR = Fraction(25)
TOLERANCE_MME = Fraction(60)

# --------------------------------------------------------------------------------------------------
# what a medication delivers


@dataclass(frozen=True)
class Regimen:
    """The most a medication delivers, per ingredient, as far as its strength and sig say."""

    name: str
    drug: ClinicalDrug
    mg_per_dose: Mapping[str, Fraction] = field(default_factory=dict)
    mg_per_day: Mapping[str, Fraction] = field(default_factory=dict)  # weekly schedules spread over 7 days
    doses_per_day: Fraction | None = None  # the most administrations a day (1/7 for weekly)
    mcg_per_hour: Fraction | None = None  # a patch
    problem: str = ""  # why the amounts are unknown

    @property
    def known(self) -> bool:
        return bool(self.mg_per_day) or self.mcg_per_hour is not None


_NAME_STRENGTH = re.compile(
    r"\d+(?:\.\d+)?\s*mcg\s*/\s*(?:h|hr|hour)\b"
    r"|\d+(?:\.\d+)?(?:\s*(?:mg|mcg|g))?(?:\s*[/-]\s*\d+(?:\.\d+)?)*\s*(?:mg|mcg|g)\b(?:\s*/\s*\d*(?:\.\d+)?\s*ml\b)?",
    re.IGNORECASE,
)


def strength_of(med: Medication) -> Strength | None:
    """The strength given, or one written in the drug name ("Tylenol 500 mg")."""
    if med.strength:
        return parse_strength(med.strength)
    found = _NAME_STRENGTH.search(med.drug)
    return parse_strength(found.group(0)) if found else None


# How each label writes a combination's strength, so "Percocet 5/325" reads as oxycodone 5 mg and
# acetaminophen 325 mg while "Tylenol with Codeine 300/30" reads acetaminophen first. The dictionary's own
# order is not the label's (it lists Entresto as valsartan/sacubitril; the label writes sacubitril/valsartan
# 49/51), so a brand not in this table needs the strength written per ingredient or the generic names in order.
_ORDERS: list[tuple[tuple[str, ...], tuple[str, ...], str, str]] = [
    (("percocet", "endocet", "roxicet"), ("oxycodone", "acetaminophen"), "Percocet", "oxycodone and acetaminophen"),
    (
        ("norco", "vicodin", "lortab", "lorcet"),
        ("hydrocodone", "acetaminophen"),
        "Norco",
        "hydrocodone bitartrate and acetaminophen",
    ),
    (
        ("tylenol with codeine", "tylenol #3", "tylenol 3", "tylenol #4", "tylenol 4", "tylenol-codeine"),
        ("acetaminophen", "codeine"),
        "Tylenol with Codeine",
        "acetaminophen and codeine",
    ),
    (("ultracet",), ("tramadol", "acetaminophen"), "Ultracet", "tramadol and acetaminophen"),
    (
        ("bactrim", "bactrim ds", "septra", "septra ds", "smx-tmp", "smx/tmp"),
        ("sulfamethoxazole", "trimethoprim"),
        "Bactrim",
        "sulfamethoxazole and trimethoprim",
    ),
    (("augmentin",), ("amoxicillin", "clavulanic acid"), "Augmentin", "amoxicillin and clavulanate"),
    (("excedrin",), ("acetaminophen", "aspirin", "caffeine"), "Excedrin", "acetaminophen, aspirin and caffeine"),
    (("entresto",), ("sacubitril", "valsartan"), "Entresto", "sacubitril and valsartan"),
    (("zestoretic",), ("lisinopril", "hydrochlorothiazide"), "Zestoretic", "lisinopril and hydrochlorothiazide"),
    (("hyzaar",), ("losartan", "hydrochlorothiazide"), "Hyzaar", "losartan and hydrochlorothiazide"),
    (("vytorin",), ("ezetimibe", "simvastatin"), "Vytorin", "ezetimibe and simvastatin"),
    (("caduet",), ("amlodipine", "atorvastatin"), "Caduet", "amlodipine and atorvastatin"),
]
STRENGTH_ORDER: MappingProxyType[str, tuple[tuple[str, ...], Source]] = MappingProxyType(
    {
        brand: (order, label(label_brand, generic, "Description (strengths)"))
        for brands, order, label_brand, generic in _ORDERS
        for brand in brands
    }
)


def ingredient_amounts(
    strength: Strength, drug: ClinicalDrug, cache: NameCache | None = None
) -> dict[str, Fraction] | None:
    """mg of each ingredient per dosage unit (or per `per_ml` mL). A combination's parts are matched by the
    names written with them, else by the order the generic name writes the ingredients, else by the label's
    order for a known brand (STRENGTH_ORDER); otherwise None: a guess could read 300/30 backwards."""
    parts = strength.parts_mg
    if not parts:
        return None
    if all(strength.names):
        amounts: dict[str, Fraction] = {}
        for name, mg in zip(strength.names, parts, strict=True):
            named = identify(name, cache).ingredients
            if len(named) != 1 or named[0] not in drug.ingredients:
                return None
            amounts[named[0]] = mg
        return amounts if len(amounts) == len(drug.ingredients) else None
    if len(parts) != len(drug.ingredients):
        return None
    if len(parts) == 1:
        return {drug.ingredients[0]: parts[0]}
    order = written_order(drug, cache)
    if order is None:
        labelled = STRENGTH_ORDER.get(bare_name(drug.name))
        order = labelled[0] if labelled and sorted(labelled[0]) == sorted(drug.ingredients) else None
    return dict(zip(order, parts, strict=True)) if order else None


@dataclass(frozen=True)
class _Step:
    dose_max: Fraction
    unit: Unit
    units_per_day: Fraction | None  # most units a day (dose x frequency, capped)
    per_day: Fraction | None  # administrations a day


def _steps(med: Medication) -> tuple[list[_Step], str]:
    """The schedule(s) to dose-check: from the sig, with `dose`/`frequency` overriding its parts."""
    sig = expand(med.sig) if med.sig else None
    segments = [s for s in sig.segments if s.dose_max is not None and s.unit is not None] if sig else []
    if not med.dose and not med.frequency:
        if not med.sig:
            return [], "no sig or dose and frequency given"
        if not segments:
            return [], f"the sig gives no dose with a unit ({sig.text if sig else ''!r})"
        steps = [
            _Step(s.dose_max, s.unit, s.units_per_day_max, s.per_day_max) for s in segments if s.dose_max and s.unit
        ]
        return steps, ""
    dose_max: Fraction | None = None
    unit: Unit | None = None
    if med.dose:
        dose = expand(med.dose).segments
        if not dose or dose[0].dose_max is None or dose[0].unit is None:
            return [], f"dose {med.dose!r} has no amount with a unit"
        dose_max, unit = dose[0].dose_max, dose[0].unit
    elif segments:
        dose_max, unit = segments[0].dose_max, segments[0].unit
    per_day: Fraction | None = None
    if med.frequency:
        frequency = frequency_per_day(med.frequency)
        if frequency is None:
            return [], f"frequency {med.frequency!r} not understood"
        per_day = frequency[1]
    elif sig and len(sig.segments) == 1:
        per_day = sig.segments[0].per_day_max
    if dose_max is None or unit is None:
        return [], "no dose amount with a unit"
    return [_Step(dose_max, unit, dose_max * per_day if per_day is not None else None, per_day)], ""


def _mg_per_unit(
    unit: Unit, drug: ClinicalDrug, strength: Strength | None, cache: NameCache | None
) -> tuple[dict[str, Fraction] | None, str]:
    if unit.kind == "mass":
        if unit.mg is None:
            return None, f"dose in {unit.plural}"
        if len(drug.ingredients) != 1:
            return None, f"a dose in {unit.plural} of a combination product does not say how much of each ingredient"
        return {drug.ingredients[0]: unit.mg}, ""
    if strength is None:
        return None, "no strength given"
    amounts = ingredient_amounts(strength, drug, cache)
    if amounts is None:
        if len(drug.ingredients) > 1:
            example = " / ".join(f"{i} N mg" for i in drug.ingredients)
            return None, f"the strength of a combination needs each ingredient named (e.g. '{example}')"
        return None, "strength does not match the product"
    if unit.kind == "volume":
        if strength.per_ml is None:
            return None, "a dose in mL needs a strength per mL"
        ml = unit.ml or Fraction(1)
        return {k: v * ml / strength.per_ml for k, v in amounts.items()}, ""
    if unit.kind == "count" and strength.per_ml is None:
        return amounts, ""
    return None, f"a dose in {unit.plural} with strength {strength}"


def regimen(med: Medication, drug: ClinicalDrug, cache: NameCache | None = None) -> Regimen:
    """What this medication delivers at most, per ingredient (mg a dose, mg a day), or why that is unknown."""
    if not drug.known:
        return Regimen(med.drug, drug, problem="drug not identified")
    strength = strength_of(med)
    steps, problem = _steps(med)
    if problem:
        return Regimen(med.drug, drug, problem=problem)
    if strength is not None and strength.mcg_per_hour is not None:  # a patch: the rate is the dose
        patches = max(step.dose_max for step in steps) if steps and steps[0].unit.singular == "patch" else Fraction(1)
        return Regimen(med.drug, drug, mcg_per_hour=strength.mcg_per_hour * patches)
    per_dose: dict[str, Fraction] = {}
    per_day: dict[str, Fraction] = {}
    most_doses: Fraction | None = None
    for step in steps:
        mg_per_unit, problem = _mg_per_unit(step.unit, drug, strength, cache)
        if mg_per_unit is None:
            return Regimen(med.drug, drug, problem=problem)
        for ingredient, mg in mg_per_unit.items():
            per_dose[ingredient] = max(per_dose.get(ingredient, Fraction(0)), mg * step.dose_max)
            if step.units_per_day is not None:
                per_day[ingredient] = max(per_day.get(ingredient, Fraction(0)), mg * step.units_per_day)
        if step.per_day is not None:
            most_doses = step.per_day if most_doses is None else max(most_doses, step.per_day)
    problem = "" if per_day else "no frequency: the daily dose is unknown"
    return Regimen(med.drug, drug, per_dose, per_day, most_doses, None, problem)


# --------------------------------------------------------------------------------------------------
# the checks


def _mg(value: Fraction) -> str:
    number = float(value)
    return f"{number:,.0f}" if number >= 100 else f"{number:,.3g}"


def _alert(limit_id: str, with_: str, summary: str, *, severity: Severity | None = None, code: str = "") -> Alert:
    limit = LIMITS[limit_id]
    return Alert("dose", severity or limit.severity, with_, summary, limit.cite(), code or f"dose:{limit_id}")


def _not_checked(
    with_: str, what: str, problem: str, severity: Severity = "minor", code: str = "dose:not-checked"
) -> Alert:
    return Alert(
        "dose",
        severity,
        with_,
        f"Dose of {what} not checked: {problem}. Give the strength and the sig (or dose and frequency).",
        "pharmacy-saas dose checks (docs/clinical.md): a dose that cannot be read is reported, never passed",
        code,
    )


def _methotrexate(new: Regimen) -> list[Alert]:
    name = new.name
    if new.doses_per_day is None:
        return [
            _not_checked(
                name,
                "methotrexate",
                "no frequency given. For non-cancer use it is taken once WEEKLY; confirm the day with the prescriber",
                "moderate",
                "dose:methotrexate-frequency",
            )
        ]
    alerts = []
    if new.doses_per_day >= LIMITS["methotrexate-daily"].value:
        times = "daily" if new.doses_per_day == 1 else f"{_mg(new.doses_per_day)} times a day"
        alerts.append(
            _alert(
                "methotrexate-daily",
                name,
                f"Methotrexate {times}: for rheumatoid arthritis, psoriasis and other non-cancer uses it is taken "
                "once WEEKLY; daily dosing by mistake has caused fatal toxicity. Confirm the indication and the "
                "schedule with the prescriber before filling (daily schedules are oncology-only).",
            )
        )
    elif new.doses_per_day > LIMITS["methotrexate-more-than-weekly"].value:
        alerts.append(
            _alert(
                "methotrexate-more-than-weekly",
                name,
                f"Methotrexate {float(new.doses_per_day * 7):g} doses a week: the non-cancer dose is once weekly. "
                "Confirm the schedule with the prescriber and write the day of the week on the label.",
            )
        )
    weekly = new.mg_per_day.get("methotrexate")
    if weekly is not None and weekly * 7 > LIMITS["methotrexate-weekly-max"].value and not alerts:
        alerts.append(
            _alert(
                "methotrexate-weekly-max",
                name,
                f"Methotrexate {_mg(weekly * 7)} mg a week: above the labelled non-cancer maximum of 30 mg a week.",
            )
        )
    return alerts


def _acetaminophen(new: Regimen, others: list[Regimen], patient: Patient | None) -> list[Alert]:
    products = [new, *(o for o in others if "acetaminophen" in o.drug.ingredients)]
    known = [p for p in products if "acetaminophen" in p.mg_per_day]
    unknown = [p for p in products if "acetaminophen" not in p.mg_per_day]
    total = sum((p.mg_per_day["acetaminophen"] for p in known), Fraction(0))
    names = ", ".join(f"{p.name} {_mg(p.mg_per_day['acetaminophen'])} mg" for p in known)
    missing = f" Not counted (dose unknown): {', '.join(p.name for p in unknown)}." if unknown else ""
    with_ = "acetaminophen: " + ", ".join(p.name for p in products)
    alerts = []
    weight = patient.weight_kg if patient else None
    if weight is not None and weight < 50:
        per_kg_day = total / Fraction(weight).limit_denominator(100)
        if per_kg_day > LIMITS["acetaminophen-kg-day"].value:
            alerts.append(
                _alert(
                    "acetaminophen-kg-day",
                    with_,
                    f"Acetaminophen {_mg(total)} mg a day ({_mg(per_kg_day)} mg/kg at {weight:g} kg) from {names}: "
                    f"over 75 mg/kg a day.{missing}",
                )
            )
        dose = new.mg_per_dose.get("acetaminophen")
        if dose is not None and dose / Fraction(weight).limit_denominator(100) > LIMITS["acetaminophen-kg-dose"].value:
            alerts.append(
                _alert(
                    "acetaminophen-kg-dose",
                    new.name,
                    f"Acetaminophen {_mg(dose)} mg a dose ({_mg(dose / Fraction(weight).limit_denominator(100))} mg/kg "
                    f"at {weight:g} kg): over 15 mg/kg a dose.",
                )
            )
    if total > LIMITS["acetaminophen-4g"].value and not any(a.code == "dose:acetaminophen-kg-day" for a in alerts):
        count = f"{len(known)} products" if len(known) > 1 else "one product"
        alerts.append(
            _alert(
                "acetaminophen-4g",
                with_,
                f"Acetaminophen {_mg(total)} mg a day from {count} ({names}): over the 4,000 mg daily maximum; "
                f"liver failure risk. Check every product the patient takes, including over the counter.{missing}",
            )
        )
    elif unknown and not alerts:
        if len(products) == 1:
            problem = new.problem
        else:
            problem = (
                f"{_mg(total)} mg a day is known, without {', '.join(p.name for p in unknown)} ("
                + "; ".join(p.problem for p in unknown)
                + ")"
            )
        what = "acetaminophen" if len(products) == 1 else f"acetaminophen across {len(products)} products"
        alerts.append(_not_checked(with_, what, problem, code="dose:acetaminophen-total-not-checked"))
    return alerts


def _ibuprofen(new: Regimen, patient: Patient | None) -> list[Alert]:
    alerts = []
    age = patient.age_years if patient else None
    weight = patient.weight_kg if patient else None
    per_day = new.mg_per_day.get("ibuprofen")
    per_dose = new.mg_per_dose.get("ibuprofen")
    if age is not None and age < LIMITS["ibuprofen-age"].value:
        alerts.append(
            _alert(
                "ibuprofen-age",
                new.name,
                "Ibuprofen under 6 months of age: safety and dosing not established; ask the prescriber.",
            )
        )
    child = age is not None and age < 12
    if child and weight is not None:
        kg = Fraction(weight).limit_denominator(100)
        if per_day is not None and per_day / kg > LIMITS["ibuprofen-kg-day"].value:
            alerts.append(
                _alert(
                    "ibuprofen-kg-day",
                    new.name,
                    f"Ibuprofen {_mg(per_day)} mg a day ({_mg(per_day / kg)} mg/kg at {weight:g} kg): "
                    "over 40 mg/kg a day.",
                )
            )
        elif per_dose is not None and per_dose / kg > LIMITS["ibuprofen-kg-dose"].value:
            alerts.append(
                _alert(
                    "ibuprofen-kg-dose",
                    new.name,
                    f"Ibuprofen {_mg(per_dose)} mg a dose ({_mg(per_dose / kg)} mg/kg at {weight:g} kg): "
                    "over 10 mg/kg a dose.",
                )
            )
    elif per_day is not None and per_day > LIMITS["ibuprofen-day"].value:
        alerts.append(
            _alert("ibuprofen-day", new.name, f"Ibuprofen {_mg(per_day)} mg a day: over the 3,200 mg daily maximum.")
        )
    return alerts


def _colchicine(new: Regimen) -> list[Alert]:
    per_day = new.mg_per_day.get("colchicine")
    if per_day is None:
        return []
    if per_day > LIMITS["colchicine-day"].value:
        return [
            _alert(
                "colchicine-day",
                new.name,
                f"Colchicine {_mg(per_day)} mg a day: above the highest labelled daily dose (2.4 mg); colchicine "
                "toxicity is fatal. Confirm with the prescriber.",
            )
        ]
    if per_day > LIMITS["colchicine-prophylaxis"].value:
        return [
            _alert(
                "colchicine-prophylaxis",
                new.name,
                f"Colchicine {_mg(per_day)} mg a day: gout prophylaxis is at most 1.2 mg a day (a flare is 1.8 mg "
                "over one hour, once); only familial Mediterranean fever goes to 2.4 mg. Confirm the indication.",
            )
        ]
    return []


def mme_a_day(reg: Regimen) -> Fraction | None:
    """Morphine milligram equivalents a day of one opioid regimen (None: unknown dose or no factor)."""
    if reg.mcg_per_hour is not None and "fentanyl" in reg.drug.ingredients and reg.drug.form == "transdermal":
        return reg.mcg_per_hour * FENTANYL_PATCH_MME_PER_MCG_HOUR
    total = Fraction(0)
    counted = False
    for ingredient in reg.drug.ingredients:
        if ingredient not in OPIOIDS:
            continue
        factor = MME_FACTORS.get(ingredient)
        mg = reg.mg_per_day.get(ingredient)
        if factor is None or mg is None:
            return None
        total += factor * mg
        counted = True
    return total if counted else None


def opioid_status(patient: Patient | None, on_opioids: Iterable[Regimen]) -> str:
    """'tolerant', 'naive' (no active opioid) or 'unconfirmed' (on an opioid, tolerance not shown)."""
    current = list(on_opioids)
    if patient is not None and patient.opioid_tolerant is True:
        return "tolerant"
    if not current:
        return "naive"
    if patient is not None and patient.opioid_tolerant is False:
        return "unconfirmed"
    fraction = Fraction(0)
    for reg in current:
        if reg.mcg_per_hour is not None and "fentanyl" in reg.drug.ingredients:
            fraction += reg.mcg_per_hour / TOLERANCE_FENTANYL_MCG_HOUR
            continue
        for ingredient in reg.drug.ingredients:
            if ingredient in TOLERANCE_MG_A_DAY and ingredient in reg.mg_per_day:
                fraction += reg.mg_per_day[ingredient] / TOLERANCE_MG_A_DAY[ingredient]
            elif ingredient in OPIOIDS:
                mme = mme_a_day(reg)
                if mme is not None:
                    fraction += mme / TOLERANCE_MME
    return "tolerant" if fraction >= 1 else "unconfirmed"


def _opioids(
    new: Regimen, others_current: list[Regimen], replaced: list[Regimen], patient: Patient | None
) -> list[Alert]:
    """`others_current`: active opioids other than the new one's own earlier fills; `replaced`: those fills."""
    drug = new.drug
    status = opioid_status(patient, [*others_current, *replaced])
    alerts: list[Alert] = []
    tolerant_only = drug.form in ("transdermal", "transmucosal") and "fentanyl" in drug.ingredients
    tolerant_only = tolerant_only or ("hydromorphone" in drug.ingredients and drug.release == "ER")
    if tolerant_only and status != "tolerant":
        naive = status == "naive"
        alerts.append(
            _alert(
                "opioid-tolerant-only",
                new.name,
                f"{new.name} is only for opioid-tolerant patients (for a week or longer at least 60 mg oral morphine "
                "a day or equivalent); "
                + (
                    "the patient has no active opioid: contraindicated, fatal respiratory depression."
                    if naive
                    else "tolerance is not shown by the active opioids: confirm before filling."
                ),
                severity="contraindicated" if naive else "major",
            )
        )
    for ingredient, limit_id, single_mg in (
        ("oxycodone", "oxycodone-er-tolerant", 40),
        ("morphine", "morphine-er-tolerant", 60),
    ):
        if ingredient in drug.ingredients and drug.release == "ER" and status != "tolerant":
            per_dose, per_day = new.mg_per_dose.get(ingredient), new.mg_per_day.get(ingredient)
            limit = LIMITS[limit_id]
            if (per_dose is not None and per_dose > single_mg) or (per_day is not None and per_day > limit.value):
                alerts.append(
                    _alert(
                        limit_id,
                        new.name,
                        f"{new.name} {_mg(per_dose or Fraction(0))} mg a dose, {_mg(per_day or Fraction(0))} mg a day: "
                        f"{limit.limit}; tolerance is not established.",
                    )
                )
    if status == "naive" and drug.long_acting and not alerts:
        alerts.append(
            _alert(
                "opioid-naive-er",
                new.name,
                f"{new.name} is an extended-release or long-acting opioid and the patient has no active "
                "opioid: the CDC guideline advises starting with an immediate-release opioid; ER/LA opioids "
                "are for severe, persistent pain in patients already taking opioids.",
            )
        )
    new_mme = mme_a_day(new)
    parts = [(new.name, new_mme)] + [(o.name, mme_a_day(o)) for o in others_current]
    counted = [(name, mme) for name, mme in parts if mme is not None]
    uncounted = [name for name, mme in parts if mme is None]
    total = sum((mme for _, mme in counted), Fraction(0))
    detail = ", ".join(f"{name} {_mg(mme)}" for name, mme in counted)
    missing = f" Not counted (dose or factor unknown): {', '.join(uncounted)}." if uncounted else ""
    with_ = "opioids: " + ", ".join(name for name, _ in parts)
    if new_mme is None:
        alerts.append(
            _not_checked(
                new.name,
                "the opioid (MME a day)",
                new.problem or "no MME factor for this opioid (e.g. buprenorphine)",
                code="dose:mme-not-checked",
            )
        )
    elif status == "naive" and total >= LIMITS["mme-naive"].value:
        alerts.append(
            _alert(
                "mme-naive",
                with_,
                f"{_mg(total)} MME a day ({detail}) in an opioid-naive patient: at or above 50 MME a day the overdose "
                f"risk rises with little added benefit; start lower, and offer naloxone.{missing}",
            )
        )
    elif total >= LIMITS["mme-90"].value:
        alerts.append(
            _alert(
                "mme-90",
                with_,
                f"{_mg(total)} MME a day in total ({detail}): at or above 90 MME a day; reassess benefit and risk, "
                f"offer naloxone.{missing}",
            )
        )
    return alerts


def _age(new: Regimen, patient: Patient | None) -> list[Alert]:
    if patient is None or patient.age_years is None:
        return []
    alerts = []
    seen: set[str] = set()
    for ingredient in new.drug.ingredients:
        limit_id = AGE_LIMITS.get(ingredient)
        if limit_id is None or limit_id in seen:
            continue
        limit = LIMITS[limit_id]
        if patient.age_years < limit.value:
            seen.add(limit_id)
            alerts.append(
                _alert(limit_id, new.name, f"{ingredient.capitalize()} at age {patient.age_years:g}: {limit.limit}.")
            )
    return alerts


DOSE_CHECKED = frozenset({"methotrexate", "acetaminophen", "ibuprofen", "colchicine"}) | OPIOIDS


def check_doses(
    new: Regimen,
    others: list[Regimen],
    patient: Patient | None,
) -> list[Alert]:
    """Dose, age and weight alerts for the new medication, with the totals across `others` (the patient's
    active medications; an earlier fill of the same product is recognised and not added twice)."""
    if not new.drug.known:
        return []
    same = set(new.drug.ingredients)
    replaced = [o for o in others if set(o.drug.ingredients) == same]
    current = [o for o in others if set(o.drug.ingredients) != same]
    ingredients = set(new.drug.ingredients)
    alerts = _age(new, patient)
    if "methotrexate" in ingredients:
        alerts += _methotrexate(new)
    if "acetaminophen" in ingredients:
        alerts += _acetaminophen(new, current, patient)
    if "ibuprofen" in ingredients:
        alerts += _ibuprofen(new, patient)
    if "colchicine" in ingredients:
        alerts += _colchicine(new)
    if ingredients & OPIOIDS:
        alerts += _opioids(new, [o for o in current if set(o.drug.ingredients) & OPIOIDS], replaced, patient)
    checked = ingredients & DOSE_CHECKED
    already = any(a.code.startswith("dose:") and "not-checked" in a.code for a in alerts) or any(
        a.code in ("dose:methotrexate-frequency",) for a in alerts
    )
    if checked and not new.known and not already:
        alerts.append(_not_checked(new.name, ", ".join(sorted(checked)), new.problem))
    return alerts
