"""The sig expander: every example of issue 13, the common US codes, unknown tokens, days' supply."""

from __future__ import annotations

from fractions import Fraction

import pytest

from backend.clinical.sig import days_supply, expand, frequency_per_day, normalise
from backend.clinical.strength import parse_strength

EXPANSIONS = [
    # the examples
    ("1 tab po daily", "Take 1 tablet by mouth once daily"),
    ("1 tab po bid", "Take 1 tablet by mouth twice daily"),
    ("1 tab po tid", "Take 1 tablet by mouth three times daily"),
    ("1 tab po qid", "Take 1 tablet by mouth four times daily"),
    ("1 tab po qhs", "Take 1 tablet by mouth at bedtime"),
    ("1 tab po qam", "Take 1 tablet by mouth every morning"),
    ("1 tab po qpm", "Take 1 tablet by mouth every evening"),
    ("1 tab po q6h", "Take 1 tablet by mouth every 6 hours"),
    ("1 tab po q4-6h", "Take 1 tablet by mouth every 4 to 6 hours"),
    ("1 tab po q6h prn pain", "Take 1 tablet by mouth every 6 hours as needed for pain"),
    ("1 tab po bid x 10 days", "Take 1 tablet by mouth twice daily for 10 days"),
    (
        "2 tabs po day 1 then 1 tab po daily days 2-5",
        "Take 2 tablets by mouth on day 1, then take 1 tablet by mouth once daily on days 2 through 5",
    ),
    ("2 tabs po bid x 3 days then 1 tab", "Take 2 tablets by mouth twice daily for 3 days, then take 1 tablet"),
    ("inh 2 puffs q4-6h prn sob", "Inhale 2 puffs by mouth every 4 to 6 hours as needed for shortness of breath"),
    ("2 puffs INH BID", "Inhale 2 puffs by mouth twice daily"),
    ("UD", "Use as directed"),
    ("1 tab po ud", "Take 1 tablet by mouth as directed"),
    # the other codes a US pharmacy sees every day
    ("1 cap po qd", "Take 1 capsule by mouth once daily"),
    ("1 tab po qod", "Take 1 tablet by mouth every other day"),
    ("1 tab po q12h", "Take 1 tablet by mouth every 12 hours"),
    ("1 tab po weekly", "Take 1 tablet by mouth once weekly"),
    ("1 tab po q week", "Take 1 tablet by mouth once weekly"),
    ("1 tab po stat", "Take 1 tablet by mouth now"),
    ("1 tab po tid ac", "Take 1 tablet by mouth three times daily before meals"),
    ("1 tab po bid pc", "Take 1 tablet by mouth twice daily after meals"),
    ("1 tab po hs", "Take 1 tablet by mouth at bedtime"),
    ("5 ml po tid", "Take 5 mL by mouth three times daily"),
    ("1 tsp po q6h", "Take 1 teaspoonful (5 mL) by mouth every 6 hours"),
    ("1-2 tsp po q4h", "Take 1 to 2 teaspoonfuls (5 to 10 mL) by mouth every 4 hours"),
    ("2 gtts ou bid", "Instill 2 drops in both eyes twice daily"),
    ("1 gtt od qhs", "Instill 1 drop in the right eye at bedtime"),
    ("1 gtt os tid", "Instill 1 drop in the left eye three times daily"),
    ("3 gtts au tid", "Instill 3 drops in both ears three times daily"),
    ("1 tab sl q5min prn cp", "Dissolve 1 tablet under the tongue every 5 minutes as needed for chest pain"),
    ("apply top bid", "Apply topically twice daily"),
    ("apply to aa bid", "Apply to the affected area twice daily"),
    ("1 supp pr q6h prn fever", "Insert 1 suppository rectally every 6 hours as needed for fever"),
    ("10 units sc qhs", "Inject 10 units subcutaneously at bedtime"),
    ("1 patch td q72h", "Apply 1 patch to the skin every 72 hours"),
    ("2 sprays each nostril daily", "Use 2 sprays in each nostril once daily"),
    ("1/2 tab po daily", "Take 1/2 tablet by mouth once daily"),
    ("i tab po bid", "Take 1 tablet by mouth twice daily"),
    ("T.I.D.", "Use three times daily"),
    ("1 tab p.o. b.i.d.", "Take 1 tablet by mouth twice daily"),
    ("take 1 tablet by mouth twice a day", "Take 1 tablet by mouth twice daily"),
    ("1 tab po 3 times daily", "Take 1 tablet by mouth three times daily"),
    ("1 tab po 2x daily", "Take 1 tablet by mouth twice daily"),
    ("1 tab po every 8 hours", "Take 1 tablet by mouth every 8 hours"),
    (
        "1-2 tabs po q4-6h prn pain max 8 tabs/day",
        "Take 1 to 2 tablets by mouth every 4 to 6 hours as needed for pain not to exceed 8 tablets per day",
    ),
    ("1 tab po daily w/ food", "Take 1 tablet by mouth once daily with food"),
    ("500mg po bid", "Take 500 mg by mouth twice daily"),
]


@pytest.mark.parametrize(("written", "expected"), EXPANSIONS)
def test_expansion(written, expected):
    result = expand(written)
    assert result.text == expected
    assert result.unknown == ()


def test_unknown_tokens_stay_as_written_and_are_flagged():
    result = expand("1 tab po bid prn Blorf")
    assert result.text == "Take 1 tablet by mouth twice daily as needed for Blorf"
    assert result.unknown == ("Blorf",)
    assert any("Blorf" in flag for flag in result.flags)
    weird = expand("2 tabs po zq8 x 5 days")
    assert weird.unknown == ("zq8",) and "zq8" in weird.text


def test_ambiguous_abbreviations_are_not_guessed():
    # OD means "right eye" on drops, "once daily" to a British prescriber: without drops it is unknown.
    tablet = expand("1 tab po od")
    assert tablet.unknown == ("od",) and tablet.doses_per_day is None
    drops = expand("1 gtt od bid")
    assert drops.unknown == () and "right eye" in drops.text
    assert any("OD" in flag for flag in drops.flags)  # still an ISMP error-prone abbreviation
    # "as needed" is never read as AS (left ear), even on ear drops
    assert expand("2 gtts au bid as needed").text == "Instill 2 drops in both ears twice daily as needed"


def test_error_prone_abbreviations_are_flagged_but_read():
    result = expand("1 cap po qd")
    assert result.doses_per_day == 1
    assert any("QD" in flag for flag in result.flags)
    assert not any("QD" in flag for flag in expand("1 cap po daily").flags)


@pytest.mark.parametrize(
    ("written", "per_day"),
    [
        ("1 tab po daily", 1),
        ("1 tab po bid", 2),
        ("1 tab po tid", 3),
        ("1 tab po qid", 4),
        ("1 tab po q6h", 4),
        ("1 tab po q4-6h prn pain", 6),  # the most the sig allows
        ("1 tab po q8h", 3),
        ("1 tab po qod", 0.5),
        ("1 tab po weekly", round(1 / 7, 4)),
        ("1 tab po tid ac", 3),
        ("1 tab po ac", 3),  # "before meals" alone means with each meal
        ("1 tab po q12h x 3 doses once weekly", round(3 / 7, 4)),  # the old split weekly methotrexate dose
        ("1 tab po ud", None),
        ("1 tab po stat", None),
    ],
)
def test_doses_per_day(written, per_day):
    assert expand(written).doses_per_day == per_day


@pytest.mark.parametrize(
    ("written", "quantity", "expected", "flag"),
    [
        ("1 tab po bid", 60, 30, None),
        ("1 tab po bid", 61, 30, None),  # rounded down: never more days than the tablets last
        ("1 tab po daily", 90, 90, None),
        ("2 tabs po tid", 60, 10, None),
        ("1 tab po bid x 10 days", 20, 10, None),
        ("1 tab po bid x 10 days", 30, 10, None),  # the course ends after 10 days whatever is left over
        ("1 tab po bid x 10 days", 10, 5, None),
        ("1 tab po weekly", 4, 28, None),
        ("1 tab po qod", 15, 30, "error-prone"),
        ("1 tsp po tid", 150, 10, None),  # liquid quantity in mL
        ("1 patch td q72h", 10, 30, None),
        ("2 tabs po day 1 then 1 tab po daily days 2-5", 6, 5, "taper"),  # a Z-Pak
        ("1 tab po tid x 7 days then 1 tab po daily", 30, 16, "taper"),
        ("1-2 tabs po q4-6h prn pain", 60, 5, "prn"),  # at the most the sig allows: 12 a day
        ("1-2 tabs po q4-6h prn pain max 8 tabs/day", 40, 5, "prn"),
        ("1 tab po prn pain", 30, None, "prn"),  # no frequency: no days' supply
        ("1 tab po ud", 30, None, "no frequency"),
        ("1 tab po stat", 1, None, "single dose"),
        ("2 puffs inh q4-6h prn", 1, None, "puffs"),  # one inhaler is not 1 puff
        ("2 gtts ou bid", 5, None, "drops"),
    ],
)
def test_days_supply(written, quantity, expected, flag):
    result = expand(written, quantity=quantity)
    assert result.days_supply == expected
    if flag:
        assert any(flag in f for f in result.flags), result.flags


def test_days_supply_with_a_unit_or_a_strength():
    assert days_supply("2 puffs inh q6h", 200, quantity_unit="puffs") == 25
    assert days_supply("500 mg po bid", 60, strength="500 mg") == 30
    assert days_supply("500 mg po bid", 60, strength="250 mg") == 15
    assert days_supply("250 mg po tid x 10 days", 150, strength="250 mg/5 mL") == 10
    assert days_supply("500 mg po bid", 60) is None  # mg against a tablet count needs the strength
    assert days_supply("1 tab po bid", 60, quantity_unit="mL") is None


def test_frequency_alone():
    assert frequency_per_day("q6h") == (Fraction(4), Fraction(4))
    assert frequency_per_day("q4-6h") == (Fraction(4), Fraction(6))
    assert frequency_per_day("once weekly") == (Fraction(1, 7), Fraction(1, 7))
    assert frequency_per_day("bid") == (Fraction(2), Fraction(2))
    assert frequency_per_day("sometimes") is None


def test_normalisation_is_only_spelling():
    assert normalise("1 Tab P.O. Q 6 H x10d") == "1 tab po q6h dur10d"
    assert normalise("500mg every 4 to 6 hours") == "500 mg q4-6h"
    assert normalise("2 tabs twice a day for 5 days") == "2 tabs 2timesdaily dur5d"
    assert normalise("then 2 daily") == "then 2 daily"  # a bare "2 daily" is a dose of 2, not 2 times a day


def test_odd_input_never_raises():
    for written in ["", "   ", "q0h", "days 5-2", "1/0 tab", "x", "0 tabs po bid", "-- ??"]:
        result = expand(written, quantity=30)
        assert isinstance(result.text, str)
    assert expand("days 5-2").unknown == ("days5-2",)  # a backwards day range is not guessed either


@pytest.mark.parametrize(
    ("written", "parts", "per_ml", "mcg_per_hour"),
    [
        ("500 mg", (500,), None, None),
        ("1 g", (1000,), None, None),
        ("1,000 mg", (1000,), None, None),
        ("2.5mg", (Fraction(5, 2),), None, None),
        ("5/325 mg", (5, 325), None, None),  # a unit written once applies to every part
        ("7.5-325 mg", (Fraction(15, 2), 325), None, None),
        ("160 mg/5 mL", (160,), 5, None),
        ("100 mg per 5 ml", (100,), 5, None),
        ("25 mcg/hr", (), None, 25),
    ],
)
def test_strengths(written, parts, per_ml, mcg_per_hour):
    strength = parse_strength(written)
    assert strength is not None
    assert strength.parts_mg == tuple(Fraction(p) for p in parts)
    assert strength.per_ml == (Fraction(per_ml) if per_ml else None)
    assert strength.mcg_per_hour == (Fraction(mcg_per_hour) if mcg_per_hour else None)


def test_strengths_that_are_not_a_mass_are_not_read():
    for written in ["1%", "10 mEq", "5/325", "", None, "strong"]:
        assert parse_strength(written) is None
    named = parse_strength("oxycodone 5 mg/acetaminophen 325 mg")
    assert named is not None and named.names == ("oxycodone", "acetaminophen")
