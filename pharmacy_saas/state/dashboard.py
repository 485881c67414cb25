"""The staff shell (chains, branches, the menu the role may use) and the dashboard per role."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import reflex as rx

from backend.accounts.service import memberships_of
from backend.billing.claims.service import claim_counts
from backend.billing.reports.service import SalesOverview, sales_overview
from backend.billing.statuses import ClaimStatus
from backend.core.errors import PharmacyError
from backend.feedback.service import open_feedback_alerts
from backend.health.service import system_health
from backend.inventory.alerts import stock_alerts
from backend.portal import queue as portal_queue
from backend.portal.refill_form import volume_alerts
from backend.prescriptions.service import queue_counts
from pharmacy_saas import routes
from pharmacy_saas.state.base import SessionState, guarded, run_service, transact
from pharmacy_saas.state.display import display_money
from tenants.context import TenantContext
from tenants.directory import tenant_profile
from tenants.roles import role_has

# The permission each menu page's on_load checks (tests/pharmacy_saas/test_navigation.py holds the
# two together), so the menu offers exactly the pages the server will open for the role.
PAGE_PERMISSIONS: dict[str, str] = {
    routes.DASHBOARD: "dashboard.view",
    routes.INVENTORY: "inventory.view",
    routes.POS: "billing.sell",
    routes.BILLS: "billing.view",
    routes.PATIENTS: "patients.view",
    routes.PRESCRIPTIONS: "prescriptions.view",
    routes.PRESCRIPTION_REQUESTS: "portal.queue",
    routes.CONTROLLED: "controlled.view",
    routes.REPORTS: "reports.view",
    routes.FEEDBACK: "feedback.view",
    routes.NOTIFICATIONS: "notifications.view",
    routes.CLAIMS: "billing.view",
    routes.ASSISTANT: "assistant.use",
    routes.INTERACTIONS: "inventory.view",
    routes.ACCOUNT: "account.self",
    routes.STAFF: "staff.view",
    routes.AUDIT: "audit.view",
    routes.SETTINGS: "tenant.settings",
}
COMPARE_DAYS = 30


class ShellState(SessionState):
    """What the shell shows on every staff page: chains, branches, and which links the role may use."""

    branches: list[dict[str, str]] = []
    current_branch: str = ""
    chain_currency: str = ""
    allowed_routes: list[str] = []  # the menu: pages this role may open
    loaded: bool = False
    # Every branch's time zone, deactivated ones too (their history is still shown), for times read
    # in the branch's zone; server-side only.
    _branch_zones: dict[str, str] = {}

    @rx.var
    def branch_names(self) -> list[str]:
        return [b["name"] for b in self.branches]

    @rx.var
    def chain_names(self) -> list[str]:
        return [m["tenant_name"] for m in self.memberships]

    def _time_zone(self, branch_id: str) -> str:
        """The branch's time zone, for showing its times as it reads them (UTC, labelled, if unknown)."""
        return self._branch_zones.get(branch_id, "UTC")

    async def _fill_shell(self, ctx: TenantContext) -> None:
        profile = await run_service(tenant_profile, ctx)
        chains = await run_service(memberships_of, ctx.user_id)
        self.memberships = [{"tenant_id": m.tenant_id, "tenant_name": m.tenant_name} for m in chains]
        self.tenant_name = profile.name
        self.chain_currency = profile.currency
        # Read afresh on every page load, so a branch added in Settings is in the switcher (and in the
        # transfer, report and invitation choices built from it) at once. Deactivated branches take no
        # sales or stock, so they are not offered; their history stays in reports and the API.
        self.branches = [{"id": b.id, "name": b.name, "code": b.code} for b in profile.branches if b.is_active]
        self._branch_zones = {b.id: b.time_zone for b in profile.branches}
        if self.current_branch not in {b["name"] for b in self.branches}:  # e.g. it was just deactivated
            self.current_branch = self.branches[0]["name"] if self.branches else ""
        self.allowed_routes = [
            route for route, permission in PAGE_PERMISSIONS.items() if role_has(ctx.role, permission)
        ]
        self.loaded = True

    def _current_branch_id(self) -> str:
        return next((b["id"] for b in self.branches if b["name"] == self.current_branch), "")

    @rx.event
    @guarded("dashboard.view")
    async def choose_branch(self, ctx: TenantContext, name: str) -> None:
        if name in {b["name"] for b in self.branches}:  # only branches the server listed
            self.current_branch = name


def _change(now: Decimal, before: Decimal) -> str:
    """ "+12 %" / "-5 %" against the earlier figure; nothing to compare with is said in words."""
    if not before:
        return "no sales to compare with" if not now else "up from none"
    percent = ((now - before) * 100 / before).quantize(Decimal(1))
    return f"{'+' if percent > 0 else ''}{percent} %"


def _short(day: date) -> str:
    return f"{day.day} {day.strftime('%b')}"


def _attention(label: str, count: int, href: str, item_id: str, detail: str = "") -> dict[str, str]:
    """One "needs attention" card; `active` colours it when there is something to do."""
    return {
        "label": label,
        "count": str(count),
        "href": href,
        "id": item_id,
        "detail": detail,
        "active": "yes" if count else "",
    }


def _direction(now: Decimal, before: Decimal) -> str:
    return "flat" if now == before else "up" if now > before else "down"


class DashboardState(ShellState):
    """Each part is filled only when the role may see it: a cashier's dashboard has no sales figures,
    margins, claims or service health (nothing of them is put in state, so nothing reaches the page)."""

    services: list[dict[str, Any]] = []
    all_healthy: bool = False
    can_see_sales: bool = False
    can_see_health: bool = False
    sales_branch: str = ""
    sales: dict[str, str] = {}
    chart: list[dict[str, Any]] = []
    attention: list[dict[str, str]] = []
    error: str = ""
    portal_alert: str = ""  # the owner's soft alert: the public portal got unusually many requests

    @rx.event
    @guarded("dashboard.view", page_load=True)
    async def load(self, ctx: TenantContext) -> Any:
        """on_load: refuse unless signed in with dashboard access, show the shell, then fill what the
        role may see in events of their own (the shell appears without waiting for the figures)."""
        await self._fill_shell(ctx)
        self.can_see_sales = role_has(ctx.role, "reports.view")
        self.can_see_health = role_has(ctx.role, "health.view")
        self.attention, self.sales, self.chart, self.error = [], {}, [], ""
        return [DashboardState.fill_figures, *([DashboardState.refresh_health] if self.can_see_health else [])]

    @rx.event
    @guarded("dashboard.view")
    async def fill_figures(self, ctx: TenantContext) -> None:
        await self._fill(ctx)

    @rx.event
    @guarded("dashboard.view")
    async def switch_branch(self, ctx: TenantContext, name: str) -> None:
        """The shell's branch picker on the dashboard: the figures follow the branch at once."""
        if name in {b["name"] for b in self.branches}:
            self.current_branch = name
            await self._fill(ctx)

    async def _fill(self, ctx: TenantContext) -> None:
        # Judged from this event's context, never from what an earlier event left in state.
        self.can_see_sales = role_has(ctx.role, "reports.view")
        items: list[dict[str, str]] = []
        overview = None
        if self.can_see_sales and self._current_branch_id():
            try:
                overview = await transact(ctx, sales_overview, self._current_branch_id(), days=COMPARE_DAYS)
            except PharmacyError as exc:
                self.error = exc.message
        self._show_sales(overview)
        if role_has(ctx.role, "inventory.view"):
            alerts = await transact(ctx, stock_alerts)
            window = min(alerts.windows)
            items += [
                _attention("Low stock", len(alerts.low_stock), routes.ALERTS, "attention-low"),
                _attention(
                    f"Expiring within {window} days",
                    alerts.expiring_within(window),
                    routes.ALERTS,
                    "attention-expiring",
                ),
                _attention("Expired on the shelf", len(alerts.expired_on_shelf), routes.ALERTS, "attention-expired"),
                _attention(
                    "Recalled lots in stock", len(alerts.recalled_in_stock), routes.ALERTS, "attention-recalled"
                ),
            ]
            if self.can_see_sales:  # what the stock cost is the chain's business figure, like margins
                value = _attention("Stock at risk (cost)", 0, routes.ALERTS, "attention-value")
                value["count"] = display_money(alerts.value_at_risk, self.chain_currency)
                value["active"] = "yes" if alerts.value_at_risk else ""
                value["detail"] = "expiring, expired and recalled lots"
                items.append(value)
        if role_has(ctx.role, "prescriptions.view") and self._current_branch_id():
            rx_counts = await transact(ctx, queue_counts, self._current_branch_id())
            queue = routes.PRESCRIPTIONS
            items += [
                _attention(
                    "Prescriptions to verify",
                    rx_counts["verification"],
                    f"{queue}?status=verification",
                    "attention-rx-verification",
                ),
                _attention(
                    "Prescriptions to enter",
                    rx_counts["intake"] + rx_counts["data_entry"],
                    queue,
                    "attention-rx-entry",
                ),
                _attention(
                    "Prescriptions on hold or waiting for the prescriber",
                    rx_counts["on_hold"] + rx_counts["waiting_prescriber"],
                    queue,
                    "attention-rx-held",
                ),
            ]
        if role_has(ctx.role, "portal.queue") and self._current_branch_id():
            waiting = await transact(ctx, portal_queue.open_count, self._current_branch_id())
            items.append(
                _attention("Portal refill requests", waiting, routes.PRESCRIPTION_REQUESTS, "attention-portal-requests")
            )
        if role_has(ctx.role, "claims.manage"):
            counts = await transact(ctx, claim_counts)
            items += [
                _attention(
                    "Claims to submit",
                    counts[ClaimStatus.DRAFT],
                    f"{routes.CLAIMS}?status={ClaimStatus.DRAFT}",
                    "attention-claims-draft",
                ),
                _attention(
                    "Claims awaiting the payer",
                    counts[ClaimStatus.SUBMITTED],
                    f"{routes.CLAIMS}?status={ClaimStatus.SUBMITTED}",
                    "attention-claims-submitted",
                ),
                _attention(
                    "Approved claims not yet paid",
                    counts[ClaimStatus.APPROVED] + counts[ClaimStatus.PARTIALLY_APPROVED],
                    routes.CLAIMS,
                    "attention-claims-approved",
                ),
            ]
        if role_has(ctx.role, "feedback.view") and self._current_branch_id():
            try:
                alerts_open = await transact(ctx, open_feedback_alerts, self._current_branch_id())
            except PharmacyError:
                alerts_open = 0  # a manager's shell may list a branch that is not theirs: no card for it
            items.append(
                _attention(
                    "Very negative customer feedback", alerts_open, routes.FEEDBACK, "attention-feedback",
                    "comments nobody has marked seen",
                )
            )  # fmt: skip
        if overview is not None:
            items.append(
                _attention(
                    "Refunds today",
                    overview.refunds_today_count,
                    routes.REPORTS,
                    "attention-refunds",
                    display_money(overview.refunds_today, overview.currency) if overview.refunds_today_count else "",
                )
            )
        self.attention = items
        self.portal_alert = ""
        if role_has(ctx.role, "portal.alerts"):
            busy = await transact(ctx, volume_alerts)
            if busy:
                self.portal_alert = (
                    f"Your online refill portal had unusually many requests in {len(busy)} hour(s) of the last day. "
                    "Every request is still answered; repeated tries from one address or on one Rx number "
                    "are slowed down automatically."
                )

    def _show_sales(self, overview: SalesOverview | None) -> None:
        if overview is None:
            self.sales, self.chart, self.sales_branch = {}, [], ""
            return

        def money(amount: Decimal) -> str:
            return display_money(amount, overview.currency)

        period = overview.period
        before = [date.fromisoformat(p.label) for p in overview.previous]
        self.sales_branch = overview.branch_name
        self.sales = {
            "today": money(overview.today_sales),
            "today_bills": f"{overview.today_bills} bills so far",
            "weekday": overview.today.strftime("%A"),
            "last_week": money(overview.last_week_to_now),
            "last_week_whole": money(overview.last_week_whole_day),
            "today_change": _change(overview.today_sales, overview.last_week_to_now),
            "today_up": _direction(overview.today_sales, overview.last_week_to_now),
            "period": money(period.gross_sales),
            "previous": money(overview.previous_gross_sales),
            "period_change": _change(period.gross_sales, overview.previous_gross_sales),
            "period_up": _direction(period.gross_sales, overview.previous_gross_sales),
            "period_bills": f"{period.bills} bills",
            "margin": money(period.gross_margin),
            "margin_percent": "" if period.margin_percent is None else f"{period.margin_percent} % of net sales",
            "days": f"{_short(period.start)} – {_short(period.end)}",
            "previous_days": f"{_short(before[0])} – {_short(before[-1])}" if before else "",
        }
        # A chart draws numbers: the floats are only heights; every figure read as text is a Decimal above.
        self.chart = [
            {
                "day": _short(date.fromisoformat(now.label)),
                "last 30 days": float(now.gross_sales),
                "30 days before": float(before.gross_sales),
                "before_day": _short(date.fromisoformat(before.label)),
            }
            for now, before in zip(period.by_day, overview.previous, strict=False)
        ]

    @rx.event
    @guarded("health.view")
    async def refresh_health(self, ctx: TenantContext) -> None:
        report = await run_service(system_health)
        self.services = [{"name": s.name, "ok": s.ok, "detail": s.detail} for s in report.services]
        self.all_healthy = report.ok
