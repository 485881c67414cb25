"""A patient's consent to detailed messages (the medicine's name in a text or an e-mail), and the one way a
patient message is written for a patient: `message_for_patient` asks the chain's setting for the kind and
the patient's consent, then `backend.notifications.disclosure.render` (which refuses anything more).

Consent is recorded by a member of staff with how the patient gave it (in person, by phone, in writing,
in the portal) and when; withdrawing it keeps the old row as history. Both are audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from backend.core.errors import Conflict, ValidationFailed
from backend.notifications.disclosure import (
    CONSENT_CHANNELS,
    Message,
    MessageKind,
    chain_allows,
    is_detailed,
    render,
)
from backend.notifications.templates import saved_template
from backend.patients.allergies import _in_scope
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require


@dataclass(frozen=True)
class ConsentRecord:
    channel: str
    recorded_at: datetime
    recorded_by: str  # the member's name
    withdrawn_at: datetime | None
    withdrawn_by: str
    withdrawn_channel: str


@dataclass(frozen=True)
class MessageConsent:
    consented: bool
    history: list[ConsentRecord]  # newest first; the first is the one in force when `consented`


def _channel(value: object) -> str:
    channel = str(value or "").strip()
    if channel not in CONSENT_CHANNELS:
        raise ValidationFailed(
            "Say how the patient gave their answer: in person, by phone, in writing or in the portal.", field="channel"
        )
    return channel


def _history(session: Session, key: uuid.UUID) -> MessageConsent:
    rows = session.execute(
        text(
            "SELECT c.channel, c.recorded_at, c.withdrawn_at, c.withdrawn_channel, "
            "coalesce(r.full_name, '') AS recorder, coalesce(w.full_name, '') AS withdrawer "
            "FROM patient_message_consents c LEFT JOIN users r ON r.id = c.recorded_by "
            "LEFT JOIN users w ON w.id = c.withdrawn_by "
            "WHERE c.patient_id = :p ORDER BY c.recorded_at DESC, c.id"
        ),
        {"p": key},
    ).all()
    history = [
        ConsentRecord(r.channel, r.recorded_at, r.recorder, r.withdrawn_at, r.withdrawer, r.withdrawn_channel or "")
        for r in rows
    ]
    return MessageConsent(bool(history) and history[0].withdrawn_at is None, history)


def message_consent(session: Session, ctx: TenantContext, patient_id: str) -> MessageConsent:
    """Whether the patient consented to detailed messages, and the history of that consent."""
    require(ctx, "patients.view")
    return _history(session, _in_scope(session, ctx, patient_id))


def record_message_consent(session: Session, ctx: TenantContext, patient_id: str, channel: object) -> MessageConsent:
    """The patient agreed that messages may name their medicine (where the chain allows it for the kind)."""
    require(ctx, "patients.edit")
    how = _channel(channel)
    key = _in_scope(session, ctx, patient_id, lock=True)
    if _history(session, key).consented:
        raise Conflict("This patient's consent to detailed messages is already recorded.")
    try:
        with session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO patient_message_consents (tenant_id, id, patient_id, channel, recorded_by) "
                    "VALUES (:t, :i, :p, :c, :u)"
                ),
                {"t": ctx.tenant_id, "i": uuid.uuid4(), "p": key, "c": how, "u": ctx.user_id},
            )
    except IntegrityError:
        raise Conflict("This patient's consent to detailed messages is already recorded.") from None
    _audit(session, ctx, "patient.message_consent_recorded", key, how)
    return _history(session, key)


def withdraw_message_consent(session: Session, ctx: TenantContext, patient_id: str, channel: object) -> MessageConsent:
    """The patient withdrew their consent: messages go back to the minimum at once."""
    require(ctx, "patients.edit")
    how = _channel(channel)
    key = _in_scope(session, ctx, patient_id, lock=True)
    done = session.execute(
        text(
            "UPDATE patient_message_consents SET withdrawn_at = now(), withdrawn_by = :u, withdrawn_channel = :c "
            "WHERE patient_id = :p AND withdrawn_at IS NULL"
        ),
        {"p": key, "u": ctx.user_id, "c": how},
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise Conflict("This patient has no consent to detailed messages to withdraw.")
    _audit(session, ctx, "patient.message_consent_withdrawn", key, how)
    return _history(session, key)


def _audit(session: Session, ctx: TenantContext, action: str, key: uuid.UUID, channel: str) -> None:
    record_audit(
        session,
        ctx.tenant_id,
        action,
        actor_user_id=ctx.user_id,
        entity_type="patient",
        entity_id=str(key),
        details={"channel": channel},
    )


def message_for_patient(
    session: Session,
    ctx: TenantContext,
    patient_id: str,
    kind: MessageKind,
    values: Mapping[str, str],
    *,
    details_known: bool = True,
) -> Message:
    """The message of `kind` for this patient: detailed only if the chain allows the kind and the patient
    consented, else the minimum. Notifications call this; nothing writes a patient message another way.
    The wording is the chain's own template for that variant when the owner saved one (issue 18 §2).
    `details_known=False` (a photo nobody has read yet: no medicine to name) always writes the minimum."""
    require(ctx, "patients.message")
    key = _in_scope(session, ctx, patient_id)
    allows = details_known and chain_allows(session, ctx, kind)
    consented = _history(session, key).consented
    detailed = is_detailed(kind, chain_allows=allows, patient_consented=consented)
    return render(
        kind,
        values,
        chain_allows=allows,
        patient_consented=consented,
        template=saved_template(session, kind, detailed=detailed),
    )
