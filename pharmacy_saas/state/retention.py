"""/settings/retention (owner): the chain's retention periods, legal holds, the batch the review listed for
disposal with the owner's signed approval, and the disposals done.

Every handler checks its permission on the server and runs the service in one tenant transaction
(`transact`); approving signs first with the password (`sign`), then hands the signature to the service,
which accepts only the owner's own fresh signature of that batch.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.display import display_time
from backend.core.errors import PharmacyError
from backend.patients.service import SEARCH_HINT, find_patients
from backend.retention import service as retention
from backend.retention.statuses import RecordKind
from pharmacy_saas.state.base import guarded, sign_with_password, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext


def _period_rows(settings: retention.RetentionSettings) -> list[dict[str, str]]:
    rows = []
    for kind in RecordKind:
        minimum, rule = retention.FEDERAL_MINIMUM_YEARS[kind]
        rows.append(
            {
                "name": kind.value,
                "label": kind.label,
                "years": str(settings.of(kind)),
                "hint": f"Default {retention.DEFAULT_YEARS[kind]} years. Federal minimum {minimum} years: {rule}.",
            }
        )
    return rows


class RetentionState(ShellState):
    """The owner's records-retention page."""

    error: str = ""
    periods: list[dict[str, str]] = []
    periods_note: str = ""
    form_key: int = 0  # forms are emptied after they succeed; after a refusal what was typed stays
    # legal holds
    holds: list[dict[str, str]] = []
    candidates: list[dict[str, str]] = []
    hold_patient_id: str = ""
    hold_patient_name: str = ""
    # the batch waiting for the owner, and the history
    batch_id: str = ""
    batch_title: str = ""
    batch_items: list[dict[str, str]] = []
    batch_more: str = ""
    signature_meaning: str = ""
    history: list[dict[str, str]] = []

    def _zone(self) -> str:
        branch = next((b["id"] for b in self.branches if b["name"] == self.current_branch), "")
        return self._time_zone(branch)

    @rx.event
    @guarded("retention.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.error, self.candidates, self.hold_patient_id, self.hold_patient_name = "", [], "", ""
        await self._reload(ctx)

    async def _reload(self, ctx: TenantContext) -> None:
        settings = await transact(ctx, retention.get_retention_settings)
        self.periods = _period_rows(settings)
        zone = self._zone()
        self.periods_note = (
            f"Changed {display_time(settings.updated_at, zone)}." if settings.updated_at else "The defaults apply."
        )
        self.form_key += 1
        holds = await transact(ctx, retention.list_holds)
        self.holds = [
            {
                "id": h.id,
                "scope": h.patient_name if h.patient_id else "The whole chain",
                "reason": h.reason,
                "placed": f"{h.placed_by or 'staff'}, {display_time(h.placed_at, zone)}",
                "status": "In force"
                if h.active
                else f"Released by {h.released_by or 'staff'}, {display_time(h.released_at, zone)}: {h.release_reason}",
                "active": "yes" if h.active else "",
            }
            for h in holds
        ]
        await self._load_batch(ctx)

    async def _load_batch(self, ctx: TenantContext) -> None:
        zone = self._zone()
        batch = await transact(ctx, retention.waiting_batch)
        if batch is None:
            self.batch_id, self.batch_title, self.batch_more, self.signature_meaning = "", "", "", ""
            self.batch_items = []
        else:
            self.batch_id = batch.id
            self.batch_title = (
                f"{retention.patients_text(batch.item_count)} due for disposal on {batch.as_of.isoformat()} "
                f"(listed by {batch.created_by}, {display_time(batch.created_at, zone)})"
            )
            self.batch_items = [
                {"name": i.patient_name, "due_on": i.due_on.isoformat(), "basis": i.basis} for i in batch.items
            ]
            hidden = batch.item_count - len(batch.items)
            self.batch_more = f"and {hidden} more" if hidden > 0 else ""
            self.signature_meaning = retention.signature_meaning(batch)
        self.history = [
            {
                "approved": f"{b.approved_by}, {display_time(b.approved_at, zone)}" if b.approved_at else "",
                "as_of": b.as_of.isoformat(),
                "listed": str(b.item_count),
                "disposed": str(b.disposed),
            }
            for b in await transact(ctx, retention.disposal_history)
        ]

    async def _act(self, ctx: TenantContext, done: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one change; a refusal is shown and what was typed stays, success reloads the page."""
        try:
            await transact(ctx, fn, *args, **kwargs)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._reload(ctx)
        return rx.toast.success(done)

    @rx.event
    @guarded("retention.manage")
    async def save_periods(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        years = {k.value: str(form.get(k.value, "")) for k in RecordKind}
        return await self._act(ctx, "Retention periods saved.", retention.update_retention_settings, **years)

    # --- legal holds ------------------------------------------------------------------------------

    @rx.event
    @guarded("retention.hold")
    async def find_patient(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        try:
            found = await transact(ctx, find_patients, str(form.get("q", "")))
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.error = "" if found.items else f"No patient matches. {SEARCH_HINT}"
        self.candidates = [
            {"id": p.id, "name": p.full_name, "born": p.date_of_birth.isoformat()} for p in found.items[:10]
        ]

    @rx.event
    @guarded("retention.hold")
    async def choose_patient(self, ctx: TenantContext, patient_id: str) -> None:
        chosen = next((c for c in self.candidates if c["id"] == patient_id), None)
        if chosen is not None:
            self.hold_patient_id, self.hold_patient_name = chosen["id"], f"{chosen['name']} ({chosen['born']})"
            self.candidates = []

    @rx.event
    @guarded("retention.hold")
    async def place_hold(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        whole_chain = bool(form.get("whole_chain"))
        if not whole_chain and not self.hold_patient_id:
            self.error = "Find and choose the patient, or tick “The whole chain”."
            return None
        done = await self._act(
            ctx,
            "Legal hold placed.",
            retention.place_hold,
            reason=str(form.get("reason", "")),
            patient_id=None if whole_chain else self.hold_patient_id,
        )
        if done is not None:
            self.hold_patient_id, self.hold_patient_name = "", ""
        return done

    @rx.event
    @guarded("retention.hold")
    async def release_hold(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        return await self._act(
            ctx,
            "Legal hold released.",
            retention.release_hold,
            str(form.get("hold_id", "")),
            reason=str(form.get("release_reason", "")),
        )

    # --- review and disposal ---------------------------------------------------------------------

    @rx.event
    @guarded("retention.review")
    async def run_review(self, ctx: TenantContext) -> Any:
        return await self._act(ctx, "Review done: the batch below awaits your approval.", retention.review_disposals)

    @rx.event
    @guarded("retention.dispose")
    async def approve(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Sign with the password, then approve: a wrong password disposes of nothing."""
        try:
            signature = await sign_with_password(
                ctx, form, meaning=self.signature_meaning, entity_type="disposal_batch", entity_id=self.batch_id
            )
            done = await transact(ctx, retention.approve_disposal, self.batch_id, signature_id=signature)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._reload(ctx)
        return rx.toast.success(f"Disposed of the records of {retention.patients_text(done.disposed)}.")
