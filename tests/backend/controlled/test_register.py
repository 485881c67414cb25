"""The register is the ledger: every movement of a scheduled medicine at the branch, labelled, with the fill or
bill it belongs to and a running balance that ends at what is on the shelf; CSV and PDF; roles and RLS."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from backend.controlled import register as reg
from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.inventory.service import correct_stock, dispense
from backend.prescriptions import fills
from tenants.context import TenantContext
from tests.backend.controlled.conftest import controlled_pharmacy, on_hand, receive


def movements(pharmacy) -> None:
    """Receipts, a fill, a counter sale, a correction, a destruction and a customer return of morphine."""
    receive(pharmacy, "morphine", "MS-A", 100)
    lot_b = receive(pharmacy, "morphine", "MS-B", 40)
    receive(pharmacy, "lisinopril", "LIS-1", 50)  # not scheduled: never in the register
    rx = pharmacy.on_profile(pharmacy.patient(), "morphine", quantity="30", days_supply="10")
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    pharmacy.run(
        pharmacy.owner,
        dispense,
        branch_id=pharmacy.branch,
        medicine_id=pharmacy.medicines["morphine"],
        quantity=5,
        reference="B1-2026-000042",
    )
    pharmacy.run(pharmacy.owner, correct_stock, batch_id=lot_b, kind="adjust", change=-2, reason="recount")
    pharmacy.run(pharmacy.owner, correct_stock, batch_id=lot_b, kind="write_off", change=3, reason="broken")
    pharmacy.run(pharmacy.owner, correct_stock, batch_id=lot_b, kind="customer_return", change=1, reason="unopened")
    return rx, done


def test_the_running_balance_is_the_ledger_after_receipts_fills_sales_and_corrections(pharmacy, db):
    rx, done = movements(pharmacy)

    found = pharmacy.run(pharmacy.pharmacist, reg.register, pharmacy.branch)

    assert [m.name for m in found.medicines] == ["Morphine sulfate"]
    morphine = found.medicines[0]
    assert (morphine.schedule, morphine.ndc, morphine.opening) == ("CII", "00054023525", 0)
    entries = [(line.kind_label, line.quantity, line.balance) for line in morphine.lines]
    assert entries == [
        ("Received", 100, 100),
        ("Received", 40, 140),
        ("Dispensed (fill)", -30, 110),
        ("Dispensed (counter sale)", -5, 105),
        ("Correction", -2, 103),
        ("Destroyed / written off", -3, 100),
        ("Returned by customer", 1, 101),
    ]
    # The balance is the shelf: what the batches hold equals the last balance and the closing balance.
    assert morphine.closing == morphine.lines[-1].balance == on_hand(db, pharmacy, "morphine") == 101
    fill_line = morphine.lines[2]
    assert (fill_line.fill_code, fill_line.rx_number) == (done.code, rx.rx_number)
    assert reg.reference_text(fill_line) == f"Fill {done.code} (Rx {rx.rx_number})"
    assert reg.reference_text(morphine.lines[3]) == "Bill B1-2026-000042"
    assert morphine.lines[0].reference == "INV-1001"

    # One medicine only, and the other branch has nothing.
    only = pharmacy.run(pharmacy.pharmacist, reg.register, pharmacy.branch, medicine_id=pharmacy.medicines["diazepam"])
    assert only.medicines == []
    assert pharmacy.run(pharmacy.pharmacist, reg.register, pharmacy.other_branch).medicines == []


def test_a_period_starts_from_the_balance_before_it(pharmacy, db):
    receive(pharmacy, "diazepam", "DZ-OLD", 60)
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE stock_movements SET occurred_at = now() - interval '45 days' WHERE medicine_id = :m"),
        {"m": pharmacy.medicines["diazepam"]},
    )
    receive(pharmacy, "diazepam", "DZ-NEW", 10)

    found = pharmacy.run(pharmacy.pharmacist, reg.register, pharmacy.branch)  # the last 30 days
    diazepam = found.medicines[0]
    assert (diazepam.opening, [line.balance for line in diazepam.lines], diazepam.closing) == (60, [70], 70)
    old = (date.today() - timedelta(days=50)).isoformat()
    earlier = pharmacy.run(
        pharmacy.pharmacist,
        reg.register,
        pharmacy.branch,
        start=old,
        end=(date.today() - timedelta(days=40)).isoformat(),
    )
    assert [(m.opening, m.closing, len(m.lines)) for m in earlier.medicines] == [(0, 60, 1)]
    with pytest.raises(ValidationFailed, match="after the end"):
        pharmacy.run(pharmacy.pharmacist, reg.register, pharmacy.branch, start="2026-02-01", end="2026-01-01")
    with pytest.raises(ValidationFailed, match="YYYY-MM-DD"):
        pharmacy.run(pharmacy.pharmacist, reg.register, pharmacy.branch, start="yesterday")


def test_csv_and_pdf_carry_every_line_and_the_balance(pharmacy):
    rx, done = movements(pharmacy)

    name, body = pharmacy.run(pharmacy.pharmacist, reg.register_csv, pharmacy.branch)
    rows = list(csv.DictReader(io.StringIO(body)))
    assert name.startswith("controlled-register-") and name.endswith(".csv")
    assert [r["entry"] for r in rows][:2] == ["Opening balance", "Received"]
    assert rows[-1]["balance"] == "101"
    assert any(r["fill"] == done.code and r["rx_number"] == rx.rx_number and r["issued"] == "30" for r in rows)

    name, pdf = pharmacy.run(pharmacy.pharmacist, reg.register_pdf, pharmacy.branch)
    words = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in (
        "Controlled-substance register",
        "Morphine sulfate",
        "CII",
        "00054023525",
        done.code,
        "closing 101",
    ):
        assert expected in words, expected


def test_a_kind_the_register_does_not_know_is_spelt_out():
    assert reg.kind_label("fill_return_to_stock") == "Fill return to stock"
    assert reg.kind_label("adjust", "DEA-106 20261201-ABC123") == "Theft or loss (DEA 106)"


def test_a_cashier_or_technician_cannot_see_the_register(pharmacy):
    for ctx in (pharmacy.cashier, pharmacy.technician):
        with pytest.raises(PermissionDenied):
            pharmacy.run(ctx, reg.register, pharmacy.branch)


def test_another_chain_sees_nothing(pharmacy, make_tenant, db):
    movements(pharmacy)
    other = controlled_pharmacy(make_tenant("ctl-other", branches=2))
    with pytest.raises(NotFound):
        other.run(other.pharmacist, reg.register, pharmacy.branch)
    # Its own register at its branch is empty, whatever the first chain holds.
    assert other.run(other.pharmacist, reg.register, other.branch).medicines == []
    # A member limited to one branch does not see the others.
    scoped = TenantContext(
        tenant_id=pharmacy.chain.tenant_id,
        user_id=uuid.uuid4(),
        role="pharmacist",
        branch_ids=frozenset({uuid.UUID(pharmacy.other_branch)}),
    )
    with pytest.raises(NotFound):
        pharmacy.run(scoped, reg.register, pharmacy.branch)
