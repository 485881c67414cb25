"""The counter's services as the app role: the draft with its FEFO preview, reopening it, a cash sale in one go."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from backend.billing.bills.counter import open_draft, save_draft, sell_for_cash
from backend.billing.bills.service import get_bill
from backend.core.errors import PermissionDenied, ValidationFailed
from backend.inventory.service import OutOfStock, recall_lot, receive_stock
from tenants.session import run_in_tenant
from tests.backend.billing.test_service import line, on_hand

D = Decimal


def receive(counter, medicine: str, lot: str, days: int, quantity: int) -> None:
    expiry = (date.today() + timedelta(days=days)).isoformat()
    run_in_tenant(
        counter.owner,
        receive_stock,
        branch_id=counter.branch,
        medicine_id=medicine,
        lot_number=lot,
        expiry_date=expiry,
        quantity=quantity,
    )


def test_the_draft_comes_back_priced_with_the_lots_fefo_would_take(counter):
    cashier = counter.ctx("cashier")
    receive(counter, counter.ibuprofen, "IBU-EARLY", 30, 4)  # expires before IBU-1 (200 days)
    run_in_tenant(counter.owner, recall_lot, counter.vitamin_d, "VIT-1", "supplier notice 42")
    draft = run_in_tenant(
        cashier,
        save_draft,
        branch_id=counter.branch,
        bill_id=None,
        lines=[line(counter.ibuprofen, 6), line(counter.vitamin_d, 1)],
    )
    assert draft.bill.status == "draft" and draft.bill.total_due == D("38.60")  # 6 x 4.99 + 8.875 % + 6.00 (zero-rated)
    ibuprofen = draft.previews[counter.ibuprofen]
    assert [(lot.lot_number, lot.quantity) for lot in ibuprofen.lots] == [("IBU-EARLY", 4), ("IBU-1", 2)]
    assert ibuprofen.sellable == 24
    vitamin_d = draft.previews[counter.vitamin_d]
    assert (vitamin_d.lots, vitamin_d.sellable) == ([], 0)  # the only lot is recalled
    assert on_hand(counter, counter.ibuprofen) == 24  # a preview moves no stock

    again = run_in_tenant(
        cashier,
        save_draft,
        branch_id=counter.branch,
        bill_id=draft.bill.id,
        lines=[line(counter.ibuprofen, 2)],
        bill_discount="1",
    )
    assert again.bill.id == draft.bill.id and [x.quantity for x in again.bill.lines] == [2]
    assert again.bill.discount_total == D("1") and list(again.previews) == [counter.ibuprofen]


def test_bad_input_leaves_the_draft_as_it_was(counter):
    cashier = counter.ctx("cashier")
    draft = run_in_tenant(
        cashier, save_draft, branch_id=counter.branch, bill_id=None, lines=[line(counter.ibuprofen, 2)]
    )
    with pytest.raises(ValidationFailed) as refused:
        run_in_tenant(
            cashier, save_draft, branch_id=counter.branch, bill_id=draft.bill.id, lines=[line(counter.amoxicillin)]
        )  # prescription-only, typed in rather than scanned from its fill's label
    assert refused.value.field == "lines[0].medicine_id"
    assert refused.value.message == (
        "Amoxicillin 500 mg is prescription-only: it is sold only as a verified fill. "
        "Scan the fill's label, or record an emergency supply."
    )
    assert [x.quantity for x in run_in_tenant(cashier, get_bill, draft.bill.id).lines] == [2]


def test_a_member_finds_their_own_open_draft_in_the_branch(counter):
    cashier = counter.ctx("cashier")
    assert run_in_tenant(cashier, open_draft, counter.branch) is None
    draft = run_in_tenant(
        cashier, save_draft, branch_id=counter.branch, bill_id=None, lines=[line(counter.ibuprofen, 3)]
    )
    reopened = run_in_tenant(cashier, open_draft, counter.branch)
    assert reopened is not None and reopened.bill.id == draft.bill.id
    assert reopened.previews[counter.ibuprofen].lots[0].lot_number == "IBU-1"
    colleague = dataclasses.replace(cashier, user_id=uuid.uuid4())
    assert run_in_tenant(colleague, open_draft, counter.branch) is None  # each till has its own sale
    assert run_in_tenant(cashier, open_draft, counter.other_branch) is None
    run_in_tenant(cashier, sell_for_cash, draft.bill.id, "20")
    assert run_in_tenant(cashier, open_draft, counter.branch) is None
    with pytest.raises(PermissionDenied):
        run_in_tenant(counter.ctx("support"), open_draft, counter.branch)


def test_cash_sale_finalizes_pays_and_reports_the_lots_taken(counter):
    cashier = counter.ctx("cashier")
    receive(counter, counter.ibuprofen, "IBU-EARLY", 30, 1)
    draft = run_in_tenant(
        cashier,
        save_draft,
        branch_id=counter.branch,
        bill_id=None,
        lines=[line(counter.ibuprofen, 2), line(counter.vitamin_d)],
    )
    sale = run_in_tenant(cashier, sell_for_cash, draft.bill.id, "20.00")
    assert sale.bill.status == "paid" and sale.bill.number and sale.bill.total_due == D("16.87")
    assert sale.payment is not None and sale.payment.amount == D("16.87")
    assert sale.change_due == D("3.13")
    assert [(p.description, p.lot_number, p.quantity) for p in sale.picks] == [
        ("Ibuprofen 200 mg", "IBU-EARLY", 1),
        ("Ibuprofen 200 mg", "IBU-1", 1),
        ("Colecalciferol 1000 IU", "VIT-1", 1),
    ]
    assert on_hand(counter, counter.ibuprofen) == 19 and on_hand(counter, counter.vitamin_d) == 19


@pytest.mark.parametrize("cash", ["16.86", "abc", "17.001"])
def test_short_or_bad_cash_sells_nothing(counter, cash):
    cashier = counter.ctx("cashier")
    draft = run_in_tenant(
        cashier,
        save_draft,
        branch_id=counter.branch,
        bill_id=None,
        lines=[line(counter.ibuprofen, 2), line(counter.vitamin_d)],
    )
    with pytest.raises(ValidationFailed):
        run_in_tenant(cashier, sell_for_cash, draft.bill.id, cash)
    bill = run_in_tenant(cashier, get_bill, draft.bill.id)
    assert (bill.status, bill.number, bill.payments) == ("draft", None, [])
    assert on_hand(counter, counter.ibuprofen) == 20
    assert run_in_tenant(cashier, sell_for_cash, draft.bill.id, "16.87").bill.number.endswith(
        "-000001"
    )  # no number was used


def test_out_of_stock_keeps_the_draft(counter):
    cashier = counter.ctx("cashier")
    draft = run_in_tenant(
        cashier, save_draft, branch_id=counter.branch, bill_id=None, lines=[line(counter.ibuprofen, 21)]
    )
    assert draft.previews[counter.ibuprofen].sellable == 20
    with pytest.raises(OutOfStock, match="Nothing was sold"):
        run_in_tenant(cashier, sell_for_cash, draft.bill.id, "200")
    assert run_in_tenant(cashier, get_bill, draft.bill.id).status == "draft"
    assert on_hand(counter, counter.ibuprofen) == 20
