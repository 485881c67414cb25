"""Feedback: after a pickup the customer rates the visit (1-5) and may comment; the owner and the branch's
managers read it per branch, the trend by week and the unhappy comments first.

A customer rates each picked-up fill of their own once. The comment is sealed with the chain's key (patient
free text) and scored offline (`backend.feedback.sentiment`). A very negative one raises an alert for the
branch's managers and the owner (their dashboard counts it, the feedback page shows it until marked seen):
a sentiment score at or below VERY_NEGATIVE, or a rating of 1 with a negative comment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.core.validation import as_uuid
from backend.feedback.sentiment import SentimentLabel, score_comment
from backend.prescriptions.pickup import handed_over_fill
from backend.protection.keys import chain_keys, reseal_rows
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

TABLE = "customer_feedback"
COMMENT_LIMIT = 1000
VERY_NEGATIVE = Decimal("-0.6")  # a sentiment score at or below this raises an alert on its own
TREND_WEEKS = 12
COMMENTS_SHOWN = 200


@dataclass(frozen=True)
class LeftFeedback:
    id: str
    rating: int
    sentiment_score: Decimal
    sentiment_label: SentimentLabel
    alert: bool


@dataclass(frozen=True)
class WeekFeedback:
    week: date  # the Monday the week starts, in the branch's time zone
    count: int
    average_rating: Decimal
    average_sentiment: Decimal


@dataclass(frozen=True)
class FeedbackComment:
    id: str
    rating: int
    comment: str
    sentiment_score: Decimal
    sentiment_label: SentimentLabel
    alert: bool
    alert_seen: bool
    created_at: datetime


@dataclass(frozen=True)
class BranchFeedback:
    branch_id: str
    branch_name: str
    time_zone: str
    count: int
    average_rating: Decimal | None
    average_sentiment: Decimal | None
    open_alerts: int
    weeks: tuple[WeekFeedback, ...]  # oldest first
    comments: tuple[FeedbackComment, ...]  # open alerts, then the most negative, then the newest


def raises_alert(rating: int, score: Decimal, label: SentimentLabel) -> bool:
    """A very negative comment: the branch manager should hear about it today."""
    return score <= VERY_NEGATIVE or (rating == 1 and label == SentimentLabel.NEGATIVE)


def _rating(value: object) -> int:
    try:
        rating = int(str(value).strip())
    except ValueError:
        raise ValidationFailed("Choose a rating from 1 to 5 stars.", field="rating") from None
    if not 1 <= rating <= 5:
        raise ValidationFailed("Choose a rating from 1 to 5 stars.", field="rating")
    return rating


def leave_feedback(
    session: Session, ctx: TenantContext, patient_id: object, fill_id: object, rating: object, comment: str
) -> LeftFeedback:
    """A verified customer rates the visit at which they picked up a fill of theirs (once per fill).
    `patient_id` is the customer session's patient (never what the browser sent)."""
    require(ctx, "portal.feedback")
    if ctx.patient_id is not None and str(ctx.patient_id) != str(patient_id).strip().lower():
        raise NotFound("We could not find that pickup among your prescriptions.")  # only the session's own
    score_of = _rating(rating)
    text_ = str(comment or "").strip()
    if len(text_) > COMMENT_LIMIT:
        raise ValidationFailed(f"Keep the comment under {COMMENT_LIMIT} characters.", field="comment")
    fill = handed_over_fill(session, fill_id)
    if fill is None or fill.patient_id != str(patient_id).strip().lower():
        raise NotFound("We could not find that pickup among your prescriptions.")
    if not fill.picked_up or fill.pickup_id is None:
        raise Conflict("You can rate a visit once you have picked up the prescription.")
    if session.execute(text("SELECT 1 FROM customer_feedback WHERE fill_id = :f"), {"f": fill.id}).first():
        raise Conflict("You have already rated this pickup. Thank you!")
    sentiment = score_comment(text_)
    score = Decimal(str(sentiment.score)).quantize(Decimal("0.0001"))
    alert = raises_alert(score_of, score, sentiment.label)
    feedback_id = uuid.uuid4()
    sealed = chain_keys(session, ctx.tenant_id).seal(TABLE, "comment_enc", feedback_id, text_) if text_ else None
    session.execute(
        text(
            "INSERT INTO customer_feedback (tenant_id, id, branch_id, patient_id, fill_id, pickup_id, rating, "
            "comment_enc, sentiment_score, sentiment_label, alert) "
            "VALUES (:t, :id, :b, :p, :f, :pk, :r, :c, :s, :l, :a) ON CONFLICT (tenant_id, fill_id) DO NOTHING"
        ),
        {
            "t": ctx.tenant_id, "id": feedback_id, "b": fill.branch_id, "p": fill.patient_id, "f": fill.id,
            "pk": fill.pickup_id, "r": score_of, "c": sealed, "s": score, "l": str(sentiment.label), "a": alert,
        },
    )  # fmt: skip
    if not session.execute(text("SELECT 1 FROM customer_feedback WHERE id = :id"), {"id": feedback_id}).first():
        raise Conflict("You have already rated this pickup. Thank you!")  # a second tab won the race
    details = {"branch_id": fill.branch_id, "rating": score_of, "sentiment": str(sentiment.label)}
    record_audit(session, ctx.tenant_id, "feedback.left", entity_type="feedback", entity_id=str(feedback_id),
                 details=details)  # fmt: skip
    if alert:
        record_audit(session, ctx.tenant_id, "feedback.alert_raised", entity_type="feedback",
                     entity_id=str(feedback_id), details={**details, "score": str(score)})  # fmt: skip
    return LeftFeedback(str(feedback_id), score_of, score, sentiment.label, alert)


def _branch(session: Session, ctx: TenantContext, branch_id: object) -> tuple[uuid.UUID, str, str]:
    key = as_uuid(str(branch_id), "branch")
    row = session.execute(text("SELECT id, name, time_zone FROM branches WHERE id = :b"), {"b": key}).first()
    if row is None:
        raise NotFound("No such branch.")
    if not ctx.can_see_branch(row.id):
        raise PermissionDenied("You can read the feedback of your own branches only.")
    return row.id, row.name, row.time_zone


def _average(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def branch_feedback(session: Session, ctx: TenantContext, branch_id: object) -> BranchFeedback:
    """A branch's feedback: averages, the last TREND_WEEKS weeks, and the comments with the open alerts and
    the most negative first."""
    require(ctx, "feedback.view")
    key, name, zone = _branch(session, ctx, branch_id)
    totals = session.execute(
        text(
            "SELECT count(*) AS n, avg(rating) AS rating, avg(sentiment_score) AS sentiment, "
            "count(*) FILTER (WHERE alert AND alert_seen_at IS NULL) AS open_alerts "
            "FROM customer_feedback WHERE branch_id = :b"
        ),
        {"b": key},
    ).one()
    weeks = session.execute(
        text(
            "SELECT date_trunc('week', created_at AT TIME ZONE :z)::date AS week, count(*) AS n, "
            "avg(rating) AS rating, avg(sentiment_score) AS sentiment FROM customer_feedback "
            "WHERE branch_id = :b AND created_at >= now() - make_interval(weeks => :w) GROUP BY 1 ORDER BY 1"
        ),
        {"b": key, "z": zone, "w": TREND_WEEKS},
    ).all()
    rows = session.execute(
        text(
            "SELECT id, rating, comment_enc, sentiment_score, sentiment_label, alert, alert_seen_at, created_at "
            "FROM customer_feedback WHERE branch_id = :b "
            "ORDER BY (alert AND alert_seen_at IS NULL) DESC, sentiment_score, rating, created_at DESC LIMIT :n"
        ),
        {"b": key, "n": COMMENTS_SHOWN},
    ).all()
    keys = chain_keys(session, ctx.tenant_id)
    comments = tuple(
        FeedbackComment(
            id=str(r.id),
            rating=r.rating,
            comment=keys.open(TABLE, "comment_enc", r.id, r.comment_enc) if r.comment_enc else "",
            sentiment_score=Decimal(str(r.sentiment_score)),
            sentiment_label=SentimentLabel(r.sentiment_label),
            alert=r.alert,
            alert_seen=r.alert_seen_at is not None,
            created_at=r.created_at,
        )
        for r in rows
    )
    return BranchFeedback(
        branch_id=str(key),
        branch_name=name,
        time_zone=zone,
        count=totals.n,
        average_rating=_average(totals.rating),
        average_sentiment=_average(totals.sentiment),
        open_alerts=totals.open_alerts,
        weeks=tuple(
            WeekFeedback(w.week, w.n, _average(w.rating) or Decimal(0), _average(w.sentiment) or Decimal(0))
            for w in weeks
        ),
        comments=comments,
    )


def open_feedback_alerts(session: Session, ctx: TenantContext, branch_id: object) -> int:
    """How many very negative comments at the branch nobody has marked seen (the dashboard's card)."""
    require(ctx, "feedback.view")
    key, _, _ = _branch(session, ctx, branch_id)
    found = session.execute(
        text("SELECT count(*) FROM customer_feedback WHERE branch_id = :b AND alert AND alert_seen_at IS NULL"),
        {"b": key},
    ).scalar_one()
    return int(found)


def mark_alert_seen(session: Session, ctx: TenantContext, feedback_id: object) -> None:
    """A manager or the owner read the very negative comment (it stays on the page, without the alert)."""
    require(ctx, "feedback.view")
    key = as_uuid(str(feedback_id), "feedback")
    row = session.execute(
        text("SELECT id, branch_id, alert, alert_seen_at FROM customer_feedback WHERE id = :f FOR UPDATE"),
        {"f": key},
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such feedback.")
    if not row.alert or row.alert_seen_at is not None:
        return
    session.execute(
        text("UPDATE customer_feedback SET alert_seen_by = :u, alert_seen_at = now() WHERE id = :f"),
        {"u": ctx.user_id, "f": key},
    )
    record_audit(session, ctx.tenant_id, "feedback.alert_seen", actor_user_id=ctx.user_id, entity_type="feedback",
                 entity_id=str(key), details={"branch_id": str(row.branch_id)})  # fmt: skip


def reseal_feedback(session: Session, ctx: TenantContext, after: object, limit: int) -> tuple[object, int]:
    """One batch of a key rotation's re-encryption of the customers' comments (`pharmacy-saas keys rotate`)."""
    require(ctx, "keys.rotate")
    return reseal_rows(session, chain_keys(session, ctx.tenant_id), TABLE, ("comment_enc",), after, limit)


def forget_disposed_comments(session: Session, ctx: TenantContext, patient_ids: list[str]) -> int:
    """Records retention's disposal: the customers' comments go; the rating and its sentiment stay (the
    branch's averages and trend do not change). Returns the comments removed."""
    require(ctx, "retention.dispose")
    forgotten = session.execute(
        text(
            "UPDATE customer_feedback SET comment_enc = NULL "
            "WHERE patient_id = ANY(CAST(:p AS uuid[])) AND comment_enc IS NOT NULL"
        ),
        {"p": [uuid.UUID(str(p)) for p in patient_ids]},
    )
    return int(forgotten.rowcount or 0)  # type: ignore[attr-defined]
