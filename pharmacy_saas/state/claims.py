"""The claims page: claims filtered by status and payer, one claim's history and next step, reconciliation."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import reflex as rx

from backend.billing.claims import service as claims
from backend.billing.statuses import ClaimStatus
from backend.core.errors import PharmacyError
from pharmacy_saas.state.base import guarded, run_service, transact
from pharmacy_saas.state.dashboard import ShellState
from pharmacy_saas.state.display import display_money, display_status, display_time
from tenants.context import TenantContext
from tenants.roles import role_has

ALL = "all"
STATUS_LABELS = {s.value: display_status(s) for s in ClaimStatus}
DECISIONS = tuple(d.value for d in ClaimStatus.decisions())
REJECTION_REASON_HINT = (
    f"Reason if rejected ({claims.MIN_REJECTION_REASON} to {claims.MAX_REJECTION_REASON} characters)"
)


def _money(amount: Decimal | None, currency: str) -> str:
    return display_money(amount, currency)


@dataclasses.dataclass
class ClaimRow:
    id: str
    bill_number: str
    patient_name: str
    payer_name: str
    status: str
    claimed: str
    copay: str
    approved: str
    paid: str
    created: str


@dataclasses.dataclass
class PayerRow:
    name: str
    code: str
    contact: str


@dataclasses.dataclass
class EventRow:
    when: str
    change: str
    amount: str
    note: str


@dataclasses.dataclass
class ReconRow:
    payer: str
    claims: int
    claimed: str
    awaiting: str
    approved: str
    received: str
    outstanding: str
    rejected: int


@dataclasses.dataclass
class ProblemRow:
    row: int
    column: str
    reason: str


def _row(claim: claims.Claim, time_zone: str) -> ClaimRow:
    c = claim.currency
    return ClaimRow(
        claim.id,
        claim.bill_number,
        claim.patient_name,
        claim.payer_name,
        STATUS_LABELS[claim.status],
        _money(claim.claimed_amount, c),
        _money(claim.copay, c),
        _money(claim.approved_amount, c),
        _money(claim.paid_amount, c),
        display_time(claim.created_at, time_zone),
    )


def _recon_row(row: claims.PayerReconciliation, c: str) -> ReconRow:
    return ReconRow(
        row.payer_name,
        row.claims,
        _money(row.claimed, c),
        _money(row.awaiting_decision, c),
        _money(row.approved, c),
        _money(row.received, c),
        _money(row.outstanding, c),
        row.rejected,
    )


class ClaimsState(ShellState):
    status_filter: str = ALL
    payer_filter: str = ALL  # a payer's name, or ALL
    payer_names: list[str] = []
    payers: list[PayerRow] = []
    payer_error: str = ""
    payer_form_key: int = 0  # bumped after an added payer: the form remounts empty
    rows: list[ClaimRow] = []
    has_more: bool = False
    can_manage: bool = False
    error: str = ""
    # the open claim
    open_id: str = ""
    open_title: str = ""
    open_status: str = ""
    open_detail: str = ""
    events: list[EventRow] = []
    # reconciliation
    recon_start: str = ""
    recon_end: str = ""
    recon_rows: list[ReconRow] = []
    recon_total: list[ReconRow] = []
    # the last response import
    import_summary: str = ""
    import_problems: list[ProblemRow] = []
    _payer_ids: dict[str, str] = {}

    @rx.var
    def open_step(self) -> str:
        """The step the open claim's status allows next ("submit", "decide" or "pay"), or ""."""
        return next((step for step, (allowed, _) in claims.TRANSITIONS.items() if self.open_status in allowed), "")

    @rx.var
    def status_options(self) -> list[str]:
        return [ALL, *STATUS_LABELS]

    @rx.var
    def payer_options(self) -> list[str]:
        return [ALL, *self.payer_names]

    @rx.event
    @guarded("billing.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        """on_load: the newest claims, and this month's reconciliation (UTC days)."""
        await self._fill_shell(ctx)
        self.can_manage = role_has(ctx.role, "claims.manage")
        await self._list_payers(ctx)
        self.payer_error = ""
        today = datetime.now(UTC).date()
        self.recon_start, self.recon_end = today.replace(day=1).isoformat(), today.isoformat()
        self.open_id = ""
        wanted = self.router.url.query_parameters.get("status", "")  # the dashboard links to one status
        if wanted in STATUS_LABELS:
            self.status_filter = wanted
        await self._list(ctx)
        await self._reconcile(ctx)

    @rx.event
    @guarded("billing.view")
    async def filter_status(self, ctx: TenantContext, value: str) -> None:
        self.status_filter = value if value in STATUS_LABELS else ALL
        await self._list(ctx)

    @rx.event
    @guarded("billing.view")
    async def filter_payer(self, ctx: TenantContext, value: str) -> None:
        self.payer_filter = value if value in self._payer_ids else ALL
        await self._list(ctx)

    @rx.event
    @guarded("billing.view")
    async def open_claim(self, ctx: TenantContext, claim_id: str) -> None:
        await self._open(ctx, claim_id)

    @rx.event
    @guarded("claims.manage")
    async def submit(self, ctx: TenantContext) -> Any:
        return await self._step(ctx, claims.submit_claim, self.open_id)

    @rx.event
    @guarded("claims.manage")
    async def decide(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """The decision form: approved, partially_approved with the amount, or rejected with the reason."""
        return await self._step(
            ctx,
            claims.record_decision,
            self.open_id,
            str(form.get("decision", "")),
            approved_amount=str(form.get("approved_amount", "")),
            reason=str(form.get("reason", "")),
        )

    @rx.event
    @guarded("claims.manage")
    async def record_payment(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        return await self._step(ctx, claims.record_claim_payment, self.open_id, str(form.get("paid_amount", "")))

    @rx.event
    @guarded("claims.manage")
    async def add_payer(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """The payer form: name, payer code (unique in the chain) and contact."""
        try:
            payer = await transact(
                ctx,
                claims.create_payer,
                name=str(form.get("name", "")),
                payer_code=str(form.get("payer_code", "")),
                contact=str(form.get("contact", "")),
            )
        except PharmacyError as exc:
            self.payer_error = exc.message
            return None
        self.payer_error = ""
        self.payer_form_key += 1
        await self._list_payers(ctx)
        return rx.toast.success(f"Payer {payer.name} added.")

    @rx.event
    @guarded("billing.view")
    async def reconcile(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        self.recon_start = str(form.get("start", ""))[:10]
        self.recon_end = str(form.get("end", ""))[:10]
        await self._reconcile(ctx)

    @rx.event
    @guarded("claims.manage")
    async def export_shown(self, ctx: TenantContext) -> Any:
        """Download the claims on screen as the payer CSV (docs/claims-export.md)."""
        if not self.rows:
            return rx.toast.error("No claims to export.")
        try:
            body = await transact(ctx, claims.export_claims_csv, [r.id for r in self.rows])
        except PharmacyError as exc:
            return rx.toast.error(exc.message)
        return rx.download(data=body, filename="claims.csv", mime_type="text/csv")

    @rx.event
    @guarded("claims.manage")
    async def import_responses(self, ctx: TenantContext, files: list[rx.UploadFile]) -> None:
        """Apply a response CSV: the good rows apply, the others are listed with their row number."""
        if not files:
            self.import_summary, self.import_problems = "Choose a CSV file first.", []
            return
        content = await files[0].read(claims.MAX_IMPORT_BYTES + 1)
        try:
            report = await transact(ctx, claims.import_responses_csv, content)
        except PharmacyError as exc:
            self.import_summary, self.import_problems = exc.message, []
            return
        self.import_summary = f"{report.applied} of {report.rows} rows applied."
        self.import_problems = [ProblemRow(p.row, p.column, p.reason) for p in report.problems]
        await self._list(ctx)

    # --- helpers ----------------------------------------------------------------------------------

    async def _list_payers(self, ctx: TenantContext) -> None:
        payers = await run_service(claims.list_payers, ctx)
        self._payer_ids = {p.name: p.id for p in payers}
        self.payer_names = list(self._payer_ids)
        self.payers = [PayerRow(p.name, p.payer_code, p.contact) for p in payers]

    async def _list(self, ctx: TenantContext) -> None:
        try:
            page = await transact(
                ctx,
                claims.list_claims,
                status=None if self.status_filter == ALL else self.status_filter,
                payer_id=self._payer_ids.get(self.payer_filter),
            )
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.error = ""
        self.rows = [_row(c, self._time_zone(c.branch_id)) for c in page.items]
        self.has_more = page.has_more

    async def _open(self, ctx: TenantContext, claim_id: str) -> None:
        try:
            claim = await transact(ctx, claims.get_claim, claim_id)
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.open_id, self.open_status = claim.id, str(claim.status)
        self.open_title = f"Bill {claim.bill_number} · {claim.patient_name} · {claim.payer_name}"
        parts = [
            f"member {claim.member_id}",
            f"claimed {_money(claim.claimed_amount, claim.currency)}",
            f"copay {_money(claim.copay, claim.currency)}",
        ]
        if claim.approved_amount is not None:
            parts.append(f"approved {_money(claim.approved_amount, claim.currency)}")
        if claim.paid_amount is not None:
            parts.append(f"paid {_money(claim.paid_amount, claim.currency)}")
        if claim.rejection_reason:
            parts.append(f"rejected: {claim.rejection_reason}")
        self.open_detail = " · ".join(parts)
        self.events = [
            EventRow(
                display_time(e.created_at, self._time_zone(claim.branch_id)),
                f"{STATUS_LABELS.get(e.from_status or '', 'new')} → {STATUS_LABELS[e.to_status]}",
                _money(e.amount, claim.currency),
                e.note,
            )
            for e in claim.events
        ]

    async def _step(self, ctx: TenantContext, action: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            claim = await transact(ctx, action, *args, **kwargs)
        except PharmacyError as exc:
            return rx.toast.error(exc.message)
        await self._open(ctx, claim.id)
        await self._list(ctx)
        return rx.toast.success(f"The claim is {STATUS_LABELS[claim.status]}.")

    async def _reconcile(self, ctx: TenantContext) -> None:
        try:
            start, end = date.fromisoformat(self.recon_start), date.fromisoformat(self.recon_end)
        except ValueError:
            self.error = "Pick the first and last day (YYYY-MM-DD)."
            return
        try:
            report = await transact(ctx, claims.reconciliation, start, end)
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.recon_rows = [_recon_row(p, report.currency) for p in report.payers]
        self.recon_total = [_recon_row(report.total, report.currency)]
