"""Bills as the app role: drafts, finalize with stock and numbers, prescriptions, payments, voids, scope."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backend.accounts import signatures
from backend.accounts.signatures import SignatureRefused, sign
from backend.billing.bills.service import (
    BillNotDraft,
    FillRequired,
    create_draft,
    finalize_bill,
    get_bill,
    update_draft,
    void_bill,
)
from backend.billing.payments.service import record_payment
from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.inventory.service import OutOfStock, medicine_stock
from tenants.session import run_in_tenant, tenant_session
from tests.backend.billing.conftest import supply_without_a_fill_allowed
from tests.conftest import TEST_PASSWORD

D = Decimal
YEAR = datetime.now(UTC).year  # the test branches are in UTC


def on_hand(counter, medicine: str) -> int:
    _, batches, _ = run_in_tenant(counter.owner, medicine_stock, medicine, branch_id=counter.branch)
    return sum(b.quantity for b in batches)


def line(medicine: str, quantity: int = 1, **extra) -> dict:
    return {"medicine_id": medicine, "quantity": quantity, **extra}


def bills_in(counter) -> int:
    with tenant_session(counter.owner) as session:
        return session.execute(text("SELECT count(*) FROM bills")).scalar_one()


def test_a_draft_is_priced_from_the_catalog_and_moves_no_stock(counter):
    supply_without_a_fill_allowed(counter.owner)  # the prescription line is typed with its reference
    cashier = counter.ctx("cashier")
    bill = run_in_tenant(
        cashier,
        create_draft,
        branch_id=counter.branch,
        lines=[
            line(counter.ibuprofen, 3, line_discount="0.50"),
            line(counter.amoxicillin, 2, prescription_ref="RX-1001"),
            line(counter.vitamin_d),
        ],
    )
    assert bill.status == "draft" and bill.number is None
    assert [(x.unit_price, x.tax_rate, x.tax_amount) for x in bill.lines] == [
        (D("4.99"), D("8.875"), D("1.2842")),  # (14.97 - 0.50) x 8.875 %
        (D("0.35"), D("5"), D("0.0350")),  # reduced rate of the branch
        (D("6.00"), D("0"), D("0")),  # zero-rated
    ]
    assert (bill.net_total, bill.tax_total, bill.total) == (D("21.17"), D("1.3192"), D("22.4892"))
    assert (bill.total_due, bill.rounding, bill.outstanding) == (D("22.49"), D("0.0008"), D("22.49"))
    assert [b.tax_category for b in bill.taxes] == ["standard", "reduced", "zero"]
    assert on_hand(counter, counter.ibuprofen) == 20


def test_bad_input_is_refused_by_field_and_writes_nothing(counter):
    cashier = counter.ctx("cashier")
    cases = [
        ([], "0", "lines"),
        ([line("not-a-medicine")], "0", "lines[0].medicine_id"),
        ([line(counter.ibuprofen, 0)], "0", "lines[0].quantity"),
        ([line(counter.ibuprofen, 1, line_discount="5.00")], "0", "lines[0].line_discount"),
        ([line(counter.ibuprofen, 1, line_discount="-1")], "0", "lines[0].line_discount"),
        ([line(counter.ibuprofen, 1)], "4.9901", "bill_discount"),
        ([line(counter.ibuprofen, 1)], "1.00001", "bill_discount"),
    ]
    for lines, discount, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            run_in_tenant(cashier, create_draft, branch_id=counter.branch, lines=lines, bill_discount=discount)
        assert refused.value.field == field, (lines, discount)
    with pytest.raises(NotFound):
        run_in_tenant(cashier, create_draft, branch_id="not-a-branch", lines=[line(counter.ibuprofen)])
    assert bills_in(counter) == 0


def test_finalize_takes_stock_and_numbers_per_branch_without_gaps(counter):
    cashier = counter.ctx("cashier")
    first = run_in_tenant(
        cashier,
        finalize_bill,
        run_in_tenant(cashier, create_draft, branch_id=counter.branch, lines=[line(counter.ibuprofen, 3)]).id,
    )
    second = run_in_tenant(
        cashier,
        finalize_bill,
        run_in_tenant(cashier, create_draft, branch_id=counter.branch, lines=[line(counter.vitamin_d)]).id,
    )
    elsewhere = run_in_tenant(cashier, create_draft, branch_id=counter.other_branch, lines=[line(counter.ibuprofen)])
    assert (first.number, second.number) == (f"B1-{YEAR}-000001", f"B1-{YEAR}-000002")
    assert first.status == "finalized" and first.finalized_at is not None
    assert on_hand(counter, counter.ibuprofen) == 17
    _, _, moves = run_in_tenant(counter.owner, medicine_stock, counter.ibuprofen)
    assert (moves[0].kind, moves[0].quantity, moves[0].reference) == ("dispense", -3, first.number)
    with pytest.raises(OutOfStock):  # branch 2 has no stock; its counter starts at 1 when it sells
        run_in_tenant(cashier, finalize_bill, elsewhere.id)


def test_an_oversold_bill_fails_as_a_whole_and_gives_its_number_back(counter):
    cashier = counter.ctx("cashier")
    short = run_in_tenant(
        cashier, create_draft, branch_id=counter.branch, lines=[line(counter.ibuprofen, 2), line(counter.vitamin_d, 25)]
    )
    with pytest.raises(OutOfStock) as refused:
        run_in_tenant(cashier, finalize_bill, short.id)
    assert "Line 2 (Colecalciferol 1000 IU)" in refused.value.message and "still a draft" in refused.value.message
    assert refused.value.field == "lines[1].quantity"
    assert run_in_tenant(cashier, get_bill, short.id).status == "draft"
    assert on_hand(counter, counter.ibuprofen) == 20  # the line that fitted was not sold either
    fitted = run_in_tenant(
        cashier, update_draft, short.id, lines=[line(counter.ibuprofen, 2), line(counter.vitamin_d, 20)]
    )
    assert run_in_tenant(cashier, finalize_bill, fitted.id).number == f"B1-{YEAR}-000001"  # no number was used up


def test_only_a_draft_changes_in_the_service_and_in_the_database(counter):
    cashier = counter.ctx("cashier")
    bill = run_in_tenant(
        cashier,
        finalize_bill,
        run_in_tenant(cashier, create_draft, branch_id=counter.branch, lines=[line(counter.ibuprofen)]).id,
    )
    with pytest.raises(BillNotDraft, match="only a draft can change"):
        run_in_tenant(cashier, update_draft, bill.id, lines=[line(counter.ibuprofen, 5)])
    with pytest.raises(BillNotDraft):
        run_in_tenant(cashier, finalize_bill, bill.id)
    statements = [
        "UPDATE bills SET total_due = 0 WHERE id = :b",
        "UPDATE bill_lines SET quantity = 9 WHERE bill_id = :b",
        "DELETE FROM bill_lines WHERE bill_id = :b",
    ]
    for statement in statements:
        with pytest.raises(DBAPIError, match="issued"):
            with tenant_session(counter.owner) as session:
                session.execute(text(statement), {"b": bill.id})
    with pytest.raises(DBAPIError, match="permission denied"):
        with tenant_session(counter.owner) as session:
            session.execute(text("DELETE FROM bills WHERE id = :b"), {"b": bill.id})
    assert run_in_tenant(cashier, get_bill, bill.id).lines[0].quantity == 1


def test_prescription_lines_need_a_reference_or_a_pharmacists_signed_override_where_the_chain_allows_it(counter):
    supply_without_a_fill_allowed(counter.owner)
    cashier, pharmacist = counter.ctx("cashier"), counter.ctx("pharmacist")
    with pytest.raises(ValidationFailed) as refused:
        run_in_tenant(cashier, create_draft, branch_id=counter.branch, lines=[line(counter.amoxicillin, 10)])
    assert refused.value.field == "lines[0].prescription_ref"
    reason = "patient's repeat supply, prescriber phoned, paper script to follow"
    with pytest.raises(PermissionDenied, match="pharmacist"):
        run_in_tenant(
            cashier,
            create_draft,
            branch_id=counter.branch,
            lines=[line(counter.amoxicillin, 10, override_reason=reason)],
        )
    with pytest.raises(ValidationFailed) as short:
        run_in_tenant(
            pharmacist,
            create_draft,
            branch_id=counter.branch,
            lines=[line(counter.amoxicillin, 1, override_reason="ok")],
        )
    assert short.value.field == "lines[0].override_reason"
    for controlled in (
        line(counter.oxycodone, 1, override_reason=reason),
        line(counter.oxycodone, 1, prescription_ref="CII-77"),
    ):
        with pytest.raises(
            FillRequired, match="controlled medicine: it is sold only as its prescription's checked fill"
        ):
            run_in_tenant(pharmacist, create_draft, branch_id=counter.branch, lines=[controlled])

    with pytest.raises(SignatureRefused, match="Sign this"):  # the reason alone is not the pharmacist's signature
        run_in_tenant(
            pharmacist,
            create_draft,
            branch_id=counter.branch,
            lines=[line(counter.amoxicillin, 10, override_reason=reason)],
        )

    bill_id = str(uuid.uuid4())  # the counter chooses the draft's id, so the override is signed for it
    signature = sign_override(pharmacist, bill_id, reason, new_draft=True)
    bill = run_in_tenant(
        pharmacist,
        create_draft,
        branch_id=counter.branch,
        bill_id=bill_id,
        lines=[
            line(counter.amoxicillin, 10, override_reason=reason, override_signature_id=signature),
            line(counter.vitamin_d, 1),
        ],
    )
    assert bill.id == bill_id and bill.lines[0].override_by == str(counter.owner.user_id)
    # The cashier changes the quantity of another line: the pharmacist's signature stays.
    kept = run_in_tenant(
        cashier,
        update_draft,
        bill.id,
        lines=[
            line(counter.amoxicillin, 10, override_reason=reason),
            line(counter.vitamin_d, 2),
        ],
    )
    assert kept.lines[0].override_by == str(counter.owner.user_id)
    with pytest.raises(PermissionDenied):  # ...but cannot write a new reason under it
        run_in_tenant(
            cashier, update_draft, bill.id, lines=[line(counter.amoxicillin, 10, override_reason=reason + " (edited)")]
        )
    assert run_in_tenant(cashier, finalize_bill, bill.id).status == "finalized"
    with tenant_session(counter.owner) as session:
        audited = session.execute(
            text("SELECT details FROM audit_events WHERE action = 'bill.prescription_override' AND entity_id = :b"),
            {"b": bill.id},
        ).all()
    assert [row.details["signature_id"] for row in audited] == [signature]


def sign_override(ctx, bill_id: str, reason: str, *, new_draft: bool = False) -> str:
    meaning = f"supplied Amoxicillin 500 mg without a prescription on the draft of Branch 1 because {reason}"
    target = {"entity_type": "bill", "entity_id": bill_id, "new_draft": new_draft}
    return sign(ctx, password=TEST_PASSWORD, meaning=meaning, **target)


def test_an_override_without_a_fresh_signature_of_this_pharmacist_for_this_bill_writes_nothing(counter, monkeypatch):
    supply_without_a_fill_allowed(counter.owner)
    pharmacist = counter.ctx("pharmacist")
    reason = "patient's repeat supply, prescriber phoned, paper script to follow"
    draft = run_in_tenant(pharmacist, create_draft, branch_id=counter.branch, lines=[line(counter.ibuprofen, 1)])
    other_bill = sign_override(pharmacist, str(uuid.uuid4()), reason, new_draft=True)
    with monkeypatch.context() as old_clock:
        old_clock.setattr(signatures, "utc_now", lambda: datetime.now(UTC) - timedelta(minutes=6))
        old = sign_override(pharmacist, draft.id, reason)
    fresh = sign_override(pharmacist, draft.id, reason)
    someone_else = dataclasses.replace(pharmacist, user_id=uuid.uuid4())  # not the one who signed
    refused = [
        (pharmacist, "", "Sign this"),
        (pharmacist, "not-a-signature", "Sign this"),
        (pharmacist, other_bill, "another record"),
        (pharmacist, old, "more than five minutes"),
        (someone_else, fresh, "Sign this"),
    ]
    for ctx, signature, message in refused:
        override = line(counter.amoxicillin, 2, override_reason=reason, override_signature_id=signature)
        with pytest.raises(SignatureRefused, match=message):
            run_in_tenant(ctx, update_draft, draft.id, lines=[line(counter.ibuprofen, 1), override])
    assert [x.medicine_id for x in run_in_tenant(pharmacist, get_bill, draft.id).lines] == [counter.ibuprofen]
    with tenant_session(counter.owner) as session:
        assert (
            session.execute(
                text("SELECT count(*) FROM audit_events WHERE action = 'bill.prescription_override'")
            ).scalar_one()
            == 0
        )
    with pytest.raises(SignatureRefused):  # a new draft cannot borrow another draft's signature either
        run_in_tenant(
            pharmacist,
            create_draft,
            branch_id=counter.branch,
            lines=[line(counter.amoxicillin, 2, override_reason=reason, override_signature_id=fresh)],
        )
    assert bills_in(counter) == 1


def test_cash_payments_make_a_bill_partly_paid_then_paid_with_change(counter):
    cashier = counter.ctx("cashier")
    draft = run_in_tenant(
        cashier, create_draft, branch_id=counter.branch, lines=[line(counter.ibuprofen, 3, line_discount="0.50")]
    )
    with pytest.raises(Conflict, match="Finalize"):
        run_in_tenant(cashier, record_payment, bill_id=draft.id, tendered="5.00")
    bill = run_in_tenant(cashier, finalize_bill, draft.id)
    assert bill.total_due == D("15.75")  # 14.47 + 1.2842 = 15.7542
    first = run_in_tenant(cashier, record_payment, bill_id=bill.id, tendered="10.00")
    assert (first.bill_status, first.outstanding, first.payment.change_due) == ("partially_paid", D("5.75"), D("0"))
    with pytest.raises(ValidationFailed) as card_over:
        run_in_tenant(cashier, record_payment, bill_id=bill.id, tendered="6.00", method="other", reference="terminal 1")
    assert card_over.value.field == "tendered"
    with pytest.raises(ValidationFailed, match="steps of 0.01"):
        run_in_tenant(cashier, record_payment, bill_id=bill.id, tendered="1.005")
    second = run_in_tenant(cashier, record_payment, bill_id=bill.id, tendered="20")
    assert (second.payment.amount, second.payment.change_due) == (D("5.75"), D("14.25"))
    assert (second.bill_status, second.outstanding) == ("paid", D("0"))
    with pytest.raises(Conflict, match="already paid"):
        run_in_tenant(cashier, record_payment, bill_id=bill.id, tendered="1")
    paid = run_in_tenant(cashier, get_bill, bill.id)
    assert paid.amount_paid == D("15.75") and [p.amount for p in paid.payments] == [D("10.00"), D("5.75")]
    with pytest.raises(DBAPIError, match="permission denied"):
        with tenant_session(counter.owner) as session:
            session.execute(text("UPDATE bill_payments SET amount = 1 WHERE bill_id = :b"), {"b": bill.id})


def test_a_fully_discounted_bill_is_paid_when_issued(counter):
    cashier = counter.ctx("cashier")
    draft = run_in_tenant(
        cashier, create_draft, branch_id=counter.branch, lines=[line(counter.vitamin_d, 2)], bill_discount="12"
    )
    bill = run_in_tenant(cashier, finalize_bill, draft.id)
    assert (bill.total_due, bill.status) == (D("0"), "paid")


def test_void_a_draft_by_the_cashier_an_issued_bill_by_a_manager(counter):
    cashier, manager = counter.ctx("cashier"), counter.ctx("manager")
    draft = run_in_tenant(cashier, create_draft, branch_id=counter.branch, lines=[line(counter.ibuprofen)])
    discarded = run_in_tenant(cashier, void_bill, draft.id, reason="customer left")
    assert (discarded.status, discarded.number) == ("voided", None)

    issued = run_in_tenant(
        cashier,
        finalize_bill,
        run_in_tenant(cashier, create_draft, branch_id=counter.branch, lines=[line(counter.ibuprofen, 4)]).id,
    )
    assert on_hand(counter, counter.ibuprofen) == 16
    with pytest.raises(PermissionDenied):
        run_in_tenant(cashier, void_bill, issued.id, reason="wrong item scanned")
    voided = run_in_tenant(manager, void_bill, issued.id, reason="wrong item scanned")
    assert (voided.status, voided.number, voided.outstanding) == ("voided", issued.number, D("0"))
    assert on_hand(counter, counter.ibuprofen) == 20  # back on the same lot
    _, _, moves = run_in_tenant(counter.owner, medicine_stock, counter.ibuprofen)
    assert (moves[0].kind, moves[0].quantity, moves[0].reference) == ("customer_return", 4, issued.number)
    with pytest.raises(Conflict, match="already voided"):
        run_in_tenant(manager, void_bill, issued.id, reason="again")

    paid = run_in_tenant(
        cashier,
        finalize_bill,
        run_in_tenant(cashier, create_draft, branch_id=counter.branch, lines=[line(counter.vitamin_d)]).id,
    )
    run_in_tenant(cashier, record_payment, bill_id=paid.id, tendered="2.00")
    with pytest.raises(Conflict, match="credit note"):
        run_in_tenant(manager, void_bill, paid.id, reason="customer returned it")
    with pytest.raises(ValidationFailed):
        run_in_tenant(manager, void_bill, paid.id, reason="")
    # The voided bill keeps its number: the next one follows it, no gap and no reuse.
    assert paid.number == f"B1-{YEAR}-000002"


def test_members_see_bills_of_their_branches_and_chains_only(counter, make_tenant):
    cashier = counter.ctx("cashier")
    bill = run_in_tenant(cashier, create_draft, branch_id=counter.branch, lines=[line(counter.ibuprofen)])
    elsewhere = counter.ctx("pharmacist", branch_ids=frozenset({counter.chain.branch_ids[1]}))
    for action in (
        lambda: run_in_tenant(elsewhere, get_bill, bill.id),
        lambda: run_in_tenant(elsewhere, finalize_bill, bill.id),
        lambda: run_in_tenant(elsewhere, create_draft, branch_id=counter.branch, lines=[line(counter.ibuprofen)]),
        lambda: run_in_tenant(cashier, get_bill, "not-an-id"),
    ):
        with pytest.raises(NotFound):
            action()
    stranger = make_tenant("stranger")
    outsider = counter.ctx("owner").__class__(
        tenant_id=stranger.tenant_id, user_id=stranger.owner_user_id, role="owner"
    )
    with pytest.raises(NotFound):
        run_in_tenant(outsider, get_bill, bill.id)
    with pytest.raises(NotFound):
        run_in_tenant(outsider, void_bill, bill.id, reason="not mine")
    with pytest.raises(PermissionDenied):
        run_in_tenant(counter.ctx("support"), create_draft, branch_id=counter.branch, lines=[line(counter.ibuprofen)])
    assert run_in_tenant(counter.ctx("support"), get_bill, bill.id).status == "draft"
