"""Prescribers: NPI and DEA check digits, one record per NPI, same-named records flagged, searchable."""

from __future__ import annotations

import pytest

from backend.core.errors import PermissionDenied, ValidationFailed
from backend.prescriptions import prescribers
from backend.prescriptions.prescribers import DuplicatePrescriber, dea_valid, npi_valid
from tests.backend.prescriptions.conftest import VALID_DEA, VALID_NPI


def test_check_digits():
    assert npi_valid(VALID_NPI) and not npi_valid("1234567890") and not npi_valid("123456789")
    assert dea_valid(VALID_DEA) and not dea_valid("AB1234564") and not dea_valid("A11234563")


def test_duplicates_are_refused_by_npi_and_flagged_by_name(pharmacy):
    run, owner = pharmacy.run, pharmacy.owner
    with pytest.raises(DuplicatePrescriber, match="already on file for Dana Rivera"):
        run(owner, prescribers.create_prescriber, full_name="D. Rivera", npi=VALID_NPI)
    twin = run(owner, prescribers.create_prescriber, full_name="dana rivera", credentials="DO")
    assert twin.possible_duplicates == [f"Dana Rivera (NPI {VALID_NPI})"]
    found = run(owner, prescribers.find_prescribers, "rivera")
    assert len(found.items) == 2 and all(p.possible_duplicates for p in found.items)
    assert [p.npi for p in run(owner, prescribers.find_prescribers, VALID_NPI[:6]).items] == [VALID_NPI]
    with pytest.raises(ValidationFailed) as bad:
        run(owner, prescribers.create_prescriber, full_name="Bad Dea", dea_number="AB1234564")
    assert bad.value.field == "dea_number"
    with pytest.raises(PermissionDenied):
        run(pharmacy.cashier, prescribers.find_prescribers, "")
