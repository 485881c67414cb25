"""The financial audit chain (one hash chain per branch), tamper detection, and electronic signatures."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from backend.accounts.api_tokens import create_token
from backend.accounts.mfa import confirm_enrolment, start_enrolment
from backend.accounts.service import TooManyAttempts
from backend.accounts.signatures import SignatureRefused, require_fresh_signature, sign
from backend.api import create_api
from backend.billing.audit_chain import GENESIS_HASH, verify_chains
from backend.billing.bills.counter import sell_for_cash
from backend.billing.bills.service import create_draft, finalize_bill, void_bill
from backend.billing.payments.service import record_payment
from backend.cli import app as cli
from backend.core.errors import ValidationFailed
from backend.core.settings import get_settings
from backend.inventory.service import receive_stock
from tenants.session import run_in_tenant, tenant_session
from tests.backend.billing.conftest import stock_up
from tests.conftest import TEST_PASSWORD

APP_ROLE = get_settings().APP_DB_ROLE


def sell(counter, branch: str | None = None, quantity: int = 1):
    bill = run_in_tenant(
        counter.owner,
        create_draft,
        branch_id=branch or counter.branch,
        lines=[{"medicine_id": counter.ibuprofen, "quantity": quantity}],
    )
    return run_in_tenant(counter.owner, finalize_bill, bill.id)


def events(counter, branch: str | None = None) -> list:
    with tenant_session(counter.owner) as session:
        return session.execute(
            text(
                "SELECT seq, action, entity_type, entity_id, details, prev_hash, hash FROM financial_audit_events "
                "WHERE branch_id = :b ORDER BY seq"
            ),
            {"b": branch or counter.branch},
        ).all()


def as_owner(db) -> None:
    db.execute(text("RESET ROLE"))  # the owner role: the only one that can still edit the table


@pytest.fixture
def day_of_sales(counter):
    """finalize, pay, finalize, void: four events on branch 1."""
    paid = sell(counter)
    run_in_tenant(counter.owner, record_payment, bill_id=paid.id, tendered="10.00")
    voided = run_in_tenant(counter.owner, void_bill, sell(counter).id, reason="wrong customer")
    return paid, voided


def test_finalize_payment_and_void_form_one_chain_per_branch(counter, day_of_sales):
    paid, voided = day_of_sales
    discarded = run_in_tenant(
        counter.owner, create_draft, branch_id=counter.branch, lines=[{"medicine_id": counter.ibuprofen, "quantity": 1}]
    )
    run_in_tenant(counter.owner, void_bill, discarded.id, reason="discarded at the counter")  # a draft: no money moved
    chain = events(counter)
    assert [(e.seq, e.action, e.entity_type) for e in chain] == [
        (1, "bill.finalized", "bill"),
        (2, "payment.recorded", "payment"),
        (3, "bill.finalized", "bill"),
        (4, "bill.voided", "bill"),
    ]
    assert [e.prev_hash for e in chain] == [GENESIS_HASH] + [e.hash for e in chain[:-1]]
    finalized, payment = chain[0].details, chain[1].details
    assert finalized["number"] == paid.number and (finalized["total"], finalized["total_due"]) == (
        "5.4329",
        "5.4300",
    )  # strings, never floats
    assert payment["payment"] == {
        "method": "cash",
        "amount": "5.4300",
        "tendered": "10.0000",
        "change_due": "4.5700",
        "reference": "",
    }
    assert chain[3].entity_id == voided.id and chain[3].details["void_reason"] == "wrong customer"
    report = verify_chains(counter.chain.slug)
    assert report.intact and report.events == 4 and [c.events for c in report.chains] == [4]


def test_a_sale_that_fails_leaves_no_event(counter):
    with pytest.raises(Exception):  # noqa: B017 - OutOfStock; whatever it is, nothing may be written
        sell(counter, quantity=21)
    assert events(counter) == []


def test_the_counter_sale_writes_finalize_and_payment_in_one_transaction(counter):
    from backend.billing.bills.counter import save_draft

    draft = run_in_tenant(
        counter.owner,
        save_draft,
        branch_id=counter.branch,
        bill_id=None,
        lines=[{"medicine_id": counter.ibuprofen, "quantity": 1}],
    )
    run_in_tenant(counter.owner, sell_for_cash, draft.bill.id, "20")
    assert [e.action for e in events(counter)] == ["bill.finalized", "payment.recorded"]


def test_two_branches_keep_independent_chains(counter):
    expiry = (date.today() + timedelta(days=100)).isoformat()
    run_in_tenant(
        counter.owner,
        receive_stock,
        branch_id=counter.other_branch,
        medicine_id=counter.ibuprofen,
        lot_number="IBU-2",
        expiry_date=expiry,
        quantity=5,
    )
    sell(counter)
    sell(counter, counter.other_branch)
    sell(counter)
    one, two = events(counter), events(counter, counter.other_branch)
    assert [e.seq for e in one] == [1, 2] and [e.seq for e in two] == [1]
    assert one[0].prev_hash == two[0].prev_hash == GENESIS_HASH and one[1].prev_hash == one[0].hash
    report = verify_chains(counter.chain.slug)
    assert report.intact and sorted(c.events for c in report.chains) == [1, 2]


def test_an_edited_row_is_found_as_a_hash_mismatch(db, counter, day_of_sales):
    as_owner(db)
    db.execute(
        text(
            "UPDATE financial_audit_events SET details = jsonb_set(details, '{total_due}', '\"0.01\"') "
            "WHERE tenant_id = :t AND seq = 3"
        ),
        {"t": counter.chain.tenant_id},
    )
    report = verify_chains(counter.chain.slug)
    [chain] = report.chains
    assert not report.intact and chain.broken.seq == 3 and chain.broken.problem.startswith("hash mismatch")


def test_a_re_linked_row_is_found_as_a_prev_hash_mismatch(db, counter, day_of_sales):
    as_owner(db)
    db.execute(
        text("UPDATE financial_audit_events SET prev_hash = repeat('b', 64) WHERE tenant_id = :t AND seq = 3"),
        {"t": counter.chain.tenant_id},
    )
    [chain] = verify_chains(counter.chain.slug).chains
    assert chain.broken.seq == 3 and chain.broken.problem.startswith("prev_hash mismatch")


def test_a_deleted_middle_row_and_a_cut_tail_are_found(db, counter, day_of_sales):
    as_owner(db)
    tenant = {"t": counter.chain.tenant_id}
    db.execute(text("DELETE FROM financial_audit_events WHERE tenant_id = :t AND seq = 2"), tenant)
    [chain] = verify_chains(counter.chain.slug).chains
    assert (chain.broken.seq, chain.events) == (2, 3) and "seq 2 is missing" in chain.broken.problem
    as_owner(db)  # verify left the transaction in the platform role
    db.execute(text("DELETE FROM financial_audit_events WHERE tenant_id = :t AND seq >= 2"), tenant)
    [chain] = verify_chains(counter.chain.slug).chains
    assert chain.broken.seq == 2 and "chain head is at seq 4" in chain.broken.problem


def test_the_cli_names_the_first_broken_link_and_exits_1(db, counter, day_of_sales):
    runner = CliRunner()
    intact = runner.invoke(cli, ["audit", "verify", "--tenant", counter.chain.slug])
    assert intact.exit_code == 0, intact.output
    assert "all 1 chains intact (4 events)" in intact.output and "audit log intact" in intact.output
    as_owner(db)
    db.execute(
        text("DELETE FROM financial_audit_events WHERE tenant_id = :t AND seq = 2"), {"t": counter.chain.tenant_id}
    )
    broken = runner.invoke(cli, ["audit", "verify", "--tenant", counter.chain.slug])
    assert broken.exit_code == 1
    assert f"branch B1 ({counter.branch}): first broken link at seq 2: seq 2 is missing" in broken.output
    unknown = runner.invoke(cli, ["audit", "verify", "--tenant", "no-such-chain"])
    assert unknown.exit_code == 2 and "No pharmacy chain" in unknown.output


@pytest.mark.parametrize("table", ["financial_audit_events", "electronic_signatures"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET entity_id = 'x'", "DELETE FROM {table}", "TRUNCATE {table}"])
def test_the_app_role_cannot_edit_or_delete_audit_rows(db, counter, day_of_sales, table, statement):
    sign(counter.ctx("pharmacist"), password=TEST_PASSWORD, meaning="verified the supply", entity_type="bill",
         entity_id=day_of_sales[0].id)  # fmt: skip
    with db.begin_nested():
        db.execute(text(f'SET LOCAL ROLE "{APP_ROLE}"'))
        db.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(counter.chain.tenant_id)})
        with pytest.raises(DBAPIError, match="permission denied"), db.begin_nested():
            db.execute(text(statement.format(table=table)))
    as_owner(db)
    assert db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() > 0  # noqa: S608


# --- electronic signatures --------------------------------------------------------------------------


def signatures_of(counter) -> int:
    with tenant_session(counter.owner) as session:
        return session.execute(text("SELECT count(*) FROM electronic_signatures")).scalar_one()


def test_a_signature_with_the_right_password_records_who_when_and_what(counter):
    pharmacist = counter.ctx("pharmacist")
    bill = sell(counter)
    meaning = f"verified the prescription-only supply of Amoxicillin 500 mg on bill {bill.number}"
    signature_id = sign(pharmacist, password=TEST_PASSWORD, meaning=meaning, entity_type="bill", entity_id=bill.id)
    with tenant_session(counter.owner) as session:
        found = require_fresh_signature(session, pharmacist, signature_id, entity_type="bill", entity_id=bill.id)
    assert (found.user_id, found.meaning, found.method) == (str(counter.chain.owner_user_id), meaning, "password")
    with tenant_session(counter.owner) as session, pytest.raises(SignatureRefused, match="more than five minutes"):
        require_fresh_signature(
            session, pharmacist, signature_id, entity_type="bill", entity_id=bill.id,
            now=found.signed_at + timedelta(minutes=6),
        )  # fmt: skip
    with tenant_session(counter.owner) as session, pytest.raises(SignatureRefused, match="another record"):
        require_fresh_signature(session, pharmacist, signature_id, entity_type="bill", entity_id="another-bill")


def a_draft(counter) -> str:
    lines = [{"medicine_id": counter.ibuprofen, "quantity": 1}]
    return run_in_tenant(counter.owner, create_draft, branch_id=counter.branch, lines=lines).id


def test_a_wrong_password_is_refused_records_nothing_and_slows_down(counter):
    pharmacist = counter.ctx("pharmacist")
    what = {"meaning": "verified the supply on this bill", "entity_type": "bill", "entity_id": a_draft(counter)}
    for _ in range(3):
        with pytest.raises(SignatureRefused, match="password is not right; nothing was signed"):
            sign(pharmacist, password="not the password", **what)
    with pytest.raises(TooManyAttempts):
        sign(pharmacist, password=TEST_PASSWORD, **what)  # even the right one waits now
    with pytest.raises(ValidationFailed):
        sign(pharmacist, **what)  # neither password nor code
    assert signatures_of(counter) == 0


def test_a_signature_with_a_current_totp_code(counter):
    user_id = str(counter.chain.owner_user_id)
    secret = start_enrolment(user_id, "owner@example.com").manual_key.replace(" ", "")
    earlier = time.time() - 30
    confirm_enrolment(user_id, pyotp.TOTP(secret).at(earlier), now=earlier)
    what = {"meaning": "verified the supply on this bill", "entity_type": "bill", "entity_id": a_draft(counter)}
    with pytest.raises(SignatureRefused, match="code is not right"):
        sign(counter.ctx("pharmacist"), totp="000000" if pyotp.TOTP(secret).now() != "000000" else "111111", **what)
    assert signatures_of(counter) == 0
    signature_id = sign(counter.ctx("pharmacist"), totp=pyotp.TOTP(secret).now(), **what)
    with tenant_session(counter.owner) as session:
        assert (
            session.execute(
                text("SELECT method FROM electronic_signatures WHERE id = :s"), {"s": signature_id}
            ).scalar_one()
            == "totp"
        )


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def test_signing_over_rest(client, committed_tenant):
    chain, _ = committed_tenant("sign-api", branches=2)
    counter = stock_up(chain)
    token = create_token(counter.owner, "till", ["write"]).token
    headers = {"Authorization": f"Bearer {token}"}
    body = {"meaning": "verified the supply on bill B1-1", "entity_type": "bill", "entity_id": a_draft(counter)}
    refused = client.post("/api/v1/signatures", json={**body, "password": "wrong password"}, headers=headers)
    assert refused.status_code == 403 and refused.json()["error"] == "signature_refused"
    signed = client.post("/api/v1/signatures", json={**body, "password": TEST_PASSWORD}, headers=headers)
    assert signed.status_code == 201, signed.text
    assert signed.json()["method"] == "password" and signed.json()["user_id"] == str(chain.owner_user_id)


def test_a_signature_over_rest_points_only_at_a_record_of_the_signers_chain(client, committed_tenant):
    """Unknown kinds of record, unknown ids and another chain's bill are refused; nothing is recorded."""
    chain, _ = committed_tenant("sign-where", branches=2)
    counter = stock_up(chain)
    other = stock_up(committed_tenant("sign-other", branches=2)[0])
    theirs = a_draft(other)
    headers = {"Authorization": f"Bearer {create_token(counter.owner, 'till', ['write']).token}"}
    signed = {"meaning": "verified the supply on this bill", "password": TEST_PASSWORD}
    cases = [
        ({"entity_type": "anything", "entity_id": a_draft(counter)}, 422),
        ({"entity_type": "bill", "entity_id": "b-3"}, 404),
        ({"entity_type": "bill", "entity_id": str(uuid.uuid4())}, 404),
        ({"entity_type": "bill", "entity_id": theirs}, 404),  # exists, but in another chain
    ]
    for target, status in cases:
        answer = client.post("/api/v1/signatures", json={**signed, **target}, headers=headers)
        assert answer.status_code == status, (target, answer.text)
    assert signatures_of(counter) == 0 and signatures_of(other) == 0
    mine = client.post("/api/v1/signatures", json={**signed, "entity_type": "bill", "entity_id": a_draft(counter)},
                       headers=headers)  # fmt: skip
    assert mine.status_code == 201 and signatures_of(counter) == 1


def test_a_bulk_append_continues_a_branch_chain_with_the_hashes_verify_expects(db, counter, day_of_sales):
    """The demo seed's path: events hashed in Python (the canonical JSON spliced, see
    `append_financial_events`) and written with COPY, after four live ones; verify recomputes every hash."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from backend.billing.audit_chain import NewFinancialEvent, append_financial_events, event_hash
    from tenants.session import platform_session

    at = datetime.now(UTC).replace(microsecond=0)
    awkward = {"total": Decimal("1.2300"), "note": 'tab\there, "quotes", back\\slash, é', "lines": [{"n": 1}]}
    new = [
        NewFinancialEvent(at, counter.owner.user_id, "bill.finalized", "bill", "bulk-1", awkward),
        NewFinancialEvent(at, None, "payment.recorded", "payment", "bulk-2", {"payment": {"amount": Decimal("1.23")}}),
    ]
    with platform_session(reason="test: bulk append", actor="test") as session:
        head = append_financial_events(session, counter.chain.tenant_id, counter.branch, new)
        with pytest.raises(ValueError, match="in the order they happened"):
            earlier = NewFinancialEvent(datetime(2000, 1, 1, tzinfo=UTC), None, "bill.finalized", "bill", "x", {})
            append_financial_events(session, counter.chain.tenant_id, counter.branch, [new[0], earlier])
    chain = events(counter)
    assert head is not None and head.seq == 6 and [e.seq for e in chain] == [1, 2, 3, 4, 5, 6]
    assert chain[4].prev_hash == chain[3].hash and chain[5].prev_hash == chain[4].hash and chain[5].hash == head.hash
    assert chain[4].details == {"total": "1.2300", "note": awkward["note"], "lines": [{"n": 1}]}
    body = {
        "tenant_id": str(counter.chain.tenant_id),
        "branch_id": counter.branch,
        "seq": 5,
        "occurred_at": at,
        "actor_user_id": str(counter.owner.user_id),
        "action": "bill.finalized",
        "entity_type": "bill",
        "entity_id": "bulk-1",
        "details": awkward,
    }
    assert chain[4].hash == event_hash(chain[3].hash, body)  # the live rule, exactly
    report = verify_chains(counter.chain.slug)
    assert report.intact and report.events == 6
    as_owner(db)
    db.execute(text("UPDATE financial_audit_events SET details = '{}' WHERE entity_id = 'bulk-2'"))
    assert verify_chains(counter.chain.slug).chains[0].broken.seq == 6


@pytest.mark.parametrize("bad", ["A" * 64, "a" * 63, "a" * 65, "g" * 64, "a" * 63 + "\n", " " + "a" * 63])
def test_a_hash_is_exactly_64_lowercase_hex_digits(db, counter, day_of_sales, bad):
    """The checks of migration 0026 (cheaper to evaluate than the regex of 0020) refuse what it refused."""
    as_owner(db)
    with pytest.raises(DBAPIError, match="financial_audit_events_(prev_)?hash_check"), db.begin_nested():
        db.execute(
            text("UPDATE financial_audit_events SET hash = :h, prev_hash = :h WHERE branch_id = :b AND seq = 1"),
            {"h": bad, "b": counter.branch},
        )
    db.execute(
        text("UPDATE financial_audit_events SET hash = :h WHERE branch_id = :b AND seq = 1"),
        {"h": "0123456789abcdef" * 4, "b": counter.branch},
    )  # a good one passes
