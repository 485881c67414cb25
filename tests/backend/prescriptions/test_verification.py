"""The verification screen's DUR, computed on the server from the patient's record, and the signed override.

Each alert type has a case that raises it and a twin that does not, so each assertion can fail."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import text

from backend.billing.bills.counter import sell_for_cash
from backend.billing.bills.service import create_draft, finalize_bill
from backend.core.errors import ValidationFailed
from backend.inventory.service import receive_stock
from backend.prescriptions import verification
from backend.prescriptions.enums import RxStatus
from backend.prescriptions.service import get_prescription, update_rx_settings
from tests.backend.prescriptions.test_pickup import checked_fill, handed_over, member, on_the_bill


def alerts(pharmacy, rx_id: str, kind: str | None = None) -> list:
    found = pharmacy.run(pharmacy.pharmacist, verification.review, rx_id).alerts
    return [a for a in found if kind is None or a.type == kind]


def test_warfarin_then_an_nsaid_is_a_major_interaction_that_needs_a_signed_override(pharmacy, db):
    patient = pharmacy.patient("Walter Warfarin")
    pharmacy.on_profile(patient, "warfarin")
    rx = pharmacy.entered(patient, "ibuprofen", sig_written="1 tab po tid prn pain", quantity="30")
    found = pharmacy.run(pharmacy.pharmacist, verification.review, rx.id)
    assert [a.drug for a in found.active] == ["Warfarin"]
    interaction = [a for a in found.alerts if a.type == "interaction"]
    assert interaction and interaction[0].severity == "major" and interaction[0].needs_resolution
    assert "warfarin" in interaction[0].with_.lower() and interaction[0].source
    # Without an override reason nothing is written, and the message names the alert.
    with pytest.raises(ValidationFailed, match="major interaction alert"):
        pharmacy.verify(rx.id)
    with pytest.raises(ValidationFailed, match="at least 10 characters"):
        pharmacy.verify(rx.id, {interaction[0].code: "ok"})
    db.execute(text("RESET ROLE"))
    overrides = text("SELECT count(*) FROM prescription_dur_overrides WHERE tenant_id = :t")
    assert db.execute(overrides, {"t": pharmacy.chain.tenant_id}).scalar_one() == 0  # this chain's (others commit)
    reason = "short course, INR check booked for Friday, prescriber aware"
    done = pharmacy.verify(rx.id, {interaction[0].code: reason})
    assert done.status is RxStatus.FILL
    stored = pharmacy.run(pharmacy.pharmacist, verification.verifications, rx.id)[0]
    assert stored.overrides[0]["reason"] == reason and stored.overrides[0]["severity"] == "major"
    assert any(a["type"] == "interaction" for a in stored.dur_result["alerts"])  # what was known then
    assert stored.dur_result["overrides"] == {interaction[0].code: reason}


def test_an_nsaid_without_warfarin_raises_no_interaction(pharmacy):
    rx = pharmacy.entered(pharmacy.patient(), "ibuprofen", sig_written="1 tab po tid", quantity="30")
    assert alerts(pharmacy, rx.id, "interaction") == []
    assert pharmacy.verify(rx.id).status is RxStatus.FILL  # nothing to override


def test_penicillin_allergy_and_amoxicillin_is_a_major_allergy_alert(pharmacy):
    allergic = pharmacy.entered(
        pharmacy.patient("Penny Allergic", allergies="Penicillin (hives)"), "amoxicillin", sig_written="1 cap po tid"
    )
    found = alerts(pharmacy, allergic.id, "allergy")
    assert [(a.severity, a.needs_resolution) for a in found] == [("major", True)]
    clear = pharmacy.entered(
        pharmacy.patient("No Allergies", allergies="NKDA"), "amoxicillin", sig_written="1 cap po tid"
    )
    assert alerts(pharmacy, clear.id, "allergy") == []


def test_two_nsaids_are_a_duplication(pharmacy):
    patient = pharmacy.patient()
    pharmacy.on_profile(patient, "naproxen", sig_written="1 tab po bid")
    rx = pharmacy.entered(patient, "ibuprofen", sig_written="1 tab po tid")
    assert [a.with_ for a in alerts(pharmacy, rx.id, "duplication")] != []
    alone = pharmacy.entered(pharmacy.patient("Another"), "ibuprofen", sig_written="1 tab po tid")
    assert alerts(pharmacy, alone.id, "duplication") == []


def test_the_same_ingredient_early_is_an_early_refill_not_a_duplication(pharmacy):
    patient = pharmacy.patient()
    pharmacy.on_profile(patient, "lisinopril", quantity="30")  # 30 days from today
    again = pharmacy.entered(patient, "lisinopril", quantity="30")
    assert alerts(pharmacy, again.id, "early_refill") != []
    assert alerts(pharmacy, again.id, "duplication") == []
    first_time = pharmacy.entered(pharmacy.patient("First Time"), "lisinopril", quantity="30")
    assert alerts(pharmacy, first_time.id, "early_refill") == []


def test_methotrexate_daily_is_a_dose_alert_and_weekly_is_not(pharmacy):
    daily = pharmacy.entered(pharmacy.patient(), "methotrexate", sig_written="1 tab po daily", quantity="30")
    assert [a.severity for a in alerts(pharmacy, daily.id, "dose")][:1] == ["major"]
    weekly = pharmacy.entered(pharmacy.patient("Weekly"), "methotrexate", sig_written="3 tabs po weekly", quantity="12")
    assert [a for a in alerts(pharmacy, weekly.id, "dose") if a.needs_resolution] == []


def test_a_controlled_substance_is_flagged(pharmacy):
    cii = pharmacy.entered(pharmacy.patient(), "oxycodone", sig_written="1 tab po q6h prn pain", quantity="20")
    assert [a.summary[:22] for a in alerts(pharmacy, cii.id, "controlled")] == ["Schedule II controlled"]
    plain = pharmacy.entered(pharmacy.patient("Plain"), "lisinopril")
    assert alerts(pharmacy, plain.id, "controlled") == []


def test_a_counter_sale_to_the_patient_counts_as_an_active_medication(pharmacy):
    # A jurisdiction where the counter sells it on a paper reference (the US rule would need its fill).
    pharmacy.run(pharmacy.owner, update_rx_settings, counter_rule="reference_or_override")
    patient = pharmacy.patient("Counter Buyer")
    pharmacy.run(
        pharmacy.owner,
        receive_stock,
        branch_id=pharmacy.branch,
        medicine_id=pharmacy.medicines["naproxen"],
        lot_number=f"N-{uuid.uuid4().hex[:4]}",
        expiry_date=date(date.today().year + 2, 1, 1).isoformat(),
        quantity=10,
    )
    sale = pharmacy.run(
        pharmacy.owner,
        create_draft,
        branch_id=pharmacy.branch,
        lines=[{"medicine_id": pharmacy.medicines["naproxen"], "quantity": 1, "prescription_ref": "paper"}],
        patient_id=patient,
    )
    pharmacy.run(pharmacy.owner, finalize_bill, sale.id)
    rx = pharmacy.entered(patient, "ibuprofen", sig_written="1 tab po tid")
    found = pharmacy.run(pharmacy.pharmacist, verification.review, rx.id)
    assert [(a.drug, a.source) for a in found.active] == [("Naproxen", "counter sale")]
    assert [a for a in found.alerts if a.type == "duplication"] != []


def test_a_fill_picked_up_at_the_counter_is_not_a_counter_sale_of_itself(pharmacy, db):
    """The bill line of a fill is its prescription's dispensing: the review of that prescription (and of a
    new one) counts the prescription, never the pickup again as a counter sale (an early refill of itself)."""
    (pharmacist, _), (cashier, _) = member(pharmacy, "pharmacist"), member(pharmacy, "cashier")
    done = checked_fill(pharmacy, db)
    draft = on_the_bill(pharmacy, cashier, done.id)
    pharmacy.run(cashier, sell_for_cash, draft.bill.id, "50", pickup=handed_over(pharmacy, pharmacist, draft.bill.id))
    found = pharmacy.run(pharmacy.pharmacist, verification.review, done.prescription_id)
    assert found.active == [] and found.alerts == []
    first = pharmacy.run(pharmacy.owner, get_prescription, done.prescription_id)
    again = pharmacy.entered(first.patient_id, "lisinopril")
    found = pharmacy.run(pharmacy.pharmacist, verification.review, again.id)
    assert [a.source for a in found.active] == [f"Rx {first.rx_number}"]


def test_the_structured_allergy_record_wins_over_the_free_text(pharmacy):
    from backend.patients.allergies import record_allergies

    patient = pharmacy.patient("Structured Allergy", allergies="")
    pharmacy.run(pharmacy.owner, record_allergies, patient, "penicillin (anaphylaxis)")
    rx = pharmacy.entered(patient, "amoxicillin", sig_written="1 cap po tid")
    found = pharmacy.run(pharmacy.pharmacist, verification.review, rx.id)
    assert [a.severity for a in found.alerts if a.type == "allergy"] == ["major"]
    assert found.allergies_label == "penicillin (anaphylaxis)"
    # Asked, none known: the free text's old "penicillin" is not read any more.
    old = pharmacy.patient("Old Free Text", allergies="penicillin")
    pharmacy.run(pharmacy.owner, record_allergies, old, "", none_known=True)
    rx = pharmacy.entered(old, "amoxicillin", sig_written="1 cap po tid")
    found = pharmacy.run(pharmacy.pharmacist, verification.review, rx.id)
    assert [a for a in found.alerts if a.type == "allergy"] == [] and found.allergies_label == "No known allergies"
