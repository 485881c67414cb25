"""The delivery log shows a message's times as the branch reads them, not in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.notifications.delivery import LogEntry, MessageStatus
from backend.notifications.notify import Channel
from pharmacy_saas.state.notifications import _row


def test_times_are_in_the_branch_zone_with_its_label():
    sent = datetime(2026, 12, 5, 14, 30, 5, tzinfo=UTC)
    entry = LogEntry("m1", "ready_for_pickup", "Ready", Channel.EMAIL, "p***@example.com", MessageStatus.SENT, "", 1,
                     sent, sent, sent)  # fmt: skip
    row = _row(entry, "America/New_York")
    assert row.created == "2026-12-05 09:30:05 EST"
    assert row.sent == "2026-12-05 09:30:05 EST"
    assert _row(entry, "").created == "2026-12-05 14:30:05 UTC"
