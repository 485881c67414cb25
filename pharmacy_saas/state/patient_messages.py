"""Patient messages, the minimum necessary (issue 16): the owner's per-kind setting (Settings > Patient
messages) and a patient's consent to detailed messages (a card on the patient's record)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.notifications.disclosure import CONSENT_CHANNELS, disclosure_settings, set_disclosure
from backend.notifications.optout import CHANNEL_WORDS
from backend.patients.contact_preferences import message_optouts
from backend.patients.message_consent import (
    MessageConsent,
    message_consent,
    record_message_consent,
    withdraw_message_consent,
)
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext
from tenants.roles import role_has

# (value, label) of how a patient gives or withdraws consent, for the select.
CHANNEL_CHOICES = list(CONSENT_CHANNELS.items())


@dataclasses.dataclass
class KindRow:
    kind: str
    label: str
    allowed: bool
    example: str


@dataclasses.dataclass
class ConsentRow:
    recorded: str
    how: str
    by: str
    withdrawn: str  # "" while in force


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if moment else ""


class PatientMessagesState(ShellState):
    """Settings > Patient messages: which kinds of message may name the medicine (owner only)."""

    kinds: list[KindRow] = []

    async def _reload(self, ctx: TenantContext) -> None:
        self.kinds = [
            KindRow(s.kind.value, s.label, s.allow_medicine, s.example)
            for s in await transact(ctx, disclosure_settings)
        ]

    @rx.event
    @guarded("messages.disclosure", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        await self._reload(ctx)

    @rx.event
    @guarded("messages.disclosure")
    async def set_allowed(self, ctx: TenantContext, kind: str, allowed: bool) -> Any:
        try:
            changed = await transact(ctx, set_disclosure, kind, bool(allowed))
        except PharmacyError as exc:
            return rx.toast.error(exc.message)
        await self._reload(ctx)
        if changed.allow_medicine:
            return rx.toast.success(
                f"{changed.label}: the medicine is named for patients who consented to detailed messages."
            )
        return rx.toast.success(f"{changed.label}: messages name no medicine.")


class MessageConsentState(ShellState):
    """The 'Detailed messages' card on a patient's record: consent recorded or withdrawn, and its history."""

    consent_patient_id: str = ""
    consented: bool = False
    consent_rows: list[ConsentRow] = []
    can_record_consent: bool = False
    consent_error: str = ""
    optouts: list[str] = []  # "Opted out of e-mail messages on ..." (issue 18 §2, the link in a message)

    def _show_consent(self, found: MessageConsent) -> None:
        self.consented = found.consented
        self.consent_rows = [
            ConsentRow(
                _when(r.recorded_at),
                CONSENT_CHANNELS.get(r.channel, r.channel),
                r.recorded_by,
                f"{_when(r.withdrawn_at)} ({CONSENT_CHANNELS.get(r.withdrawn_channel, '')}, {r.withdrawn_by})"
                if r.withdrawn_at
                else "",
            )
            for r in found.history
        ]

    @rx.event
    @guarded("patients.view")
    async def load_consent(self, ctx: TenantContext) -> None:
        """On the record's card mounting: the patient is the page's (the service checks the scope)."""
        self.consent_patient_id = self.router.url.query_parameters.get("id", "")
        self.can_record_consent = role_has(ctx.role, "patients.edit")
        self.consent_error = ""
        try:
            self._show_consent(await transact(ctx, message_consent, self.consent_patient_id))
            self.optouts = [
                f"Opted out of {CHANNEL_WORDS[channel]} messages on {_when(at)} (the link in a message)"
                for channel, at in await transact(ctx, message_optouts, self.consent_patient_id)
            ]
        except PharmacyError as exc:
            self.consent_error = exc.message

    @rx.event
    @guarded("patients.edit")
    async def change_consent(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Record the patient's consent, or its withdrawal, with how the patient said so."""
        change = withdraw_message_consent if self.consented else record_message_consent
        try:
            found = await transact(ctx, change, self.consent_patient_id, str(form.get("channel", "")))
        except PharmacyError as exc:
            self.consent_error = exc.message
            return None
        self.consent_error = ""
        self._show_consent(found)
        if found.consented:
            return rx.toast.success("Consent to detailed messages recorded.")
        return rx.toast.success("Consent withdrawn: messages name no medicine.")
