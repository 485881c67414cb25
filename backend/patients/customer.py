"""What a verified portal customer does to their own record (issue 17 §3), and the contact a portal code goes to.

A customer's context carries the one patient they proved to be (`TenantContext.patient_id`); nothing here
takes a patient id from the caller. Every view is written to the patient access log as the customer
(`actor = 'customer'`, no user), and their choices (refill reminders and their channel, consent to detailed
messages) are recorded on the record with channel "portal" and audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import AuthenticationRequired, ValidationFailed
from backend.patients import identity
from backend.patients.message_consent import _history
from backend.protection.keys import chain_keys
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

REMINDER_CHANNELS = {"email": "E-mail", "sms": "Text message"}


def customer_patient(ctx: TenantContext) -> uuid.UUID:
    """The patient a customer context is for (refused for any other context)."""
    require(ctx, "portal.customer")
    if ctx.patient_id is None:
        raise AuthenticationRequired("Please confirm who you are with a code first.")
    return ctx.patient_id


def log_customer_access(session: Session, ctx: TenantContext, action: str = "viewed", reason: str = "") -> None:
    """One access-log row for what the customer opened or changed on their own record."""
    key = customer_patient(ctx)
    session.execute(
        text(
            "INSERT INTO patient_access_log (tenant_id, patient_id, user_id, action, reason, actor) "
            "VALUES (:t, :p, NULL, :a, :r, 'customer')"
        ),
        {"t": ctx.tenant_id, "p": key, "a": action, "r": reason[:100]},
    )


@dataclass(frozen=True)
class CustomerChoices:
    first_name: str
    refill_reminders: bool
    reminder_channel: str
    detailed_messages: bool  # consented to messages that name the medicine (where the chain allows it)


def customer_choices(session: Session, ctx: TenantContext) -> CustomerChoices:
    """The customer's first name (to greet them) and their reminder and message choices."""
    key = customer_patient(ctx)
    row = session.execute(
        text("SELECT id, full_name_enc, refill_reminders, reminder_channel FROM patients WHERE id = :p"), {"p": key}
    ).one()
    name = identity.opened(chain_keys(session, ctx.tenant_id), row, ("full_name",))["full_name"]
    return CustomerChoices(
        (name.split() or [""])[0], bool(row.refill_reminders), row.reminder_channel, _history(session, key).consented
    )


def set_customer_choices(
    session: Session, ctx: TenantContext, *, refill_reminders: bool, channel: str, detailed_messages: bool
) -> CustomerChoices:
    """Record the customer's choices on their record, as given in the portal (audited, access-logged)."""
    key = customer_patient(ctx)
    if channel not in REMINDER_CHANNELS:
        raise ValidationFailed("Choose e-mail or text message for reminders.", field="channel")
    before = customer_choices(session, ctx)
    session.execute(
        text("UPDATE patients SET refill_reminders = :r, reminder_channel = :c WHERE id = :p"),
        {"r": bool(refill_reminders), "c": channel, "p": key},
    )
    if detailed_messages and not before.detailed_messages:
        session.execute(
            text(
                "INSERT INTO patient_message_consents (tenant_id, id, patient_id, channel, recorded_by) "
                "VALUES (:t, :i, :p, 'portal', NULL)"
            ),
            {"t": ctx.tenant_id, "i": uuid.uuid4(), "p": key},
        )
    elif before.detailed_messages and not detailed_messages:
        session.execute(
            text(
                "UPDATE patient_message_consents SET withdrawn_at = now(), withdrawn_channel = 'portal' "
                "WHERE patient_id = :p AND withdrawn_at IS NULL"
            ),
            {"p": key},
        )
    record_audit(
        session,
        ctx.tenant_id,
        "patient.portal_choices",
        entity_type="patient",
        entity_id=str(key),
        details={"refill_reminders": bool(refill_reminders), "channel": channel, "detailed": bool(detailed_messages)},
    )
    log_customer_access(session, ctx, "updated", "portal: reminders and messages")
    return customer_choices(session, ctx)


def code_contact(session: Session, ctx: TenantContext, patient_id: object) -> str:
    """The e-mail on file a portal code goes to ("" when there is none); for the notifications job."""
    require(ctx, "patients.message")
    row = session.execute(text("SELECT id, email_enc FROM patients WHERE id = :p"), {"p": patient_id}).first()
    if row is None or row.email_enc is None:
        return ""
    return identity.opened(chain_keys(session, ctx.tenant_id), row, ("email",))["email"]
