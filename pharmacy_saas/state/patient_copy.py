"""A patient's own copy on the record page (/patients/record, owners): record a request, produce the copy
(the PDF and the JSON file download at once), and record how it was delivered.

The service records and logs everything; this state only shows the requests and passes the forms on.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.patient_copy.service import CopyRequest, copy_requests, produce_copy, record_delivery, record_request
from backend.patient_copy.statuses import CopyStatus
from pharmacy_saas.state.base import SessionState, guarded, transact
from tenants.context import TenantContext
from tenants.roles import role_has


@dataclasses.dataclass
class CopyRequestRow:
    id: str
    asked: str  # "2026-12-01, the patient"
    due_on: str
    status: str
    produced: str
    delivered: str  # "Posted 2026-12-03 14:02 UTC by Olivia Owner: tracked"
    overdue: bool
    can_deliver: bool


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if moment else ""


def _row(request: CopyRequest, today: Any) -> CopyRequestRow:
    delivered = ""
    if request.delivery_method is not None:
        delivered = f"{request.delivery_method.label} {_when(request.delivered_at)} by {request.delivered_by}"
        if request.delivery_note:
            delivered += f": {request.delivery_note}"
    produced = f"{_when(request.produced_at)} by {request.produced_by}" if request.produced_at else ""
    return CopyRequestRow(
        id=request.id,
        asked=f"{request.requested_on.isoformat()}, {request.asked_by.label.lower()}",
        due_on=request.due_on.isoformat(),
        status=request.status.label,
        produced=produced,
        delivered=delivered,
        overdue=request.overdue(today),
        can_deliver=request.status == CopyStatus.PRODUCED,
    )


class PatientCopyState(SessionState):
    patient_id: str = ""
    can_copy: bool = False
    requests: list[CopyRequestRow] = []
    error: str = ""
    form_key: int = 0  # bumped after a recorded request or delivery: the forms remount empty

    @rx.event
    @guarded("patients.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        """The section is the owner's: other roles see the record page without it."""
        self.patient_id = self.router.url.query_parameters.get("id", "")
        self.can_copy = role_has(ctx.role, "patients.copy")
        self.requests, self.error = [], ""
        if self.can_copy:
            await self._reload(ctx)

    async def _reload(self, ctx: TenantContext) -> None:
        try:
            found = await transact(ctx, copy_requests, self.patient_id)
        except PharmacyError as exc:
            self.error = exc.message
            return
        today = datetime.now(UTC).date()
        self.requests = [_row(r, today) for r in found]

    @rx.event
    @guarded("patients.copy")
    async def record(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """A request received: the day the patient asked (the 30 days run from it), who asked, a note."""
        try:
            await transact(
                ctx,
                record_request,
                self.patient_id,
                requested_on=str(form.get("requested_on", "")),
                asked_by=str(form.get("asked_by", "")),
                note=str(form.get("note", "")),
            )
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self.form_key += 1
        await self._reload(ctx)
        return rx.toast.success("Request recorded.")

    @rx.event
    @guarded("patients.copy")
    async def produce(self, ctx: TenantContext) -> Any:
        """Make the copy for the oldest open request (or a new one asked today): the PDF and JSON download."""
        try:
            made = await transact(ctx, produce_copy, self.patient_id)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._reload(ctx)
        return [
            rx.download(data=made.pdf, filename=f"{made.file_stem}.pdf", mime_type="application/pdf"),
            rx.download(data=made.json, filename=f"{made.file_stem}.json", mime_type="application/json"),
        ]

    @rx.event
    @guarded("patients.copy")
    async def deliver(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """How a produced copy reached the patient: handed over, e-mailed or posted, with a note."""
        request_id = str(form.get("request_id", ""))
        if request_id not in {r.id for r in self.requests}:  # only a request shown here
            return None
        try:
            await transact(
                ctx, record_delivery, request_id, method=str(form.get("method", "")), note=str(form.get("note", ""))
            )
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self.form_key += 1
        await self._reload(ctx)
        return rx.toast.success("Delivery recorded.")
