"""The delivery log of e-mails and texts (issue 18 §3): kind, channel, masked recipient, status, the provider's
reason and times, filtered by kind, channel and status; a failed message can be sent again (owner, managers)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import reflex as rx

from backend.core.display import display_time
from backend.core.errors import PharmacyError
from backend.notifications.delivery import LogEntry, MessageStatus, delivery_log, resend
from backend.notifications.disclosure import MessageKind
from backend.notifications.notify import Channel
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext
from tenants.roles import role_has

KIND_CHOICES = [(k.value, k.label) for k in MessageKind]
CHANNEL_CHOICES = [(c.value, c.label) for c in Channel]
STATUS_CHOICES = [(s.value, s.label) for s in MessageStatus]


@dataclasses.dataclass
class NotificationRow:
    id: str
    kind: str
    channel: str
    recipient: str
    status: str
    reason: str
    attempts: str
    created: str
    last_attempt: str
    sent: str
    failed: bool


def _row(e: LogEntry, time_zone: str) -> NotificationRow:
    """One message, its times in the zone of the branch the member is working at (labelled)."""

    def when(moment: datetime | None) -> str:
        return display_time(moment, time_zone, seconds=True)

    return NotificationRow(
        e.id, e.kind_label, e.channel.label, e.recipient or "—", e.status.value, e.reason, str(e.attempts),
        when(e.created_at), when(e.last_attempt_at), when(e.sent_at), e.status is MessageStatus.FAILED,
    )  # fmt: skip


class NotificationsState(ShellState):
    """Messages sent: the chain's delivery log."""

    messages: list[NotificationRow] = []
    kind_filter: str = ""
    channel_filter: str = ""
    status_filter: str = ""
    can_resend: bool = False
    log_error: str = ""

    async def _reload(self, ctx: TenantContext) -> None:
        try:
            found = await transact(
                ctx, delivery_log, kind=self.kind_filter, channel=self.channel_filter, status=self.status_filter
            )
        except PharmacyError as exc:
            self.log_error = exc.message
            return
        self.log_error = ""
        zone = self._time_zone(self._current_branch_id())
        self.messages = [_row(e, zone) for e in found]

    @rx.event
    @guarded("notifications.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.can_resend = role_has(ctx.role, "notifications.resend")
        await self._reload(ctx)

    @rx.event
    @guarded("notifications.view")
    async def filter(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        self.kind_filter = str(form.get("kind", "") or "")
        self.channel_filter = str(form.get("channel", "") or "")
        self.status_filter = str(form.get("status", "") or "")
        await self._reload(ctx)

    @rx.event
    @guarded("notifications.resend")
    async def resend(self, ctx: TenantContext, message_id: str) -> Any:
        try:
            await transact(ctx, resend, message_id)
        except PharmacyError as exc:
            return rx.toast.error(exc.message)
        await self._reload(ctx)
        return rx.toast.success("The message is queued again: it is sent within a few seconds.")

    @rx.event
    @guarded("notifications.view")
    async def refresh(self, ctx: TenantContext) -> None:
        await self._reload(ctx)
