"""Writes assistant_eval.jsonl: the assistant's evaluation questions, as staff ask them.

Every phrasing below was written by hand, at least 15 per intent; each is filled with products,
branches, periods and bills of the evaluation chain (tests/backend/assistant/evaluation.py) in a fixed
order, so the file is the same every time. A question carries what it is about (the product's
generic, strength, form, release, maker or barcode; the branch; the window), never the answer: the
evaluation computes the truth from SQL over the seeded chain.

Run: python tests/data/assistant_eval_questions.py  (rewrites the .jsonl next to it)
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

HERE = Path(__file__).parent

# Branches as staff name them: (the words in the question, the branch's code).
BRANCHES = [
    ("Main Street", "MS"),
    ("main street", "MS"),
    ("Riverside", "RS"),
    ("the Riverside branch", "RS"),
    ("Airport", "AP"),
    ("MS", "MS"),
    ("airport", "AP"),
]

# --- stock ------------------------------------------------------------------------------------------

STOCK_AT = [
    "how many {p} at {b}?",
    "{b}: how many {p}?",
    "what's the on-hand for {p} at {b}",
    "what's the stock of {p} at {b}",
    "{p} stock at {b}",
    "do we have any {p} left at {b}?",
    "is there any {p} in stock at {b}?",
    "on hand {p} {b}",
    "count of {p} at {b}",
    "stock level for {p} at {b} please",
    "how much {p} is left in {b}",
    "{p} qty at {b}?",
    "check stock {p} {b}",
    "any {p} on the shelf at {b}?",
    "got any {p} at {b}?",
    "{b} - {p} on hand?",
    "what's the inventory of {p} at {b}",
    "how many units of {p} does {b} have",
]
STOCK_ANYWHERE = [
    "how many {p} do we have?",
    "what's our inventory of {p}?",
    "what is the current stock of {p}",
    "how many units of {p} in stock",
    "{p} on hand",
    "stock of {p} across the chain",
    "do we have {p} in stock?",
    "what's the count on {p}",
    "{p} left?",
    "what's the stock level of {p}",
    "how many {p} are left",
    "quantity of {p} on hand",
    "any {p} available?",
    "what's the on-hand for {p}",
    "{p}",
]

# (how the product is said, what it names). Keys: generic, strength, form, release, maker, barcode_of.
# "expect": "answer" (the products and their numbers) or "ask" (nothing fits: say so and offer choices).
PRODUCTS: list[tuple[str, dict[str, str]]] = [
    ("lorazepam 0.5 mg", {"generic": "Lorazepam", "strength": "0.5 mg"}),
    ("Amitriptyline 10 mg", {"generic": "Amitriptyline", "strength": "10 mg"}),
    ("amitriptyline 10mg", {"generic": "Amitriptyline", "strength": "10 mg"}),
    ("Mylan amitriptyline 10 mg", {"generic": "Amitriptyline", "strength": "10 mg", "maker": "Mylan"}),
    ("amitriptyline 10 mg by Teva", {"generic": "Amitriptyline", "strength": "10 mg", "maker": "Teva"}),
    ("amitriptyline", {"generic": "Amitriptyline"}),
    ("amitriptyline 25 mg", {"generic": "Amitriptyline", "strength": "25 mg"}),
    ("lorazepam 1 mg", {"generic": "Lorazepam", "strength": "1 mg"}),
    ("lorazepam 0.5", {"generic": "Lorazepam", "strength": "0.5 mg"}),
    ("Ativan 0.5 mg", {"generic": "Lorazepam", "strength": "0.5 mg", "maker": "Ativan"}),
    ("Teva lorazepam 0.5mg", {"generic": "Lorazepam", "strength": "0.5 mg", "maker": "Teva"}),
    ("amoxicillin 500 mg", {"generic": "Amoxicillin", "strength": "500 mg"}),
    ("amox 500", {"generic": "Amoxicillin", "strength": "500 mg"}),
    ("amoxicilin 500mg capsules", {"generic": "Amoxicillin", "strength": "500 mg", "form": "capsule"}),
    ("amoxicillin suspension", {"generic": "Amoxicillin", "form": "suspension"}),
    ("amoxicillin 875 mg tablets", {"generic": "Amoxicillin", "strength": "875 mg", "form": "tablet"}),
    ("Amoxil 500 mg", {"generic": "Amoxicillin", "strength": "500 mg", "maker": "Amoxil"}),
    ("Aurobindo amoxicillin 500 mg", {"generic": "Amoxicillin", "strength": "500 mg", "maker": "Aurobindo"}),
    ("metformin 500 mg", {"generic": "Metformin", "strength": "500 mg"}),
    ("metformin ER 500", {"generic": "Metformin", "strength": "500 mg", "release": "extended"}),
    ("metformin 500 mg extended-release", {"generic": "Metformin", "strength": "500 mg", "release": "extended"}),
    ("metformin 1000 mg", {"generic": "Metformin", "strength": "1000 mg"}),
    ("Glucophage 500", {"generic": "Metformin", "strength": "500 mg", "maker": "Glucophage"}),
    ("metoprolol 25 mg", {"generic": "Metoprolol", "strength": "25 mg"}),
    ("metoprolol ER 25 mg", {"generic": "Metoprolol", "strength": "25 mg", "release": "extended"}),
    ("Toprol XL 25 mg", {"generic": "Metoprolol", "strength": "25 mg", "maker": "Toprol XL"}),
    ("atorvastatin 20 mg", {"generic": "Atorvastatin", "strength": "20 mg"}),
    ("Lipitor 20 mg", {"generic": "Atorvastatin", "strength": "20 mg", "maker": "Lipitor"}),
    ("atorvastatin 40", {"generic": "Atorvastatin", "strength": "40 mg"}),
    ("atorvastatin", {"generic": "Atorvastatin"}),
    ("lisinopril 10 mg", {"generic": "Lisinopril", "strength": "10 mg"}),
    ("Lupin lisinopril 20 mg", {"generic": "Lisinopril", "strength": "20 mg", "maker": "Lupin"}),
    ("lisinopril", {"generic": "Lisinopril"}),
    ("Tylenol 500", {"generic": "Acetaminophen", "strength": "500 mg", "maker": "Tylenol"}),
    ("acetaminophen 500 mg", {"generic": "Acetaminophen", "strength": "500 mg"}),
    ("paracetamol 325 mg", {"generic": "Acetaminophen", "strength": "325 mg"}),
    ("ibuprofen 200 mg", {"generic": "Ibuprofen", "strength": "200 mg"}),
    ("ibuprofen 800", {"generic": "Ibuprofen", "strength": "800 mg"}),
    ("Advil", {"generic": "Ibuprofen", "maker": "Advil"}),
    ("sertraline 50 mg", {"generic": "Sertraline", "strength": "50 mg"}),
    ("sertralin 100mg", {"generic": "Sertraline", "strength": "100 mg"}),
    ("Zoloft 50", {"generic": "Sertraline", "strength": "50 mg", "maker": "Zoloft"}),
    ("gabapentin 300 mg capsules", {"generic": "Gabapentin", "strength": "300 mg", "form": "capsule"}),
    ("gabapentin 600", {"generic": "Gabapentin", "strength": "600 mg"}),
    ("gabapentin", {"generic": "Gabapentin"}),
    ("levothyroxine 50 mcg", {"generic": "Levothyroxine", "strength": "50 mcg"}),
    ("levothyroxine 100mcg", {"generic": "Levothyroxine", "strength": "100 mcg"}),
    ("cetirizine 10 mg", {"generic": "Cetirizine", "strength": "10 mg"}),
    ("Demo Care cetirizine", {"generic": "Cetirizine", "maker": "Demo Care"}),
    ("bupropion XL 150", {"generic": "Bupropion", "strength": "150 mg", "release": "extended"}),
    ("bupropion SR 150 mg", {"generic": "Bupropion", "strength": "150 mg", "release": "sustained"}),
    ("Wellbutrin XL", {"generic": "Bupropion", "maker": "Wellbutrin XL"}),
    ("prednisone 20 mg", {"generic": "Prednisone", "strength": "20 mg"}),
    ("Cipla prednisone", {"generic": "Prednisone", "maker": "Cipla"}),
    ("warfarin 5 mg", {"generic": "Warfarin", "strength": "5 mg"}),
    ("Coumadin", {"generic": "Warfarin", "maker": "Coumadin"}),
    ("clonazepam 0.5 mg", {"generic": "Clonazepam", "strength": "0.5 mg"}),
    ("klonopin 0.5", {"generic": "Clonazepam", "strength": "0.5 mg", "maker": "Klonopin"}),
    ("albuterol inhalers", {"generic": "Albuterol", "form": "inhaler"}),
    ("Ventolin", {"generic": "Albuterol", "maker": "Ventolin"}),
    ("montelukast 10 mg", {"generic": "Montelukast", "strength": "10 mg"}),
    ("omeprazole 20 mg", {"generic": "Omeprazole", "strength": "20 mg"}),
    ("omeprazole DR 20 mg capsules", {"generic": "Omeprazole", "strength": "20 mg", "release": "delayed"}),
    ("losartan 50 mg", {"generic": "Losartan", "strength": "50 mg"}),
    ("Cozaar 50 mg", {"generic": "Losartan", "strength": "50 mg", "maker": "Cozaar"}),
    ("escitalopram 10mg", {"generic": "Escitalopram", "strength": "10 mg"}),
    ("Lexapro", {"generic": "Escitalopram", "maker": "Lexapro"}),
    ("barcode {barcode:Amitriptyline|10 mg|Mylan}", {"barcode_of": "Amitriptyline|10 mg|Mylan"}),
    ("{barcode:Lorazepam|0.5 mg|Aurobindo}", {"barcode_of": "Lorazepam|0.5 mg|Aurobindo"}),
    ("product {barcode:Metformin|500 mg|Sun Pharma}", {"barcode_of": "Metformin|500 mg|Sun Pharma"}),
    # Nothing fits: the answer must say so and offer what there is, with no number.
    ("amitriptyline 75 mg", {"generic": "Amitriptyline", "strength": "75 mg", "expect": "ask"}),
    ("lorazepam 2 mg", {"generic": "Lorazepam", "strength": "2 mg", "expect": "ask"}),
    ("Cipla amitriptyline 10 mg", {"generic": "Amitriptyline", "strength": "10 mg", "maker": "Cipla", "expect": "ask"}),
    ("lisinopril 10 mg capsules", {"generic": "Lisinopril", "strength": "10 mg", "form": "capsule", "expect": "ask"}),
    ("sertraline ER 50 mg", {"generic": "Sertraline", "strength": "50 mg", "release": "extended", "expect": "ask"}),
]

# --- the other intents -------------------------------------------------------------------------------

EXPIRING = [
    ("what expires in the next 30 days?", {"days": 30}),
    ("anything expiring within 60 days at {b}?", {"days": 60}),
    ("which lots expire this month", {"until": "month_end"}),
    ("show me short-dated stock at {b}", {"days": 30}),
    ("what's going out of date in the next 2 weeks", {"days": 14}),
    ("expiring soon at {b}", {"days": 30}),
    ("list expiring lots next 90 days", {"days": 90}),
    ("what will expire in 45 days at {b}", {"days": 45}),
    ("expiry check for {b} next 30 days", {"days": 30}),
    ("what do we have expiring this month at {b}", {"until": "month_end"}),
    ("lots expiring within 14 days", {"days": 14}),
    ("expiries in the coming 3 weeks at {b}", {"days": 21}),
    ("what's expiring in the next 60 days", {"days": 60}),
    ("what expires within 7 days at {b}", {"days": 7}),
    ("short dated items at {b} within 90 days", {"days": 90}),
    ("which batches expire in the next 10 days?", {"days": 10}),
    ("anything expiring at {b} in the next 20 days", {"days": 20}),
]
LOW_STOCK = [
    "what is running low?",
    "what's low at {b}?",
    "which medicines are below their reorder point at {b}",
    "what do we need to reorder?",
    "anything running out at {b}?",
    "low stock report for {b}",
    "what should we reorder at {b}",
    "items at or below reorder level",
    "show low stock",
    "what are we short on at {b}?",
    "reorder list please",
    "which products need to be re-ordered at {b}",
    "low stock at {b}",
    "what's running low across the chain",
    "are we running out of anything at {b}?",
    "what needs reordering at {b}?",
]
SALES = [
    ("what did we sell today?", "today"),
    ("sales today at {b}", "today"),
    ("what were today's sales at {b}", "today"),
    ("revenue today", "today"),
    ("today's takings at {b}", "today"),
    ("sales yesterday at {b}", "yesterday"),
    ("what did we sell yesterday at {b}", "yesterday"),
    ("turnover this week at {b}", "this_week"),
    ("sales for the last 7 days", "last_7_days"),
    ("how were sales this month at {b}", "this_month"),
    ("total sales today", "today"),
    ("what's the revenue for {b} today", "today"),
    ("show sales at {b} for today", "today"),
    ("sales figures this week", "this_week"),
    ("how much have we sold today at {b}?", "today"),
    ("{b} sales in the last 7 days", "last_7_days"),
]
BILLS = [
    "what's on bill {n}?",
    "look up bill {n}",
    "show me {n}",
    "total of bill {n}",
    "bill {n} details",
    "how much was bill {n}",
    "is {n} paid?",
    "find bill number {n}",
    "what was sold on {n}",
    "open {n}",
    "{n}",
    "what's outstanding on {n}?",
    "details for invoice {n}",
    "can you pull up {n}",
    "bill {n} total due",
]
DRUG_INFO = [
    "what is {d} used for?",
    "side effects of {d}",
    "what does {d} treat?",
    "tell me about {d}",
    "warnings for {d}",
    "what's {d} for",
    "what is {d}?",
    "info on {d}",
    "indications of {d}",
    "what kind of drug is {d}",
    "{d} side effects?",
    "what are the warnings on {d}",
    "what does {d} do",
    "drug information for {d}",
    "what's {d} used to treat",
]
DRUGS = [
    ("lorazepam", None),  # not in the drug information set: an honest "no information", never stock
    ("metformin", "metformin"),
    ("Zoloft", "sertraline"),
    ("lisinopril", "lisinopril"),
    ("Lipitor", "atorvastatin"),
    ("amoxicillin", "amoxicillin"),
    ("gabapentin", "gabapentin"),
    ("Tylenol", "acetaminophen"),
    ("warfarin", "warfarin"),
    ("montelukast", "montelukast"),
    ("omeprazole", "omeprazole"),
    ("albuterol", "albuterol"),
]

# --- prescriptions (the evaluation chain's PRESCRIPTIONS: 0 and 1 filled with lot ROS-2401 of Crestor) ---

REFILL_STATUS = [
    "refill status of {rx}",
    "what's the refill status for {rx}?",
    "how many refills left on {rx}",
    "refills remaining on Rx {rx}",
    "when is {rx} due for a refill?",
    "rx {rx} status",
    "can {rx} be refilled?",
    "check refills on {rx}",
    "is there a refill left on {rx}",
    "when was {rx} last filled?",
    "status of prescription {rx}",
    "{rx} refills",
    "look up rx {rx}",
    "next refill date for {rx}",
    "how many refills does {rx} have",
]
REFILLS_DUE = [  # (phrasing, days looked ahead)
    ("which prescriptions are due for a refill?", 7),
    ("refills due in the next 7 days", 7),
    ("what refills are coming up in the next 30 days", 30),
    ("prescriptions due for refill at {b}", 7),
    ("which prescriptions need a refill within 14 days", 14),
    ("refills due at {b} in the next 30 days", 30),
    ("any refills due?", 7),
    ("list prescriptions due for refills", 7),
    ("who is due a refill in the next 10 days?", 10),
    ("prescriptions running out in the next 2 weeks", 14),
    ("what refills are due at {b}", 7),
    ("rx refills due in the next 5 days", 5),
    ("show me refills due within 30 days", 30),
    ("upcoming refills for the next 3 days", 3),
    ("are any prescriptions due for refill in the next 60 days?", 60),
]
MEDICATION_LIST = [
    "medications for {p}",
    "what meds is {p} taking?",
    "{p}'s medication list",
    "show me {p}'s meds",
    "what is {p} taking",
    "is {p} taking anything?",
    "medication list of {p}",
    "what medications is {p} on?",
    "list {p}'s medications",
    "current medications for {p}",
    "what does {p} take?",
    "meds for patient {p}",
    "what medicines does {p} take",
    "{p} medication list",
    "pull up the medication list for {p}",
]
# "Nora" alone is two patients: the answer must ask which, never list one of them.
MEDICATION_PATIENTS = [("Nora Quinn", "answer"), ("Omar Reyes", "answer"), ("Nora Quintero", "answer"), ("Nora", "ask")]
RECALL = [
    "who received lot {lot} of {m}?",
    "recall lot {lot} {m}",
    "which patients got lot {lot} of {m}",
    "{m} lot {lot} has been recalled: who got it?",
    "patients who received {m} lot {lot}",
    "trace lot {lot} of {m}",
    "who was given {m} from lot {lot}?",
    "recall: {m}, lot number {lot}",
    "lot {lot} of {m} is recalled, which patients received it",
    "who got batch {lot} of {m}",
    "list patients for the recall of {m} lot {lot}",
    "who has had {m} lot {lot}?",
    "recall trace for lot {lot} ({m})",
    "which patients received {m} lot #{lot}",
    "who bought or received lot {lot} of {m}",
]
RECALL_MEDICINES = [("Crestor", "Crestor"), ("rosuvastatin Crestor", "Crestor"), ("Apotex rosuvastatin", "Apotex")]
RECALL_UNNAMED = ["who received lot {lot}?", "recall lot {lot}", "which patients got lot {lot}", "trace lot {lot}"]
LOT = "ROS-2401"


def prescription_questions(branch: itertools.cycle) -> list[dict[str, object]]:  # type: ignore[type-arg]
    out: list[dict[str, object]] = []
    for i, phrasing in enumerate(REFILL_STATUS * 2):
        out.append({"intent": "refill_status", "question": phrasing.format(rx=f"{{rx:{i % 4}}}"), "rx": i % 4})
    for phrasing, days in REFILLS_DUE * 2:
        words, code = next(branch) if "{b}" in phrasing else (None, None)
        out.append({"intent": "refills_due", "question": phrasing.format(b=words), "branch": code, "days": days})
    patient = itertools.cycle(MEDICATION_PATIENTS)
    for phrasing in MEDICATION_LIST * 2:
        name, expect = next(patient)
        out.append(
            {"intent": "medication_list", "question": phrasing.format(p=name), "patient": name, "expect": expect}
        )
    medicine = itertools.cycle(RECALL_MEDICINES)
    for phrasing in RECALL * 2:
        said, maker = next(medicine)
        question = phrasing.format(lot=LOT, m=said)
        out.append({"intent": "recall", "question": question, "lot": LOT, "maker": maker, "expect": "answer"})
    for phrasing in RECALL_UNNAMED:
        out.append({"intent": "recall", "question": phrasing.format(lot=LOT), "lot": LOT, "expect": "ask"})
    return out


def questions() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    branch = itertools.cycle(BRANCHES)
    at, anywhere = itertools.cycle(STOCK_AT), itertools.cycle(STOCK_ANYWHERE)
    for round_ in range(4):
        for said, named in PRODUCTS:
            expect = {"expect": "answer", **named}
            if round_ == 3:
                if said.startswith(("barcode", "{barcode", "product")) or expect["expect"] == "ask":
                    continue  # three of each are enough
            if round_ % 2 == 0:
                words, code = next(branch)
                out.append({"intent": "stock", "question": next(at).format(p=said, b=words), "branch": code, **expect})
            else:
                out.append({"intent": "stock", "question": next(anywhere).format(p=said), "branch": None, **expect})
    for phrasing, window in EXPIRING * 3:
        words, code = next(branch) if "{b}" in phrasing else (None, None)
        out.append({"intent": "expiring", "question": phrasing.format(b=words), "branch": code, **window})
    for phrasing in LOW_STOCK * 3:
        words, code = next(branch) if "{b}" in phrasing else (None, None)
        out.append({"intent": "low_stock", "question": phrasing.format(b=words), "branch": code})
    for phrasing, period in SALES * 3:
        words, code = next(branch) if "{b}" in phrasing else (None, None)
        out.append({"intent": "sales", "question": phrasing.format(b=words), "branch": code, "period": period})
    for i, phrasing in enumerate(BILLS * 3):
        out.append({"intent": "bill", "question": phrasing.format(n=f"{{bill:{i % 8}}}"), "bill": i % 8})
    drug = itertools.cycle(DRUGS)
    for phrasing in DRUG_INFO * 3:
        said, generic = next(drug)
        out.append({"intent": "drug_info", "question": phrasing.format(d=said), "generic": generic})
    out += prescription_questions(branch)  # after the others, so their ids stay as they were
    for i, q in enumerate(out):
        q["id"] = i + 1
    return out


if __name__ == "__main__":
    rows = questions()
    with (HERE / "assistant_eval.jsonl").open("w") as f:
        for row in rows:
            f.write(json.dumps({"id": row.pop("id"), **row}) + "\n")
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row["intent"])] = counts.get(str(row["intent"]), 0) + 1
    print(len(rows), counts)
