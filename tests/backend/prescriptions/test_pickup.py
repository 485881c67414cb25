"""Pickup at the counter: a checked fill scanned onto the bill at its price or copay, handed over with the
offer to counsel (a pharmacist's signature), an ID check for controlled substances and the patient's drawn
signature; no second stock move; a credit note of a fill refunds money only. Every refusal writes nothing."""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import text

from backend.accounts.signatures import SignatureRefused, sign
from backend.accounts.staff import accept_invitation, invite
from backend.billing.bills.counter import save_draft, sell_for_cash
from backend.billing.bills.service import finalize_bill
from backend.billing.claims import service as claims
from backend.billing.credit_notes.service import issue_credit_note
from backend.billing.statuses import BillStatus, ClaimStatus
from backend.core.errors import Conflict, PermissionDenied, ValidationFailed
from backend.inventory.service import create_medicine, receive_stock
from backend.prescriptions import fills, pickup
from backend.prescriptions.enums import FillStatus, RxStatus
from backend.prescriptions.service import get_prescription, rx_settings, update_rx_settings
from tenants.context import TenantContext

PASSWORD = "Mortar-And-Pestle-7"


def png(*, ink: bool = True) -> bytes:
    image = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    if ink:
        ImageDraw.Draw(image).line([(20, 70), (120, 20), (200, 80), (280, 30)], fill=(0, 0, 0, 255), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def member(pharmacy, role: str) -> tuple[TenantContext, str]:
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.com"
    link = invite(pharmacy.owner, email, role, send_email=False).link
    user_id, _ = accept_invitation(link.split("token=")[1], full_name=f"{role.title()} Member", password=PASSWORD)
    return TenantContext(tenant_id=pharmacy.owner.tenant_id, user_id=user_id, role=role), email


@pytest.fixture
def staff(pharmacy):
    pharmacist, _ = member(pharmacy, "pharmacist")
    cashier, _ = member(pharmacy, "cashier")
    return pharmacist, cashier


def checked_fill(pharmacy, db, medicine: str = "lisinopril", quantity: str = "30", patient: str | None = None):
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE medicines SET barcode = :b, default_sell_price = 1.50 WHERE id = :m"),
        {"b": "00093711101" if medicine == "lisinopril" else "00093711102", "m": pharmacy.medicines[medicine]},
    )
    pharmacy.run(
        pharmacy.owner,
        receive_stock,
        branch_id=pharmacy.branch,
        medicine_id=pharmacy.medicines[medicine],
        lot_number=f"{medicine[:3].upper()}-{uuid.uuid4().hex[:4]}",
        expiry_date=(date.today() + timedelta(days=400)).isoformat(),
        quantity=100,
    )
    extra = {"schedule": "CIV", "refills_authorized": "0"} if medicine == "alprazolam" else {}
    rx = pharmacy.on_profile(patient or pharmacy.patient(), medicine, quantity=quantity, **extra)
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    barcode = "00093711101" if medicine == "lisinopril" else "00093711102"
    return pharmacy.run(pharmacy.pharmacist, fills.final_check, done.id, barcode)


def on_the_bill(pharmacy, ctx, fill_id: str, bill_id: str | None = None):
    return pharmacy.run(ctx, save_draft, branch_id=pharmacy.branch, bill_id=bill_id, lines=[{"fill_id": fill_id}])


def handed_over(pharmacy, counsellor, bill_id: str, **change):
    signature = sign(
        counsellor,
        password=PASSWORD,
        meaning="offered to counsel the patient on the prescriptions of this bill",
        entity_type="bill",
        entity_id=bill_id,
    )
    return {
        "picked_up_by": "patient",
        "picked_up_by_name": "Pat Example",
        "counselling": "accepted",
        "counsel_signature_id": signature,
        "signature_png": png(),
        **change,
    }


def picked_up(pharmacy, fill_id: str) -> None:
    """The checked fill scanned onto a bill at the counter and handed over, counselled by a pharmacist."""
    counsellor, _ = member(pharmacy, "pharmacist")
    draft = on_the_bill(pharmacy, pharmacy.owner, fill_id)
    pharmacy.run(pharmacy.owner, finalize_bill, draft.bill.id, pickup=handed_over(pharmacy, counsellor, draft.bill.id))


def pickups(db, pharmacy) -> int:
    db.execute(text("RESET ROLE"))
    found = db.execute(
        text("SELECT count(*) FROM prescription_pickups WHERE tenant_id = :t"), {"t": pharmacy.owner.tenant_id}
    )
    return int(found.scalar_one())


def ledger_and_shelf(db, pharmacy, medicine: str) -> tuple[int, int]:
    db.execute(text("RESET ROLE"))
    row = db.execute(
        text(
            "SELECT (SELECT coalesce(sum(quantity), 0) FROM batches WHERE medicine_id = :m) AS shelf, "
            "(SELECT coalesce(sum(s.quantity), 0) FROM stock_movements s JOIN batches b ON b.id = s.batch_id "
            "WHERE b.medicine_id = :m) AS ledger"
        ),
        {"m": pharmacy.medicines[medicine]},
    ).one()
    return int(row.ledger), int(row.shelf)


def test_a_checked_fill_is_sold_at_its_price_and_handed_over_without_a_second_stock_move(pharmacy, staff, db):
    pharmacist, cashier = staff
    done = checked_fill(pharmacy, db)
    assert ledger_and_shelf(db, pharmacy, "lisinopril") == (70, 70)

    draft = on_the_bill(pharmacy, cashier, done.id)
    line = draft.bill.lines[0]
    assert (line.fill_id, line.quantity, line.unit_price, line.line_discount) == (done.id, 30, Decimal("1.5"), 0)
    assert line.prescription_ref == done.code
    assert draft.bill.total_due == Decimal("45.00")
    assert draft.bill.patient_id is not None  # the fill's patient is the bill's
    assert draft.previews == {}  # the fill's stock already left the shelf: nothing to preview

    sale = pharmacy.run(
        cashier, sell_for_cash, draft.bill.id, "50", pickup=handed_over(pharmacy, pharmacist, draft.bill.id)
    )

    assert sale.bill.status == BillStatus.PAID and sale.change_due == Decimal("5.00")
    assert sale.picks == []  # no lot taken by the sale
    assert ledger_and_shelf(db, pharmacy, "lisinopril") == (70, 70)  # no second stock move
    after = pharmacy.run(pharmacy.pharmacist, fills.get_fill, done.id)
    assert after.status == FillStatus.PICKED_UP
    record = pharmacy.run(pharmacy.pharmacist, get_prescription, done.prescription_id)
    assert record.status == RxStatus.DISPENSED
    assert record.events[-1].action == "picked_up"
    assert "picked up by the patient; counselling accepted" in record.events[-1].reason  # names nobody
    assert "Pat Example" not in record.events[-1].reason
    handover = pharmacy.run(pharmacy.pharmacist, pickup.pickup_of_fill, done.id)
    assert handover is not None and handover.counselled_by == "Pharmacist Member"
    assert handover.signature_png.startswith(pickup.PNG_HEADER) and handover.picked_up_by_name == "Pat Example"
    # Stored sealed: no PNG, no name in the row the database owner reads.
    db.execute(text("RESET ROLE"))
    row = db.execute(
        text("SELECT row_to_json(k)::text AS dumped, signature_enc FROM prescription_pickups k WHERE id = :p"),
        {"p": handover.id},
    ).one()
    assert "Pat Example" not in row.dumped and pickup.PNG_HEADER not in bytes(row.signature_enc)

    # Already picked up: it cannot go on another bill.
    with pytest.raises(pickup.NotReadyForPickup, match="already picked up"):
        on_the_bill(pharmacy, cashier, done.id)


def test_the_copay_is_known_at_pickup_from_the_claim_adjudicated_at_fill(pharmacy, staff, db):
    pharmacist, cashier = staff
    patient = pharmacy.patient("Cora Covered")
    payer = pharmacy.run(pharmacy.owner, claims.create_payer, name="Acme Health", payer_code="ACME")
    pharmacy.run(
        pharmacy.owner, claims.add_coverage, patient_id=patient, payer_id=payer.id, member_id="M-1", copay="5.00"
    )
    done = checked_fill(pharmacy, db, patient=patient)

    claim = pharmacy.run(pharmacy.owner, claims.claim_of_fill, done.id)
    assert claim is not None and claim.status == ClaimStatus.APPROVED
    assert (claim.bill_total, claim.claimed_amount, claim.copay, claim.patient_pays) == (
        Decimal("45.00"),
        Decimal("40.00"),
        Decimal("5.00"),
        Decimal("5.00"),
    )
    assert [e.to_status for e in claim.events] == [ClaimStatus.DRAFT, ClaimStatus.SUBMITTED, ClaimStatus.APPROVED]

    draft = on_the_bill(pharmacy, cashier, done.id)
    assert draft.bill.lines[0].line_discount == Decimal("40")  # the payer's part
    assert draft.bill.total_due == Decimal("5.00")
    sale = pharmacy.run(
        cashier, sell_for_cash, draft.bill.id, "5", pickup=handed_over(pharmacy, pharmacist, draft.bill.id)
    )
    assert sale.bill.total_due == Decimal("5.00") and sale.change_due == 0
    # The fill's claim stays the fill's (the bill took only the copay); the payer's payment marks it paid.
    assert pharmacy.run(pharmacy.owner, claims.claim_of_bill, sale.bill.id) is None


def test_a_fill_claim_is_reversed_and_a_fill_without_one_answers_none(pharmacy, db):
    patient = pharmacy.patient("Rita Reversal")
    payer = pharmacy.run(pharmacy.owner, claims.create_payer, name="Beta Care", payer_code="BETA")
    pharmacy.run(pharmacy.owner, claims.add_coverage, patient_id=patient, payer_id=payer.id, member_id="B-9")
    covered = checked_fill(pharmacy, db, patient=patient)
    reversed_claim = pharmacy.run(
        pharmacy.technician, claims.reverse_claim_of_fill, covered.id, "returned to stock, not collected"
    )
    assert reversed_claim is not None and reversed_claim.status == ClaimStatus.REVERSED
    assert reversed_claim.events[-1].note == "returned to stock, not collected"
    assert reversed_claim.patient_pays == reversed_claim.bill_total  # a reversed claim pays nothing
    uncovered = checked_fill(pharmacy, db)
    assert pharmacy.run(pharmacy.technician, claims.reverse_claim_of_fill, uncovered.id, "not collected") is None


def test_a_fill_not_checked_is_refused_at_the_counter(pharmacy, staff, db):
    _, cashier = staff
    pharmacy.run(
        pharmacy.owner,
        receive_stock,
        branch_id=pharmacy.branch,
        medicine_id=pharmacy.medicines["lisinopril"],
        lot_number="L1",
        expiry_date=(date.today() + timedelta(days=400)).isoformat(),
        quantity=30,
    )
    rx = pharmacy.on_profile(pharmacy.patient(), "lisinopril", quantity="30")
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    with pytest.raises(pickup.NotReadyForPickup, match="has not passed the pharmacist's final check"):
        on_the_bill(pharmacy, cashier, done.id)
    with pytest.raises(pickup.NotReadyForPickup, match="final check"):
        pharmacy.run(cashier, pickup.fill_at_counter, done.code, pharmacy.branch)
    db.execute(text("RESET ROLE"))
    bills = db.execute(text("SELECT count(*) FROM bills WHERE tenant_id = :t"), {"t": pharmacy.owner.tenant_id})
    assert bills.scalar_one() == 0


def test_a_fill_on_another_open_bill_is_refused(pharmacy, staff, db):
    pharmacist, cashier = staff
    done = checked_fill(pharmacy, db)
    on_the_bill(pharmacy, cashier, done.id)
    with pytest.raises(Conflict, match="already on another open bill"):
        on_the_bill(pharmacy, pharmacist, done.id)


def test_a_cashier_cannot_counsel_but_a_pharmacist_can_sign_at_the_cashiers_till(pharmacy, staff, db):
    pharmacist, cashier = staff
    done = checked_fill(pharmacy, db)
    draft = on_the_bill(pharmacy, cashier, done.id)
    with pytest.raises(SignatureRefused, match="needs a pharmacist's signature"):
        pharmacy.run(cashier, finalize_bill, draft.bill.id, pickup=handed_over(pharmacy, cashier, draft.bill.id))
    assert pharmacy.run(pharmacy.pharmacist, fills.get_fill, done.id).status == FillStatus.CHECKED
    db.execute(text("RESET ROLE"))
    assert pickups(db, pharmacy) == 0

    # The pharmacist types their own e-mail and password at the cashier's till.
    email = db.execute(text("SELECT email FROM users WHERE id = :u"), {"u": pharmacist.user_id}).scalar_one()
    signature = sign(
        cashier,
        password=PASSWORD,
        member_email=email,
        meaning="offered to counsel the patient",
        entity_type="bill",
        entity_id=draft.bill.id,
    )
    given = handed_over(pharmacy, pharmacist, draft.bill.id, counsel_signature_id=signature, counselling="declined")
    bill = pharmacy.run(cashier, finalize_bill, draft.bill.id, pickup=given)
    assert bill.status == BillStatus.FINALIZED
    handover = pharmacy.run(pharmacy.pharmacist, pickup.pickup_of_fill, done.id)
    assert handover is not None and handover.counselling == "declined"
    assert handover.counselled_by == "Pharmacist Member"


def test_a_controlled_fill_needs_the_id_of_whoever_collects_it(pharmacy, staff, db):
    pharmacist, cashier = staff
    done = checked_fill(pharmacy, db, medicine="alprazolam")
    draft = on_the_bill(pharmacy, cashier, done.id)
    with pytest.raises(ValidationFailed, match="Controlled substance") as refused:
        pharmacy.run(cashier, finalize_bill, draft.bill.id, pickup=handed_over(pharmacy, pharmacist, draft.bill.id))
    assert refused.value.field == "id_number"
    assert pharmacy.run(pharmacy.pharmacist, fills.get_fill, done.id).status == FillStatus.CHECKED
    given = handed_over(
        pharmacy,
        pharmacist,
        draft.bill.id,
        picked_up_by="agent",
        picked_up_by_name="Sam Agent",
        id_type="Driver's license",
        id_number="D1234567",
    )
    pharmacy.run(cashier, finalize_bill, draft.bill.id, pickup=given)
    handover = pharmacy.run(pharmacy.pharmacist, pickup.pickup_of_fill, done.id)
    assert handover is not None and (handover.id_type, handover.id_number) == ("Driver's license", "D1234567")
    assert handover.picked_up_by == "agent"


def test_a_pickup_needs_the_details_and_a_drawn_signature(pharmacy, staff, db):
    pharmacist, cashier = staff
    done = checked_fill(pharmacy, db)
    draft = on_the_bill(pharmacy, cashier, done.id)
    bill_id = draft.bill.id
    with pytest.raises(ValidationFailed, match="record the pickup"):
        pharmacy.run(cashier, sell_for_cash, bill_id, "50")
    for change, field, message in (
        ({"signature_png": b""}, "signature_png", "signs on the screen"),
        ({"signature_png": png(ink=False)}, "signature_png", "signature box is empty"),
        ({"signature_png": b"GIF89a not a png"}, "signature_png", "must be a PNG"),
        ({"counselling": ""}, "counselling", "accepted or declined"),
        ({"picked_up_by_name": " "}, "picked_up_by_name", "name of the person collecting"),
    ):
        with pytest.raises(ValidationFailed, match=message) as refused:
            pharmacy.run(
                cashier, sell_for_cash, bill_id, "50", pickup=handed_over(pharmacy, pharmacist, bill_id, **change)
            )
        assert refused.value.field == field
    db.execute(text("RESET ROLE"))
    assert db.execute(text("SELECT status FROM bills WHERE id = :b"), {"b": bill_id}).scalar_one() == "draft"
    assert pickups(db, pharmacy) == 0


def test_a_credit_note_of_a_fill_refunds_money_and_never_restocks(pharmacy, staff, db):
    pharmacist, cashier = staff
    done = checked_fill(pharmacy, db)
    draft = on_the_bill(pharmacy, cashier, done.id)
    sale = pharmacy.run(
        cashier, sell_for_cash, draft.bill.id, "45", pickup=handed_over(pharmacy, pharmacist, draft.bill.id)
    )
    with pytest.raises(ValidationFailed, match="never goes back on the shelf") as refused:
        pharmacy.run(pharmacy.owner, issue_credit_note, sale.bill.id, [(1, 30, True)], reason="patient returned it")
    assert refused.value.field == "lines[0].restock"
    assert ledger_and_shelf(db, pharmacy, "lisinopril") == (70, 70)

    note = pharmacy.run(pharmacy.owner, issue_credit_note, sale.bill.id, [(1, 30, False)], reason="patient returned it")
    assert note.amount_refunded == Decimal("45.00")
    assert ledger_and_shelf(db, pharmacy, "lisinopril") == (70, 70)  # the money only


def test_a_coverage_copay_is_changed_by_who_manages_claims_and_checked(pharmacy, staff):
    _, cashier = staff
    patient = pharmacy.patient("Cal Copay")
    payer = pharmacy.run(pharmacy.owner, claims.create_payer, name="Delta Plan", payer_code="DELTA")
    coverage = pharmacy.run(pharmacy.owner, claims.add_coverage, patient_id=patient, payer_id=payer.id, member_id="D-1")
    assert coverage.copay == 0
    pharmacy.run(pharmacy.owner, claims.set_coverage_copay, coverage.id, "7.50")
    assert [c.copay for c in claims.coverages_of_patient(pharmacy.owner, patient)] == [Decimal("7.5")]
    with pytest.raises(ValidationFailed, match="positive"):
        pharmacy.run(pharmacy.owner, claims.set_coverage_copay, coverage.id, "-1")
    with pytest.raises(PermissionDenied):
        pharmacy.run(cashier, claims.set_coverage_copay, coverage.id, "0")
    assert [c.copay for c in claims.coverages_of_patient(pharmacy.owner, patient)] == [Decimal("7.5")]


def test_the_chains_id_schedules_decide_whether_a_ciii_pickup_needs_an_id(pharmacy, staff, db):
    """The owner's setting: Schedules CII-CV only, owner-only; a CIII fill needs an ID only while CIII is in it."""
    pharmacist, cashier = staff
    pharmacy.medicines["buprenorphine"] = pharmacy.run(
        pharmacy.owner,
        create_medicine,
        generic_name="Buprenorphine",
        strength="8 mg",
        schedule="controlled",
        controlled_class="CIII",
        default_sell_price="1.00",
    )
    for refused in ("CII CVI", "CI", "lisinopril"):
        with pytest.raises(ValidationFailed, match="CII to CV only") as caught:
            pharmacy.run(pharmacy.owner, update_rx_settings, pickup_id_schedules=refused)
        assert caught.value.field == "pickup_id_schedules"
    with pytest.raises(PermissionDenied):
        pharmacy.run(pharmacy.pharmacist, update_rx_settings, pickup_id_schedules="CII")
    assert pharmacy.run(pharmacy.owner, rx_settings).pickup_id_schedules == ("CII", "CIII", "CIV", "CV")

    changed = pharmacy.run(pharmacy.owner, update_rx_settings, pickup_id_schedules="cii, civ")
    assert changed.pickup_id_schedules == ("CII", "CIV")
    done = checked_fill(pharmacy, db, medicine="buprenorphine")
    at_counter = pharmacy.run(cashier, pickup.fill_at_counter, done.code, pharmacy.branch)
    assert at_counter is not None and (at_counter.schedule, at_counter.needs_id) == ("CIII", False)
    draft = on_the_bill(pharmacy, cashier, done.id)
    pharmacy.run(cashier, finalize_bill, draft.bill.id, pickup=handed_over(pharmacy, pharmacist, draft.bill.id))
    assert pharmacy.run(pharmacy.pharmacist, fills.get_fill, done.id).status == FillStatus.PICKED_UP

    pharmacy.run(pharmacy.owner, update_rx_settings, pickup_id_schedules=["CII", "CIII", "CIV", "CV"])
    again = checked_fill(pharmacy, db, medicine="buprenorphine")
    assert pharmacy.run(cashier, pickup.fill_at_counter, again.code, pharmacy.branch).needs_id is True
    draft = on_the_bill(pharmacy, cashier, again.id)
    with pytest.raises(ValidationFailed, match="Controlled substance"):
        pharmacy.run(cashier, finalize_bill, draft.bill.id, pickup=handed_over(pharmacy, pharmacist, draft.bill.id))
