"""The clinical tables are consistent: every name reaches its entry, every entry has a source."""

from __future__ import annotations

from backend.clinical.allergies import ALLERGY_CLASSES, CLASS_ALIASES, CROSS_SENSITIVITIES, NON_DRUG_ALLERGENS
from backend.clinical.controlled import FEDERAL_SCHEDULES, SCHEDULE_SOURCES, federal_schedule, normalise_schedule
from backend.clinical.dosing import AGE_LIMITS, LIMITS, MME_FACTORS, OPIOIDS, STRENGTH_ORDER, TOLERANCE_MG_A_DAY
from backend.clinical.drugs import EXTRA, identify
from backend.clinical.therapeutic import PAIR_RULES, THERAPEUTIC_CLASSES
from backend.interactions.knowledge import SEVERITY_SCALE


def _names() -> set[str]:
    names: set[str] = set()
    for allergy in ALLERGY_CLASSES.values():
        names |= allergy.members
    for therapeutic in THERAPEUTIC_CLASSES.values():
        names |= therapeutic.members
    names |= set(FEDERAL_SCHEDULES) | set(MME_FACTORS) | OPIOIDS | set(TOLERANCE_MG_A_DAY) | set(AGE_LIMITS)
    for order, _ in STRENGTH_ORDER.values():
        names |= set(order)
    for rule in (*CROSS_SENSITIVITIES, *PAIR_RULES):
        names |= {side for side in (rule.left if hasattr(rule, "left") else rule.allergen,
                                    rule.right if hasattr(rule, "right") else rule.drug)
                  if not side.startswith("class:")}  # fmt: skip
    return names


def test_every_name_in_the_tables_identifies_as_itself(name_cache):
    # A member the dictionary reads differently (a salt, a form, a brand) would never match a prescription.
    names = _names()
    assert len(names) > 300
    wrong = {name: identify(name, name_cache).ingredients for name in sorted(names)}
    assert {n: i for n, i in wrong.items() if i != (n,)} == {}


def test_brands_and_forms_the_dictionary_misses(name_cache):
    assert identify("Duragesic", name_cache).ingredients == ("fentanyl",)
    assert identify("Duragesic", name_cache).form == "transdermal"
    assert identify("Z-Pak", name_cache).ingredients == ("azithromycin",)
    assert identify("Exalgo", name_cache).release == "ER"
    assert identify("OxyContin", name_cache).release == "ER" and identify("oxycodone", name_cache).release == ""
    assert identify("oxycodone ER 10 mg tab", name_cache).ingredients == ("oxycodone",)
    assert identify("methadone", name_cache).long_acting
    assert identify("Penicillin VK", name_cache).ingredients == ("penicillin",)
    assert identify("ASA", name_cache).ingredients == ("aspirin",)
    for name, (ingredients, _, _, source) in EXTRA.items():
        assert ingredients and source.url.startswith("https://"), name


def test_allergy_classes_are_sourced_and_aliases_are_unambiguous():
    assert {"penicillins", "cephalosporins", "carbapenems", "sulfonamide_antibiotics", "nsaids", "macrolides",
            "fluoroquinolones", "tetracyclines", "ace_inhibitors", "opioid_phenanthrenes",
            "opioid_phenylpiperidines", "opioid_diphenylheptanes", "opioids"} <= set(ALLERGY_CLASSES)  # fmt: skip
    for cls in ALLERGY_CLASSES.values():
        assert cls.members and cls.source.url.startswith("https://"), cls.key
        assert all(m == m.lower() for m in cls.members)
        for include in cls.includes:
            assert include in ALLERGY_CLASSES and ALLERGY_CLASSES[include].members <= cls.members
    aliases = [alias for cls in ALLERGY_CLASSES.values() for alias in cls.aliases]
    assert len(aliases) == len(set(aliases)) == len(CLASS_ALIASES)
    assert not set(aliases) & NON_DRUG_ALLERGENS
    assert "aspirin" in ALLERGY_CLASSES["nsaids"].members  # NSAIDs including aspirin (issue 13)


def test_cross_sensitivities_name_real_classes_and_are_never_above_major():
    ids = [rule.id for rule in CROSS_SENSITIVITIES]
    assert len(ids) == len(set(ids))
    for rule in CROSS_SENSITIVITIES:
        assert rule.severity in ("minor", "moderate", "major"), rule.id
        assert rule.summary and rule.source.url.startswith("https://")
        for side in (rule.allergen, rule.drug):
            assert not side.startswith("class:") or side[6:] in ALLERGY_CLASSES, rule.id
    by_id = {rule.id: rule for rule in CROSS_SENSITIVITIES}
    # the decisions issue 13 asks for, written down as data
    assert by_id["penicillins~cephalosporins"].severity == "moderate"  # a warning, not a block
    assert by_id["sulfa~nonantibiotic"].severity == "minor"  # no cross-reactivity, minor at most
    assert by_id["sulfa~nonantibiotic"].source.url.endswith("14573734/")  # Strom 2003


def test_therapeutic_classes_are_sourced():
    expected = {"ssri", "snri", "nsaid", "statin", "ace_inhibitor", "arb", "ras_blocker", "benzodiazepine", "opioid",
                "ppi", "h2_blocker", "beta_blocker", "ccb", "sulfonylurea", "anticoagulant"}  # fmt: skip
    assert expected <= set(THERAPEUTIC_CLASSES)
    for cls in THERAPEUTIC_CLASSES.values():
        assert len(cls.members) >= 2 and cls.source.url.startswith("https://"), cls.key
        assert cls.severity in SEVERITY_SCALE and cls.severity != "none"
        assert set(cls.dose_dependent) <= cls.members
    for rule in PAIR_RULES:
        assert rule.source.url.startswith("https://")


def test_dose_limits_are_sourced():
    for limit in LIMITS.values():
        assert limit.source.url.startswith("https://"), limit.id
        assert limit.severity in SEVERITY_SCALE and limit.severity != "none"
        assert all(s.url.startswith("https://") for s in limit.also)
    assert LIMITS["acetaminophen-4g"].value == 4000
    assert LIMITS["methotrexate-daily"].severity == "major"
    assert set(AGE_LIMITS.values()) <= set(LIMITS)
    assert set(MME_FACTORS) <= OPIOIDS and "buprenorphine" not in MME_FACTORS  # CDC: no MME for buprenorphine


def test_schedules():
    assert federal_schedule(("oxycodone",)) == "CII"
    assert federal_schedule(("oxycodone", "acetaminophen")) == "CII"  # hydrocodone/oxycodone combos stay CII
    assert federal_schedule(("codeine",)) == "CII"
    assert federal_schedule(("acetaminophen", "codeine")) == "CIII"
    assert federal_schedule(("codeine", "guaifenesin")) == "CV"
    assert federal_schedule(("alprazolam",)) == "CIV"
    assert federal_schedule(("pregabalin",)) == "CV"
    assert federal_schedule(("gabapentin",)) is None  # federally not controlled (some states: CV, a chain setting)
    assert federal_schedule(("lisinopril",)) is None
    assert set(FEDERAL_SCHEDULES.values()) == set(SCHEDULE_SOURCES)
    assert [normalise_schedule(v) for v in ("C-II", "CII", "ii", "3", "Schedule IV", "", None)] == [
        "CII", "CII", "CII", "CIII", "CIV", None, None]  # fmt: skip
