"""The sig expander: prescriber shorthand in, standard label English out, deterministically.

"1 tab po bid x 10 days" -> "Take 1 tablet by mouth twice daily for 10 days". How it reads a sig:

1. Normalise spelling that varies but means one thing: case, full stops inside abbreviations (b.i.d.),
   numbers glued to units (500mg), "q 6 h" / "every 6 hours" -> q6h, "x 10 days" / "for 10 days",
   "days 2-5", "twice a day" / "2 times daily" / "2x daily".
2. Split into segments at "then" (a taper or a loading dose), and at a comma that starts a new dose.
3. Read each token (or multi-word phrase) with the tables below: a dose amount, a unit, a route or site,
   a frequency, a timing, PRN and its indication, a duration, a day range, "max N per day". A word of
   plain label English passes as written. Anything else is UNKNOWN: kept as written in the output and
   returned in `unknown`, never guessed. Context-dependent abbreviations (OD is "right eye" on an eye
   drop and "once daily" in British usage; AS is "left ear" or the word "as") are read only in the
   context that makes them unambiguous, otherwise they are unknown too.
4. Render each segment as: verb, dose and unit, route, then everything else in the order written
   (the prescriber's order carries meaning: "1 tab po qam ac" is not "1 tab po ac qam" on a label).
   The verb is the one written ("take", "apply", ...) or follows from the route and unit: INH or puffs
   -> Inhale, drops -> Instill, PR -> Insert, SC/IM -> Inject, topical -> Apply, otherwise Take.

Days' supply = quantity / (most units the sig allows per day), rounded down, never past a written
duration; a taper adds its segments up. PRN sigs are counted at the most the sig allows (the payer
convention: the shortest time the quantity can last) and flagged; a sig with no countable schedule
(UD, STAT, PRN without a frequency, drops or puffs against a package count) has no days' supply,
with a flag saying why. Every number is a Fraction until it leaves this module, so weekly doses
(1/7 a day) add up exactly.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import TypeVar

from backend.clinical.strength import Strength, parse_strength

# --------------------------------------------------------------------------------------------------
# vocabulary


@dataclass(frozen=True)
class Unit:
    singular: str
    plural: str
    kind: str  # count | volume | mass | drop | puff | spray | unit | application
    ml: Fraction | None = None  # a household measure's volume (tsp = 5 mL)
    mg: Fraction | None = None  # a mass unit's size in mg


def _unit(singular: str, plural: str, kind: str, *, ml: int | None = None, mg: Fraction | None = None) -> Unit:
    return Unit(singular, plural, kind, Fraction(ml) if ml else None, mg)


TABLET = _unit("tablet", "tablets", "count")
CAPSULE = _unit("capsule", "capsules", "count")
ML = _unit("mL", "mL", "volume", ml=1)
UNITS: dict[str, Unit] = {
    **dict.fromkeys(("tab", "tabs", "tablet", "tablets", "tabl"), TABLET),
    **dict.fromkeys(("cap", "caps", "capsule", "capsules"), CAPSULE),
    **dict.fromkeys(("gtt", "gtts", "drop", "drops"), _unit("drop", "drops", "drop")),
    **dict.fromkeys(("ml", "mls", "milliliter", "milliliters", "millilitre", "millilitres", "cc"), ML),
    **dict.fromkeys(
        ("tsp", "tsps", "teaspoon", "teaspoons", "teaspoonful", "teaspoonfuls"),
        _unit("teaspoonful", "teaspoonfuls", "volume", ml=5),
    ),
    **dict.fromkeys(
        ("tbsp", "tbsps", "tbs", "tablespoon", "tablespoons", "tablespoonful", "tablespoonfuls"),
        _unit("tablespoonful", "tablespoonfuls", "volume", ml=15),
    ),
    **dict.fromkeys(("puff", "puffs"), _unit("puff", "puffs", "puff")),
    **dict.fromkeys(("inhalation", "inhalations"), _unit("inhalation", "inhalations", "puff")),
    **dict.fromkeys(("actuation", "actuations"), _unit("actuation", "actuations", "puff")),
    **dict.fromkeys(("spray", "sprays"), _unit("spray", "sprays", "spray")),
    **dict.fromkeys(("supp", "supps", "suppository", "suppositories"), _unit("suppository", "suppositories", "count")),
    **dict.fromkeys(("patch", "patches"), _unit("patch", "patches", "count")),
    **dict.fromkeys(("lozenge", "lozenges", "loz"), _unit("lozenge", "lozenges", "count")),
    **dict.fromkeys(("troche", "troches"), _unit("troche", "troches", "count")),
    **dict.fromkeys(("film", "films"), _unit("film", "films", "count")),
    **dict.fromkeys(("pkt", "pkts", "packet", "packets"), _unit("packet", "packets", "count")),
    **dict.fromkeys(("vial", "vials"), _unit("vial", "vials", "count")),
    **dict.fromkeys(("amp", "amps", "ampule", "ampules"), _unit("ampule", "ampules", "count")),
    **dict.fromkeys(("capful", "capfuls"), _unit("capful", "capfuls", "application")),
    **dict.fromkeys(
        ("applicatorful", "applicatorfuls", "applicator", "applicators"),
        _unit("applicatorful", "applicatorfuls", "application"),
    ),
    **dict.fromkeys(
        ("app", "appl", "application", "applications"), _unit("application", "applications", "application")
    ),
    **dict.fromkeys(("unit", "units", "u", "iu"), _unit("unit", "units", "unit")),
    "mg": _unit("mg", "mg", "mass", mg=Fraction(1)),
    "mcg": _unit("mcg", "mcg", "mass", mg=Fraction(1, 1000)),
    "ug": _unit("mcg", "mcg", "mass", mg=Fraction(1, 1000)),
    **dict.fromkeys(("g", "gm", "gram", "grams"), _unit("g", "g", "mass", mg=Fraction(1000))),
    "meq": _unit("mEq", "mEq", "mass"),
}

# ISMP's list of error-prone abbreviations: still read (they are on real prescriptions), but flagged so
# the label and the record can say them in full.
ERROR_PRONE = {
    "qd": "QD (write 'daily')",
    "qod": "QOD (write 'every other day')",
    "hs": "HS (write 'at bedtime'; misread as half-strength)",
    "qn": "QN (write 'nightly')",
    "u": "U (write 'units'; misread as 0 or 4)",
    "iu": "IU (write 'units'; misread as IV or 10)",
    "cc": "cc (write 'mL'; misread as 'u')",
    "sc": "SC (write 'subcutaneously'; misread as SL)",
    "sq": "SQ (write 'subcutaneously'; misread as 5 every)",
    "od": "OD (write 'right eye')",
    "os": "OS (write 'left eye')",
    "ou": "OU (write 'both eyes')",
    "ad": "AD (write 'right ear')",
    "as": "AS (write 'left ear')",
    "au": "AU (write 'both ears')",
    "tiw": "TIW (write '3 times weekly'; misread as twice weekly)",
    "biw": "BIW (write 'twice weekly')",
}


@dataclass(frozen=True)
class Route:
    text: str
    verb: str


ROUTES: dict[tuple[str, ...], Route] = {
    ("po",): Route("by mouth", "Take"),
    ("by", "mouth"): Route("by mouth", "Take"),
    ("orally",): Route("by mouth", "Take"),
    ("oral",): Route("by mouth", "Take"),
    ("per", "os"): Route("by mouth", "Take"),
    ("sl",): Route("under the tongue", "Dissolve"),
    ("sublingually",): Route("under the tongue", "Dissolve"),
    ("sublingual",): Route("under the tongue", "Dissolve"),
    ("under", "the", "tongue"): Route("under the tongue", "Dissolve"),
    ("bucc",): Route("between the cheek and gum", "Place"),
    ("buccal",): Route("between the cheek and gum", "Place"),
    ("buccally",): Route("between the cheek and gum", "Place"),
    ("top",): Route("topically", "Apply"),
    ("topical",): Route("topically", "Apply"),
    ("topically",): Route("topically", "Apply"),
    ("aa",): Route("to the affected area", "Apply"),
    ("affected", "area"): Route("to the affected area", "Apply"),
    ("affected", "areas"): Route("to the affected areas", "Apply"),
    ("td",): Route("to the skin", "Apply"),
    ("transdermal",): Route("to the skin", "Apply"),
    ("transdermally",): Route("to the skin", "Apply"),
    ("pr",): Route("rectally", "Insert"),
    ("rectally",): Route("rectally", "Insert"),
    ("per", "rectum"): Route("rectally", "Insert"),
    ("pv",): Route("vaginally", "Insert"),
    ("vag",): Route("vaginally", "Insert"),
    ("vaginally",): Route("vaginally", "Insert"),
    ("per", "vagina"): Route("vaginally", "Insert"),
    ("sc",): Route("subcutaneously", "Inject"),
    ("sq",): Route("subcutaneously", "Inject"),
    ("subq",): Route("subcutaneously", "Inject"),
    ("subcut",): Route("subcutaneously", "Inject"),
    ("subcutaneously",): Route("subcutaneously", "Inject"),
    ("im",): Route("into the muscle", "Inject"),
    ("intramuscularly",): Route("into the muscle", "Inject"),
    ("iv",): Route("intravenously", "Inject"),
    ("intravenously",): Route("intravenously", "Inject"),
    ("inh",): Route("by mouth", "Inhale"),
    ("inhaled",): Route("by mouth", "Inhale"),
    ("by", "inhalation"): Route("by mouth", "Inhale"),
    ("neb",): Route("via nebulizer", "Inhale"),
    ("via", "nebulizer"): Route("via nebulizer", "Inhale"),
    ("nebulized",): Route("via nebulizer", "Inhale"),
    ("in", "each", "nostril"): Route("in each nostril", "Use"),
    ("each", "nostril"): Route("in each nostril", "Use"),
    ("ien",): Route("in each nostril", "Use"),
    ("per", "nostril"): Route("in each nostril", "Use"),
    ("each", "nare"): Route("in each nostril", "Use"),
    ("intranasally",): Route("in the nose", "Use"),
    ("in", "each", "eye"): Route("in each eye", "Instill"),
    ("each", "eye"): Route("in each eye", "Instill"),
    ("in", "both", "eyes"): Route("in both eyes", "Instill"),
    ("both", "eyes"): Route("in both eyes", "Instill"),
    ("in", "each", "ear"): Route("in each ear", "Instill"),
    ("each", "ear"): Route("in each ear", "Instill"),
}
# Eye and ear abbreviations are read only with eye or ear drops, ointment or a word saying so: OD is also
# British "once daily", AS and AD are English words, and guessing between them is how errors start.
EYE_EAR: dict[str, Route] = {
    "od": Route("in the right eye", "Instill"),
    "os": Route("in the left eye", "Instill"),
    "ou": Route("in both eyes", "Instill"),
    "ad": Route("in the right ear", "Instill"),
    "as": Route("in the left ear", "Instill"),
    "au": Route("in both ears", "Instill"),
}
EYE_EAR_CONTEXT = {"drop", "ointment", "oint", "ophth", "ophthalmic", "otic", "ribbon", "eye", "eyes", "ear", "ears"}

VERBS = {
    "take": "Take",
    "inhale": "Inhale",
    "apply": "Apply",
    "instill": "Instill",
    "insert": "Insert",
    "inject": "Inject",
    "use": "Use",
    "chew": "Chew",
    "dissolve": "Dissolve",
    "place": "Place",
    "give": "Give",
    "spray": "Spray",
    "gargle": "Gargle",
    "swish": "Swish",
    "rinse": "Rinse",
    "mix": "Mix",
    "dilute": "Dilute",
}


@dataclass(frozen=True)
class Frequency:
    text: str
    per_day_min: Fraction | None  # doses a day; None when the frequency is not a daily rate (q5min, stat)
    per_day_max: Fraction | None
    single: bool = False  # STAT / now / once: one dose, no schedule


def _freq(text: str, low: Fraction | int | None, high: Fraction | int | None = None, **kw: bool) -> Frequency:
    lo = None if low is None else Fraction(low)
    hi = lo if high is None else Fraction(high)
    return Frequency(text, lo, hi, **kw)


FREQUENCIES: dict[tuple[str, ...], Frequency] = {
    **dict.fromkeys(
        [("daily",), ("qd",), ("qday",), ("q24h",), ("every", "day"), ("each", "day")], _freq("once daily", 1)
    ),
    ("qam",): _freq("every morning", 1),
    ("every", "morning"): _freq("every morning", 1),
    ("qpm",): _freq("every evening", 1),
    ("every", "evening"): _freq("every evening", 1),
    ("qhs",): _freq("at bedtime", 1),
    ("at", "bedtime"): _freq("at bedtime", 1),
    ("qn",): _freq("nightly", 1),
    ("nightly",): _freq("nightly", 1),
    ("every", "night"): _freq("every night", 1),
    ("bid",): _freq("twice daily", 2),
    ("tid",): _freq("three times daily", 3),
    ("qid",): _freq("four times daily", 4),
    ("qod",): _freq("every other day", Fraction(1, 2)),
    ("every", "other", "day"): _freq("every other day", Fraction(1, 2)),
    **dict.fromkeys(
        [("weekly",), ("qwk",), ("qweek",), ("q7d",), ("every", "week"), ("once", "a", "week")],
        _freq("once weekly", Fraction(1, 7)),
    ),
    ("biw",): _freq("twice weekly", Fraction(2, 7)),
    ("tiw",): _freq("three times weekly", Fraction(3, 7)),
    **dict.fromkeys([("monthly",), ("qmo",), ("qmonth",), ("every", "month")], _freq("once monthly", Fraction(1, 30))),
    ("stat",): _freq("now", None, single=True),
    ("now",): _freq("now", None, single=True),
    ("once",): _freq("once", None, single=True),
}
_NUMBER_WORDS = {"once": 1, "one": 1, "twice": 2, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_TIMES_TEXT = {1: "once", 2: "twice", 3: "three times", 4: "four times"}


@dataclass(frozen=True)
class Timing:
    text: str
    implied_per_day: Fraction | None = None  # "ac" alone means with each meal: three times daily


TIMINGS: dict[tuple[str, ...], Timing] = {
    ("ac",): Timing("before meals", Fraction(3)),
    ("before", "meals"): Timing("before meals", Fraction(3)),
    ("pc",): Timing("after meals", Fraction(3)),
    ("after", "meals"): Timing("after meals", Fraction(3)),
    ("achs",): Timing("before meals and at bedtime", Fraction(4)),
    ("hs",): Timing("at bedtime", Fraction(1)),
    ("wm",): Timing("with meals", Fraction(3)),
    ("with", "meals"): Timing("with meals", Fraction(3)),
    ("with", "food"): Timing("with food"),
    ("w/", "food"): Timing("with food"),
    ("on", "an", "empty", "stomach"): Timing("on an empty stomach"),
    ("on", "empty", "stomach"): Timing("on an empty stomach"),
}

INDICATIONS: dict[tuple[str, ...], str] = {
    ("sob",): "shortness of breath",
    ("n/v",): "nausea and vomiting",
    ("nv",): "nausea and vomiting",
    ("cp",): "chest pain",
    ("ha",): "headache",
    ("sz",): "seizures",
    ("bp",): "blood pressure",
    ("bs",): "blood sugar",
    ("uti",): "urinary tract infection",
    ("abd",): "abdominal",
}
# Plain label English: passes as written, never flagged. Indication words are here too.
PLAIN = frozenset(
    """a an the to and or of for with without in into on at by each every per as if until up over under than
    then before after during while from not do no more less max maximum exceed hold call doctor prescriber
    needed directed day days week weeks month months hour hours minute minutes time times dose doses once
    morning evening night noon bedtime breakfast lunch dinner supper meal meals food water milk juice glass full
    empty stomach whole swallow crush chew shake well thin layer thinly affected area areas skin mouth tongue
    cheek gum eye eyes ear ears nostril nostrils nose scalp face hands feet rectally vaginally remove leave
    wash rinse rub gently massage cover dressing site sites rotate other alternate side first second third
    start stop continue finish all until gone completed taper tapering increase decrease reduce by
    pain fever headache migraine nausea vomiting anxiety panic agitation sleep insomnia itching itch rash
    hives allergy allergies congestion cough wheezing wheeze breath shortness spasm spasms muscle cramps
    constipation diarrhea diarrhoea heartburn indigestion reflux gas bloating cold flu sneezing runny
    inflammation swelling gout flare flares attack attacks infection acne dryness dry redness irritation
    symptoms symptom seizure seizures tremor vertigo dizziness motion sickness chest blood sugar glucose
    pressure urination bladder mild moderate severe breakthrough acute chronic prevention prophylaxis
    monday tuesday wednesday thursday friday saturday sunday mondays tuesdays wednesdays thursdays fridays
    saturdays sundays weekday weekend same hour before after apart least most at
    ointment ribbon inch inches strip eye ear ophthalmic otic nasal oral solution suspension cream gel lotion
    foam shampoo""".split()
)
_INDICATION_WORDS = frozenset(
    """pain fever headache migraine nausea vomiting anxiety panic agitation sleep insomnia itching itch rash
    hives allergy allergies congestion cough wheezing wheeze shortness spasm spasms muscle cramps constipation
    diarrhea diarrhoea heartburn indigestion reflux gas bloating cold flu sneezing inflammation swelling gout
    flare flares attack attacks infection acne dryness redness irritation symptoms seizure seizures tremor
    vertigo dizziness motion chest blood mild moderate severe breakthrough acute""".split()
)
MAX_WORDS: dict[tuple[str, ...], str] = {
    ("max",): "not to exceed",
    ("maximum",): "not to exceed",
    ("nte",): "not to exceed",
    ("not", "to", "exceed"): "not to exceed",
    ("do", "not", "exceed"): "do not exceed",
    ("up", "to"): "up to",
    ("no", "more", "than"): "no more than",
}
PER_DAY: tuple[tuple[str, ...], ...] = (
    ("perday",),
    ("per", "day"),
    ("a", "day"),
    ("daily",),
    ("in", "24", "hours"),
    ("in", "24", "hrs"),
    ("in", "24h"),
    ("every", "24", "hours"),
    ("q24h",),
)
ROMAN = {"i": 1, "ii": 2, "iii": 3}  # "ii tabs": only ever read in front of a unit

# --------------------------------------------------------------------------------------------------
# normalisation


def _times(match: re.Match[str]) -> str:
    count = match.group(1) or match.group(2)
    n = _NUMBER_WORDS.get(count) or int(count)
    return f" {n}timesweekly " if "week" in match.group(3) else f" {n}timesdaily "


_NORMALISE: list[tuple[re.Pattern[str], str | object]] = [
    (re.compile(r"(?<=[a-z])\.(?=[a-z])"), ""),  # b.i.d -> bid, p.o -> po
    (re.compile(r"(?<=[a-z])\.(?=\s|$|,|;|\))"), ""),  # the final full stop of an abbreviation
    (re.compile(r"[()\[\]]"), " "),
    (re.compile(r";"), " "),
    (re.compile(r"(?<=\d)(?=[a-z])"), " "),  # 500mg -> 500 mg, 2tabs -> 2 tabs, q6h -> q6 h (rejoined below)
    (re.compile(r"/\s*(?:day|d|24\s*h|24\s*hrs?|24\s*hours)\b"), " perday "),
    (re.compile(r"\b(?:every|q)\s*(\d+)\s*(?:-|to)\s*(\d+)\s*(?:h|hr|hrs|hour|hours)\b"), r" q\1-\2h "),
    (re.compile(r"\b(?:every|q)\s*(\d+)\s*(?:h|hr|hrs|hour|hours)\b"), r" q\1h "),
    (re.compile(r"\bq\s*(\d+)\s*(?:d|day|days)\b"), r" q\1d "),
    (re.compile(r"\bevery\s+(\d+)\s+days?\b"), r" q\1d "),
    (re.compile(r"\b(?:every|q)\s*(\d+)\s*(?:w|wk|wks|week|weeks)\b"), r" q\1wk "),
    (re.compile(r"\bq\s*(?:wk|week)\b"), " qwk "),
    (re.compile(r"\b(?:every|q)\s*(\d+)\s*(?:min|mins|minute|minutes)\b"), r" q\1min "),
    (re.compile(r"\b(?:every|q)\s*(\d+)\s*(?:mo|mos|month|months)\b"), r" q\1mo "),
    (
        # "twice a day", "3 times daily", "2x daily", "once weekly"; a bare "2 daily" stays a dose of 2
        re.compile(
            r"\b(?:(once|twice)\s+|(one|two|three|four|five|six|\d+)\s*(?:x|times?)\s*)"
            r"(daily|a\s+day|per\s+day|perday|each\s+day|every\s+day|weekly|a\s+week|per\s+week|each\s+week)\b"
        ),
        _times,
    ),
    (re.compile(r"\b(?:x|for)\s*(\d+)\s*(?:d|day|days)\b"), r" dur\1d "),
    (re.compile(r"\b(?:x|for)\s*(\d+)\s*(?:w|wk|wks|week|weeks)\b"), r" dur\1wk "),
    (re.compile(r"\b(?:x|for)\s*(\d+)\s*(?:mo|mos|month|months)\b"), r" dur\1mo "),
    (re.compile(r"\b(?:x|for)\s*(\d+)\s*(?:doses?)\b"), r" dur\1doses "),
    (re.compile(r"\bon\s+(?=days?\s+\d)"), " "),  # "on days 2-5": the rendering says "on" itself
    (re.compile(r"\bdays?\s+(\d+)\s*(?:-|to|through|thru)\s*(\d+)\b"), r" days\1-\2 "),
    (re.compile(r"\bday\s+(\d+)\b"), r" day\1 "),
    (
        re.compile(r",\s*(?=(?:\d|one|two|three|four|i{1,3}\b)[\d./-]*\s*[a-z])"),
        " then ",
    ),  # "6 tabs day 1, 5 tabs day 2"
    (re.compile(r","), " "),
    (re.compile(r"\bw/o\b"), " without "),
    (re.compile(r"\bw/(?=\s|[a-z])"), " with "),
    (re.compile(r"\s&\s"), " and "),
]


def normalise(sig: str) -> str:
    text = sig.lower().replace("½", " 1/2").replace("¼", " 1/4").replace("¾", " 3/4")
    for pattern, repl in _NORMALISE:
        text = pattern.sub(repl, text)  # type: ignore[arg-type]
    return " ".join(text.split())


# --------------------------------------------------------------------------------------------------
# reading


_RANGE = re.compile(r"^(\d+(?:\.\d+)?|\d+/\d+)(?:-(\d+(?:\.\d+)?|\d+/\d+))?$")
_Q_HOURS = re.compile(r"^q(\d+)(?:-(\d+))?h$")
_Q_OTHER = re.compile(r"^q(\d+)(d|wk|min|mo)$")
_TIMES_TOKEN = re.compile(r"^(\d+)times(daily|weekly)$")
_DURATION = re.compile(r"^dur(\d+)(d|wk|mo|doses)$")
_DAYS = re.compile(r"^days?(\d+)(?:-(\d+))?$")


def _number(token: str) -> Fraction | None:
    try:
        if "/" in token:
            num, den = token.split("/")
            return Fraction(int(num), int(den)) if int(den) else None
        return Fraction(token)
    except (ValueError, ZeroDivisionError):
        return None


def _amount(token: str) -> tuple[Fraction, Fraction] | None:
    if token in _NUMBER_WORDS and token not in ("once", "twice"):
        n = Fraction(_NUMBER_WORDS[token])
        return n, n
    match = _RANGE.match(token)
    if not match:
        return None
    low = _number(match.group(1))
    high = _number(match.group(2)) if match.group(2) else low
    if low is None or high is None or high < low:
        return None
    return low, high


def _hours(n: int) -> str:
    return "every hour" if n == 1 else f"every {n} hours"


def _frequency_token(token: str) -> Frequency | None:
    if m := _Q_HOURS.match(token):
        low, high = int(m.group(1)), int(m.group(2) or m.group(1))
        if low == 0 or high < low:
            return None
        text = _hours(low) if low == high else f"every {low} to {high} hours"
        return _freq(text, Fraction(24, high), Fraction(24, low))
    if m := _Q_OTHER.match(token):
        n, what = int(m.group(1)), m.group(2)
        if n == 0:
            return None
        if what == "d":
            return _freq("once daily" if n == 1 else "every other day" if n == 2 else f"every {n} days", Fraction(1, n))
        if what == "wk":
            return _freq("once weekly" if n == 1 else f"every {n} weeks", Fraction(1, 7 * n))
        if what == "mo":
            return _freq("once monthly" if n == 1 else f"every {n} months", Fraction(1, 30 * n))
        return _freq(f"every {n} minute{'s' if n > 1 else ''}", None)  # q5min: a repeat interval, not a rate
    if m := _TIMES_TOKEN.match(token):
        n = int(m.group(1))
        if n == 0:
            return None
        word = _TIMES_TEXT.get(n, f"{n} times")
        if m.group(2) == "daily":
            return _freq(f"{word} daily", n)
        return _freq(f"{word} weekly", Fraction(n, 7))
    return None


@dataclass
class _Piece:
    kind: str  # amount unit route verb freq timing prn ud duration days max indication plain unknown then
    text: str
    raw: str = ""
    amount: tuple[Fraction, Fraction] | None = None
    amount_raw: str = ""
    unit: Unit | None = None
    route: Route | None = None
    frequency: Frequency | None = None
    timing: Timing | None = None
    days: Fraction | None = None  # a duration or a day range, in days
    doses: int | None = None  # a duration counted in doses ("x 3 doses")
    per_day: bool = False  # a max that is per day


T = TypeVar("T")


def _match(tokens: list[str], i: int, table: dict[tuple[str, ...], T]) -> tuple[int, T] | None:
    """The longest phrase of `table` starting at token i."""
    for size in (4, 3, 2, 1):
        key = tuple(tokens[i : i + size])
        if len(key) == size and key in table:
            return size, table[key]
    return None


def _read_max(tokens: list[str], i: int, size: int, text: str) -> tuple[int, _Piece]:
    piece = _Piece("max", text, " ".join(tokens[i : i + size]))
    i += size
    if i < len(tokens) and (amount := _amount(tokens[i])) is not None:
        piece.amount, piece.amount_raw = amount, tokens[i]
        i += 1
        if i < len(tokens) and tokens[i] in UNITS:
            piece.unit = UNITS[tokens[i]]
            i += 1
        for phrase in PER_DAY:
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                piece.per_day = True
                i += len(phrase)
                break
    return i, piece


def _read(tokens: list[str], written: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    drops = any(t in UNITS and UNITS[t].kind == "drop" for t in tokens)
    eye_or_ear = drops or bool(set(tokens) & EYE_EAR_CONTEXT)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        pair = tokens[i : i + 2]
        if token == "then":
            pieces.append(_Piece("then", "then", token))
            i += 1
        elif (hit := _match(tokens, i, MAX_WORDS)) is not None:
            i, piece = _read_max(tokens, i, hit[0], hit[1])
            pieces.append(piece)
        elif token == "prn" or pair == ["as", "needed"]:  # before AS (left ear) and the plain word "as"
            size = 1 if token == "prn" else 2
            pieces.append(_Piece("prn", "as needed", " ".join(pair[:size])))
            i += size
        elif token in ("ud", "utd") or pair in (["as", "directed"], ["ut", "dict"]):
            size = 1 if token in ("ud", "utd") else 2
            pieces.append(_Piece("ud", "as directed", " ".join(pair[:size])))
            i += size
        elif (amount := _amount(token)) is not None or (token in ROMAN and nxt in UNITS):
            if amount is None:
                roman = Fraction(ROMAN[token])
                amount = (roman, roman)
            pieces.append(_Piece("amount", token, token, amount=amount, amount_raw=token))
            i += 1
        elif token in UNITS:
            pieces.append(_Piece("unit", token, token, unit=UNITS[token]))
            i += 1
        elif token in VERBS:
            pieces.append(_Piece("verb", VERBS[token], token))
            i += 1
        elif token in EYE_EAR:
            route = EYE_EAR[token]
            if eye_or_ear:
                pieces.append(_Piece("route", route.text, token, route=route))
            else:
                pieces.append(_Piece("unknown", _original(written, token), token))
            i += 1
        elif (route_hit := _match(tokens, i, ROUTES)) is not None:
            size, route = route_hit
            pieces.append(_Piece("route", route.text, " ".join(tokens[i : i + size]), route=route))
            i += size
        elif (freq_hit := _match(tokens, i, FREQUENCIES)) is not None:
            size, frequency = freq_hit
            pieces.append(_Piece("freq", frequency.text, " ".join(tokens[i : i + size]), frequency=frequency))
            i += size
        elif (coded := _frequency_token(token)) is not None:
            pieces.append(_Piece("freq", coded.text, token, frequency=coded))
            i += 1
        elif (timing_hit := _match(tokens, i, TIMINGS)) is not None:
            size, timing = timing_hit
            pieces.append(_Piece("timing", timing.text, " ".join(tokens[i : i + size]), timing=timing))
            i += size
        elif m := _DURATION.match(token):
            n, what = int(m.group(1)), m.group(2)
            if what == "doses":
                pieces.append(_Piece("duration", f"for {n} dose{'s' if n != 1 else ''}", token, doses=n))
            else:
                size_days, word = {"d": (1, "day"), "wk": (7, "week"), "mo": (30, "month")}[what]
                text = f"for {n} {word}{'s' if n != 1 else ''}"
                pieces.append(_Piece("duration", text, token, days=Fraction(n * size_days)))
            i += 1
        elif m := _DAYS.match(token):
            first, last = int(m.group(1)), int(m.group(2) or m.group(1))
            if 1 <= first <= last:
                text = f"on day {first}" if first == last else f"on days {first} through {last}"
                pieces.append(_Piece("days", text, token, days=Fraction(last - first + 1)))
            else:
                pieces.append(_Piece("unknown", _original(written, token), token))
            i += 1
        elif (indication_hit := _match(tokens, i, INDICATIONS)) is not None:
            size, text = indication_hit
            pieces.append(_Piece("indication", text, " ".join(tokens[i : i + size])))
            i += size
        elif token in PLAIN:
            pieces.append(_Piece("indication" if token in _INDICATION_WORDS else "plain", token, token))
            i += 1
        else:
            pieces.append(_Piece("unknown", _original(written, token), token))
            i += 1
    return pieces


# --------------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class SigSegment:
    """One schedule of a sig (a taper has several, joined by "then")."""

    text: str
    dose_min: Fraction | None  # amount per administration, in `unit`
    dose_max: Fraction | None
    unit: Unit | None
    per_day_min: Fraction | None  # administrations a day
    per_day_max: Fraction | None
    days: Fraction | None  # how long this segment lasts, when written (x 10 days, days 2-5)
    doses: int | None  # how many administrations, when written as a count (x 3 doses)
    prn: bool
    max_per_day: Fraction | None  # "max 8 tabs/day", in `unit`
    single: bool  # STAT / now / once

    @property
    def units_per_day_max(self) -> Fraction | None:
        """The most units this schedule allows a day: largest dose x most doses, capped by a written max."""
        if self.single and self.dose_max is not None and self.per_day_max is None:
            return self.dose_max
        if self.dose_max is None or self.per_day_max is None:
            return self.max_per_day
        most = self.dose_max * self.per_day_max
        return min(most, self.max_per_day) if self.max_per_day is not None else most


@dataclass(frozen=True)
class Sig:
    written: str
    text: str  # label English
    unknown: tuple[str, ...]  # tokens kept as written, for the person entering the sig to fix
    doses_per_day: float | None  # the most administrations a day, for a one-schedule sig; None otherwise
    days_supply: int | None
    flags: tuple[str, ...] = ()  # why a days' supply is estimated or missing; error-prone abbreviations
    segments: tuple[SigSegment, ...] = field(default=())

    @property
    def prn(self) -> bool:
        return any(s.prn for s in self.segments)

    @property
    def taper(self) -> bool:
        return len(self.segments) > 1

    def as_dict(self) -> dict[str, object]:
        return {
            "written": self.written,
            "text": self.text,
            "unknown": list(self.unknown),
            "doses_per_day": self.doses_per_day,
            "days_supply": self.days_supply,
            "flags": list(self.flags),
        }


def _plural(unit: Unit, amount: tuple[Fraction, Fraction] | None) -> str:
    if amount is None:
        return unit.plural
    low, high = amount
    return unit.singular if high <= 1 and low == high else unit.plural


def _amount_text(amount: tuple[Fraction, Fraction], raw: str) -> str:
    if "-" in raw:
        first, second = raw.split("-", 1)
        return f"{first} to {second}"
    if raw in _NUMBER_WORDS or raw in ROMAN:
        low = amount[0]
        return str(low.numerator) if low.denominator == 1 else str(low)
    return raw


def _unit_text(unit: Unit, amount: tuple[Fraction, Fraction] | None) -> str:
    words = _plural(unit, amount)
    if unit.ml is not None and unit.ml != 1 and amount is not None:
        low, high = amount[0] * unit.ml, amount[1] * unit.ml
        ml = _fmt(low) if low == high else f"{_fmt(low)} to {_fmt(high)}"
        return f"{words} ({ml} mL)"
    return words


def _fmt(n: Fraction) -> str:
    return str(n.numerator) if n.denominator == 1 else f"{float(n):g}"


def _verb(pieces: list[_Piece], dose_unit: Unit | None, route: Route | None) -> str | None:
    explicit = next((p.text for p in pieces if p.kind == "verb"), None)
    if explicit:
        return explicit
    if route is not None and route.verb in ("Take", "Inhale"):
        return route.verb
    if dose_unit is not None:
        by_unit = {"puff": "Inhale", "spray": "Use", "drop": "Instill", "application": "Apply"}.get(dose_unit.kind)
        if dose_unit.singular == "patch":
            by_unit = "Apply"
        if dose_unit.singular == "suppository":
            by_unit = "Insert"
        if by_unit:
            return by_unit
    if route is not None:
        return route.verb
    return None


def _segment(
    pieces: list[_Piece], inherited_unit: Unit | None, inherited_verb: str | None
) -> tuple[str, SigSegment, str | None]:
    # The dose is the first amount not inside another phrase; its unit is the unit right after it.
    dose_at = next((i for i, p in enumerate(pieces) if p.kind == "amount"), None)
    dose = pieces[dose_at] if dose_at is not None else None
    unit_piece = None
    if dose_at is not None and dose_at + 1 < len(pieces) and pieces[dose_at + 1].kind == "unit":
        unit_piece = pieces[dose_at + 1]
    elif dose_at is None:
        unit_piece = next((p for p in pieces if p.kind == "unit"), None)
    route_piece = next((p for p in pieces if p.kind == "route"), None)
    unit = unit_piece.unit if unit_piece else None
    route = route_piece.route if route_piece else None
    verb = _verb(pieces, unit or inherited_unit, route)
    if verb is None:
        verb = inherited_verb if inherited_verb else ("Take" if dose is not None else "Use")

    head: list[str] = []
    if dose is not None and dose.amount is not None:
        head.append(_amount_text(dose.amount, dose.amount_raw))
    if unit_piece is not None and unit is not None:
        head.append(_unit_text(unit, dose.amount if dose else None))
    if route_piece is not None:
        head.append(route_piece.text)
    moved = {id(p) for p in (dose, unit_piece, route_piece) if p is not None}

    rest: list[str] = []
    # "apply to aa": the route already says "to the affected area"
    redundant_to = {
        id(p)
        for p, after in zip(pieces, pieces[1:], strict=False)
        if p.text == "to" and after.kind == "route" and after.text.startswith("to ")
    }
    tail = [p for p in pieces if id(p) not in moved and id(p) not in redundant_to and p.kind != "verb"]
    for index, piece in enumerate(tail):
        if piece.kind == "route" and piece is not route_piece:
            rest.append(piece.text)
            continue
        if piece.kind == "amount" and piece.amount is not None:
            rest.append(_amount_text(piece.amount, piece.amount_raw))
            continue
        if piece.kind == "unit" and piece.unit is not None:
            prev = tail[index - 1] if index else None
            rest.append(_unit_text(piece.unit, prev.amount if prev and prev.kind == "amount" else None))
            continue
        if piece.kind == "max":
            words = [piece.text]
            if piece.amount is not None:
                words.append(_amount_text(piece.amount, piece.amount_raw))
            if piece.unit is not None:
                words.append(_plural(piece.unit, piece.amount))
            if piece.per_day:
                words.append("per day")
            rest.append(" ".join(words))
            continue
        rest.append(piece.text)
        if piece.kind == "prn" and index + 1 < len(tail):
            after = tail[index + 1]
            if after.kind in ("indication", "unknown") or (after.kind == "plain" and after.text not in PLAIN_STOPS):
                rest.append("for")

    words = [verb, *head, *rest]
    text = " ".join(w for w in words if w)

    frequencies = [p.frequency for p in pieces if p.kind == "freq" and p.frequency is not None]
    timings = [p.timing for p in pieces if p.kind == "timing" and p.timing is not None]
    duration = next((p for p in pieces if p.kind == "duration"), None)
    day_range = next((p for p in pieces if p.kind == "days"), None)
    maxes = [p for p in pieces if p.kind == "max" and p.per_day and p.amount is not None]
    per_day_min: Fraction | None = None
    per_day_max: Fraction | None = None
    single = False
    rates = [f for f in frequencies if not f.single]
    if len(rates) == 1:
        per_day_min, per_day_max = rates[0].per_day_min, rates[0].per_day_max
    elif len(rates) > 1:
        weekly = [f for f in rates if f.per_day_max is not None and f.per_day_max < 1]
        if weekly and duration is not None and duration.doses:
            # "q12h x 3 doses once weekly": the count is per week, the hours only space the doses
            per_day_min = per_day_max = Fraction(duration.doses) * weekly[0].per_day_max  # type: ignore[operator]
            duration = None
    elif any(f.single for f in frequencies):
        single = True
    elif timings and any(t.implied_per_day for t in timings):
        implied = max(t.implied_per_day for t in timings if t.implied_per_day)  # type: ignore[type-var]
        per_day_min = per_day_max = implied
    elif day_range is not None and dose is not None:
        per_day_min = per_day_max = Fraction(1)  # "2 tabs day 1": that day's dose
    days = duration.days if duration is not None and duration.days is not None else None
    doses = duration.doses if duration is not None else None
    if day_range is not None and day_range.days is not None:
        days = day_range.days if days is None else days
    max_per_day = None
    if maxes and maxes[0].amount is not None:
        cap = maxes[0]
        if cap.unit is None or unit is None or cap.unit.singular == unit.singular:
            max_per_day = cap.amount[1]  # type: ignore[index]
    segment = SigSegment(
        text=text,
        dose_min=dose.amount[0] if dose and dose.amount else None,
        dose_max=dose.amount[1] if dose and dose.amount else None,
        unit=unit or (inherited_unit if dose is not None else None),
        per_day_min=per_day_min,
        per_day_max=per_day_max,
        days=days,
        doses=doses,
        prn=any(p.kind == "prn" for p in pieces),
        max_per_day=max_per_day,
        single=single,
    )
    return text, segment, verb


PLAIN_STOPS = frozenset({"for", "if", "until", "to", "with", "and", "or", "at", "in", "on", "up", "not", "do", "then"})


def _original(written: str, token: str) -> str:
    """An unknown token as the prescriber wrote it (case kept), when it can be found."""
    match = re.search(re.escape(token), written, flags=re.IGNORECASE)
    return written[match.start() : match.end()] if match else token


QUANTITY_UNITS_ASSUMED = {"count", "volume"}  # a bare quantity counts tablets, capsules... or mL of a liquid


def _dose_units(unit: Unit, quantity_unit: Unit | None, strength: Strength | None) -> tuple[Fraction | None, str]:
    """How many of the quantity's units one unit of dose is (1 tablet = 1; 1 tsp = 5 mL; 500 mg of 250 mg
    tablets = 2 per 500), or None with the reason the days' supply cannot be counted."""
    if unit.kind == "mass" and unit.mg is not None:
        if strength is None or strength.single_mg is None:
            return None, f"dose in {unit.plural}: give the strength to compute days' supply"
        if strength.per_ml is not None:  # mg of a liquid: mL = mg / (mg per mL)
            if quantity_unit is not None and quantity_unit.kind != "volume":
                return None, f"liquid strength, quantity in {quantity_unit.plural}: days' supply not computed"
            return unit.mg * strength.per_ml / strength.single_mg, ""
        if quantity_unit is not None and quantity_unit.kind != "count":
            return None, f"dose in {unit.plural}, quantity in {quantity_unit.plural}: days' supply not computed"
        return unit.mg / strength.single_mg, ""
    if quantity_unit is not None and quantity_unit.kind == "volume" and unit.kind == "volume":
        return unit.ml or Fraction(1), ""
    if quantity_unit is not None and quantity_unit.singular != unit.singular:
        return None, f"dose in {unit.plural}, quantity in {quantity_unit.plural}: days' supply not computed"
    if quantity_unit is None and unit.kind not in QUANTITY_UNITS_ASSUMED:
        return None, f"dose in {unit.plural}: give the quantity in {unit.plural} to compute days' supply"
    return (unit.ml or Fraction(1)) if unit.kind == "volume" else Fraction(1), ""


def _days_supply(
    segments: list[SigSegment], quantity: Fraction | None, quantity_unit: Unit | None, strength: Strength | None
) -> tuple[int | None, list[str]]:
    flags: list[str] = []
    if quantity is None:
        return None, flags
    if quantity <= 0:
        return None, ["quantity is not positive"]
    if any(s.prn for s in segments):
        flags.append("prn: days' supply counts the most the sig allows a day")
    if len(segments) > 1:
        flags.append("taper: days' supply adds up the segments")
    remaining = quantity
    total = Fraction(0)
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        unit = segment.unit
        if unit is None:
            return None, [*flags, "no dose unit in the sig: days' supply not computed"]
        per_unit, reason = _dose_units(unit, quantity_unit, strength)
        if per_unit is None:
            return None, [*flags, reason]
        per_day = segment.units_per_day_max
        if segment.single:
            return None, [*flags, "single dose (stat/once): no days' supply"]
        if per_day is None or per_day == 0:
            reason = "prn without a frequency" if segment.prn else "no frequency in the sig"
            return None, [*flags, f"{reason}: days' supply not computed"]
        per_day *= per_unit
        days = segment.days
        if days is None and segment.doses is not None and segment.per_day_max:
            days = Fraction(math.ceil(Fraction(segment.doses) / segment.per_day_max))
        if days is None and not last:
            return None, [*flags, "a taper step without a duration: days' supply not computed"]
        lasts = remaining / per_day
        if days is not None and lasts >= days:
            total += days
            remaining -= per_day * days
            if last:
                break
            continue
        total += lasts
        remaining = Fraction(0)
        break
    days_supply = math.floor(total)
    if days_supply < 1:
        return 1, [*flags, "quantity lasts less than a day"]
    return days_supply, flags


@lru_cache(maxsize=4096)
def expand(
    sig: str,
    *,
    quantity: float | int | Fraction | None = None,
    quantity_unit: str | None = None,
    strength: str | None = None,
) -> Sig:
    """Expand a sig into label English; with a quantity, also compute the days' supply.

    `quantity_unit` names what the quantity counts (tablets, mL, puffs, ...); without it a quantity
    counts the sig's own countable unit (tablets, capsules, patches...) or mL for a liquid, and a sig in
    drops, puffs, sprays or units gives no days' supply (the package size is not in the sig). A dose in
    mg needs `strength` ("250 mg", "125 mg/5 mL") to become tablets or mL.
    Never raises on odd input: unknown words are listed in `unknown` and kept in the text. Pure, so the
    answers are cached: a pharmacy sees the same few hundred sigs all day.
    """
    written = " ".join(str(sig).split())
    tokens = normalise(written).split()
    flags: list[str] = []
    for token in tokens:
        note = ERROR_PRONE.get(token)
        if note and f"error-prone abbreviation: {note}" not in flags:
            flags.append(f"error-prone abbreviation: {note}")
    pieces = _read(tokens, written)
    groups: list[list[_Piece]] = [[]]
    for piece in pieces:
        if piece.kind == "then":
            groups.append([])
        else:
            groups[-1].append(piece)
    groups = [g for g in groups if g]
    texts: list[str] = []
    segments: list[SigSegment] = []
    unit: Unit | None = None
    verb: str | None = None
    for index, group in enumerate(groups):
        text, segment, verb = _segment(group, unit, verb)
        unit = segment.unit or unit
        texts.append(text if index == 0 else "then " + text[:1].lower() + text[1:])
        segments.append(segment)
    unknown = tuple(dict.fromkeys(p.text for p in pieces if p.kind == "unknown"))
    if unknown:
        flags.append("unknown words kept as written: " + ", ".join(unknown))
    text = ", ".join(texts)
    doses_per_day = None
    if len(segments) == 1 and segments[0].per_day_max is not None:
        doses_per_day = round(float(segments[0].per_day_max), 4)
    q_unit = UNITS.get(quantity_unit.strip().lower()) if quantity_unit else None
    if quantity_unit and q_unit is None:
        flags.append(f"quantity unit {quantity_unit!r} not recognised")
    days_supply: int | None = None
    if segments and not (quantity_unit and q_unit is None):
        q = Fraction(quantity).limit_denominator(1000) if quantity is not None else None
        days_supply, ds_flags = _days_supply(segments, q, q_unit, parse_strength(strength))
        flags.extend(ds_flags)
    return Sig(written, text, unknown, doses_per_day, days_supply, tuple(flags), tuple(segments))


def days_supply(
    sig: str, quantity: float | int, quantity_unit: str | None = None, strength: str | None = None
) -> int | None:
    """Days a quantity lasts on this sig (None when the sig gives no countable schedule)."""
    return expand(sig, quantity=quantity, quantity_unit=quantity_unit, strength=strength).days_supply


def frequency_per_day(text: str) -> tuple[Fraction, Fraction] | None:
    """Administrations a day for a frequency written alone ("q6h", "bid", "once weekly"), min and max."""
    result = expand(text)
    if len(result.segments) != 1 or result.unknown:
        return None
    segment = result.segments[0]
    if segment.per_day_min is None or segment.per_day_max is None:
        return None
    return segment.per_day_min, segment.per_day_max


def unit_named(name: str) -> Unit | None:
    """The unit a word names ("tabs", "mL", "puffs"), or None."""
    return UNITS.get(name.strip().lower())
