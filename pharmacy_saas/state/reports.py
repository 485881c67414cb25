"""The reports page: one branch's sales on one of its local business days, with a CSV download."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import reflex as rx

from backend.billing.reports.service import SalesReport, daily_report, local_today, report_csv
from backend.core.errors import PharmacyError
from pharmacy_saas import routes
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from pharmacy_saas.state.display import display_money
from tenants.context import TenantContext

METHOD_LABELS = {"cash": "Cash", "other": "Card / other"}


@dataclasses.dataclass
class Figure:
    """A totals card."""

    label: str
    value: str
    hint: str = ""


@dataclasses.dataclass
class PaymentRow:
    method: str
    payments: int
    amount: str
    change_due: str


@dataclasses.dataclass
class TaxRow:
    band: str
    net_amount: str
    tax_amount: str


@dataclasses.dataclass
class MedicineRow:
    description: str
    quantity: int
    revenue: str
    margin: str


class ReportsState(ShellState):
    day: str = ""
    report_branch: str = ""  # the branch name the figures on screen are for
    currency: str = ""
    figures: list[Figure] = []
    payments: list[PaymentRow] = []
    taxes: list[TaxRow] = []
    top_medicines: list[MedicineRow] = []
    hours: list[dict[str, Any]] = []  # the chart's rows (recharts takes plain dicts): hour, bills, sales
    bills: int = 0
    refunds_note: str = ""
    error: str = ""

    @rx.var
    def day_bills_link(self) -> str:
        """The bills list on the report's branch and day (the figures on screen, not the header's choice)."""
        branch = next((b["id"] for b in self.branches if b["name"] == self.report_branch), "")
        return f"{routes.BILLS}?{urlencode({'branch': branch, 'start': self.day, 'end': self.day})}"

    @rx.event
    @guarded("reports.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        """on_load: the current branch's report for its local today."""
        await self._fill_shell(ctx)
        branch = self._branch_id()
        if not branch:
            self.error = "No branch to report on."
            return
        self.day = (await transact(ctx, local_today, branch)).isoformat()
        await self._show(ctx)

    @rx.event
    @guarded("reports.view")
    async def choose_day(self, ctx: TenantContext, value: str) -> None:
        self.day = str(value)[:10]
        await self._show(ctx)

    @rx.event
    @guarded("reports.view")
    async def refresh(self, ctx: TenantContext) -> None:
        """Show the report again, for the branch now chosen in the header."""
        await self._show(ctx)

    @rx.event
    @guarded("reports.view")
    async def download_csv(self, ctx: TenantContext) -> Any:
        day = self._day()
        if day is None:
            return None
        try:
            report = await transact(ctx, daily_report, self._branch_id(), day)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        return rx.download(
            data=report_csv(report), filename=f"sales-{report.branch_code}-{day}.csv", mime_type="text/csv"
        )

    # --- helpers ----------------------------------------------------------------------------------

    def _branch_id(self) -> str:
        return next((b["id"] for b in self.branches if b["name"] == self.current_branch), "")

    def _day(self) -> date | None:
        try:
            return date.fromisoformat(self.day)
        except ValueError:
            self.error = "Pick a day (YYYY-MM-DD)."
            return None

    async def _show(self, ctx: TenantContext) -> None:
        day = self._day()
        if day is None:
            return
        try:
            report = await transact(ctx, daily_report, self._branch_id(), day)
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.error = ""
        self._fill(report)

    def _fill(self, report: SalesReport) -> None:
        def money(amount: Decimal) -> str:
            return display_money(amount, report.currency)

        self.report_branch = self.current_branch
        self.currency = report.currency
        self.bills = report.bills
        self.refunds_note = report.refunds_note
        margin = "" if report.margin_percent is None else f"{report.margin_percent} % of net sales"
        self.figures = [
            Figure("Gross sales", money(report.gross_sales), f"{report.bills} bills, {report.voided_bills} voided"),
            Figure("Net sales", money(report.net_sales), "without tax, after discounts"),
            Figure("Tax", money(report.tax)),
            Figure("Discounts", money(report.discounts)),
            Figure("Refunds", money(report.refunds), "given back by credit notes"),
            Figure("Gross margin", money(report.gross_margin), margin),
            Figure("Collected", money(report.collected), f"{money(report.outstanding)} still owed"),
        ]
        self.payments = [
            PaymentRow(METHOD_LABELS.get(p.method, p.method), p.payments, money(p.amount), money(p.change_due))
            for p in report.payments
        ]
        self.taxes = [
            TaxRow(f"{t.tax_category} {t.tax_rate.normalize():f} %", money(t.net_amount), money(t.tax_amount))
            for t in report.taxes
        ]
        self.top_medicines = [
            MedicineRow(m.description, m.quantity, money(m.revenue), money(m.margin)) for m in report.top_by_revenue
        ]
        # A chart draws numbers, not decimal strings: the float is only a bar's height; every figure a
        # person reads comes from the Decimal amounts.
        self.hours = [{"hour": p.label, "bills": p.bills, "sales": float(p.gross_sales)} for p in report.by_hour]
