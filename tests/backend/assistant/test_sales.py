"""'What did we sell …?' answered from the same report the Reports page shows, for the branch's local day."""

from __future__ import annotations

from backend.assistant.local_engine import answer
from backend.billing.bills.service import create_draft, finalize_bill
from backend.billing.payments.service import record_payment
from backend.billing.reports.service import daily_report, local_today
from backend.core.display import display_money
from tenants.session import run_in_tenant


def sell(ctx, branch: str, medicine: str, quantity: int) -> None:
    draft = run_in_tenant(ctx, create_draft, branch_id=branch, lines=[{"medicine_id": medicine, "quantity": quantity}])
    bill = run_in_tenant(ctx, finalize_bill, draft.id)
    run_in_tenant(ctx, record_payment, bill_id=bill.id, tendered=str(bill.total_due))


def test_todays_sales_answer_equals_the_report(pharmacy):
    owner = pharmacy.ctx()
    sell(owner, pharmacy.branch_1, pharmacy.amoxicillin, 6)
    sell(owner, pharmacy.branch_1, pharmacy.acetaminophen, 4)
    report = run_in_tenant(owner, daily_report, pharmacy.branch_1, run_in_tenant(owner, local_today, pharmacy.branch_1))
    reply = answer(owner, "What did we sell today at Branch 1?")
    assert reply.intent == "sales"
    assert f"{report.bills} bills" in reply.text and report.bills == 2
    # Money reads as everywhere else in the product: the currency's symbol and precision.
    assert f"net sales {display_money(report.net_sales, report.currency)}" in reply.text
    assert f"gross {display_money(report.gross_sales, report.currency)}" in reply.text
    assert "Amoxicillin" in reply.text  # the top seller
    assert reply.tools_used and "Branch 1" in reply.tools_used[0]
    data = reply.data[0]["branches"][0]
    assert (data["bills"], data["net_sales"]) == (2, str(report.net_sales))


def test_yesterday_and_roles_without_reports(pharmacy):
    owner = pharmacy.ctx()
    sell(owner, pharmacy.branch_1, pharmacy.amoxicillin, 1)
    assert "no sales" in answer(owner, "How much did we sell yesterday at Branch 1?").text
    refused = answer(pharmacy.ctx("cashier"), "What were our sales today?")
    assert "may not use sales_figures" in refused.text and "net sales" not in refused.text
