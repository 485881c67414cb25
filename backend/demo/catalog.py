"""The demo chain's catalog: about 300 medicines a US community pharmacy stocks, with how they sell.

Every generic name is one the offline drug dictionary (backend/drugs, the drug-named-entity-recognition
package) resolves to itself, so search, the interaction checker and the assistant recognise every line
(tests/backend/demo/test_catalog.py checks it). A line is one generic at one strength from one maker:
the originator brand (brand_name "Lipitor") or a generic maker (brand_name "Teva"), so the common
generics come from several makers at the same strength, as they do on a real shelf.

How a line sells drives the sales history (backend/demo/history.py):
- demand: A fast (daily), B steady (several a week), C slow (weekly), D intermittent (a few a month);
- season: winter (cold and flu: peaks in January), spring (allergies: peaks in May), summer (travel);
- quantity: a pack is what one sale usually takes (30 tablets, a 21-capsule course, one inhaler).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# generic | strengths (the first is the most prescribed) | form | schedule (otc, rx or a DEA class) |
# therapeutic class | demand | season | price of a generic unit (USD) | units in a pack | originator brand |
# generic makers of the first strength
LINES = """\
Acetaminophen|500 mg,325 mg|tablet|otc|analgesic|A|winter|0.03|100|Tylenol|3
Ibuprofen|200 mg|tablet|otc|nsaid|A|winter|0.04|50|Advil|3
Ibuprofen|800 mg,600 mg|tablet|rx|nsaid|B|-|0.09|30|Motrin|1
Naproxen|220 mg|tablet|otc|nsaid|B|-|0.06|50|Aleve|1
Aspirin|81 mg,325 mg|tablet|otc|antiplatelet|A|-|0.02|120||2
Diclofenac|75 mg,50 mg|tablet|rx|nsaid|B|-|0.12|30|Voltaren|1
Celecoxib|200 mg|capsule|rx|nsaid|C|-|0.45|30|Celebrex|1
Meloxicam|15 mg,7.5 mg|tablet|rx|nsaid|A|-|0.08|30|Mobic|2
Tramadol|50 mg|tablet|CIV|opioid analgesic|B|-|0.25|30|Ultram|1
Oxycodone|5 mg,10 mg|tablet|CII|opioid analgesic|C|-|0.85|30|OxyContin|1
Hydrocodone|10 mg|tablet|CII|opioid analgesic|D|-|1.10|30|Hysingla|0
Morphine|15 mg|tablet|CII|opioid analgesic|D|-|0.80|30|MS Contin|0
Methylphenidate|10 mg,20 mg|tablet|CII|stimulant|C|-|0.75|30|Ritalin|1
Amphetamine|20 mg,10 mg|tablet|CII|stimulant|C|-|1.20|30|Adderall|1
Lisdexamfetamine|30 mg|capsule|CII|stimulant|D|-|9.50|30|Vyvanse|0
Buprenorphine|8 mg|tablet|CIII|opioid dependence|D|-|2.40|30||1
Alprazolam|0.5 mg,1 mg|tablet|CIV|benzodiazepine|B|-|0.12|30|Xanax|1
Lorazepam|1 mg|tablet|CIV|benzodiazepine|C|-|0.14|30|Ativan|1
Diazepam|5 mg|tablet|CIV|benzodiazepine|C|-|0.10|30|Valium|1
Clonazepam|0.5 mg,1 mg|tablet|CIV|benzodiazepine|B|-|0.11|30|Klonopin|1
Zolpidem|10 mg|tablet|CIV|hypnotic|B|-|0.22|30|Ambien|1
Modafinil|200 mg|tablet|CIV|wakefulness agent|D|-|1.90|30|Provigil|0
Pregabalin|75 mg,150 mg|capsule|CV|anticonvulsant|B|-|0.55|60|Lyrica|1
Lacosamide|100 mg|tablet|CV|anticonvulsant|D|-|4.20|60|Vimpat|0
Amoxicillin|500 mg,875 mg|capsule|rx|antibiotic|A|winter|0.14|21|Amoxil|3
Azithromycin|250 mg|tablet|rx|antibiotic|A|winter|0.70|6|Zithromax|2
Cephalexin|500 mg|capsule|rx|antibiotic|B|-|0.20|28||2
Ciprofloxacin|500 mg|tablet|rx|antibiotic|B|-|0.30|14|Cipro|1
Doxycycline|100 mg|capsule|rx|antibiotic|B|-|0.25|20|Vibramycin|1
Metronidazole|500 mg|tablet|rx|antibiotic|B|-|0.18|14|Flagyl|1
Nitrofurantoin|100 mg|capsule|rx|antibiotic|B|-|0.50|14|Macrobid|1
Clindamycin|300 mg|capsule|rx|antibiotic|C|-|0.45|30||1
Cefdinir|300 mg|capsule|rx|antibiotic|C|winter|0.60|20||1
Clarithromycin|500 mg|tablet|rx|antibiotic|C|winter|0.60|14||1
Levofloxacin|500 mg|tablet|rx|antibiotic|C|-|0.75|10||1
Fluconazole|150 mg|tablet|rx|antifungal|B|-|0.90|1|Diflucan|1
Terbinafine|250 mg|tablet|rx|antifungal|D|-|0.40|30|Lamisil|0
Valacyclovir|1 g,500 mg|tablet|rx|antiviral|B|-|0.90|30|Valtrex|1
Acyclovir|400 mg|tablet|rx|antiviral|C|-|0.28|30||1
Oseltamivir|75 mg|capsule|rx|antiviral|C|flu|3.40|10|Tamiflu|1
Atorvastatin|20 mg,10 mg,40 mg|tablet|rx|statin|A|-|0.10|30|Lipitor|3
Simvastatin|20 mg,40 mg|tablet|rx|statin|B|-|0.07|30|Zocor|1
Rosuvastatin|10 mg,20 mg|tablet|rx|statin|A|-|0.18|30|Crestor|2
Pravastatin|40 mg|tablet|rx|statin|C|-|0.14|30||1
Ezetimibe|10 mg|tablet|rx|lipid-lowering|C|-|0.32|30|Zetia|1
Amlodipine|5 mg,10 mg|tablet|rx|calcium channel blocker|A|-|0.05|30|Norvasc|3
Lisinopril|10 mg,20 mg|tablet|rx|ace inhibitor|A|-|0.04|30|Zestril|3
Losartan|50 mg,100 mg|tablet|rx|angiotensin receptor blocker|A|-|0.09|30|Cozaar|2
Valsartan|160 mg|tablet|rx|angiotensin receptor blocker|B|-|0.24|30|Diovan|1
Metoprolol|25 mg,50 mg|tablet|rx|beta blocker|A|-|0.06|30|Lopressor|2
Atenolol|50 mg|tablet|rx|beta blocker|B|-|0.05|30||1
Carvedilol|12.5 mg,25 mg|tablet|rx|beta blocker|B|-|0.08|60|Coreg|1
Hydrochlorothiazide|25 mg|tablet|rx|diuretic|A|-|0.04|30||2
Furosemide|40 mg,20 mg|tablet|rx|diuretic|B|-|0.05|30|Lasix|1
Spironolactone|25 mg|tablet|rx|diuretic|C|-|0.11|30||1
Warfarin|5 mg|tablet|rx|anticoagulant|B|-|0.09|30|Coumadin|1
Apixaban|5 mg|tablet|rx|anticoagulant|A|-|4.70|60|Eliquis|0
Rivaroxaban|20 mg|tablet|rx|anticoagulant|B|-|5.00|30|Xarelto|0
Clopidogrel|75 mg|tablet|rx|antiplatelet|A|-|0.14|30|Plavix|2
Diltiazem|120 mg|capsule|rx|calcium channel blocker|C|-|0.38|30||1
Nitroglycerin|0.4 mg|tablet|rx|antianginal|D|-|0.55|25||1
Digoxin|0.125 mg|tablet|rx|cardiac glycoside|D|-|0.30|30||1
Potassium chloride|10 mEq|tablet|rx|electrolyte|C|-|0.12|30||1
Metformin|500 mg,1000 mg|tablet|rx|antidiabetic|A|-|0.04|60|Glucophage|3
Glipizide|5 mg|tablet|rx|antidiabetic|B|-|0.06|60||1
Sitagliptin|100 mg|tablet|rx|antidiabetic|B|-|4.10|30|Januvia|0
Empagliflozin|10 mg,25 mg|tablet|rx|antidiabetic|B|-|5.50|30|Jardiance|0
Insulin Glargine|100 units/mL|injection|rx|insulin|B|-|62.00|1|Lantus|0
Pioglitazone|30 mg|tablet|rx|antidiabetic|D|-|0.28|30|Actos|0
Levothyroxine|50 mcg,100 mcg,75 mcg|tablet|rx|thyroid hormone|A|-|0.08|30|Levoxyl|2
Omeprazole|20 mg|capsule|otc|proton pump inhibitor|A|-|0.09|28|Prilosec|2
Esomeprazole|40 mg|capsule|rx|proton pump inhibitor|C|-|0.33|30|Nexium|0
Pantoprazole|40 mg|tablet|rx|proton pump inhibitor|A|-|0.11|30|Protonix|2
Famotidine|20 mg|tablet|otc|h2 blocker|B|-|0.06|30|Pepcid|1
Ondansetron|4 mg|tablet|rx|antiemetic|B|-|0.35|20|Zofran|1
Loperamide|2 mg|capsule|otc|antidiarrheal|B|summer|0.12|12|Imodium|1
Bisacodyl|5 mg|tablet|otc|laxative|C|-|0.05|25||1
Polyethylene glycol|17 g|powder|otc|laxative|C|-|0.45|14||1
Docusate|100 mg|capsule|otc|stool softener|C|-|0.05|30||1
Simethicone|125 mg|capsule|otc|antiflatulent|D|-|0.12|20|Gas-X|0
Bismuth Subsalicylate|262 mg|tablet|otc|antidiarrheal|C|summer|0.10|30||1
Calcium Carbonate|500 mg|tablet|otc|antacid|B|-|0.03|96||1
Cetirizine|10 mg|tablet|otc|antihistamine|A|spring|0.06|30|Zyrtec|2
Loratadine|10 mg|tablet|otc|antihistamine|A|spring|0.05|30|Claritin|2
Fexofenadine|180 mg|tablet|otc|antihistamine|B|spring|0.18|30|Allegra|1
Diphenhydramine|25 mg|capsule|otc|antihistamine|B|-|0.04|24|Benadryl|1
Montelukast|10 mg|tablet|rx|leukotriene antagonist|A|spring|0.18|30|Singulair|2
Albuterol|90 mcg|inhaler|rx|bronchodilator|A|winter|22.00|1|Ventolin|1
Fluticasone|50 mcg|nasal spray|otc|corticosteroid|A|spring|13.50|1|Flonase|1
Budesonide|180 mcg|inhaler|rx|corticosteroid|C|-|28.00|1||1
Tiotropium|18 mcg|inhaler|rx|bronchodilator|D|-|95.00|1|Spiriva|0
Prednisone|20 mg,10 mg|tablet|rx|corticosteroid|B|winter|0.08|21||2
Methylprednisolone|4 mg|tablet|rx|corticosteroid|C|-|0.45|21|Medrol|0
Benzonatate|100 mg|capsule|rx|antitussive|B|winter|0.20|30|Tessalon|1
Dextromethorphan|30 mg/5 mL|syrup|otc|antitussive|A|winter|7.50|1|Delsym|1
Guaifenesin|600 mg|tablet|otc|expectorant|A|winter|0.25|20|Mucinex|1
Pseudoephedrine|30 mg|tablet|otc|decongestant|B|winter|0.10|24|Sudafed|1
Phenylephrine|10 mg|tablet|otc|decongestant|C|winter|0.06|36||1
Oxymetazoline|0.05%|nasal spray|otc|decongestant|B|winter|6.50|1|Afrin|1
Hydrocortisone|1%|cream|otc|corticosteroid|C|-|4.90|1||1
Naloxone|4 mg|nasal spray|otc|opioid antagonist|D|-|44.00|1|Narcan|0
Epinephrine|0.3 mg|injection|rx|anaphylaxis|D|spring|145.00|1|EpiPen|1
Sertraline|50 mg,100 mg|tablet|rx|antidepressant|A|-|0.08|30|Zoloft|2
Fluoxetine|20 mg|capsule|rx|antidepressant|A|-|0.07|30|Prozac|2
Citalopram|20 mg|tablet|rx|antidepressant|B|-|0.07|30||1
Escitalopram|10 mg,20 mg|tablet|rx|antidepressant|A|-|0.10|30|Lexapro|2
Bupropion|150 mg|tablet|rx|antidepressant|B|-|0.32|30|Wellbutrin|1
Trazodone|50 mg|tablet|rx|antidepressant|A|-|0.08|30||2
Duloxetine|60 mg|capsule|rx|antidepressant|B|-|0.36|30|Cymbalta|1
Venlafaxine|75 mg|capsule|rx|antidepressant|C|-|0.28|30|Effexor|1
Mirtazapine|15 mg|tablet|rx|antidepressant|C|-|0.22|30||1
Amitriptyline|25 mg|tablet|rx|antidepressant|C|-|0.06|30||1
Quetiapine|25 mg,100 mg|tablet|rx|antipsychotic|B|-|0.26|30|Seroquel|1
Aripiprazole|10 mg|tablet|rx|antipsychotic|C|-|0.85|30|Abilify|1
Risperidone|1 mg|tablet|rx|antipsychotic|C|-|0.18|30||1
Lamotrigine|100 mg|tablet|rx|anticonvulsant|B|-|0.16|60||1
Levetiracetam|500 mg|tablet|rx|anticonvulsant|B|-|0.28|60||1
Gabapentin|300 mg,600 mg|capsule|rx|anticonvulsant|A|-|0.10|90|Neurontin|2
Topiramate|50 mg|tablet|rx|anticonvulsant|C|-|0.18|60|Topamax|1
Buspirone|10 mg|tablet|rx|anxiolytic|C|-|0.12|60||1
Hydroxyzine|25 mg|tablet|rx|antihistamine|B|-|0.09|30||1
Sumatriptan|50 mg|tablet|rx|triptan|C|-|1.10|9|Imitrex|1
Donepezil|10 mg|tablet|rx|cholinesterase inhibitor|C|-|0.22|30|Aricept|1
Cyclobenzaprine|10 mg|tablet|rx|muscle relaxant|B|-|0.09|30|Flexeril|1
Meclizine|25 mg|tablet|otc|antiemetic|D|summer|0.08|30||1
Melatonin|3 mg|tablet|otc|sleep aid|B|winter|0.05|60||1
Doxylamine|25 mg|tablet|otc|sleep aid|C|-|0.09|32|Unisom|0
Tamsulosin|0.4 mg|capsule|rx|alpha blocker|A|-|0.14|30|Flomax|2
Finasteride|5 mg|tablet|rx|5-alpha reductase inhibitor|B|-|0.14|30||1
Sildenafil|50 mg,100 mg|tablet|rx|pde5 inhibitor|B|-|1.40|8|Viagra|1
Tadalafil|5 mg,20 mg|tablet|rx|pde5 inhibitor|C|-|1.70|30|Cialis|1
Oxybutynin|5 mg|tablet|rx|antimuscarinic|C|-|0.14|60|Ditropan|0
Norethindrone|0.35 mg|tablet|rx|contraceptive|B|-|0.40|28||1
Allopurinol|300 mg,100 mg|tablet|rx|xanthine oxidase inhibitor|B|-|0.05|30||1
Colchicine|0.6 mg|tablet|rx|anti-gout|C|-|0.55|30||1
Alendronate|70 mg|tablet|rx|bisphosphonate|C|-|0.48|4||1
Hydroxychloroquine|200 mg|tablet|rx|antimalarial|C|-|0.45|60|Plaquenil|1
Cholecalciferol|1000 IU,2000 IU|capsule|otc|vitamin|A|winter|0.03|100||1
Folic Acid|1 mg|tablet|otc|vitamin|B|-|0.02|100||1
Ferrous sulfate|325 mg|tablet|otc|iron supplement|B|-|0.03|100||1
Cyanocobalamin|1000 mcg|tablet|otc|vitamin|C|-|0.04|100||1
Latanoprost|0.005%|eye drops|rx|glaucoma|B|-|16.00|1|Xalatan|1
Olopatadine|0.2%|eye drops|otc|antihistamine|C|spring|14.00|1|Pataday|0
Mupirocin|2%|ointment|rx|antibiotic|C|-|9.50|1|Bactroban|1
Clotrimazole|1%|cream|otc|antifungal|C|summer|4.20|1|Lotrimin|1
Permethrin|5%|cream|rx|scabicide|D|-|18.00|1||1
Benzoyl Peroxide|5%|gel|otc|acne|C|-|6.50|1||1
Adapalene|0.1%|gel|otc|acne|D|-|12.00|1|Differin|0
Triamcinolone|55 mcg|nasal spray|otc|corticosteroid|C|spring|12.50|1|Nasacort|0
Azelastine|137 mcg|nasal spray|rx|antihistamine|D|spring|16.00|1||1
Lidocaine|5%|patch|otc|local anesthetic|C|-|2.20|10||1
Zinc oxide|20%|ointment|otc|skin protectant|D|-|5.20|1||1
Dimenhydrinate|50 mg|tablet|otc|antiemetic|D|summer|0.10|24||1
Ivermectin|3 mg|tablet|rx|antiparasitic|D|-|2.50|4||1
"""

MAKERS = ("Teva", "Sandoz", "Mylan", "Aurobindo", "Zydus", "Sun Pharma", "Apotex", "Lupin", "Amneal", "Cipla")
OTC_MAKERS = ("Perrigo", "Demo Care", "Major")  # "Demo Care" is the chain's own label
UNITS = {
    "tablet": "tablet",
    "capsule": "capsule",
    "inhaler": "inhaler",
    "nasal spray": "bottle",
    "eye drops": "bottle",
    "syrup": "bottle",
    "cream": "tube",
    "ointment": "tube",
    "gel": "tube",
    "injection": "pen",
    "patch": "patch",
    "powder": "sachet",
}
CHRONIC_CLASSES = {
    "statin",
    "lipid-lowering",
    "calcium channel blocker",
    "ace inhibitor",
    "angiotensin receptor blocker",
    "beta blocker",
    "diuretic",
    "anticoagulant",
    "antiplatelet",
    "antidiabetic",
    "thyroid hormone",
    "antidepressant",
    "antipsychotic",
    "anticonvulsant",
    "alpha blocker",
    "5-alpha reductase inhibitor",
    "contraceptive",
    "xanthine oxidase inhibitor",
    "cardiac glycoside",
    "electrolyte",
    "cholinesterase inhibitor",
}
DEMAND_WEIGHT = {"A": 10.0, "B": 3.5, "C": 1.0, "D": 0.22}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Product:
    """One catalog line and how it sells."""

    generic: str
    brand: str  # the originator brand or the maker
    strength: str
    form: str
    schedule: str  # otc | prescription | controlled
    controlled_class: str | None
    therapeutic_class: str
    demand: str
    season: str
    price: Decimal  # per dispensing unit
    pack: int
    weight: float  # its share of the sales of its demand class
    chronic: bool
    barcode: str

    @property
    def unit(self) -> str:
        return UNITS[self.form]

    def catalog_fields(self) -> dict[str, object]:
        """As the catalog form takes them (backend.inventory.service.catalog_values)."""
        return {
            "generic_name": self.generic,
            "brand_name": self.brand,
            "strength": self.strength,
            "dosage_form": self.form,
            "pack_size": self.pack,
            "dispensing_unit": self.unit,
            "barcode": self.barcode,
            "schedule": self.schedule,
            "controlled_class": self.controlled_class or "",
            "therapeutic_class": self.therapeutic_class,
            "default_sell_price": str(self.price),
            # US: prescription medicines are exempt from sales tax; over-the-counter ones are not.
            "tax_category": "standard" if self.schedule == "otc" else "exempt",
        }


def gtin13(number: int) -> str:
    """A 13-digit GTIN with its check digit."""
    body = f"{number:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _price(value: Decimal) -> Decimal:
    step = CENT if value >= 1 else Decimal("0.0001")
    return value.quantize(step, rounding=ROUND_HALF_UP)


def products(rng: random.Random, *, limit: int | None = None) -> list[Product]:
    """The catalog lines in a fixed order (the same for the same random source)."""
    made: list[Product] = []
    for entry in LINES.splitlines():
        generic, strengths, form, schedule, klass, demand, season, price, pack, brand, makers = entry.split("|")
        scheduled = {"otc": ("otc", None), "rx": ("prescription", None)}.get(schedule, ("controlled", schedule))
        pool = OTC_MAKERS if schedule == "otc" else MAKERS
        for rank, strength in enumerate(strengths.split(",")):
            # The first strength is the common one: several makers. Others: one maker, or the brand alone.
            count = int(makers) if rank == 0 else min(int(makers), 1)
            start = rng.randrange(len(pool))
            names = [pool[(start + i) % len(pool)] for i in range(count)]
            unit = Decimal(price) * (Decimal("1.2") ** rank)
            offers: list[tuple[str, Decimal, float]] = []
            if brand:
                markup = Decimal("1.8") if schedule == "otc" else Decimal(rng.choice(("6", "8", "10")))
                offers.append((brand, unit * markup if count else unit * Decimal("1.3"), 0.25 if count else 1.0))
            for i, maker in enumerate(names):
                offers.append((maker, unit * Decimal(str(round(0.88 + 0.24 * rng.random(), 2))), (1.0, 0.6, 0.4)[i]))
            for name, value, share in offers:
                made.append(
                    Product(
                        generic=generic,
                        brand=name,
                        strength=strength,
                        form=form,
                        schedule=scheduled[0],
                        controlled_class=scheduled[1],
                        therapeutic_class=klass,
                        demand=demand,
                        season=season,
                        price=_price(value),
                        pack=int(pack),
                        weight=DEMAND_WEIGHT[demand] * share * (1.0 if rank == 0 else 0.45),
                        chronic=klass in CHRONIC_CLASSES,
                        # GS1 prefixes 200-299 are numbers a retailer assigns itself: no clash with real packs.
                        # Controlled lines carry an 11-digit NDC instead (labeler 99xxx, unassigned): the
                        # PMP (ASAP) file reports a controlled dispensing by its NDC.
                        barcode=f"{99_000_000_000 + len(made) + 1:011d}"
                        if scheduled[0] == "controlled"
                        else gtin13(290_000_000_000 + len(made) + 1),
                    )
                )
    return made[:limit] if limit else made
