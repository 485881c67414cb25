"""Allergy classes, their members and cross-sensitivities: what an allergy on the record means for a new drug.

Curated by hand from public sources, each with its citation: the FDA labels' Contraindications and
Warnings (DailyMed links search the current label), the AAAAI/ACAAI drug allergy practice parameter
(2022), and named studies where a label is silent or out of date (Strom 2003 for sulfonamides). No row
is copied from a commercial compendium.

How a recorded allergen is read (see `dur.py`):
- a class name as staff type it ("penicillin", "sulfa", "NSAIDs", "opioids") is that class;
- anything else is identified as a drug (brands, combinations, typos) and means its ingredients, plus
  every specific class an ingredient belongs to (an amoxicillin allergy is a penicillin allergy). The
  umbrella classes (beta-lactams, opioids) apply only when written: a codeine allergy is not a fentanyl
  allergy, it is a phenanthrene allergy;
- a non-drug allergen (latex, peanut, eggs, ...) cannot be checked against an ingredient and is listed
  as unknown, never passed.

Severities (issue 13): the allergen itself, or a member of a class recorded or implied, is `major`;
a cross-sensitivity between classes is `moderate` or lower, as its evidence says. A class can set a
lower within-class severity where the evidence is a partial cross-reactivity (aromatic anticonvulsants).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import quote

from backend.interactions.knowledge import Severity, Source, label


def pubmed(term: str) -> str:
    return "https://pubmed.ncbi.nlm.nih.gov/?term=" + quote(term)


PRACTICE_PARAMETER = Source(
    "Khan DA, Banerji A, Blumenthal KG, et al. Drug allergy: a 2022 practice parameter update. "
    "J Allergy Clin Immunol 2022;150(6):1333-93 (AAAAI/ACAAI Joint Task Force on Practice Parameters)",
    pubmed("Drug allergy: A 2022 practice parameter update"),
)
STROM_2003 = Source(
    "Strom BL, Schinnar R, Apter AJ, et al. Absence of cross-reactivity between sulfonamide antibiotics and "
    "sulfonamide nonantibiotics. N Engl J Med 2003;349(17):1628-35 (PMID 14573734)",
    "https://pubmed.ncbi.nlm.nih.gov/14573734/",
)
OPIOID_CLASSES = Source(
    "Baumann TJ. Analgesic selection when the patient is allergic to codeine. Clin Pharm 1991;10:659 "
    "(opioid chemical classes: phenanthrenes, phenylpiperidines, diphenylheptanes)",
    pubmed("Baumann analgesic selection when the patient is allergic to codeine"),
)
OPIOID_PSEUDOALLERGY = Source(
    "Opioids: allergy vs. pseudoallergy. US Pharmacist 2006;7:HS-5-HS-9",
    "https://www.uspharmacist.com/article/opioids-allergy-vs-pseudoallergy",
)
HAYMORE_2008 = Source(
    "Haymore BR, Yoon J, Mikita CP, Klote MM, DeZee KJ. Risk of angioedema with angiotensin receptor blockers "
    "in patients with prior angioedema associated with ACE inhibitors: a meta-analysis. Ann Allergy Asthma "
    "Immunol 2008;101(5):495-9",
    pubmed("Haymore angioedema angiotensin receptor blockers prior angioedema ACE inhibitors meta-analysis"),
)


@dataclass(frozen=True)
class AllergyClass:
    key: str
    name: str  # as a pharmacist says it: "penicillins"
    members: frozenset[str]  # generics, lower case, as `drugs.identify` returns them
    source: Source
    aliases: tuple[str, ...] = ()  # what staff type on an allergy record
    within: Severity | None = "major"  # a new drug in the same class as the allergen; None: never by class
    note: str = ""  # said in the alert
    includes: tuple[str, ...] = ()  # an umbrella (opioids, beta-lactams): its classes; only when written
    also: tuple[Source, ...] = field(default=())

    @property
    def umbrella(self) -> bool:
        return bool(self.includes)


@dataclass(frozen=True)
class CrossSensitivity:
    id: str
    allergen: str  # "class:<key>" or a generic: what the record says the patient reacts to
    drug: str  # "class:<key>" or a generic: the new drug
    severity: Severity
    summary: str
    source: Source
    also: tuple[Source, ...] = ()
    both_ways: bool = True  # penicillin -> cephalosporin and cephalosporin -> penicillin alike


def _cls(
    key: str,
    name: str,
    members: str,
    source: Source,
    *,
    aliases: tuple[str, ...] = (),
    within: Severity | None = "major",
    note: str = "",
    also: tuple[Source, ...] = (),
) -> AllergyClass:
    return AllergyClass(key, name, frozenset(members.split(",")), source, aliases, within, note, (), also)


_CLASSES = [
    _cls(
        "penicillins",
        "penicillins",
        "amoxicillin,ampicillin,penicillin,dicloxacillin,nafcillin,oxacillin,piperacillin",
        label(
            "Amoxil",
            "amoxicillin",
            "4 Contraindications (serious hypersensitivity to amoxicillin or other beta-lactams)",
        ),
        aliases=("penicillin", "penicillins", "pcn", "pen", "penicillin allergy", "penicillin antibiotics"),
    ),
    _cls(
        "cephalosporins",
        "cephalosporins",
        "cephalexin,cefadroxil,cefazolin,cefaclor,cefuroxime,cefprozil,cefpodoxime,cefdinir,cefixime,cefditoren,"
        "ceftriaxone,cefotaxime,ceftazidime,cefepime,ceftaroline,cefoxitin,cefotetan",
        label("Keflex", "cephalexin", "4 Contraindications (cephalosporins); 5 Warnings (hypersensitivity)"),
        aliases=("cephalosporin", "cephalosporins", "cephs", "cephalosporin antibiotics"),
    ),
    _cls(
        "carbapenems",
        "carbapenems",
        "imipenem,meropenem,ertapenem,doripenem",
        label("Merrem", "meropenem", "4 Contraindications; 5 Warnings (hypersensitivity, other beta-lactams)"),
        aliases=("carbapenem", "carbapenems"),
    ),
    _cls(
        "monobactams",
        "monobactams",
        "aztreonam",
        label("Azactam", "aztreonam", "Contraindications; Warnings (hypersensitivity)"),
        aliases=("monobactam", "monobactams"),
    ),
    _cls(
        "sulfonamide_antibiotics",
        "sulfonamide antibiotics ('sulfa')",
        "sulfamethoxazole,sulfadiazine,sulfisoxazole,sulfacetamide,silver sulfadiazine,sulfasalazine",
        label("Bactrim", "sulfamethoxazole and trimethoprim", "4 Contraindications (hypersensitivity to sulfonamides)"),
        aliases=(
            "sulfa",
            "sulpha",
            "sulfa drugs",
            "sulfa antibiotics",
            "sulfas",
            "sulfonamide",
            "sulfonamides",
            "sulphonamides",
            "sulfonamide antibiotics",
        ),
        note="Sulfasalazine is split into sulfapyridine, an arylamine sulfonamide like the antibiotics.",
        also=(label("Azulfidine", "sulfasalazine", "Contraindications (sulfonamides or salicylates)"),),
    ),
    _cls(
        # Listed so the sulfonamide rule below can say what it covers; never an allergy class by itself
        # (a furosemide allergy says nothing about glipizide).
        "sulfonamide_nonantibiotics",
        "non-antibiotic sulfonamides",
        "furosemide,bumetanide,torsemide,hydrochlorothiazide,chlorthalidone,indapamide,metolazone,acetazolamide,"
        "celecoxib,glipizide,glyburide,glimepiride,sumatriptan,zonisamide,topiramate,tamsulosin,probenecid,"
        "darunavir,dorzolamide,brinzolamide",
        STROM_2003,
        within=None,
    ),
    _cls(
        "nsaids",
        "NSAIDs (including aspirin)",
        "ibuprofen,naproxen,diclofenac,meloxicam,celecoxib,indomethacin,ketorolac,ketoprofen,piroxicam,etodolac,"
        "nabumetone,oxaprozin,flurbiprofen,sulindac,mefenamic acid,fenoprofen,tolmetin,meclofenamate,diflunisal,"
        "salsalate,aspirin",
        label(
            "Motrin",
            "ibuprofen",
            "4 Contraindications (asthma, urticaria or allergic-type reactions after aspirin or other NSAIDs)",
        ),
        aliases=(
            "nsaid",
            "nsaids",
            "nsaid allergy",
            "aspirin/nsaids",
            "asa/nsaids",
            "nonsteroidal anti-inflammatory drugs",
            "non-steroidal anti-inflammatory drugs",
            "anti-inflammatories",
        ),
        note="Every NSAID label, celecoxib's included, contraindicates it after an allergic-type reaction to "
        "aspirin or another NSAID.",
        also=(label("Celebrex", "celecoxib", "4 Contraindications (aspirin or other NSAIDs)"),),
    ),
    _cls(
        "salicylates",
        "salicylates",
        "aspirin,diflunisal,salsalate,bismuth subsalicylate,magnesium salicylate,mesalamine,sulfasalazine,"
        "balsalazide,olsalazine",
        label(
            "Pepto-Bismol",
            "bismuth subsalicylate",
            "Drug Facts: do not use if allergic to salicylates (including aspirin)",
        ),
        aliases=("salicylate", "salicylates"),
        also=(label("Lialda", "mesalamine", "4 Contraindications (salicylates or aminosalicylates)"),),
    ),
    _cls(
        "opioid_phenanthrenes",
        "phenanthrene opioids (morphine-like)",
        "morphine,codeine,hydrocodone,hydromorphone,oxycodone,oxymorphone,levorphanol,buprenorphine,butorphanol,"
        "nalbuphine,dihydrocodeine",
        OPIOID_CLASSES,
        aliases=("phenanthrenes", "phenanthrene opioids"),
        note="Most opioid 'allergies' are histamine-release reactions (itching, flushing); ask what happened.",
        also=(OPIOID_PSEUDOALLERGY,),
    ),
    _cls(
        "opioid_phenylpiperidines",
        "phenylpiperidine opioids (fentanyl, meperidine)",
        "fentanyl,meperidine,sufentanil,alfentanil,remifentanil",
        OPIOID_CLASSES,
        aliases=("phenylpiperidines",),
        also=(OPIOID_PSEUDOALLERGY,),
    ),
    _cls(
        "opioid_diphenylheptanes",
        "diphenylheptane opioids (methadone)",
        "methadone",
        OPIOID_CLASSES,
        aliases=("diphenylheptanes",),
        also=(OPIOID_PSEUDOALLERGY,),
    ),
    _cls(
        "opioid_other",
        "other synthetic opioids (tramadol, tapentadol)",
        "tramadol,tapentadol",
        OPIOID_CLASSES,
        also=(OPIOID_PSEUDOALLERGY,),
    ),
    _cls(
        "macrolides",
        "macrolides",
        "erythromycin,azithromycin,clarithromycin",
        label("Zithromax", "azithromycin", "4 Contraindications (erythromycin, any macrolide or ketolide)"),
        aliases=("macrolide", "macrolides"),
    ),
    _cls(
        "fluoroquinolones",
        "fluoroquinolones",
        "ciprofloxacin,levofloxacin,moxifloxacin,ofloxacin,delafloxacin,gemifloxacin,norfloxacin",
        label("Cipro", "ciprofloxacin", "4 Contraindications (any member of the quinolone class)"),
        aliases=("quinolone", "quinolones", "fluoroquinolone", "fluoroquinolones"),
    ),
    _cls(
        "tetracyclines",
        "tetracyclines",
        "doxycycline,minocycline,tetracycline,demeclocycline,omadacycline,sarecycline",
        label("Vibramycin", "doxycycline", "Contraindications (hypersensitivity to any of the tetracyclines)"),
        aliases=("tetracyclines",),
    ),
    _cls(
        "aminoglycosides",
        "aminoglycosides",
        "gentamicin,tobramycin,amikacin,neomycin,streptomycin,plazomicin",
        label(
            "gentamicin injection",
            "gentamicin",
            "Contraindications; Warnings (cross-sensitivity among aminoglycosides)",
        ),
        aliases=("aminoglycoside", "aminoglycosides"),
    ),
    _cls(
        "ace_inhibitors",
        "ACE inhibitors (angioedema)",
        "lisinopril,enalapril,ramipril,captopril,benazepril,quinapril,perindopril,fosinopril,moexipril,trandolapril",
        label("Zestril", "lisinopril", "4 Contraindications (angioedema with a previous ACE inhibitor)"),
        aliases=("ace inhibitor", "ace inhibitors", "acei", "ace-i", "ace inhibitor angioedema"),
    ),
    _cls(
        "arbs",
        "angiotensin II receptor blockers",
        "losartan,valsartan,irbesartan,candesartan,olmesartan,telmisartan,azilsartan,eprosartan",
        label("Cozaar", "losartan", "4 Contraindications (hypersensitivity); 6 Adverse Reactions (angioedema)"),
        aliases=("arb", "arbs", "angiotensin receptor blockers"),
    ),
    _cls(
        "aromatic_anticonvulsants",
        "aromatic anticonvulsants",
        "carbamazepine,oxcarbazepine,eslicarbazepine,phenytoin,fosphenytoin,phenobarbital,primidone,lamotrigine",
        label(
            "Trileptal",
            "oxcarbazepine",
            "5 Warnings (25-30% of patients with carbamazepine hypersensitivity react to oxcarbazepine)",
        ),
        aliases=("aromatic anticonvulsants", "aromatic antiepileptics"),
        # Cross-reactivity inside the class is partial (a quarter to a third), so a sibling is moderate;
        # the drug itself is still major.
        within="moderate",
        also=(label("Tegretol", "carbamazepine", "5 Warnings (hypersensitivity; cross-sensitivity)"),),
    ),
]


def _umbrella(key: str, name: str, includes: tuple[str, ...], source: Source, aliases: tuple[str, ...]) -> AllergyClass:
    members = frozenset().union(*(c.members for c in _CLASSES if c.key in includes))
    return AllergyClass(key, name, members, source, aliases, "major", "", includes)


_UMBRELLAS = [
    _umbrella(
        "beta_lactams",
        "beta-lactam antibiotics",
        ("penicillins", "cephalosporins", "carbapenems", "monobactams"),
        PRACTICE_PARAMETER,
        ("beta-lactam", "beta-lactams", "beta lactam", "beta lactams", "b-lactams", "beta-lactam antibiotics"),
    ),
    _umbrella(
        "opioids",
        "opioids (all)",
        ("opioid_phenanthrenes", "opioid_phenylpiperidines", "opioid_diphenylheptanes", "opioid_other"),
        OPIOID_CLASSES,
        ("opioid", "opioids", "opiate", "opiates", "narcotic", "narcotics", "opioid analgesics"),
    ),
]

ALLERGY_CLASSES: MappingProxyType[str, AllergyClass] = MappingProxyType({c.key: c for c in [*_CLASSES, *_UMBRELLAS]})
CLASS_ALIASES: MappingProxyType[str, str] = MappingProxyType(
    {alias: c.key for c in ALLERGY_CLASSES.values() for alias in c.aliases}
)

_PEN_CEPH = (
    "Low cross-reactivity (about 1-2%; higher when the side chains are the same, as amoxicillin or ampicillin "
    "with cephalexin, cefadroxil or cefaclor). A warning, not a block: ask what the reaction was; after "
    "anaphylaxis or a severe skin reaction do not give without the prescriber or an allergist."
)
_OPIOID_CROSS = (
    "Opioid of a different chemical class: cross-sensitivity is unlikely (switching class is the usual advice), "
    "but not impossible. Most opioid 'allergies' are histamine-release side effects; ask what happened."
)

CROSS_SENSITIVITIES: tuple[CrossSensitivity, ...] = (
    CrossSensitivity(
        "penicillins~cephalosporins",
        "class:penicillins",
        "class:cephalosporins",
        "moderate",
        "Cephalosporin with a penicillin allergy (or the reverse): " + _PEN_CEPH,
        PRACTICE_PARAMETER,
        (label("Keflex", "cephalexin", "5 Warnings (cross-hypersensitivity with penicillins)"),),
    ),
    CrossSensitivity(
        "penicillins~carbapenems",
        "class:penicillins",
        "class:carbapenems",
        "minor",
        "Carbapenem with a penicillin allergy (or the reverse): cross-reactivity under 1%; the 2022 practice "
        "parameter allows a carbapenem without testing. Ask what the reaction was.",
        PRACTICE_PARAMETER,
        (label("Merrem", "meropenem", "5 Warnings (other beta-lactams)"),),
    ),
    CrossSensitivity(
        "cephalosporins~carbapenems",
        "class:cephalosporins",
        "class:carbapenems",
        "minor",
        "Carbapenem with a cephalosporin allergy (or the reverse): cross-reactivity is rare (under 1%).",
        PRACTICE_PARAMETER,
    ),
    CrossSensitivity(
        "ceftazidime~aztreonam",
        "ceftazidime",
        "aztreonam",
        "moderate",
        "Aztreonam and ceftazidime share the same side chain: cross-reactivity is possible, unlike aztreonam with "
        "other beta-lactams.",
        PRACTICE_PARAMETER,
    ),
    CrossSensitivity(
        "sulfa~celecoxib",
        "class:sulfonamide_antibiotics",
        "celecoxib",
        "minor",
        "Celecoxib with a sulfonamide-antibiotic ('sulfa') allergy: the Celebrex label still lists allergic-type "
        "reactions to sulfonamides as a contraindication, but studies find no cross-reactivity (the 2022 practice "
        "parameter: no or weak evidence). Ask what the reaction was; avoid after a severe skin reaction or "
        "anaphylaxis.",
        label("Celebrex", "celecoxib", "4 Contraindications (allergic-type reactions to sulfonamides)"),
        (PRACTICE_PARAMETER, STROM_2003),
        both_ways=False,
    ),
    CrossSensitivity(
        "sulfa~nonantibiotic",
        "class:sulfonamide_antibiotics",
        "class:sulfonamide_nonantibiotics",
        "minor",
        "Non-antibiotic sulfonamide with a sulfonamide-antibiotic ('sulfa') allergy: no cross-reactivity; "
        "patients with a sulfa-antibiotic allergy react more to penicillins than to these, so the excess risk "
        "is a tendency to allergy, not the sulfonamide group (Strom 2003). Some labels still carry a warning.",
        STROM_2003,
        (PRACTICE_PARAMETER,),
        both_ways=False,
    ),
    CrossSensitivity(
        "ace~arb",
        "class:ace_inhibitors",
        "class:arbs",
        "moderate",
        "ARB after angioedema with an ACE inhibitor: angioedema can recur (uncommon; about 2-10% in the "
        "meta-analysis). Confirm the prescriber knows; counsel the patient to stop and seek care for any swelling.",
        HAYMORE_2008,
        both_ways=False,
    ),
    CrossSensitivity(
        "ace~sacubitril",
        "class:ace_inhibitors",
        "sacubitril",
        "major",
        "Sacubitril/valsartan after angioedema with an ACE inhibitor: the Entresto label contraindicates it.",
        label("Entresto", "sacubitril and valsartan", "4 Contraindications (history of angioedema with ACEi or ARB)"),
        both_ways=False,
    ),
    CrossSensitivity(
        "arb~sacubitril",
        "class:arbs",
        "sacubitril",
        "major",
        "Sacubitril/valsartan after angioedema with an ARB: the Entresto label contraindicates it.",
        label("Entresto", "sacubitril and valsartan", "4 Contraindications (history of angioedema with ACEi or ARB)"),
        both_ways=False,
    ),
    *(
        CrossSensitivity(
            f"{a}~{b}", f"class:{a}", f"class:{b}", "minor", _OPIOID_CROSS, OPIOID_CLASSES, (OPIOID_PSEUDOALLERGY,)
        )
        for i, a in enumerate(
            ("opioid_phenanthrenes", "opioid_phenylpiperidines", "opioid_diphenylheptanes", "opioid_other")
        )
        for b in ("opioid_phenanthrenes", "opioid_phenylpiperidines", "opioid_diphenylheptanes", "opioid_other")[
            i + 1 :
        ]
    ),
)

# Allergens that are not drug ingredients: the check cannot clear a product of them (excipients, latex in
# a device), so they are listed as not checked, never passed silently.
NON_DRUG_ALLERGENS = frozenset(
    """latex rubber peanut peanuts tree nuts nuts egg eggs shellfish seafood fish iodine soy soya milk dairy
    lactose gluten wheat gelatin sulfite sulfites tartrazine dye dyes food dye adhesive tape nickel bee bees
    wasp stings pollen dust mold mould cats dogs contrast""".split()
) | frozenset(
    {
        "tree nuts",
        "food dye",
        "adhesive tape",
        "bee stings",
        "iodinated contrast",
        "contrast dye",
        "x-ray dye",
        "seasonal",
    }
)
# "No known allergies" recorded explicitly: nothing to check (the record keeps it apart from "not asked").
NO_KNOWN_ALLERGIES = frozenset({"nka", "nkda", "none", "no known allergies", "no known drug allergies", "no allergies"})
