"""Structured allergies: matched to a class or ingredients, "no known allergies" distinct from "not asked"."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from backend.core.errors import NotFound, ValidationFailed
from backend.patients.allergies import allergies_with_record, patient_allergies, record_allergies
from backend.patients.service import create_patient
from tenants.context import TenantContext
from tenants.session import run_in_tenant


def owner_of(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def test_entries_are_matched_and_no_known_allergies_is_an_answer(db, make_tenant):
    chain = make_tenant("allergy")
    owner = owner_of(chain)
    patient = run_in_tenant(
        owner,
        create_patient,
        full_name="Al Lergic",
        date_of_birth="1970-01-01",
        home_branch_id=str(chain.branch_ids[0]),
    ).id
    assert run_in_tenant(owner, allergies_with_record, patient).label == "Not asked"
    found = run_in_tenant(owner, record_allergies, patient, "Penicillin (hives)\nKeflex - rash\nlatex\nxyzzyq")
    assert found.status == "recorded"
    assert [(e.kind, e.matched, e.reaction) for e in found.entries] == [
        ("class", "penicillins", "hives"),
        ("ingredient", "cephalexin", "rash"),
        ("non_drug", "", ""),
        ("unmatched", "", ""),
    ]
    cleared = run_in_tenant(owner, record_allergies, patient, "", none_known=True)
    assert (cleared.status, cleared.entries, cleared.label) == ("none_known", [], "No known allergies")
    assert run_in_tenant(owner, record_allergies, patient, "NKDA").status == "none_known"
    for entries, none_known, message in [
        ("", False, "one a line"),
        ("penicillin", True, "not both"),
        ("penicillin\nnkda", False, "cannot stand beside"),
    ]:
        with pytest.raises(ValidationFailed, match=message):
            run_in_tenant(owner, record_allergies, patient, entries, none_known=none_known)
    assert run_in_tenant(owner, patient_allergies, patient).status == "none_known"  # refusals changed nothing
    db.execute(text("RESET ROLE"))
    logged = db.execute(
        text("SELECT count(*) FROM patient_access_log WHERE patient_id = :p AND action = 'updated'"), {"p": patient}
    ).scalar_one()
    assert logged == 3  # each recorded change; refusals write nothing


def test_another_chain_cannot_read_or_record_our_patients_allergies(db, make_tenant):
    ours, theirs = make_tenant("allergy-a"), make_tenant("allergy-b")
    patient = run_in_tenant(
        owner_of(ours),
        create_patient,
        full_name="Private Person",
        date_of_birth="1970-01-01",
        home_branch_id=str(ours.branch_ids[0]),
    ).id
    with pytest.raises(NotFound):
        run_in_tenant(owner_of(theirs), patient_allergies, patient)
    with pytest.raises(NotFound):
        run_in_tenant(owner_of(theirs), record_allergies, patient, "penicillin")


def test_registering_at_intake_records_the_answer_or_nothing(db, make_tenant):
    from backend.patients.allergies import register_with_allergies

    chain = make_tenant("allergy-intake")
    owner = owner_of(chain)
    home = {"date_of_birth": "1980-02-02", "home_branch_id": str(chain.branch_ids[0])}
    asked = run_in_tenant(
        owner, register_with_allergies, full_name="Asked Person", allergies="penicillin, latex", **home
    )
    assert [e.written for e in run_in_tenant(owner, allergies_with_record, asked.id).entries] == ["penicillin", "latex"]
    none = run_in_tenant(owner, register_with_allergies, full_name="No Allergies", none_known=True, **home)
    assert run_in_tenant(owner, allergies_with_record, none.id).status == "none_known"
    skipped = run_in_tenant(owner, register_with_allergies, full_name="Not Asked", **home)
    assert run_in_tenant(owner, allergies_with_record, skipped.id).status == "not_asked"
    db.execute(text("RESET ROLE"))
    before = db.execute(text("SELECT count(*) FROM patients WHERE tenant_id = :t"), {"t": chain.tenant_id}).scalar_one()
    with pytest.raises(ValidationFailed, match="not both"):
        run_in_tenant(owner, register_with_allergies, full_name="Both", allergies="penicillin", none_known=True, **home)
    db.execute(text("RESET ROLE"))
    after = db.execute(text("SELECT count(*) FROM patients WHERE tenant_id = :t"), {"t": chain.tenant_id}).scalar_one()
    assert after == before  # the refused answer took the registration back with it
