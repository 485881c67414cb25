"""The one `notify` service (issue 18 §1): an e-mail or a text message handed to the provider through apprise.

The provider is the installation's: MAIL_URL for e-mail (an SMTP server), SMS_URL for texts (an SMS gateway
apprise speaks to, e.g. SMSEagle or an SMPP centre). `channel_url` is the seam where a chain's own channel
settings (Settings > Notifications, a later part of issue 18) will take precedence over the installation's.

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
from urllib.parse import quote

import apprise
from redis import Redis
from redis.exceptions import RedisError

from backend.core.logging import log_event, redact
from backend.core.settings import get_settings
from backend.notifications import push

log = logging.getLogger(__name__)


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"  # web push to a subscribed browser (backend/notifications/push.py), not through apprise

    @property
    def label(self) -> str:
        return {"email": "E-mail", "sms": "Text message", "push": "Web push"}[self.value]


@dataclass(frozen=True)
class Outcome:
    sent: bool
    reason: str = ""  # the provider's words when not sent, redacted
    expired: bool = False  # web push: the browser dropped the subscription (404/410), never retry


def channel_url(channel: Channel, tenant_id: object = None) -> str | None:
    """The provider URL a message on `channel` goes to (None: the channel is not configured).

    Seam for per-chain channel settings: when a chain has its own provider for the channel (not built yet),
    return it here for `tenant_id`; until then every chain uses the installation's MAIL_URL / SMS_URL."""
    settings = get_settings()
    if channel is Channel.PUSH:  # the installation's VAPID key signs every chain's pushes
        return "webpush:" if push.vapid_private_key() else None
    url = settings.MAIL_URL if channel is Channel.EMAIL else settings.SMS_URL
    return url.strip() if url and url.strip() else None


def not_configured_reason(channel: Channel) -> str:
    setting = {Channel.EMAIL: "MAIL_URL", Channel.SMS: "SMS_URL", Channel.PUSH: "VAPID_PRIVATE_KEY"}[channel]
    return f"{channel.label} is not configured for this installation ({setting} is not set)"


def _with_arguments(base: str, **arguments: str) -> str:
    joiner = "&" if "?" in base else "?"
    return base + joiner + "&".join(f"{k}={quote(v, safe='@+')}" for k, v in arguments.items())


def notify(channel: Channel, base_url: str, to: str, subject: str, body: str) -> Outcome:
    """Hand one message to the provider; answers whether it accepted it and, if not, why."""
    if channel is Channel.PUSH:  # `to` is the subscription (push.py); the text is the SMS text
        result = push.send_push(to, subject, body)
        return Outcome(result.sent, redact(result.reason), expired=result.expired)
    timeout = str(get_settings().NOTIFY_TIMEOUT_SECONDS)
    sender = apprise.Apprise()
    if not sender.add(_with_arguments(base_url, to=to, cto=timeout, rto=timeout)):
        setting = "MAIL_URL" if channel is Channel.EMAIL else "SMS_URL"
        return Outcome(False, f"{setting} is not a valid apprise URL, or the recipient is not valid for it")
    title = subject if channel is Channel.EMAIL else ""
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
        accepted = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    if accepted:
        return Outcome(True)
    lines = [line.strip() for line in str(captured.getvalue()).splitlines() if line.strip()]
    reason = redact(" / ".join(lines[-3:]))[:500] or "The provider did not accept the message (no reason given)"
    log_event(log, "notification.provider_refused", logging.WARNING, channel=channel.value, reason=reason)
    return Outcome(False, reason)


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
