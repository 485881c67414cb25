"""Prescriptions through the queue: intake, entry, verification with DUR, holds, cancelling, and every refusal."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import text

from backend.accounts.signatures import SignatureRefused
from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.prescriptions import service, verification
from backend.prescriptions.enums import RxStatus
from backend.prescriptions.service import ExpiredPrescription, RefusedTransition, SamePersonVerification
from tests.backend.prescriptions.conftest import stock


def count(db, table: str, tenant_id) -> int:
    db.execute(text("RESET ROLE"))
    return int(db.execute(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": tenant_id}).scalar_one())


def test_intake_entry_and_verification_end_ready_to_fill_with_the_history(pharmacy, db):
    patient = pharmacy.patient()
    rx = pharmacy.run(
        pharmacy.technician,
        service.create_prescription,
        branch_id=pharmacy.branch,
        patient_id=patient,
        source="fax",
        image=_jpeg(),
    )
    assert (rx.status, rx.rx_number, rx.has_image) == (RxStatus.INTAKE, "B1-000001", True)
    rx = pharmacy.run(
        pharmacy.technician,
        service.save_entry,
        rx.id,
        prescriber_id=pharmacy.prescriber,
        drug_written="Lisinopril 10mg",
        medicine_id=pharmacy.medicines["lisinopril"],
        sig_written="1 tab po daily",
        quantity="90",
        refills_authorized="3",
        date_written=date.today().isoformat(),
    )
    assert rx.status is RxStatus.DATA_ENTRY
    assert rx.sig_expanded == "Take 1 tablet by mouth once daily"
    assert rx.days_supply == 90  # computed from the sig and quantity
    assert rx.expires_on == service.add_months(date.today(), 12)  # non-controlled: 12 months
    rx = pharmacy.run(pharmacy.technician, service.submit_for_verification, rx.id)
    assert rx.status is RxStatus.VERIFICATION
    done = pharmacy.verify(rx.id)
    assert done.status is RxStatus.FILL and done.verified_at is not None
    assert [e.action for e in done.events] == ["received", "entry_saved", "submitted", "verified"]
    stored = pharmacy.run(pharmacy.pharmacist, verification.verifications, rx.id)
    assert len(stored) == 1 and "verified the prescription" in stored[0].signature_meaning
    assert "alerts" in stored[0].dur_result and stored[0].overrides == []
    # Rx numbers run per branch and never repeat in the chain.
    second = pharmacy.run(
        pharmacy.technician, service.create_prescription, branch_id=pharmacy.branch, patient_id=patient, source="phone"
    )
    other = pharmacy.run(
        pharmacy.technician,
        service.create_prescription,
        branch_id=pharmacy.other_branch,
        patient_id=patient,
        source="phone",
    )
    assert (second.rx_number, other.rx_number) == ("B1-000002", "B2-000001")


def test_opening_a_prescription_is_written_to_the_patient_access_log(pharmacy, db):
    rx = pharmacy.entered(pharmacy.patient(), "lisinopril")
    before = count(db, "patient_access_log", pharmacy.chain.tenant_id)
    pharmacy.run(pharmacy.pharmacist, service.get_prescription, rx.id)
    assert count(db, "patient_access_log", pharmacy.chain.tenant_id) == before + 1


def test_bad_entry_is_refused_with_the_field_named_and_writes_nothing(pharmacy, db):
    rx = pharmacy.run(
        pharmacy.technician,
        service.create_prescription,
        branch_id=pharmacy.branch,
        patient_id=pharmacy.patient(),
        source="walk_in",
    )
    events = count(db, "prescription_events", pharmacy.chain.tenant_id)
    cases = [
        ({"quantity": "ten"}, "quantity"),
        ({"date_written": "05/01/2026"}, "date_written"),
        ({"date_written": (date.today() + timedelta(days=2)).isoformat()}, "date_written"),
        ({"date_written": (date.today() - timedelta(days=400)).isoformat()}, "date_written"),  # expired
        ({"medicine_id": pharmacy.medicines["oxycodone"], "refills_authorized": "1"}, "refills_authorized"),  # CII
        ({"medicine_id": pharmacy.medicines["oxycodone"], "days_supply": "91"}, "days_supply"),
        ({"medicine_id": pharmacy.medicines["alprazolam"], "refills_authorized": "6"}, "refills_authorized"),
        ({"prescriber_id": "not-an-id"}, "prescriber_id"),
    ]
    for fields, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            pharmacy.run(pharmacy.technician, service.save_entry, rx.id, **fields)
        assert refused.value.field == field, fields
    assert count(db, "prescription_events", pharmacy.chain.tenant_id) == events
    with pytest.raises(ValidationFailed, match="the prescriber, the catalog medicine, the sig"):
        pharmacy.run(pharmacy.technician, service.submit_for_verification, rx.id)
    with pytest.raises(ValidationFailed, match="walk-in, phone, fax, portal or electronic"):
        pharmacy.run(
            pharmacy.technician,
            service.create_prescription,
            branch_id=pharmacy.branch,
            patient_id=pharmacy.patient(),
            source="pigeon",
        )


def test_controlled_rules_set_expiry_and_allow_a_cii_series(pharmacy):
    patient = pharmacy.patient()
    cii = pharmacy.entered(
        patient,
        "oxycodone",
        sig_written="1 tab po q6h prn pain",
        quantity="120",
        earliest_fill_date=(date.today() + timedelta(days=30)).isoformat(),
    )
    assert (cii.schedule, cii.refills_authorized, cii.days_supply) == ("CII", 0, 30)
    assert cii.earliest_fill_date == date.today() + timedelta(days=30)
    civ = pharmacy.entered(patient, "alprazolam", refills_authorized="5")
    assert civ.schedule == "CIV" and civ.expires_on == service.add_months(date.today(), 6)
    with pytest.raises(ValidationFailed, match="Schedule II"):
        pharmacy.entered(patient, "lisinopril", earliest_fill_date=date.today().isoformat())


def test_refusals_in_the_queue_write_nothing_and_say_why(pharmacy, db):
    patient = pharmacy.patient()
    rx = pharmacy.run(
        pharmacy.technician, service.create_prescription, branch_id=pharmacy.branch, patient_id=patient, source="phone"
    )
    with pytest.raises(RefusedTransition, match="not waiting for verification"):
        pharmacy.verify(rx.id)
    with pytest.raises(PermissionDenied):
        pharmacy.run(
            pharmacy.cashier, service.create_prescription, branch_id=pharmacy.branch, patient_id=patient, source="phone"
        )
    entered = pharmacy.entered(patient, "lisinopril")
    with pytest.raises(PermissionDenied):  # a technician enters; only a pharmacist verifies
        pharmacy.run(pharmacy.technician, verification.verify, entered.id, signature_id=pharmacy.sign(entered.id))
    with pytest.raises(RefusedTransition, match="only in intake or data entry"):
        pharmacy.run(pharmacy.technician, service.save_entry, entered.id, quantity="60")
    # The two-person rule: the pharmacist who typed it in may not verify it.
    own = dataclasses.replace(pharmacy.technician, user_id=pharmacy.pharmacist.user_id)
    mine = pharmacy.run(
        own,
        service.create_prescription,
        branch_id=pharmacy.branch,
        patient_id=patient,
        source="walk_in",
        prescriber_id=pharmacy.prescriber,
        medicine_id=pharmacy.medicines["lisinopril"],
        sig_written="1 tab po daily",
        quantity="30",
        date_written=date.today().isoformat(),
    )
    pharmacy.run(own, service.submit_for_verification, mine.id)
    verifications = count(db, "prescription_verifications", pharmacy.chain.tenant_id)
    with pytest.raises(SamePersonVerification, match="another pharmacist"):
        pharmacy.verify(mine.id)
    assert count(db, "prescription_verifications", pharmacy.chain.tenant_id) == verifications
    pharmacy.run(pharmacy.owner, service.update_rx_settings, two_person_verification=False)
    assert pharmacy.verify(mine.id).status is RxStatus.FILL  # a chain with one pharmacist may allow it
    # An expired prescription is refused (time passed while it waited).
    late = pharmacy.entered(patient, "lisinopril")
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE prescriptions SET expires_on = :d WHERE id = :id"),
        {"d": date.today() - timedelta(days=1), "id": late.id},
    )
    with pytest.raises(ExpiredPrescription, match="cannot be verified"):
        pharmacy.verify(late.id)
    assert pharmacy.run(pharmacy.technician, service.expire_due, pharmacy.branch) == 1
    assert pharmacy.run(pharmacy.pharmacist, service.get_prescription, late.id).status is RxStatus.EXPIRED
    # A signature for another prescription does not verify this one.
    other = pharmacy.entered(patient, "lisinopril")
    with pytest.raises(SignatureRefused, match="another record"):
        pharmacy.run(pharmacy.pharmacist, verification.verify, other.id, signature_id=pharmacy.sign(entered.id))


def test_hold_wait_for_the_prescriber_resume_return_and_cancel(pharmacy):
    patient = pharmacy.patient()
    rx = pharmacy.entered(patient, "lisinopril")
    with pytest.raises(ValidationFailed, match="Say why"):
        pharmacy.run(pharmacy.technician, service.hold, rx.id, "")
    held = pharmacy.run(pharmacy.technician, service.hold, rx.id, "patient will come back tomorrow")
    assert (held.status, held.held_from, held.status_reason) == (
        RxStatus.ON_HOLD,
        "verification",
        "patient will come back tomorrow",
    )
    with pytest.raises(RefusedTransition):
        pharmacy.verify(rx.id)
    assert pharmacy.run(pharmacy.technician, service.resume, rx.id).status is RxStatus.VERIFICATION
    back = pharmacy.run(pharmacy.pharmacist, service.return_to_entry, rx.id, "quantity looks wrong, check the fax")
    assert back.status is RxStatus.DATA_ENTRY
    waiting = pharmacy.run(
        pharmacy.technician, service.hold, rx.id, "called the office about the dose", waiting_prescriber=True
    )
    assert waiting.status is RxStatus.WAITING_PRESCRIBER
    with pytest.raises(PermissionDenied):  # technicians hold; cancelling is the pharmacist's or a manager's
        pharmacy.run(pharmacy.technician, service.cancel, rx.id, "prescriber cancelled")
    cancelled = pharmacy.run(pharmacy.pharmacist, service.cancel, rx.id, "prescriber cancelled it by phone")
    assert cancelled.status is RxStatus.CANCELLED
    with pytest.raises(RefusedTransition, match="already cancelled"):
        pharmacy.run(pharmacy.pharmacist, service.cancel, rx.id, "again, by mistake")
    assert [e.action for e in cancelled.events][-5:] == [
        "held",
        "resumed",
        "returned_to_entry",
        "waiting_prescriber",
        "cancelled",
    ]


def test_the_queue_counts_each_status_and_lists_oldest_first(pharmacy):
    patient = pharmacy.patient("Queue Person")
    first = pharmacy.entered(patient, "lisinopril")
    second = pharmacy.entered(patient, "warfarin")
    intake = pharmacy.run(
        pharmacy.technician, service.create_prescription, branch_id=pharmacy.branch, patient_id=patient, source="fax"
    )
    pharmacy.run(
        pharmacy.technician,
        service.create_prescription,
        branch_id=pharmacy.other_branch,
        patient_id=patient,
        source="fax",
    )
    found = pharmacy.run(pharmacy.technician, service.queue, pharmacy.branch)
    assert found.counts["verification"] == 2 and found.counts["intake"] == 1 and found.counts["fill"] == 0
    assert pharmacy.run(pharmacy.pharmacist, service.queue_counts, pharmacy.branch) == found.counts  # the dashboard's
    assert [r.id for r in found.items] == [first.id, second.id, intake.id]
    waiting = pharmacy.run(pharmacy.technician, service.queue, pharmacy.branch, status="verification")
    assert [r.id for r in waiting.items] == [first.id, second.id]
    assert waiting.items[1].drug == "Warfarin 5 mg"
    searched = pharmacy.run(pharmacy.technician, service.queue, pharmacy.branch, query=second.rx_number)
    assert [r.id for r in searched.items] == [second.id]
    limited = dataclasses.replace(pharmacy.technician, branch_ids=frozenset({pharmacy.chain.branch_ids[1]}))
    with pytest.raises(NotFound):  # a member limited to branch 2 does not see branch 1's queue
        pharmacy.run(limited, service.queue, pharmacy.branch)


def test_another_chain_sees_nothing_and_cannot_point_at_our_records(pharmacy, make_tenant):
    rx = pharmacy.entered(pharmacy.patient(), "lisinopril")
    other = stock(make_tenant("otherrx", branches=2))
    with pytest.raises(NotFound):
        other.run(other.pharmacist, service.get_prescription, rx.id)
    with pytest.raises(NotFound):
        other.run(other.pharmacist, verification.review, rx.id)
    with pytest.raises(ValidationFailed, match="No such patient"):
        other.run(
            other.technician,
            service.create_prescription,
            branch_id=other.branch,
            patient_id=rx.patient_id,
            source="fax",
        )
    theirs = other.run(
        other.technician, service.create_prescription, branch_id=other.branch, patient_id=other.patient(), source="fax"
    )
    with pytest.raises(ValidationFailed, match="No such prescriber"):
        other.run(other.technician, service.save_entry, theirs.id, prescriber_id=pharmacy.prescriber)
    with pytest.raises(ValidationFailed, match="No such medicine"):
        other.run(other.technician, service.save_entry, theirs.id, medicine_id=pharmacy.medicines["warfarin"])
    assert other.run(other.technician, service.queue, other.branch).counts["verification"] == 0


def test_the_drug_matcher_keeps_release_and_strength(pharmacy):
    found = pharmacy.run(pharmacy.technician, service.match_medicines, "OxyContin")
    assert [c.id for c in found] == [pharmacy.medicines["oxycodone_er"]]  # never the immediate-release
    plain = pharmacy.run(pharmacy.technician, service.match_medicines, "oxycodone", "5 mg")
    assert [c.id for c in plain] == [pharmacy.medicines["oxycodone"]]
    brand = pharmacy.run(pharmacy.technician, service.match_medicines, "Advil")
    assert [c.id for c in brand] == [pharmacy.medicines["ibuprofen"]]
    assert pharmacy.run(pharmacy.technician, service.match_medicines, "Advil", daw=True) == []  # no brand stocked


def test_the_patient_record_lists_the_patients_prescriptions_newest_first(pharmacy, db):
    patient = pharmacy.patient("Listed Patient")
    first = pharmacy.entered(patient, "lisinopril")
    second = pharmacy.entered(patient, "warfarin")
    pharmacy.entered(pharmacy.patient("Someone Else"), "lisinopril")
    listed = pharmacy.run(pharmacy.pharmacist, service.patient_prescriptions, patient)
    assert [(p.id, p.drug) for p in listed] == [(second.id, "Warfarin 5 mg"), (first.id, "Lisinopril 10 mg")]
    with pytest.raises(NotFound):
        pharmacy.run(pharmacy.pharmacist, service.patient_prescriptions, "0c0c0c0c-0000-0000-0000-000000000000")


def test_the_original_is_read_from_its_bytes_attached_once_and_never_replaced(pharmacy):
    patient = pharmacy.patient()
    rx = pharmacy.run(
        pharmacy.technician, service.create_prescription, branch_id=pharmacy.branch, patient_id=patient, source="fax"
    )
    with pytest.raises(ValidationFailed, match="not a JPEG, PNG or PDF"):
        pharmacy.run(pharmacy.technician, service.attach_image, rx.id, b"MZ\x90\x00 not a picture")
    with pytest.raises(ValidationFailed):  # the bytes say PNG, but they are not a whole picture
        pharmacy.run(
            pharmacy.technician,
            service.create_prescription,
            branch_id=pharmacy.branch,
            patient_id=patient,
            source="fax",
            image=b"\x89PNG\r\n\x1a\n page",
            image_type="application/pdf",
        )
    attached = pharmacy.run(pharmacy.technician, service.attach_image, rx.id, _jpeg())
    assert attached.has_image and attached.events[-1].action == "original_attached"
    kind, data = pharmacy.run(pharmacy.pharmacist, service.prescription_image, rx.id)
    assert kind == "image/jpeg" and data.startswith(b"\xff\xd8\xff")
    with pytest.raises(RefusedTransition, match="never replaced"):
        pharmacy.run(pharmacy.technician, service.attach_image, rx.id, _jpeg())
    submitted = pharmacy.entered(patient, "lisinopril")
    with pytest.raises(RefusedTransition, match="attached at intake"):
        pharmacy.run(pharmacy.technician, service.attach_image, submitted.id, _jpeg())


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(out, format="JPEG")
    return out.getvalue()


def test_the_chain_rules_are_the_owners_and_bad_values_change_nothing(pharmacy):
    assert pharmacy.run(pharmacy.owner, service.rx_settings) == service.RxSettings()  # US defaults
    with pytest.raises(PermissionDenied):
        pharmacy.run(pharmacy.pharmacist, service.update_rx_settings, two_person_verification=False)
    for fields, field in [
        ({"early_refill_threshold": "0.3"}, "early_refill_threshold"),
        ({"early_refill_threshold": "soon"}, "early_refill_threshold"),
        ({"controlled_max_refills": "6"}, "controlled_max_refills"),
        ({"cii_max_days_supply": "120"}, "cii_max_days_supply"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            pharmacy.run(pharmacy.owner, service.update_rx_settings, **fields)
        assert refused.value.field == field
    assert pharmacy.run(pharmacy.owner, service.rx_settings) == service.RxSettings()
    changed = pharmacy.run(pharmacy.owner, service.update_rx_settings, expiry_months="6", cii_max_days_supply="30")
    assert (changed.expiry_months, changed.cii_max_days_supply, changed.two_person_verification) == (6, 30, True)
    rx = pharmacy.entered(pharmacy.patient(), "lisinopril")
    assert rx.expires_on == service.add_months(rx.date_written, 6)  # a stricter state's rule applies


def test_a_held_prescription_past_its_expiry_cannot_resume_and_branch_scope_hides_records(pharmacy, db):
    rx = pharmacy.entered(pharmacy.patient(), "lisinopril")
    pharmacy.run(pharmacy.technician, service.hold, rx.id, "waiting for the patient's insurance")
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE prescriptions SET expires_on = :d WHERE id = :id"), {"d": date.today(), "id": rx.id})
    with pytest.raises(ExpiredPrescription, match="cannot be resumed"):
        pharmacy.run(pharmacy.technician, service.resume, rx.id)
    other_branch_only = dataclasses.replace(pharmacy.pharmacist, branch_ids=frozenset({pharmacy.chain.branch_ids[1]}))
    with pytest.raises(NotFound):
        pharmacy.run(other_branch_only, service.get_prescription, rx.id)
    with pytest.raises(NotFound):
        pharmacy.run(other_branch_only, verification.review, rx.id)
