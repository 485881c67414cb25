"""The biennial inventory (explained differences, the counting rule, the signature, immutability), CII orders
received against their Form 222 / CSOS number, and theft-or-loss reports that take the stock out."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backend.accounts.signatures import SignatureRefused
from backend.controlled import biennial, losses, orders
from backend.controlled import register as reg
from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.core.settings import get_settings
from tests.backend.controlled.conftest import on_hand, receive, signature

EXPIRY = (date.today() + timedelta(days=300)).isoformat()


def counts(**by: biennial.Count) -> dict[str, biennial.Count]:
    return by


def test_a_biennial_inventory_needs_every_difference_explained_and_the_pharmacists_signature(pharmacy, db):
    receive(pharmacy, "morphine", "MS-1", 80)
    receive(pharmacy, "diazepam", "DZ-1", 1500)
    sheet = pharmacy.run(pharmacy.owner, biennial.start_inventory, pharmacy.branch, "close")
    expected = {line.medicine: line.expected for line in sheet.lines}
    assert expected["Morphine sulfate 15 mg"] == 80 and expected["Diazepam 5 mg"] == 1500
    assert expected["Oxycodone 5 mg"] == 0  # every scheduled medicine of the catalog is on the sheet
    with pytest.raises(Conflict, match="being counted"):
        pharmacy.run(pharmacy.owner, biennial.start_inventory, pharmacy.branch)
    morphine, diazepam = pharmacy.medicines["morphine"], pharmacy.medicines["diazepam"]

    # A difference without an explanation is refused, naming the medicine, and nothing is written.
    with pytest.raises(ValidationFailed, match="Morphine sulfate 15 mg: counted 78, the ledger says 80"):
        pharmacy.run(
            pharmacy.owner,
            biennial.record_counts,
            sheet.id,
            {diazepam: biennial.Count(1500), morphine: biennial.Count(78)},
        )
    assert pharmacy.run(pharmacy.owner, biennial.get_inventory, sheet.id).counted == 0
    # A CII is never estimated; CIII-CV are not estimated over 1,000 units.
    with pytest.raises(ValidationFailed, match="CII: count it exactly"):
        pharmacy.run(pharmacy.owner, biennial.record_counts, sheet.id, {morphine: biennial.Count(80, estimated=True)})
    with pytest.raises(ValidationFailed, match="more than 1,000 units are counted exactly"):
        pharmacy.run(pharmacy.owner, biennial.record_counts, sheet.id, {diazepam: biennial.Count(1500, estimated=True)})

    pharmacy.run(
        pharmacy.owner,
        biennial.record_counts,
        sheet.id,
        {morphine: biennial.Count(78, explanation="two tablets broken, destruction log 12")},
    )
    with pytest.raises(ValidationFailed, match="not counted"):
        pharmacy.run(
            pharmacy.pharmacist,
            biennial.sign_inventory,
            sheet.id,
            signature_id=signature(pharmacy, "controlled_inventory", sheet.id),
        )
    rest = {line.medicine_id: biennial.Count(line.expected) for line in sheet.lines if line.medicine_id != morphine}
    pharmacy.run(pharmacy.owner, biennial.record_counts, sheet.id, rest)

    # The owner records but does not sign; a signature of another record, or none, signs nothing.
    with pytest.raises(PermissionDenied):
        pharmacy.run(pharmacy.owner, biennial.sign_inventory, sheet.id, signature_id="x")
    with pytest.raises(SignatureRefused):
        pharmacy.run(pharmacy.pharmacist, biennial.sign_inventory, sheet.id, signature_id="not-a-signature")
    signed = pharmacy.run(
        pharmacy.pharmacist,
        biennial.sign_inventory,
        sheet.id,
        signature_id=signature(pharmacy, "controlled_inventory", sheet.id),
    )
    assert signed.status == biennial.InventoryStatus.SIGNED and signed.signed_at is not None
    line = next(line for line in signed.lines if line.medicine_id == morphine)
    assert (line.counted, line.difference, line.explanation) == (78, -2, "two tablets broken, destruction log 12")

    # Signed is final: the service refuses, and so does the database for any other path.
    with pytest.raises(biennial.InventorySigned):
        pharmacy.run(pharmacy.owner, biennial.record_counts, sheet.id, {morphine: biennial.Count(80)})
    db.execute(text(f"SET LOCAL ROLE {get_settings().APP_DB_ROLE}"))
    db.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(pharmacy.chain.tenant_id)})
    with pytest.raises(DBAPIError, match="signed"):
        with db.begin_nested():
            db.execute(
                text("UPDATE controlled_inventory_lines SET counted = 80 WHERE inventory_id = :i"), {"i": sheet.id}
            )
    db.execute(text("RESET ROLE"))

    name, pdf = pharmacy.run(pharmacy.pharmacist, biennial.inventory_pdf, sheet.id)
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for expected_text in (
        "Biennial controlled-substance inventory",
        "two tablets broken",
        "Signed electronically",
        "CII: count exactly",
    ):
        assert expected_text in words, expected_text
    # A new count may start once the last one is signed.
    assert (
        pharmacy.run(pharmacy.owner, biennial.start_inventory, pharmacy.branch).status
        == biennial.InventoryStatus.COUNTING
    )


def test_a_cii_order_is_received_against_its_form_222_number(pharmacy, db):
    morphine = pharmacy.medicines["morphine"]
    with pytest.raises(ValidationFailed, match="9 digits"):
        pharmacy.run(
            pharmacy.owner, orders.create_order, branch_id=pharmacy.branch, form="dea_222", order_number="12AB",
            supplier="McKesson", lines=[(morphine, 100)],
        )  # fmt: skip
    with pytest.raises(ValidationFailed, match="only CII"):
        pharmacy.run(
            pharmacy.owner, orders.create_order, branch_id=pharmacy.branch, form="dea_222", order_number="123456789",
            supplier="McKesson", lines=[(pharmacy.medicines["diazepam"], 10)],
        )  # fmt: skip
    order = pharmacy.run(
        pharmacy.owner,
        orders.create_order,
        branch_id=pharmacy.branch,
        form="dea_222",
        order_number="123456789",
        supplier="McKesson",
        lines=[(morphine, 100)],
    )
    assert order.reference == "DEA 222 123456789"
    with pytest.raises(Conflict, match="already recorded"):
        pharmacy.run(
            pharmacy.owner, orders.create_order, branch_id=pharmacy.branch, form="dea_222", order_number="123456789",
            supplier="McKesson", lines=[(morphine, 5)],
        )  # fmt: skip

    after = pharmacy.run(
        pharmacy.owner, orders.receive_against_order, order.id, medicine_id=morphine, lot_number="MS-222",
        expiry_date=EXPIRY, quantity=60,
    )  # fmt: skip
    assert [(line.ordered, line.received, line.outstanding) for line in after.lines] == [(100, 60, 40)]
    with pytest.raises(ValidationFailed, match="at most 40 more"):
        pharmacy.run(
            pharmacy.owner, orders.receive_against_order, order.id, medicine_id=morphine, lot_number="MS-222",
            expiry_date=EXPIRY, quantity=41,
        )  # fmt: skip
    assert on_hand(db, pharmacy, "morphine") == 60
    line = pharmacy.run(pharmacy.pharmacist, reg.register, pharmacy.branch).medicines[0].lines[0]
    assert (line.kind_label, line.quantity, line.reference) == ("Received", 60, "DEA 222 123456789")

    csos = pharmacy.run(
        pharmacy.owner, orders.create_order, branch_id=pharmacy.branch, form="csos", order_number="csos-7781",
        supplier="Cardinal", lines=[(morphine, 10)],
    )  # fmt: skip
    assert csos.reference == "CSOS CSOS-7781"
    listed = pharmacy.run(pharmacy.pharmacist, orders.list_orders, pharmacy.branch)
    assert sorted(o.order_number for o in listed) == ["123456789", "CSOS-7781"]
    with pytest.raises(PermissionDenied):
        pharmacy.run(pharmacy.technician, orders.get_order, order.id)


def test_a_theft_or_loss_report_takes_the_stock_out_through_inventory(pharmacy, db):
    receive(pharmacy, "morphine", "MS-OLD", 10)
    receive(pharmacy, "morphine", "MS-NEW", 20)
    morphine = pharmacy.medicines["morphine"]
    today = date.today().isoformat()
    with pytest.raises(Conflict, match="branch holds 30"):
        pharmacy.run(
            pharmacy.owner, losses.report_loss, branch_id=pharmacy.branch, discovered_on=today,
            loss_type="night_break_in", details="back door forced overnight", lines=[(morphine, 31)],
        )  # fmt: skip
    assert on_hand(db, pharmacy, "morphine") == 30
    with pytest.raises(ValidationFailed, match="type of theft"):
        pharmacy.run(
            pharmacy.owner, losses.report_loss, branch_id=pharmacy.branch, discovered_on=today,
            loss_type="abducted by aliens", details="back door forced", lines=[(morphine, 1)],
        )  # fmt: skip

    report = pharmacy.run(
        pharmacy.owner, losses.report_loss, branch_id=pharmacy.branch, discovered_on=today,
        loss_type="night_break_in", details="back door forced overnight", lines=[(morphine, 12)],
        police_notified=True, police_report="CPD-2026-1187",
    )  # fmt: skip
    assert on_hand(db, pharmacy, "morphine") == 18
    assert {(line.ndc, line.medicine, line.strength, line.dosage_form) for line in report.lines} == {
        ("00054023525", "Morphine sulfate", "15 mg", "tablet")
    }
    assert sum(line.quantity for line in report.lines) == 12
    morphine_register = pharmacy.run(pharmacy.pharmacist, reg.register, pharmacy.branch).medicines[0]
    lost = [line for line in morphine_register.lines if line.kind_label == "Theft or loss (DEA 106)"]
    assert sum(line.quantity for line in lost) == -12 and all(line.reference == report.number for line in lost)
    assert morphine_register.closing == 18

    _, pdf = pharmacy.run(pharmacy.pharmacist, losses.loss_report_pdf, report.id)
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("DEA Form 106", "BP1234563", "Night break in", "00054023525", "Morphine sulfate", "CPD-2026-1187"):
        assert expected in words, expected
    with pytest.raises(NotFound):
        pharmacy.run(pharmacy.pharmacist, losses.get_loss_report, "00000000-0000-0000-0000-000000000000")
