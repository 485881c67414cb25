"""Synthetic pharmacy chains at scale, for load tests and benchmarks (`pharmacy-saas demo seed --tenants N`).

Each chain gets branches, a placeholder owner (no password: it cannot sign in until a reset), a
catalog of realistic medicines (generic, brand or maker, strength, form, a barcode unique in the
chain), batches with lot, expiry and cost, and a history of stock movements whose sum is exactly
each batch's on-hand, so `pharmacy-saas inventory reconcile` finds nothing to report.

Speed: rows are streamed with COPY on the platform path (`platform_session`, audited once per
transaction) instead of one INSERT each, and `provision_tenant` (argon2, ORM) is skipped. Rows are
written chain by chain and ids inside a chain share a random prefix with a rising counter, so
every index insert of a chain lands in the same few pages. At full scale the CLI also sets aside
the foreign keys and secondary indexes of the bulk tables and rebuilds and re-checks them after
(about 4.5 times faster per movement; `--keep-indexes` keeps them, for a database others use).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from backend.core.errors import Conflict, ValidationFailed
from backend.inventory.service import CONTROLLED_CLASSES
from tenants.provisioning import SLUG_RE
from tenants.session import platform_session

# generic | brand names (the originator first) | strengths | form | schedule | therapeutic class | unit price
GENERICS = """\
Acetaminophen|Tylenol,Panadol|325 mg,500 mg,650 mg|tablet|otc|analgesic|0.04
Ibuprofen|Advil,Motrin,Nurofen|200 mg,400 mg,600 mg|tablet|otc|nsaid|0.05
Naproxen|Aleve,Naprosyn|220 mg,250 mg,500 mg|tablet|otc|nsaid|0.08
Aspirin|Bayer,Ecotrin|81 mg,325 mg|tablet|otc|antiplatelet|0.03
Diclofenac|Voltaren,Cataflam|25 mg,50 mg,75 mg|tablet|prescription|nsaid|0.12
Celecoxib|Celebrex|100 mg,200 mg|capsule|prescription|nsaid|0.45
Meloxicam|Mobic|7.5 mg,15 mg|tablet|prescription|nsaid|0.10
Tramadol|Ultram|50 mg,100 mg|tablet|controlled|opioid|0.30
Oxycodone|OxyContin,Roxicodone|5 mg,10 mg,20 mg|tablet|controlled|opioid|0.90
Hydrocodone|Hysingla,Zohydro|10 mg,20 mg|tablet|controlled|opioid|1.10
Morphine|MS Contin,Kadian|10 mg,15 mg,30 mg|tablet|controlled|opioid|0.85
Codeine|Tylenol with Codeine|15 mg,30 mg|tablet|controlled|opioid|0.40
Amoxicillin|Amoxil,Moxatag|250 mg,500 mg,875 mg|capsule|prescription|antibiotic|0.15
Amoxicillin and Clavulanate|Augmentin|500 mg/125 mg,875 mg/125 mg|tablet|prescription|antibiotic|0.55
Azithromycin|Zithromax|250 mg,500 mg|tablet|prescription|antibiotic|0.70
Clarithromycin|Biaxin|250 mg,500 mg|tablet|prescription|antibiotic|0.60
Cephalexin|Keflex|250 mg,500 mg|capsule|prescription|antibiotic|0.20
Cefuroxime|Ceftin,Zinacef|250 mg,500 mg|tablet|prescription|antibiotic|0.65
Ciprofloxacin|Cipro|250 mg,500 mg,750 mg|tablet|prescription|antibiotic|0.35
Levofloxacin|Levaquin|250 mg,500 mg,750 mg|tablet|prescription|antibiotic|0.80
Doxycycline|Vibramycin,Doryx|50 mg,100 mg|capsule|prescription|antibiotic|0.25
Metronidazole|Flagyl|250 mg,500 mg|tablet|prescription|antibiotic|0.18
Nitrofurantoin|Macrobid,Macrodantin|50 mg,100 mg|capsule|prescription|antibiotic|0.50
Sulfamethoxazole and Trimethoprim|Bactrim,Septra|400 mg/80 mg,800 mg/160 mg|tablet|prescription|antibiotic|0.20
Clindamycin|Cleocin|150 mg,300 mg|capsule|prescription|antibiotic|0.45
Fluconazole|Diflucan|50 mg,150 mg,200 mg|tablet|prescription|antifungal|0.90
Terbinafine|Lamisil|250 mg|tablet|prescription|antifungal|0.40
Acyclovir|Zovirax|200 mg,400 mg,800 mg|tablet|prescription|antiviral|0.30
Valacyclovir|Valtrex|500 mg,1 g|tablet|prescription|antiviral|0.95
Oseltamivir|Tamiflu|30 mg,45 mg,75 mg|capsule|prescription|antiviral|3.50
Atorvastatin|Lipitor|10 mg,20 mg,40 mg,80 mg|tablet|prescription|statin|0.12
Simvastatin|Zocor|10 mg,20 mg,40 mg|tablet|prescription|statin|0.08
Rosuvastatin|Crestor|5 mg,10 mg,20 mg,40 mg|tablet|prescription|statin|0.20
Pravastatin|Pravachol|20 mg,40 mg,80 mg|tablet|prescription|statin|0.15
Ezetimibe|Zetia,Ezetrol|10 mg|tablet|prescription|lipid|0.35
Amlodipine|Norvasc|2.5 mg,5 mg,10 mg|tablet|prescription|calcium channel blocker|0.06
Nifedipine|Procardia,Adalat|30 mg,60 mg,90 mg|tablet|prescription|calcium channel blocker|0.30
Diltiazem|Cardizem|120 mg,180 mg,240 mg|capsule|prescription|calcium channel blocker|0.40
Lisinopril|Zestril,Prinivil|5 mg,10 mg,20 mg,40 mg|tablet|prescription|ace inhibitor|0.05
Enalapril|Vasotec|5 mg,10 mg,20 mg|tablet|prescription|ace inhibitor|0.08
Ramipril|Altace|2.5 mg,5 mg,10 mg|capsule|prescription|ace inhibitor|0.10
Losartan|Cozaar|25 mg,50 mg,100 mg|tablet|prescription|angiotensin receptor blocker|0.10
Valsartan|Diovan|80 mg,160 mg,320 mg|tablet|prescription|angiotensin receptor blocker|0.25
Irbesartan|Avapro|75 mg,150 mg,300 mg|tablet|prescription|angiotensin receptor blocker|0.22
Telmisartan|Micardis|20 mg,40 mg,80 mg|tablet|prescription|angiotensin receptor blocker|0.28
Metoprolol|Lopressor,Toprol-XL|25 mg,50 mg,100 mg|tablet|prescription|beta blocker|0.07
Atenolol|Tenormin|25 mg,50 mg,100 mg|tablet|prescription|beta blocker|0.05
Carvedilol|Coreg|3.125 mg,6.25 mg,12.5 mg,25 mg|tablet|prescription|beta blocker|0.09
Bisoprolol|Zebeta,Concor|2.5 mg,5 mg,10 mg|tablet|prescription|beta blocker|0.08
Propranolol|Inderal|10 mg,40 mg,80 mg|tablet|prescription|beta blocker|0.10
Hydrochlorothiazide|Microzide|12.5 mg,25 mg,50 mg|tablet|prescription|diuretic|0.04
Furosemide|Lasix|20 mg,40 mg,80 mg|tablet|prescription|diuretic|0.05
Spironolactone|Aldactone|25 mg,50 mg,100 mg|tablet|prescription|diuretic|0.12
Chlorthalidone|Thalitone|25 mg,50 mg|tablet|prescription|diuretic|0.20
Warfarin|Coumadin,Jantoven|1 mg,2 mg,5 mg|tablet|prescription|anticoagulant|0.10
Apixaban|Eliquis|2.5 mg,5 mg|tablet|prescription|anticoagulant|4.80
Rivaroxaban|Xarelto|10 mg,15 mg,20 mg|tablet|prescription|anticoagulant|5.10
Clopidogrel|Plavix|75 mg|tablet|prescription|antiplatelet|0.15
Metformin|Glucophage|500 mg,850 mg,1000 mg|tablet|prescription|antidiabetic|0.05
Glipizide|Glucotrol|5 mg,10 mg|tablet|prescription|antidiabetic|0.07
Gliclazide|Diamicron|30 mg,60 mg,80 mg|tablet|prescription|antidiabetic|0.09
Sitagliptin|Januvia|25 mg,50 mg,100 mg|tablet|prescription|antidiabetic|4.20
Empagliflozin|Jardiance|10 mg,25 mg|tablet|prescription|antidiabetic|5.60
Pioglitazone|Actos|15 mg,30 mg,45 mg|tablet|prescription|antidiabetic|0.30
Levothyroxine|Synthroid,Levoxyl,Euthyrox|25 mcg,50 mcg,75 mcg,100 mcg|tablet|prescription|thyroid|0.09
Omeprazole|Prilosec,Losec|10 mg,20 mg,40 mg|capsule|otc|proton pump inhibitor|0.10
Esomeprazole|Nexium|20 mg,40 mg|capsule|otc|proton pump inhibitor|0.35
Pantoprazole|Protonix|20 mg,40 mg|tablet|prescription|proton pump inhibitor|0.12
Lansoprazole|Prevacid|15 mg,30 mg|capsule|otc|proton pump inhibitor|0.25
Famotidine|Pepcid|10 mg,20 mg,40 mg|tablet|otc|h2 blocker|0.06
Ranitidine|Zantac|75 mg,150 mg|tablet|otc|h2 blocker|0.07
Ondansetron|Zofran|4 mg,8 mg|tablet|prescription|antiemetic|0.40
Metoclopramide|Reglan|5 mg,10 mg|tablet|prescription|antiemetic|0.10
Loperamide|Imodium|2 mg|capsule|otc|antidiarrheal|0.12
Bisacodyl|Dulcolax|5 mg|tablet|otc|laxative|0.05
Senna|Senokot|8.6 mg|tablet|otc|laxative|0.04
Cetirizine|Zyrtec,Reactine|5 mg,10 mg|tablet|otc|antihistamine|0.06
Loratadine|Claritin|10 mg|tablet|otc|antihistamine|0.05
Fexofenadine|Allegra,Telfast|60 mg,120 mg,180 mg|tablet|otc|antihistamine|0.15
Diphenhydramine|Benadryl|25 mg,50 mg|capsule|otc|antihistamine|0.04
Montelukast|Singulair|4 mg,5 mg,10 mg|tablet|prescription|leukotriene antagonist|0.20
Salbutamol|Ventolin,ProAir|100 mcg|inhaler|prescription|bronchodilator|0.08
Budesonide|Pulmicort,Rhinocort|100 mcg,200 mcg|inhaler|prescription|corticosteroid|0.18
Fluticasone|Flovent,Flonase|50 mcg,125 mcg,250 mcg|inhaler|prescription|corticosteroid|0.20
Prednisone|Deltasone|5 mg,10 mg,20 mg|tablet|prescription|corticosteroid|0.06
Prednisolone|Orapred,Millipred|5 mg,25 mg|tablet|prescription|corticosteroid|0.09
Dexamethasone|Decadron|0.5 mg,4 mg|tablet|prescription|corticosteroid|0.20
Hydrocortisone|Cortef|5 mg,10 mg,20 mg|tablet|prescription|corticosteroid|0.35
Sertraline|Zoloft|25 mg,50 mg,100 mg|tablet|prescription|antidepressant|0.10
Fluoxetine|Prozac|10 mg,20 mg,40 mg|capsule|prescription|antidepressant|0.09
Citalopram|Celexa,Cipramil|10 mg,20 mg,40 mg|tablet|prescription|antidepressant|0.08
Escitalopram|Lexapro,Cipralex|5 mg,10 mg,20 mg|tablet|prescription|antidepressant|0.12
Paroxetine|Paxil,Seroxat|10 mg,20 mg,30 mg|tablet|prescription|antidepressant|0.14
Venlafaxine|Effexor|37.5 mg,75 mg,150 mg|capsule|prescription|antidepressant|0.30
Duloxetine|Cymbalta|20 mg,30 mg,60 mg|capsule|prescription|antidepressant|0.40
Bupropion|Wellbutrin,Zyban|150 mg,300 mg|tablet|prescription|antidepressant|0.35
Mirtazapine|Remeron|15 mg,30 mg,45 mg|tablet|prescription|antidepressant|0.25
Amitriptyline|Elavil|10 mg,25 mg,50 mg|tablet|prescription|antidepressant|0.07
Trazodone|Desyrel|50 mg,100 mg,150 mg|tablet|prescription|antidepressant|0.10
Quetiapine|Seroquel|25 mg,100 mg,200 mg,300 mg|tablet|prescription|antipsychotic|0.30
Olanzapine|Zyprexa|5 mg,10 mg,20 mg|tablet|prescription|antipsychotic|0.40
Risperidone|Risperdal|0.5 mg,1 mg,2 mg|tablet|prescription|antipsychotic|0.20
Aripiprazole|Abilify|5 mg,10 mg,15 mg|tablet|prescription|antipsychotic|0.90
Lithium Carbonate|Lithobid|300 mg,450 mg|tablet|prescription|mood stabilizer|0.15
Lamotrigine|Lamictal|25 mg,100 mg,200 mg|tablet|prescription|anticonvulsant|0.18
Levetiracetam|Keppra|250 mg,500 mg,1000 mg|tablet|prescription|anticonvulsant|0.30
Valproate|Depakote,Epilim|250 mg,500 mg|tablet|prescription|anticonvulsant|0.35
Carbamazepine|Tegretol|100 mg,200 mg,400 mg|tablet|prescription|anticonvulsant|0.20
Gabapentin|Neurontin|100 mg,300 mg,600 mg|capsule|prescription|anticonvulsant|0.12
Pregabalin|Lyrica|25 mg,75 mg,150 mg|capsule|controlled|anticonvulsant|0.60
Topiramate|Topamax|25 mg,50 mg,100 mg|tablet|prescription|anticonvulsant|0.20
Alprazolam|Xanax|0.25 mg,0.5 mg,1 mg|tablet|controlled|benzodiazepine|0.15
Lorazepam|Ativan|0.5 mg,1 mg,2 mg|tablet|controlled|benzodiazepine|0.14
Diazepam|Valium|2 mg,5 mg,10 mg|tablet|controlled|benzodiazepine|0.10
Clonazepam|Klonopin,Rivotril|0.5 mg,1 mg,2 mg|tablet|controlled|benzodiazepine|0.12
Zolpidem|Ambien,Stilnox|5 mg,10 mg|tablet|controlled|hypnotic|0.25
Methylphenidate|Ritalin,Concerta|5 mg,10 mg,20 mg|tablet|controlled|stimulant|0.80
Donepezil|Aricept|5 mg,10 mg|tablet|prescription|cholinesterase inhibitor|0.25
Sumatriptan|Imitrex|25 mg,50 mg,100 mg|tablet|prescription|triptan|1.20
Tamsulosin|Flomax|0.4 mg|capsule|prescription|alpha blocker|0.15
Finasteride|Proscar,Propecia|1 mg,5 mg|tablet|prescription|5-alpha reductase inhibitor|0.15
Sildenafil|Viagra,Revatio|20 mg,50 mg,100 mg|tablet|prescription|pde5 inhibitor|1.50
Tadalafil|Cialis|5 mg,10 mg,20 mg|tablet|prescription|pde5 inhibitor|1.80
Oxybutynin|Ditropan|5 mg,10 mg|tablet|prescription|antimuscarinic|0.15
Allopurinol|Zyloprim|100 mg,300 mg|tablet|prescription|xanthine oxidase inhibitor|0.06
Colchicine|Colcrys|0.5 mg,0.6 mg|tablet|prescription|anti-gout|0.60
Alendronate|Fosamax|35 mg,70 mg|tablet|prescription|bisphosphonate|0.50
Calcium Carbonate|Tums,Caltrate|500 mg,600 mg,1250 mg|tablet|otc|supplement|0.03
Cholecalciferol|D-Vi-Sol,Vigantol|400 IU,1000 IU,2000 IU|capsule|otc|vitamin|0.04
Folic Acid|Folvite|400 mcg,1 mg,5 mg|tablet|otc|vitamin|0.02
Ferrous Sulfate|Feosol,Slow Fe|200 mg,325 mg|tablet|otc|iron supplement|0.03
Cyanocobalamin|Nascobal|500 mcg,1000 mcg|tablet|otc|vitamin|0.04
Insulin Glargine|Lantus,Basaglar,Toujeo|100 units/mL,300 units/mL|injection|prescription|insulin|25.00
Insulin Aspart|NovoLog,NovoRapid|100 units/mL|injection|prescription|insulin|22.00
Enoxaparin|Lovenox,Clexane|40 mg/0.4 mL,60 mg/0.6 mL|injection|prescription|anticoagulant|9.50
Levonorgestrel and Ethinylestradiol|Microgynon,Alesse|150/30 mcg,100/20 mcg|tablet|prescription|contraceptive|0.30
Estradiol|Estrace,Vagifem|1 mg,2 mg|tablet|prescription|hormone|0.25
Medroxyprogesterone|Provera|2.5 mg,5 mg,10 mg|tablet|prescription|hormone|0.30
Mupirocin|Bactroban|2%|ointment|prescription|topical antibiotic|0.50
Clotrimazole|Canesten,Lotrimin|1%|cream|otc|topical antifungal|0.30
Hydrocortisone Cream|Cortaid|0.5%,1%|cream|otc|topical corticosteroid|0.25
Permethrin|Nix,Lyclear|1%,5%|cream|otc|antiparasitic|0.60
Chlorhexidine|Peridex,Corsodyl|0.12%,0.2%|solution|otc|antiseptic|0.02
Timolol|Timoptic|0.25%,0.5%|eye drops|prescription|glaucoma|0.90
Latanoprost|Xalatan|0.005%|eye drops|prescription|glaucoma|1.60
Xylometazoline|Otrivin|0.05%,0.1%|nasal spray|otc|decongestant|0.20
Pseudoephedrine|Sudafed|30 mg,60 mg|tablet|otc|decongestant|0.08
Guaifenesin|Mucinex,Robitussin|200 mg,600 mg|tablet|otc|expectorant|0.07
Dextromethorphan|Delsym,Robitussin DM|15 mg,30 mg|capsule|otc|antitussive|0.08
Nicotine|Nicorette,NicoDerm|2 mg,4 mg|gum|otc|smoking cessation|0.25
Oral Rehydration Salts|Dioralyte,Pedialyte|sachet|powder|otc|electrolyte|0.40
"""

MAKERS = ("Teva", "Sandoz", "Mylan", "Accord", "Aurobindo", "Zydus", "Sun Pharma", "Apotex", "Cipla", "Lupin")
PACK_SIZES = (28, 30, 56, 100)
UNITS = {
    "tablet": "tablet",
    "capsule": "capsule",
    "inhaler": "dose",
    "injection": "mL",
    "ointment": "g",
    "cream": "g",
    "solution": "mL",
    "eye drops": "mL",
    "nasal spray": "mL",
    "gum": "piece",
    "powder": "sachet",
}
SEEDED_CLASSES = CONTROLLED_CLASSES[:3]  # CII-CIV, spelled as the catalog stores them
SUPPLIERS = ("McKesson", "Cardinal Health", "AmerisourceBergen", "Alliance Healthcare", "Phoenix", "Henry Schein")
CHAIN_WORDS = (
    "Greenleaf",
    "Riverside",
    "Oakwood",
    "Sunrise",
    "Harbour",
    "Meadow",
    "Northgate",
    "Cedar",
    "Lakeside",
    "Summit",
    "Willow",
    "Bayview",
    "Kingsway",
    "Maple",
    "Parkside",
    "Silverline",
)
BRANCH_NAMES = (
    "Main Street",
    "Station Road",
    "Market Square",
    "High Street",
    "Hillside",
    "Old Town",
    "Harbour Front",
    "University",
    "Hospital Road",
    "Westfield",
)
TIME_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Africa/Nairobi",
    "Australia/Sydney",
)
LOT_SUFFIXES = "ABCDEFGHJKLMNPRSTUVWXY"  # one per lot of a medicine in a branch: lots never collide
ADJUST_REASONS = ("damaged pack", "count correction", "broken bottle")


@dataclass(frozen=True)
class ScaleSpec:
    """How much to create. Movements = tenants x medicines x branches x lots x movements_per_batch."""

    tenants: int
    medicines: int = 2000
    branches: int = 2
    lots: int = 1  # batches per medicine per branch
    movements_per_batch: int = 5  # the receipt, then sales, adjustments and returns
    slug_prefix: str = "scale"
    random_seed: int = 2026
    tenants_per_transaction: int = 20


@dataclass
class ScaleResult:
    tenant_ids: list[uuid.UUID] = field(default_factory=list)
    slugs: list[str] = field(default_factory=list)
    branches: int = 0
    medicines: int = 0
    batches: int = 0
    movements: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class _Product:
    """One catalog line shared by every chain (the same pack has the same barcode everywhere)."""

    generic: str
    copy_tail: str  # the COPY columns after the ids, up to the price
    unit_price: float


def _ean13(number: int) -> str:
    body = f"{number:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def catalog(size: int, rng: random.Random) -> list[_Product]:
    """`size` distinct products (generic x strength x brand or maker x pack), in a shuffled order."""
    lines: list[tuple[str, str, float]] = []
    for entry in GENERICS.splitlines():
        generic, brands, strengths, form, schedule, klass, price = entry.split("|")
        unit = UNITS[form]
        for strength in strengths.split(","):
            for brand in (*brands.split(","), *MAKERS):
                for pack in PACK_SIZES if form in ("tablet", "capsule") else (1,):
                    controlled = rng.choice(SEEDED_CLASSES) if schedule == "controlled" else r"\N"
                    tail = f"\t{generic}\t{brand}\t{strength}\t{form}\t{pack}\t{unit}\t{{barcode}}\t{schedule}\t"
                    tail += f"{controlled}\t{klass}\t"
                    lines.append((generic, tail, float(price)))
    if size > len(lines):
        raise ValidationFailed(f"At most {len(lines)} medicines per chain.", field="medicines")
    rng.shuffle(lines)
    # GS1 prefixes 200-299 are for numbers a retailer assigns itself.
    return [
        _Product(generic, tail.replace("{barcode}", _ean13(200_000_000_000 + n)), price)
        for n, (generic, tail, price) in enumerate(lines[:size])
    ]


def _id_head() -> str:
    """A fresh random UUID's first 24 characters (version and variant included); ids append a counter."""
    return str(uuid.uuid4())[:24]


HISTORY_DAYS = 420  # how far back receipts go


class _ChainWriter:
    """Builds one chain's rows as COPY text, ids rising inside the chain.

    This loop produces every movement row, so it avoids per-row function calls: times are whole
    seconds looked up in two precomputed tables (day, time of day), random numbers come from
    `random()` scaled rather than `randint`.
    """

    def __init__(self, spec: ScaleSpec, products: list[_Product], now: datetime) -> None:
        self.spec = spec
        self.products = products
        self.now_epoch = int(now.timestamp())
        self.today = now.date()
        self.first_day = self.now_epoch // 86400 - HISTORY_DAYS - 100
        epoch_day = date(1970, 1, 1)
        self.days = [
            (epoch_day + timedelta(days=d)).isoformat() + " "
            for d in range(self.first_day, self.now_epoch // 86400 + 1)
        ]
        self.clock = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(86400)]

    def timestamp(self, epoch: int) -> str:
        return self.days[epoch // 86400 - self.first_day] + self.clock[epoch % 86400]

    def chain(self, number: int, rng: random.Random) -> dict[str, Any]:
        spec = self.spec
        tenant, owner, membership = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        slug = f"{spec.slug_prefix}-{number:05d}"
        name = f"{rng.choice(CHAIN_WORDS)} Pharmacy {number:05d}"
        zone = rng.choice(TIME_ZONES)
        created = self.timestamp(self.now_epoch - (HISTORY_DAYS + 30) * 86400)
        branch_head, medicine_head, batch_head = _id_head(), _id_head(), _id_head()
        branches = [f"{branch_head}{n:012x}" for n in range(1, spec.branches + 1)]
        rows: dict[str, Any] = {
            "tenant": tenant,
            "slug": slug,
            "tenants": f"{tenant}\t{slug}\t{name}\ttrial\tUSD\t{created}\n",
            "users": f"{owner}\towner@{slug}.example.invalid\tOwner of {name}\t{created}\n",
            "memberships": f"{tenant}\t{membership}\t{owner}\towner\t{created}\n",
            "branches": "".join(
                f"{tenant}\t{branch}\t{_branch_name(i)}\tB{i + 1}\t{i + 1} {BRANCH_NAMES[i % len(BRANCH_NAMES)]}"
                f"\t{zone}\t{rng.choice((0, 5, 8.875, 20))}\t{created}\n"
                for i, branch in enumerate(branches)
            ),
        }
        medicine_lines: list[str] = []
        batch_lines: list[str] = []
        movements: list[str] = []
        add = movements.append
        rand = rng.random
        per_batch, lots = spec.movements_per_batch, spec.lots
        reserve = 12 * (per_batch - 1)  # the most the later movements can take: never below zero
        now_epoch, days, clock, first_day = self.now_epoch, self.days, self.clock, self.first_day
        today = self.today.toordinal()
        batch_number = bill = 0
        for n, product in enumerate(self.products, start=1):
            medicine = f"{medicine_head}{n:012x}"
            price = product.unit_price * (0.85 + 0.4 * rand())
            medicine_lines.append(f"{tenant}\t{medicine}{product.copy_tail}{price:.2f}\n")
            lot_prefix = product.generic[:3].upper()
            for branch in branches:
                for lot in range(lots):
                    batch_number += 1
                    batch = f"{batch_head}{batch_number:012x}"
                    received_days = 3 + int(rand() * (HISTORY_DAYS - 3))
                    at = now_epoch - received_days * 86400 - int(rand() * 86400)
                    received = days[at // 86400 - first_day] + clock[at % 86400]
                    expiry = today - received_days + 150 + int(rand() * 950)
                    expired = expiry < today
                    head = f"{tenant}\t{batch}\t{medicine}\t{branch}\t"
                    quantity = reserve + 20 + int(rand() * 280)
                    add(f"{head}receive\t{quantity}\t\tDEL-{batch_number}\t{received}\n")
                    step = max((now_epoch - at) // per_batch, 1)
                    for k in range(1, per_batch):
                        at += 1 + int(rand() * step)
                        when = days[at // 86400 - first_day] + clock[at % 86400]
                        if expired and k == per_batch - 1:
                            add(f"{head}write_off\t{-quantity}\texpired\t\t{when}\n")
                            quantity = 0
                            continue
                        roll = rand()
                        if roll < 0.86:
                            bill += 1
                            sold = 1 + int(rand() * 12)
                            quantity -= sold
                            add(f"{head}dispense\t{-sold}\t\tBILL-{bill}\t{when}\n")
                        elif roll < 0.96:
                            quantity -= 1
                            add(f"{head}adjust\t-1\t{ADJUST_REASONS[int(roll * 100) % 3]}\t\t{when}\n")
                        else:
                            quantity += 1
                            add(f"{head}customer_return\t1\treturned unopened\t\t{when}\n")
                    batch_lines.append(
                        f"{tenant}\t{batch}\t{medicine}\t{branch}\t"
                        f"{lot_prefix}{10000 + int(rand() * 90000)}{LOT_SUFFIXES[lot]}"
                        f"\t{date.fromordinal(expiry).isoformat()}\t{price * (0.55 + 0.15 * rand()):.4f}"
                        f"\t{SUPPLIERS[batch_number % len(SUPPLIERS)]}\t{received}\t{quantity}\n"
                    )
        rows["medicines"] = "".join(medicine_lines)
        rows["batches"] = "".join(batch_lines)
        rows["stock_movements"] = "".join(movements)
        rows["counts"] = (len(branches), len(medicine_lines), len(batch_lines), len(movements))
        return rows


def _branch_name(i: int) -> str:
    base = BRANCH_NAMES[i % len(BRANCH_NAMES)]
    return base if i < len(BRANCH_NAMES) else f"{base} {i // len(BRANCH_NAMES) + 1}"


# Columns per table, in the order _ChainWriter writes them; the tables' other columns take defaults.
COPY_COLUMNS = {
    "tenants": "id, slug, name, plan, currency, created_at",
    "users": "id, email, full_name, created_at",
    "memberships": "tenant_id, id, user_id, role, created_at",
    "branches": "tenant_id, id, name, code, address, time_zone, default_tax_rate, created_at",
    "medicines": "tenant_id, id, generic_name, brand_name, strength, dosage_form, pack_size, dispensing_unit, "
    "barcode, schedule, controlled_class, therapeutic_class, default_sell_price",
    "batches": "tenant_id, id, medicine_id, branch_id, lot_number, expiry_date, cost_price, supplier_name, "
    "received_at, quantity",
    "stock_movements": "tenant_id, batch_id, medicine_id, branch_id, kind, quantity, reason, reference, occurred_at",
}
# Parents before children (foreign keys are checked row by row during COPY).
LOAD_ORDER = ("tenants", "users", "memberships", "branches", "medicines", "batches", "stock_movements")
ANALYZED_TABLES = ("tenants", "users", "memberships", "branches", "medicines", "batches", "stock_movements")


def validate_spec(spec: ScaleSpec) -> None:
    if spec.tenants < 1 or spec.tenants > 99999:
        raise ValidationFailed("--tenants must be between 1 and 99,999.", field="tenants")
    if spec.medicines < 1:
        raise ValidationFailed("--medicines must be at least 1.", field="medicines")
    if not 1 <= spec.branches <= 50:
        raise ValidationFailed("--branches must be between 1 and 50.", field="branches")
    if not 1 <= spec.lots <= len(LOT_SUFFIXES):
        raise ValidationFailed(f"--lots must be between 1 and {len(LOT_SUFFIXES)}.", field="lots")
    if not 1 <= spec.movements_per_batch <= 200:
        raise ValidationFailed("--movements-per-batch must be between 1 and 200.", field="movements_per_batch")
    if not SLUG_RE.match(f"{spec.slug_prefix}-00001"):
        raise ValidationFailed("--slug-prefix must be lowercase letters, digits or hyphens.", field="slug_prefix")


def seed_scale(
    spec: ScaleSpec,
    *,
    actor: str = "cli",
    progress: Callable[[str], None] | None = None,
    workers: int = 1,
    bulk_window: bool = False,
    analyze: bool = False,
) -> ScaleResult:
    """Create `spec.tenants` synthetic chains with catalog, batches and ledger history; returns what was made.

    Chains are written `tenants_per_transaction` at a time, each transaction one audited platform
    session, so a chain is never half-written. Refuses to run when chains with the slug prefix exist.
    `workers` > 1 loads on that many connections at once (one generates rows while another's COPY
    runs on the server). `bulk_window` lets the owner set aside the foreign keys and secondary
    indexes of the bulk tables during the load and rebuild them afterwards (a dedicated load-test
    database: other writers would go unchecked meanwhile). `analyze` refreshes planner statistics.
    """
    validate_spec(spec)
    say = progress or (lambda _message: None)
    products = catalog(spec.medicines, random.Random(spec.random_seed))
    writer = _ChainWriter(spec, products, datetime.now(UTC))
    result = ScaleResult()
    started = time.perf_counter()
    with platform_session(reason="demo scale seed: check slugs", actor=actor) as session:
        taken = session.execute(
            text("SELECT count(*) FROM tenants WHERE slug LIKE :pattern"),
            {"pattern": f"{spec.slug_prefix}-%"},
        ).scalar_one()
    if taken:
        raise Conflict(
            f"{taken} chains named {spec.slug_prefix}-* exist already; choose another --slug-prefix.",
            field="slug_prefix",
        )
    chunks = [
        range(first, min(first + spec.tenants_per_transaction - 1, spec.tenants) + 1)
        for first in range(1, spec.tenants + 1, spec.tenants_per_transaction)
    ]

    def load_chunk(chunk: range) -> list[dict[str, Any]]:
        done = []
        reason = f"demo scale seed: chains {spec.slug_prefix}-{chunk[0]:05d}..{chunk[-1]:05d}"
        with platform_session(reason=reason, actor=actor) as session:
            driver = session.connection().connection.driver_connection
            with driver.cursor() as cursor:  # type: ignore[union-attr]
                for n in chunk:
                    rows = writer.chain(n, random.Random(f"{spec.random_seed}-{n}"))
                    for table in LOAD_ORDER:
                        with cursor.copy(f"COPY {table} ({COPY_COLUMNS[table]}) FROM STDIN") as copy:
                            copy.write(rows[table])
                    done.append({"tenant": rows["tenant"], "slug": rows["slug"], "counts": rows["counts"]})
        return done

    def tally(chains: list[dict[str, Any]]) -> None:
        for chain in chains:
            result.tenant_ids.append(uuid.UUID(chain["tenant"]))
            result.slugs.append(chain["slug"])
            branches, medicines, batches, movements = chain["counts"]
            result.branches += branches
            result.medicines += medicines
            result.batches += batches
            result.movements += movements
        elapsed = time.perf_counter() - started
        say(
            f"[{elapsed:7.1f} s] chains {len(result.slugs):,}/{spec.tenants:,}  medicines {result.medicines:,}  "
            f"batches {result.batches:,}  movements {result.movements:,} ({result.movements / elapsed:,.0f}/s)"
        )

    window = _BulkLoadWindow(say, started) if bulk_window else None
    if window:
        window.open()
    try:
        if workers <= 1:
            for chunk in chunks:
                tally(load_chunk(chunk))
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for chains in pool.map(load_chunk, chunks):
                    tally(chains)
    finally:
        if window:
            window.close()
    if analyze:
        _analyze(say, started)
    result.seconds = time.perf_counter() - started
    return result


# Set aside during a bulk load: per-row foreign-key checks and index inserts cost more than the
# COPY itself (measured: 45 us a movement with them, 10 us without).
BULK_TABLES = ("batches", "stock_movements")


class _BulkLoadWindow:
    """The owner drops the bulk tables' foreign keys and secondary indexes, and rebuilds them after.

    The definitions are read from the catalog first (so indexes added by later migrations come
    back too) and printed, so an operator can restore them by hand if the process is killed.
    """

    def __init__(self, say: Callable[[str], None], started: float) -> None:
        self.say = say
        self.started = started
        self.indexes: list[tuple[str, str]] = []
        self.foreign_keys: list[tuple[str, str, str]] = []

    def _connection(self):  # type: ignore[no-untyped-def]
        from backend.core.database import owner_engine

        return owner_engine().connect().execution_options(isolation_level="AUTOCOMMIT")

    def open(self) -> None:
        tables = list(BULK_TABLES)
        with self._connection() as connection:
            self.foreign_keys = [
                (r.table, r.name, r.definition)
                for r in connection.execute(
                    text(
                        "SELECT c.conrelid::regclass::text AS table, c.conname AS name, "
                        "pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c "
                        "WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(:tables) ORDER BY 1, 2"
                    ),
                    {"tables": tables},
                )
            ]
            self.indexes = [
                (r.name, r.definition)
                for r in connection.execute(
                    text(
                        "SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition "
                        "FROM pg_index i WHERE i.indrelid::regclass::text = ANY(:tables) AND NOT EXISTS "
                        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1"
                    ),
                    {"tables": tables},
                )
            ]
            for table, name, definition in self.foreign_keys:
                self.say(f"  set aside: ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            for _, definition in self.indexes:
                self.say(f"  set aside: {definition}")
            for table, name, _ in self.foreign_keys:
                connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
            for name, _ in self.indexes:
                connection.execute(text(f"DROP INDEX {name}"))

    def close(self) -> None:
        with self._connection() as connection:
            connection.execute(text("SET maintenance_work_mem = '512MB'"))
            for name, definition in self.indexes:
                connection.execute(text(definition))
                self.say(f"[{time.perf_counter() - self.started:7.1f} s] rebuilt index {name}")
            for table, name, definition in self.foreign_keys:
                # Checked in one pass over the table, not row by row.
                connection.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
                self.say(f"[{time.perf_counter() - self.started:7.1f} s] checked foreign key {table}.{name}")


def _analyze(say: Callable[[str], None], started: float) -> None:
    """Fresh planner statistics and visibility maps (the owner's job: only a table's owner may VACUUM it)."""
    from backend.core.database import owner_engine

    with owner_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ANALYZED_TABLES:
            connection.execute(text(f"VACUUM (ANALYZE) {table}"))
            say(f"[{time.perf_counter() - started:7.1f} s] vacuumed and analyzed {table}")
