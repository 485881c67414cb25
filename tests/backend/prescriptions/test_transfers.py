"""Transfers: between branches (the record moves, its history stays), out to another pharmacy (recorded as the
regulations ask; void here, never filled again) and in (a prescription here with the refills transferred);
a CII is refused except an electronic one never filled, once; only pharmacists transfer."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from backend.core.errors import PermissionDenied, ValidationFailed
from backend.prescriptions import fills, refills, transfers
from backend.prescriptions.enums import RxSource, RxStatus, TransferKind
from backend.prescriptions.service import RefusedTransition, create_prescription, get_prescription, save_entry
from tenants.context import TenantContext
from tests.backend.prescriptions.conftest import VALID_DEA, VALID_NPI
from tests.backend.prescriptions.test_fills import receive
from tests.backend.prescriptions.test_pickup import picked_up
from tests.backend.prescriptions.test_refills import filled_and_checked

OTHER = {
    "pharmacy_name": "Corner Drug",
    "pharmacy_address": "12 Elm St, Springfield",
    "pharmacy_phone": "555-0100",
    "pharmacy_npi": VALID_NPI,
    "pharmacy_dea": VALID_DEA,
    "other_pharmacist": "Riley Chen, RPh",
}


def record(pharmacy, rx_id: str):
    return pharmacy.run(pharmacy.pharmacist, get_prescription, rx_id)


def electronic_cii(pharmacy):
    rx = pharmacy.run(
        pharmacy.technician,
        create_prescription,
        branch_id=pharmacy.branch,
        patient_id=pharmacy.patient(),
        source="electronic",
        prescriber_id=pharmacy.prescriber,
        drug_written="Oxycodone",
        medicine_id=pharmacy.medicines["oxycodone"],
        sig_written="1 tab po q6h prn pain",
        quantity="20",
        date_written=date.today().isoformat(),
    )
    from backend.prescriptions.service import submit_for_verification

    pharmacy.run(pharmacy.technician, submit_for_verification, rx.id)
    return pharmacy.verify(rx.id)


def test_an_outgoing_transfer_records_the_other_pharmacy_and_voids_the_prescription(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    rx, _ = filled_and_checked(pharmacy, db, refills_authorized="3")
    # A checked fill still on the shelf: hand it out or return it first.
    with pytest.raises(RefusedTransition, match="waiting at"):
        pharmacy.run(pharmacy.pharmacist, transfers.transfer_out, rx.id, **OTHER)
    for fill in pharmacy.run(pharmacy.pharmacist, fills.fills_of, rx.id):
        picked_up(pharmacy, fill.id)

    done = pharmacy.run(pharmacy.pharmacist, transfers.transfer_out, rx.id, **OTHER)

    assert (done.kind, done.pharmacy_name, done.other_pharmacist, done.refills_transferred) == (
        TransferKind.OUTGOING,
        "Corner Drug",
        "Riley Chen, RPh",
        3,
    )
    assert done.transferred_on == date.today() and done.pharmacist_name
    assert done.first_filled_on == date.today() - timedelta(days=30)
    now = record(pharmacy, rx.id)
    assert now.status == RxStatus.TRANSFERRED_OUT and "Corner Drug" in now.status_reason
    assert now.events[-1].action == "transferred_out"
    # Void here: neither filled nor refilled again.
    with pytest.raises(RefusedTransition, match="verified"):
        pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    with pytest.raises(RefusedTransition, match="transferred to Corner Drug"):
        pharmacy.run(pharmacy.technician, refills.request_refill, rx.id, "staff")


def test_the_other_pharmacy_must_be_named_and_a_controlled_transfer_needs_its_dea(pharmacy, db):
    receive(pharmacy, "alprazolam", "A1", 100)
    rx = pharmacy.on_profile(pharmacy.patient(), "alprazolam", refills_authorized="2")
    with pytest.raises(ValidationFailed) as missing:
        pharmacy.run(pharmacy.pharmacist, transfers.transfer_out, rx.id, **{**OTHER, "other_pharmacist": ""})
    assert missing.value.field == "other_pharmacist"
    with pytest.raises(ValidationFailed) as no_dea:
        pharmacy.run(pharmacy.pharmacist, transfers.transfer_out, rx.id, **{**OTHER, "pharmacy_dea": ""})
    assert no_dea.value.field == "pharmacy_dea"
    assert record(pharmacy, rx.id).status == RxStatus.FILL
    with pytest.raises(PermissionDenied):
        pharmacy.run(pharmacy.technician, transfers.transfer_out, rx.id, **OTHER)


def test_a_cii_transfer_is_refused(pharmacy):
    paper = pharmacy.on_profile(pharmacy.patient(), "oxycodone", quantity="20")
    with pytest.raises(transfers.CiiTransferRefused, match="Schedule II"):
        pharmacy.run(pharmacy.pharmacist, transfers.transfer_out, paper.id, **OTHER)
    with pytest.raises(transfers.CiiTransferRefused):
        pharmacy.run(pharmacy.pharmacist, transfers.transfer_to_branch, paper.id, pharmacy.other_branch)
    assert record(pharmacy, paper.id).status == RxStatus.FILL


def test_an_electronic_cii_never_filled_is_transferred_once(pharmacy):
    rx = electronic_cii(pharmacy)
    assert rx.source == RxSource.ELECTRONIC

    moved = pharmacy.run(pharmacy.pharmacist, transfers.transfer_to_branch, rx.id, pharmacy.other_branch)

    assert moved.kind == TransferKind.BRANCH and moved.electronic
    with pytest.raises(transfers.CiiTransferRefused):
        pharmacy.run(pharmacy.pharmacist, transfers.transfer_out, rx.id, **OTHER)


def test_a_filled_electronic_cii_is_not_transferred(pharmacy, db):
    receive(pharmacy, "oxycodone", "OX1", 100)
    rx = electronic_cii(pharmacy)
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE prescription_fills SET status = 'returned', returned_at = now() WHERE id = :f"), {"f": done.id}
    )
    db.execute(text("UPDATE prescriptions SET status = 'fill' WHERE id = :p"), {"p": rx.id})
    with pytest.raises(transfers.CiiTransferRefused):
        pharmacy.run(pharmacy.pharmacist, transfers.transfer_out, rx.id, **OTHER)


def test_a_branch_transfer_moves_the_prescription_and_keeps_its_history(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", refills_authorized="1")
    history = len(record(pharmacy, rx.id).events)

    pharmacy.run(pharmacy.pharmacist, transfers.transfer_to_branch, rx.id, pharmacy.other_branch)

    now = record(pharmacy, rx.id)
    assert now.branch_id == pharmacy.other_branch and now.rx_number == rx.rx_number
    assert now.status == RxStatus.FILL and len(now.events) == history + 1
    assert now.events[-1].action == "transferred_branch"
    with pytest.raises(ValidationFailed, match="already at"):
        pharmacy.run(pharmacy.pharmacist, transfers.transfer_to_branch, rx.id, pharmacy.other_branch)
    listed = pharmacy.run(pharmacy.pharmacist, transfers.transfers_of, rx.id)
    assert [(t.kind, t.to_branch) for t in listed] == [(TransferKind.BRANCH, "Branch 2")]


def incoming(pharmacy, medicine: str = "lisinopril", **over):
    fields = {
        **OTHER,
        "other_rx_number": "CD-778812",
        "prescriber_id": pharmacy.prescriber,
        "drug_written": medicine.title(),
        "medicine_id": pharmacy.medicines[medicine],
        "sig_written": "1 tab po daily",
        "quantity": "30",
        "days_supply": "30",
        "date_written": (date.today() - timedelta(days=60)).isoformat(),
        "refills_authorized": "5",
        "refills_remaining": "3",
        "first_filled_on": (date.today() - timedelta(days=60)).isoformat(),
        "last_filled_on": (date.today() - timedelta(days=28)).isoformat(),
        **over,
    }
    # Another pharmacist takes the call: the chain's two-person rule lets the usual one verify it.
    receiving = TenantContext(tenant_id=pharmacy.chain.tenant_id, user_id=uuid.uuid4(), role="pharmacist")
    return pharmacy.run(
        receiving,
        transfers.receive_transfer,
        branch_id=pharmacy.branch,
        patient_id=pharmacy.patient("Ina Coming"),
        **fields,
    )


def test_an_incoming_transfer_creates_a_prescription_with_its_remaining_refills(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    rx = incoming(pharmacy)
    assert (rx.status, rx.source, rx.refills_authorized, rx.refills_remaining) == (
        RxStatus.VERIFICATION,
        RxSource.TRANSFER,
        5,
        3,
    )
    assert rx.date_written == date.today() - timedelta(days=60)
    [moved] = pharmacy.run(pharmacy.pharmacist, transfers.transfers_of, rx.id)
    assert (moved.kind, moved.other_rx_number, moved.refills_transferred) == (TransferKind.INCOMING, "CD-778812", 3)
    # Verified by another pharmacist, its first fill here is a refill of the original.
    verified = pharmacy.verify(rx.id)
    assert verified.status == RxStatus.FILL
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    assert done.counts_refill and record(pharmacy, rx.id).refills_remaining == 2


def test_an_incoming_cii_is_refused_unless_electronic_and_never_filled(pharmacy, db):
    cii = {
        "quantity": "20",
        "refills_authorized": "0",
        "refills_remaining": "0",
        "date_written": date.today().isoformat(),
    }
    with pytest.raises(transfers.CiiTransferRefused):
        incoming(pharmacy, "oxycodone", **cii, first_filled_on="", last_filled_on="", electronic="")
    with pytest.raises(transfers.CiiTransferRefused):
        incoming(
            pharmacy, "oxycodone", **cii, electronic="yes", first_filled_on=date.today().isoformat(), last_filled_on=""
        )
    rx = incoming(pharmacy, "oxycodone", **cii, electronic="yes", first_filled_on="", last_filled_on="")
    assert rx.schedule == "CII" and rx.status == RxStatus.VERIFICATION


def test_create_prescription_does_not_take_a_transfer_as_a_source(pharmacy):
    with pytest.raises(ValidationFailed, match="transfer form"):
        pharmacy.run(
            pharmacy.technician,
            create_prescription,
            branch_id=pharmacy.branch,
            patient_id=pharmacy.patient(),
            source="transfer",
        )


def test_an_incoming_transfer_without_prescriber_and_medicine_waits_in_data_entry(pharmacy):
    rx = incoming(pharmacy, prescriber_id="", medicine_id="")
    assert (rx.status, rx.refills_remaining, rx.schedule) == (RxStatus.DATA_ENTRY, 3, None)
    # Completing the entry never adds refills beyond what was transferred.
    done = pharmacy.run(
        pharmacy.technician,
        save_entry,
        rx.id,
        prescriber_id=pharmacy.prescriber,
        medicine_id=pharmacy.medicines["lisinopril"],
    )
    assert (done.refills_authorized, done.refills_remaining) == (5, 3)
