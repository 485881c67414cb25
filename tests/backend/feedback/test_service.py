"""Feedback after pickup: a verified customer rates each picked-up fill of theirs once; every refusal says why
and writes nothing; the comment is sealed; a very negative comment raises an alert for the branch's managers
and the owner (and an audit event), a mild one does not; a manager reads only their branches."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text

from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.feedback.sentiment import SentimentLabel
from backend.feedback.service import (
    COMMENT_LIMIT,
    branch_feedback,
    forget_disposed_comments,
    leave_feedback,
    mark_alert_seen,
    open_feedback_alerts,
)
from tenants.context import TenantContext
from tenants.roles import CUSTOMER, MANAGER, PORTAL
from tests.backend.prescriptions.test_pickup import checked_fill, picked_up

ANGRY = "Waited an hour, the pharmacist was rude and they gave me the wrong pills. Terrible, never again."


def customer(pharmacy) -> TenantContext:
    return TenantContext(tenant_id=pharmacy.owner.tenant_id, user_id=None, role=CUSTOMER)


@pytest.fixture
def handed(pharmacy, db):
    """A patient's fill, checked and picked up at the counter: (patient id, fill id)."""
    patient = pharmacy.patient()
    fill = checked_fill(pharmacy, db, patient=patient)
    picked_up(pharmacy, fill.id)
    return patient, fill.id


def rows(db, pharmacy) -> list:
    db.execute(text("RESET ROLE"))
    return db.execute(
        text("SELECT * FROM customer_feedback WHERE tenant_id = :t"), {"t": pharmacy.owner.tenant_id}
    ).all()


def audit_actions(db, pharmacy) -> list[str]:
    db.execute(text("RESET ROLE"))
    found = db.execute(
        text("SELECT action FROM audit_events WHERE tenant_id = :t AND action LIKE 'feedback.%' ORDER BY seq"),
        {"t": pharmacy.owner.tenant_id},
    )
    return list(found.scalars())


def test_a_disposed_patients_comment_goes_and_the_rating_stays(pharmacy, db, handed):
    patient, fill = handed
    pharmacy.run(customer(pharmacy), leave_feedback, patient, fill, "2", "Slow, waited half an hour.")
    with pytest.raises(PermissionDenied):  # records retention's call, the owner's signed disposal
        pharmacy.run(pharmacy.pharmacist, forget_disposed_comments, [patient])
    assert pharmacy.run(pharmacy.owner, forget_disposed_comments, [patient]) == 1
    [row] = rows(db, pharmacy)
    assert (row.comment_enc, row.rating, row.sentiment_label) == (None, 2, "negative")


def test_a_customer_rates_a_picked_up_fill_once_and_the_comment_is_sealed(pharmacy, db, handed):
    patient, fill = handed
    left = pharmacy.run(customer(pharmacy), leave_feedback, patient, fill, "5", "Quick and friendly, thank you!")
    assert (left.rating, left.sentiment_label, left.alert) == (5, SentimentLabel.POSITIVE, False)
    [row] = rows(db, pharmacy)
    assert b"friendly" not in bytes(row.comment_enc)
    assert (str(row.branch_id), row.rating, row.sentiment_label) == (pharmacy.branch, 5, "positive")
    with pytest.raises(Conflict, match="already rated"):
        pharmacy.run(customer(pharmacy), leave_feedback, patient, fill, 4, "again")
    assert len(rows(db, pharmacy)) == 1
    assert audit_actions(db, pharmacy) == ["feedback.left"]


def test_a_fill_not_picked_up_cannot_be_rated(pharmacy, db):
    patient = pharmacy.patient()
    fill = checked_fill(pharmacy, db, patient=patient)
    with pytest.raises(Conflict, match="once you have picked up"):
        pharmacy.run(customer(pharmacy), leave_feedback, patient, fill.id, 4, "")
    assert rows(db, pharmacy) == []


def test_another_patients_fill_or_an_unknown_fill_is_not_found(pharmacy, db, handed):
    _, fill = handed
    someone_else = pharmacy.patient("Sam Other", born="1971-02-03")
    for patient, fill_id in ((someone_else, fill), (handed[0], str(uuid.uuid4())), (handed[0], "not-a-fill")):
        with pytest.raises(NotFound):
            pharmacy.run(customer(pharmacy), leave_feedback, patient, fill_id, 5, "")
    assert rows(db, pharmacy) == []


@pytest.mark.parametrize("rating", ["0", "6", "", "five", None, "-1"])
def test_a_rating_outside_one_to_five_is_refused(pharmacy, db, handed, rating):
    with pytest.raises(ValidationFailed, match="1 to 5"):
        pharmacy.run(customer(pharmacy), leave_feedback, *handed, rating, "fine")
    assert rows(db, pharmacy) == []


def test_a_comment_too_long_is_refused(pharmacy, db, handed):
    with pytest.raises(ValidationFailed, match=str(COMMENT_LIMIT)):
        pharmacy.run(customer(pharmacy), leave_feedback, *handed, 3, "x" * (COMMENT_LIMIT + 1))
    assert rows(db, pharmacy) == []


def test_only_a_verified_customer_may_leave_feedback(pharmacy, db, handed):
    for role in (PORTAL, "owner", "cashier"):
        ctx = TenantContext(tenant_id=pharmacy.owner.tenant_id, user_id=pharmacy.owner.user_id, role=role)
        with pytest.raises(PermissionDenied):
            pharmacy.run(ctx, leave_feedback, *handed, 5, "")
    assert rows(db, pharmacy) == []


def test_a_very_negative_comment_raises_an_alert_a_mild_one_does_not(pharmacy, db):
    patient = pharmacy.patient()
    fills = []
    for _ in range(2):
        fill = checked_fill(pharmacy, db, patient=patient)
        picked_up(pharmacy, fill.id)
        fills.append(fill.id)
    mild = pharmacy.run(customer(pharmacy), leave_feedback, patient, fills[0], 3, "A bit slow today.")
    assert mild.sentiment_label == SentimentLabel.NEGATIVE and not mild.alert
    assert pharmacy.run(pharmacy.owner, open_feedback_alerts, pharmacy.branch) == 0
    angry = pharmacy.run(customer(pharmacy), leave_feedback, patient, fills[1], 1, ANGRY)
    assert angry.alert and angry.sentiment_score <= Decimal("-0.6")
    assert audit_actions(db, pharmacy) == ["feedback.left", "feedback.left", "feedback.alert_raised"]

    page = pharmacy.run(pharmacy.owner, branch_feedback, pharmacy.branch)
    assert [c.comment for c in page.comments] == [ANGRY, "A bit slow today."]  # the alert and most negative first
    assert (page.count, page.average_rating, page.open_alerts) == (2, Decimal("2.00"), 1)
    assert [w.count for w in page.weeks] == [2]

    manager = TenantContext(
        tenant_id=pharmacy.owner.tenant_id, user_id=uuid.uuid4(), role=MANAGER,
        branch_ids=frozenset({uuid.UUID(pharmacy.branch)}),
    )  # fmt: skip
    assert pharmacy.run(manager, open_feedback_alerts, pharmacy.branch) == 1
    pharmacy.run(manager, mark_alert_seen, angry.id)
    assert pharmacy.run(pharmacy.owner, open_feedback_alerts, pharmacy.branch) == 0
    assert pharmacy.run(pharmacy.owner, branch_feedback, pharmacy.branch).comments[0].alert_seen
    assert audit_actions(db, pharmacy)[-1] == "feedback.alert_seen"

    elsewhere = TenantContext(
        tenant_id=pharmacy.owner.tenant_id, user_id=uuid.uuid4(), role=MANAGER,
        branch_ids=frozenset({uuid.UUID(pharmacy.other_branch)}),
    )  # fmt: skip
    with pytest.raises(PermissionDenied):
        pharmacy.run(elsewhere, branch_feedback, pharmacy.branch)
    with pytest.raises(NotFound):
        pharmacy.run(elsewhere, mark_alert_seen, angry.id)
    with pytest.raises(PermissionDenied):
        pharmacy.run(pharmacy.cashier, branch_feedback, pharmacy.branch)


def test_a_rating_of_one_with_a_negative_comment_raises_an_alert(pharmacy, db, handed):
    left = pharmacy.run(customer(pharmacy), leave_feedback, *handed, 1, "Not ready when the text said it was.")
    assert left.sentiment_label == SentimentLabel.NEGATIVE and left.sentiment_score > Decimal("-0.6")
    assert left.alert
