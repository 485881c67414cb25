"""Sales reports: a local business day's figures equal the sums of the bills made here; the branch's
time zone decides the day; scope, roles and tenants; CSV; REST."""

from __future__ import annotations

import csv
import io
import os
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.accounts.api_tokens import create_token
from backend.billing.bills.service import create_draft, void_bill
from backend.billing.payments.service import record_payment
from backend.billing.reports.service import daily_report, range_report, report_csv
from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.inventory.service import receive_stock
from tenants.session import run_in_tenant, tenant_session
from tests.backend.billing.conftest import as_role, stock_up, supply_without_a_fill_allowed
from tests.backend.billing.reporting import api_with_reports, sell

D = Decimal
DAY = date(2026, 3, 10)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC)


def line(medicine: str, quantity: int = 1, **extra) -> dict:
    return {"medicine_id": medicine, "quantity": quantity, **extra}


def costed_lots(counter) -> None:
    """Lots with a cost that expire first, so FEFO picks them before the conftest's free ones."""
    soon = (date.today() + timedelta(days=100)).isoformat()
    for medicine, lot, quantity, cost in (
        (counter.ibuprofen, "IBU-2", 5, "2.00"),
        (counter.amoxicillin, "AMO-2", 20, "0.10"),
    ):
        run_in_tenant(
            counter.owner,
            receive_stock,
            branch_id=counter.branch,
            medicine_id=medicine,
            lot_number=lot,
            expiry_date=soon,
            quantity=quantity,
            cost_price=cost,
        )


def set_time_zone(counter, zone: str) -> None:
    with tenant_session(counter.owner) as session:
        session.execute(text("UPDATE branches SET time_zone = :z WHERE id = :b"), {"z": zone, "b": counter.branch})


def a_day_of_sales(counter):
    """Two paid bills (cash with change; card), a voided one, one the day before, one left a draft."""
    costed_lots(counter)
    supply_without_a_fill_allowed(counter.owner)  # a prescription line sold with its typed reference
    cashier, manager = counter.ctx("cashier"), counter.ctx("manager")
    first = sell(
        cashier,
        counter.branch,
        [line(counter.ibuprofen, 6, line_discount="0.50"), line(counter.vitamin_d)],
        bill_discount="1.00",
        at=at(DAY, 10, 15),
    )
    run_in_tenant(cashier, record_payment, bill_id=first.id, tendered="100")
    second = sell(
        cashier,
        counter.branch,
        [line(counter.amoxicillin, 10, prescription_ref="RX-77"), line(counter.ibuprofen)],
        at=at(DAY, 15, 40),
    )
    run_in_tenant(
        cashier, record_payment, bill_id=second.id, tendered=str(second.total_due), method="other", reference="card 7"
    )
    voided = sell(cashier, counter.branch, [line(counter.ibuprofen, 2)], at=at(DAY, 16))
    run_in_tenant(manager, void_bill, voided.id, reason="wrong customer")
    sell(cashier, counter.branch, [line(counter.vitamin_d)], at=at(DAY, 0) - timedelta(minutes=1))
    run_in_tenant(cashier, create_draft, branch_id=counter.branch, lines=[line(counter.vitamin_d)])
    return first, second


def test_a_day_adds_up_to_its_bills(counter):
    first, second = a_day_of_sales(counter)
    report = run_in_tenant(counter.ctx("manager"), daily_report, counter.branch, DAY)
    bills = (first, second)

    assert (report.bills, report.voided_bills) == (2, 1)
    assert (
        report.sales_before_discounts
        == sum(b.lines_total for b in bills)
        == D("6") * D("4.99") + 6 + D("3.50") + D("4.99")
    )
    assert report.discounts == D("1.50")  # 0.50 on a line + 1.00 on the bill
    assert report.net_sales == sum(b.net_total for b in bills)
    assert report.tax == sum(b.tax_total for b in bills)
    assert report.gross_sales == sum(b.total for b in bills)
    assert report.net_sales + report.tax == report.gross_sales
    assert report.total_due == report.collected == first.total_due + second.total_due
    assert report.outstanding == 0 and report.refunds == 0 and "credit notes" in report.refunds_note

    payments = {p.method: p for p in report.payments}
    assert payments["cash"].payments == 1 and payments["cash"].amount == first.total_due
    assert payments["cash"].tendered == 100 and payments["cash"].change_due == 100 - first.total_due
    assert payments["other"].amount == second.total_due and payments["other"].change_due == 0

    # Cost of the picked lots: 5 ibuprofen from IBU-2 at 2.00, 10 amoxicillin from AMO-2 at 0.10;
    # the other units came from the free lots, and the voided bill's picks do not count.
    assert report.cost_of_goods == D("11.00")
    assert report.gross_margin == report.net_sales - D("11.00")
    assert report.margin_percent == (report.gross_margin * 100 / report.net_sales).quantize(D("0.01"))

    assert [(m.description, m.quantity) for m in report.top_by_quantity] == [
        ("Amoxicillin 500 mg", 10),
        ("Ibuprofen 200 mg", 7),
        ("Colecalciferol 1000 IU", 1),
    ]
    assert report.top_by_revenue[0].description == "Ibuprofen 200 mg"
    assert sum(m.revenue for m in report.top_by_revenue) == report.net_sales
    bands = {(t.tax_category, t.tax_rate): t for t in report.taxes}
    assert sum(t.tax_amount for t in bands.values()) == report.tax
    assert set(bands) == {("standard", D("8.875")), ("reduced", D("5")), ("zero", D("0"))}
    busy = {p.label: p.bills for p in report.by_hour if p.bills}
    assert len(report.by_hour) == 24 and busy == {"10": 1, "15": 1}


def test_a_day_without_sales_is_zero_not_an_error(counter):
    report = run_in_tenant(counter.owner, daily_report, counter.branch, DAY)
    assert (report.bills, report.net_sales, report.gross_margin, report.margin_percent) == (0, 0, 0, None)
    assert report.payments == [] and report.top_by_quantity == []


def test_the_day_is_the_branchs_local_day(counter):
    """A bill at 23:30 in a UTC-5 branch is 04:30 UTC the next day, and belongs to the local day."""
    set_time_zone(counter, "America/Bogota")  # UTC-5 all year
    cashier = counter.ctx("cashier")
    late = sell(cashier, counter.branch, [line(counter.vitamin_d)], at=at(DAY + timedelta(days=1), 4, 30))
    early = sell(cashier, counter.branch, [line(counter.vitamin_d, 2)], at=at(DAY, 4, 59))  # 23:59 the day before

    day = run_in_tenant(counter.owner, daily_report, counter.branch, DAY)
    assert day.bills == 1 and day.gross_sales == late.total
    assert day.starts_at == at(DAY, 5) and day.ends_at == at(DAY + timedelta(days=1), 5)
    assert [p.label for p in day.by_hour if p.bills] == ["23"]
    assert run_in_tenant(counter.owner, daily_report, counter.branch, DAY + timedelta(days=1)).bills == 0
    before = run_in_tenant(counter.owner, daily_report, counter.branch, DAY - timedelta(days=1))
    assert before.bills == 1 and before.gross_sales == early.total

    both = run_in_tenant(counter.owner, range_report, counter.branch, DAY - timedelta(days=1), DAY)
    assert both.bills == 2 and both.by_hour == []
    assert [(p.label, p.bills) for p in both.by_day] == [("2026-03-09", 1), ("2026-03-10", 1)]


def test_roles_branch_scope_and_other_chains(counter, make_tenant):
    a_day_of_sales(counter)
    with pytest.raises(PermissionDenied):
        run_in_tenant(counter.ctx("cashier"), daily_report, counter.branch, DAY)
    assert run_in_tenant(counter.ctx("pharmacist"), daily_report, counter.branch, DAY).bills == 2
    scoped = counter.ctx("manager", branch_ids=frozenset({uuid.UUID(counter.other_branch)}))
    with pytest.raises(NotFound):
        run_in_tenant(scoped, daily_report, counter.branch, DAY)
    assert run_in_tenant(scoped, daily_report, counter.other_branch, DAY).bills == 0
    stranger = stock_up(make_tenant("rival", branches=2)).owner
    with pytest.raises(NotFound):  # RLS: another chain's branch does not exist for them
        run_in_tenant(stranger, daily_report, counter.branch, DAY)
    with pytest.raises(NotFound):
        run_in_tenant(counter.owner, daily_report, "not-a-uuid", DAY)


def test_a_range_is_checked(counter):
    with pytest.raises(ValidationFailed):
        run_in_tenant(counter.owner, range_report, counter.branch, DAY, DAY - timedelta(days=1))
    with pytest.raises(ValidationFailed):
        run_in_tenant(counter.owner, range_report, counter.branch, DAY, DAY + timedelta(days=400))


def test_csv_has_the_totals_and_tables(counter):
    first, second = a_day_of_sales(counter)
    rows = list(csv.reader(io.StringIO(report_csv(run_in_tenant(counter.owner, daily_report, counter.branch, DAY)))))
    values = {row[0]: row[1] for row in rows if len(row) == 2}
    assert values["Bills"] == "2" and values["Discounts"] == "1.50" and values["Cost of goods"] == "11.00"
    assert values["Gross sales"] == str((first.total + second.total).quantize(D("0.01")))
    assert ["Payment method", "Payments", "Amount", "Tendered", "Change"] in rows
    assert ["cash", "1", str(first.total_due), "100.00", str(100 - first.total_due)] in rows
    assert any(row[:2] == ["Amoxicillin 500 mg", "10"] for row in rows)
    assert sum(1 for row in rows if len(row) == 3 and row[0].isdigit()) == 24  # the hours


def test_a_formula_in_a_medicine_name_is_made_inert():
    from backend.core.spreadsheet import safe_cell as _text

    assert _text('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert _text("Ibuprofen") == "Ibuprofen"


# --- REST -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    with TestClient(api_with_reports()) as test_client:
        yield test_client


@pytest.fixture
def shop(committed_tenant):
    chain, _ = committed_tenant("report-api", branches=2)
    counter = stock_up(chain)
    token = create_token(counter.owner, "reports", ["read"]).token
    return counter, {"Authorization": f"Bearer {token}"}


def test_daily_report_over_rest(client, shop):
    counter, auth = shop
    first, second = a_day_of_sales(counter)
    answer = client.get("/api/v1/reports/daily", params={"branch": counter.branch, "date": "2026-03-10"}, headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["bills"] == 2 and body["voided_bills"] == 1
    assert D(body["gross_sales"]) == first.total + second.total and body["cost_of_goods"] == "11.0000"
    assert isinstance(body["net_sales"], str)  # money is a decimal string, never a float

    ranged = client.get(
        "/api/v1/reports/range",
        params={"branch": counter.branch, "start": "2026-03-09", "end": "2026-03-10"},
        headers=auth,
    )
    assert ranged.status_code == 200 and ranged.json()["bills"] == 3
    exported = client.get(
        "/api/v1/reports/daily.csv", params={"branch": counter.branch, "date": "2026-03-10"}, headers=auth
    )
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert 'filename="sales-B1-2026-03-10.csv"' in exported.headers["content-disposition"]
    assert "Gross margin" in exported.text


def test_rest_refuses_strangers_unknown_branches_and_suspended_chains(client, shop, committed_tenant):
    counter, auth = shop
    query = {"branch": counter.branch, "date": "2026-03-10"}
    assert client.get("/api/v1/reports/daily", params=query).status_code == 401
    missing = client.get("/api/v1/reports/daily", params={**query, "branch": str(uuid.uuid4())}, headers=auth)
    assert missing.status_code == 404
    bad_date = client.get("/api/v1/reports/daily", params={**query, "date": "10/03/2026"}, headers=auth)
    assert bad_date.status_code == 422
    rival, _ = committed_tenant("report-rival")
    rival_token = create_token(as_role(rival, "owner"), "r", ["read"]).token
    other_chain = client.get("/api/v1/reports/daily", params=query, headers={"Authorization": f"Bearer {rival_token}"})
    assert other_chain.status_code == 404
    _suspend(counter)
    assert client.get("/api/v1/reports/daily", params=query, headers=auth).status_code == 403


def _suspend(counter) -> None:
    """As the owner role (the test's own database), as the platform console would."""
    with psycopg.connect(os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("UPDATE tenants SET status = 'suspended' WHERE id = %s", (counter.chain.tenant_id,))


# --- the dashboard's overview ----------------------------------------------------------------------


def test_overview_compares_today_so_far_and_thirty_days_by_local_days(counter):
    """In a UTC-5 branch at 10:00 local time on Tuesday 10 March: today so far against Tuesday 3 March up
    to 10:00, and 9 Feb - 10 Mar against 10 Jan - 8 Feb, every bound a local midnight."""
    from backend.billing.reports.service import sales_overview

    set_time_zone(counter, "America/Bogota")
    cashier = counter.ctx("cashier")
    now = at(DAY, 15)  # 10:00 in Bogota

    def bill(day: date, local_hour: int, quantity: int = 1) -> None:  # vitamin D: 6.00, zero-rated
        sell(
            cashier,
            counter.branch,
            [line(counter.vitamin_d, quantity)],
            at=at(day, 0) + timedelta(hours=local_hour + 5),
        )

    bill(DAY, 8)  # today, before now
    bill(DAY, 9, 2)
    bill(DAY, 11)  # after `now`: not yet "so far" (and not in the period either)
    week_ago = DAY - timedelta(days=7)
    bill(week_ago, 9)  # before 10:00 a week ago
    bill(week_ago, 17, 3)  # later that day: in the whole day only
    bill(DAY - timedelta(days=29), 0)  # 9 Feb 00:00 local: the period's first minute
    bill(DAY - timedelta(days=30), 23)  # 8 Feb 23:00 local (9 Feb 04:00 UTC): the previous period's last day
    bill(DAY - timedelta(days=59), 12)  # 10 Jan: the previous period's first day
    bill(DAY - timedelta(days=60), 12)  # 9 Jan: in neither

    overview = run_in_tenant(counter.ctx("manager"), sales_overview, counter.branch, now=now)
    six = D("6.00")
    assert (overview.today, overview.last_week_day) == (DAY, week_ago)
    assert (overview.today_bills, overview.today_sales) == (2, 3 * six)
    assert (overview.last_week_to_now_bills, overview.last_week_to_now) == (1, six)
    assert overview.last_week_whole_day == 4 * six
    assert (overview.period.start, overview.period.end) == (DAY - timedelta(days=29), DAY)
    # The period runs to the end of today's local day (its report is of whole days): the 11:00 bill,
    # sold after `now` only in this test, is in it; the previous 30 days are whole days in the past.
    assert overview.period.bills == 2 + 1 + 2 + 1 and overview.period.gross_sales == (4 + 4 + 1) * six
    assert [p.label for p in overview.previous][:: len(overview.previous) - 1] == ["2026-01-10", "2026-02-08"]
    assert len(overview.previous) == len(overview.period.by_day) == 30
    assert overview.previous_gross_sales == 2 * six
    assert {p.label: p.bills for p in overview.previous if p.bills} == {"2026-01-10": 1, "2026-02-08": 1}
    assert overview.currency == "USD" and overview.refunds_today_count == 0


def test_overview_counts_todays_refunds_and_is_for_reports_roles(counter):
    from backend.billing.credit_notes.service import issue_credit_note
    from backend.billing.reports.service import sales_overview

    cashier = counter.ctx("cashier")
    sold = sell(cashier, counter.branch, [line(counter.vitamin_d, 2)], at=datetime.now(UTC) - timedelta(minutes=5))
    run_in_tenant(cashier, record_payment, bill_id=sold.id, tendered="12.00")
    run_in_tenant(counter.owner, issue_credit_note, sold.id, [(1, 1, True)], reason="unopened pack back")

    overview = run_in_tenant(counter.owner, sales_overview, counter.branch)
    assert (overview.refunds_today_count, overview.refunds_today) == (1, D("6.00"))
    assert overview.today_bills == 1 and overview.today_sales == D("12.00")
    with pytest.raises(PermissionDenied):
        run_in_tenant(cashier, sales_overview, counter.branch)
    scoped = counter.ctx("manager", branch_ids=frozenset({uuid.UUID(counter.other_branch)}))
    with pytest.raises(NotFound):
        run_in_tenant(scoped, sales_overview, counter.branch)
    with pytest.raises(ValidationFailed):
        run_in_tenant(counter.owner, sales_overview, counter.branch, days=0)
