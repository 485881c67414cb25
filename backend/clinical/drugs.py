"""What a drug name on a prescription is, for the clinical checks: ingredients, and the release and form
that dose rules need (an extended-release opioid is not an immediate-release one; a fentanyl patch is
dosed in mcg per hour).

Names go through the interaction checker's `identify` (our combination and alias tables, then the
offline drug dictionary: brands, synonyms, close typos), so a name means the same thing to every check.
On top of it, this module knows:

- a few brands the dictionary does not (Z-Pak, Exalgo, the transmucosal fentanyls), and dictionary
  generics that carry a form in their name ("Fentanyl Patch" for Duragesic, "Buprenorphine Buccal (chronic
  pain)" for Belbuca), which become the plain ingredient plus the form, so that the same rules apply;
- the release, from the words written (ER, XR, SR, CR, LA, XL, 12/24 hr, "extended-release") and the
  extended-release brands (OxyContin, MS Contin, Hysingla, ...). Methadone and levorphanol are long-acting
  whatever their tablets are called.

A name nothing identifies stays unknown (with suggestions) and is never treated as safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from backend.interactions import checker
from backend.interactions.knowledge import Source, label
from backend.interactions.names import NameCache, default_cache, normalise


@dataclass(frozen=True)
class ClinicalDrug:
    name: str  # as given
    ingredients: tuple[str, ...]  # lower-case generics; empty when not identified
    release: str = ""  # "ER" when extended-release is written or implied by the brand; "" otherwise
    form: str = ""  # "transdermal", "transmucosal", "buccal" when the name says so
    read_as: str = ""  # how a typo was read: "simvastatin (95% match)"
    suggestions: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return bool(self.ingredients)

    @property
    def long_acting(self) -> bool:
        """Extended-release or long-acting (the CDC and FDA "ER/LA opioid" sense)."""
        return (
            self.release == "ER" or self.form in ("transdermal", "buccal") or bool(set(self.ingredients) & LONG_ACTING)
        )

    def for_interactions(self) -> checker.Drug:
        return checker.Drug(self.name, self.ingredients, self.read_as, self.suggestions)


LONG_ACTING = frozenset({"methadone", "levorphanol"})

# name (lower case) -> (ingredients, release, form, source). Brands the dictionary does not know, and
# dictionary generics that name a form.
_EXTRA: dict[str, tuple[tuple[str, ...], str, str, Source]] = {}


def _add(names: tuple[str, ...], ingredients: tuple[str, ...], release: str, form: str, source: Source) -> None:
    for name in names:
        _EXTRA[name] = (ingredients, release, form, source)


_add(
    ("z-pak", "zpak", "z-pack", "zpack", "z pak"),
    ("azithromycin",),
    "",
    "",
    label("Zithromax", "azithromycin", "16 How Supplied (Z-Pak)"),
)
_add(("exalgo",), ("hydromorphone",), "ER", "", label("Exalgo", "hydromorphone extended-release", "Description"))
_add(
    ("fentanyl patch", "fentanyl transdermal", "fentanyl transdermal system", "duragesic"),
    ("fentanyl",),
    "ER",
    "transdermal",
    label("Duragesic", "fentanyl transdermal system", "Description"),
)
_add(
    ("buprenorphine patch", "buprenorphine transdermal", "butrans"),
    ("buprenorphine",),
    "ER",
    "transdermal",
    label("Butrans", "buprenorphine transdermal system", "Description"),
)
_add(
    ("buprenorphine buccal (chronic pain)", "buprenorphine buccal", "belbuca"),
    ("buprenorphine",),
    "ER",
    "buccal",
    label("Belbuca", "buprenorphine buccal film", "Description"),
)
_add(
    ("actiq", "fentora", "abstral", "subsys", "lazanda", "fentanyl buccal", "fentanyl citrate buccal"),
    ("fentanyl",),
    "",
    "transmucosal",
    label("Fentora", "fentanyl buccal tablet", "Boxed warning (opioid-tolerant patients only; TIRF REMS)"),
)
_add(
    ("pepto-bismol", "pepto bismol", "kaopectate"),
    ("bismuth subsalicylate",),
    "",
    "",
    label("Pepto-Bismol", "bismuth subsalicylate", "Drug Facts"),
)
_add(
    ("penicillins", "penicillin vk", "pen vk", "pcn"),
    ("penicillin",),
    "",
    "",
    label("Penicillin V potassium", "penicillin v potassium", "Description"),
)
_add(
    ("phenoxymethylpenicillin",),
    ("penicillin",),
    "",
    "",
    label("Penicillin V potassium", "penicillin v potassium", "Description"),
)
_add(("penicillin g",), ("penicillin",), "", "", label("Bicillin L-A", "penicillin g benzathine", "Description"))
# "ASA" on a profile or an allergy list is aspirin (acetylsalicylic acid)
_add(("asa", "a.s.a."), ("aspirin",), "", "", label("Bayer Aspirin", "aspirin", "Drug Facts"))

EXTRA: dict[str, tuple[tuple[str, ...], str, str, Source]] = dict(_EXTRA)

# Extended-release brands whose names do not say "ER".
ER_BRANDS = frozenset(
    {
        "oxycontin",
        "xtampza",
        "xtampza er",
        "ms contin",
        "kadian",
        "avinza",
        "arymo",
        "arymo er",
        "morphabond",
        "hysingla",
        "hysingla er",
        "zohydro",
        "zohydro er",
        "nucynta er",
        "conzip",
        "ultram er",
        "opana er",
        "embeda",
        "targiniq",
    }
)
_ER_WORDS = re.compile(
    r"\b(?:er|xr|sr|cr|la|xl|xt|er24|extended[- ]release|extended|sustained[- ]release|controlled[- ]release|"
    r"long[- ]acting|12[- ]?h(?:r|our)?|24[- ]?h(?:r|our)?|contin)\b"
)
_STRENGTH_WORDS = re.compile(r"\b\d[\d.,/-]*\s*(?:mg|mcg|g|ml|%|mcg/hr|mcg/h)?\b")
_FORM_WORDS = re.compile(
    r"\b(?:tabs?|tablets?|caps?|capsules?|solution|suspension|syrup|elixir|oral|po|ir|immediate[- ]release|"
    r"er|xr|sr|cr|la|xl|dr|ec|odt|extended[- ]release|delayed[- ]release|chewable|liquid)\b"
)


_SPLIT_WRITTEN = re.compile(r"\s*(?:/|\+|,\s*and\s+|,\s*|\s+and\s+|\s+with\s+)\s*")


def _release(key: str) -> str:
    words = key.split()
    if key in ER_BRANDS or " ".join(words[:1]) in ER_BRANDS or " ".join(words[:2]) in ER_BRANDS:
        return "ER"  # "OxyContin 10 mg", "MS Contin 30 mg tab"
    return "ER" if _ER_WORDS.search(key) else ""


def _extra(key: str) -> tuple[tuple[str, ...], str, str] | None:
    hit = EXTRA.get(key)
    if hit:
        return hit[0], hit[1], hit[2]
    return None


@lru_cache(maxsize=4096)
def _identify(name: str, cache: NameCache) -> ClinicalDrug:
    key = normalise(name)
    release = _release(key)
    for candidate in (key, _FORM_WORDS.sub(" ", _STRENGTH_WORDS.sub(" ", key))):
        candidate = " ".join(candidate.split())
        if extra := _extra(candidate):
            ingredients, extra_release, form = extra
            return ClinicalDrug(name, ingredients, extra_release or release, form)
    drug = checker.identify(name, cache)
    if not drug.known:
        bare = " ".join(_FORM_WORDS.sub(" ", _STRENGTH_WORDS.sub(" ", key)).split())
        if bare and bare != key:  # "oxycodone ER 10 mg tab" when the dictionary trips on the extra words
            drug = checker.identify(bare, cache)
    generics: list[str] = []
    form = ""
    for ingredient in drug.ingredients:
        if extra := _extra(ingredient):  # a dictionary generic that names a form
            generics.extend(extra[0])
            release = release or extra[1]
            form = form or extra[2]
        elif len(parts := [p for p in _SPLIT_WRITTEN.split(ingredient) if p]) > 1:
            # A combination generic left whole ("butalbital/acetaminophen" inside Fioricet with Codeine):
            # its acetaminophen must count toward the daily total like any other.
            split = [checker.identify(part, cache).ingredients for part in parts]
            generics.extend(i for found in split for i in found) if all(split) else generics.append(ingredient)
        else:
            generics.append(ingredient)
    return ClinicalDrug(name, tuple(dict.fromkeys(generics)), release, form, drug.read_as, drug.suggestions)


def bare_name(name: str) -> str:
    """The name without strengths and dosage-form words: "Percocet 5/325 mg tab" -> "percocet"."""
    return " ".join(_FORM_WORDS.sub(" ", _STRENGTH_WORDS.sub(" ", normalise(name))).split())


def written_order(drug: ClinicalDrug, cache: NameCache | None = None) -> tuple[str, ...] | None:
    """The ingredients in the order the name writes them ("acetaminophen/codeine" -> acetaminophen, codeine),
    when the name lists every one of them; None for a brand name."""
    parts = [p for p in _SPLIT_WRITTEN.split(bare_name(drug.name)) if p]
    if len(parts) != len(drug.ingredients):
        return None
    order = []
    for part in parts:
        found = identify(part, cache).ingredients
        if len(found) != 1:
            return None
        order.append(found[0])
    return tuple(order) if sorted(order) == sorted(drug.ingredients) else None


def identify(name: str, cache: NameCache | None = None) -> ClinicalDrug:
    """What a typed drug name stands for (ingredients, release, form), or unknown with suggestions."""
    return _identify(" ".join(str(name).split()), cache or default_cache())
