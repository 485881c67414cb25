"""The assistant's evaluation: a seeded chain, the questions in tests/data/assistant_eval.jsonl, the
truth computed from SQL, and a grade for every answer.

The chain is what a real pharmacy's catalog looks like: the common generics at the same strength from
two to four makers (the originator brand and generic makers, each its own product with its own
barcode), other strengths from one maker, an extended-release next to the immediate-release product,
lots in three branches in three time zones, reorder levels, and bills sold today.

Each answer is graded by what a pharmacist would notice:
- right: the numbers are the database's, for exactly the products asked about (each named by maker
  when there are several; a group's total given), or, when nothing fits, an explicit "which one?";
- asked: the answer asks which product is meant, or says what it left out, instead of answering;
- miss: no answer (the wrong intent, "I can't answer that", a product that was there not found);
- wrong: a number that is not the database's, a product nobody asked about, several products not
  told apart, or a partial answer that does not say it is partial. The goal is zero of these.

`run_evaluation` is used by tests/backend/assistant/test_evaluation.py (a sample, in CI) and by
bench/assistant_eval.py (`make bench`: every question, accuracy per intent).
"""

from __future__ import annotations

import calendar
import json
import random
import re
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

QUESTIONS = Path(__file__).resolve().parents[2] / "data" / "assistant_eval.jsonl"
GRADES = ("right", "asked", "miss", "wrong")

BRANCHES = (("Main Street", "MS", "America/New_York"), ("Riverside", "RS", "America/Chicago"),
            ("Airport", "AP", "America/Los_Angeles"))  # fmt: skip

# generic | strength | dosage form | makers (the originator brand first where there is one) | schedule
CATALOG = """\
Amitriptyline|10 mg|tablet|Teva,Sandoz,Mylan|prescription
Amitriptyline|25 mg|tablet|Teva|prescription
Amitriptyline|50 mg|tablet|Sandoz|prescription
Lorazepam|0.5 mg|tablet|Ativan,Teva,Aurobindo|CIV
Lorazepam|1 mg|tablet|Teva|CIV
Amoxicillin|500 mg|capsule|Amoxil,Teva,Sandoz,Aurobindo|prescription
Amoxicillin|875 mg|tablet|Teva|prescription
Amoxicillin|250 mg/5 mL|suspension|Sandoz|prescription
Metformin|500 mg|tablet|Glucophage,Zydus,Lupin|prescription
Metformin|500 mg|extended-release tablet|Sun Pharma|prescription
Metformin|1000 mg|tablet|Zydus|prescription
Metoprolol|25 mg|tablet|Lopressor,Teva|prescription
Metoprolol|25 mg|extended-release tablet|Toprol XL,Mylan|prescription
Atorvastatin|20 mg|tablet|Lipitor,Teva,Apotex|prescription
Atorvastatin|10 mg|tablet|Teva|prescription
Atorvastatin|40 mg|tablet|Mylan|prescription
Lisinopril|10 mg|tablet|Zestril,Lupin,Teva|prescription
Lisinopril|20 mg|tablet|Lupin|prescription
Acetaminophen|500 mg|tablet|Tylenol,Perrigo,Major|otc
Acetaminophen|325 mg|tablet|Major|otc
Ibuprofen|200 mg|tablet|Advil,Perrigo|otc
Ibuprofen|800 mg|tablet|Amneal|prescription
Sertraline|50 mg|tablet|Zoloft,Aurobindo,Lupin|prescription
Sertraline|100 mg|tablet|Aurobindo|prescription
Gabapentin|300 mg|capsule|Neurontin,Amneal,Zydus|prescription
Gabapentin|600 mg|tablet|Zydus|prescription
Levothyroxine|50 mcg|tablet|Levoxyl,Mylan|prescription
Levothyroxine|100 mcg|tablet|Mylan|prescription
Cetirizine|10 mg|tablet|Zyrtec,Perrigo,Demo Care|otc
Bupropion|150 mg|extended-release tablet|Wellbutrin XL,Teva|prescription
Bupropion|150 mg|sustained-release tablet|Sandoz|prescription
Prednisone|20 mg|tablet|Teva,Cipla|prescription
Warfarin|5 mg|tablet|Coumadin,Teva|prescription
Clonazepam|0.5 mg|tablet|Klonopin,Teva|CIV
Clonazepam|1 mg|tablet|Teva|CIV
Albuterol|90 mcg|inhaler|Ventolin,Teva|prescription
Montelukast|10 mg|tablet|Singulair,Aurobindo|prescription
Omeprazole|20 mg|delayed-release capsule|Prilosec,Perrigo|otc
Losartan|50 mg|tablet|Cozaar,Teva,Lupin|prescription
Escitalopram|10 mg|tablet|Lexapro,Aurobindo|prescription
"""
UNITS = {"suspension": "bottle", "inhaler": "inhaler"}
EVAL_PASSWORD = "evaluation pharmacist signs 2026"  # the owner verifies prescriptions as the pharmacist

# Prescriptions at Main Street, outside the catalog above so no stock question changes: two makers'
# rosuvastatin share lot ROS-2401 (the recall trace must ask which), two patients share the name Nora.
RECALL_LOT = "ROS-2401"
RX_PRODUCTS = {  # key: generic, maker, strength, lot, quantity received
    "crestor": ("Rosuvastatin", "Crestor", "10 mg", RECALL_LOT, 120),
    "apotex": ("Rosuvastatin", "Apotex", "10 mg", RECALL_LOT, 40),
    "norvasc": ("Amlodipine", "Norvasc", "5 mg", "NOR-77", 90),
}
PATIENTS = {"Nora Quinn": "1950-02-03", "Nora Quintero": "1972-11-30", "Omar Reyes": "1961-07-08"}
# patient | product | quantity (1 a day: the days' supply) | refills | filled today
PRESCRIPTIONS = (
    ("Nora Quinn", "crestor", 30, 3, True),
    ("Omar Reyes", "crestor", 7, 2, True),
    ("Nora Quinn", "norvasc", 30, 5, False),
    ("Nora Quintero", "norvasc", 30, 1, True),
)
EXPIRY_DAYS = (4, 9, 13, 21, 27, 35, 44, 52, 63, 75, 88, 120, 200, 380)


@dataclass
class EvalChain:
    tenant_id: Any
    owner_id: Any
    branches: dict[str, str]  # code -> branch id
    products: dict[str, str] = field(default_factory=dict)  # "Generic|strength|maker" -> medicine id
    barcodes: dict[str, str] = field(default_factory=dict)  # same key -> barcode
    bills: list[str] = field(default_factory=list)  # bill numbers, in the order they were sold
    prescriptions: list[str] = field(default_factory=list)  # Rx numbers, in the order of PRESCRIPTIONS

    def ctx(self, role: str = "owner") -> Any:
        from tenants.context import TenantContext

        return TenantContext(tenant_id=self.tenant_id, user_id=self.owner_id, role=role)


def _gtin13(number: int) -> str:
    body = f"{number:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def seed_chain(*, seed: int = 2026) -> EvalChain:
    """Provision the evaluation chain through the product's own services (as the app role)."""
    from backend.billing.bills.service import create_draft, finalize_bill
    from backend.billing.payments.service import record_payment
    from backend.core.passwords import hash_password
    from backend.inventory.reorder import set_reorder_level
    from backend.inventory.service import create_medicine, receive_stock
    from tenants.context import TenantContext
    from tenants.provisioning import NewBranch, NewChain, provision_tenant
    from tenants.session import run_in_tenant

    rng = random.Random(seed)
    suffix = uuid.uuid4().hex[:8]
    made = provision_tenant(
        NewChain(
            name="Evaluation Pharmacy",
            slug=f"eval-{suffix}",
            owner_email=f"owner-{suffix}@eval.example",
            owner_name="Owner",
            owner_password_hash=hash_password(EVAL_PASSWORD),
            branches=tuple(NewBranch(name, code, time_zone=zone) for name, code, zone in BRANCHES),
        ),
        actor="test",  # type: ignore[arg-type]
        reason="assistant evaluation chain",
    )
    by_code = {code: str(made.branch_ids[i]) for i, (_, code, _) in enumerate(BRANCHES)}
    chain = EvalChain(made.tenant_id, made.owner_user_id, by_code)
    owner = TenantContext(tenant_id=made.tenant_id, user_id=made.owner_user_id, role="owner")
    today = date.today()
    on_hand: dict[tuple[str, str], int] = {}
    over_the_counter: list[str] = []
    for line in CATALOG.splitlines():
        generic, strength, form, makers, schedule = line.split("|")
        for maker in makers.split(","):
            key = f"{generic}|{strength}|{maker}"
            barcode = _gtin13(290_000_000_000 + len(chain.products) + 1)
            controlled = schedule.startswith("C")
            medicine = run_in_tenant(
                owner,
                create_medicine,
                generic_name=generic,
                brand_name=maker,
                strength=strength,
                dosage_form=form,
                dispensing_unit=UNITS.get(form, form.split()[-1]),
                barcode=barcode,
                schedule="controlled" if controlled else schedule,
                controlled_class=schedule if controlled else "",
                default_sell_price=f"{rng.randint(5, 90) / 100:.2f}",
            )
            chain.products[key], chain.barcodes[key] = medicine, barcode
            if schedule == "otc":
                over_the_counter.append(key)
            for code, branch in by_code.items():
                if key == "Amitriptyline|10 mg|Mylan" and code == "MS":
                    lots = [470]  # the third 10 mg product that a list of five left out
                else:
                    lots = [rng.randint(6, 400) for _ in range(rng.choice((0, 1, 1, 2)))]
                for n, quantity in enumerate(lots):
                    run_in_tenant(
                        owner,
                        receive_stock,
                        branch_id=branch,
                        medicine_id=medicine,
                        lot_number=f"{generic[:3].upper()}{len(chain.products)}-{code}{n}",
                        expiry_date=(today + timedelta(days=rng.choice(EXPIRY_DAYS))).isoformat(),
                        quantity=quantity,
                        cost_price="0.0500",
                    )
                    on_hand[(key, code)] = on_hand.get((key, code), 0) + quantity
    # Reorder levels: about half of them at or above what is on the shelf, so they show as low.
    for (key, code), quantity in sorted(on_hand.items())[::5]:
        point = quantity + rng.choice((-40, -10, 0, 15, 60))
        run_in_tenant(
            owner,
            set_reorder_level,
            branch_id=by_code[code],
            medicine_id=chain.products[key],
            reorder_point=max(point, 0),
            reorder_quantity=100,
        )
    # Bills sold today: over-the-counter products (no prescription needed), some paid in part.
    sellable = [k for k in over_the_counter if on_hand.get((k, "MS")) or on_hand.get((k, "RS"))]
    for n in range(8):
        code = ("MS", "RS", "AP")[n % 3]
        lines = [
            {"medicine_id": chain.products[k], "quantity": rng.randint(1, 3)}
            for k in rng.sample(sellable, 2)
            if on_hand.get((k, code), 0) >= 3
        ]
        if not lines:
            lines = [{"medicine_id": chain.products[k], "quantity": 1} for k in sellable if on_hand.get((k, code))][:1]
        draft = run_in_tenant(owner, create_draft, branch_id=by_code[code], lines=lines)
        bill = run_in_tenant(owner, finalize_bill, draft.id)
        if n % 4:
            paid = bill.total_due if n % 2 else (bill.total_due / 2).quantize(Decimal("0.01"))
            run_in_tenant(owner, record_payment, bill_id=bill.id, tendered=str(paid))
        chain.bills.append(bill.number)
    seed_prescriptions(chain, owner)
    return chain


def seed_prescriptions(chain: EvalChain, owner: Any) -> None:
    """PRESCRIPTIONS at Main Street: received by a technician, verified by the owner acting as the
    pharmacist (signed), and filled from the lots above where the table says so (fills are today)."""
    from backend.accounts.signatures import sign
    from backend.inventory.service import create_medicine, receive_stock
    from backend.patients.service import create_patient
    from backend.prescriptions import fills, prescribers, service, verification
    from tenants.context import TenantContext
    from tenants.session import run_in_tenant

    branch = chain.branches["MS"]
    products = {}
    for n, (key, (generic, maker, strength, lot, quantity)) in enumerate(RX_PRODUCTS.items()):
        products[key] = run_in_tenant(
            owner,
            create_medicine,
            generic_name=generic,
            brand_name=maker,
            strength=strength,
            dosage_form="tablet",
            dispensing_unit="tablet",
            barcode=_gtin13(291_000_000_000 + n),
            schedule="prescription",
            default_sell_price="0.40",
        )
        run_in_tenant(
            owner,
            receive_stock,
            branch_id=branch,
            medicine_id=products[key],
            lot_number=lot,
            expiry_date=(date.today() + timedelta(days=500)).isoformat(),
            quantity=quantity,
            cost_price="0.0500",
        )
    patients = {
        name: run_in_tenant(owner, create_patient, full_name=name, date_of_birth=born, home_branch_id=branch).id
        for name, born in PATIENTS.items()
    }
    prescriber = run_in_tenant(
        owner, prescribers.create_prescriber, full_name="Dana Rivera", credentials="MD", npi="1234567893"
    )
    technician = TenantContext(tenant_id=chain.tenant_id, user_id=uuid.uuid4(), role="technician")
    pharmacist = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_id, role="pharmacist")
    for patient, key, quantity, refills, filled in PRESCRIPTIONS:
        generic, maker, strength, _, _ = RX_PRODUCTS[key]
        rx = run_in_tenant(
            technician,
            service.create_prescription,
            branch_id=branch,
            patient_id=patients[patient],
            source="walk_in",
            prescriber_id=prescriber.id,
            drug_written=f"{generic} {strength}",
            medicine_id=products[key],
            sig_written="1 tab po daily",
            quantity=str(quantity),
            days_supply=str(quantity),
            refills_authorized=str(refills),
            date_written=date.today().isoformat(),
        )
        run_in_tenant(technician, service.submit_for_verification, rx.id)
        review = run_in_tenant(pharmacist, verification.review, rx.id)
        overrides = {a.code: "reviewed with the prescriber" for a in review.alerts if a.needs_resolution}
        signature = sign(
            pharmacist,
            password=EVAL_PASSWORD,
            meaning="verified the prescription after drug-use review",
            entity_type="prescription",
            entity_id=rx.id,
        )
        run_in_tenant(pharmacist, verification.verify, rx.id, signature_id=signature, overrides=overrides)
        if filled:
            run_in_tenant(technician, fills.fill_prescription, rx.id)
        chain.prescriptions.append(rx.rx_number)


# --- questions ---------------------------------------------------------------------------------------


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def fill(question: str, chain: EvalChain) -> str:
    """The chain's own bill numbers and barcodes in the question's slots."""
    question = re.sub(r"\{bill:(\d+)\}", lambda m: chain.bills[int(m.group(1)) % len(chain.bills)], question)
    question = re.sub(r"\{rx:(\d+)\}", lambda m: chain.prescriptions[int(m.group(1))], question)
    return re.sub(r"\{barcode:([^}]+)\}", lambda m: chain.barcodes[m.group(1)], question)


# --- truth from SQL (as the owner role, tenant named explicitly) --------------------------------------

Sql = Callable[[str, dict[str, Any]], Sequence[Any]]


def _branches(sql: Sql, chain: EvalChain) -> list[Any]:
    return list(
        sql("SELECT id, name, code, time_zone FROM branches WHERE tenant_id = :t ORDER BY name", {"t": chain.tenant_id})
    )


def _today(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


def _reference(branches: list[Any], code: str | None) -> Any:
    """The branch whose calendar a question is read in: the one it names, else the first by name."""
    return next((b for b in branches if b.code == code), branches[0])


_RELEASE_FORMS = {"extended": "extended-release", "sustained": "sustained-release", "delayed": "delayed-release"}


def expected_products(sql: Sql, chain: EvalChain, q: dict[str, Any]) -> dict[str, Any]:
    """The catalog rows the question names, by its facts (never by reading the answer)."""
    rows = sql(
        "SELECT id, generic_name, brand_name, strength, dosage_form, barcode FROM medicines "
        "WHERE tenant_id = :t AND is_active",
        {"t": chain.tenant_id},
    )
    if q.get("barcode_of"):
        wanted = chain.barcodes[q["barcode_of"]]
        return {str(r.id): r for r in rows if r.barcode == wanted}
    out = {}
    for r in rows:
        if r.generic_name != q["generic"]:
            continue
        if q.get("strength") and r.strength != q["strength"]:
            continue
        if q.get("form") and not r.dosage_form.endswith(q["form"]):
            continue
        if q.get("release") and not r.dosage_form.startswith(_RELEASE_FORMS[q["release"]]):
            continue
        if q.get("maker") and r.brand_name != q["maker"]:
            continue
        out[str(r.id)] = r
    return out


def on_hand(sql: Sql, chain: EvalChain, ids: list[str], code: str | None) -> dict[str, int]:
    rows = sql(
        "SELECT medicine_id, coalesce(sum(quantity), 0)::int AS n FROM batches WHERE tenant_id = :t "
        "AND medicine_id = ANY(CAST(:ids AS uuid[])) AND (CAST(:b AS uuid) IS NULL OR branch_id = CAST(:b AS uuid)) "
        "GROUP BY medicine_id",
        {"t": chain.tenant_id, "ids": ids, "b": chain.branches[code] if code else None},
    )
    found = {str(r.medicine_id): r.n for r in rows}
    return {i: found.get(i, 0) for i in ids}


# --- grading -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Graded:
    question: dict[str, Any]
    asked: str
    grade: str
    why: str
    intent: str
    millis: float


def _rows(reply: Any, key: str) -> list[dict[str, Any]]:
    return [row for d in reply.data for row in d.get(key, [])]


def _asks(reply: Any) -> bool:
    return any(d.get("needs_choice") or d.get("unmatched") for d in reply.data)


def grade_stock(sql: Sql, chain: EvalChain, q: dict[str, Any], reply: Any) -> tuple[str, str]:
    expected = expected_products(sql, chain, q)
    rows = _rows(reply, "medicines")
    if q["expect"] == "ask":
        if rows:
            return "wrong", f"numbers for products not asked about: {[r.get('name') for r in rows]}"
        return ("right", "said nothing fits") if _asks(reply) else ("miss", "no explicit question")
    if reply.intent != "stock":
        return "miss", f"routed to {reply.intent}"
    if not rows:
        return ("asked", "asked which one") if _asks(reply) else ("miss", "no product found")
    truth = on_hand(sql, chain, list(expected), q.get("branch"))
    shown = {r["medicine_id"]: r["on_hand"] for r in rows}
    extra = set(shown) - set(truth)
    if extra:
        if _asks(reply):  # candidates offered, each named, with the question which one is meant
            return "asked", f"offered {len(shown)} candidates"
        return "wrong", f"{len(extra)} product(s) nobody asked about"
    bad = {i: (n, truth[i]) for i, n in shown.items() if n != truth[i]}
    if bad:
        return "wrong", f"numbers differ from the database: {bad}"
    missing = set(truth) - set(shown)
    if missing:
        return ("asked", "asked which one") if _asks(reply) else ("wrong", f"left out {len(missing)} product(s)")
    if len(expected) > 1:
        unnamed = [r.brand_name for r in expected.values() if r.brand_name.lower() not in reply.text.lower()]
        if unnamed:
            return "wrong", f"products not told apart (makers not shown: {unnamed})"
        groups: dict[tuple[str, str, str], int] = {}
        for i, r in expected.items():
            k = (r.generic_name, r.strength, r.dosage_form)
            groups[k] = groups.get(k, 0) + truth[i]
        sizes = Counter((r.generic_name, r.strength, r.dosage_form) for r in expected.values())
        for k, total in groups.items():
            if sizes[k] > 1 and not re.search(rf"(?<![\d.]){total}(?![\d.])", reply.text):
                return "miss", f"no total for the group {' '.join(k)} ({total})"
    return "right", ""


def grade_expiring(sql: Sql, chain: EvalChain, q: dict[str, Any], reply: Any) -> tuple[str, str]:
    if reply.intent != "expiring":
        return "miss", f"routed to {reply.intent}"
    branches = _branches(sql, chain)
    ref = _today(_reference(branches, q.get("branch")).time_zone)
    if "days" in q:
        days = q["days"]
    else:
        days = (ref.replace(day=calendar.monthrange(ref.year, ref.month)[1]) - ref).days
    lots = sql(
        "SELECT br.code, br.name AS branch, br.time_zone, b.lot_number, b.quantity, b.expiry_date "
        "FROM batches b JOIN branches br ON br.tenant_id = b.tenant_id AND br.id = b.branch_id "
        "WHERE b.tenant_id = :t AND b.quantity > 0 AND NOT EXISTS (SELECT 1 FROM lot_recalls r "
        "WHERE r.tenant_id = b.tenant_id AND r.medicine_id = b.medicine_id AND r.lot_number = b.lot_number)",
        {"t": chain.tenant_id},
    )
    truth = Counter(
        (lot.branch, lot.lot_number, lot.quantity)
        for lot in lots
        if (q.get("branch") in (None, lot.code)) and 0 <= (lot.expiry_date - _today(lot.time_zone)).days <= days
    )
    shown = Counter((r["branch"], r["lot"], r["quantity"]) for r in _rows(reply, "expiring"))
    if shown == truth:
        return "right", ""
    return (
        "wrong" if shown else "miss"
    ), f"{sum((shown - truth).values())} extra, {sum((truth - shown).values())} missing"


def grade_low_stock(sql: Sql, chain: EvalChain, q: dict[str, Any], reply: Any) -> tuple[str, str]:
    if reply.intent != "low_stock":
        return "miss", f"routed to {reply.intent}"
    rows = sql(
        "SELECT br.code, br.name AS branch, m.generic_name || ' ' || m.strength AS medicine, m.brand_name, "
        "coalesce((SELECT sum(b.quantity) FROM batches b WHERE b.tenant_id = r.tenant_id "
        "AND b.branch_id = r.branch_id AND b.medicine_id = r.medicine_id), 0)::int AS on_hand, r.reorder_point "
        "FROM reorder_levels r JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id "
        "JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id WHERE r.tenant_id = :t",
        {"t": chain.tenant_id},
    )
    low = [r for r in rows if r.on_hand <= r.reorder_point and q.get("branch") in (None, r.code)]
    shown = _rows(reply, "low_stock")
    if Counter((r["branch"], r["medicine"], r["quantity"]) for r in shown) != Counter(
        (r.branch, r.medicine, r.on_hand) for r in low
    ):
        return ("wrong" if shown else "miss"), "low-stock lines differ from the database"
    same_name = Counter((r.branch, r.medicine) for r in low)
    if any(n > 1 for n in same_name.values()) and Counter(
        (r["branch"], r.get("maker"), r["quantity"]) for r in shown
    ) != Counter((r.branch, r.brand_name, r.on_hand) for r in low):
        return "wrong", "two products of one name not told apart (no maker)"
    return "right", ""


def _period(name: str, today: date) -> tuple[date, date]:
    if name == "today":
        return today, today
    if name == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if name == "this_week":
        return today - timedelta(days=today.weekday()), today
    if name == "last_7_days":
        return today - timedelta(days=6), today
    return today.replace(day=1), today  # this month, up to today


def grade_sales(sql: Sql, chain: EvalChain, q: dict[str, Any], reply: Any) -> tuple[str, str]:
    if reply.intent != "sales":
        return "miss", f"routed to {reply.intent}"
    branches = _branches(sql, chain)
    start, end = _period(q["period"], _today(_reference(branches, q.get("branch")).time_zone))
    truth = {}
    for b in branches:
        if q.get("branch") not in (None, b.code):
            continue
        row = sql(
            "SELECT count(*) AS bills, coalesce(sum(net_total), 0) AS net FROM bills WHERE tenant_id = :t "
            "AND branch_id = :b AND status IN ('finalized', 'partially_paid', 'paid') "
            "AND (finalized_at AT TIME ZONE :zone)::date BETWEEN :start AND :end",
            {"t": chain.tenant_id, "b": b.id, "zone": b.time_zone, "start": start, "end": end},
        )[0]
        truth[b.name] = (row.bills, Decimal(row.net))
    shown = {r["branch"]: (r["bills"], Decimal(r["net_sales"])) for r in _rows(reply, "branches")}
    if shown == truth:
        return "right", ""
    return ("wrong" if shown else "miss"), f"shown {shown} but the database has {truth}"


def grade_bill(sql: Sql, chain: EvalChain, q: dict[str, Any], reply: Any) -> tuple[str, str]:
    number = chain.bills[q["bill"] % len(chain.bills)]
    if reply.intent != "bill":
        return "miss", f"routed to {reply.intent}"
    total = sql("SELECT total_due FROM bills WHERE tenant_id = :t AND number = :n", {"t": chain.tenant_id, "n": number})
    data = reply.data[0] if reply.data else {}
    if data.get("number") != number:
        return "miss", "another bill or none"
    return ("right", "") if Decimal(data["total_due"]) == total[0].total_due else ("wrong", "total differs")


def grade_drug_info(sql: Sql, chain: EvalChain, q: dict[str, Any], reply: Any) -> tuple[str, str]:
    if _rows(reply, "medicines"):
        return "wrong", "answered with stock numbers"
    if reply.intent != "drug_info":
        return "miss", f"routed to {reply.intent}"
    data = reply.data[0] if reply.data else {}
    if q["generic"] is None:
        return ("right", "") if data.get("found") is False else ("miss", "information for another drug")
    return ("right", "") if data.get("generic") == q["generic"] else ("miss", f"looked up {data.get('generic')}")


# --- prescriptions: the truth from the prescriptions, fills and fill lots ------------------------------

_LIVE = ("fill", "filled", "ready_for_pickup")  # verified and alive (RxStatus.verified())
_RX_TRUTH = (
    "SELECT r.rx_number, r.status, r.refills_remaining, r.days_supply, r.expires_on, br.code, br.time_zone, "
    "r.patient_id, (SELECT max(f.filled_at) FROM prescription_fills f WHERE f.tenant_id = r.tenant_id "
    "AND f.prescription_id = r.id AND f.status <> 'returned') AS last_filled FROM prescriptions r "
    "JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id WHERE r.tenant_id = :t"
)


def _names(chain: EvalChain, rows: Sequence[Any]) -> dict[Any, str]:
    """The patients' names (sealed in the database: read through the patients service)."""
    from backend.patients.service import identities
    from tenants.session import run_in_tenant

    found = run_in_tenant(chain.ctx("owner"), identities, [r.patient_id for r in rows])
    return {key: who.full_name for key, who in found.items()}


def _next_due(row: Any) -> date | None:
    if row.last_filled is None or row.days_supply is None:
        return None
    return row.last_filled.astimezone(ZoneInfo(row.time_zone)).date() + timedelta(days=row.days_supply)


def _first(reply: Any) -> dict[str, Any]:
    return reply.data[0] if reply.data else {}


def grade_refill_status(sql: Sql, chain: EvalChain, q: dict[str, Any], reply: Any) -> tuple[str, str]:
    if reply.intent != "refill_status":
        return "miss", f"routed to {reply.intent}"
    number = chain.prescriptions[q["rx"]]
    (row,) = [r for r in sql(_RX_TRUTH, {"t": chain.tenant_id}) if r.rx_number == number]
    data = _first(reply)
    if data.get("rx_number") != number:
        return "miss", f"another prescription or none: {data.get('rx_number')}"
    due = _next_due(row)
    truth = (row.status, row.refills_remaining, due.isoformat() if due else None)
    shown = (data.get("status"), data.get("refills_remaining"), data.get("next_due"))
    return ("right", "") if shown == truth else ("wrong", f"shown {shown} but the database has {truth}")


def grade_refills_due(sql: Sql, chain: EvalChain, q: dict[str, Any], reply: Any) -> tuple[str, str]:
    if reply.intent != "refills_due":
        return "miss", f"routed to {reply.intent}"
    truth = set()
    for r in sql(_RX_TRUTH, {"t": chain.tenant_id}):
        today = _today(r.time_zone)
        due = _next_due(r)
        if r.status not in _LIVE or r.refills_remaining < 1 or due is None or q.get("branch") not in (None, r.code):
            continue
        if due <= today + timedelta(days=q["days"]) and (r.expires_on is None or r.expires_on >= today):
            truth.add(r.rx_number)
    shown = {row["rx_number"] for row in _rows(reply, "due")}
    if shown == truth:
        return "right", ""
    return ("wrong" if shown else "miss"), f"shown {sorted(shown)} but the database has {sorted(truth)}"


def grade_medication_list(sql: Sql, chain: EvalChain, q: dict[str, Any], reply: Any) -> tuple[str, str]:
    if reply.intent != "medication_list":
        return "miss", f"routed to {reply.intent}"
    data = _first(reply)
    if q["expect"] == "ask":
        if data.get("medications"):
            return "wrong", "listed one patient's medicines for a name several patients share"
        return ("right", "") if len(data.get("choices", [])) > 1 else ("miss", "no choice of patients")
    if data.get("patient") != q["patient"]:
        return "miss", f"another patient or none: {data.get('patient')}"
    rows = sql(_RX_TRUTH, {"t": chain.tenant_id})
    names = _names(chain, rows)
    truth = {r.rx_number for r in rows if names[r.patient_id] == q["patient"] and r.status in _LIVE}
    shown = {m["rx_number"] for m in data.get("medications", [])}
    return ("right", "") if shown == truth else ("wrong", f"shown {sorted(shown)} but the database has {sorted(truth)}")


def grade_recall(sql: Sql, chain: EvalChain, q: dict[str, Any], reply: Any) -> tuple[str, str]:
    if reply.intent != "recall":
        return "miss", f"routed to {reply.intent}"
    data = _first(reply)
    shown = Counter((r["patient"], r["quantity"]) for r in data.get("recipients", []))
    if q["expect"] == "ask":
        if shown:
            return "wrong", "listed patients without knowing which maker's lot"
        return ("right", "") if len(data.get("choices", [])) > 1 else ("miss", "did not ask which medicine")
    rows = sql(
        "SELECT r.patient_id, fl.quantity FROM prescription_fill_lots fl "
        "JOIN batches b ON b.tenant_id = fl.tenant_id AND b.id = fl.batch_id "
        "JOIN medicines m ON m.tenant_id = b.tenant_id AND m.id = b.medicine_id "
        "JOIN prescription_fills f ON f.tenant_id = fl.tenant_id AND f.id = fl.fill_id "
        "JOIN prescriptions r ON r.tenant_id = f.tenant_id AND r.id = f.prescription_id "
        "WHERE fl.tenant_id = :t AND b.lot_number = :lot AND m.brand_name = :maker AND f.status <> 'returned'",
        {"t": chain.tenant_id, "lot": q["lot"], "maker": q["maker"]},
    )
    names = _names(chain, rows)
    truth = Counter((names[r.patient_id], r.quantity) for r in rows)
    if q["maker"] not in data.get("medicine", ""):
        return "miss", f"traced {data.get('medicine')}"
    if shown == truth:
        return "right", ""
    return ("wrong" if shown else "miss"), f"shown {dict(shown)} but the database has {dict(truth)}"


GRADERS: dict[str, Callable[[Sql, EvalChain, dict[str, Any], Any], tuple[str, str]]] = {
    "stock": grade_stock,
    "expiring": grade_expiring,
    "low_stock": grade_low_stock,
    "sales": grade_sales,
    "bill": grade_bill,
    "drug_info": grade_drug_info,
    "refill_status": grade_refill_status,
    "refills_due": grade_refills_due,
    "medication_list": grade_medication_list,
    "recall": grade_recall,
}


def run_evaluation(
    sql: Sql, chain: EvalChain, questions: list[dict[str, Any]], *, answer: Callable[[Any, str], Any] | None = None
) -> list[Graded]:
    """Ask every question as the chain's owner with the local engine; grade each answer."""
    if answer is None:
        from backend.assistant.local_engine import answer

    ctx = chain.ctx()
    graded = []
    for q in questions:
        asked = fill(q["question"], chain)
        started = time.perf_counter()
        reply = answer(ctx, asked)
        millis = (time.perf_counter() - started) * 1000
        grade, why = GRADERS[q["intent"]](sql, chain, q, reply)
        graded.append(Graded(q, asked, grade, why, reply.intent, millis))
    return graded


@dataclass(frozen=True)
class Score:
    intent: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def accuracy(self) -> float:
        return self.counts.get("right", 0) / self.total if self.total else 0.0


def scores(graded: list[Graded]) -> list[Score]:
    intents = sorted({g.question["intent"] for g in graded})
    out = [Score(i, dict(Counter(g.grade for g in graded if g.question["intent"] == i))) for i in intents]
    return [*out, Score("all", dict(Counter(g.grade for g in graded)))]


def report(graded: list[Graded]) -> str:
    lines = [f"{'intent':<15} {'n':>4} {'right':>6} {'asked':>6} {'miss':>5} {'wrong':>6} {'accuracy':>9}"]
    for s in scores(graded):
        c = s.counts
        lines.append(
            f"{s.intent:<15} {s.total:>4} {c.get('right', 0):>6} {c.get('asked', 0):>6} {c.get('miss', 0):>5} "
            f"{c.get('wrong', 0):>6} {s.accuracy:>8.1%}"
        )
    times = sorted(g.millis for g in graded)
    if times:
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        lines.append(f"latency per answer: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms")
    return "\n".join(lines)
