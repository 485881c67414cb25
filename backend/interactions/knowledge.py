"""The interaction knowledge base: classes, rules, combination products and name aliases, each with a source.

Everything here is written by hand from public-domain sources: US FDA prescribing information (labels are
public domain; the DailyMed link searches the current label of that medicine), FDA Drug Safety
Communications, the FDA table of CYP inhibitors and inducers, and the ONC high-priority list
(Phansalkar et al., JAMIA 2012) for which classes must alert. No row is copied from DrugBank, DDInter or
any other non-commercial data set.

Names are the drug dictionary's generic names in lower case (what `backend.drugs.matcher.resolve` returns
for the medicine, lower-cased); `tests/backend/interactions/test_knowledge.py` checks that every name here
is one the dictionary resolves to itself, so a brand typed at the counter reaches the same rule.

A rule side is either a generic name or `class:<key>`. The worst matching rule decides a pair's severity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal
from urllib.parse import quote

Severity = Literal["unknown", "none", "minor", "moderate", "major", "contraindicated"]
# Ordered from harmless to never-together; `unknown` is not on the scale (it means "we could not check").
SEVERITY_SCALE: tuple[Severity, ...] = ("none", "minor", "moderate", "major", "contraindicated")
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITY_SCALE)}


@dataclass(frozen=True)
class Source:
    title: str
    url: str

    def cite(self) -> str:
        return f"{self.title} <{self.url}>" if self.url else self.title


@dataclass(frozen=True)
class DrugClass:
    key: str
    name: str
    members: MappingProxyType[str, Source]  # generic -> why it belongs to the class


@dataclass(frozen=True)
class Rule:
    id: str
    left: str  # generic or "class:<key>"
    right: str
    severity: Severity
    summary: str
    mechanism: str
    management: str
    source: Source
    also: tuple[Source, ...] = field(default=())  # further references (e.g. the ONC list the rule implements)


@dataclass(frozen=True)
class Combination:
    ingredients: tuple[str, ...]
    source: Source


def dailymed(query: str) -> str:
    """A DailyMed search for the current US label of a medicine (labels change; set ids are not pinned)."""
    return "https://dailymed.nlm.nih.gov/dailymed/search.cfm?labeltype=all&query=" + quote(query)


def label(brand: str, generic: str, section: str) -> Source:
    return Source(f"FDA label: {brand} ({generic}), {section}", dailymed(generic))


ONC = Source(
    "ONC high-priority DDI list: Phansalkar S et al., High-priority drug-drug interactions for use in electronic "
    "health records, J Am Med Inform Assoc 2012;19(5):735-43",
    "https://doi.org/10.1136/amiajnl-2011-000612",
)
FDA_CYP = Source(
    "FDA: Drug Development and Drug Interactions, Table of Substrates, Inhibitors and Inducers",
    "https://www.fda.gov/drugs/drug-interactions-labeling/"
    "healthcare-professionals-fdas-examples-drugs-interact-cyp-enzymes-and-transporter-systems",
)
FDA_OPIOID_BENZO = Source(
    "FDA Drug Safety Communication (2016-08-31): boxed warning on combined use of opioids and benzodiazepines",
    "https://www.fda.gov/drugs/drug-safety-and-availability/"
    "fda-drug-safety-communication-fda-warns-about-serious-risks-and-death-when-combining-opioid-pain-or",
)
FDA_GABAPENTINOIDS = Source(
    "FDA Drug Safety Communication (2019-12-19): serious breathing difficulties with gabapentin or pregabalin "
    "taken with CNS depressants such as opioids",
    "https://www.fda.gov/drugs/drug-safety-and-availability/"
    "fda-warns-about-serious-breathing-problems-seizure-and-nerve-pain-medicines-gabapentin-neurontin",
)
FDA_METHYLENE_BLUE = Source(
    "FDA Drug Safety Communication (2011-07-26): serotonin syndrome with methylene blue and serotonergic "
    "psychiatric medicines",
    "https://www.fda.gov/drugs/drug-safety-and-availability/"
    "fda-drug-safety-communication-serious-cns-reactions-possible-when-methylene-blue-given-patients-taking",
)


def _members(*rows: tuple[str, Source]) -> MappingProxyType[str, Source]:
    return MappingProxyType(dict(rows))


def _all(source: Source, *names: str) -> list[tuple[str, Source]]:
    return [(name, source) for name in names]


def _labels(section: str, *rows: tuple[str, str]) -> list[tuple[str, Source]]:
    """(generic, brand) rows whose labels all carry the statement in `section`."""
    return [(generic, label(brand, generic, section)) for generic, brand in rows]


_CLASSES = [
    DrugClass(
        "maoi",
        "MAO inhibitors",
        _members(
            *_labels(
                "4 Contraindications (MAO inhibitor)",
                ("phenelzine", "Nardil"),
                ("tranylcypromine", "Parnate"),
                ("isocarboxazid", "Marplan"),
                ("selegiline", "Emsam"),
                ("rasagiline", "Azilect"),
                ("safinamide", "Xadago"),
            ),
            ("procarbazine", label("Matulane", "procarbazine", "Clinical Pharmacology / Precautions (MAO inhibition)")),
        ),
    ),
    DrugClass(
        "ssri",
        "SSRIs",
        _members(
            *_labels(
                "4 Contraindications (MAOIs); 5 Serotonin syndrome",
                ("fluoxetine", "Prozac"),
                ("sertraline", "Zoloft"),
                ("paroxetine", "Paxil"),
                ("citalopram", "Celexa"),
                ("escitalopram", "Lexapro"),
                ("fluvoxamine", "fluvoxamine maleate tablets"),
                ("vilazodone", "Viibryd"),
                ("vortioxetine", "Trintellix"),
            )
        ),
    ),
    DrugClass(
        "snri",
        "SNRIs",
        _members(
            *_labels(
                "4 Contraindications (MAOIs); 5 Serotonin syndrome",
                ("venlafaxine", "Effexor XR"),
                ("desvenlafaxine", "Pristiq"),
                ("duloxetine", "Cymbalta"),
                ("milnacipran", "Savella"),
                ("levomilnacipran", "Fetzima"),
            )
        ),
    ),
    DrugClass(
        "tca",
        "Tricyclic antidepressants",
        _members(
            *_labels(
                "Contraindications (MAO inhibitors)",
                ("amitriptyline", "amitriptyline hydrochloride tablets"),
                ("nortriptyline", "Pamelor"),
                ("imipramine", "Tofranil"),
                ("clomipramine", "Anafranil"),
                ("desipramine", "Norpramin"),
                ("doxepin", "doxepin hydrochloride capsules"),
            )
        ),
    ),
    DrugClass(
        "serotonergic_opioid",
        "Serotonergic opioids and dextromethorphan",
        _members(
            ("meperidine", label("Demerol", "meperidine", "4 Contraindications (MAOIs within 14 days)")),
            (
                "tramadol",
                label("Ultram", "tramadol", "4 Contraindications (MAOIs within 14 days); 5 Serotonin syndrome"),
            ),
            ("tapentadol", label("Nucynta", "tapentadol", "4 Contraindications (MAOIs within 14 days)")),
            ("dextromethorphan", label("Nardil", "phenelzine", "Contraindications (dextromethorphan)")),
        ),
    ),
    DrugClass(
        "triptan_mao",
        "Triptans cleared by MAO-A",
        _members(
            ("sumatriptan", label("Imitrex", "sumatriptan", "4 Contraindications (MAO-A inhibitors)")),
            ("rizatriptan", label("Maxalt", "rizatriptan", "4 Contraindications (MAO inhibitors)")),
            ("zolmitriptan", label("Zomig", "zolmitriptan", "4 Contraindications (MAO-A inhibitors)")),
        ),
    ),
    DrugClass(
        "triptan",
        "Triptans (5-HT1B/1D agonists)",
        _members(
            *_labels(
                "5 Serotonin syndrome (with SSRIs/SNRIs)",
                ("sumatriptan", "Imitrex"),
                ("rizatriptan", "Maxalt"),
                ("zolmitriptan", "Zomig"),
                ("naratriptan", "Amerge"),
                ("almotriptan", "almotriptan tablets"),
                ("frovatriptan", "Frova"),
                ("eletriptan", "Relpax"),
            )
        ),
    ),
    DrugClass(
        "sympathomimetic",
        "Amphetamines, stimulants and sympathomimetic decongestants",
        _members(
            *_labels(
                "4 Contraindications (MAOIs within 14 days)",
                ("amphetamine", "Adderall"),
                ("dextroamphetamine", "Dexedrine"),
                ("lisdexamfetamine", "Vyvanse"),
                ("methamphetamine", "Desoxyn"),
                ("methylphenidate", "Ritalin"),
                ("dexmethylphenidate", "Focalin"),
                ("phentermine", "Adipex-P"),
                ("atomoxetine", "Strattera"),
            ),
            *_labels(
                "Contraindications (sympathomimetics incl. pseudoephedrine, phenylephrine, ephedrine)",
                ("pseudoephedrine", "Nardil"),
                ("phenylephrine", "Nardil"),
                ("ephedrine", "Nardil"),
            ),
        ),
    ),
    DrugClass(
        "strong_cyp3a4_inhibitor",
        "Strong CYP3A4 inhibitors",
        _members(
            *_all(
                FDA_CYP,
                "ketoconazole",
                "itraconazole",
                "posaconazole",
                "voriconazole",
                "clarithromycin",
                "telithromycin",
                "ritonavir",
                "cobicistat",
                "nefazodone",
                "nelfinavir",
                "saquinavir",
                "indinavir",
                "lopinavir",
            ),
        ),
    ),
    DrugClass(
        "protease_inhibitor",
        "HIV / COVID-19 protease inhibitors",
        _members(
            ("atazanavir", label("Reyataz", "atazanavir", "4 Contraindications")),
            ("darunavir", label("Prezista", "darunavir", "4 Contraindications")),
            ("lopinavir", label("Kaletra", "lopinavir and ritonavir", "4 Contraindications")),
            ("ritonavir", label("Norvir", "ritonavir", "4 Contraindications")),
            ("nirmatrelvir", label("Paxlovid", "nirmatrelvir and ritonavir", "4 Contraindications")),
            ("saquinavir", label("Invirase", "saquinavir", "4 Contraindications")),
            ("indinavir", label("Crixivan", "indinavir", "4 Contraindications")),
            ("nelfinavir", label("Viracept", "nelfinavir", "4 Contraindications")),
            ("tipranavir", label("Aptivus", "tipranavir", "4 Contraindications")),
        ),
    ),
    DrugClass(
        "strong_cyp3a4_inducer",
        "Strong CYP3A4 inducers",
        _members(*_all(FDA_CYP, "rifampin", "carbamazepine", "phenytoin", "st. john's wort")),
    ),
    DrugClass(
        "statin_cyp3a4",
        "Statins cleared by CYP3A4 (simvastatin, lovastatin)",
        _members(
            ("simvastatin", label("Zocor", "simvastatin", "4 Contraindications")),
            ("lovastatin", label("Altoprev", "lovastatin", "4 Contraindications")),
        ),
    ),
    DrugClass(
        "pde5_inhibitor",
        "PDE5 inhibitors",
        _members(
            ("sildenafil", label("Viagra", "sildenafil", "4 Contraindications")),
            ("tadalafil", label("Cialis", "tadalafil", "4 Contraindications")),
            ("vardenafil", label("Levitra", "vardenafil", "4 Contraindications")),
            ("avanafil", label("Stendra", "avanafil", "4 Contraindications")),
        ),
    ),
    DrugClass(
        "nitrate",
        "Organic nitrates and nitric oxide donors",
        _members(
            *_all(
                label("Viagra", "sildenafil", "4 Contraindications (nitrates in any form)"),
                "nitroglycerin",
                "isosorbide mononitrate",
                "isosorbide dinitrate",
                "amyl nitrite",
            )
        ),
    ),
    DrugClass(
        "alpha_blocker",
        "Alpha-1 blockers",
        _members(
            *_all(
                label("Viagra", "sildenafil", "5 Warnings (alpha-blockers); 7 Drug Interactions"),
                "doxazosin",
                "terazosin",
                "prazosin",
                "tamsulosin",
                "alfuzosin",
                "silodosin",
            )
        ),
    ),
    DrugClass(
        "qt_high_risk",
        "Drugs with a known risk of QT prolongation / torsades de pointes",
        _members(
            ("amiodarone", label("Pacerone", "amiodarone", "Warnings (QT prolongation, torsade de pointes)")),
            ("dronedarone", label("Multaq", "dronedarone", "4 Contraindications (QTc); 5 Warnings")),
            ("sotalol", label("Betapace", "sotalol", "Boxed warning (QT prolongation)")),
            ("dofetilide", label("Tikosyn", "dofetilide", "Boxed warning; 4 Contraindications")),
            ("ibutilide", label("Corvert", "ibutilide", "Boxed warning (polymorphic VT)")),
            ("quinidine", label("quinidine sulfate tablets", "quinidine", "Warnings (QT prolongation)")),
            ("procainamide", label("procainamide injection", "procainamide", "Warnings (QT prolongation)")),
            ("disopyramide", label("Norpace", "disopyramide", "Warnings (QT prolongation)")),
            ("thioridazine", label("thioridazine tablets", "thioridazine", "Boxed warning; Contraindications")),
            ("pimozide", label("Orap", "pimozide", "Contraindications (QT prolongation)")),
            ("haloperidol", label("Haldol", "haloperidol", "Warnings (cardiovascular effects, QT)")),
            ("droperidol", label("Inapsine", "droperidol", "Boxed warning (QT prolongation)")),
            ("ziprasidone", label("Geodon", "ziprasidone", "4 Contraindications (QT prolongation)")),
            ("methadone", label("Dolophine", "methadone", "Boxed warning (QT prolongation)")),
            ("citalopram", label("Celexa", "citalopram", "5 Warnings (QT prolongation)")),
            ("erythromycin", label("Ery-Tab", "erythromycin", "Warnings (QT prolongation)")),
            ("clarithromycin", label("Biaxin", "clarithromycin", "5 Warnings (QT prolongation)")),
            ("moxifloxacin", label("Avelox", "moxifloxacin", "5 Warnings (QT prolongation)")),
            ("levofloxacin", label("Levaquin", "levofloxacin", "5 Warnings (QT prolongation)")),
            ("chloroquine", label("chloroquine phosphate tablets", "chloroquine", "Warnings (QT prolongation)")),
            ("hydroxychloroquine", label("Plaquenil", "hydroxychloroquine", "5 Warnings (cardiomyopathy, QT)")),
            ("arsenic trioxide", label("Trisenox", "arsenic trioxide", "Boxed warning (QT prolongation)")),
            ("ondansetron", label("Zofran", "ondansetron", "5 Warnings (QT prolongation)")),
        ),
    ),
    DrugClass(
        "ergot",
        "Ergot alkaloids",
        _members(
            ("ergotamine", label("Cafergot", "ergotamine and caffeine", "Boxed warning; Contraindications")),
            ("dihydroergotamine", label("D.H.E. 45", "dihydroergotamine", "Boxed warning; 4 Contraindications")),
            ("methylergonovine", label("Methergine", "methylergonovine", "Warnings (CYP3A4 inhibitors)")),
        ),
    ),
    DrugClass(
        "opioid",
        "Opioid analgesics and antitussives",
        _members(
            *_labels(
                "Boxed warning (benzodiazepines and other CNS depressants)",
                ("oxycodone", "OxyContin"),
                ("hydrocodone", "Hysingla ER"),
                ("morphine", "MS Contin"),
                ("hydromorphone", "Dilaudid"),
                ("codeine", "codeine sulfate tablets"),
                ("oxymorphone", "oxymorphone hydrochloride tablets"),
                ("fentanyl", "Duragesic"),
                ("methadone", "Dolophine"),
                ("tramadol", "Ultram"),
                ("tapentadol", "Nucynta"),
                ("meperidine", "Demerol"),
                ("buprenorphine", "Butrans"),
            )
        ),
    ),
    DrugClass(
        "benzodiazepine",
        "Benzodiazepines",
        _members(
            *_labels(
                "Boxed warning (concomitant opioids)",
                ("alprazolam", "Xanax"),
                ("lorazepam", "Ativan"),
                ("diazepam", "Valium"),
                ("clonazepam", "Klonopin"),
                ("temazepam", "Restoril"),
                ("midazolam", "midazolam injection"),
                ("chlordiazepoxide", "chlordiazepoxide capsules"),
                ("triazolam", "Halcion"),
                ("oxazepam", "oxazepam capsules"),
                ("clobazam", "Onfi"),
            )
        ),
    ),
    DrugClass(
        "sedative_other",
        "Other CNS depressants (Z-drugs, carisoprodol)",
        _members(
            *_labels(
                "Warnings (CNS depressants, including opioids)",
                ("zolpidem", "Ambien"),
                ("eszopiclone", "Lunesta"),
                ("zaleplon", "Sonata"),
                ("carisoprodol", "Soma"),
            )
        ),
    ),
    DrugClass("gabapentinoid", "Gabapentinoids", _members(*_all(FDA_GABAPENTINOIDS, "gabapentin", "pregabalin"))),
    DrugClass(
        "nsaid",
        "NSAIDs",
        _members(
            *_all(
                label("Coumadin", "warfarin", "7 Drug Interactions (NSAIDs increase bleeding risk)"),
                "ibuprofen",
                "naproxen",
                "diclofenac",
                "meloxicam",
                "celecoxib",
                "indomethacin",
                "ketorolac",
                "ketoprofen",
                "piroxicam",
                "etodolac",
                "nabumetone",
            )
        ),
    ),
    DrugClass(
        "azole_macrolide_for_warfarin",
        "Azole antifungals, macrolides, metronidazole and amiodarone (raise INR)",
        _members(
            *_all(
                label("Coumadin", "warfarin", "7 Drug Interactions (CYP2C9/1A2/3A4 inhibitors)"),
                "fluconazole",
                "miconazole",
                "voriconazole",
                "ketoconazole",
                "itraconazole",
                "clarithromycin",
                "erythromycin",
                "metronidazole",
                "amiodarone",
                "sulfamethoxazole",
            )
        ),
    ),
    DrugClass(
        "doac_3a4",
        "Direct oral anticoagulants cleared by CYP3A4 and P-gp",
        _members(
            ("apixaban", label("Eliquis", "apixaban", "7 Drug Interactions")),
            ("rivaroxaban", label("Xarelto", "rivaroxaban", "7 Drug Interactions")),
        ),
    ),
    DrugClass(
        "ace_inhibitor",
        "ACE inhibitors",
        _members(
            *_labels(
                "7 Drug Interactions (potassium, NSAIDs, lithium, dual RAS blockade)",
                ("lisinopril", "Zestril"),
                ("enalapril", "Vasotec"),
                ("ramipril", "Altace"),
                ("captopril", "captopril tablets"),
                ("benazepril", "Lotensin"),
                ("quinapril", "Accupril"),
                ("perindopril", "perindopril erbumine tablets"),
                ("fosinopril", "fosinopril sodium tablets"),
            )
        ),
    ),
    DrugClass(
        "arb",
        "Angiotensin II receptor blockers",
        _members(
            *_labels(
                "7 Drug Interactions (potassium, NSAIDs, lithium, dual RAS blockade)",
                ("losartan", "Cozaar"),
                ("valsartan", "Diovan"),
                ("irbesartan", "Avapro"),
                ("candesartan", "Atacand"),
                ("olmesartan", "Benicar"),
                ("telmisartan", "Micardis"),
            )
        ),
    ),
    DrugClass(
        "potassium_sparing_strict",
        "Potassium-sparing diuretics contraindicated with potassium",
        _members(
            ("amiloride", label("amiloride hydrochloride tablets", "amiloride", "Contraindications (potassium)")),
            ("triamterene", label("Dyrenium", "triamterene", "Contraindications (potassium supplements)")),
            ("eplerenone", label("Inspra", "eplerenone", "4 Contraindications (hypertension: potassium)")),
        ),
    ),
    DrugClass(
        "potassium",
        "Potassium supplements",
        _members(
            *_all(
                label("Aldactone", "spironolactone", "7 Drug Interactions (potassium supplements)"),
                "potassium chloride",
                "potassium citrate",
                "potassium bicarbonate",
                "potassium gluconate",
            )
        ),
    ),
    DrugClass(
        "thiazide",
        "Thiazide and thiazide-like diuretics",
        _members(
            *_all(
                label("Lithobid", "lithium", "7 Drug Interactions (diuretics)"),
                "hydrochlorothiazide",
                "chlorthalidone",
                "indapamide",
                "metolazone",
                "chlorothiazide",
            )
        ),
    ),
    DrugClass(
        "ppi_cyp2c19",
        "Omeprazole and esomeprazole (CYP2C19 inhibitors)",
        _members(
            *_all(
                label("Plavix", "clopidogrel", "7 Drug Interactions (omeprazole, esomeprazole)"),
                "omeprazole",
                "esomeprazole",
            )
        ),
    ),
    DrugClass(
        "ppi",
        "Proton pump inhibitors",
        _members(
            *_all(
                label("Reyataz", "atazanavir", "7 Drug Interactions (proton pump inhibitors)"),
                "omeprazole",
                "esomeprazole",
                "lansoprazole",
                "dexlansoprazole",
                "pantoprazole",
                "rabeprazole",
            )
        ),
    ),
    DrugClass(
        "thiopurine",
        "Thiopurines",
        _members(
            ("azathioprine", label("Imuran", "azathioprine", "Drug Interactions (allopurinol, febuxostat)")),
            ("mercaptopurine", label("Purixan", "mercaptopurine", "7 Drug Interactions (allopurinol)")),
        ),
    ),
    DrugClass(
        "cyp1a2_strong",
        "Strong CYP1A2 inhibitors",
        _members(*_all(FDA_CYP, "ciprofloxacin", "fluvoxamine")),
    ),
    DrugClass(
        "cyp2d6_inhibitor_thioridazine",
        "CYP2D6 inhibitors and beta-blockers named in the thioridazine label",
        _members(
            *_all(
                label("thioridazine tablets", "thioridazine", "Contraindications"),
                "fluoxetine",
                "paroxetine",
                "fluvoxamine",
                "propranolol",
                "pindolol",
            )
        ),
    ),
    DrugClass(
        "ssri_pimozide",
        "SSRIs whose labels contraindicate pimozide",
        _members(
            ("sertraline", label("Zoloft", "sertraline", "4 Contraindications (pimozide)")),
            ("citalopram", label("Celexa", "citalopram", "4 Contraindications (pimozide)")),
            ("escitalopram", label("Lexapro", "escitalopram", "4 Contraindications (pimozide)")),
            ("paroxetine", label("Paxil", "paroxetine", "4 Contraindications (pimozide)")),
            ("fluoxetine", label("Prozac", "fluoxetine", "4 Contraindications (pimozide)")),
            ("fluvoxamine", label("fluvoxamine maleate tablets", "fluvoxamine", "4 Contraindications (pimozide)")),
        ),
    ),
    DrugClass(
        "polyvalent_cation",
        "Antacids and mineral supplements with polyvalent cations",
        _members(
            *_all(
                label("Cipro", "ciprofloxacin", "2 Dosage (with multivalent cations); 7 Drug Interactions"),
                "calcium carbonate",
                "ferrous sulfate",
                "magnesium hydroxide",
                "aluminum hydroxide",
                "zinc sulfate",
            )
        ),
    ),
    DrugClass(
        "fluoroquinolone",
        "Fluoroquinolones",
        _members(
            ("ciprofloxacin", label("Cipro", "ciprofloxacin", "7 Drug Interactions (multivalent cations)")),
            ("levofloxacin", label("Levaquin", "levofloxacin", "7 Drug Interactions (multivalent cations)")),
            ("moxifloxacin", label("Avelox", "moxifloxacin", "7 Drug Interactions (multivalent cations)")),
        ),
    ),
]
CLASSES: MappingProxyType[str, DrugClass] = MappingProxyType({c.key: c for c in _CLASSES})

_SEROTONERGIC = ("class:ssri", "class:snri", "class:tca", "class:serotonergic_opioid")


def _rules() -> list[Rule]:
    rules: list[Rule] = []

    def add(rule_id: str, left: str, right: str, severity: Severity, summary: str, mechanism: str, management: str,
            source: Source, *also: Source) -> None:  # fmt: skip
        rules.append(Rule(rule_id, left, right, severity, summary, mechanism, management, source, tuple(also)))

    # --- MAO inhibitors (ONC high priority) ---
    for side in _SEROTONERGIC:
        add(
            f"maoi+{side[6:]}",
            "class:maoi",
            side,
            "contraindicated",
            "MAO inhibitor with a serotonergic drug: risk of serotonin syndrome (can be fatal).",
            "MAO inhibition plus serotonin reuptake inhibition or release: serotonin accumulates.",
            "Do not combine. Allow 14 days after stopping an MAOI (5 weeks after fluoxetine) before starting "
            "the other.",
            label("Nardil", "phenelzine", "Contraindications"),
            ONC,
        )
    add(
        "maoi+sympathomimetic",
        "class:maoi",
        "class:sympathomimetic",
        "contraindicated",
        "MAO inhibitor with an amphetamine, stimulant or decongestant: hypertensive crisis.",
        "MAO inhibition prevents breakdown of the noradrenaline these drugs release.",
        "Do not combine, including within 14 days of stopping the MAOI; choose a non-sympathomimetic decongestant.",
        label("Adderall", "amphetamine", "4 Contraindications"),
        ONC,
    )
    add(
        "maoi+triptan",
        "class:maoi",
        "class:triptan_mao",
        "contraindicated",
        "MAO inhibitor with sumatriptan, rizatriptan or zolmitriptan: triptan levels rise several-fold.",
        "These triptans are cleared by MAO-A.",
        "Do not combine or use within 2 weeks of an MAOI; naratriptan, eletriptan or frovatriptan are not MAO-cleared.",
        label("Imitrex", "sumatriptan", "4 Contraindications"),
        ONC,
    )
    add(
        "maoi+maoi",
        "class:maoi",
        "class:maoi",
        "contraindicated",
        "Two MAO inhibitors (for example tranylcypromine with procarbazine or selegiline): hypertensive crisis.",
        "Additive MAO inhibition.",
        "Do not combine; allow a washout of at least 14 days.",
        label("Parnate", "tranylcypromine", "4 Contraindications (other MAOIs)"),
        ONC,
    )
    add(
        "maoi+bupropion",
        "class:maoi",
        "bupropion",
        "contraindicated",
        "MAO inhibitor with bupropion: risk of hypertensive reactions.",
        "Bupropion inhibits noradrenaline and dopamine reuptake.",
        "Do not combine; allow 14 days between them.",
        label("Wellbutrin", "bupropion", "4 Contraindications"),
    )
    # --- linezolid and methylene blue act as MAO inhibitors ---
    for side in _SEROTONERGIC:
        add(
            f"linezolid+{side[6:]}",
            "linezolid",
            side,
            "major",
            "Linezolid with a serotonergic drug: serotonin syndrome has been reported.",
            "Linezolid is a reversible non-selective MAO inhibitor.",
            "Avoid unless essential; if given, stop the serotonergic drug or monitor closely for serotonin toxicity.",
            label("Zyvox", "linezolid", "5 Warnings (serotonin syndrome)"),
        )
        add(
            f"methylene_blue+{side[6:]}",
            "methylene blue",
            side,
            "major",
            "Methylene blue with a serotonergic drug: serotonin syndrome.",
            "Methylene blue is a potent reversible MAO-A inhibitor.",
            "Avoid; if methylene blue is urgent, stop the serotonergic drug and monitor for serotonin toxicity.",
            FDA_METHYLENE_BLUE,
        )
    add(
        "linezolid+sympathomimetic",
        "linezolid",
        "class:sympathomimetic",
        "moderate",
        "Linezolid with a sympathomimetic or decongestant: blood pressure can rise.",
        "Weak MAO inhibition by linezolid potentiates pressor responses.",
        "Start the sympathomimetic at a low dose and monitor blood pressure.",
        label("Zyvox", "linezolid", "7 Drug Interactions (adrenergic agents)"),
    )
    # --- serotonergic combinations ---
    for left in ("class:ssri", "class:snri"):
        add(
            f"{left[6:]}+triptan",
            left,
            "class:triptan",
            "moderate",
            "Triptan with an SSRI/SNRI: serotonin syndrome has been reported.",
            "Additive serotonergic effects.",
            "Usually used together; tell the patient the symptoms (agitation, fever, tremor) and review if they occur.",
            label("Imitrex", "sumatriptan", "5 Warnings (serotonin syndrome)"),
        )
        add(
            f"{left[6:]}+serotonergic_opioid",
            left,
            "class:serotonergic_opioid",
            "moderate",
            "Serotonergic opioid or dextromethorphan with an SSRI/SNRI: serotonin syndrome; tramadol also lowers "
            "the seizure threshold.",
            "Additive serotonergic effects (and CYP2D6 inhibition by fluoxetine/paroxetine for tramadol).",
            "Use the lowest doses and watch for serotonin toxicity; consider a non-serotonergic analgesic.",
            label("Ultram", "tramadol", "5 Warnings (serotonin syndrome)"),
        )
    # --- CYP3A4: statins, ergots, colchicine, pimozide, irinotecan, triazolam, fentanyl, DOACs ---
    add(
        "statin+strong_3a4",
        "class:statin_cyp3a4",
        "class:strong_cyp3a4_inhibitor",
        "contraindicated",
        "Simvastatin or lovastatin with a strong CYP3A4 inhibitor: risk of myopathy and rhabdomyolysis.",
        "CYP3A4 inhibition raises simvastatin/lovastatin exposure many-fold.",
        "Do not combine; pause the statin during a short course (e.g. clarithromycin) or use pravastatin/rosuvastatin.",
        label("Zocor", "simvastatin", "4 Contraindications"),
        ONC,
    )
    add(
        "statin+gemfibrozil",
        "class:statin_cyp3a4",
        "gemfibrozil",
        "contraindicated",
        "Simvastatin or lovastatin with gemfibrozil: risk of myopathy and rhabdomyolysis.",
        "Gemfibrozil inhibits statin glucuronidation and uptake.",
        "Do not combine; if a fibrate is needed, fenofibrate carries less risk.",
        label("Zocor", "simvastatin", "4 Contraindications"),
    )
    for other in ("cyclosporine", "danazol"):
        add(
            f"statin+{other}",
            "class:statin_cyp3a4",
            other,
            "contraindicated",
            f"Simvastatin or lovastatin with {other}: risk of myopathy and rhabdomyolysis.",
            "Raised statin exposure (CYP3A4 and OATP1B1 inhibition).",
            "Do not combine; choose another statin.",
            label("Zocor", "simvastatin", "4 Contraindications"),
        )
    for other, cap in (("verapamil", 10), ("diltiazem", 10), ("dronedarone", 10), ("amiodarone", 20),
                       ("amlodipine", 20), ("ranolazine", 20)):  # fmt: skip
        add(
            f"simvastatin+{other}",
            "simvastatin",
            other,
            "moderate",
            f"Simvastatin with {other}: higher simvastatin exposure and myopathy risk; dose is capped.",
            "Moderate CYP3A4 inhibition raises simvastatin levels.",
            f"Do not exceed simvastatin {cap} mg daily with {other}.",
            label("Zocor", "simvastatin", "2 Dosage and Administration; 7 Drug Interactions"),
        )
    add(
        "ergot+strong_3a4",
        "class:ergot",
        "class:strong_cyp3a4_inhibitor",
        "contraindicated",
        "Ergot alkaloid with a strong CYP3A4 inhibitor: vasospasm and ischemia of limbs and brain (ergotism).",
        "CYP3A4 inhibition raises ergot alkaloid levels.",
        "Do not combine.",
        label("Cafergot", "ergotamine and caffeine", "Boxed warning; Contraindications"),
        ONC,
    )
    add(
        "colchicine+strong_3a4",
        "colchicine",
        "class:strong_cyp3a4_inhibitor",
        "major",
        "Colchicine with a strong CYP3A4 / P-gp inhibitor: fatal colchicine toxicity has been reported.",
        "CYP3A4 and P-gp inhibition raise colchicine levels.",
        "Contraindicated with renal or hepatic impairment; otherwise reduce the colchicine dose as the label "
        "directs or interrupt it.",
        label("Colcrys", "colchicine", "4 Contraindications; 7 Drug Interactions"),
    )
    add(
        "colchicine+cyclosporine",
        "colchicine",
        "cyclosporine",
        "major",
        "Colchicine with cyclosporine (P-gp inhibitor): colchicine toxicity.",
        "P-gp inhibition raises colchicine levels.",
        "Contraindicated with renal or hepatic impairment; otherwise reduce the colchicine dose.",
        label("Colcrys", "colchicine", "4 Contraindications; 7 Drug Interactions"),
    )
    add(
        "pimozide+strong_3a4",
        "pimozide",
        "class:strong_cyp3a4_inhibitor",
        "contraindicated",
        "Pimozide with a strong CYP3A4 inhibitor: QT prolongation and sudden death.",
        "CYP3A4 inhibition raises pimozide levels.",
        "Do not combine.",
        label("Orap", "pimozide", "Contraindications"),
        ONC,
    )
    add(
        "pimozide+ssri",
        "pimozide",
        "class:ssri_pimozide",
        "contraindicated",
        "Pimozide with this SSRI: raised pimozide levels and QT prolongation.",
        "CYP inhibition (2D6/3A4) and additive QT effects.",
        "Do not combine.",
        label("Zoloft", "sertraline", "4 Contraindications (pimozide)"),
    )
    add(
        "thioridazine+cyp2d6",
        "thioridazine",
        "class:cyp2d6_inhibitor_thioridazine",
        "contraindicated",
        "Thioridazine with fluoxetine, paroxetine, fluvoxamine, propranolol or pindolol: QT prolongation and "
        "sudden death.",
        "Inhibited thioridazine metabolism raises levels of a QT-prolonging drug.",
        "Do not combine.",
        label("thioridazine tablets", "thioridazine", "Boxed warning; Contraindications"),
        ONC,
    )
    for drug, brand in (("thioridazine", "thioridazine tablets"), ("pimozide", "Orap")):
        add(
            f"{drug}+qt",
            drug,
            "class:qt_high_risk",
            "contraindicated",
            f"{drug.capitalize()} with another QT-prolonging drug: torsades de pointes and sudden death.",
            "Additive QT prolongation.",
            "Do not combine.",
            label(brand, drug, "Contraindications (drugs that prolong QTc)"),
            ONC,
        )
    add(
        "qt+qt",
        "class:qt_high_risk",
        "class:qt_high_risk",
        "major",
        "Two drugs with a known risk of QT prolongation: torsades de pointes.",
        "Additive prolongation of cardiac repolarisation.",
        "Avoid the combination; if needed, check baseline ECG, potassium and magnesium and monitor the QTc.",
        ONC,
        label("Tikosyn", "dofetilide", "4 Contraindications"),
    )
    for other in ("verapamil", "trimethoprim", "ketoconazole", "hydrochlorothiazide"):
        add(
            f"dofetilide+{other}",
            "dofetilide",
            other,
            "contraindicated",
            f"Dofetilide with {other}: raised dofetilide levels and torsades de pointes.",
            "Reduced renal elimination or metabolism of dofetilide (or hypokalaemia with thiazides).",
            "Do not combine.",
            label("Tikosyn", "dofetilide", "4 Contraindications"),
        )
    add(
        "irinotecan+strong_3a4",
        "irinotecan",
        "class:strong_cyp3a4_inhibitor",
        "major",
        "Irinotecan with a strong CYP3A4 inhibitor: raised SN-38 exposure, severe neutropenia and diarrhoea.",
        "CYP3A4 inhibition shifts irinotecan metabolism towards SN-38.",
        "Avoid; stop strong CYP3A4 inhibitors at least 1 week before irinotecan.",
        label("Camptosar", "irinotecan", "7 Drug Interactions"),
        ONC,
    )
    add(
        "triazolam+strong_3a4",
        "triazolam",
        "class:strong_cyp3a4_inhibitor",
        "contraindicated",
        "Triazolam with a strong CYP3A4 inhibitor: profound, prolonged sedation.",
        "CYP3A4 inhibition raises triazolam levels many-fold.",
        "Do not combine.",
        label("Halcion", "triazolam", "4 Contraindications"),
    )
    add(
        "fentanyl+strong_3a4",
        "fentanyl",
        "class:strong_cyp3a4_inhibitor",
        "major",
        "Fentanyl with a CYP3A4 inhibitor: raised fentanyl levels and fatal respiratory depression.",
        "CYP3A4 inhibition reduces fentanyl clearance.",
        "Avoid; if unavoidable, monitor closely for sedation and respiratory depression and adjust the dose.",
        label("Duragesic", "fentanyl", "Boxed warning (CYP3A4 interaction)"),
    )
    add(
        "doac+strong_3a4",
        "class:doac_3a4",
        "class:strong_cyp3a4_inhibitor",
        "major",
        "Apixaban or rivaroxaban with a combined strong CYP3A4 and P-gp inhibitor: bleeding risk.",
        "Raised anticoagulant exposure.",
        "Avoid rivaroxaban; reduce apixaban as the label directs (avoid if already on 2.5 mg twice daily).",
        label("Eliquis", "apixaban", "7 Drug Interactions"),
        label("Xarelto", "rivaroxaban", "7 Drug Interactions"),
    )
    add(
        "inducer+protease_inhibitor",
        "class:strong_cyp3a4_inducer",
        "class:protease_inhibitor",
        "contraindicated",
        "Strong CYP3A4 inducer with a protease inhibitor: loss of antiviral effect and resistance.",
        "Enzyme induction lowers protease inhibitor levels.",
        "Do not combine.",
        label("Reyataz", "atazanavir", "4 Contraindications"),
        label("Paxlovid", "nirmatrelvir and ritonavir", "4 Contraindications"),
        ONC,
    )
    add(
        "atazanavir+ppi",
        "atazanavir",
        "class:ppi",
        "major",
        "Atazanavir with a proton pump inhibitor: atazanavir absorption falls, risking treatment failure.",
        "Atazanavir needs gastric acid to dissolve.",
        "Not recommended in treatment-experienced patients; otherwise follow the label's dose and timing limits.",
        label("Reyataz", "atazanavir", "7 Drug Interactions"),
        ONC,
    )
    # --- PDE5 inhibitors ---
    add(
        "pde5+nitrate",
        "class:pde5_inhibitor",
        "class:nitrate",
        "contraindicated",
        "PDE5 inhibitor with a nitrate: severe, possibly fatal hypotension.",
        "Both raise cGMP in vascular smooth muscle.",
        "Do not combine; no nitrate within 24 h of sildenafil or vardenafil (48 h for tadalafil).",
        label("Viagra", "sildenafil", "4 Contraindications"),
    )
    add(
        "pde5+riociguat",
        "class:pde5_inhibitor",
        "riociguat",
        "contraindicated",
        "PDE5 inhibitor with riociguat: symptomatic hypotension.",
        "Both act on the nitric oxide / cGMP pathway.",
        "Do not combine.",
        label("Adempas", "riociguat", "4 Contraindications"),
    )
    add(
        "pde5+alpha_blocker",
        "class:pde5_inhibitor",
        "class:alpha_blocker",
        "moderate",
        "PDE5 inhibitor with an alpha-blocker: symptomatic low blood pressure.",
        "Additive vasodilation.",
        "Stabilise on the alpha-blocker first and start the PDE5 inhibitor at the lowest dose.",
        label("Viagra", "sildenafil", "5 Warnings; 7 Drug Interactions"),
    )
    add(
        "pde5+strong_3a4",
        "class:pde5_inhibitor",
        "class:strong_cyp3a4_inhibitor",
        "major",
        "PDE5 inhibitor with a strong CYP3A4 inhibitor: raised PDE5 inhibitor levels and hypotension.",
        "CYP3A4 inhibition.",
        "Use the lowest dose with the longest interval the label allows, or avoid (e.g. sildenafil for PAH).",
        label("Viagra", "sildenafil", "7 Drug Interactions (ritonavir, CYP3A4 inhibitors)"),
    )
    # --- CYP1A2 ---
    add(
        "tizanidine+cyp1a2",
        "tizanidine",
        "class:cyp1a2_strong",
        "contraindicated",
        "Tizanidine with ciprofloxacin or fluvoxamine: severe hypotension and sedation.",
        "CYP1A2 inhibition raises tizanidine exposure about 10-fold or more.",
        "Do not combine.",
        label("Zanaflex", "tizanidine", "4 Contraindications"),
        ONC,
    )
    add(
        "ramelteon+fluvoxamine",
        "ramelteon",
        "fluvoxamine",
        "contraindicated",
        "Ramelteon with fluvoxamine: ramelteon exposure rises about 190-fold.",
        "Strong CYP1A2 inhibition.",
        "Do not combine.",
        label("Rozerem", "ramelteon", "7 Drug Interactions"),
        ONC,
    )
    add(
        "theophylline+cyp1a2",
        "theophylline",
        "class:cyp1a2_strong",
        "major",
        "Theophylline with ciprofloxacin or fluvoxamine: theophylline toxicity (seizures, arrhythmia).",
        "CYP1A2 inhibition reduces theophylline clearance.",
        "Avoid; if needed, cut the theophylline dose (to a third with fluvoxamine) and monitor levels.",
        label("Cipro", "ciprofloxacin", "5 Warnings (theophylline)"),
        label("fluvoxamine maleate tablets", "fluvoxamine", "Warnings (theophylline)"),
    )
    add(
        "ciprofloxacin+caffeine",
        "ciprofloxacin",
        "caffeine",
        "minor",
        "Ciprofloxacin with caffeine: caffeine effects last longer (jitteriness, insomnia).",
        "CYP1A2 inhibition reduces caffeine clearance.",
        "Limit caffeine during the course.",
        label("Cipro", "ciprofloxacin", "7 Drug Interactions (caffeine)"),
    )
    # --- antithrombotics ---
    add(
        "warfarin+nsaid",
        "warfarin",
        "class:nsaid",
        "major",
        "Warfarin with an NSAID: serious bleeding, especially gastrointestinal.",
        "NSAIDs impair platelet function and injure the gastric mucosa.",
        "Avoid; prefer paracetamol/acetaminophen. If unavoidable, shortest course, gastroprotection, "
        "watch for bleeding.",
        label("Coumadin", "warfarin", "7 Drug Interactions"),
    )
    add(
        "warfarin+aspirin",
        "warfarin",
        "aspirin",
        "major",
        "Warfarin with aspirin: more bleeding.",
        "Additive antiplatelet and anticoagulant effects.",
        "Only when both are intended (e.g. mechanical valve); otherwise avoid.",
        label("Coumadin", "warfarin", "7 Drug Interactions"),
    )
    add(
        "warfarin+inr_raisers",
        "warfarin",
        "class:azole_macrolide_for_warfarin",
        "major",
        "Warfarin with this drug: INR rises, bleeding risk.",
        "Inhibition of warfarin metabolism (CYP2C9, 1A2, 3A4).",
        "Avoid or monitor the INR closely (within 3-5 days) and reduce the warfarin dose as needed.",
        label("Coumadin", "warfarin", "7 Drug Interactions"),
    )
    for left in ("class:ssri", "class:snri"):
        add(
            f"warfarin+{left[6:]}",
            "warfarin",
            left,
            "moderate",
            "Warfarin with an SSRI/SNRI: more bleeding.",
            "Serotonin reuptake inhibition impairs platelet aggregation.",
            "Monitor the INR and for bleeding when starting or stopping.",
            label("Coumadin", "warfarin", "7 Drug Interactions"),
        )
        add(
            f"{left[6:]}+nsaid",
            left,
            "class:nsaid",
            "moderate",
            "SSRI/SNRI with an NSAID: more gastrointestinal bleeding.",
            "Impaired platelet function plus mucosal injury.",
            "Prefer acetaminophen; otherwise consider gastroprotection.",
            label("Zoloft", "sertraline", "5 Warnings (abnormal bleeding)"),
        )
    add(
        "doac+nsaid",
        "class:doac_3a4",
        "class:nsaid",
        "major",
        "Apixaban or rivaroxaban with an NSAID: more bleeding.",
        "Additive effects on haemostasis.",
        "Avoid regular NSAIDs; if needed, shortest course and watch for bleeding.",
        label("Eliquis", "apixaban", "7 Drug Interactions"),
    )
    add(
        "clopidogrel+ppi_2c19",
        "clopidogrel",
        "class:ppi_cyp2c19",
        "major",
        "Clopidogrel with omeprazole or esomeprazole: less antiplatelet effect.",
        "CYP2C19 inhibition reduces formation of clopidogrel's active metabolite.",
        "Avoid; if a PPI is needed use pantoprazole.",
        label("Plavix", "clopidogrel", "5 Warnings; 7 Drug Interactions"),
    )
    add(
        "aspirin+ibuprofen",
        "aspirin",
        "ibuprofen",
        "moderate",
        "Ibuprofen can block the cardioprotective effect of low-dose aspirin.",
        "Competition at platelet COX-1.",
        "Take ibuprofen at least 30 minutes after immediate-release aspirin or more than 8 hours before it.",
        Source(
            "FDA: Information for Healthcare Professionals, concomitant use of ibuprofen and aspirin (2006)",
            "https://www.fda.gov/drugs/postmarket-drug-safety-information-patients-and-providers/"
            "information-healthcare-professionals-concomitant-use-ibuprofen-and-aspirin",
        ),
    )
    # --- renal / potassium / lithium ---
    add(
        "potassium_sparing+potassium",
        "class:potassium_sparing_strict",
        "class:potassium",
        "contraindicated",
        "Amiloride, triamterene or eplerenone with potassium: dangerous hyperkalaemia.",
        "Both raise serum potassium.",
        "Do not combine.",
        label("Inspra", "eplerenone", "4 Contraindications"),
    )
    add(
        "spironolactone+potassium",
        "spironolactone",
        "class:potassium",
        "major",
        "Spironolactone with potassium: hyperkalaemia.",
        "Aldosterone antagonism reduces potassium excretion.",
        "Avoid potassium supplements unless hypokalaemia is proven; monitor potassium.",
        label("Aldactone", "spironolactone", "5 Warnings (hyperkalemia); 7 Drug Interactions"),
    )
    for left in ("class:ace_inhibitor", "class:arb"):
        add(
            f"{left[6:]}+potassium",
            left,
            "class:potassium",
            "moderate",
            "ACE inhibitor or ARB with potassium supplements: hyperkalaemia.",
            "Reduced aldosterone lowers potassium excretion.",
            "Monitor serum potassium.",
            label("Zestril", "lisinopril", "7 Drug Interactions"),
        )
        for k_sparing in ("spironolactone", "class:potassium_sparing_strict"):
            add(
                f"{left[6:]}+{k_sparing.removeprefix('class:')}",
                left,
                k_sparing,
                "moderate",
                "ACE inhibitor or ARB with a potassium-sparing diuretic: hyperkalaemia.",
                "Additive potassium retention.",
                "Monitor serum potassium and renal function.",
                label("Zestril", "lisinopril", "7 Drug Interactions"),
            )
        add(
            f"{left[6:]}+nsaid",
            left,
            "class:nsaid",
            "moderate",
            "ACE inhibitor or ARB with an NSAID: less blood-pressure control and a risk of acute kidney injury.",
            "NSAIDs reduce renal prostaglandins.",
            "Avoid regular use, especially with a diuretic, in the elderly or volume depleted; check renal function.",
            label("Zestril", "lisinopril", "7 Drug Interactions"),
        )
        add(
            f"lithium+{left[6:]}",
            "lithium",
            left,
            "major",
            "Lithium with an ACE inhibitor or ARB: lithium toxicity.",
            "Reduced renal lithium clearance.",
            "Monitor lithium levels closely when starting or changing the dose.",
            label("Lithobid", "lithium", "7 Drug Interactions"),
        )
    add(
        "ace+arb",
        "class:ace_inhibitor",
        "class:arb",
        "moderate",
        "ACE inhibitor with an ARB (dual RAS blockade): hypotension, hyperkalaemia, kidney injury.",
        "Double blockade of the renin-angiotensin system.",
        "Generally avoid; monitor blood pressure, potassium and renal function if combined.",
        label("Zestril", "lisinopril", "5 Warnings (dual blockade of the RAS)"),
    )
    add(
        "lithium+nsaid",
        "lithium",
        "class:nsaid",
        "major",
        "Lithium with an NSAID: lithium levels rise, toxicity.",
        "NSAIDs reduce renal lithium clearance.",
        "Avoid; if needed, check lithium levels within days of starting and after dose changes.",
        label("Lithobid", "lithium", "7 Drug Interactions"),
    )
    add(
        "lithium+thiazide",
        "lithium",
        "class:thiazide",
        "major",
        "Lithium with a thiazide diuretic: lithium toxicity.",
        "Sodium loss increases proximal reabsorption of lithium.",
        "Avoid; if needed, lower the lithium dose and monitor levels closely.",
        label("Lithobid", "lithium", "7 Drug Interactions"),
    )
    # --- antimetabolites ---
    for other in ("trimethoprim", "sulfamethoxazole"):
        add(
            f"methotrexate+{other}",
            "methotrexate",
            other,
            "major",
            f"Methotrexate with {other}: bone marrow suppression.",
            "Additive antifolate effect and reduced methotrexate clearance.",
            "Avoid (even at low weekly doses); if unavoidable, monitor blood counts.",
            label("Trexall", "methotrexate", "7 Drug Interactions"),
            ONC,
        )
    add(
        "methotrexate+nsaid",
        "methotrexate",
        "class:nsaid",
        "moderate",
        "Methotrexate with an NSAID: methotrexate levels and toxicity can rise.",
        "Reduced renal methotrexate clearance.",
        "Usually acceptable at low weekly doses with monitoring; avoid with high-dose methotrexate.",
        label("Trexall", "methotrexate", "7 Drug Interactions"),
    )
    add(
        "allopurinol+thiopurine",
        "allopurinol",
        "class:thiopurine",
        "major",
        "Allopurinol with azathioprine or mercaptopurine: life-threatening bone marrow suppression.",
        "Xanthine oxidase inhibition blocks thiopurine inactivation.",
        "Reduce the thiopurine to a third or a quarter of the usual dose and monitor blood counts.",
        label("Zyloprim", "allopurinol", "Precautions (drug interactions)"),
    )
    add(
        "febuxostat+thiopurine",
        "febuxostat",
        "class:thiopurine",
        "contraindicated",
        "Febuxostat with azathioprine or mercaptopurine: thiopurine toxicity.",
        "Xanthine oxidase inhibition blocks thiopurine inactivation.",
        "Do not combine.",
        label("Uloric", "febuxostat", "4 Contraindications"),
        ONC,
    )
    # --- digoxin ---
    for other in ("amiodarone", "verapamil", "clarithromycin", "dronedarone"):
        add(
            f"digoxin+{other}",
            "digoxin",
            other,
            "major",
            f"Digoxin with {other}: digoxin levels rise, toxicity (nausea, arrhythmia).",
            "P-gp inhibition reduces digoxin elimination.",
            "Measure digoxin levels before starting; reduce the digoxin dose (about 30-50%) and monitor.",
            label("Lanoxin", "digoxin", "7 Drug Interactions"),
        )
    # --- CNS depressants ---
    for right in ("class:benzodiazepine", "class:sedative_other"):
        add(
            f"opioid+{right[6:]}",
            "class:opioid",
            right,
            "major",
            "Opioid with a benzodiazepine or other CNS depressant: profound sedation, respiratory depression, coma "
            "and death.",
            "Additive CNS and respiratory depression.",
            "Avoid; if unavoidable, use the lowest doses for the shortest time, watch breathing, offer naloxone.",
            FDA_OPIOID_BENZO,
            label("OxyContin", "oxycodone", "Boxed warning"),
        )
    add(
        "opioid+gabapentinoid",
        "class:opioid",
        "class:gabapentinoid",
        "moderate",
        "Opioid with gabapentin or pregabalin: respiratory depression.",
        "Additive CNS depression.",
        "Start the gabapentinoid low, monitor for sedation and breathing, especially in the elderly.",
        FDA_GABAPENTINOIDS,
    )
    # --- absorption ---
    add(
        "fluoroquinolone+cation",
        "class:fluoroquinolone",
        "class:polyvalent_cation",
        "moderate",
        "Fluoroquinolone with an antacid, iron, calcium or zinc: the antibiotic may not be absorbed.",
        "Chelation with polyvalent cations.",
        "Take ciprofloxacin 2 hours before or 6 hours after the mineral (see each label for its interval).",
        label("Cipro", "ciprofloxacin", "2 Dosage; 7 Drug Interactions"),
    )
    add(
        "levothyroxine+cation",
        "levothyroxine",
        "class:polyvalent_cation",
        "moderate",
        "Levothyroxine with calcium, iron or antacids: less levothyroxine absorbed.",
        "Binding in the gut.",
        "Take levothyroxine at least 4 hours apart from these products.",
        label("Synthroid", "levothyroxine", "7 Drug Interactions"),
    )
    return rules


RULES: tuple[Rule, ...] = tuple(_rules())

# Brand and combination names the dictionary does not split (or resolves to one ingredient), and the
# dictionary's own combination generics. Keys are lower-case names as typed.
_COMBOS: list[tuple[tuple[str, ...], tuple[str, ...], Source]] = [
    (
        ("percocet", "endocet", "roxicet"),
        ("oxycodone", "acetaminophen"),
        label("Percocet", "oxycodone and acetaminophen", "Description"),
    ),
    (
        ("vicodin", "norco", "lortab", "lorcet"),
        ("hydrocodone", "acetaminophen"),
        label("Norco", "hydrocodone bitartrate and acetaminophen", "Description"),
    ),
    (
        ("tylenol with codeine", "tylenol #3", "tylenol 3", "tylenol-codeine", "co-codamol"),
        ("codeine", "acetaminophen"),
        label("Tylenol with Codeine", "acetaminophen and codeine", "Description"),
    ),
    (("ultracet",), ("tramadol", "acetaminophen"), label("Ultracet", "tramadol and acetaminophen", "Description")),
    (
        (
            "bactrim",
            "bactrim ds",
            "septra",
            "septra ds",
            "co-trimoxazole",
            "cotrimoxazole",
            "trimethoprim/sulfamethoxazole",
            "smx-tmp",
            "tmp-smx",
        ),
        ("sulfamethoxazole", "trimethoprim"),
        label("Bactrim", "sulfamethoxazole and trimethoprim", "Description"),
    ),
    (
        ("augmentin", "co-amoxiclav", "amoxicillin-clavulanate", "amoxiclav"),
        ("amoxicillin", "clavulanic acid"),
        label("Augmentin", "amoxicillin and clavulanate potassium", "Description"),
    ),
    (("paxlovid",), ("nirmatrelvir", "ritonavir"), label("Paxlovid", "nirmatrelvir and ritonavir", "Description")),
    (("kaletra",), ("lopinavir", "ritonavir"), label("Kaletra", "lopinavir and ritonavir", "Description")),
    (("vytorin",), ("ezetimibe", "simvastatin"), label("Vytorin", "ezetimibe and simvastatin", "Description")),
    (("caduet",), ("amlodipine", "atorvastatin"), label("Caduet", "amlodipine and atorvastatin", "Description")),
    (
        ("zestoretic",),
        ("lisinopril", "hydrochlorothiazide"),
        label("Zestoretic", "lisinopril and hydrochlorothiazide", "Description"),
    ),
    (
        ("hyzaar",),
        ("losartan", "hydrochlorothiazide"),
        label("Hyzaar", "losartan and hydrochlorothiazide", "Description"),
    ),
    (
        ("aldactazide",),
        ("spironolactone", "hydrochlorothiazide"),
        label("Aldactazide", "spironolactone and hydrochlorothiazide", "Description"),
    ),
    (
        ("dyazide", "maxzide"),
        ("triamterene", "hydrochlorothiazide"),
        label("Dyazide", "triamterene and hydrochlorothiazide", "Description"),
    ),
    (("treximet",), ("sumatriptan", "naproxen"), label("Treximet", "sumatriptan and naproxen", "Description")),
    (("symbyax",), ("olanzapine", "fluoxetine"), label("Symbyax", "olanzapine and fluoxetine", "Description")),
    (
        ("claritin-d", "claritin d"),
        ("loratadine", "pseudoephedrine"),
        label("Claritin-D", "loratadine and pseudoephedrine", "Drug Facts"),
    ),
    (
        ("allegra-d", "allegra d"),
        ("fexofenadine", "pseudoephedrine"),
        label("Allegra-D", "fexofenadine and pseudoephedrine", "Drug Facts"),
    ),
    (
        ("zyrtec-d", "zyrtec d"),
        ("cetirizine", "pseudoephedrine"),
        label("Zyrtec-D", "cetirizine and pseudoephedrine", "Drug Facts"),
    ),
    (
        ("excedrin",),
        ("acetaminophen", "aspirin", "caffeine"),
        label("Excedrin Extra Strength", "acetaminophen, aspirin and caffeine", "Drug Facts"),
    ),
    (("cafergot",), ("ergotamine", "caffeine"), label("Cafergot", "ergotamine tartrate and caffeine", "Description")),
    (
        ("nuedexta",),
        ("dextromethorphan", "quinidine"),
        label("Nuedexta", "dextromethorphan and quinidine", "Description"),
    ),
    (
        ("stribild", "genvoya"),
        ("elvitegravir", "cobicistat", "emtricitabine", "tenofovir"),
        label("Genvoya", "elvitegravir, cobicistat, emtricitabine, tenofovir alafenamide", "Description"),
    ),
    (
        ("robitussin dm",),
        ("dextromethorphan", "guaifenesin"),
        label("Robitussin DM", "dextromethorphan and guaifenesin", "Drug Facts"),
    ),
]
COMBINATIONS: MappingProxyType[str, Combination] = MappingProxyType(
    {name: Combination(ingredients, source) for names, ingredients, source in _COMBOS for name in names}
)

# Names (typed, or a generic the dictionary returns) that mean one of our generics: salts, forms and
# spellings the dictionary keeps apart, and names it cannot resolve at all.
ALIASES: MappingProxyType[str, str] = MappingProxyType(
    {
        "nitroglycerin sublingual": "nitroglycerin",
        "glyceryl trinitrate": "nitroglycerin",
        "gtn": "nitroglycerin",
        "st john's wort": "st. john's wort",
        "st. john's wort": "st. john's wort",
        "st johns wort": "st. john's wort",
        "saint john's wort": "st. john's wort",
        "hypericum": "st. john's wort",
        "hypericum perforatum": "st. john's wort",
        "lithium carbonate": "lithium",
        "lithium citrate": "lithium",
        "clavulanate": "clavulanic acid",
        "paracetamol": "acetaminophen",
        "methylthioninium chloride": "methylene blue",
    }
)
