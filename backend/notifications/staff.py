"""Staff messages on the notifications queue (issue 18 §6): an e-mail to a member of staff, written in the
business transaction like a patient message and delivered by the same worker with the same retries, log
and dedupe key.

A staff message is free text, so it must not be about a patient: its callers write counts and lot numbers,
never a name, an Rx number or a fill code. Only background work (the system) writes one; patient messages
go through `delivery.queue_patient_message`, which takes only a `disclosure.Message`.
"""

from __future__ import annotations

from sqlmodel import Session

from backend.notifications.delivery import MessageStatus, Queued, _write, event_key
from backend.notifications.notify import Channel, channel_target
from tenants.context import TenantContext
from tenants.roles import require

NO_STAFF_ADDRESS = "No e-mail address for this member of staff"


def queue_staff_message(
    session: Session, ctx: TenantContext, *, kind: str, address: str, subject: str, body: str, dedupe_key: str
) -> Queued:
    """Write one staff e-mail (queued, or suppressed with the reason) in the caller's transaction."""
    require(ctx, "notifications.staff_message")
    key = event_key(dedupe_key)
    address = (address or "").strip()
    reason = ""
    if not address:
        reason = NO_STAFF_ADDRESS
    elif not (target := channel_target(session, ctx.tenant_id, Channel.EMAIL)).ready:
        reason = target.reason  # the chain's e-mail (its own server or the platform's) is not configured
    status = MessageStatus.SUPPRESSED if reason else MessageStatus.QUEUED
    return _write(session, ctx, kind, Channel.EMAIL, address, subject, body, key, status, reason, None)
