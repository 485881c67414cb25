"""Web push (issue 18 §5): browsers that opted in, and the messages sent to them.

A staff member ("Notify me on this device", their account page) or a verified portal customer ("Notify me when
my prescription is ready", My prescriptions) lets the browser subscribe with the Push API and the
installation's VAPID public key; the browser's subscription (the push service's endpoint and the keys that
encrypt messages for it) is stored here for that user or that patient only: `subscribe` takes the owner from
the signed-in context, never from the request. Subscribing is the person's consent to push on that device.

A message to a patient with subscriptions becomes one `notification_messages` row per device (channel
`push`), through the same queue, retries and delivery log as e-mail and SMS; its text is the SMS text (the
minimum necessary, `disclosure.render`). The row's sealed recipient is the subscription itself, so delivery
needs no second look-up. `send_push` (called by `notify`) encrypts the text for that browser (RFC 8291) and
signs a VAPID token (RFC 8292) for the push service, with pywebpush; a push service's 404/410 means the
browser dropped the subscription: `notify` answers `expired`, delivery forgets the subscription and marks the
message failed ("subscription expired") without retrying.

Endpoints are checked against PUSH_SERVICE_HOSTS when subscribing (the server POSTs to them) and the POST
follows no redirects.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import pywebpush
import requests
from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import NotFound, ValidationFailed
from backend.core.logging import log_event
from backend.core.settings import get_settings
from backend.notifications import webpush
from backend.notifications.disclosure import Message
from backend.protection.keys import chain_keys
from tenants.context import TenantContext
from tenants.roles import CUSTOMER, require

log = logging.getLogger(__name__)

TABLE = "push_subscriptions"
EXPIRED = "Subscription expired (the browser no longer accepts messages from us)"
CONFIRMATION_KIND = "push_confirmation"
CONFIRMATION_TEXT = "Notifications are on for this device."
TTL_SECONDS = 24 * 3600  # a message the push service cannot deliver within a day is dropped there


# --- keys ---------------------------------------------------------------------------------------------------


def vapid_private_key() -> str | None:
    secret = get_settings().VAPID_PRIVATE_KEY
    value = secret.get_secret_value().strip() if secret else ""
    return value or None


def vapid_public_key() -> str:
    """The key the browser's Push API subscribes with ('' when web push is not configured)."""
    settings = get_settings()
    if settings.VAPID_PUBLIC_KEY and settings.VAPID_PUBLIC_KEY.strip():
        return settings.VAPID_PUBLIC_KEY.strip()
    private = vapid_private_key()
    return webpush.public_of(private) if private else ""


# --- subscriptions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    id: str
    device: str
    created_at: datetime
    last_used_at: datetime | None


def _allowed_endpoint(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    hosts = [h.strip().lower() for h in get_settings().PUSH_SERVICE_HOSTS.split(",") if h.strip()]
    listed = any(fnmatch.fnmatchcase(host, pattern) for pattern in hosts)
    if parts.scheme == "https":
        return listed
    return parts.scheme == "http" and listed and host in ("127.0.0.1", "localhost")


def parse_subscription(data: object) -> tuple[str, str, str]:
    """(endpoint, p256dh, auth) of a browser's PushSubscription.toJSON(); anything else is refused."""
    if not isinstance(data, dict):
        raise ValidationFailed("The browser did not give a push subscription.")
    endpoint = str(data.get("endpoint") or "").strip()
    given = data.get("keys")
    keys: dict[str, Any] = given if isinstance(given, dict) else {}
    p256dh, auth = str(keys.get("p256dh") or "").strip(), str(keys.get("auth") or "").strip()
    if not endpoint or len(endpoint) > 1000 or not _allowed_endpoint(endpoint):
        raise ValidationFailed("This browser's push service is not one we can send to.", field="endpoint")
    try:
        webpush.public_key(p256dh)
        if len(webpush.unb64url(auth)) != 16:
            raise ValueError("auth")
    except ValueError:
        raise ValidationFailed("The browser's push keys are not valid.", field="keys") from None
    return endpoint, p256dh, auth


def _owner(ctx: TenantContext) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(user_id, patient_id) of the signed-in person: a verified customer's patient, or the staff member."""
    if ctx.role == CUSTOMER:
        require(ctx, "portal.customer")
        if ctx.patient_id is None:
            raise ValidationFailed("Please confirm who you are with a code first.")
        return None, ctx.patient_id
    require(ctx, "account.self")
    if ctx.user_id is None:
        raise ValidationFailed("Sign in first.")
    return ctx.user_id, None


def _hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def subscribe(session: Session, ctx: TenantContext, data: object, device: str = "") -> str:
    """Store the browser's subscription for the signed-in person (one row per endpoint and chain: a browser
    subscribed again, or by the next person on a shared device, belongs to whoever subscribed last)."""
    user_id, patient_id = _owner(ctx)
    endpoint, p256dh, auth = parse_subscription(data)
    row_id = uuid.uuid4()
    keys = chain_keys(session, ctx.tenant_id)
    session.execute(text("DELETE FROM push_subscriptions WHERE endpoint_hash = :h"), {"h": _hash(endpoint)})
    session.execute(
        text(
            "INSERT INTO push_subscriptions (tenant_id, id, user_id, patient_id, endpoint_hash, endpoint_enc, "
            "p256dh_enc, auth_enc, device) VALUES (:t, :id, :u, :p, :h, :e, :k, :a, :d)"
        ),
        {
            "t": ctx.tenant_id, "id": row_id, "u": user_id, "p": patient_id, "h": _hash(endpoint),
            "e": keys.seal(TABLE, "endpoint_enc", row_id, endpoint),
            "k": keys.seal(TABLE, "p256dh_enc", row_id, p256dh), "a": keys.seal(TABLE, "auth_enc", row_id, auth),
            "d": str(device or "")[:80],
        },
    )  # fmt: skip
    log_event(log, "push.subscribed", id=str(row_id), who="patient" if patient_id else "staff")
    return str(row_id)


MINE = "(user_id = :u OR patient_id = :p)"  # one of the two is NULL: it matches nothing


def _mine(ctx: TenantContext) -> dict[str, Any]:
    user_id, patient_id = _owner(ctx)
    return {"u": user_id, "p": patient_id}


def my_devices(session: Session, ctx: TenantContext) -> list[Device]:
    """The signed-in person's subscribed browsers (never anyone else's)."""
    rows = session.execute(
        _LIST_MINE,
        _mine(ctx),
    ).all()
    return [Device(str(r.id), r.device, r.created_at, r.last_used_at) for r in rows]


def unsubscribe(session: Session, ctx: TenantContext, subscription_id: object) -> None:
    """Forget one of the signed-in person's own browsers."""
    params = _mine(ctx)
    try:
        sid = uuid.UUID(str(subscription_id))
    except ValueError:
        raise NotFound("No such device.") from None
    gone = session.execute(_DELETE_MINE,
                           {"id": sid, **params}).first()  # fmt: skip
    if gone is None:
        raise NotFound("No such device.")


def forget(session: Session, subscription_id: object) -> None:
    """The push service said the subscription is gone (404/410): delete it (delivery, system context)."""
    session.execute(text("DELETE FROM push_subscriptions WHERE id = :id"), {"id": uuid.UUID(str(subscription_id))})
    log_event(log, "push.subscription_expired", id=str(subscription_id))


_LIST_MINE = text(
    "SELECT id, device, created_at, last_used_at FROM push_subscriptions WHERE (user_id = :u OR patient_id = :p) "
    "ORDER BY created_at"
)
_DELETE_MINE = text("DELETE FROM push_subscriptions WHERE id = :id AND (user_id = :u OR patient_id = :p) RETURNING id")
_USE = "UPDATE push_subscriptions SET last_used_at = now() WHERE "
_OF_PATIENT = text(_USE + "patient_id = :p RETURNING *")
_ONE_OF_MINE = text(_USE + "id = :sid AND " + MINE + " RETURNING *")


def _recipients(
    session: Session, tenant_id: object, query: Any, params: dict[str, Any], url: str
) -> list[tuple[str, str]]:
    """(subscription id, recipient JSON) of each subscription matched: what a push message row seals."""
    keys = chain_keys(session, tenant_id)
    rows = session.execute(query, params).all()
    return [
        (str(r.id), json.dumps({
            "id": str(r.id), "device": r.device, "endpoint": keys.open(TABLE, "endpoint_enc", r.id, r.endpoint_enc),
            "p256dh": keys.open(TABLE, "p256dh_enc", r.id, r.p256dh_enc),
            "auth": keys.open(TABLE, "auth_enc", r.id, r.auth_enc), "url": url,
        }))
        for r in sorted(rows, key=lambda r: str(r.id))
    ]  # fmt: skip


def hint(recipient: str) -> str:
    """What the delivery log shows of a push recipient: the device's name, never the endpoint."""
    try:
        found = json.loads(recipient)
    except ValueError:
        return "***"
    return f"{found.get('device') or 'Browser'} ···{str(found.get('id', ''))[-4:]}"


def portal_url(session: Session, ctx: TenantContext) -> str:
    """Where a tap on a patient's notification opens: the chain's "My prescriptions"."""
    slug = session.execute(text("SELECT slug FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}).scalar_one()
    return f"/portal/{slug}/prescriptions"


# --- queueing -----------------------------------------------------------------------------------------------


def queue_patient_push(
    session: Session, ctx: TenantContext, *, patient_id: object, message: Message, dedupe_key: str, url: str = "/"
) -> int:
    """One push message per browser the patient subscribed (none: nothing written). Answers how many."""
    from backend.notifications.delivery import queue_patient_message  # delivery imports notify, which imports us
    from backend.notifications.notify import Channel

    recipients = _recipients(session, ctx.tenant_id, _OF_PATIENT, {"p": patient_id}, url)
    for sid, recipient in recipients:
        queue_patient_message(
            session, ctx, patient_id=patient_id, message=message, channel=Channel.PUSH, address=recipient,
            consented=True, dedupe_key=f"{dedupe_key}:push:{sid}",
        )  # fmt: skip
    return len(recipients)


def queue_confirmation(session: Session, ctx: TenantContext, subscription_id: str) -> None:
    """ "Notifications are on for this device": the first message to a browser that just subscribed, which
    shows the person (and the tests) that the whole path works. It says nothing about anyone's health."""
    from backend.notifications.delivery import MessageStatus, _write
    from backend.notifications.notify import Channel, channel_url, not_configured_reason

    params = {**_mine(ctx), "sid": uuid.UUID(subscription_id)}
    url = portal_url(session, ctx) if ctx.patient_id else "/"
    found = _recipients(session, ctx.tenant_id, _ONE_OF_MINE, params, url)
    if not found:
        raise NotFound("No such device.")
    reason = "" if channel_url(Channel.PUSH, ctx.tenant_id) else not_configured_reason(Channel.PUSH)
    status = MessageStatus.SUPPRESSED if reason else MessageStatus.QUEUED
    _write(session, ctx, CONFIRMATION_KIND, Channel.PUSH, found[0][1], "Pharmacy Cloud", CONFIRMATION_TEXT,
           f"push.confirmation:{subscription_id}:{uuid.uuid4()}", status, reason, ctx.patient_id)  # fmt: skip


def add_device(session: Session, ctx: TenantContext, data: object, device: str = "") -> str:
    """What "Notify me" does on the server: store the browser's subscription for the signed-in person and
    queue its confirmation message, in one transaction."""
    subscription_id = subscribe(session, ctx, data, device)
    queue_confirmation(session, ctx, subscription_id)
    return subscription_id


# --- sending ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushResult:
    sent: bool
    reason: str = ""
    expired: bool = False


def send_push(recipient: str, title: str, body: str) -> PushResult:
    """Encrypt the message for the subscription in `recipient` and hand it to its push service (pywebpush:
    aes128gcm per RFC 8291, a VAPID token per RFC 8292 whose `aud` is the endpoint's origin), following no
    redirects."""
    private = vapid_private_key()
    if private is None:
        return PushResult(False, "Web push is not configured for this installation (VAPID_PRIVATE_KEY is not set)")
    target = json.loads(recipient)
    info = {"endpoint": target["endpoint"], "keys": {"p256dh": target["p256dh"], "auth": target["auth"]}}
    payload = json.dumps({"title": title, "body": body, "url": target.get("url", "/")})
    settings = get_settings()
    session = requests.Session()
    session.max_redirects = 0  # a redirect is refused (TooManyRedirects), never followed
    try:
        pywebpush.webpush(
            info, data=payload, vapid_private_key=private, vapid_claims={"sub": settings.VAPID_SUBJECT},
            ttl=TTL_SECONDS, timeout=settings.NOTIFY_TIMEOUT_SECONDS, headers={"Urgency": "normal"},
            requests_session=session,
        )  # fmt: skip
    except pywebpush.WebPushException as exc:
        answer = exc.response
        if answer is None:
            return PushResult(False, f"The push message could not be made ({str(exc.message)[:200]})")
        if answer.status_code in (404, 410):
            return PushResult(False, EXPIRED, expired=True)
        return PushResult(False, f"The push service answered {answer.status_code}: {answer.text.strip()[:200]}")
    except requests.RequestException as exc:
        return PushResult(False, f"The push service could not be reached ({type(exc).__name__})")
    finally:
        session.close()
    return PushResult(True)
