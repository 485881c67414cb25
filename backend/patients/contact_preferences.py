"""How a patient wants to hear from the pharmacy: the channel (e-mail or text message) and whether they want
refill reminders (issue 18 §2: patients receive only what they consented to, on the channels they chose).

The same two columns the portal customer sets (`backend/patients/customer.py`), set here by staff at the
counter ("text me when it is ready"). Consent to be contacted at all stays on the record itself
(`contact_consent`); a message to a patient who has not given it is suppressed by the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import NotFound, ValidationFailed
from backend.notifications.notify import Channel
from backend.notifications.optout import optouts_of
from backend.patients.allergies import _in_scope
from backend.patients.customer import REMINDER_CHANNELS
from backend.patients.service import _log_access
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require


@dataclass(frozen=True)
class MessagePreferences:
    channel: str  # "email" or "sms"
    refill_reminders: bool


def preferred_channel(value: str | None) -> Channel:
    """The channel a patient chose (e-mail unless they asked for texts)."""
    return Channel.SMS if value == Channel.SMS.value else Channel.EMAIL


def contact_address(person: Any, channel: Channel) -> str:
    """Where a message on `channel` reaches the patient: the mobile number for a text, else the e-mail."""
    return str((person.phone if channel is Channel.SMS else person.email) or "")


def _read(session: Session, key: object) -> MessagePreferences:
    row = session.execute(
        text("SELECT reminder_channel, refill_reminders FROM patients WHERE id = :p"), {"p": key}
    ).first()
    if row is None:
        raise NotFound("No such patient.")
    return MessagePreferences(row.reminder_channel, bool(row.refill_reminders))


def message_preferences(session: Session, ctx: TenantContext, patient_id: object) -> MessagePreferences:
    require(ctx, "patients.view")
    return _read(session, _in_scope(session, ctx, patient_id))


def set_message_preferences(
    session: Session, ctx: TenantContext, patient_id: object, *, channel: str, refill_reminders: bool
) -> MessagePreferences:
    """Record the patient's choice as staff heard it (audited, in the patient's access log)."""
    require(ctx, "patients.edit")
    if channel not in REMINDER_CHANNELS:
        raise ValidationFailed("Choose e-mail or text message.", field="channel")
    key = _in_scope(session, ctx, patient_id, lock=True)  # NotFound outside the member's branches or chain
    session.execute(
        text("UPDATE patients SET reminder_channel = :c, refill_reminders = :r WHERE id = :p"),
        {"c": channel, "r": bool(refill_reminders), "p": key},
    )
    record_audit(
        session, ctx.tenant_id, "patient.message_preferences", actor_user_id=ctx.user_id, entity_type="patient",
        entity_id=str(key), details={"channel": channel, "refill_reminders": bool(refill_reminders)},
    )  # fmt: skip
    _log_access(session, ctx, "updated", key, "message preferences")
    return _read(session, key)


def message_optouts(session: Session, ctx: TenantContext, patient_id: object) -> list[tuple[Channel, Any]]:
    """The channels the patient stopped through the link in a message, with when (shown on their record)."""
    require(ctx, "patients.view")
    return optouts_of(session, ctx, _in_scope(session, ctx, patient_id))
