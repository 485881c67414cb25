"""A pharmacy with scheduled medicines that carry NDCs, stock of them, a prescriber with a DEA number."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from backend.accounts.signatures import sign
from backend.controlled.asap import save_registration
from backend.inventory.service import create_medicine, receive_stock
from tests.backend.prescriptions.conftest import Pharmacy, stock
from tests.conftest import TEST_PASSWORD

PHARMACY_DEA = "BP1234563"  # a valid check digit: (1+3+5) + 2*(2+4+6) = 33 -> 3
PHARMACY_NPI = "1234567893"
NDCS = {"morphine": "00054023525", "diazepam": "00591562110"}


def receive(pharmacy: Pharmacy, medicine: str, lot: str, quantity: int, branch: str | None = None) -> str:
    return pharmacy.run(
        pharmacy.owner,
        receive_stock,
        branch_id=branch or pharmacy.branch,
        medicine_id=pharmacy.medicines[medicine],
        lot_number=lot,
        expiry_date=(date.today() + timedelta(days=400)).isoformat(),
        quantity=quantity,
        reference="INV-1001",
    )


def on_hand(db: Any, pharmacy: Pharmacy, medicine: str, branch: str | None = None) -> int:
    db.execute(text("RESET ROLE"))
    return int(
        db.execute(
            text("SELECT coalesce(sum(quantity), 0) FROM batches WHERE medicine_id = :m AND branch_id = :b"),
            {"m": pharmacy.medicines[medicine], "b": branch or pharmacy.branch},
        ).scalar_one()
    )


def signature(pharmacy: Pharmacy, entity_type: str, entity_id: str) -> str:
    return sign(
        pharmacy.pharmacist,
        password=TEST_PASSWORD,
        meaning="certify the biennial controlled-substance inventory",
        entity_type=entity_type,
        entity_id=entity_id,
    )


def controlled_pharmacy(chain: Any) -> Pharmacy:
    pharmacy = stock(chain)
    pharmacy.medicines["morphine"] = pharmacy.run(
        pharmacy.owner,
        create_medicine,
        generic_name="Morphine sulfate",
        strength="15 mg",
        dosage_form="tablet",
        schedule="controlled",
        controlled_class="CII",
        barcode=NDCS["morphine"],
        default_sell_price="1.00",
    )
    pharmacy.medicines["diazepam"] = pharmacy.run(
        pharmacy.owner,
        create_medicine,
        generic_name="Diazepam",
        strength="5 mg",
        dosage_form="tablet",
        schedule="controlled",
        controlled_class="CIV",
        barcode=NDCS["diazepam"],
        default_sell_price="1.00",
    )
    pharmacy.run(
        pharmacy.owner,
        save_registration,
        pharmacy.branch,
        dea_number=PHARMACY_DEA,
        npi=PHARMACY_NPI,
        state="OH",
    )
    return pharmacy


@pytest.fixture
def pharmacy(db, make_tenant) -> Pharmacy:
    return controlled_pharmacy(make_tenant("ctl", branches=2))
