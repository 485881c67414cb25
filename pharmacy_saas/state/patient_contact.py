"""The 'How we contact them' card of a patient's record: the channel the patient chose (e-mail or text
message) for their messages, and whether they want refill reminders (issue 18: messages go on the channels
patients chose). Staff record it at the counter; the customer can change it in the portal."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.patients.contact_preferences import MessagePreferences, message_preferences, set_message_preferences
from backend.patients.customer import REMINDER_CHANNELS
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext
from tenants.roles import role_has

CHANNEL_CHOICES = list(REMINDER_CHANNELS.items())  # (value, label): e-mail or text message


class PatientContactState(ShellState):
    contact_patient_id: str = ""
    contact_channel: str = "email"
    refill_reminders: bool = False
    can_change_contact: bool = False
    contact_error: str = ""

    def _show_preferences(self, found: MessagePreferences) -> None:
        self.contact_channel = found.channel
        self.refill_reminders = found.refill_reminders

    @rx.event
    @guarded("patients.view")
    async def load_contact(self, ctx: TenantContext) -> None:
        """On the card mounting: the patient is the page's (the service checks the member's scope)."""
        self.contact_patient_id = self.router.url.query_parameters.get("id", "")
        self.can_change_contact = role_has(ctx.role, "patients.edit")
        self.contact_error = ""
        try:
            self._show_preferences(await transact(ctx, message_preferences, self.contact_patient_id))
        except PharmacyError as exc:
            self.contact_error = exc.message

    @rx.event
    @guarded("patients.edit")
    async def choose_channel(self, ctx: TenantContext, channel: str) -> None:
        self.contact_channel = channel  # shown until saved; the service checks the value

    @rx.event
    @guarded("patients.edit")
    async def choose_reminders(self, ctx: TenantContext, wanted: bool) -> None:
        self.refill_reminders = bool(wanted)

    @rx.event
    @guarded("patients.edit")
    async def save_contact(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        try:
            found = await transact(
                ctx, set_message_preferences, self.contact_patient_id,
                channel=str(form.get("channel", "") or self.contact_channel), refill_reminders=self.refill_reminders,
            )  # fmt: skip
        except PharmacyError as exc:
            self.contact_error = exc.message
            return None
        self.contact_error = ""
        self._show_preferences(found)
        return rx.toast.success("Saved: how the patient hears from us.")
