"""The recall trace page (/inventory/recall): who received a lot. Opened from a medicine's batch
("Who received this lot", ?batch=) or by typing the lot number from the recall notice (?lot=, with
?medicine= when makers share the number).

Every handler checks `prescriptions.recall_trace` on the server; listing the patients writes each one
to the patient access log in the same transaction (the service does it).

After a trace, "Notify everyone who received this lot" (`prescriptions.recall_notify`, with a confirm step)
starts the lot's one broadcast (backend/prescriptions/recall_broadcast.py); a background poll of its progress
(counts only, nothing logged) hands each change to `refresh_broadcast`, and once every message is settled the
page loads the report (per patient, access-logged like the trace).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import reflex as rx

from backend.core.display import display_date, display_time
from backend.core.errors import PharmacyError
from backend.prescriptions import recall, recall_broadcast
from pharmacy_saas import routes
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext
from tenants.roles import role_has

POLL_SECONDS = 1.0
POLL_LIMIT = 900  # fifteen minutes of polling; then "Refresh" on the page


@dataclasses.dataclass
class RecipientRow:
    patient: str
    born: str
    contact: str
    consent: str
    reference: str
    link: str
    kind: str
    when: str
    quantity: str
    branch: str
    status: str


@dataclasses.dataclass
class OutcomeRow:
    patient: str
    branch: str
    outcome: str  # sent / sending / failed / no contact
    channels: str  # "email e***@example.com: sent; sms: suppressed (No mobile number on file)"


@dataclasses.dataclass
class ProductChoice:
    medicine_id: str
    label: str


class RecallState(ShellState):
    lot: str = ""
    product: str = ""  # the medicine traced, with its maker
    choices: list[ProductChoice] = []  # makers sharing the lot number, when the member must choose
    rows: list[RecipientRow] = []
    patients: int = 0
    traced: bool = False
    error: str = ""
    medicine_id: str = ""
    zone: str = "UTC"
    # the recall broadcast of the traced lot
    can_notify: bool = False
    confirming: bool = False
    broadcast_id: str = ""
    broadcast_note: str = ""
    progress: int = 0
    done: bool = False
    queued: int = 0  # the broadcast's patient messages by status
    sent: int = 0
    refused: int = 0  # failed messages
    suppressed: int = 0
    report: list[OutcomeRow] = []
    reached: int = 0
    failed: int = 0
    no_contact: int = 0

    @rx.event
    @guarded(recall.PERMISSION, page_load=True)
    async def load(self, ctx: TenantContext) -> Any:
        await self._fill_shell(ctx)
        query = self.router.url.query_parameters
        self._clear()
        if batch := query.get("batch", ""):
            await self._show(ctx, recall.trace_batch, batch)
        elif lot := query.get("lot", ""):
            await self._show(ctx, recall.trace_lot, lot, query.get("medicine", "") or None)
        return await self._broadcast_shown(ctx)

    @rx.event
    @guarded(recall.PERMISSION)
    async def search(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        self._clear()
        await self._show(ctx, recall.trace_lot, str(form.get("lot_number", "")), None)
        return await self._broadcast_shown(ctx)

    @rx.event
    @guarded(recall.PERMISSION)
    async def choose(self, ctx: TenantContext, medicine_id: str) -> Any:
        lot = self.lot
        self._clear()
        await self._show(ctx, recall.trace_lot, lot, medicine_id)
        return await self._broadcast_shown(ctx)

    def _clear(self) -> None:
        self.lot, self.product, self.choices, self.rows = "", "", [], []
        self.patients, self.traced, self.error = 0, False, ""
        self.medicine_id, self.confirming, self.broadcast_id, self.broadcast_note = "", False, "", ""
        self.progress, self.done, self.report = 0, False, []
        self.queued = self.sent = self.refused = self.suppressed = 0
        self.reached = self.failed = self.no_contact = 0

    async def _show(self, ctx: TenantContext, service: Any, *args: Any) -> None:
        try:
            found: recall.LotTrace = await transact(ctx, service, *args)
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.lot = found.lot_number
        if found.needs_choice:
            self.choices = [ProductChoice(p.medicine_id, p.label()) for p in found.products]
            return
        if found.product is None:
            self.error = f"No lot {found.lot_number} in your branches."
            return
        self.product, self.traced, self.patients = found.product.label(), True, found.patients
        self.medicine_id = found.product.medicine_id
        self.zone = found.recipients[0].time_zone if found.recipients else "UTC"
        self.can_notify = role_has(ctx.role, recall_broadcast.PERMISSION) and bool(found.recipients)
        self.rows = [_row(r) for r in found.recipients]

    # --- the broadcast ---------------------------------------------------------------------------------

    async def _broadcast_shown(self, ctx: TenantContext) -> Any:
        """After a trace: the lot's broadcast if one was started (its progress, or its report when done)."""
        if not self.traced:
            return None
        found = await transact(ctx, recall_broadcast.broadcast_of, self.lot, self.medicine_id)
        if found is None:
            return None
        return await self._follow(ctx, found.id)

    async def _follow(self, ctx: TenantContext, broadcast_id: str) -> Any:
        self.broadcast_id = broadcast_id
        await self._progress(ctx)
        return None if self.done else RecallState.watch_broadcast(broadcast_id)

    async def _progress(self, ctx: TenantContext) -> None:
        try:
            found = await transact(ctx, recall_broadcast.broadcast_progress, self.broadcast_id)
        except PharmacyError as exc:
            self.error = exc.message
            return
        b = found.broadcast
        self.broadcast_note = (
            f"Started {display_time(b.started_at, self.zone)}" + (f" by {b.started_by}" if b.started_by else "")
            + f" for {b.patients} patient(s); {b.staff_messages} staff e-mail(s)."
        )  # fmt: skip
        self.progress, self.done = found.percent, found.done
        counts = found.counts
        self.queued, self.sent, self.refused = counts["queued"], counts["sent"], counts["failed"]
        self.suppressed = counts["suppressed"]
        if self.done and not self.report:
            await self._report(ctx)

    async def _report(self, ctx: TenantContext) -> None:
        try:
            found = await transact(ctx, recall_broadcast.broadcast_report, self.lot, self.medicine_id)
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.report = [_outcome(p) for p in found.patients]
        self.reached, self.failed, self.no_contact = (
            found.count("sent"),
            found.count("failed"),
            found.count("no contact"),
        )

    @rx.event
    @guarded(recall_broadcast.PERMISSION)
    async def ask_notify(self, ctx: TenantContext) -> None:
        self.confirming, self.error = True, ""

    @rx.event
    @guarded(recall_broadcast.PERMISSION)
    async def cancel_notify(self, ctx: TenantContext) -> None:
        self.confirming = False

    @rx.event
    @guarded(recall_broadcast.PERMISSION)
    async def notify(self, ctx: TenantContext) -> Any:
        """Start the lot's broadcast (or find the one already started: a lot is notified once)."""
        self.confirming = False
        try:
            found = await transact(ctx, recall_broadcast.start_broadcast, self.lot, self.medicine_id)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        follow = await self._follow(ctx, found.id)
        if not found.created:
            self.error = "This lot was already notified: its broadcast is shown below (nobody is notified twice)."
        return follow

    @rx.event(background=True)
    @guarded(recall.PERMISSION, background=True)
    async def watch_broadcast(self, ctx: TenantContext, broadcast_id: str) -> Any:
        """Poll the broadcast's counts (nothing about a patient, nothing logged) and hand each change to
        `refresh_broadcast`, a normal event (a background task writing state could undo other changes)."""
        last = None
        for _ in range(POLL_LIMIT):
            await asyncio.sleep(POLL_SECONDS)
            found = await transact(ctx, recall_broadcast.broadcast_progress, broadcast_id)
            seen = (found.percent, tuple(sorted(found.counts.items())), found.done)
            if seen != last:
                last = seen
                yield RecallState.refresh_broadcast(broadcast_id)
            if found.done:
                return

    @rx.event
    @guarded(recall.PERMISSION)
    async def refresh_broadcast(self, ctx: TenantContext, broadcast_id: str) -> None:
        if broadcast_id != self.broadcast_id:
            return  # the page moved on to another lot
        await self._progress(ctx)


def _outcome(p: recall_broadcast.PatientOutcome) -> OutcomeRow:
    channels = "; ".join(
        f"{c.channel} {c.recipient}: {c.status}".replace("  ", " ") + (f" ({c.reason})" if c.reason else "")
        for c in p.channels
    )
    return OutcomeRow(p.patient_name, p.branch, p.outcome, channels or "not written yet")


def _row(r: recall.Recipient) -> RecipientRow:
    fill = r.kind == "fill"
    return RecipientRow(
        patient=r.patient_name,
        born=display_date(r.date_of_birth),
        contact=r.contact,
        consent="yes" if r.contact_consent else "no",
        reference=r.reference,
        link=f"{routes.PRESCRIPTION}?id={r.record_id}" if fill else f"{routes.BILL_VIEW}?id={r.record_id}",
        kind="Fill" if fill else "Counter sale",
        when=display_time(r.received_at, r.time_zone),
        quantity=str(r.quantity),
        branch=r.branch,
        status=r.status,
    )
