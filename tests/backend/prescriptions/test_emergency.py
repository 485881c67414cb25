"""Prescription-only medicine at the counter: under the US rule only a checked fill reaches a bill (a typed
reference and a pharmacist's override are refused, with what to do instead); a chain whose jurisdiction
allows it keeps the old counter; controlled medicines are always a fill. The pharmacist's emergency
supply is a signed prescription of a few days, verified, filled and checked, sold like any fill."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from backend.accounts.signatures import SignatureRefused, sign
from backend.billing.bills.counter import save_draft, sell_for_cash
from backend.billing.bills.service import FillRequired, create_draft
from backend.billing.statuses import BillStatus
from backend.core.errors import PermissionDenied, ValidationFailed
from backend.inventory.service import receive_stock
from backend.prescriptions import emergency, fills, pickup
from backend.prescriptions.enums import FillStatus, RxSource, RxStatus
from backend.prescriptions.service import get_prescription, update_rx_settings
from backend.prescriptions.verification import verifications
from tests.backend.prescriptions.test_pickup import PASSWORD, checked_fill, handed_over, member

BARCODE = "00093711101"
REASON = "patient's usual lisinopril, surgery closed for the weekend, verified on the pharmacy profile"


@pytest.fixture
def staff(pharmacy):
    pharmacist, _ = member(pharmacy, "pharmacist")
    cashier, _ = member(pharmacy, "cashier")
    return pharmacist, cashier


@pytest.fixture
def shelf(pharmacy, db):
    """Lisinopril on the shelf with its barcode, for the final check."""
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE medicines SET barcode = :b, default_sell_price = 1.50 WHERE id = :m"),
        {"b": BARCODE, "m": pharmacy.medicines["lisinopril"]},
    )
    pharmacy.run(
        pharmacy.owner,
        receive_stock,
        branch_id=pharmacy.branch,
        medicine_id=pharmacy.medicines["lisinopril"],
        lot_number="LIS-E1",
        expiry_date=(date.today() + timedelta(days=400)).isoformat(),
        quantity=100,
    )


def typed(pharmacy, medicine: str, **extra) -> dict:
    return {"medicine_id": pharmacy.medicines[medicine], "quantity": 1, **extra}


def signed(pharmacist, patient: str) -> str:
    return sign(
        pharmacist,
        password=PASSWORD,
        meaning=emergency.signature_meaning("Lisinopril 10 mg", 6, "Pat Example"),
        entity_type="emergency_supply",
        entity_id=patient,
    )


def supply(pharmacy, ctx, patient: str, **change):
    fields = {
        "branch_id": pharmacy.branch,
        "patient_id": patient,
        "medicine_id": pharmacy.medicines["lisinopril"],
        "quantity": "6",
        "days_supply": "3",
        "sig": "1 tab po bid",
        "reason": REASON,
        "barcode": BARCODE,
        **change,
    }
    if "signature_id" not in fields:
        fields["signature_id"] = signed(ctx, patient)
    return pharmacy.run(ctx, emergency.record_emergency_supply, **fields)


def prescriptions(db, pharmacy) -> int:
    db.execute(text("RESET ROLE"))
    return int(
        db.execute(
            text("SELECT count(*) FROM prescriptions WHERE tenant_id = :t"), {"t": pharmacy.owner.tenant_id}
        ).scalar_one()
    )


# --- the counter rule ---------------------------------------------------------------------------------


def test_the_us_rule_sells_prescription_only_medicine_only_as_a_checked_fill(pharmacy, staff, db):
    pharmacist, cashier = staff
    for who, line in (
        (cashier, typed(pharmacy, "lisinopril", prescription_ref="RX-12345")),  # any text typed as a reference
        (pharmacist, typed(pharmacy, "lisinopril", override_reason="regular patient, prescriber unreachable")),
    ):
        with pytest.raises(FillRequired) as refused:
            pharmacy.run(who, create_draft, branch_id=pharmacy.branch, lines=[line])
        assert refused.value.field == "lines[0].medicine_id"
        assert refused.value.message == (
            "Lisinopril 10 mg is prescription-only: it is sold only as a verified fill. "
            "Scan the fill's label, or record an emergency supply."
        )
    with pytest.raises(FillRequired, match="Oxycodone 5 mg is a controlled medicine"):
        pharmacy.run(
            cashier,
            create_draft,
            branch_id=pharmacy.branch,
            lines=[typed(pharmacy, "oxycodone", prescription_ref="CII-1")],
        )
    done = checked_fill(pharmacy, db)
    draft = pharmacy.run(cashier, save_draft, branch_id=pharmacy.branch, bill_id=None, lines=[{"fill_id": done.id}])
    assert [(x.fill_id, x.prescription_ref) for x in draft.bill.lines] == [(done.id, done.code)]


def test_a_chain_whose_jurisdiction_allows_it_keeps_the_reference_but_controlled_is_always_a_fill(pharmacy, staff):
    _, cashier = staff
    with pytest.raises(PermissionDenied):  # the owner's call, not the cashier's
        pharmacy.run(cashier, update_rx_settings, counter_rule="reference_or_override")
    with pytest.raises(ValidationFailed) as bad:
        pharmacy.run(pharmacy.owner, update_rx_settings, counter_rule="anything goes")
    assert bad.value.field == "counter_rule"
    rules = pharmacy.run(pharmacy.owner, update_rx_settings, counter_rule="reference_or_override")
    assert rules.counter_rule == "reference_or_override" and rules.emergency_max_days == 3

    bill = pharmacy.run(
        cashier,
        create_draft,
        branch_id=pharmacy.branch,
        lines=[typed(pharmacy, "lisinopril", prescription_ref="RX-12345")],
    )
    assert bill.lines[0].prescription_ref == "RX-12345"
    for line in (
        typed(pharmacy, "alprazolam", prescription_ref="CIV-9"),
        typed(pharmacy, "oxycodone", override_reason="regular patient, prescriber unreachable"),
    ):
        with pytest.raises(FillRequired, match="controlled medicine: it is sold only as its prescription's"):
            pharmacy.run(pharmacy.pharmacist, create_draft, branch_id=pharmacy.branch, lines=[line])


# --- the emergency supply ---------------------------------------------------------------------------


def test_an_emergency_supply_is_a_verified_prescription_whose_checked_fill_sells_with_the_pickup(
    pharmacy, staff, shelf, db
):
    pharmacist, cashier = staff
    patient = pharmacy.patient("Erin Emergency")
    made = supply(pharmacy, pharmacist, patient)

    assert (made.medicine, made.quantity, made.days_supply) == ("Lisinopril 10 mg", 6, 3)
    record = pharmacy.run(pharmacy.pharmacist, get_prescription, made.prescription_id)
    assert record.source == RxSource.EMERGENCY_SUPPLY and record.prescriber_id is None
    assert record.refills_authorized == 0 and record.status == RxStatus.READY_FOR_PICKUP
    assert [e.action for e in record.events] == ["emergency_supply", "filled", "final_check"]
    stored = pharmacy.run(pharmacy.pharmacist, verifications, made.prescription_id)
    assert len(stored) == 1 and stored[0].dur_result["reason"] == REASON
    assert stored[0].verified_by == "Pharmacist Member" and "emergency supply" in stored[0].signature_meaning
    fill = pharmacy.run(pharmacy.pharmacist, fills.get_fill, made.fill_id)
    assert (fill.status, fill.quantity, fill.code) == (FillStatus.CHECKED, 6, made.fill_code)
    db.execute(text("RESET ROLE"))
    audited = db.execute(
        text(
            "SELECT actor_user_id, details FROM audit_events WHERE action = 'prescription.emergency_supply' "
            "AND entity_id = :p"
        ),
        {"p": made.prescription_id},
    ).one()
    assert str(audited.actor_user_id) == str(pharmacist.user_id) and audited.details["reason"] == REASON

    # At the counter the cashier scans its label: it goes on the bill like any fill and is sold with the pickup.
    found = pharmacy.run(cashier, pickup.fill_at_counter, made.fill_code, pharmacy.branch)
    assert found is not None and found.id == made.fill_id
    draft = pharmacy.run(cashier, save_draft, branch_id=pharmacy.branch, bill_id=None, lines=[{"fill_id": found.id}])
    assert draft.bill.total_due == 9  # 6 x 1.50
    sale = pharmacy.run(
        cashier, sell_for_cash, draft.bill.id, "10", pickup=handed_over(pharmacy, pharmacist, draft.bill.id)
    )
    assert sale.bill.status == BillStatus.PAID
    assert pharmacy.run(pharmacy.pharmacist, get_prescription, made.prescription_id).status == RxStatus.DISPENSED


def test_an_emergency_supply_is_refused_and_nothing_written(pharmacy, staff, shelf, db):
    pharmacist, cashier = staff
    patient = pharmacy.patient("Erin Emergency")
    before = prescriptions(db, pharmacy)
    refusals = [
        ({"patient_id": "", "signature_id": "none"}, ValidationFailed, "Choose the patient"),
        ({"medicine_id": pharmacy.medicines["oxycodone"]}, ValidationFailed, "controlled substance"),
        ({"medicine_id": pharmacy.medicines["alprazolam"]}, ValidationFailed, "never supplied without"),
        ({"days_supply": "4"}, ValidationFailed, "at most 3 days' supply"),
        ({"reason": "weekend"}, ValidationFailed, "Say why"),
        ({"sig": " "}, ValidationFailed, "directions"),
        ({"signature_id": ""}, SignatureRefused, "Sign this"),
        ({"signature_id": str(uuid.uuid4())}, SignatureRefused, "Sign this"),
    ]
    for change, error, message in refusals:
        with pytest.raises(error, match=message):
            supply(pharmacy, pharmacist, patient, **change)
    other = pharmacy.patient("Someone Else")
    with pytest.raises(SignatureRefused, match="another record"):  # signed for another patient
        supply(pharmacy, pharmacist, patient, signature_id=signed(pharmacist, other))
    with pytest.raises(PermissionDenied):  # the cashier cannot record one, even with a pharmacist's signature
        supply(pharmacy, cashier, patient, signature_id=signed(pharmacist, patient))
    assert prescriptions(db, pharmacy) == before

    # The chain's limit is a setting; a signature is spent on one supply only.
    pharmacy.run(pharmacy.owner, update_rx_settings, emergency_max_days="5")
    signature = signed(pharmacist, patient)
    assert supply(pharmacy, pharmacist, patient, days_supply="5", signature_id=signature).days_supply == 5
    with pytest.raises(SignatureRefused, match="another emergency supply"):
        supply(pharmacy, pharmacist, patient, signature_id=signature)
    assert prescriptions(db, pharmacy) == before + 1
