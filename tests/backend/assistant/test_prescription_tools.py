"""The assistant's prescription tools: a prescription's refill status, the refills due, a patient's
medication list (through the patient access log) and the recall trace. Answers come from the data, a
role without the permission is refused by the tool, and another chain's records never appear; the
local engine routes the questions to them and the OpenAI-compatible provider is offered them."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from backend.assistant.local_engine import PRESCRIPTION_HELP, answer
from backend.assistant.openai_provider import CircuitBreaker, stream_answer
from backend.assistant.tools import WHICH_PATIENT, call_tool, tools_for
from backend.prescriptions import fills, medication
from tenants.context import TenantContext
from tests.assistant_llm_server import FakeModel, tool_call
from tests.backend.assistant.test_openai_provider import settings_for
from tests.backend.prescriptions.conftest import stock
from tests.backend.prescriptions.test_fills import receive
from tests.backend.prescriptions.test_recall import Recalled, recalled_chain


@pytest.fixture
def recalled(make_tenant) -> Recalled:
    return recalled_chain(stock(make_tenant("rx-assistant", branches=2)))


def as_role(recalled: Recalled, role: str) -> TenantContext:
    return TenantContext(tenant_id=recalled.pharmacy.chain.tenant_id, user_id=uuid.uuid4(), role=role)


def rx_of(recalled: Recalled, patient: str) -> str:
    return recalled.fill_codes[patient].rsplit("-", 2)[0]  # the fill's code is <Rx number>-<dispensing>-<part>


def logged(db, reason: str) -> list[str]:
    db.execute(text("RESET ROLE"))
    rows = db.execute(
        text("SELECT patient_id FROM patient_access_log WHERE reason = :r ORDER BY id"), {"r": reason}
    ).all()
    return [str(r.patient_id) for r in rows]


# --- refill status and refills due ------------------------------------------------------------------


def weekly_refillable(recalled: Recalled, name: str = "Wes Weekly") -> str:
    """A 7-day supply with two refills, filled today: due for a refill in 7 days."""
    p = recalled.pharmacy
    receive(p, "lisinopril", "W-1", 20)
    rx = p.on_profile(p.patient(name), "lisinopril", quantity="7", days_supply="7", refills_authorized="2")
    p.run(p.technician, fills.fill_prescription, rx.id)
    return rx.rx_number


def test_refill_status_is_the_prescriptions_own(recalled):
    number = weekly_refillable(recalled)

    result = call_tool(recalled.pharmacy.pharmacist, "refill_status", {"rx_number": number.lower()})

    assert result.ok, result.text
    today = date.today()
    assert result.data["rx_number"] == number
    assert (result.data["refills_remaining"], result.data["refills_authorized"]) == (2, 2)
    assert result.data["last_filled"] == today.isoformat()
    assert result.data["next_due"] == (today + timedelta(days=7)).isoformat()
    assert f"Rx {number} (Lisinopril 10 mg" in result.text and "Refills left: 2 of 2" in result.text
    assert "Wes Weekly" not in result.text  # the status needs no patient
    # Ann's prescription has no refills: the answer says the prescriber must renew it.
    ann = call_tool(recalled.pharmacy.pharmacist, "refill_status", {"rx_number": rx_of(recalled, "Ann Archer")})
    assert ann.data["refills_remaining"] == 0 and "prescriber must renew" in ann.text


def test_refill_status_refuses_the_till_and_never_finds_another_chains_prescription(recalled, make_tenant):
    number = weekly_refillable(recalled)
    refused = call_tool(as_role(recalled, "cashier"), "refill_status", {"rx_number": number})
    assert refused.refused and "prescriptions.view" in refused.text and number not in refused.text

    other = stock(make_tenant("rx-other-assistant", branches=2))
    stranger = call_tool(other.pharmacist, "refill_status", {"rx_number": number})
    assert not stranger.ok and f"No prescription {number}" in stranger.text


def test_refills_due_lists_what_runs_out_in_the_window(recalled):
    number = weekly_refillable(recalled)
    pharmacist = recalled.pharmacy.pharmacist

    week = call_tool(pharmacist, "refills_due", {"within_days": 7})
    assert [(r["rx_number"], r["patient"], r["due"]) for r in week.data["due"]] == [
        (number, "Wes Weekly", (date.today() + timedelta(days=7)).isoformat())
    ]
    # Ann, Ben and Cy have no refills left: never due. Within 5 days nothing runs out.
    assert call_tool(pharmacist, "refills_due", {"within_days": 5}).data["due"] == []
    at_other_branch = call_tool(pharmacist, "refills_due", {"within_days": 7, "branch": "Branch 2"})
    assert at_other_branch.data["due"] == [] and "at Branch 2" in at_other_branch.text
    assert call_tool(as_role(recalled, "cashier"), "refills_due", {}).refused


# --- the medication list ------------------------------------------------------------------------------


def test_a_patients_medication_list_is_opened_through_the_access_log(recalled, db):
    result = call_tool(recalled.pharmacy.pharmacist, "medication_list", {"patient": "Ann Archer"})

    assert result.ok, result.text
    assert result.data["patient"] == "Ann Archer"
    assert [(m["rx_number"], m["medicine"], m["directions"]) for m in result.data["medications"]] == [
        (rx_of(recalled, "Ann Archer"), "Lisinopril 10 mg", result.data["medications"][0]["directions"])
    ]
    assert result.data["medications"][0]["directions"].lower().startswith("take 1 tablet")
    assert logged(db, medication.ACCESS_REASON) == [recalled.ann]
    # Only what the question needs: no date-of-birth field, phone, address or allergies in the data.
    assert set(result.data["medications"][0]) == {
        "rx_number", "medicine", "directions", "last_filled", "refills_remaining"
    }  # fmt: skip


def test_a_name_several_patients_share_asks_which_and_opens_nobody(recalled, db):
    recalled.pharmacy.patient("Ann Archer", born="1990-01-01")  # a second Ann Archer

    result = call_tool(recalled.pharmacy.pharmacist, "medication_list", {"patient": "Ann Archer"})

    assert not result.ok and WHICH_PATIENT in result.text and result.data["patient"] is None
    assert {c["date_of_birth"] for c in result.data["choices"]} == {"1960-05-01", "1990-01-01"}
    assert logged(db, medication.ACCESS_REASON) == []
    # The reply with the date of birth picks one.
    history = [{"role": "user", "content": "meds for Ann Archer"}, {"role": "assistant", "content": result.text}]
    reply = answer(recalled.pharmacy.pharmacist, "Ann Archer 1960-05-01", history)
    assert reply.intent == "medication_list" and "Lisinopril 10 mg" in reply.text
    assert logged(db, medication.ACCESS_REASON) == [recalled.ann]


def test_the_till_may_not_open_a_medication_list(recalled, db):
    refused = call_tool(as_role(recalled, "cashier"), "medication_list", {"patient": "Ann Archer"})
    assert refused.refused and "Lisinopril" not in refused.text
    assert logged(db, medication.ACCESS_REASON) == []


# --- the recall trace -----------------------------------------------------------------------------------


def test_the_recall_tool_lists_who_received_the_lot(recalled, db):
    result = call_tool(recalled.pharmacy.pharmacist, "recall_trace", {"lot": "A-100", "medicine": "lisinopril"})

    assert result.ok, result.text
    assert [(r["patient"], r["kind"], r["quantity"]) for r in result.data["recipients"]] == [
        ("Ann Archer", "fill", 30),
        ("Ben Baker", "fill", 30),
    ]
    assert "was received by 2 patients" in result.text and "Cy Cole" not in result.text
    assert logged(db, "recall trace") == [recalled.ann, recalled.ben]
    # Two makers number a lot A-100: without the medicine, the tool asks and lists nobody.
    unnamed = call_tool(recalled.pharmacy.owner, "recall_trace", {"lot": "A-100"})
    assert not unnamed.ok and unnamed.data["recipients"] == [] and "Which medicine" in unnamed.text
    assert sorted(unnamed.data["choices"]) == ["Cetirizine 10 mg, Zyrtec", "Lisinopril 10 mg"]
    zyrtec = call_tool(recalled.pharmacy.owner, "recall_trace", {"lot": "a-100", "medicine": "Zyrtec"})
    assert [r["patient"] for r in zyrtec.data["recipients"]] == ["Dee Dunn"]


@pytest.mark.parametrize("role", ["technician", "manager", "cashier"])
def test_the_recall_tool_is_the_pharmacists_and_the_owners(recalled, db, role):
    refused = call_tool(as_role(recalled, role), "recall_trace", {"lot": "A-100", "medicine": "lisinopril"})
    assert refused.refused and "prescriptions.recall_trace" in refused.text and "Ann" not in refused.text
    assert "recall_trace" not in {t.name for t in tools_for(as_role(recalled, role))}
    assert logged(db, "recall trace") == []


# --- the local engine and the provider ------------------------------------------------------------------


def test_the_local_engine_answers_prescription_questions_from_the_data(recalled):
    pharmacist = recalled.pharmacy.pharmacist
    number = weekly_refillable(recalled)

    recall = answer(pharmacist, "who received lot A-100 of lisinopril?")
    assert recall.intent == "recall" and "Ann Archer" in recall.text and "Ben Baker" in recall.text
    assert "Dee Dunn" not in recall.text
    status = answer(pharmacist, f"how many refills left on {number}?")
    assert status.intent == "refill_status" and "Refills left: 2 of 2" in status.text
    due = answer(pharmacist, "which prescriptions are due for a refill in the next 7 days?")
    assert due.intent == "refills_due" and number in due.text and "Wes Weekly" in due.text
    meds = answer(pharmacist, "what meds is Ben Baker taking?")
    assert meds.intent == "medication_list" and "Lisinopril 10 mg" in meds.text
    # Anything else about prescriptions says what it can do, no longer "not in the product yet".
    other = answer(pharmacist, "can you transfer a prescription?")
    assert other.text == PRESCRIPTION_HELP
    # The till asks the same question and is refused by the tool.
    refused = answer(as_role(recalled, "cashier"), "who received lot A-100 of lisinopril?")
    assert "may not use recall_trace" in refused.text and "Ann" not in refused.text


def test_the_provider_is_offered_the_tools_and_its_calls_run_under_the_member(recalled):
    model = FakeModel().start()
    try:
        model.then(tool_call("recall_trace", lot="A-100", medicine="lisinopril"))
        events = list(
            stream_answer(
                recalled.pharmacy.pharmacist,
                "who got lot A-100 of lisinopril?",
                (),
                settings=settings_for(model),
                breaker=CircuitBreaker(),
            )
        )
        reply = events[-1]
        assert reply.engine == "openai" and "Ann Archer" in reply.text and "Ben Baker" in reply.text
        offered = {t["function"]["name"] for t in model.requests[0]["tools"]}
        assert {"refill_status", "refills_due", "medication_list", "recall_trace"} <= offered

        # A technician's model is not offered the trace; asking for it anyway is refused by call_tool.
        model.requests.clear()
        model.then(tool_call("recall_trace", lot="A-100", medicine="lisinopril"))
        technician = as_role(recalled, "technician")
        events = list(
            stream_answer(technician, "who got lot A-100?", (), settings=settings_for(model), breaker=CircuitBreaker())
        )
        assert "recall_trace" not in {t["function"]["name"] for t in model.requests[0]["tools"]}
        assert "Ann Archer" not in events[-1].text and "may not use recall_trace" in events[-1].text
    finally:
        model.stop()
