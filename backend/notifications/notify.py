"""The one `notify` service (issue 18 §1): an e-mail or a text message handed to the provider through apprise.

The provider is the installation's (MAIL_URL for e-mail, an SMTP server; SMS_URL for texts, an SMS gateway
apprise speaks to, e.g. SMSEagle or an SMPP centre) unless the chain configured its own in Settings >
Notifications (backend/notifications/channels.py): `channel_target(session, tenant_id, channel)` answers
which. A chain's own SMTP server and its webhook are hosts the chain chose: they are reached through
backend/notifications/outbound.py (resolved once, private addresses refused, the address pinned).

apprise's `notify()` answers only True or False; the reason a provider refused or could not be reached is
in apprise's log, captured here with `apprise.LogCapture` and redacted (it may name the recipient) before
it is stored or shown. Every call has a timeout (NOTIFY_TIMEOUT_SECONDS: apprise's `cto`/`rto` URL arguments,
which the SMTP and HTTP plugins use as their socket timeouts).

The circuit breaker (per chain, per channel, in Redis): after NOTIFY_BREAKER_FAILURES failed sends in a row,
sends on that channel are skipped for NOTIFY_BREAKER_SECONDS; a skipped message stays queued and is tried
again later (backend/notifications/delivery.py), never dropped.

Only `delivery.py` calls `notify` for messages to patients: it takes the subject and body sealed on the
message row, which only `disclosure.render` writes (tests/backend/notifications/test_delivery.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlsplit

import apprise
from redis import Redis
from redis.exceptions import RedisError
from sqlmodel import Session

from backend.core.logging import log_event, redact
from backend.core.settings import get_settings
from backend.notifications import push, smtp_tls
from backend.notifications.outbound import HostRefused, SmtpServer, post_webhook, resolve_public, send_smtp

log = logging.getLogger(__name__)

# apprise parses the CA bundle on every e-mail unless told otherwise (backend/notifications/smtp_tls.py).
smtp_tls.install()


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"  # signed JSON events to the chain's own URL (staff and system events, never patients)
    PUSH = "push"  # web push to a subscribed browser (backend/notifications/push.py), not through apprise

    @property
    def label(self) -> str:
        return {"email": "E-mail", "sms": "Text message", "webhook": "Webhook", "push": "Web push"}[self.value]


@dataclass(frozen=True)
class Outcome:
    sent: bool
    reason: str = ""  # the provider's words when not sent, redacted
    expired: bool = False  # web push: the browser dropped the subscription (404/410), never retry


@dataclass(frozen=True)
class Target:
    """Where a message on a channel goes for one chain. `reason` set: it cannot be sent (suppressed)."""

    channel: Channel
    url: str = ""  # an apprise URL (the platform's, or the chain's SMS provider); the webhook's URL
    smtp: SmtpServer | None = None  # the chain's own SMTP server
    secret: str = ""  # the webhook's signing secret
    own: bool = False  # the chain's own provider (else the platform's)
    reason: str = ""

    @property
    def ready(self) -> bool:
        return not self.reason


def channel_url(channel: Channel, tenant_id: object = None) -> str | None:
    """The installation's provider URL for `channel` (None: not configured): MAIL_URL or SMS_URL."""
    settings = get_settings()
    if channel is Channel.PUSH:  # the installation's VAPID key signs every chain's pushes
        return "webpush:" if push.vapid_private_key() else None
    url = {Channel.EMAIL: settings.MAIL_URL, Channel.SMS: settings.SMS_URL}.get(channel)
    return url.strip() if url and url.strip() else None


def platform_target(channel: Channel) -> Target:
    url = channel_url(channel)
    return Target(channel, url=url) if url else Target(channel, reason=not_configured_reason(channel))


def channel_target(session: Session, tenant_id: object, channel: Channel) -> Target:
    """Where the chain's messages on `channel` go: its own provider when it configured one (Settings >
    Notifications), the platform's otherwise, or nowhere (the reason says why) when switched off."""
    from backend.notifications.channels import chain_target  # channels.py builds Targets: imported late

    return chain_target(session, tenant_id, channel)


def not_configured_reason(channel: Channel) -> str:
    if channel is Channel.WEBHOOK:
        return "No webhook is configured for this chain (Settings > Notifications)"
    setting = {Channel.EMAIL: "MAIL_URL", Channel.SMS: "SMS_URL", Channel.PUSH: "VAPID_PRIVATE_KEY"}[channel]
    return f"{channel.label} is not configured for this installation ({setting} is not set)"


def _with_arguments(base: str, **arguments: str) -> str:
    joiner = "&" if "?" in base else "?"
    return base + joiner + "&".join(f"{k}={quote(v, safe='@+')}" for k, v in arguments.items())


def notify(channel: Channel, target: Target | str, to: str, subject: str, body: str) -> Outcome:
    """Hand one message to the provider; answers whether it accepted it and, if not, why.
    `target` is a `channel_target` (a plain apprise URL stands for the platform's provider)."""
    if isinstance(target, str):
        target = Target(channel, url=target)
    if not target.ready:
        return Outcome(False, target.reason)
    if channel is Channel.PUSH:  # `to` is the subscription (push.py); the text is the SMS text
        result = push.send_push(to, subject, body)
        return Outcome(result.sent, redact(result.reason), expired=result.expired)
    timeout = get_settings().NOTIFY_TIMEOUT_SECONDS
    if target.smtp is not None or channel is Channel.WEBHOOK:
        return _outbound(channel, target, to, subject, body, timeout)
    if target.own:
        try:  # the chain's SMS gateway on a host it chose: checked when connecting (apprise cannot pin it)
            check_sms_host(target.url)
        except HostRefused as exc:
            return Outcome(False, str(exc))
    return _apprise(channel, target, to, subject, body, str(timeout))


def _outbound(channel: Channel, target: Target, to: str, subject: str, body: str, timeout: float) -> Outcome:
    if target.smtp is not None:
        sent, reason = send_smtp(target.smtp, to, subject, body, timeout)
    else:  # the webhook (its current URL and secret): `subject` is the event, `body` the JSON document
        sent, reason = post_webhook(target.url or to, target.secret, subject, body.encode(), timeout)
    if not sent:
        log_event(log, "notification.provider_refused", logging.WARNING, channel=channel.value, reason=reason)
    return Outcome(sent, reason)


def _apprise(channel: Channel, target: Target, to: str, subject: str, body: str, timeout: str) -> Outcome:
    sender = apprise.Apprise()
    if not sender.add(_with_arguments(target.url, to=to, cto=timeout, rto=timeout)):
        platform = "MAIL_URL" if channel is Channel.EMAIL else "SMS_URL"
        where = "the chain's SMS provider URL" if target.own else platform
        return Outcome(False, f"{where} is not a valid apprise URL, or the recipient is not valid for it")
    title = subject if channel is Channel.EMAIL else ""
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        accepted = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    if accepted:
        return Outcome(True)
    lines = [line.strip() for line in str(captured.getvalue()).splitlines() if line.strip()]
    reason = redact(" / ".join(lines[-3:]))[:500] or "The provider did not accept the message (no reason given)"
    log_event(log, "notification.provider_refused", logging.WARNING, channel=channel.value, reason=reason)
    return Outcome(False, reason)


# SMS services whose host the chain gives in the URL (the others talk to their provider's fixed host).
HOSTED_SMS_SCHEMES = frozenset({"smseagle", "smseagles", "smpp", "smpps", "signal", "signals"})


def check_sms_host(url: str) -> None:
    """Refuse a chain's SMS URL whose gateway host resolves to a private address (raises HostRefused)."""
    parts = urlsplit(url)
    if parts.scheme.lower() in HOSTED_SMS_SCHEMES and parts.hostname:
        resolve_public(parts.hostname, parts.port or 443)


# --- the circuit breaker ----------------------------------------------------------------------------------


def _keys(tenant_id: object, channel: Channel) -> tuple[str, str]:
    return f"notify:breaker:fails:{tenant_id}:{channel.value}", f"notify:breaker:open:{tenant_id}:{channel.value}"


def breaker_open(redis: Redis, tenant_id: object, channel: Channel) -> bool:
    """Whether sends on the chain's channel are skipped for now (Redis away: not skipped)."""
    try:
        return bool(redis.exists(_keys(tenant_id, channel)[1]))
    except (RedisError, OSError):
        return False


def record_outcome(redis: Redis, tenant_id: object, channel: Channel, sent: bool) -> bool:
    """Count a send's outcome; answers whether the breaker opened with this failure."""
    fails, opened = _keys(tenant_id, channel)
    settings = get_settings()
    try:
        if sent:
            redis.delete(fails)
            return False
        count = int(redis.incr(fails))  # type: ignore[arg-type]
        redis.expire(fails, 24 * 3600)
        if count >= settings.NOTIFY_BREAKER_FAILURES:
            redis.set(opened, "1", ex=max(1, settings.NOTIFY_BREAKER_SECONDS))
            redis.delete(fails)
            log_event(log, "notification.breaker_opened", logging.WARNING, channel=channel.value)
            return True
    except (RedisError, OSError) as exc:
        log_event(log, "notification.breaker_unavailable", logging.WARNING, error=type(exc).__name__)
    return False
