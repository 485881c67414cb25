"""The owner's (and a manager's, for their branches) feedback page: one branch's ratings and comments, the
trend by week, the alerts and the most negative comments first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.feedback.service import BranchFeedback, branch_feedback, mark_alert_seen
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from pharmacy_saas.state.display import display_date, display_time
from tenants.context import TenantContext

LABELS = {"negative": "Negative", "neutral": "Neutral", "positive": "Positive"}


def _stars(rating: int) -> str:
    return "★" * rating + "☆" * (5 - rating)


def _figure(value: Decimal | None) -> str:
    return "—" if value is None else str(value)


class FeedbackState(ShellState):
    feedback_branch: str = ""  # the branch whose feedback is on screen
    summary: dict[str, str] = {}
    weeks: list[dict[str, Any]] = []  # the chart's and table's rows: week, count, rating, sentiment
    comments: list[dict[str, str]] = []
    error: str = ""

    @rx.event
    @guarded("feedback.view", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        await self._show(ctx)

    @rx.event
    @guarded("feedback.view")
    async def switch_branch(self, ctx: TenantContext, name: str) -> None:
        """The shell's branch picker: the page follows the branch at once."""
        if name in {b["name"] for b in self.branches}:
            self.current_branch = name
            await self._show(ctx)

    @rx.event
    @guarded("feedback.view")
    async def mark_seen(self, ctx: TenantContext, feedback_id: str) -> Any:
        try:
            await transact(ctx, mark_alert_seen, str(feedback_id))
        except PharmacyError as exc:
            return rx.toast.error(exc.message)
        await self._show(ctx)
        return None

    async def _show(self, ctx: TenantContext) -> None:
        branch = self._current_branch_id()
        self.summary, self.weeks, self.comments = {}, [], []
        if not branch:
            self.error = "No branch to show."
            return
        try:
            found = await transact(ctx, branch_feedback, branch)
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.error = ""
        self._fill(found)

    def _fill(self, found: BranchFeedback) -> None:
        self.feedback_branch = found.branch_name
        self.summary = {
            "count": str(found.count),
            "rating": _figure(found.average_rating),
            "sentiment": _figure(found.average_sentiment),
            "alerts": str(found.open_alerts),
        }
        # A chart draws numbers: the floats are only heights; the table shows the Decimals as text.
        self.weeks = [
            {
                "week": display_date(w.week),
                "count": w.count,
                "rating": float(w.average_rating),
                "sentiment": float(w.average_sentiment),
                "rating_text": str(w.average_rating),
                "sentiment_text": str(w.average_sentiment),
            }
            for w in found.weeks
        ]
        self.comments = [
            {
                "id": c.id,
                "stars": _stars(c.rating),
                "rating": f"{c.rating}/5",
                "comment": c.comment or "(no comment)",
                "label": LABELS[str(c.sentiment_label)],
                "tone": str(c.sentiment_label),
                "score": str(c.sentiment_score),
                "when": display_time(c.created_at, found.time_zone),
                "alert": "open" if c.alert and not c.alert_seen else "seen" if c.alert else "",
            }
            for c in found.comments
        ]
