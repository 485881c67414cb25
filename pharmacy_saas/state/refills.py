"""Refills and transfers on the prescription page (/prescriptions/rx?id=): refills left and the next refill
date, the refill request (staff or the patient's call), auto-refill, the renewal requests with the
prescriber's answer recorded by a pharmacist, and the pharmacist's transfer to another branch or pharmacy
with the transfers recorded.

Every handler checks its permission on the server; the service runs in one tenant transaction (`transact`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from backend.core.display import display_date, display_time
from backend.core.errors import PharmacyError
from backend.prescriptions import fills, refills, renewals, transfers
from backend.prescriptions.enums import RefillSource, RenewalStatus
from pharmacy_saas.state.base import SessionState, guarded, transact
from pharmacy_saas.state.fills import FillState
from pharmacy_saas.state.prescriptions import RxState
from tenants.context import TenantContext
from tenants.roles import role_has

TRANSFER_FIELDS = (
    "pharmacy_name",
    "pharmacy_address",
    "pharmacy_phone",
    "pharmacy_npi",
    "pharmacy_dea",
    "other_pharmacist",
)


@dataclasses.dataclass
class RenewalRow:
    when: str
    reason: str
    status: str
    who: str
    answer: str  # "Renewed as RX-..." or the prescriber's reason for a denial
    renewed_as: str  # the new prescription's id, for its link


@dataclasses.dataclass
class TransferRow:
    when: str
    kind: str
    where: str
    pharmacists: str
    refills: str


def _renewal_row(n: refills.Renewal, zone: str) -> RenewalRow:
    if n.status is RenewalStatus.APPROVED:
        answer = f"Renewed as {n.renewed_as_rx} ({n.answered_by})"
    elif n.status is RenewalStatus.DENIED:
        answer = f"Denied: {n.answer_reason} ({n.answered_by})"
    else:
        answer = "Waiting for the prescriber"
    return RenewalRow(
        display_time(n.requested_at, zone), n.reason, n.status.value, n.requested_by, answer, n.renewed_as or ""
    )


class RefillState(SessionState):
    """The refill and transfer side of one prescription; RxState holds the prescription itself."""

    refill_rx_id: str = ""
    can_refill: bool = False
    can_auto: bool = False
    can_transfer: bool = False
    can_renew: bool = False
    open_renewal_id: str = ""  # the renewal request waiting for the prescriber's answer
    renewal_error: str = ""
    refills_left: str = ""
    next_refill: str = ""
    auto_refill: bool = False
    requestable: bool = False
    renewals: list[RenewalRow] = []
    transfers: list[TransferRow] = []
    branch_choices: list[list[str]] = []
    refill_error: str = ""
    refill_note: str = ""
    transfer_error: str = ""
    transfer_form_key: int = 0

    @rx.event
    @guarded("prescriptions.view")
    async def load(self, ctx: TenantContext) -> None:
        self.refill_rx_id = self.router.url.query_parameters.get("id", "")
        self.can_refill = role_has(ctx.role, "prescriptions.refill")
        self.can_auto = role_has(ctx.role, "prescriptions.enter")
        self.can_transfer = role_has(ctx.role, "prescriptions.transfer")
        self.can_renew = role_has(ctx.role, "prescriptions.renew")
        self.refill_error, self.refill_note, self.transfer_error, self.renewal_error = "", "", "", ""
        await self._reload(ctx)

    async def _reload(self, ctx: TenantContext) -> None:
        self.refills_left, self.next_refill, self.renewals, self.transfers = "", "", [], []
        self.open_renewal_id = ""
        if not self.refill_rx_id:
            return
        try:
            status = await transact(ctx, refills.refill_status, self.refill_rx_id)
            moved = await transact(ctx, transfers.transfers_of, self.refill_rx_id)
            zone = await transact(ctx, fills.branch_zone, self.refill_rx_id)
            choices = await transact(ctx, transfers.branch_choices, self.refill_rx_id) if self.can_transfer else []
        except PharmacyError:
            return  # the prescription itself says what is wrong (RxState shows it)
        self.refills_left = f"{status.refills_remaining} of {status.refills_authorized}"
        self.next_refill = display_date(status.next_refill_on) if status.next_refill_on else ""
        self.auto_refill, self.requestable = status.auto_refill, status.requestable
        self.renewals = [_renewal_row(n, zone) for n in status.renewals]
        self.open_renewal_id = next((n.id for n in status.renewals if n.status is RenewalStatus.REQUESTED), "")
        self.transfers = [
            TransferRow(
                display_date(t.transferred_on),
                t.kind.label,
                f"{t.from_branch} → {t.to_branch}" if t.from_branch and t.to_branch else t.pharmacy_name,
                t.pharmacist_name + (f" / {t.other_pharmacist}" if t.other_pharmacist else ""),
                str(t.refills_transferred),
            )
            for t in moved
        ]
        self.branch_choices = [[key, name] for key, name in choices]

    @rx.event
    @guarded("prescriptions.refill")
    async def request_refill(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """A refill from the prescription page: the pharmacy's own, or the patient's call taken by staff."""
        source = str(form.get("source", RefillSource.STAFF))
        try:
            outcome = await transact(
                ctx, refills.request_refill, self.refill_rx_id, source, partial=bool(form.get("partial"))
            )
        except PharmacyError as exc:
            self.refill_error, self.refill_note = exc.message, ""
            return None
        self.refill_error, self.refill_note = "", outcome.message
        await self._reload(ctx)
        toast = rx.toast.success(outcome.message) if outcome.fill else rx.toast.warning(outcome.message)
        return [toast, RxState.load, FillState.load]

    @rx.event
    @guarded("prescriptions.enter")
    async def set_auto_refill(self, ctx: TenantContext, enabled: bool) -> Any:
        try:
            await transact(ctx, refills.set_auto_refill, self.refill_rx_id, bool(enabled))
        except PharmacyError as exc:
            self.refill_error = exc.message
            return None
        self.refill_error = ""
        await self._reload(ctx)
        return rx.toast.success("Auto-refill on." if enabled else "Auto-refill off.")

    @rx.event
    @guarded("prescriptions.renew")
    async def answer_renewal(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """The prescriber's answer, taken by the pharmacist: approved (a new prescription goes to
        verification) or denied with the prescriber's reason."""
        try:
            done = await transact(
                ctx,
                renewals.answer_renewal,
                self.open_renewal_id,
                str(form.get("decision", "")),
                reason=str(form.get("reason", "")),
                quantity=str(form.get("quantity", "")),
                refills=str(form.get("refills", "")),
                source=str(form.get("source", "")),
            )
        except PharmacyError as exc:
            self.renewal_error = exc.message
            return None
        self.renewal_error = ""
        await self._reload(ctx)
        if done.status is RenewalStatus.APPROVED:
            return [rx.toast.success(f"Renewed as {done.renewed_as_rx}: it waits for verification."), RxState.load]
        return [rx.toast.warning("The prescriber denied the renewal."), RxState.load]

    @rx.event
    @guarded("prescriptions.transfer")
    async def transfer_to_branch(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        try:
            done = await transact(ctx, transfers.transfer_to_branch, self.refill_rx_id, str(form.get("branch_id", "")))
        except PharmacyError as exc:
            self.transfer_error = exc.message
            return None
        return await self._transferred(ctx, f"Moved to {done.to_branch}.")

    @rx.event
    @guarded("prescriptions.transfer")
    async def transfer_out(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        typed = {name: str(form.get(name, "")) for name in TRANSFER_FIELDS}
        try:
            done = await transact(ctx, transfers.transfer_out, self.refill_rx_id, **typed)
        except PharmacyError as exc:
            self.transfer_error = exc.message
            return None
        return await self._transferred(ctx, f"Transferred to {done.pharmacy_name}.")

    async def _transferred(self, ctx: TenantContext, said: str) -> Any:
        self.transfer_error = ""
        self.transfer_form_key += 1
        await self._reload(ctx)
        return [rx.toast.success(said), RxState.load, FillState.load]
