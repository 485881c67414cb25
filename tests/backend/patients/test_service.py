"""Patient records: checks, search, branch scope, chain isolation, the access log and linking a bill."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backend.billing.bills.service import create_draft, update_draft
from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.core.logging import JsonFormatter
from backend.core.settings import get_settings
from backend.inventory.service import create_medicine, receive_stock
from backend.patients.service import (
    PatientSummary,
    access_log,
    create_patient,
    find_patients,
    get_patient,
    patient_summary,
    update_patient,
)
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session

APP_ROLE = get_settings().APP_DB_ROLE


def as_role(chain, role: str, **kwargs) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role=role, **kwargs)


def register(ctx: TenantContext, branch, **fields):
    record = {
        "full_name": "Maria  Example",
        "date_of_birth": "1961-04-12",
        "home_branch_id": str(branch),
        "phone": "+1 (555) 010-0100",
        "email": "Maria@Example.COM",
        "allergies": "Penicillin (rash)",
        **fields,
    }
    return run_in_tenant(ctx, create_patient, **record)


def log_rows(ctx: TenantContext) -> list[tuple]:
    with tenant_session(ctx) as session:
        rows = session.execute(text("SELECT action, patient_id FROM patient_access_log ORDER BY id")).all()
    return [tuple(r) for r in rows]


@pytest.fixture
def chain(make_tenant):
    return make_tenant("patients", branches=2)


def test_register_find_open_and_update_a_patient(chain):
    owner = as_role(chain, "owner")
    patient = register(owner, chain.branch_ids[0], contact_consent=True)
    assert patient.full_name == "Maria Example"  # spaces collapsed
    assert patient.phone == "+15550100100" and patient.email == "Maria@example.com"
    assert patient.date_of_birth == date(1961, 4, 12) and patient.home_branch_name == "Branch 1"
    assert patient.contact_consent and patient.consent_at is not None

    for query in ("example", "exam MAR", "EXA", "0100", "+1 555 010 0100", "1961-04-12", "example 1961-04-12"):
        assert [p.id for p in run_in_tenant(owner, find_patients, query).items] == [patient.id], query
    assert run_in_tenant(owner, find_patients, "example 1970-01-01").items == []
    assert run_in_tenant(owner, find_patients, "100%").items == []  # LIKE wildcards are text, not patterns

    opened = run_in_tenant(owner, get_patient, patient.id)
    assert opened.allergies == "Penicillin (rash)"
    changed = run_in_tenant(
        owner,
        update_patient,
        patient.id,
        full_name="Maria Example-Smith",
        date_of_birth="1961-04-12",
        home_branch_id=str(chain.branch_ids[1]),
        phone="555 0100 100",
        email="",
        allergies="Penicillin (rash); latex",
        contact_consent="on",
    )
    assert changed.allergies.endswith("latex") and changed.home_branch_name == "Branch 2"
    assert changed.consent_at == patient.consent_at  # consent kept its first moment while it stays given
    withdrawn = run_in_tenant(
        owner, update_patient, patient.id, full_name="Maria Example-Smith", date_of_birth="1961-04-12",
        home_branch_id=str(chain.branch_ids[1]), contact_consent=False,
    )  # fmt: skip
    assert not withdrawn.contact_consent and withdrawn.consent_at is None and withdrawn.phone == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "   ", "full name"),
        ("date_of_birth", (date.today() + timedelta(days=2)).isoformat(), "future"),
        ("date_of_birth", "12/04/1961", "YYYY-MM-DD"),
        ("date_of_birth", "1961-02-30", "YYYY-MM-DD"),
        ("date_of_birth", "1850-01-01", "1900"),
        ("email", "maria.example.com", "e-mail"),
        ("email", "maria@example", "e-mail"),
        ("phone", "555-CALL-NOW", "6 to 15 digits"),
        ("phone", "12345", "6 to 15 digits"),
        ("allergies", "x" * 2001, "2,000"),
        ("home_branch_id", "not-a-branch", "home branch"),
    ],
)
def test_bad_input_gets_a_clear_message_and_writes_nothing(chain, field, value, message):
    owner = as_role(chain, "owner")
    with pytest.raises(ValidationFailed, match=message) as refused:
        register(owner, chain.branch_ids[0], **{field: value})
    assert refused.value.field == field
    assert run_in_tenant(owner, find_patients).items == []
    assert [action for action, _ in log_rows(owner)] == ["searched"]  # only the search just made


def test_consent_needs_a_way_to_contact(chain):
    owner = as_role(chain, "owner")
    with pytest.raises(ValidationFailed, match="phone number or an e-mail") as refused:
        register(owner, chain.branch_ids[0], phone="", email="", contact_consent=True)
    assert refused.value.field == "contact_consent"


def test_a_member_sees_patients_of_their_branches_or_who_bought_there(chain):
    owner = as_role(chain, "owner")
    home_1, home_2 = chain.branch_ids
    at_1 = register(owner, home_1, full_name="Ada One")
    at_2 = register(owner, home_2, full_name="Bo Two")
    limited = as_role(chain, "pharmacist", branch_ids=frozenset({home_2}))

    assert [p.full_name for p in run_in_tenant(limited, find_patients).items] == ["Bo Two"]
    with pytest.raises(NotFound):
        run_in_tenant(limited, get_patient, at_1.id)
    with pytest.raises(NotFound):
        run_in_tenant(
            limited, update_patient, at_1.id, full_name="Ada", date_of_birth="1961-04-12", home_branch_id=str(home_1)
        )
    with pytest.raises(ValidationFailed, match="your branches"):
        register(limited, home_1, full_name="Elsewhere")
    assert run_in_tenant(limited, get_patient, at_2.id).full_name == "Bo Two"

    # Ada buys at branch 2: its staff now see her record, and may edit it without moving her home branch.
    medicine = run_in_tenant(owner, create_medicine, generic_name="Cetirizine", default_sell_price="3.00")
    run_in_tenant(
        owner, create_draft, branch_id=str(home_2), lines=[{"medicine_id": medicine, "quantity": 1}], patient_id=at_1.id
    )
    assert {p.full_name for p in run_in_tenant(limited, find_patients).items} == {"Ada One", "Bo Two"}
    edited = run_in_tenant(
        limited,
        update_patient,
        at_1.id,
        full_name="Ada One",
        date_of_birth="1961-04-12",
        home_branch_id=str(home_1),
        notes="ok",
    )
    assert edited.notes == "ok" and edited.home_branch_id == str(home_1)


def test_another_chain_never_sees_them(chain, make_tenant):
    patient = register(as_role(chain, "owner"), chain.branch_ids[0])
    other = make_tenant("rival")
    rival = as_role(other, "owner")
    assert run_in_tenant(rival, find_patients, "example").items == []
    with pytest.raises(NotFound):
        run_in_tenant(rival, get_patient, patient.id)
    with pytest.raises(NotFound):
        run_in_tenant(rival, access_log, patient.id)
    with pytest.raises(NotFound):
        run_in_tenant(rival, patient_summary, patient.id)


def test_every_opening_is_logged_and_the_log_is_append_only(db, chain):
    owner = as_role(chain, "owner")
    patient = register(owner, chain.branch_ids[0])
    pharmacist = as_role(chain, "pharmacist")
    run_in_tenant(pharmacist, get_patient, patient.id)
    run_in_tenant(owner, get_patient, patient.id)
    found = run_in_tenant(pharmacist, find_patients, "example")
    assert len(found.items) == 1
    key = uuid.UUID(patient.id)
    assert log_rows(owner) == [("created", key), ("viewed", key), ("viewed", key), ("searched", None)]

    entries = run_in_tenant(owner, access_log, patient.id)
    assert [e.action for e in entries] == ["viewed", "viewed", "created"]  # newest first; searches are chain-wide
    assert all(e.who.startswith("Owner ") for e in entries)
    with pytest.raises(PermissionDenied):
        run_in_tenant(pharmacist, access_log, patient.id)

    # The database itself refuses the app role any change to the log, whatever the code does.
    db.execute(text("RESET ROLE"))
    for statement in ("UPDATE patient_access_log SET action = 'viewed'", "DELETE FROM patient_access_log"):
        db.execute(text("SAVEPOINT probe"))
        db.execute(text(f'SET LOCAL ROLE "{APP_ROLE}"'))
        db.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(chain.tenant_id)})
        with pytest.raises(DBAPIError, match="permission denied"):
            db.execute(text(statement))
        db.execute(text("ROLLBACK TO SAVEPOINT probe"))
    db.execute(text("RESET ROLE"))
    assert len(log_rows(owner)) == 4


def test_a_cashier_looks_up_name_and_birth_date_only(chain):
    owner = as_role(chain, "owner")
    patient = register(owner, chain.branch_ids[0])
    cashier = as_role(chain, "cashier")
    found = run_in_tenant(cashier, find_patients, "example")
    assert found.items == [PatientSummary(patient.id, "Maria Example", date(1961, 4, 12))]
    assert [f.name for f in dataclasses.fields(PatientSummary)] == ["id", "full_name", "date_of_birth"]
    assert run_in_tenant(cashier, patient_summary, patient.id).full_name == "Maria Example"
    with pytest.raises(ValidationFailed, match="at least 2"):
        run_in_tenant(cashier, find_patients, "")  # no browsing the whole list from the till
    for refused in (
        lambda: run_in_tenant(cashier, get_patient, patient.id),
        lambda: register(cashier, chain.branch_ids[0], full_name="New"),
        lambda: run_in_tenant(cashier, access_log, patient.id),
    ):
        with pytest.raises(PermissionDenied):
            refused()


def test_a_bill_links_a_patient_of_the_same_chain_only(chain, make_tenant):
    owner = as_role(chain, "owner")
    branch = str(chain.branch_ids[0])
    patient = register(owner, chain.branch_ids[0])
    medicine = run_in_tenant(owner, create_medicine, generic_name="Loratadine", default_sell_price="2.50")
    run_in_tenant(
        owner,
        receive_stock,
        branch_id=branch,
        medicine_id=medicine,
        lot_number="L1",
        expiry_date="2099-01-01",
        quantity=5,
    )
    lines = [{"medicine_id": medicine, "quantity": 1}]
    cashier = as_role(chain, "cashier")

    walk_in = run_in_tenant(cashier, create_draft, branch_id=branch, lines=lines)
    assert walk_in.patient_id is None
    linked = run_in_tenant(cashier, update_draft, walk_in.id, lines=lines, patient_id=patient.id)
    assert linked.patient_id == patient.id
    assert run_in_tenant(cashier, update_draft, walk_in.id, lines=lines).patient_id is None  # back to a walk-in

    other = make_tenant("rival")
    stranger = register(as_role(other, "owner"), other.branch_ids[0])
    for bad in (stranger.id, str(uuid.uuid4()), "not-an-id"):
        with pytest.raises(ValidationFailed, match="No such patient") as refused:
            run_in_tenant(cashier, create_draft, branch_id=branch, lines=lines, patient_id=bad)
        assert refused.value.field == "patient_id"
    with tenant_session(owner) as session:
        assert session.execute(text("SELECT count(*) FROM bills")).scalar_one() == 1  # nothing else written
    # The composite key refuses it in the database too (a foreign-key check does not go through RLS).
    with pytest.raises(DBAPIError, match="foreign key"):
        with tenant_session(owner) as session:
            session.execute(text("UPDATE bills SET patient_id = :p WHERE id = :b"), {"p": stranger.id, "b": walk_in.id})


def test_patient_fields_never_reach_a_log_line():
    record = logging.LogRecord("patients", logging.INFO, __file__, 1, "patient.created", None, None)
    record.fields = {"full_name": "Maria Example", "date_of_birth": "1961-04-12", "phone": "+15550100", "count": 1}
    line = JsonFormatter("test").format(record)
    assert "Maria" not in line and "1961" not in line and "5550100" not in line and '"count": 1' in line
