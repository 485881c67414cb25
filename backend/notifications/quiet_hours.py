"""Quiet hours (issue 18 §2): the chain's window (e.g. 21:00-08:00) in which no patient message is sent.

Set by the owner on Settings > Message templates; off by default. Read in the time zone of the branch the
message is about (`notification_messages.branch_id`); a message without a branch uses the chain's first
branch's zone (the only one, for most chains), and UTC when the chain has none.

Checked by `delivery.deliver_message` at the moment of sending, not when the message is written: a message
queued at 20:59 and retried at 21:05 is held too. A held message stays `queued` with the reason "Held for
quiet hours until 08:00" and a fresh delivery is scheduled (RQ `enqueue_in`) for the end of the window.

Not held (`EXEMPT`): the portal sign-in code, which the patient is waiting for, and the receipts that answer
the patient's own action a moment ago (refill request received, prescription received).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import ValidationFailed
from backend.notifications.disclosure import MessageKind
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

EXEMPT = frozenset({MessageKind.PORTAL_CODE, MessageKind.REFILL_REQUEST_RECEIVED, MessageKind.PRESCRIPTION_RECEIVED})


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start < self.end:  # 13:00-15:00
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # 21:00-08:00 spans midnight


def quiet_hours(session: Session) -> QuietHours | None:
    """The caller's chain's quiet hours, or None (off)."""
    row = session.execute(text("SELECT quiet_start, quiet_end FROM notification_settings")).first()
    if row is None or row.quiet_start is None:
        return None
    return QuietHours(row.quiet_start, row.quiet_end)


def quiet_hours_setting(session: Session, ctx: TenantContext) -> QuietHours | None:
    """The chain's quiet hours for its settings page (owner)."""
    require(ctx, "messages.templates")
    return quiet_hours(session)


def _time(value: object, field: str) -> time:
    try:
        return time.fromisoformat(str(value or "").strip()[:5])
    except ValueError:
        raise ValidationFailed("Give the time as HH:MM, e.g. 21:00.", field=field) from None


def set_quiet_hours(
    session: Session, ctx: TenantContext, *, enabled: bool, start: object = "", end: object = ""
) -> QuietHours | None:
    """Turn quiet hours on (from `start` to `end`, local time of each branch) or off; audited."""
    require(ctx, "messages.templates")
    hours = None
    if enabled:
        hours = QuietHours(_time(start, "quiet_start"), _time(end, "quiet_end"))
        if hours.start == hours.end:
            raise ValidationFailed("Quiet hours need a start and an end that differ.", field="quiet_end")
    session.execute(
        text(
            "INSERT INTO notification_settings (tenant_id, quiet_start, quiet_end, updated_by) "
            "VALUES (:t, :s, :e, :u) ON CONFLICT (tenant_id) DO UPDATE SET quiet_start = EXCLUDED.quiet_start, "
            "quiet_end = EXCLUDED.quiet_end, updated_by = EXCLUDED.updated_by, updated_at = now()"
        ),
        {"t": ctx.tenant_id, "s": hours and hours.start, "e": hours and hours.end, "u": ctx.user_id},
    )
    details = {"start": f"{hours.start:%H:%M}", "end": f"{hours.end:%H:%M}"} if hours else {"off": "yes"}
    record_audit(session, ctx.tenant_id, "messages.quiet_hours_changed", actor_user_id=ctx.user_id,
                 entity_type="notification_settings", entity_id=str(ctx.tenant_id), details=details)  # fmt: skip
    return hours


def branch_zone(session: Session, branch_id: object) -> ZoneInfo:
    """The branch's zone; without a branch, the chain's first branch's; UTC when there is none."""
    row = session.execute(
        text(
            "SELECT time_zone FROM branches WHERE (CAST(:b AS uuid) IS NULL OR id = CAST(:b AS uuid)) "
            "ORDER BY created_at, id LIMIT 1"
        ),
        {"b": str(branch_id) if branch_id else None},
    ).first()
    try:
        return ZoneInfo(row.time_zone) if row else ZoneInfo("UTC")
    except ZoneInfoNotFoundError:
        return ZoneInfo("UTC")


def held_until(session: Session, kind: str, branch_id: object, now: datetime) -> datetime | None:
    """When a message of `kind` about `branch_id` may be sent, if `now` is inside quiet hours; else None.
    The answer is the local end of the window (today's or tomorrow's) as an aware datetime in the zone."""
    hours = quiet_hours(session)
    if hours is None or kind in EXEMPT:
        return None
    zone = branch_zone(session, branch_id)
    local = now.astimezone(zone)
    if not hours.contains(local.time().replace(tzinfo=None)):
        return None
    end = datetime.combine(local.date(), hours.end, tzinfo=zone)
    if end <= local:
        end += timedelta(days=1)
    return end


def held_reason(until: datetime) -> str:
    return f"Held for quiet hours until {until:%H:%M}"


def seconds_until(until: datetime, now: datetime) -> int:
    return max(1, int((until.astimezone(UTC) - now.astimezone(UTC)).total_seconds()) + 1)
