"""Federal controlled-substance schedules (US DEA, 21 CFR 1308.12-1308.15) for the DUR's controlled flags.

The catalog keeps each medicine's class (CII to CV) as the chain set it; when the caller passes it
(`schedule` on the medication) it wins, because states schedule more than the federal list (gabapentin is
Schedule V in some states) and the chain's setting is what applies. Without it, this table gives the
federal schedule of the ingredient, with the combination rules that change it (codeine alone is CII,
with acetaminophen CIII, in a cough syrup CV; diphenoxylate with atropine is CV).
"""

from __future__ import annotations

from types import MappingProxyType

from backend.interactions.knowledge import Source

ECFR_1308 = "https://www.ecfr.gov/current/title-21/chapter-II/part-1308/section-"
SCHEDULE_SOURCES: MappingProxyType[str, Source] = MappingProxyType(
    {
        "CII": Source("21 CFR 1308.12 (Schedule II)", ECFR_1308 + "1308.12"),
        "CIII": Source("21 CFR 1308.13 (Schedule III)", ECFR_1308 + "1308.13"),
        "CIV": Source("21 CFR 1308.14 (Schedule IV)", ECFR_1308 + "1308.14"),
        "CV": Source("21 CFR 1308.15 (Schedule V)", ECFR_1308 + "1308.15"),
    }
)
REFILL_RULES = Source(
    "21 CFR 1306.12 (Schedule II: no refills) and 1306.22 (Schedules III-IV: at most 5 refills within 6 months)",
    "https://www.ecfr.gov/current/title-21/chapter-II/part-1306",
)


def _schedule(schedule: str, names: str) -> dict[str, str]:
    return dict.fromkeys(names.split(","), schedule)


FEDERAL_SCHEDULES: MappingProxyType[str, str] = MappingProxyType(
    {
        **_schedule(
            "CII",
            "oxycodone,hydrocodone,morphine,hydromorphone,fentanyl,methadone,oxymorphone,tapentadol,meperidine,"
            "codeine,levorphanol,sufentanil,alfentanil,remifentanil,dihydrocodeine,opium,amphetamine,"
            "dextroamphetamine,lisdexamfetamine,methylphenidate,dexmethylphenidate,methamphetamine,cocaine,nabilone,"
            "pentobarbital,secobarbital",
        ),
        **_schedule(
            "CIII",
            "buprenorphine,ketamine,testosterone,nandrolone,oxandrolone,methyltestosterone,dronabinol,perampanel,"
            "sodium oxybate,benzphetamine,phendimetrazine",
        ),
        **_schedule(
            "CIV",
            "alprazolam,lorazepam,diazepam,clonazepam,temazepam,triazolam,chlordiazepoxide,clorazepate,oxazepam,"
            "estazolam,flurazepam,clobazam,midazolam,remimazolam,zolpidem,eszopiclone,zaleplon,suvorexant,"
            "lemborexant,daridorexant,tramadol,carisoprodol,phenobarbital,modafinil,armodafinil,phentermine,"
            "butorphanol,pentazocine,eluxadoline,solriamfetol",
        ),
        **_schedule("CV", "pregabalin,lacosamide,brivaracetam,cenobamate,diphenoxylate,difenoxin"),
    }
)

# Codeine and dihydrocodeine are CII alone; limited amounts with a non-narcotic ingredient are CIII
# (tablets with acetaminophen, aspirin, butalbital, carisoprodol) or CV (cough preparations).
_COUGH = frozenset(
    {"guaifenesin", "promethazine", "chlorpheniramine", "pseudoephedrine", "phenylephrine", "brompheniramine"}
)
_NARCOTIC_COMBINATION = frozenset({"codeine", "dihydrocodeine"})

ORDER = ("CII", "CIII", "CIV", "CV")


def federal_schedule(ingredients: tuple[str, ...]) -> str | None:
    """The federal schedule of a product with these ingredients (the strictest of them), or None."""
    schedules = []
    for ingredient in ingredients:
        schedule = FEDERAL_SCHEDULES.get(ingredient)
        if schedule is None:
            continue
        others = set(ingredients) - {ingredient}
        if ingredient in _NARCOTIC_COMBINATION and others:
            schedule = "CV" if others & _COUGH else "CIII"
        schedules.append(schedule)
    return min(schedules, key=ORDER.index) if schedules else None


def normalise_schedule(value: str | None) -> str | None:
    """'C-II', 'CII', 'II', '2' -> 'CII'; None or '' -> None; anything else raises ValueError."""
    if value is None or not str(value).strip():
        return None
    key = str(value).strip().upper().replace("-", "").replace(" ", "").removeprefix("SCHEDULE")
    key = key.removeprefix("C")
    roman = {"2": "II", "3": "III", "4": "IV", "5": "V"}.get(key, key)
    if roman not in ("II", "III", "IV", "V"):
        raise ValueError(f"not a controlled-substance schedule: {value!r} (use CII, CIII, CIV or CV)")
    return "C" + roman
