"""Therapeutic classes for duplication: two different ingredients doing the same job.

Membership follows each drug's FDA Established Pharmacologic Class (the class named in the Highlights of
its label; the DailyMed link searches the current label of the class's representative drug), and the
reason duplication matters is cited where a label or guideline says it (NSAIDs with other NSAIDs, dual
renin-angiotensin blockade, two anticoagulants). Curated by hand; no row is copied from a compendium.

Rules the DUR applies (`dur.py`):
- same ingredient is never a duplication here: it is a refill, checked as an early refill;
- a pair is reported once, under the first class (in this order) that holds both: the specific classes
  first, then the umbrellas (SSRI + SNRI, ACE inhibitor + ARB, benzodiazepine + Z-drug);
- aspirin is an NSAID duplication only at analgesic doses (more than 325 mg a dose): low-dose aspirin for
  the heart is an antiplatelet, and the NSAID labels say so ("not a substitute for low-dose aspirin");
  the bleeding and the ibuprofen-blocks-aspirin effects are interactions, reported by the interaction
  checker. With no strength or dose given, the pair is reported as `minor` saying which case it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

from backend.interactions.knowledge import FDA_GABAPENTINOIDS, Severity, Source, label

CDC_2022 = Source(
    "Dowell D, Ragan KR, Jones CM, Baldwin GT, Chou R. CDC Clinical Practice Guideline for Prescribing Opioids "
    "for Pain - United States, 2022. MMWR Recomm Rep 2022;71(No. RR-3):1-95",
    "https://www.cdc.gov/mmwr/volumes/71/rr/rr7103a1.htm",
)


def epc(brand: str, generic: str, klass: str, why: str = "") -> Source:
    """The label that names the class (its Established Pharmacologic Class), and why two are a problem."""
    section = f"Highlights: Established Pharmacologic Class ({klass})"
    return label(brand, generic, f"{section}; {why}" if why else section)


@dataclass(frozen=True)
class TherapeuticClass:
    key: str
    name: str
    members: frozenset[str]
    source: Source
    severity: Severity = "moderate"
    note: str = ""  # what to do, said in the alert
    includes: tuple[str, ...] = ()  # an umbrella: a pair across these classes
    # member -> mg a dose above which it counts (aspirin: 325)
    dose_dependent: MappingProxyType[str, Fraction] = field(default_factory=lambda: MappingProxyType({}))


def _cls(
    key: str,
    name: str,
    members: str,
    source: Source,
    severity: Severity = "moderate",
    note: str = "",
    *,
    dose_dependent: dict[str, Fraction] | None = None,
) -> TherapeuticClass:
    return TherapeuticClass(
        key, name, frozenset(members.split(",")), source, severity, note, (), MappingProxyType(dose_dependent or {})
    )


_SWITCH = "Often a switch: confirm the old one has stopped."

_CLASSES = [
    _cls(
        "ssri",
        "SSRIs",
        "fluoxetine,sertraline,paroxetine,citalopram,escitalopram,fluvoxamine,vilazodone",
        epc("Zoloft", "sertraline", "SSRI", "5 Warnings (serotonin syndrome with other serotonergic drugs)"),
        note="Two SSRIs add serotonin-syndrome risk without added benefit. " + _SWITCH,
    ),
    _cls(
        "snri",
        "SNRIs",
        "venlafaxine,desvenlafaxine,duloxetine,levomilnacipran,milnacipran",
        epc("Cymbalta", "duloxetine", "SNRI", "5 Warnings (serotonin syndrome with other serotonergic drugs)"),
        note="Two SNRIs add serotonin-syndrome risk without added benefit. " + _SWITCH,
    ),
    _cls(
        "tca",
        "tricyclic antidepressants",
        "amitriptyline,nortriptyline,imipramine,desipramine,doxepin,clomipramine,protriptyline,trimipramine",
        epc("Pamelor", "nortriptyline", "tricyclic antidepressant"),
        note="Two tricyclics add anticholinergic and cardiac (QT, arrhythmia) effects. " + _SWITCH,
    ),
    _cls(
        "nsaid",
        "NSAIDs",
        "ibuprofen,naproxen,diclofenac,meloxicam,celecoxib,indomethacin,ketorolac,ketoprofen,piroxicam,etodolac,"
        "nabumetone,oxaprozin,flurbiprofen,sulindac,mefenamic acid,fenoprofen,tolmetin,meclofenamate,diflunisal,"
        "salsalate,aspirin",
        label("Motrin", "ibuprofen", "7 Drug Interactions (NSAIDs and salicylates: concomitant use not recommended)"),
        note="Two NSAIDs raise the risk of GI bleeding and kidney injury with little or no added benefit; use one.",
        dose_dependent={"aspirin": Fraction(325)},
    ),
    _cls(
        "statin",
        "statins",
        "atorvastatin,simvastatin,rosuvastatin,pravastatin,lovastatin,fluvastatin,pitavastatin",
        epc("Lipitor", "atorvastatin", "HMG-CoA reductase inhibitor", "5 Warnings (myopathy, dose-related)"),
        note="Two statins add myopathy risk; there is no reason to combine them. " + _SWITCH,
    ),
    _cls(
        "ace_inhibitor",
        "ACE inhibitors",
        "lisinopril,enalapril,ramipril,captopril,benazepril,quinapril,perindopril,fosinopril,moexipril,trandolapril",
        epc("Zestril", "lisinopril", "angiotensin converting enzyme inhibitor"),
        note="Two ACE inhibitors: hypotension, hyperkalaemia, kidney injury. " + _SWITCH,
    ),
    _cls(
        "arb",
        "angiotensin II receptor blockers",
        "losartan,valsartan,irbesartan,candesartan,olmesartan,telmisartan,azilsartan,eprosartan",
        epc("Cozaar", "losartan", "angiotensin 2 receptor blocker"),
        note="Two ARBs: hypotension, hyperkalaemia, kidney injury. " + _SWITCH,
    ),
    _cls(
        "benzodiazepine",
        "benzodiazepines",
        "alprazolam,lorazepam,diazepam,clonazepam,temazepam,triazolam,chlordiazepoxide,clorazepate,oxazepam,"
        "estazolam,flurazepam,clobazam,midazolam",
        epc("Xanax", "alprazolam", "benzodiazepine", "Boxed warning (abuse, dependence; CNS depression)"),
        note="Two benzodiazepines add sedation, falls and respiratory depression. " + _SWITCH,
    ),
    _cls(
        "z_drug",
        "Z-drug hypnotics",
        "zolpidem,eszopiclone,zaleplon",
        epc("Ambien", "zolpidem", "gamma-aminobutyric acid A agonist", "5 Warnings (CNS depressants)"),
        note="Two hypnotics add next-day impairment and complex sleep behaviours.",
    ),
    _cls(
        "opioid",
        "opioid analgesics",
        "morphine,codeine,hydrocodone,hydromorphone,oxycodone,oxymorphone,fentanyl,methadone,tramadol,tapentadol,"
        "meperidine,levorphanol,buprenorphine,butorphanol,dihydrocodeine",
        CDC_2022,
        note="Two opioids: add the doses (MME) and review; a long-acting plus a short-acting opioid for "
        "breakthrough pain is sometimes intended, two short-acting ones rarely are.",
    ),
    _cls(
        "ppi",
        "proton pump inhibitors",
        "omeprazole,esomeprazole,lansoprazole,dexlansoprazole,pantoprazole,rabeprazole",
        epc("Prilosec", "omeprazole", "proton pump inhibitor"),
        note="Two PPIs add no acid suppression beyond one. " + _SWITCH,
    ),
    _cls(
        "h2_blocker",
        "H2 blockers",
        "famotidine,cimetidine,nizatidine,ranitidine",
        epc("Pepcid", "famotidine", "histamine-2 receptor antagonist"),
        note=_SWITCH,
    ),
    _cls(
        "beta_blocker",
        "beta blockers",
        "metoprolol,atenolol,carvedilol,propranolol,bisoprolol,nadolol,nebivolol,labetalol,pindolol,acebutolol,"
        "timolol,sotalol,betaxolol",
        epc("Lopressor", "metoprolol", "beta adrenergic blocker"),
        note="Two beta blockers: bradycardia, hypotension, heart block. (Timolol eye drops count too.)",
    ),
    _cls(
        "ccb",
        "calcium channel blockers",
        "amlodipine,nifedipine,felodipine,isradipine,nicardipine,nisoldipine,diltiazem,verapamil",
        epc("Norvasc", "amlodipine", "calcium channel blocker"),
        note="Two calcium channel blockers: hypotension and oedema; with diltiazem or verapamil also "
        "bradycardia. Occasionally intended (dihydropyridine plus non-dihydropyridine): confirm.",
    ),
    _cls(
        "sulfonylurea",
        "sulfonylureas",
        "glipizide,glyburide,glimepiride,tolbutamide,chlorpropamide,tolazamide",
        epc("Glucotrol", "glipizide", "sulfonylurea", "5 Warnings (hypoglycaemia)"),
        note="Two sulfonylureas: hypoglycaemia. " + _SWITCH,
    ),
    _cls(
        "anticoagulant",
        "anticoagulants",
        "warfarin,apixaban,rivaroxaban,dabigatran,edoxaban,enoxaparin,dalteparin,fondaparinux,heparin",
        label("Eliquis", "apixaban", "2 Dosage (switching to or from other anticoagulants); 5 Warnings (bleeding)"),
        "major",
        "Two anticoagulants: serious bleeding. Only during a planned switch (the label says when to stop one and "
        "start the other, e.g. warfarin stopped and apixaban started when the INR is below 2).",
    ),
    _cls(
        "p2y12",
        "P2Y12 antiplatelets",
        "clopidogrel,prasugrel,ticagrelor,ticlopidine",
        epc("Plavix", "clopidogrel", "P2Y12 platelet inhibitor", "5 Warnings (bleeding)"),
        note="Two P2Y12 inhibitors: bleeding without added benefit. " + _SWITCH,
    ),
    _cls(
        "thiazide",
        "thiazide diuretics",
        "hydrochlorothiazide,chlorthalidone,indapamide,metolazone,chlorothiazide",
        epc("Microzide", "hydrochlorothiazide", "thiazide diuretic"),
        note="Two thiazides: hyponatraemia, hypokalaemia, dehydration.",
    ),
    _cls(
        "loop_diuretic",
        "loop diuretics",
        "furosemide,bumetanide,torsemide,ethacrynic acid",
        epc("Lasix", "furosemide", "loop diuretic"),
        note="Two loop diuretics: dehydration and electrolyte loss. " + _SWITCH,
    ),
    _cls(
        "antipsychotic",
        "antipsychotics",
        "quetiapine,olanzapine,risperidone,aripiprazole,ziprasidone,lurasidone,paliperidone,clozapine,haloperidol,"
        "chlorpromazine,brexpiprazole,cariprazine,asenapine,iloperidone,fluphenazine,perphenazine",
        epc("Seroquel", "quetiapine", "atypical antipsychotic", "Boxed warning; 5 Warnings (metabolic, QT)"),
        note="Two antipsychotics add metabolic, extrapyramidal and QT effects; sometimes intended during a "
        "cross-taper.",
    ),
    _cls(
        "stimulant",
        "CNS stimulants",
        "amphetamine,dextroamphetamine,lisdexamfetamine,methylphenidate,dexmethylphenidate,methamphetamine",
        epc("Adderall", "amphetamine", "central nervous system stimulant", "Boxed warning (abuse and misuse)"),
        note="Two stimulants: cardiovascular effects and misuse. " + _SWITCH,
    ),
    _cls(
        "bisphosphonate",
        "bisphosphonates",
        "alendronate,risedronate,ibandronate,zoledronic acid",
        epc("Fosamax", "alendronate", "bisphosphonate"),
        note=_SWITCH,
    ),
    _cls(
        "dpp4",
        "DPP-4 inhibitors",
        "sitagliptin,saxagliptin,linagliptin,alogliptin",
        epc("Januvia", "sitagliptin", "dipeptidyl peptidase 4 inhibitor"),
        note=_SWITCH,
    ),
    _cls(
        "glp1",
        "GLP-1 receptor agonists",
        "semaglutide,liraglutide,dulaglutide,exenatide,lixisenatide,tirzepatide",
        label("Wegovy", "semaglutide", "1 Indications: Limitations of Use (not with any other GLP-1 receptor agonist)"),
        note="Two GLP-1 receptor agonists: GI effects, hypoglycaemia with insulin or sulfonylureas. " + _SWITCH,
    ),
    _cls(
        "sglt2",
        "SGLT2 inhibitors",
        "empagliflozin,dapagliflozin,canagliflozin,ertugliflozin",
        epc("Jardiance", "empagliflozin", "sodium-glucose cotransporter 2 inhibitor"),
        note=_SWITCH,
    ),
    _cls(
        "triptan",
        "triptans",
        "sumatriptan,rizatriptan,zolmitriptan,naratriptan,almotriptan,frovatriptan,eletriptan",
        epc(
            "Imitrex",
            "sumatriptan",
            "serotonin 5-HT1B/1D agonist",
            "4 Contraindications (another 5-HT1 agonist within 24 hours)",
        ),
        note="The labels contraindicate two triptans within 24 hours: counsel which one to use and never both "
        "the same day.",
    ),
    _cls(
        "muscle_relaxant",
        "skeletal muscle relaxants",
        "cyclobenzaprine,methocarbamol,tizanidine,baclofen,carisoprodol,metaxalone,orphenadrine,chlorzoxazone",
        epc("Flexeril", "cyclobenzaprine", "muscle relaxant", "5 Warnings (CNS depression)"),
        note="Two muscle relaxants add sedation without added benefit.",
    ),
    _cls(
        "gabapentinoid",
        "gabapentinoids",
        "gabapentin,pregabalin",
        FDA_GABAPENTINOIDS,
        note="Gabapentin with pregabalin: additive sedation and respiratory depression. " + _SWITCH,
    ),
    _cls(
        "antihistamine",
        "non-sedating antihistamines",
        "cetirizine,levocetirizine,loratadine,desloratadine,fexofenadine",
        epc("Zyrtec", "cetirizine", "histamine-1 receptor antagonist"),
        "minor",
        "Two non-sedating antihistamines add little; often one is bought at the counter.",
    ),
    _cls(
        "bladder_antimuscarinic",
        "bladder antimuscarinics",
        "oxybutynin,tolterodine,solifenacin,darifenacin,trospium,fesoterodine",
        epc("Detrol", "tolterodine", "muscarinic antagonist", "5 Warnings (anticholinergic effects)"),
        note="Two antimuscarinics add anticholinergic burden (confusion, retention, constipation).",
    ),
    _cls(
        "alpha1_blocker",
        "alpha-1 blockers",
        "tamsulosin,alfuzosin,silodosin,doxazosin,terazosin,prazosin",
        epc("Flomax", "tamsulosin", "alpha-1 adrenergic antagonist", "5 Warnings (orthostasis, syncope)"),
        note="Two alpha-1 blockers: orthostatic hypotension and falls.",
    ),
    _cls(
        "five_alpha_reductase",
        "5-alpha reductase inhibitors",
        "finasteride,dutasteride",
        epc("Avodart", "dutasteride", "5-alpha reductase inhibitor"),
        note=_SWITCH,
    ),
]


def _umbrella(
    key: str, name: str, includes: tuple[str, ...], source: Source, note: str, *, extra: str = ""
) -> TherapeuticClass:
    members = frozenset().union(*(c.members for c in _CLASSES if c.key in includes))
    if extra:
        members |= frozenset(extra.split(","))
    return TherapeuticClass(key, name, members, source, "moderate", note, includes)


_UMBRELLAS = [
    _umbrella(
        "ssri_snri",
        "serotonergic antidepressants (SSRI/SNRI)",
        ("ssri", "snri"),
        epc("Cymbalta", "duloxetine", "SNRI", "5 Warnings (serotonin syndrome with other serotonergic drugs)"),
        "An SSRI with an SNRI: serotonin-syndrome risk; usually a switch or a cross-taper. " + _SWITCH,
    ),
    _umbrella(
        "ras_blocker",
        "renin-angiotensin system blockers (dual blockade)",
        ("ace_inhibitor", "arb"),
        label("Zestril", "lisinopril", "5 Warnings (dual blockade of the renin-angiotensin system)"),
        "Dual renin-angiotensin blockade (ACE inhibitor, ARB or aliskiren together): hypotension, "
        "hyperkalaemia and kidney injury without added benefit in most patients; generally avoid.",
        extra="aliskiren",
    ),
    _umbrella(
        "sedative_hypnotic",
        "benzodiazepine receptor agonists (benzodiazepines and Z-drugs)",
        ("benzodiazepine", "z_drug"),
        epc("Ambien", "zolpidem", "gamma-aminobutyric acid A agonist", "5 Warnings (CNS depressants)"),
        "A benzodiazepine with a Z-drug: additive sedation, falls and respiratory depression.",
    ),
]

THERAPEUTIC_CLASSES: MappingProxyType[str, TherapeuticClass] = MappingProxyType(
    {c.key: c for c in [*_CLASSES, *_UMBRELLAS]}
)


@dataclass(frozen=True)
class PairRule:
    """A pair that is worse than a class duplication: reported as a duplication with its own severity."""

    id: str
    left: str  # "class:<key>" or a generic
    right: str
    severity: Severity
    summary: str
    source: Source


PAIR_RULES: tuple[PairRule, ...] = (
    PairRule(
        "ace_inhibitor+sacubitril",
        "class:ace_inhibitor",
        "sacubitril",
        "contraindicated",
        "Sacubitril/valsartan with an ACE inhibitor: contraindicated (angioedema). Stop the ACE inhibitor at "
        "least 36 hours before the first dose.",
        label("Entresto", "sacubitril and valsartan", "4 Contraindications; 2 Dosage (36-hour washout)"),
    ),
)
