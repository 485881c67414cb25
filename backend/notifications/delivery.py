"""The notifications queue, its retries and the delivery log (issue 18 §3).

1. `queue_patient_message` writes one `notification_messages` row in the business transaction (like the
   outbox: a rolled-back decision sends nothing) with the recipient, subject and body sealed under the chain
   key, and a dedupe key: one business event makes at most one row (a second call finds the first). A
   message that cannot be sent is written `suppressed` with the reason (no consent to be contacted, no
   address on file, the channel not configured, the patient opted out of the channel) and never queued. A
   queued message to a patient carries its opt-out link (`optout`). A queued one puts the outbox job
   `notifications.dispatch` on the `notifications` queue.
2. The dispatch job hands `deliver_message` to RQ on the `notifications` queue with retries at growing
   intervals (NOTIFY_RETRY_INTERVALS; RQ's scheduler, which `pharmacy-saas worker` runs, enqueues them).
3. `deliver_message` locks the row, sends it through `notify` and records the outcome in the same step:
   `sent` (with the time) when the provider accepted it, the provider's reason and one more attempt when
   not (then RQ retries; after the last retry the row is `failed`). A row not `queued` is never sent, and
   the lock keeps two workers from sending it at once: at most one send per row, except in the crash
   window below. When the chain's channel has its circuit breaker open, the send is skipped without an
   attempt: the row stays queued and RQ tries again later; after the last retry a new delivery is scheduled,
   so a skipped message is never lost.
   Inside the chain's quiet hours (`quiet_hours`, the branch's time zone) nothing is sent: the row stays
   queued, "Held for quiet hours until HH:MM", and a fresh delivery is scheduled for their end.

Crash window: between the provider accepting a message and the commit that marks it sent (a worker killed
at that instant, or the database lost right then), the row stays `queued` and a retry sends it again. The
log has `notification.sending` without its `notification.sent` for such a message. A provider's own
idempotency key would close the window; SMTP and the SMS gateways apprise speaks have none.

4. The delivery log (`delivery_log`) shows staff each message's kind, channel, masked recipient, status,
   reason and times, never its subject or body; `resend` puts a failed message back on the queue (a new
   attempt of the same row, audited).
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from rq import Retry, get_current_job
from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.logging import log_event
from backend.core.queue import job_queue, shared_redis
from backend.core.settings import get_settings
from backend.jobs.registry import job
from backend.jobs.service import enqueue_job
from backend.notifications import push
from backend.notifications.disclosure import Message, MessageKind
from backend.notifications.notify import (
    Channel,
    breaker_open,
    channel_target,
    notify,
    record_outcome,
)
from backend.notifications.optout import OPTED_OUT, opted_out, optout_line
from backend.notifications.quiet_hours import held_reason, held_until, seconds_until
from backend.protection.keys import chain_keys, reseal_rows
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require
from tenants.session import tenant_session

log = logging.getLogger(__name__)

TABLE = "notification_messages"
NOTIFICATIONS_QUEUE = "notifications"
DISPATCH_JOB = "notifications.dispatch"
DELIVER = "backend.notifications.delivery.deliver_message"
SEALED = ("recipient_enc", "subject_enc", "body_enc")


class MessageStatus(StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENT = "sent"  # the provider accepted it
    FAILED = "failed"  # the provider refused it on every retry (staff may resend it)
    SUPPRESSED = "suppressed"  # never sent: no consent, no address on file, or the channel not configured

    @property
    def label(self) -> str:
        return self.value.capitalize()


class DeliveryFailed(Exception):
    """The provider did not accept the message (RQ retries the delivery; the reason is on the row)."""


NO_CONSENT = "The patient has not agreed to be contacted"
NO_ADDRESS = {
    Channel.EMAIL: "No e-mail address on file",
    Channel.SMS: "No mobile number on file",
    Channel.PUSH: "No browser subscribed to notifications",
}


@dataclass(frozen=True)
class Queued:
    id: uuid.UUID
    status: MessageStatus
    reason: str
    created: bool  # False: the business event had already written its message (dedupe key)


def mask(channel: Channel, recipient: str) -> str:
    """What staff see of an address: j***@example.com, ***0100."""
    value = (recipient or "").strip()
    if not value:
        return ""
    if channel is Channel.WEBHOOK:
        return urlsplit(value).hostname or "***"
    if channel is Channel.PUSH:
        return push.hint(value)
    if channel is Channel.EMAIL:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    digits = "".join(c for c in value if c.isdigit())
    return f"***{digits[-4:]}" if len(digits) >= 4 else "***"


def message_exists(session: Session, dedupe_key: str) -> bool:
    """Whether the business event `dedupe_key` already wrote its message (in the caller's tenant)."""
    found = session.execute(text("SELECT 1 FROM notification_messages WHERE dedupe_key = :k"), {"k": dedupe_key})
    return found.first() is not None


def event_key(dedupe_key: object) -> str:
    """The business event a message belongs to (required: it is what makes one event write one message)."""
    key = str(dedupe_key or "").strip()
    if not key:
        raise ValidationFailed("A notification needs the business event it belongs to (its dedupe key).")
    return key


def queue_patient_message(
    session: Session,
    ctx: TenantContext,
    *,
    patient_id: object,
    message: Message,
    channel: Channel,
    address: str,
    consented: bool,
    dedupe_key: str,
    branch_id: object = None,
) -> Queued:
    """Write one patient message (queued, or suppressed with the reason) in the caller's transaction.
    `message` must come from `disclosure.render` (via `message_for_patient`): never free text.
    `branch_id`: the branch the message is about, whose time zone quiet hours are read in (None: the chain's
    first branch's zone, see `quiet_hours.branch_zone`)."""
    require(ctx, "patients.message")
    if not isinstance(message, Message):  # free text about a prescription cannot reach a patient
        raise TypeError("queue_patient_message takes a disclosure.Message written by disclosure.render")
    key = event_key(dedupe_key)
    address = (address or "").strip()
    reason = ""
    if not consented:
        reason = NO_CONSENT
    elif not address:
        reason = NO_ADDRESS[channel]
    elif not (target := channel_target(session, ctx.tenant_id, channel)).ready:
        reason = target.reason
    elif patient_id is not None and opted_out(session, patient_id, channel):  # the message's own stop link
        reason = OPTED_OUT[channel]
    status = MessageStatus.SUPPRESSED if reason else MessageStatus.QUEUED
    body = message.body if channel is Channel.EMAIL else message.sms
    # Every e-mail and text to a patient carries its opt-out link (issue 18 §2, `optout`), except the sign-in
    # code the patient is waiting for; a browser's push is stopped on the device itself ("Stop" in the portal).
    # A dedupe hit below leaves the minted code unused: harmless.
    linked = channel in (Channel.EMAIL, Channel.SMS) and message.kind is not MessageKind.PORTAL_CODE
    if status is MessageStatus.QUEUED and patient_id is not None and linked:
        body += optout_line(session, ctx, patient_id, channel)
    return _write(session, ctx, message.kind.value, channel, address, message.subject, body, key, status, reason,
                  patient_id, branch_id)  # fmt: skip


def _write(
    session: Session,
    ctx: TenantContext,
    kind: str,
    channel: Channel,
    address: str,
    subject: str,
    body: str,
    key: str,
    status: MessageStatus,
    reason: str,
    patient_id: object,
    branch_id: object = None,
) -> Queued:
    row_id = uuid.uuid4()
    keys = chain_keys(session, ctx.tenant_id)
    created = session.execute(
        text(
            "INSERT INTO notification_messages (tenant_id, id, kind, channel, patient_id, recipient_enc, "
            "recipient_hint, subject_enc, body_enc, status, reason, dedupe_key, branch_id) VALUES (:t, :id, :k, :c, "
            ":p, :r, :hint, :s, :b, :st, :why, :key, :branch) ON CONFLICT (tenant_id, dedupe_key) DO NOTHING "
            "RETURNING id"
        ),
        {
            "t": ctx.tenant_id, "id": row_id, "k": kind, "c": channel.value, "p": patient_id,
            "r": keys.seal(TABLE, "recipient_enc", row_id, address) if address else None,
            "hint": mask(channel, address), "s": keys.seal(TABLE, "subject_enc", row_id, subject),
            "b": keys.seal(TABLE, "body_enc", row_id, body), "st": status.value, "why": reason, "key": key,
            "branch": branch_id,
        },
    ).first()  # fmt: skip
    if created is None:
        first = session.execute(
            text("SELECT id, status, reason FROM notification_messages WHERE dedupe_key = :k"), {"k": key}
        ).one()
        return Queued(first.id, MessageStatus(first.status), first.reason, created=False)
    if status is MessageStatus.QUEUED:
        _enqueue_dispatch(session, ctx, row_id)
    log_event(log, "notification.queued", kind=kind, channel=channel.value, status=status.value, id=str(row_id))
    return Queued(row_id, status, reason, created=True)


def _enqueue_dispatch(session: Session, ctx: TenantContext, row_id: uuid.UUID) -> None:
    enqueue_job(
        session, TenantContext.system(ctx.tenant_id), DISPATCH_JOB, queue=NOTIFICATIONS_QUEUE, message_id=str(row_id)
    )


def schedule_delivery(tenant_id: object, message_id: str, *, delay_seconds: int = 0) -> None:
    """Hand the delivery of one message to RQ, with retries at the configured growing intervals."""
    intervals = get_settings().notify_retry_intervals()
    queue = job_queue(NOTIFICATIONS_QUEUE, shared_redis())
    options: dict[str, Any] = {
        "job_id": f"notify-{message_id}-{secrets.token_hex(4)}",
        "description": f"notification {message_id}",
        "result_ttl": 3600,
        "failure_ttl": 7 * 24 * 3600,
        "retry": Retry(max=len(intervals), interval=intervals),
    }
    if delay_seconds > 0:
        queue.enqueue_in(timedelta(seconds=delay_seconds), DELIVER, str(tenant_id), message_id, **options)
    else:
        queue.enqueue(DELIVER, str(tenant_id), message_id, **options)


@job(DISPATCH_JOB)
def dispatch(session: Session, ctx: TenantContext, *, message_id: str) -> str:
    """Outbox job: the committed message goes to the notifications queue (run twice, it is still sent once:
    `deliver_message` sends only a queued row, under its lock)."""
    schedule_delivery(ctx.tenant_id, message_id)
    return "scheduled"


def _last_try() -> bool:
    current = get_current_job()
    return current is None or not current.retries_left


def deliver_message(tenant_id: str, message_id: str, now: datetime | None = None) -> str:
    """RQ entry point: try to send one message; raises (so RQ retries it later) when it was not sent.
    `now` is for tests (quiet hours); RQ never passes it."""
    ctx = TenantContext.system(uuid.UUID(tenant_id))
    now = now or datetime.now(UTC)
    last_try = _last_try()
    redis = shared_redis()
    skipped, failed_reason, held = False, "", None
    with tenant_session(ctx) as session:
        row = session.execute(
            text("SELECT * FROM notification_messages WHERE id = :id FOR UPDATE"), {"id": uuid.UUID(message_id)}
        ).first()
        if row is None:
            return "missing"  # RLS hides other tenants' rows
        if row.status != MessageStatus.QUEUED:
            return f"already {row.status}"
        channel = Channel(row.channel)
        target = channel_target(session, ctx.tenant_id, channel)
        if not target.ready:
            _update(session, row.id, MessageStatus.SUPPRESSED, target.reason, attempted=False)
            return MessageStatus.SUPPRESSED.value
        if row.patient_id is not None and opted_out(session, row.patient_id, channel):  # since it was queued
            _update(session, row.id, MessageStatus.SUPPRESSED, OPTED_OUT[channel], attempted=False)
            return MessageStatus.SUPPRESSED.value
        # Quiet hours (issue 18 §2, `quiet_hours`): decided now, at the moment of sending. A held message stays
        # queued with the reason, and a fresh delivery is scheduled for the end of the window (below).
        held = held_until(session, row.kind, row.branch_id, now)
        if held is not None:
            _update(session, row.id, MessageStatus.QUEUED, held_reason(held), attempted=False)
        elif breaker_open(redis, ctx.tenant_id, channel):
            skipped = True
        else:
            keys = chain_keys(session, ctx.tenant_id)
            to = keys.open(TABLE, "recipient_enc", row.id, row.recipient_enc)
            subject = keys.open(TABLE, "subject_enc", row.id, row.subject_enc)
            body = keys.open(TABLE, "body_enc", row.id, row.body_enc)
            log_event(log, "notification.sending", id=message_id, channel=channel.value, attempt=row.attempts + 1)
            outcome = notify(channel, target, to, subject, body)
            if outcome.expired:  # web push 404/410: forget the browser; retrying cannot help
                push.forget(session, json.loads(to)["id"])
                _update(session, row.id, MessageStatus.FAILED, outcome.reason, attempted=True)
                return MessageStatus.FAILED.value
            record_outcome(redis, ctx.tenant_id, channel, outcome.sent)
            if outcome.sent:
                _update(session, row.id, MessageStatus.SENT, "", attempted=True)
            else:
                failed_reason = outcome.reason
                status = MessageStatus.FAILED if last_try else MessageStatus.QUEUED
                _update(session, row.id, status, outcome.reason, attempted=True)
    # Committed: the outcome is recorded whatever happens next.
    if held is not None:
        log_event(log, "notification.held_quiet_hours", id=message_id, until=held.isoformat())
        schedule_delivery(ctx.tenant_id, message_id, delay_seconds=seconds_until(held, now))
        return "held"
    if skipped:
        log_event(log, "notification.skipped_breaker_open", id=message_id, channel=channel.value)
        if last_try:  # RQ's retries are spent: schedule a fresh delivery, never drop the message
            schedule_delivery(ctx.tenant_id, message_id, delay_seconds=get_settings().notify_retry_intervals()[-1])
            return "skipped"
        raise DeliveryFailed("skipped: the channel's circuit breaker is open")
    if failed_reason:
        if last_try:
            log_event(log, "notification.failed", logging.WARNING, id=message_id, channel=channel.value)
            return MessageStatus.FAILED.value
        raise DeliveryFailed(failed_reason)
    log_event(log, "notification.sent", id=message_id, channel=channel.value)
    return MessageStatus.SENT.value


def _update(session: Session, row_id: object, status: MessageStatus, reason: str, *, attempted: bool) -> None:
    session.execute(
        text(
            "UPDATE notification_messages SET status = :s, reason = :r, "
            "attempts = attempts + CASE WHEN :a THEN 1 ELSE 0 END, "
            "last_attempt_at = CASE WHEN :a THEN now() ELSE last_attempt_at END, "
            "sent_at = CASE WHEN :s = 'sent' THEN now() ELSE sent_at END WHERE id = :id"
        ),
        {"s": status.value, "r": reason, "a": attempted, "id": row_id},
    )


# --- the delivery log -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    id: str
    kind: str
    kind_label: str
    channel: Channel
    recipient: str  # masked
    status: MessageStatus
    reason: str
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None


def kind_label(kind: str) -> str:
    try:
        return MessageKind(kind).label
    except ValueError:
        return kind.replace("_", " ").replace(".", ": ").capitalize()


def _choice(value: object, allowed: type[StrEnum], field: str) -> str:
    chosen = str(value or "").strip()
    if chosen and chosen not in {m.value for m in allowed}:
        raise ValidationFailed(f"No such {field}.", field=field)
    return chosen


def _entry(row: Any) -> LogEntry:
    return LogEntry(
        str(row.id), row.kind, kind_label(row.kind), Channel(row.channel), row.recipient_hint,
        MessageStatus(row.status), row.reason, int(row.attempts), row.created_at, row.last_attempt_at, row.sent_at,
    )  # fmt: skip


_LOG_COLUMNS = (
    "SELECT id, kind, channel, recipient_hint, status, reason, attempts, created_at, last_attempt_at, sent_at "
    "FROM notification_messages "
)


def delivery_log(
    session: Session, ctx: TenantContext, *, kind: object = "", channel: object = "", status: object = "",
    limit: int = 200,
) -> list[LogEntry]:  # fmt: skip
    """The chain's messages, newest first, filtered by kind, channel and status (never a subject or body)."""
    require(ctx, "notifications.view")
    chosen_kind = str(kind or "").strip()
    if chosen_kind and not all(c.isalnum() or c in "._" for c in chosen_kind):
        raise ValidationFailed("No such kind of message.", field="kind")
    rows = session.execute(
        text(
            _LOG_COLUMNS + "WHERE (:k = '' OR kind = :k) AND (:c = '' OR channel = :c) AND (:s = '' OR status = :s) "
            "ORDER BY created_at DESC, id LIMIT :n"
        ),
        {
            "k": chosen_kind, "c": _choice(channel, Channel, "channel"), "s": _choice(status, MessageStatus, "status"),
            "n": max(1, min(int(limit), 1000)),
        },
    ).all()  # fmt: skip
    return [_entry(r) for r in rows]


def log_entry(session: Session, ctx: TenantContext, message_id: object) -> LogEntry:
    require(ctx, "notifications.view")
    row = session.execute(text(_LOG_COLUMNS + "WHERE id = :id"), {"id": _uuid(message_id)}).first()
    if row is None:
        raise NotFound("No such message.")
    return _entry(row)


def _uuid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("No such message.") from None


def resend(session: Session, ctx: TenantContext, message_id: object) -> LogEntry:
    """Put a failed message back on the queue: a new attempt of the same row (same content), audited."""
    require(ctx, "notifications.resend")
    row = session.execute(
        text("SELECT id, status, kind, channel FROM notification_messages WHERE id = :id FOR UPDATE"),
        {"id": _uuid(message_id)},
    ).first()
    if row is None:
        raise NotFound("No such message.")
    if row.status != MessageStatus.FAILED:
        raise Conflict(f"Only a failed message can be sent again (this one is {row.status}).")
    session.execute(
        text("UPDATE notification_messages SET status = 'queued', reason = '' WHERE id = :id"), {"id": row.id}
    )
    _enqueue_dispatch(session, ctx, row.id)
    record_audit(
        session, ctx.tenant_id, "notifications.resent", actor_user_id=ctx.user_id, entity_type="notification_message",
        entity_id=str(row.id), details={"kind": row.kind, "channel": row.channel},
    )  # fmt: skip
    return _entry(session.execute(text(_LOG_COLUMNS + "WHERE id = :id"), {"id": row.id}).one())


def reseal_notifications(session: Session, ctx: TenantContext, after: object, limit: int) -> tuple[object, int]:
    """One batch of a key rotation's re-encryption of the messages' recipients and texts."""
    require(ctx, "keys.rotate")
    return reseal_rows(session, chain_keys(session, ctx.tenant_id), TABLE, SEALED, after, limit)
