"""A chain's own notification channels (issue 18 §1), Settings > Notifications (owner only).

- E-mail: the platform's (MAIL_URL) or the chain's SMTP server (host, port, SSL/STARTTLS, user, password,
  sender). SMS: the platform's (SMS_URL), the chain's provider (an apprise URL: SMSEagle, Twilio, Vonage,
  SNS…; validated by apprise's own parser), or off. Webhook: off or the chain's URL, to which signed JSON
  events are POSTed (backend/notifications/outbound.py).
- Secrets (the SMTP password, the SMS URL, which carries the provider's credentials, the webhook's signing
  secret) are sealed with the chain key in `notification_channels.secret_enc` and never shown again: the
  page gets a hint. The webhook's signing secret is generated here and shown once (like an API token).
- `chain_target` answers where a message goes (`notify.channel_target`, used by delivery). A save resets
  the channel's circuit breaker: a new provider starts with a clean count.
- `send_test` sends one test message synchronously through `notify` (with its timeout), audited.
- `queue_webhook_event` is how any domain sends the chain's webhook an event: a notification_messages row
  (channel 'webhook', the URL sealed as its recipient) delivered by the same queue, retries and log.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import apprise
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import ValidationFailed
from backend.core.queue import shared_redis
from backend.notifications.notify import (
    HOSTED_SMS_SCHEMES,
    Channel,
    Outcome,
    Target,
    _keys,
    _with_arguments,
    check_sms_host,
    not_configured_reason,
    notify,
    platform_target,
)
from backend.notifications.outbound import HostRefused, SmtpSecurity, SmtpServer, resolve_public
from backend.protection.keys import chain_keys, reseal_rows
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

TABLE = "notification_channels"


class Mode:
    PLATFORM, OWN, OFF = "platform", "own", "off"


# What each channel may be set to: e-mail is never off (sign-in codes and staff mail need it).
MODES = {
    Channel.EMAIL: (Mode.PLATFORM, Mode.OWN),
    Channel.SMS: (Mode.PLATFORM, Mode.OWN, Mode.OFF),
    Channel.WEBHOOK: (Mode.OFF, Mode.OWN),
}
DEFAULT_MODE = {Channel.EMAIL: Mode.PLATFORM, Channel.SMS: Mode.PLATFORM, Channel.WEBHOOK: Mode.OFF}
# Web push has no chain setting: the installation's VAPID key signs every chain's pushes (push.py).
# apprise's SMS services (2.x): a URL of any other kind (mailto://, json://…) is refused as an SMS provider.
SMS_SCHEMES = HOSTED_SMS_SCHEMES | {
    "twilio", "vonage", "nexmo", "sns", "clicksend", "msgbird", "plivo", "sinch", "bulksms", "d7sms", "kavenegar",
    "msg91", "bulkvs", "seven", "smsmgr", "httpsms", "burstsms", "freemobile", "atalk",
}  # fmt: skip
_HOST = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$"
)  # noqa: E501
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
_PHONE = re.compile(r"^\+?[0-9]{7,15}$")
TEST_PHONE = "+15555550123"  # a recipient apprise's parser accepts, to validate a URL without sending


@dataclass(frozen=True)
class ChannelSettings:
    """What the page shows of one channel: never a secret, only whether it is set and a hint."""

    channel: Channel
    mode: str
    config: dict[str, Any]
    secret_set: bool
    secret_hint: str
    updated_at: datetime | None


def _row(session: Session, channel: Channel) -> Any:
    return session.execute(
        text(f"SELECT id, mode, config, secret_enc, secret_hint, updated_at FROM {TABLE} WHERE channel = :c"),  # noqa: S608
        {"c": channel.value},
    ).first()


def channel_settings(session: Session, ctx: TenantContext) -> dict[Channel, ChannelSettings]:
    require(ctx, "notifications.channels")
    found: dict[Channel, ChannelSettings] = {}
    for channel in DEFAULT_MODE:
        row = _row(session, channel)
        if row is None:
            found[channel] = ChannelSettings(channel, DEFAULT_MODE[channel], {}, False, "", None)
        else:
            found[channel] = ChannelSettings(
                channel, row.mode, dict(row.config or {}), row.secret_enc is not None, row.secret_hint, row.updated_at
            )
    return found


def chain_target(session: Session, tenant_id: object, channel: Channel) -> Target:
    """Where the chain's messages on `channel` go (the session's tenant; RLS hides other chains' rows)."""
    if channel not in DEFAULT_MODE:  # web push: the platform's, for every chain
        return platform_target(channel)
    row = _row(session, channel)
    mode = row.mode if row is not None else DEFAULT_MODE[channel]
    if mode == Mode.OFF:
        if channel is Channel.WEBHOOK:
            return Target(channel, reason=not_configured_reason(channel))
        return Target(channel, reason=f"{channel.label} is switched off for this chain (Settings > Notifications)")
    if mode == Mode.PLATFORM or row is None:
        return platform_target(channel)
    config = dict(row.config or {})
    secret = chain_keys(session, tenant_id).open(TABLE, "secret_enc", row.id, row.secret_enc) if row.secret_enc else ""
    if channel is Channel.EMAIL:
        server = SmtpServer(
            config["host"], int(config["port"]), config["security"], config.get("username", ""), secret,
            config["from_address"], config.get("from_name", ""),
        )  # fmt: skip
        return Target(channel, smtp=server, own=True)
    if channel is Channel.SMS:
        return Target(channel, url=secret, own=True)
    return Target(channel, url=config["url"], secret=secret, own=True)


# --- saving ---------------------------------------------------------------------------------------------


def _clean(form: dict[str, Any], name: str, limit: int = 200) -> str:
    value = str(form.get(name) or "").strip()
    if len(value) > limit or any(c in value for c in "\r\n\x00"):
        raise ValidationFailed(f"{name.replace('_', ' ').capitalize()} is too long or has line breaks.", field=name)
    return value


def _mode(channel: Channel, value: object) -> str:
    mode = str(value or "").strip()
    if mode not in MODES[channel]:
        raise ValidationFailed(f"Choose one of: {', '.join(MODES[channel])}.", field=f"{channel.value}_mode")
    return mode


def _check_host(host: str, port: int, field: str) -> None:
    """The save-time check (a clear message now); the connect-time check is the one that protects."""
    try:
        resolve_public(host, port)
    except HostRefused as exc:
        raise ValidationFailed(str(exc), field=field) from None


def _store(
    session: Session, ctx: TenantContext, channel: Channel, mode: str, config: dict[str, Any], secret: str | None,
    hint: str | None,
) -> None:  # fmt: skip
    """Upsert the channel's row. `secret` None keeps the stored one; "" clears it."""
    row = _row(session, channel)
    row_id = row.id if row is not None else uuid.uuid4()
    if secret is None:
        sealed, hint = (row.secret_enc, row.secret_hint) if row is not None else (None, "")
    else:
        sealed = chain_keys(session, ctx.tenant_id).seal(TABLE, "secret_enc", row_id, secret) if secret else None
        hint = hint or ""
    session.execute(
        text(
            f"INSERT INTO {TABLE} (tenant_id, id, channel, mode, config, secret_enc, secret_hint, updated_by) "  # noqa: S608
            "VALUES (:t, :id, :c, :m, CAST(:cfg AS jsonb), :s, :h, :u) ON CONFLICT (tenant_id, channel) DO UPDATE "
            "SET mode = EXCLUDED.mode, config = EXCLUDED.config, secret_enc = EXCLUDED.secret_enc, "
            "secret_hint = EXCLUDED.secret_hint, updated_by = EXCLUDED.updated_by, updated_at = now()"
        ),
        {
            "t": ctx.tenant_id, "id": row_id, "c": channel.value, "m": mode, "cfg": json.dumps(config), "s": sealed,
            "h": hint, "u": ctx.user_id,
        },
    )  # fmt: skip
    record_audit(
        session, ctx.tenant_id, "notifications.channel_saved", actor_user_id=ctx.user_id,
        entity_type="notification_channel", entity_id=channel.value,
        details={"channel": channel.value, "mode": mode, "secret_changed": secret is not None},
    )  # fmt: skip
    reset_breaker(ctx.tenant_id, channel)


def reset_breaker(tenant_id: object, channel: Channel) -> None:
    try:
        shared_redis().delete(*_keys(tenant_id, channel))
    except (RedisError, OSError):
        pass  # the breaker closes by itself after NOTIFY_BREAKER_SECONDS


def save_email(session: Session, ctx: TenantContext, form: dict[str, Any]) -> ChannelSettings:
    """The chain's e-mail: the platform's, or its own SMTP server (an empty password keeps the stored one)."""
    require(ctx, "notifications.channels")
    mode = _mode(Channel.EMAIL, form.get("email_mode"))
    if mode == Mode.PLATFORM:
        _store(session, ctx, Channel.EMAIL, mode, {}, "", "")
        return channel_settings(session, ctx)[Channel.EMAIL]
    host = _clean(form, "smtp_host", 253).lower()
    if not _HOST.match(host):
        raise ValidationFailed("Enter the mail server's host name, e.g. smtp.example.com.", field="smtp_host")
    port_text = _clean(form, "smtp_port", 10)
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValidationFailed("The port must be a whole number from 1 to 65535 (e.g. 465 or 587).", field="smtp_port")
    port = int(port_text)
    security = _clean(form, "smtp_security", 20)
    if security not in SmtpSecurity.ALL:
        raise ValidationFailed("Choose SSL, STARTTLS or none.", field="smtp_security")
    username = _clean(form, "smtp_username")
    password = str(form.get("smtp_password") or "")
    if len(password) > 500 or any(c in password for c in "\r\n\x00"):
        raise ValidationFailed("The password is too long or has line breaks.", field="smtp_password")
    if security == SmtpSecurity.NONE and (username or password):
        raise ValidationFailed(
            "A user name and password are sent only over SSL or STARTTLS: choose one of them, or leave both empty "
            "for a relay that needs no sign-in.",
            field="smtp_security",
        )
    from_address = _clean(form, "smtp_from_address", 254)
    if not _EMAIL.match(from_address):
        raise ValidationFailed(
            "Enter the sender's e-mail address, e.g. no-reply@example.com.", field="smtp_from_address"
        )
    from_name = _clean(form, "smtp_from_name", 100)
    _check_host(host, port, "smtp_host")
    config = {"host": host, "port": port, "security": security, "username": username,
              "from_address": from_address, "from_name": from_name}  # fmt: skip
    # A new password replaces the stored one; none typed keeps it, unless there is no user name to sign in with.
    secret: str | None = password if password else (None if username else "")
    _store(session, ctx, Channel.EMAIL, mode, config, secret, "set" if password else None)
    return channel_settings(session, ctx)[Channel.EMAIL]


def _sms_url(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SMS_SCHEMES:
        raise ValidationFailed(
            "That is not an SMS service apprise knows (e.g. smseagles://TOKEN@sms.example.com or "
            "twilio://SID:TOKEN@+15550000000).",
            field="sms_url",
        )
    if apprise.Apprise.instantiate(_with_arguments(url, to=TEST_PHONE)) is None:
        raise ValidationFailed(
            f"apprise cannot read this {scheme}:// URL: check its form in apprise's documentation.", field="sms_url"
        )
    try:
        check_sms_host(url)
    except HostRefused as exc:
        raise ValidationFailed(str(exc), field="sms_url") from None
    return scheme


def save_sms(session: Session, ctx: TenantContext, form: dict[str, Any]) -> ChannelSettings:
    """The chain's texts: the platform's, its own provider's apprise URL (empty keeps the stored one), or off."""
    require(ctx, "notifications.channels")
    mode = _mode(Channel.SMS, form.get("sms_mode"))
    url = str(form.get("sms_url") or "").strip()
    if len(url) > 2000 or any(c in url for c in "\r\n\x00 "):
        raise ValidationFailed("The SMS URL is too long or has spaces or line breaks.", field="sms_url")
    if mode != Mode.OWN:
        _store(session, ctx, Channel.SMS, mode, {}, "", "")
        return channel_settings(session, ctx)[Channel.SMS]
    if not url:
        current = _row(session, Channel.SMS)
        if current is None or current.secret_enc is None:
            raise ValidationFailed("Paste your SMS provider's apprise URL.", field="sms_url")
        _store(session, ctx, Channel.SMS, mode, dict(current.config or {}), None, None)
        return channel_settings(session, ctx)[Channel.SMS]
    scheme = _sms_url(url)
    _store(session, ctx, Channel.SMS, mode, {"service": scheme}, url, f"{scheme}://…")
    return channel_settings(session, ctx)[Channel.SMS]


def _new_webhook_secret() -> tuple[str, str]:
    secret = "whsec_" + secrets.token_urlsafe(32)
    return secret, f"whsec_…{secret[-4:]}"


def save_webhook(session: Session, ctx: TenantContext, form: dict[str, Any]) -> tuple[ChannelSettings, str]:
    """The chain's webhook: off, or its URL. Answers the settings and the new signing secret, shown once
    ("" when a secret was already set: it is kept)."""
    require(ctx, "notifications.channels")
    mode = _mode(Channel.WEBHOOK, form.get("webhook_mode"))
    current = _row(session, Channel.WEBHOOK)
    if mode == Mode.OFF:
        config = dict(current.config or {}) if current is not None else {}
        _store(session, ctx, Channel.WEBHOOK, mode, config, None, None)
        return channel_settings(session, ctx)[Channel.WEBHOOK], ""
    url = str(form.get("webhook_url") or "").strip()
    parts = urlsplit(url)
    if len(url) > 2000 or parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        raise ValidationFailed("The webhook URL must be an http:// or https:// address.", field="webhook_url")
    if parts.username or parts.password:
        raise ValidationFailed(
            "Put no password in the URL: the signature is how your server knows the event is ours.", field="webhook_url"
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationFailed("The webhook URL's port is not a number.", field="webhook_url") from None
    _check_host(parts.hostname, port, "webhook_url")
    shown = ""
    secret: str | None = None
    hint: str | None = None
    if current is None or current.secret_enc is None:
        shown, hint = _new_webhook_secret()
        secret = shown
    _store(session, ctx, Channel.WEBHOOK, mode, {"url": url}, secret, hint)
    return channel_settings(session, ctx)[Channel.WEBHOOK], shown


def rotate_webhook_secret(session: Session, ctx: TenantContext) -> str:
    """A new signing secret for the webhook (the old one stops at once); answers it, shown once."""
    require(ctx, "notifications.channels")
    current = _row(session, Channel.WEBHOOK)
    if current is None or current.mode != Mode.OWN:
        raise ValidationFailed("Set the webhook's URL first.", field="webhook_url")
    shown, hint = _new_webhook_secret()
    _store(session, ctx, Channel.WEBHOOK, Mode.OWN, dict(current.config or {}), shown, hint)
    record_audit(
        session, ctx.tenant_id, "notifications.webhook_secret_rotated", actor_user_id=ctx.user_id,
        entity_type="notification_channel", entity_id=Channel.WEBHOOK.value,
    )  # fmt: skip
    return shown


# --- test sends and webhook events ------------------------------------------------------------------------


def _event_body(event: str, key: str, data: dict[str, Any], tenant_id: object) -> str:
    document = {"event": event, "id": key, "chain": str(tenant_id), "created_at": datetime.now(UTC).isoformat(),
                "data": data}  # fmt: skip
    return json.dumps(document, separators=(",", ":"), sort_keys=True, default=str)


def send_test(session: Session, ctx: TenantContext, channel_name: object, to: object = "") -> Outcome:
    """One test message on the channel, now, through `notify` (its timeout; the provider's reason), audited."""
    require(ctx, "notifications.channels")
    try:
        channel = Channel(str(channel_name))
    except ValueError:
        raise ValidationFailed("No such channel.", field="channel") from None
    address = str(to or "").strip()
    if channel is Channel.EMAIL and not _EMAIL.match(address):
        raise ValidationFailed("Enter the e-mail address to send the test to.", field="email_test_to")
    if channel is Channel.SMS:
        address = re.sub(r"[\s().-]", "", address)
        if not _PHONE.match(address):
            raise ValidationFailed(
                "Enter the mobile number to text, with its country code (e.g. +15555550100).", field="sms_test_to"
            )
    target = chain_target(session, ctx.tenant_id, channel)
    subject = "Test message from your pharmacy's notification settings"
    body = "This is a test. If you received it, this channel works."
    if channel is Channel.WEBHOOK:
        subject = "test"
        body = _event_body("test", f"test-{uuid.uuid4()}", {"message": body}, ctx.tenant_id)
        address = target.url
    outcome = notify(channel, target, address, subject, body)
    record_audit(
        session, ctx.tenant_id, "notifications.channel_tested", actor_user_id=ctx.user_id,
        entity_type="notification_channel", entity_id=channel.value,
        details={"channel": channel.value, "own": target.own, "sent": outcome.sent, "reason": outcome.reason},
    )  # fmt: skip
    return outcome


def queue_webhook_event(
    session: Session, ctx: TenantContext, *, event: str, data: dict[str, Any], dedupe_key: str
) -> Any:
    """Queue one event for the chain's webhook in the caller's transaction (the outbox): delivered, retried
    and logged like every message; suppressed with the reason when the chain has no webhook. `data` must be
    what staff systems may receive (no patient's health information)."""
    from backend.notifications.delivery import MessageStatus, _write, event_key  # delivery imports this module's caller

    require(ctx, "notifications.webhook")
    name = str(event or "").strip()
    if not re.fullmatch(r"[a-z0-9_.]{1,60}", name):
        raise ValidationFailed("A webhook event is named with lowercase letters, digits, '.' and '_'.", field="event")
    key = event_key(dedupe_key)
    target = chain_target(session, ctx.tenant_id, Channel.WEBHOOK)
    status = MessageStatus.QUEUED if target.ready else MessageStatus.SUPPRESSED
    body = _event_body(name, key, data, ctx.tenant_id)
    return _write(session, ctx, f"webhook.{name}", Channel.WEBHOOK, target.url, name, body, key, status, target.reason,
                  None)  # fmt: skip


def reseal_channels(session: Session, ctx: TenantContext, after: object, limit: int) -> tuple[object, int]:
    """One batch of a key rotation's re-encryption of the channels' secrets."""
    require(ctx, "keys.rotate")
    return reseal_rows(session, chain_keys(session, ctx.tenant_id), TABLE, ("secret_enc",), after, limit)
