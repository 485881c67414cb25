"""Credit notes as the app role: partial and full refunds, lots restocked, amounts, numbering, refusals, REST."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backend import api as rest
from backend.accounts.api_tokens import create_token
from backend.billing.bills.service import create_draft, finalize_bill, get_bill
from backend.billing.credit_notes import service as credit_notes
from backend.billing.credit_notes.api import router as credit_notes_router
from backend.billing.credit_notes.service import CardRefundsUnavailable, get_credit_note, issue_credit_note
from backend.billing.payments.service import record_payment
from backend.billing.reports.service import daily_report
from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.inventory.service import receive_stock
from tenants.session import run_in_tenant, tenant_session
from tests.backend.billing.conftest import stock_up

D = Decimal
YEAR = datetime.now(UTC).year  # the test branches are in UTC


def paid_sale(counter, *, cash: str = "140.00"):
    """22 ibuprofen (20 from lot IBU-1, then 2 from the later-expiring IBU-2) and 2 vitamin D, paid in cash."""
    later = (date.today() + timedelta(days=300)).isoformat()
    run_in_tenant(
        counter.owner,
        receive_stock,
        branch_id=counter.branch,
        medicine_id=counter.ibuprofen,
        lot_number="IBU-2",
        expiry_date=later,
        quantity=5,
    )
    draft = run_in_tenant(
        counter.owner,
        create_draft,
        branch_id=counter.branch,
        lines=[{"medicine_id": counter.ibuprofen, "quantity": 22}, {"medicine_id": counter.vitamin_d, "quantity": 2}],
    )
    bill = run_in_tenant(counter.owner, finalize_bill, draft.id)
    run_in_tenant(counter.owner, record_payment, bill_id=bill.id, tendered=cash)
    return run_in_tenant(counter.owner, get_bill, bill.id)


def lots(counter) -> dict[str, int]:
    with tenant_session(counter.owner) as session:
        rows = session.execute(
            text("SELECT lot_number, quantity FROM batches WHERE branch_id = :b"), {"b": counter.branch}
        )
        return {r.lot_number: r.quantity for r in rows}


def ledger_differences(counter) -> list:
    """Batches whose on-hand is not the sum of their movements."""
    with tenant_session(counter.owner) as session:
        return session.execute(
            text(
                "SELECT b.lot_number, b.quantity, coalesce(sum(m.quantity), 0) AS ledger FROM batches b "
                "LEFT JOIN stock_movements m ON m.tenant_id = b.tenant_id AND m.batch_id = b.id "
                "GROUP BY b.tenant_id, b.id HAVING b.quantity <> coalesce(sum(m.quantity), 0)"
            )
        ).all()


def count(counter, table: str) -> int:
    with tenant_session(counter.owner) as session:
        return session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - test tables


def test_partial_refund_restocks_the_lot_it_was_sold_from(counter):
    bill = paid_sale(counter)
    assert lots(counter) == {"IBU-1": 0, "IBU-2": 3, "AMO-1": 20, "OXY-1": 20, "VIT-1": 18}
    note = run_in_tenant(
        counter.ctx("pharmacist"),
        issue_credit_note,
        bill.id,
        [(1, 3, True), (2, 1, False)],  # 3 unopened ibuprofen back on the shelf; 1 opened vitamin D
        reason="customer returned unopened packs",
    )
    assert note.number == f"CN-B1-{YEAR}-000001" and note.bill_status == "partially_refunded"
    ibuprofen, vitamin = note.lines
    # Last picked first: the 2 units of IBU-2 (FEFO took it last), then 1 of IBU-1.
    assert [(lot.lot_number, lot.quantity) for lot in ibuprofen.lots] == [("IBU-2", 2), ("IBU-1", 1)]
    assert (vitamin.restock, [(lot.lot_number, lot.quantity) for lot in vitamin.lots]) == (False, [("VIT-1", 1)])
    assert lots(counter) == {"IBU-1": 1, "IBU-2": 5, "AMO-1": 20, "OXY-1": 20, "VIT-1": 18}  # vitamin D stays out
    assert ledger_differences(counter) == []
    with tenant_session(counter.owner) as session:
        moves = session.execute(
            text("SELECT quantity, reference FROM stock_movements WHERE kind = 'customer_return' ORDER BY quantity")
        ).all()
    assert [tuple(m) for m in moves] == [(1, note.number), (2, note.number)]
    # Pro rata of the line's stored amounts at 4 decimals: 119.5230 x 3/22 and 109.78 x 3/22.
    assert (ibuprofen.gross_amount, ibuprofen.net_amount, ibuprofen.tax_amount) == (
        D("16.2986"),
        D("14.9700"),
        D("1.3286"),
    )
    assert (vitamin.gross_amount, note.total) == (D("6.0000"), D("22.2986"))
    assert note.amount_refunded == D("22.30") and [(r.method, r.amount) for r in note.refunds] == [("cash", D("22.30"))]
    assert run_in_tenant(counter.ctx("cashier"), get_credit_note, note.id) == note  # anyone who sees bills reads it
    with tenant_session(counter.owner) as session:
        audited = session.execute(text("SELECT action FROM audit_events WHERE action LIKE 'credit_note.%'")).scalars()
        chained = session.execute(
            text("SELECT entity_id FROM financial_audit_events WHERE action = 'credit_note.issued'")
        )
        assert (list(audited), list(chained.scalars())) == (["credit_note.issued"], [note.id])


def test_the_bill_itself_is_never_changed_only_its_status(counter):
    bill = paid_sale(counter)
    run_in_tenant(counter.owner, issue_credit_note, bill.id, [(1, 1, True)], reason="wrong strength")
    after = run_in_tenant(counter.owner, get_bill, bill.id)
    assert after == replace(bill, status="partially_refunded")
    with pytest.raises(DBAPIError, match="cannot change|cannot become"), tenant_session(counter.owner) as session:
        session.execute(text("UPDATE bills SET status = 'paid' WHERE id = :b"), {"b": bill.id})
    for statement in ("UPDATE credit_notes SET reason = 'edited'", "DELETE FROM bill_refunds"):
        with pytest.raises(DBAPIError, match="permission denied"), tenant_session(counter.owner) as session:
            session.execute(text(statement))


def test_refunding_everything_gives_back_exactly_what_was_paid(counter):
    bill = paid_sale(counter)
    first = run_in_tenant(counter.owner, issue_credit_note, bill.id, [(1, 7, True)], reason="first part back")
    second = run_in_tenant(
        counter.owner,
        issue_credit_note,
        bill.id,
        [(1, 15, True), (2, 2, True)],
        reason="the rest",
        refund_method="other",
        reference="V-1",
    )
    assert (first.number, second.number) == (f"CN-B1-{YEAR}-000001", f"CN-B1-{YEAR}-000002")
    assert second.bill_status == "refunded" and run_in_tenant(counter.owner, get_bill, bill.id).status == "refunded"
    assert first.total + second.total == bill.total  # to the last 0.0001
    assert first.amount_refunded + second.amount_refunded == bill.total_due == bill.amount_paid
    assert second.refunds[0].method == "other" and second.refunds[0].reference == "V-1"
    assert lots(counter)["IBU-1"] == 20 and lots(counter)["IBU-2"] == 5 and ledger_differences(counter) == []
    with pytest.raises(Conflict, match="already refunded"):
        run_in_tenant(counter.owner, issue_credit_note, bill.id, [(1, 1, True)], reason="once more")


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([(1, 23, True)], "lines[0].quantity"),  # 22 sold
        ([(1, 1, True), (2, 3, False)], "lines[1].quantity"),  # 2 sold
        ([(9, 1, True)], "lines[0].line_no"),
        ([(1, 1, True), (1, 1, True)], "lines[1].line_no"),
        ([(1, 0, True)], "lines[0].quantity"),
        ([(1, 1, "yes")], "lines[0].restock"),
        ([], "lines"),
    ],
)
def test_bad_refunds_are_refused_and_write_nothing(counter, lines, field):
    bill = paid_sale(counter)
    before = lots(counter)
    with pytest.raises(ValidationFailed) as refused:
        run_in_tenant(counter.owner, issue_credit_note, bill.id, lines, reason="customer returned it")
    assert refused.value.field == field
    assert lots(counter) == before and run_in_tenant(counter.owner, get_bill, bill.id) == bill
    for table in ("credit_notes", "credit_note_lines", "credit_note_lots", "bill_refunds", "credit_note_counters"):
        assert count(counter, table) == 0


def test_over_refund_after_a_partial_one_names_what_is_left_and_keeps_the_numbering(counter):
    bill = paid_sale(counter)
    run_in_tenant(counter.owner, issue_credit_note, bill.id, [(1, 20, True)], reason="most of it back")
    with pytest.raises(ValidationFailed, match="2 of 22 left to refund"):
        run_in_tenant(counter.owner, issue_credit_note, bill.id, [(1, 3, True)], reason="too many")
    with pytest.raises(ValidationFailed, match="Say why"):
        run_in_tenant(counter.owner, issue_credit_note, bill.id, [(1, 1, True)], reason=" ")
    after = run_in_tenant(counter.owner, issue_credit_note, bill.id, [(1, 2, True)], reason="the last two")
    assert after.number == f"CN-B1-{YEAR}-000002"  # the refused attempts used no number


def test_only_bills_paid_in_full_are_refunded(counter):
    draft = run_in_tenant(
        counter.owner, create_draft, branch_id=counter.branch, lines=[{"medicine_id": counter.ibuprofen, "quantity": 2}]
    )
    with pytest.raises(Conflict, match="draft"):
        run_in_tenant(counter.owner, issue_credit_note, draft.id, [(1, 1, True)], reason="not sold yet")
    run_in_tenant(counter.owner, finalize_bill, draft.id)
    with pytest.raises(Conflict, match="owed"):
        run_in_tenant(counter.owner, issue_credit_note, draft.id, [(1, 1, True)], reason="not paid yet")
    run_in_tenant(counter.owner, record_payment, bill_id=draft.id, tendered="5.00")
    with pytest.raises(Conflict, match="owed"):
        run_in_tenant(counter.owner, issue_credit_note, draft.id, [(1, 1, True)], reason="partly paid")
    assert count(counter, "credit_notes") == 0


def test_refunds_need_billing_refund(counter):
    bill = paid_sale(counter)
    for role in ("cashier", "technician"):
        with pytest.raises(PermissionDenied):
            run_in_tenant(counter.ctx(role), issue_credit_note, bill.id, [(1, 1, True)], reason="returned")
    assert count(counter, "credit_notes") == 0
    assert run_in_tenant(counter.ctx("manager"), issue_credit_note, bill.id, [(1, 1, True)], reason="returned").number


def test_another_chain_sees_no_bill_and_no_credit_note(counter, make_tenant):
    bill = paid_sale(counter)
    note = run_in_tenant(counter.owner, issue_credit_note, bill.id, [(1, 1, True)], reason="returned")
    stranger = stock_up(make_tenant("refund-stranger", branches=2)).owner
    with pytest.raises(NotFound):
        run_in_tenant(stranger, issue_credit_note, bill.id, [(1, 1, True)], reason="not ours")
    with pytest.raises(NotFound):
        run_in_tenant(stranger, get_credit_note, note.id)
    with pytest.raises(NotFound):  # and a member of the chain outside the bill's branch
        run_in_tenant(
            counter.ctx("manager", branch_ids=frozenset({uuid.UUID(counter.other_branch)})), get_credit_note, note.id
        )


def test_card_refunds_wait_for_card_payments(counter, monkeypatch):
    bill = paid_sale(counter)
    with pytest.raises(ValidationFailed, match="card"):
        run_in_tenant(
            counter.owner, issue_credit_note, bill.id, [(1, 1, True)], reason="returned", refund_method="card"
        )
    monkeypatch.setattr(credit_notes, "CARD_REFUND_FUNCTION", "no_such_refund_function")
    with pytest.raises(CardRefundsUnavailable, match="Card refunds arrive with card payments"):
        with tenant_session(counter.owner) as session:
            credit_notes.refund_to_card(session, counter.owner, bill_id=bill.id, credit_note_id="x", amount=D("1"))


def test_the_daily_report_counts_refunds_on_the_day_of_the_credit_note(counter):
    bill = paid_sale(counter)
    run_in_tenant(counter.owner, issue_credit_note, bill.id, [(1, 3, True), (2, 1, False)], reason="returned")
    report = run_in_tenant(counter.owner, daily_report, counter.branch, datetime.now(UTC).date())
    assert report.refunds == D("22.30") and "credit notes" in report.refunds_note
    assert report.bills == 1 and report.gross_sales == bill.total  # the sale itself is not rewritten


# --- REST -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    app = rest.create_api()
    if not any(getattr(route, "path", "") == "/api/v1/credit-notes/{credit_note_id}" for route in app.routes):
        app.include_router(credit_notes_router, prefix=rest.API_PREFIX)
    with TestClient(app) as test_client:
        yield test_client


def test_a_refund_replayed_over_rest_is_made_once(client, committed_tenant):
    chain, _ = committed_tenant("refund-api", branches=2)
    counter = stock_up(chain)
    bill = paid_sale(counter)
    admin, write = (
        {"Authorization": f"Bearer {create_token(counter.owner, f'{s} till', [s]).token}"} for s in ("admin", "write")
    )
    body = {"lines": [{"line_no": 1, "quantity": 2, "restock": True}], "reason": "unopened, returned"}
    url = f"/api/v1/bills/{bill.id}/credit-notes"
    answers = [client.post(url, json=body, headers={**admin, "Idempotency-Key": "refund-0001"}) for _ in range(5)]
    assert {a.status_code for a in answers} == {201}, answers[0].text
    assert len({a.json()["id"] for a in answers}) == 1
    assert [a.headers["Idempotent-Replayed"] for a in answers] == ["false"] + ["true"] * 4
    note = answers[0].json()
    assert note["amount_refunded"] == "10.87" and note["bill_status"] == "partially_refunded"  # 2 x 4.99 + tax
    assert lots(counter)["IBU-2"] == 5  # 2 units back once, not five times
    read = client.get(f"/api/v1/credit-notes/{note['id']}", headers=write)
    assert read.status_code == 200 and read.json() == note
    listed = client.get(url, headers=write)
    assert [n["number"] for n in listed.json()] == [note["number"]]
    assert client.get(f"/api/v1/bills/{bill.id}", headers=write).json()["status"] == "partially_refunded"
    other = client.post(url, json={**body, "reason": "another"}, headers={**admin, "Idempotency-Key": "refund-0001"})
    assert other.status_code == 422
    refused = client.post(url, json=body, headers={**write, "Idempotency-Key": "refund-0002"})
    assert refused.status_code == 403
    too_many = {**body, "lines": [{"line_no": 1, "quantity": 21, "restock": True}]}
    over = client.post(url, json=too_many, headers={**admin, "Idempotency-Key": "refund-0003"})
    assert over.status_code == 422 and "left to refund" in over.json()["message"]
    assert client.get("/api/v1/credit-notes/not-a-uuid", headers=write).status_code == 404
