"""The assistant's patient-facing tools answer with only what the question needs (issue 16): the patients
here have a phone, e-mail, address, notes and allergies on file, and no tool's text or data (what a model
provider would see) carries them; a refill status names no patient at all, and a date of birth appears only
to tell apart patients who share a name."""

from __future__ import annotations

import json

import pytest

from backend.assistant.tools import IDENTITY_FIELDS, PATIENT_FIELDS_NEEDED, call_tool, minimum_necessary
from backend.patients.service import get_patient, update_patient
from tenants.session import run_in_tenant
from tests.backend.assistant.test_prescription_tools import recalled, rx_of, weekly_refillable  # noqa: F401
from tests.backend.prescriptions.test_recall import Recalled

ON_FILE = {
    "phone": "+1 212 555 0147",
    "email": "on.file@example.com",
    "address": "12 Quiet Lane, Springfield",
    "notes": "prefers calls after 5pm",
    "allergies": "sulfa (hives)",
}
NEVER = ("2125550147", "555 0147", "on.file@example.com", "Quiet Lane", "after 5pm", "sulfa")


def with_details_on_file(chain: Recalled, patient_id: str) -> str:
    """Give the patient contact details, notes and allergies; return their date of birth."""
    owner = chain.pharmacy.owner
    current = run_in_tenant(owner, get_patient, patient_id)
    run_in_tenant(
        owner,
        update_patient,
        patient_id,
        full_name=current.full_name,
        date_of_birth=current.date_of_birth.isoformat(),
        home_branch_id=current.home_branch_id,
        contact_consent="on",
        **ON_FILE,
    )
    return current.date_of_birth.isoformat()


def written(result) -> str:
    return result.text + "\n" + json.dumps(result.data)


def assert_minimal(result, *, dob: str | None = None) -> None:
    shown = written(result)
    for detail in NEVER:
        assert detail not in shown, f"{detail!r} in {shown[:400]}"
    if dob is not None:
        assert dob not in shown


@pytest.fixture
def on_file(recalled):  # noqa: F811
    return {p: with_details_on_file(recalled, p) for p in (recalled.ann, recalled.ben, recalled.cy, recalled.dee)}


def test_a_refill_status_names_no_patient(recalled, on_file):  # noqa: F811
    pharmacist = recalled.pharmacy.pharmacist
    result = call_tool(pharmacist, "refill_status", {"rx_number": rx_of(recalled, "Ann Archer")})
    assert result.ok, result.text
    assert_minimal(result, dob=on_file[recalled.ann])
    assert "Ann" not in written(result) and "Archer" not in written(result)


def test_refills_due_and_the_recall_name_whom_to_call_and_nothing_else(recalled, on_file):  # noqa: F811
    weekly_refillable(recalled, "Ann Archer")  # Ann again: a new prescription with refills, due in a week
    pharmacist = recalled.pharmacy.pharmacist
    due = call_tool(pharmacist, "refills_due", {"within_days": 7})
    assert [r["patient"] for r in due.data["due"]] == ["Ann Archer"]
    assert_minimal(due, dob=on_file[recalled.ann])
    trace = call_tool(pharmacist, "recall_trace", {"lot": "A-100", "medicine": "lisinopril"})
    assert trace.ok and trace.data["recipients"]
    assert_minimal(trace, dob=on_file[recalled.ann])


def test_a_medication_list_shows_the_date_of_birth_only_to_choose(recalled, on_file):  # noqa: F811
    pharmacist = recalled.pharmacy.pharmacist
    one = call_tool(pharmacist, "medication_list", {"patient": "Ann Archer"})
    assert one.ok and one.data["patient"] == "Ann Archer"
    assert_minimal(one, dob=on_file[recalled.ann])
    recalled.pharmacy.patient("Ann Archer", born="1990-01-01")
    several = call_tool(pharmacist, "medication_list", {"patient": "Ann Archer"})
    assert {c["date_of_birth"] for c in several.data["choices"]} == {on_file[recalled.ann], "1990-01-01"}
    assert_minimal(several)


def test_identity_fields_a_tool_does_not_need_are_dropped_at_any_depth():
    data = {"rx_number": "B1-000001", "rows": [{"patient": "A", "phone": "1", "email": "e", "date_of_birth": "d"}]}
    assert minimum_necessary("refill_status", data) == {"rx_number": "B1-000001", "rows": [{}]}
    assert minimum_necessary("refills_due", data)["rows"] == [{"patient": "A"}]
    assert minimum_necessary("medication_list", data)["rows"] == [{"patient": "A", "date_of_birth": "d"}]
    for needed in PATIENT_FIELDS_NEEDED.values():  # contact details are never needed
        assert not needed & {"phone", "email", "address", "notes", "allergies", "member_id"}
    assert minimum_necessary("medicine_stock", {"phone": "1", "name": "Ibuprofen"}) == {"name": "Ibuprofen"}
    assert "phone" in IDENTITY_FIELDS
