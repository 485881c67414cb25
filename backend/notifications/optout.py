"""Opt-out that works (issue 18 §2): every e-mail and text to a patient ends with a link that stops that channel.

- `queue_patient_message` mints a code per message (`secrets`, 80 bits), stores only its SHA-256 hash with the
  patient and channel (`notification_optout_codes`), and appends the line: SMS " Stop: <url>" (short, to stay
  near 160 characters), e-mail "To stop e-mails from <chain>: <url>". The URL is
  `APP_URL/portal/<chain slug>/stop/<code>`. The portal sign-in code has no such line: the patient asked for
  it a moment ago and is waiting for it (and an opt-out would not stop a code they request again).
- The link opens a public portal page (the `portal` role of the chain found by its slug). Opening it (a GET,
  which mail scanners do) reads nothing and changes nothing; the patient confirms with a button. An unknown
  code shows the same page and the same "done" answer (confirming it changes nothing), so a guessed code
  tells nothing. The code's first letter (e / s) names the channel the page asks about.
- Confirming writes `notification_optouts` (patient, channel; audited as `patient.messages_opted_out`).
  From then on `queue_patient_message` writes that patient's messages on that channel `suppressed` with
  "The patient opted out of e-mail messages" / "... text messages".
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.settings import get_settings
from backend.notifications.notify import Channel
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

CHANNEL_WORDS = {Channel.EMAIL: "e-mail", Channel.SMS: "text"}
# A code's first letter says its channel, so the stop page can say "by e-mail" / "by text" from the address
# alone: the page is the same for a valid and an invalid code (the database row decides what is stopped).
CODE_PREFIX = {Channel.EMAIL: "e", Channel.SMS: "s"}
CODE_LENGTH = 15


def channel_of_code(code: str) -> Channel | None:
    """The channel a stop link's address names (display only)."""
    return {"e": Channel.EMAIL, "s": Channel.SMS}.get(str(code or "")[:1])


OPTED_OUT = {channel: f"The patient opted out of {word} messages" for channel, word in CHANNEL_WORDS.items()}


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def opted_out(session: Session, patient_id: object, channel: Channel) -> bool:
    """Whether the patient stopped messages on `channel` (RLS: the caller's chain)."""
    found = session.execute(
        text("SELECT 1 FROM notification_optouts WHERE patient_id = :p AND channel = :c"),
        {"p": patient_id, "c": channel.value},
    )
    return found.first() is not None


def optout_line(session: Session, ctx: TenantContext, patient_id: object, channel: Channel) -> str:
    """A fresh code for this patient and channel, and the line that carries its link."""
    code = CODE_PREFIX[channel] + secrets.token_urlsafe(10)  # 1 + 14 characters (CODE_LENGTH), 80 random bits
    session.execute(
        text(
            "INSERT INTO notification_optout_codes (tenant_id, code_hash, patient_id, channel) VALUES (:t, :h, :p, :c)"
        ),
        {"t": ctx.tenant_id, "h": _hash(code), "p": patient_id, "c": channel.value},
    )
    chain = session.execute(text("SELECT slug, name FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}).one()
    url = f"{get_settings().APP_URL.rstrip('/')}/portal/{chain.slug}/stop/{code}"
    if channel is Channel.SMS:
        return f" Stop: {url}"
    return f"\n\nTo stop e-mails from {chain.name}: {url}"


def sms_stop_length(session: Session, ctx: TenantContext) -> int:
    """How many characters the " Stop: <link>" line adds to this chain's texts (for the template editor)."""
    require(ctx, "messages.templates")
    slug = session.execute(text("SELECT slug FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}).scalar_one()
    return len(f" Stop: {get_settings().APP_URL.rstrip('/')}/portal/{slug}/stop/") + CODE_LENGTH


def optouts_of(session: Session, ctx: TenantContext, key: object) -> list[tuple[Channel, Any]]:
    """The channels a patient stopped through a message's link, with when. The caller (the patients domain,
    `contact_preferences.message_optouts`) has checked the member may see this patient."""
    require(ctx, "patients.view")
    rows = session.execute(
        text("SELECT channel, opted_out_at FROM notification_optouts WHERE patient_id = :p ORDER BY channel"),
        {"p": key},
    ).all()
    return [(Channel(r.channel), r.opted_out_at) for r in rows]


def _code_row(session: Session, code: str) -> Any:
    value = str(code or "").strip()
    if not value or len(value) > 64:
        return None
    return session.execute(
        text("SELECT patient_id, channel FROM notification_optout_codes WHERE code_hash = :h"), {"h": _hash(value)}
    ).first()


def confirm_optout(session: Session, ctx: TenantContext, code: str) -> bool:
    """The patient confirmed: stop this channel for them (once; audited). False for an unknown code."""
    require(ctx, "portal.optout")
    row = _code_row(session, code)
    if row is None:
        return False
    done = session.execute(
        text(
            "INSERT INTO notification_optouts (tenant_id, patient_id, channel) VALUES (:t, :p, :c) "
            "ON CONFLICT DO NOTHING RETURNING patient_id"
        ),
        {"t": ctx.tenant_id, "p": row.patient_id, "c": row.channel},
    ).first()
    if done is not None:
        record_audit(
            session, ctx.tenant_id, "patient.messages_opted_out", entity_type="patient",
            entity_id=str(row.patient_id), details={"channel": row.channel, "via": "message link"},
        )  # fmt: skip
    return True
