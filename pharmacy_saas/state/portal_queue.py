"""Portal refill requests (/prescriptions/requests): the branch's queue of requests customers made on the
portal, accepted (a fill), denied with a reason, or closed after calling the customer.

Every handler checks its permission on the server; each decision runs in one tenant transaction (`transact`),
which also puts the customer's e-mail on the outbox.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from backend.core.display import display_time
from backend.core.errors import PharmacyError
from backend.core.live import EventKind
from backend.portal import queue
from pharmacy_saas import routes
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from pharmacy_saas.state.live import live_events
from tenants.context import TenantContext

TOLD = {"emailed": "Customer e-mailed", "no_email": "No e-mail on file", "no_consent": "No consent to contact"}


@dataclasses.dataclass
class PortalRow:
    id: str
    prescription_id: str
    rx_number: str
    patient: str
    phone: str
    drug: str
    refills_left: str
    source: str
    branch: str
    note: str
    status: str
    status_label: str
    why_call: str
    age: str
    decided: str
    reason: str
    fill_code: str
    told: str


def _age(moment: datetime) -> str:
    minutes = max(0, int((datetime.now(UTC) - moment).total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


class PortalQueueState(ShellState):
    open_rows: list[PortalRow] = []
    decided_rows: list[PortalRow] = []
    error: str = ""

    @rx.event
    @guarded("portal.queue", page_load=True)
    async def load(self, ctx: TenantContext) -> Any:
        await self._fill_shell(ctx)
        self.error = ""
        await self._reload(ctx)
        return PortalQueueState.watch_live

    # --- live (issue 18 §5): a new portal request elsewhere shows without a reload ---

    @rx.event(background=True)
    @guarded("portal.queue", background=True)
    async def watch_live(self, ctx: TenantContext) -> Any:
        async for event in live_events(self, ctx, {EventKind.REFILL_REQUESTED}, routes.PRESCRIPTION_REQUESTS):
            yield PortalQueueState.live_refresh(event.branch_id)

    @rx.event
    @guarded("portal.queue")
    async def live_refresh(self, ctx: TenantContext, branch_id: str) -> None:
        if branch_id == self._current_branch_id():  # another branch's event: this page shows one branch
            await self._reload(ctx)

    @rx.event
    @guarded("portal.queue")
    async def switch_branch(self, ctx: TenantContext, name: str) -> None:
        if name in {b["name"] for b in self.branches}:
            self.current_branch = name
            await self._reload(ctx)

    def _row(self, r: queue.PortalRequest) -> PortalRow:
        zone = self._time_zone(r.branch_id)
        decided = f"{r.status.label} by {r.decided_by or 'staff'}, {display_time(r.decided_at, zone)}"
        return PortalRow(
            id=r.id,
            prescription_id=r.prescription_id,
            rx_number=r.rx_number,
            patient=r.patient_name,
            phone=r.patient_phone,
            drug=r.drug,
            refills_left=str(r.refills_left),
            source=r.source_label,
            branch=r.branch_name,
            note=r.note,
            status=str(r.status),
            status_label=r.status.label,
            why_call=r.why_call,
            age=_age(r.created_at),
            decided=decided if r.decided_at else "",
            reason=r.decision_reason,
            fill_code=r.fill_code,
            told=TOLD.get(r.customer_told, ""),
        )

    async def _reload(self, ctx: TenantContext) -> None:
        branch = self._current_branch_id()
        self.open_rows, self.decided_rows = [], []
        if not branch:
            return
        try:
            found = await transact(ctx, queue.portal_queue, branch)
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.open_rows = [self._row(r) for r in found.open]
        self.decided_rows = [self._row(r) for r in found.decided]

    async def _decide(self, ctx: TenantContext, fn: Any, *args: Any) -> Any:
        try:
            done = await transact(ctx, fn, *args)
        except PharmacyError as exc:
            self.error = exc.message
            return rx.toast.error(exc.message)
        self.error = ""
        await self._reload(ctx)
        return rx.toast.success(done.message)

    @rx.event
    @guarded("portal.queue")
    async def accept(self, ctx: TenantContext, request_id: str) -> Any:
        return await self._decide(ctx, queue.accept_request, request_id)

    @rx.event
    @guarded("portal.queue")
    async def deny(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        return await self._decide(ctx, queue.deny_request, str(form.get("request_id", "")), form.get("reason", ""))

    @rx.event
    @guarded("portal.queue")
    async def close_after_call(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        return await self._decide(ctx, queue.close_after_call, str(form.get("request_id", "")), form.get("note", ""))
