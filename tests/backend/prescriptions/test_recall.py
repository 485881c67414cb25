"""The recall trace: a lot lists exactly the patients who received it (fills and counter sales to a
patient), another maker's or another chain's identical lot number is not theirs, every patient listed
is written to the access log, and only pharmacists and owners may run it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from backend.billing.bills.service import create_draft, finalize_bill, void_bill
from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.inventory.service import create_medicine
from backend.prescriptions import fills, recall
from tenants.context import TenantContext
from tests.backend.prescriptions.conftest import Pharmacy, stock
from tests.backend.prescriptions.test_fills import receive


@dataclass
class Recalled:
    pharmacy: Pharmacy
    ann: str
    ben: str
    cy: str
    dee: str
    cetirizine: str  # another maker's product with a lot numbered like lisinopril's
    dee_bill: str  # the number of Dee's counter sale
    fill_codes: dict[str, str]  # patient name -> the fill's code


def filled(pharmacy: Pharmacy, name: str, medicine: str = "lisinopril") -> tuple[str, str]:
    patient = pharmacy.patient(name)
    rx = pharmacy.on_profile(patient, medicine, quantity="30")
    return patient, pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id).code


def sell(pharmacy: Pharmacy, medicine_id: str, quantity: int, patient: str | None = None):
    draft = pharmacy.run(
        pharmacy.owner,
        create_draft,
        branch_id=pharmacy.branch,
        lines=[{"medicine_id": medicine_id, "quantity": quantity}],
        patient_id=patient,
    )
    return pharmacy.run(pharmacy.owner, finalize_bill, draft.id)


def recalled_chain(pharmacy: Pharmacy) -> Recalled:
    """Ann and Ben got lisinopril lot A (the only lot then); Cy got lot B; Dee bought cetirizine whose
    maker also numbers a lot 'A-100' at the counter; a walk-in bought some too (no patient)."""
    receive(pharmacy, "lisinopril", "A-100", 60)
    ann, ann_code = filled(pharmacy, "Ann Archer")
    ben, ben_code = filled(pharmacy, "Ben Baker")
    receive(pharmacy, "lisinopril", "B-200", 60)
    cy, cy_code = filled(pharmacy, "Cy Cole")
    cetirizine = pharmacy.run(
        pharmacy.owner,
        create_medicine,
        generic_name="Cetirizine",
        brand_name="Zyrtec",
        strength="10 mg",
        schedule="otc",
        default_sell_price="2.00",
    )
    pharmacy.medicines["cetirizine"] = cetirizine
    receive(pharmacy, "cetirizine", "A-100", 50)
    dee = pharmacy.patient("Dee Dunn")
    dee_bill = sell(pharmacy, cetirizine, 3, dee).number
    sell(pharmacy, cetirizine, 2)  # a walk-in customer: nobody to call
    codes = {"Ann Archer": ann_code, "Ben Baker": ben_code, "Cy Cole": cy_code}
    return Recalled(pharmacy, ann, ben, cy, dee, cetirizine, dee_bill, codes)


@pytest.fixture
def recalled(pharmacy) -> Recalled:
    return recalled_chain(pharmacy)


def access_rows(db, reason: str = recall.ACCESS_REASON) -> list[tuple[str, str]]:
    db.execute(text("RESET ROLE"))
    rows = db.execute(
        text("SELECT l.patient_id, l.action FROM patient_access_log l WHERE l.reason = :r ORDER BY l.id"),
        {"r": reason},
    ).all()
    return [(str(r.patient_id), r.action) for r in rows]


def test_a_lot_lists_exactly_the_patients_who_received_it(recalled, make_tenant, db):
    p = recalled.pharmacy
    # Another chain fills its own patient from a lisinopril lot with the same number: not listed here.
    other = stock(make_tenant("rx-other", branches=2))
    receive(other, "lisinopril", "A-100", 30)
    filled(other, "Other Chain Patient")

    found = p.run(p.pharmacist, recall.trace_lot, "A-100", p.medicines["lisinopril"])

    assert found.product is not None and found.product.name == "Lisinopril 10 mg"
    assert [(r.patient_name, r.kind, r.reference, r.quantity, r.lot_number) for r in found.recipients] == [
        ("Ann Archer", "fill", recalled.fill_codes["Ann Archer"], 30, "A-100"),
        ("Ben Baker", "fill", recalled.fill_codes["Ben Baker"], 30, "A-100"),
    ]
    assert found.patients == 2
    first = found.recipients[0]
    assert first.branch_id == p.branch and first.status == "Awaiting final check"
    assert first.date_of_birth.isoformat() == "1960-05-01"
    # Lot B is Cy's alone.
    lot_b = p.run(p.owner, recall.trace_lot, "b-200")  # typed in lower case from the notice
    assert [r.patient_name for r in lot_b.recipients] == ["Cy Cole"]


def test_a_counter_sale_to_a_patient_is_traced_and_a_walk_in_or_voided_sale_is_not(recalled):
    p = recalled.pharmacy
    voided = sell(p, recalled.cetirizine, 1, recalled.ann)
    p.run(p.owner, void_bill, voided.id, reason="rang up by mistake")

    found = p.run(p.pharmacist, recall.trace_lot, "A-100", recalled.cetirizine)

    assert [(r.patient_name, r.kind, r.reference, r.quantity, r.status) for r in found.recipients] == [
        ("Dee Dunn", "bill", recalled.dee_bill, 3, "finalized")
    ]
    assert found.product is not None and found.product.maker == "Zyrtec"


def test_a_lot_number_two_makers_use_asks_which_medicine_and_lists_nobody(recalled, db):
    p = recalled.pharmacy
    found = p.run(p.pharmacist, recall.trace_lot, "A-100")

    assert found.needs_choice and found.recipients == []
    assert sorted(x.label() for x in found.products) == ["Cetirizine 10 mg, Zyrtec", "Lisinopril 10 mg"]
    assert access_rows(db) == []  # nobody shown, nobody logged


def test_every_patient_listed_is_written_to_the_access_log(recalled, db):
    p = recalled.pharmacy
    p.run(p.pharmacist, recall.trace_lot, "A-100", p.medicines["lisinopril"])

    assert access_rows(db) == [(recalled.ann, "viewed"), (recalled.ben, "viewed")]
    who = db.execute(text("SELECT DISTINCT user_id FROM patient_access_log WHERE reason = 'recall trace'")).all()
    assert [r.user_id for r in who] == [p.pharmacist.user_id]


def test_a_batch_link_traces_its_lot_at_every_branch(recalled, db):
    p = recalled.pharmacy
    db.execute(text("RESET ROLE"))
    batch = db.execute(
        text("SELECT id FROM batches WHERE lot_number = 'A-100' AND medicine_id = :m"),
        {"m": p.medicines["lisinopril"]},
    ).scalar_one()

    found = p.run(p.owner, recall.trace_batch, str(batch))

    assert [r.patient_name for r in found.recipients] == ["Ann Archer", "Ben Baker"]


@pytest.mark.parametrize("role", ["cashier", "technician", "manager"])
def test_only_pharmacists_and_owners_trace_a_lot(recalled, db, role):
    p = recalled.pharmacy
    ctx = TenantContext(tenant_id=p.chain.tenant_id, user_id=uuid.uuid4(), role=role)

    with pytest.raises(PermissionDenied):
        p.run(ctx, recall.trace_lot, "A-100", p.medicines["lisinopril"])
    assert access_rows(db) == []


def test_a_member_of_another_branch_sees_no_one_from_this_branch(recalled, db):
    p = recalled.pharmacy
    elsewhere = TenantContext(
        tenant_id=p.chain.tenant_id,
        user_id=p.pharmacist.user_id,
        role="pharmacist",
        branch_ids=frozenset({uuid.UUID(p.other_branch)}),
    )
    found = p.run(elsewhere, recall.trace_lot, "A-100")
    assert found.products == [] and found.product is None and found.recipients == []
    with pytest.raises(NotFound):
        p.run(elsewhere, recall.trace_lot, "A-100", p.medicines["lisinopril"])
    assert access_rows(db) == []


@pytest.mark.parametrize(("lot", "message"), [("   ", "Enter the lot number"), ("X" * 61, "at most 60")])
def test_a_bad_lot_number_is_refused_in_words(recalled, lot, message):
    p = recalled.pharmacy
    with pytest.raises(ValidationFailed, match=message):
        p.run(p.pharmacist, recall.trace_lot, lot)
