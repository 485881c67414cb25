"""The request schema: the optional fields that turn more checks on, and how they are read."""

from __future__ import annotations

from datetime import date

import pytest

from backend.clinical.schemas import parse_request
from backend.core.errors import ValidationFailed


def test_minimal_request_from_the_issue():
    request = parse_request(
        {
            "new": {"drug": "ibuprofen", "strength": "800 mg", "days_supply": 30, "date": "2025-03-01"},
            "active": [{"drug": "warfarin", "last_fill": "2025-02-10", "days_supply": 30}],
            "allergies": ["penicillin", "  ", "sulfa"],
        }
    )
    assert request.new.date == date(2025, 3, 1) and request.active[0].last_fill == date(2025, 2, 10)
    assert request.allergies == ("penicillin", "sulfa")  # blank entries dropped
    assert request.patient is None and request.early_refill_threshold == 0.75


def test_dose_fields_patient_and_schedule():
    request = parse_request(
        {
            "new": {
                "drug": "methotrexate",
                "strength": "2.5 mg",
                "dose": "10 mg",
                "frequency": "daily",
                "date": "2025-03-01",
                "schedule": "c-ii",
            },  # fmt: skip
            "patient": {"weight_kg": 20, "date_of_birth": "2019-03-02"},
            "early_refill_threshold": 0.8,
        }
    )
    assert (request.new.dose, request.new.frequency, request.new.schedule) == ("10 mg", "daily", "CII")
    assert request.patient is not None and request.patient.weight_kg == 20
    assert request.patient.age_years is not None and 5.9 < request.patient.age_years < 6.0  # age on the fill date
    assert request.early_refill_threshold == 0.8


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"new": {"drug": "x", "quantity": -1}}, "new.quantity"),
        ({"new": {"drug": "x", "days_supply": 0}}, "new.days_supply"),
        ({"new": {"drug": "x"}, "patient": {"age_years": 200}}, "patient.age_years"),
        (
            {"new": {"drug": "x", "date": "2025-03-01"}, "patient": {"date_of_birth": "2026-01-01"}},
            "patient.date_of_birth",
        ),
        ({"new": {"drug": "x"}, "allergies": "penicillin"}, "allergies"),
        ({"new": {"drug": "x"}, "allergies": ["x" * 201]}, "allergies"),
        ({"new": {"drug": "x"}, "extra": 1}, "extra"),
    ],
)
def test_bad_fields_are_named(body, field):
    with pytest.raises(ValidationFailed) as refused:
        parse_request(body)
    assert refused.value.field == field, refused.value.message
