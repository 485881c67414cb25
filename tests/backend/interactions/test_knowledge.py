"""The knowledge base is consistent: every name reaches its rule, every rule and member has a source."""

from __future__ import annotations

from backend.interactions.checker import identify
from backend.interactions.knowledge import ALIASES, CLASSES, COMBINATIONS, RULES, SEVERITY_SCALE

ONC_HIGH_PRIORITY = {  # Phansalkar et al. 2012, the 15 interactions, as rule ids here
    "maoi+sympathomimetic",  # amphetamine derivatives - MAOIs
    "atazanavir+ppi",
    "febuxostat+thiopurine",
    "maoi+ssri",
    "irinotecan+strong_3a4",
    "maoi+serotonergic_opioid",  # narcotic analgesics - MAOIs
    "maoi+tca",
    "qt+qt",
    "ramelteon+fluvoxamine",
    "inducer+protease_inhibitor",
    "statin+strong_3a4",
    "ergot+strong_3a4",
    "tizanidine+cyp1a2",
    "maoi+maoi",  # tranylcypromine - procarbazine
    "maoi+triptan",
}


def _rule_drugs() -> set[str]:
    named = {side for rule in RULES for side in (rule.left, rule.right) if not side.startswith("class:")}
    members = {member for cls in CLASSES.values() for member in cls.members}
    ingredients = {i for combo in COMBINATIONS.values() for i in combo.ingredients}
    return named | members | ingredients | set(ALIASES.values())


def test_every_name_in_the_knowledge_base_identifies_as_itself(name_cache):
    wrong = {}
    for name in sorted(_rule_drugs()):
        drug = identify(name, name_cache)
        if drug.ingredients != (name,):
            wrong[name] = drug.ingredients
    assert wrong == {}


def test_rules_are_complete_and_sourced():
    assert len(RULES) >= 40
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.severity in SEVERITY_SCALE and rule.severity != "none"
        assert rule.summary and rule.mechanism and rule.management
        assert rule.source.title and rule.source.url.startswith("https://")
        for side in (rule.left, rule.right):
            assert not side.startswith("class:") or side[6:] in CLASSES
    for cls in CLASSES.values():
        assert cls.members
        for member, source in cls.members.items():
            assert member == member.lower() and source.title and source.url.startswith("https://"), member
    for name, combo in COMBINATIONS.items():
        assert len(combo.ingredients) >= 2 and combo.source.url.startswith("https://"), name


def test_the_onc_high_priority_list_is_covered():
    assert ONC_HIGH_PRIORITY <= {rule.id for rule in RULES}
    sources = {rule.id: [rule.source.title, *(s.title for s in rule.also)] for rule in RULES}
    for rule_id in ONC_HIGH_PRIORITY:
        assert any("ONC" in title for title in sources[rule_id]), rule_id
