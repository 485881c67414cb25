"""Drug information for the assistant: what a medicine is used for, common side effects and key warnings.

Each entry is a short paraphrase, in our own words, of the current US FDA label (public domain), cited by
label section with a DailyMed link; nothing is copied from MedlinePlus, Lexicomp or other licensed text.
The entries deliberately give no doses: dosing depends on the patient and the product, so the assistant
points to the label's dosage section and to a pharmacist instead (see safety.py).

Names are read through `backend.drugs.matcher.resolve` (brands and synonyms to the generic), so "Tylenol"
finds acetaminophen. `lookup()` is the one entry point: the retrieval slice (chromadb over full label
text) replaces `CuratedDrugInfo` behind the `DrugInfoSource` protocol without touching the callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from backend.drugs.matcher import DrugMatch, resolve
from backend.interactions.knowledge import Source, dailymed

RX_SECTIONS = "Indications and Usage; Warnings and Precautions; Adverse Reactions"
OTC_SECTIONS = "Drug Facts: Uses; Warnings"


@dataclass(frozen=True)
class DrugInfo:
    generic: str  # lower case, as the matcher names it
    brands: tuple[str, ...]
    used_for: str
    side_effects: str
    warnings: str
    otc: bool = False  # cited as a Drug Facts label rather than prescribing information

    @property
    def source(self) -> Source:
        sections = OTC_SECTIONS if self.otc else RX_SECTIONS
        brand = f"{self.brands[0]} ({self.generic})" if self.brands else self.generic
        return Source(f"FDA label: {brand}, {sections}", dailymed(self.generic))

    @property
    def dosage_source(self) -> Source:
        section = "Drug Facts: Directions" if self.otc else "2 Dosage and Administration"
        return Source(f"FDA label: {self.generic}, {section}", dailymed(self.generic))


def _rx(generic: str, brands: str, used_for: str, side_effects: str, warnings: str) -> DrugInfo:
    return DrugInfo(generic, tuple(b for b in brands.split(", ") if b), used_for, side_effects, warnings)


def _otc(generic: str, brands: str, used_for: str, side_effects: str, warnings: str) -> DrugInfo:
    return DrugInfo(generic, tuple(b for b in brands.split(", ") if b), used_for, side_effects, warnings, otc=True)


DRUG_INFO: tuple[DrugInfo, ...] = (
    _otc(
        "acetaminophen",
        "Tylenol",
        "relieves minor aches and pains and reduces fever",
        "uncommon at label doses; rarely serious skin reactions",
        "severe liver damage is possible above the label's daily maximum, with 3+ alcoholic drinks a day, or "
        "when taken with other products that contain acetaminophen",
    ),
    _otc(
        "ibuprofen",
        "Advil, Motrin",
        "relieves minor aches and pains (headache, muscle, menstrual, dental) and reduces fever",
        "stomach upset, heartburn, nausea",
        "an NSAID: risk of stomach bleeding (higher over 60, with ulcers, blood thinners, steroids or alcohol) "
        "and of heart attack or stroke; ask a doctor first with heart, kidney or blood-pressure problems",
    ),
    _otc(
        "naproxen",
        "Aleve",
        "relieves minor aches and pains and reduces fever",
        "stomach upset, heartburn, drowsiness",
        "an NSAID: stomach-bleeding and heart-attack/stroke warnings as for ibuprofen; long-acting, so doses "
        "are further apart",
    ),
    _otc(
        "aspirin",
        "",
        "relieves minor pain and fever; low-dose aspirin is used on a doctor's advice to prevent heart attack "
        "and stroke",
        "stomach upset, heartburn, easy bruising",
        "Reye's syndrome warning: not for children or teenagers recovering from chickenpox or flu-like "
        "symptoms; stomach-bleeding warning; ask before use with blood thinners",
    ),
    _rx(
        "amoxicillin",
        "Amoxil",
        "a penicillin antibiotic for bacterial infections such as ear, nose, throat, urinary tract and skin "
        "infections, and H. pylori eradication in combination",
        "diarrhoea, nausea, rash",
        "do not use with a history of serious allergy to penicillins; serious allergic reactions and "
        "C. difficile diarrhoea can occur; it does not treat viral infections",
    ),
    _rx(
        "azithromycin",
        "Zithromax",
        "a macrolide antibiotic for respiratory, skin and some sexually transmitted bacterial infections",
        "diarrhoea, nausea, abdominal pain",
        "QT prolongation and arrhythmia risk; serious allergic and skin reactions; liver injury; "
        "C. difficile diarrhoea",
    ),
    _rx(
        "cephalexin",
        "Keflex",
        "a cephalosporin antibiotic for respiratory, ear, skin, bone and urinary tract infections",
        "diarrhoea, nausea, indigestion",
        "allergic reactions, including in some people allergic to penicillin; C. difficile diarrhoea",
    ),
    _rx(
        "doxycycline",
        "Vibramycin, Doryx",
        "a tetracycline antibiotic for many bacterial infections, including respiratory infections, acne "
        "(adjunct), Lyme disease and malaria prevention",
        "nausea, sensitivity to sunlight, oesophageal irritation",
        "can permanently discolour teeth when used in late pregnancy or in children under 8; avoid strong "
        "sun; take with plenty of water, upright; antacids and iron reduce absorption",
    ),
    _rx(
        "ciprofloxacin",
        "Cipro",
        "a fluoroquinolone antibiotic for serious bacterial infections where other antibiotics are not suitable",
        "nausea, diarrhoea, abnormal liver tests",
        "boxed warning: tendinitis and tendon rupture, nerve damage, central nervous system effects and "
        "worsening myasthenia gravis; keep for infections without alternatives",
    ),
    _rx(
        "amlodipine",
        "Norvasc",
        "a calcium-channel blocker for high blood pressure and angina",
        "ankle swelling, flushing, tiredness, palpitations",
        "low blood pressure; angina may worsen when starting in severe coronary disease",
    ),
    _rx(
        "lisinopril",
        "Prinivil, Zestril",
        "an ACE inhibitor for high blood pressure, heart failure and after a heart attack",
        "dry cough, dizziness, headache",
        "boxed warning: stop as soon as pregnancy is detected (fetal toxicity); angioedema; high potassium; "
        "low blood pressure",
    ),
    _rx(
        "losartan",
        "Cozaar",
        "an angiotensin-receptor blocker for high blood pressure and diabetic kidney disease",
        "dizziness, upper respiratory infection, back pain",
        "boxed warning: fetal toxicity, stop when pregnancy is detected; high potassium; low blood pressure",
    ),
    _rx(
        "hydrochlorothiazide",
        "Microzide",
        "a thiazide diuretic for high blood pressure and fluid retention",
        "frequent urination, dizziness, low potassium",
        "electrolyte imbalance, raised blood sugar and uric acid, sun sensitivity; eye problems (acute "
        "myopia and angle-closure glaucoma) are rare",
    ),
    _rx(
        "metoprolol",
        "Lopressor, Toprol-XL",
        "a beta-blocker for high blood pressure, angina, heart failure and after a heart attack",
        "tiredness, dizziness, slow heart rate",
        "boxed warning: do not stop suddenly (angina can worsen or a heart attack follow); may mask low "
        "blood sugar; caution in asthma",
    ),
    _rx(
        "atorvastatin",
        "Lipitor",
        "a statin that lowers LDL cholesterol and the risk of heart attack and stroke",
        "joint pain, diarrhoea, cold-like symptoms",
        "muscle damage (myopathy, rarely rhabdomyolysis), more likely with some interacting drugs; liver "
        "enzyme rises; not for use in pregnancy or breastfeeding",
    ),
    _rx(
        "simvastatin",
        "Zocor",
        "a statin that lowers LDL cholesterol and cardiovascular risk",
        "constipation, abdominal pain, headache",
        "muscle damage, with dose limits or contraindications alongside strong CYP3A4 inhibitors and some "
        "heart drugs; avoid large amounts of grapefruit juice",
    ),
    _rx(
        "rosuvastatin",
        "Crestor",
        "a statin that lowers LDL cholesterol and cardiovascular risk",
        "headache, muscle aches, nausea",
        "muscle damage; liver enzyme rises; lower starting doses for some patients (for example Asian "
        "patients and severe kidney impairment)",
    ),
    _rx(
        "metformin",
        "Glucophage",
        "first-line treatment of type 2 diabetes, with diet and exercise",
        "diarrhoea, nausea, upset stomach, metallic taste",
        "boxed warning: lactic acidosis (rare, serious), with risk rising in kidney impairment; may need "
        "pausing around iodinated contrast scans; can lower vitamin B12",
    ),
    _rx(
        "levothyroxine",
        "Synthroid, Levoxyl",
        "thyroid hormone replacement for an underactive thyroid",
        "mostly signs of too much hormone: palpitations, sweating, weight loss, insomnia",
        "boxed warning: not for weight loss; take on an empty stomach apart from calcium, iron and antacids",
    ),
    _rx(
        "omeprazole",
        "Prilosec",
        "a proton-pump inhibitor for heartburn, GERD, stomach and duodenal ulcers and H. pylori eradication",
        "headache, abdominal pain, nausea, diarrhoea",
        "long use is linked to C. difficile diarrhoea, bone fractures, low magnesium and vitamin B12; reduces "
        "the effect of clopidogrel",
    ),
    _rx(
        "pantoprazole",
        "Protonix",
        "a proton-pump inhibitor for erosive oesophagitis, GERD and conditions of excess stomach acid",
        "headache, diarrhoea, nausea",
        "as for other proton-pump inhibitors: C. difficile diarrhoea, fractures, low magnesium with long use",
    ),
    _otc(
        "famotidine",
        "Pepcid",
        "an H2 blocker that relieves and prevents heartburn and acid indigestion",
        "headache, constipation or diarrhoea",
        "ask a doctor first with trouble swallowing, bloody vomit or black stools, or heartburn lasting over "
        "3 months; dose adjustment in kidney disease (prescription use)",
    ),
    _otc(
        "cetirizine",
        "Zyrtec",
        "an antihistamine for hay fever and other allergy symptoms, and hives",
        "drowsiness, dry mouth, tiredness",
        "may cause drowsiness: care when driving; alcohol and sedatives add to it",
    ),
    _otc(
        "loratadine",
        "Claritin",
        "a non-drowsy antihistamine for hay fever and allergy symptoms",
        "headache, dry mouth, tiredness",
        "ask a doctor first with liver or kidney disease",
    ),
    _otc(
        "diphenhydramine",
        "Benadryl",
        "an antihistamine for allergy and cold symptoms; also sold as a night-time sleep aid",
        "marked drowsiness, dry mouth, dizziness, excitability in children",
        "do not use with other diphenhydramine products, including ones applied to the skin; caution in "
        "glaucoma, enlarged prostate and breathing problems; alcohol and sedatives add to drowsiness",
    ),
    _rx(
        "sertraline",
        "Zoloft",
        "an SSRI antidepressant for depression, OCD, panic disorder, PTSD, social anxiety and PMDD",
        "nausea, diarrhoea, sleep problems, sexual side effects",
        "boxed warning: suicidal thoughts in children and young adults; serotonin syndrome with other "
        "serotonergic drugs and never with MAOIs; bleeding risk with NSAIDs or blood thinners",
    ),
    _rx(
        "escitalopram",
        "Lexapro",
        "an SSRI antidepressant for depression and generalised anxiety disorder",
        "nausea, sweating, sleep problems, sexual side effects",
        "boxed warning: suicidal thoughts in children and young adults; serotonin syndrome; bleeding risk; "
        "QT prolongation",
    ),
    _rx(
        "fluoxetine",
        "Prozac",
        "an SSRI antidepressant for depression, OCD, bulimia and panic disorder",
        "nausea, insomnia, anxiety, sexual side effects",
        "boxed warning: suicidal thoughts in children and young adults; serotonin syndrome; long half-life, "
        "so interactions (for example with MAOIs) last weeks after stopping",
    ),
    _rx(
        "gabapentin",
        "Neurontin",
        "an anticonvulsant for partial seizures and nerve pain after shingles",
        "dizziness, drowsiness, swelling of the legs",
        "breathing depression with opioids or other CNS depressants; suicidal thoughts; a severe allergic "
        "reaction (DRESS) is rare; do not stop suddenly in epilepsy",
    ),
    _rx(
        "prednisone",
        "Deltasone",
        "a corticosteroid for inflammatory, allergic, autoimmune and many other conditions",
        "raised blood sugar, fluid retention, mood changes, sleeplessness, increased appetite",
        "weakened immunity and masked infection; do not stop suddenly after long use (adrenal "
        "insufficiency); bone loss and eye problems with long use",
    ),
    _rx(
        "albuterol",
        "Ventolin, ProAir",
        "a short-acting inhaled bronchodilator that relieves and prevents bronchospasm in asthma and COPD",
        "shakiness, nervousness, fast heartbeat, throat irritation",
        "needing it more often means asthma is getting worse; paradoxical bronchospasm; heart effects",
    ),
    _rx(
        "montelukast",
        "Singulair",
        "a leukotriene blocker for asthma prevention and allergic rhinitis",
        "headache, upper respiratory infection, abdominal pain",
        "boxed warning: serious mood and behaviour changes, including suicidal thoughts; for allergic "
        "rhinitis only when other treatments are not suitable; not for acute asthma attacks",
    ),
    _rx(
        "warfarin",
        "Coumadin",
        "an anticoagulant to prevent and treat blood clots (atrial fibrillation, DVT, pulmonary embolism, "
        "heart valves)",
        "bleeding and bruising",
        "boxed warning: major or fatal bleeding; needs regular INR checks; many drug, herbal and diet "
        "interactions (vitamin K intake should stay steady)",
    ),
    _rx(
        "apixaban",
        "Eliquis",
        "an anticoagulant that lowers stroke risk in atrial fibrillation and treats or prevents DVT and "
        "pulmonary embolism",
        "bleeding, bruising",
        "boxed warning: stopping early raises the risk of stroke or clots; spinal or epidural haematoma with "
        "spinal procedures; bleeding with NSAIDs, antiplatelets and strong CYP3A4/P-gp inhibitors",
    ),
    _rx(
        "clopidogrel",
        "Plavix",
        "an antiplatelet that lowers the risk of heart attack and stroke after acute coronary syndrome, "
        "recent stroke or peripheral artery disease",
        "bleeding, bruising",
        "boxed warning: weaker effect in poor CYP2C19 metabolisers; avoid omeprazole and esomeprazole; "
        "stopping early raises cardiovascular risk",
    ),
    _rx(
        "furosemide",
        "Lasix",
        "a loop diuretic for fluid retention (heart failure, liver or kidney disease) and high blood pressure",
        "frequent urination, dizziness, low potassium",
        "boxed warning: a potent diuretic that can cause serious water and electrolyte loss; hearing damage "
        "with high doses or other ototoxic drugs",
    ),
    _rx(
        "tramadol",
        "Ultram",
        "an opioid pain reliever for pain severe enough to need an opioid when other options are inadequate",
        "dizziness, nausea, constipation, headache, drowsiness",
        "boxed warning: addiction and misuse, breathing depression, accidental ingestion, ultra-rapid "
        "metabolism in children, interactions with CYP inhibitors, benzodiazepines and other CNS depressants; "
        "seizures and serotonin syndrome",
    ),
    _otc(
        "loperamide",
        "Imodium",
        "controls symptoms of diarrhoea, including travellers' diarrhoea",
        "constipation, dizziness, abdominal cramps",
        "heart-rhythm problems and death have occurred with doses far above the label; ask a doctor first "
        "with fever or bloody stool",
    ),
    _otc(
        "pseudoephedrine",
        "Sudafed",
        "a decongestant for nasal and sinus congestion from colds and allergies",
        "nervousness, sleeplessness, dizziness",
        "do not use with an MAOI or within 2 weeks of stopping one; ask a doctor first with heart disease, high "
        "blood pressure, thyroid disease, diabetes or an enlarged prostate; sold from behind the counter",
    ),
    _otc(
        "guaifenesin",
        "Mucinex",
        "an expectorant that loosens mucus in chest congestion",
        "nausea, vomiting, dizziness (uncommon)",
        "ask a doctor first for a cough lasting over a week, with fever, rash or persistent headache, or "
        "with lots of mucus from smoking, asthma or emphysema",
    ),
)


@dataclass(frozen=True)
class DrugInfoAnswer:
    info: DrugInfo
    read_as: str  # how the name was read: "Tylenol (acetaminophen)", or a typo's match

    def text(self) -> str:
        i = self.info
        return (
            f"{self.read_as}: {i.used_for[0].upper()}{i.used_for[1:]}. Common side effects: {i.side_effects}. "
            f"Key warnings: {i.warnings}."
        )


class DrugInfoSource(Protocol):
    """Where drug information comes from; the retrieval slice provides another implementation."""

    def lookup(self, name: str) -> DrugInfoAnswer | None: ...


# Generics the dictionary spells another way for some brands: Synthroid resolves to "Thyroxine".
ALSO_KNOWN_AS = {"thyroxine": "levothyroxine"}


class CuratedDrugInfo:
    """The entries above, found by any name the matcher knows for them."""

    def __init__(self, entries: tuple[DrugInfo, ...] = DRUG_INFO) -> None:
        self._by_name = {e.generic: e for e in entries}
        self._by_name.update({alias: self._by_name[g] for alias, g in ALSO_KNOWN_AS.items() if g in self._by_name})

    def lookup(self, name: str) -> DrugInfoAnswer | None:
        match = resolve(name)
        if match is None:
            return None
        entry = self._entry_for(match)
        return DrugInfoAnswer(entry, _read_as(name, match, entry)) if entry else None

    def _entry_for(self, match: DrugMatch) -> DrugInfo | None:
        # The matcher's generic first; then its synonyms, because the dictionary sometimes prefers another
        # name for the same medicine (Synthroid resolves to "Thyroxine", our entry is levothyroxine).
        if match.generic.lower() in self._by_name:
            return self._by_name[match.generic.lower()]
        return next((self._by_name[n] for n in sorted(match.synonyms) if n in self._by_name), None)


def _read_as(typed: str, match: DrugMatch, entry: DrugInfo) -> str:
    name = " ".join(typed.split())
    if not match.exact:
        return f"{entry.generic} (read '{name}' as {match.generic.lower()}, {round(match.similarity * 100)}% match)"
    if name.lower() == entry.generic:
        return entry.generic
    return f"{name} ({entry.generic})"


@lru_cache(maxsize=1)
def default_source() -> DrugInfoSource:
    return CuratedDrugInfo()


def lookup(name: str) -> DrugInfoAnswer | None:
    """Drug information for a medicine name (brand, generic or synonym), or None when we have none."""
    return default_source().lookup(name)


def covered() -> tuple[str, ...]:
    """The generics this source can answer for (shown when a medicine is not covered)."""
    return tuple(sorted(e.generic for e in DRUG_INFO))
