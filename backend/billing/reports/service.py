"""Sales reports of one branch over its local business days, computed in SQL over issued bills.

- A bill belongs to the local day (in the branch's time zone) in which it was finalized: the day's
  bounds are turned into UTC instants in Python (zoneinfo, so a daylight-saving day has 23 or 25
  hours) and the bills are selected by `finalized_at` in [start, end).
- Sales are the issued bills (finalized, partially paid, paid). A voided issued bill is counted in
  `voided_bills` and nowhere else: its stock went back on the shelf.
- Payments by method are the payments taken so far on those bills, so they add up to `collected`
  and every figure describes the same sales. (Money received per day, whichever day the bill was
  issued, is the till's cash-up: a different report.)
- Refunds are the money given back by the credit notes issued in the branch within the bounds
  (whichever day the refunded bill was sold): the till's cash leaves on the day of the refund. The
  sales figures above stay those of the bills as issued; a credit note never rewrites a bill.
- Cost of goods is what the picked lots cost (bill_picks x batches.cost_price); gross margin is the
  net sales (without tax) minus that cost.

Amounts are Decimal sums at 4 decimals, as stored; rounding to the currency happens only on display.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.statuses import BillStatus
from backend.core.errors import NotFound, ValidationFailed
from backend.core.money import minor_unit
from backend.core.spreadsheet import safe_cell
from tenants.context import TenantContext
from tenants.roles import require

ZERO = Decimal(0)
TOP_MEDICINES = 10
MAX_RANGE_DAYS = 366
REFUNDS_NOTE = "Money given back by the credit notes issued on these days, whichever day the bill was sold."


@dataclass(frozen=True)
class PaymentTotal:
    method: str
    payments: int
    amount: Decimal  # applied to bills
    tendered: Decimal
    change_due: Decimal


@dataclass(frozen=True)
class TaxTotal:
    tax_category: str
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True)
class MedicineSales:
    medicine_id: str
    description: str
    quantity: int
    revenue: Decimal  # net of discounts and tax
    gross: Decimal  # with tax
    cost: Decimal  # of the lots it was picked from
    margin: Decimal


@dataclass(frozen=True)
class SalesPoint:
    """One bar of a chart: an hour of the day ("09") or a day of a range ("2026-11-28")."""

    label: str
    bills: int
    gross_sales: Decimal


@dataclass(frozen=True)
class SalesReport:
    branch_id: str
    branch_name: str
    branch_code: str
    time_zone: str
    currency: str
    start: date  # first local day
    end: date  # last local day (inclusive)
    starts_at: datetime  # UTC bounds of those days: [starts_at, ends_at)
    ends_at: datetime
    bills: int
    voided_bills: int
    sales_before_discounts: Decimal
    discounts: Decimal
    net_sales: Decimal
    tax: Decimal
    gross_sales: Decimal
    rounding: Decimal
    total_due: Decimal
    collected: Decimal  # paid on those bills so far
    outstanding: Decimal  # still owed on those bills
    refunds: Decimal
    refunds_note: str
    cost_of_goods: Decimal
    gross_margin: Decimal
    margin_percent: Decimal | None  # of net sales; None on a day without sales
    payments: list[PaymentTotal]
    taxes: list[TaxTotal]
    top_by_quantity: list[MedicineSales]
    top_by_revenue: list[MedicineSales]
    by_hour: list[SalesPoint]  # 24 points on a one-day report, else empty
    by_day: list[SalesPoint]  # one point per local day


@dataclass(frozen=True)
class SalesOverview:
    """A dashboard's sales figures of one branch: today so far against the same weekday last week up
    to the same local time (a whole day against part of one would always look like a bad day), and
    the last 30 local days against the 30 before them."""

    branch_id: str
    branch_name: str
    currency: str
    time_zone: str
    today: date
    as_of: datetime  # the instant the figures run to (UTC)
    today_sales: Decimal  # gross, issued bills
    today_bills: int
    last_week_day: date  # today minus 7 days: the same weekday
    last_week_to_now: Decimal  # that day's gross sales up to the same local time
    last_week_to_now_bills: int
    last_week_whole_day: Decimal
    refunds_today: Decimal
    refunds_today_count: int
    period: SalesReport  # the last 30 local days, today included (its by_day is the chart)
    previous: list[SalesPoint]  # the 30 local days before them, oldest first, one point per day
    previous_gross_sales: Decimal


@dataclass(frozen=True)
class _Branch:
    id: uuid.UUID
    name: str
    code: str
    time_zone: str


# --- public ---------------------------------------------------------------------------------------


def daily_report(session: Session, ctx: TenantContext, branch_id: object, day: date) -> SalesReport:
    """The branch's sales on one local business day (see the module docstring for what counts)."""
    return range_report(session, ctx, branch_id, day, day)


def range_report(session: Session, ctx: TenantContext, branch_id: object, start: date, end: date) -> SalesReport:
    """The branch's sales from local day `start` to `end`, both included (at most a year)."""
    require(ctx, "reports.view")
    if end < start:
        raise ValidationFailed("The end date is before the start date.", field="end")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(f"A report covers at most {MAX_RANGE_DAYS} days.", field="end")
    return _report(session, ctx, _branch(session, ctx, branch_id), start, end)


def local_today(session: Session, ctx: TenantContext, branch_id: object) -> date:
    """Today in the branch's time zone: the default day of its report."""
    require(ctx, "reports.view")
    branch = _branch(session, ctx, branch_id)
    return datetime.now(ZoneInfo(branch.time_zone)).date()


def sales_overview(
    session: Session, ctx: TenantContext, branch_id: object, *, days: int = 30, now: datetime | None = None
) -> SalesOverview:
    """Today so far, the same weekday a week ago, and the last `days` local days against the
    `days` before them, for one branch (what counts is as in `range_report`)."""
    require(ctx, "reports.view")
    if not 1 <= days <= MAX_RANGE_DAYS // 2:
        raise ValidationFailed(f"Compare 1 to {MAX_RANGE_DAYS // 2} days.", field="days")
    now = now or datetime.now(UTC)
    branch = _branch(session, ctx, branch_id)
    zone = ZoneInfo(branch.time_zone)
    local_now = now.astimezone(zone)
    today = local_now.date()
    week_ago = today - timedelta(days=7)
    today_start, today_end = day_bounds(today, today, branch.time_zone)
    week_ago_start, week_ago_end = day_bounds(week_ago, week_ago, branch.time_zone)
    # The same wall-clock time a week ago, so a daylight-saving change in between moves nothing.
    week_ago_now = datetime.combine(week_ago, local_now.time(), tzinfo=zone).astimezone(UTC)

    def sales(start: datetime, end: datetime) -> Any:
        return session.execute(
            _TOTALS,
            {
                "branch": branch.id,
                "start": start,
                "end": end,
                "issued": list(BillStatus.issued()),
                "voided": BillStatus.VOIDED,
            },
        ).one()

    so_far, last_week, last_week_day = (
        sales(today_start, now),
        sales(week_ago_start, week_ago_now),
        sales(week_ago_start, week_ago_end),
    )
    refunds = session.execute(_REFUND_COUNT, {"branch": branch.id, "start": today_start, "end": today_end}).one()
    period = _report(session, ctx, branch, today - timedelta(days=days - 1), today)
    before_start, before_end = today - timedelta(days=2 * days - 1), today - timedelta(days=days)
    bounds = day_bounds(before_start, before_end, branch.time_zone)
    previous = _by_day(
        session,
        {
            "branch": branch.id,
            "start": bounds[0],
            "end": bounds[1],
            "issued": list(BillStatus.issued()),
            "zone": branch.time_zone,
        },
        before_start,
        before_end,
    )
    return SalesOverview(
        branch_id=str(branch.id),
        branch_name=branch.name,
        currency=period.currency,
        time_zone=branch.time_zone,
        today=today,
        as_of=now,
        today_sales=so_far.gross_sales,
        today_bills=so_far.bills,
        last_week_day=week_ago,
        last_week_to_now=last_week.gross_sales,
        last_week_to_now_bills=last_week.bills,
        last_week_whole_day=last_week_day.gross_sales,
        refunds_today=refunds.amount,
        refunds_today_count=refunds.notes,
        period=period,
        previous=previous,
        previous_gross_sales=sum((p.gross_sales for p in previous), ZERO),
    )


def day_bounds(day_from: date, day_to: date, time_zone: str) -> tuple[datetime, datetime]:
    """The UTC instants from local midnight of `day_from` to local midnight after `day_to`."""
    zone = ZoneInfo(time_zone)
    start = datetime.combine(day_from, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day_to + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


# --- the queries ------------------------------------------------------------------------------------

# The bills a report counts: issued ones of the branch finalized within the bounds (a range scan of
# the index of migration 0015). Lines, picks and payments are then fetched by `bill_id = ANY(ARRAY(...))`
# through their (tenant_id, bill_id) keys: the planner cannot see that a hash join over the whole
# table pays the row-level-security check on every row of the branch's history, and picked exactly
# that in the bench; an array of ids keeps a day's report reading that day's rows only.
# The queries are fixed text: this constant is the only piece put into them.
_SOLD_IDS = (
    "ARRAY(SELECT b.id FROM bills b WHERE b.branch_id = :branch AND b.finalized_at >= :start "
    "AND b.finalized_at < :end AND b.status = ANY(:issued))"
)

_TOTALS = text(
    "SELECT count(*) FILTER (WHERE status = ANY(:issued)) AS bills, "
    "count(*) FILTER (WHERE status = :voided) AS voided_bills, "
    "coalesce(sum(lines_total) FILTER (WHERE status = ANY(:issued)), 0) AS sales_before_discounts, "
    "coalesce(sum(discount_total) FILTER (WHERE status = ANY(:issued)), 0) AS discounts, "
    "coalesce(sum(net_total) FILTER (WHERE status = ANY(:issued)), 0) AS net_sales, "
    "coalesce(sum(tax_total) FILTER (WHERE status = ANY(:issued)), 0) AS tax, "
    "coalesce(sum(total) FILTER (WHERE status = ANY(:issued)), 0) AS gross_sales, "
    "coalesce(sum(rounding) FILTER (WHERE status = ANY(:issued)), 0) AS rounding, "
    "coalesce(sum(total_due) FILTER (WHERE status = ANY(:issued)), 0) AS total_due, "
    "coalesce(sum(amount_paid) FILTER (WHERE status = ANY(:issued)), 0) AS collected "
    "FROM bills WHERE branch_id = :branch AND finalized_at >= :start AND finalized_at < :end"
)

_PAYMENTS = text(
    "SELECT p.method, count(*) AS payments, sum(p.amount) AS amount, sum(p.tendered) AS tendered, "  # noqa: S608
    "sum(p.change_due) AS change_due "
    f"FROM bill_payments p WHERE p.bill_id = ANY({_SOLD_IDS}) "
    "GROUP BY p.method ORDER BY p.method"
)

# One pass over the day's lines for two groupings: per medicine (quantity, revenue) and per tax band.
_LINES = text(
    "SELECT l.medicine_id, l.tax_category, l.tax_rate, grouping(l.medicine_id) AS is_band, "  # noqa: S608
    "min(l.description) AS description, sum(l.quantity) AS quantity, sum(l.net_amount) AS net_amount, "
    "sum(l.tax_amount) AS tax_amount, sum(l.gross_amount) AS gross_amount "
    f"FROM bill_lines l WHERE l.bill_id = ANY({_SOLD_IDS}) "
    "GROUP BY GROUPING SETS ((l.medicine_id), (l.tax_category, l.tax_rate))"
)

# What the picked lots cost, per medicine (a lot belongs to one medicine, so no need to go by line).
_COSTS = text(
    "SELECT bt.medicine_id, sum(p.quantity * bt.cost_price) AS cost "  # noqa: S608
    "FROM bill_picks p JOIN batches bt ON bt.tenant_id = p.tenant_id AND bt.id = p.batch_id "
    f"WHERE p.bill_id = ANY({_SOLD_IDS}) "
    "GROUP BY bt.medicine_id"
)

_REFUNDS = text(
    "SELECT coalesce(sum(amount_refunded), 0) FROM credit_notes "
    "WHERE branch_id = :branch AND created_at >= :start AND created_at < :end"
)

_REFUND_COUNT = text(
    "SELECT count(*) AS notes, coalesce(sum(amount_refunded), 0) AS amount FROM credit_notes "
    "WHERE branch_id = :branch AND created_at >= :start AND created_at < :end"
)

_BY_HOUR = text(
    "SELECT extract(hour FROM finalized_at AT TIME ZONE :zone)::int AS bucket, count(*) AS bills, "
    "sum(total) AS gross_sales FROM bills WHERE branch_id = :branch AND finalized_at >= :start "
    "AND finalized_at < :end AND status = ANY(:issued) GROUP BY 1"
)

_BY_DAY = text(
    "SELECT (finalized_at AT TIME ZONE :zone)::date AS bucket, count(*) AS bills, sum(total) AS gross_sales "
    "FROM bills WHERE branch_id = :branch AND finalized_at >= :start AND finalized_at < :end "
    "AND status = ANY(:issued) GROUP BY 1"
)


def _branch(session: Session, ctx: TenantContext, branch_id: object) -> _Branch:
    try:
        key = uuid.UUID(str(branch_id))
    except ValueError:
        raise NotFound("No such branch.") from None
    row = session.execute(text("SELECT id, name, code, time_zone FROM branches WHERE id = :b"), {"b": key}).first()
    if row is None or not ctx.can_see_branch(row.id):
        raise NotFound("No such branch.")
    return _Branch(row.id, row.name, row.code, row.time_zone)


def _report(session: Session, ctx: TenantContext, branch: _Branch, start: date, end: date) -> SalesReport:
    starts_at, ends_at = day_bounds(start, end, branch.time_zone)
    params: dict[str, Any] = {
        "branch": branch.id,
        "start": starts_at,
        "end": ends_at,
        "issued": list(BillStatus.issued()),
        "voided": BillStatus.VOIDED,
        "zone": branch.time_zone,
    }
    totals = session.execute(_TOTALS, params).one()
    medicines, taxes = _line_sales(session, params)
    cost = sum((m.cost for m in medicines), ZERO)
    margin = totals.net_sales - cost
    currency = session.execute(text("SELECT currency FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}).scalar_one()
    return SalesReport(
        branch_id=str(branch.id),
        branch_name=branch.name,
        branch_code=branch.code,
        time_zone=branch.time_zone,
        currency=currency,
        start=start,
        end=end,
        starts_at=starts_at,
        ends_at=ends_at,
        bills=totals.bills,
        voided_bills=totals.voided_bills,
        sales_before_discounts=totals.sales_before_discounts,
        discounts=totals.discounts,
        net_sales=totals.net_sales,
        tax=totals.tax,
        gross_sales=totals.gross_sales,
        rounding=totals.rounding,
        total_due=totals.total_due,
        collected=totals.collected,
        outstanding=totals.total_due - totals.collected,
        refunds=session.execute(_REFUNDS, params).scalar_one(),
        refunds_note=REFUNDS_NOTE,
        cost_of_goods=cost,
        gross_margin=margin,
        margin_percent=(margin * 100 / totals.net_sales).quantize(Decimal("0.01")) if totals.net_sales else None,
        payments=[
            PaymentTotal(r.method, r.payments, r.amount, r.tendered, r.change_due)
            for r in session.execute(_PAYMENTS, params)
        ],
        taxes=taxes,
        top_by_quantity=sorted(medicines, key=lambda m: (-m.quantity, -m.revenue, m.description))[:TOP_MEDICINES],
        top_by_revenue=sorted(medicines, key=lambda m: (-m.revenue, -m.quantity, m.description))[:TOP_MEDICINES],
        by_hour=_by_hour(session, params) if start == end else [],
        by_day=_by_day(session, params, start, end),
    )


def _line_sales(session: Session, params: dict[str, Any]) -> tuple[list[MedicineSales], list[TaxTotal]]:
    """Sales per medicine (with the cost of its picked lots) and per tax band, from one pass over the lines."""
    costs = {r.medicine_id: r.cost for r in session.execute(_COSTS, params)}
    medicines, taxes = [], []
    for r in session.execute(_LINES, params):
        if r.is_band:
            taxes.append(TaxTotal(r.tax_category, r.tax_rate, r.net_amount, r.tax_amount))
            continue
        cost = costs.get(r.medicine_id, ZERO)
        medicines.append(
            MedicineSales(
                str(r.medicine_id),
                r.description,
                int(r.quantity),
                r.net_amount,
                r.gross_amount,
                cost,
                r.net_amount - cost,
            )
        )
    taxes.sort(key=lambda t: (-t.tax_rate, t.tax_category))
    return medicines, taxes


def _by_hour(session: Session, params: dict[str, Any]) -> list[SalesPoint]:
    """All 24 local hours, empty ones included, so a chart's axis does not jump."""
    found = {r.bucket: r for r in session.execute(_BY_HOUR, params)}
    # On the day clocks go back an hour repeats; its sales fall into the one local hour, which is
    # what a person reading the chart expects.
    return [
        SalesPoint(f"{hour:02d}", found[hour].bills, found[hour].gross_sales)
        if hour in found
        else SalesPoint(f"{hour:02d}", 0, ZERO)
        for hour in range(24)
    ]


def _by_day(session: Session, params: dict[str, Any], start: date, end: date) -> list[SalesPoint]:
    found = {r.bucket: r for r in session.execute(_BY_DAY, params)}
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [
        SalesPoint(day.isoformat(), found[day].bills, found[day].gross_sales)
        if day in found
        else SalesPoint(day.isoformat(), 0, ZERO)
        for day in days
    ]


# --- CSV ------------------------------------------------------------------------------------------


def report_csv(report: SalesReport) -> str:
    """The report as CSV for a spreadsheet: a block of totals, then one table per section.

    Money is in the currency's minor unit here (a spreadsheet sums what it sees); the exact 4-decimal
    sums stay in the JSON report.
    """
    cash = minor_unit(report.currency)
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\n")

    def money(amount: Decimal) -> str:
        return str(amount.quantize(cash))

    rows.writerow(["Sales report", safe_cell(f"{report.branch_name} ({report.branch_code})")])
    rows.writerow(["From", report.start.isoformat()])
    rows.writerow(["To", report.end.isoformat()])
    rows.writerow(["Time zone", report.time_zone])
    rows.writerow(["Currency", report.currency])
    for label, value in _total_rows(report, money):
        rows.writerow([label, value])
    _section(rows, ["Payment method", "Payments", "Amount", "Tendered", "Change"])
    rows.writerows(
        [p.method, p.payments, money(p.amount), money(p.tendered), money(p.change_due)] for p in report.payments
    )
    _section(rows, ["Tax category", "Rate %", "Net", "Tax"])
    rows.writerows(
        [t.tax_category, t.tax_rate.normalize(), money(t.net_amount), money(t.tax_amount)] for t in report.taxes
    )
    _section(rows, ["Top medicine (by revenue)", "Quantity", "Revenue", "Cost", "Margin"])
    rows.writerows(
        [safe_cell(m.description), m.quantity, money(m.revenue), money(m.cost), money(m.margin)]
        for m in report.top_by_revenue
    )
    _section(rows, ["Hour" if report.by_hour else "Day", "Bills", "Gross sales"])
    rows.writerows([p.label, p.bills, money(p.gross_sales)] for p in report.by_hour or report.by_day)
    return out.getvalue()


def _total_rows(report: SalesReport, money: Any) -> list[tuple[str, object]]:
    return [
        ("Bills", report.bills),
        ("Voided bills", report.voided_bills),
        ("Sales before discounts", money(report.sales_before_discounts)),
        ("Discounts", money(report.discounts)),
        ("Net sales", money(report.net_sales)),
        ("Tax", money(report.tax)),
        ("Gross sales", money(report.gross_sales)),
        ("Collected", money(report.collected)),
        ("Outstanding", money(report.outstanding)),
        ("Refunds", money(report.refunds)),
        ("Cost of goods", money(report.cost_of_goods)),
        ("Gross margin", money(report.gross_margin)),
        ("Margin %", "" if report.margin_percent is None else report.margin_percent),
    ]


def _section(rows: Any, header: list[str]) -> None:
    rows.writerow([])
    rows.writerow(header)
