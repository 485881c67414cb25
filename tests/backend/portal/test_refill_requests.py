"""A named prescription's online refill request goes in the staff queue: pending when it can be refilled,
"call the customer" with the reason when it cannot; asking again adds to the open request; the customer's
note is sealed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from backend.portal.chains import chain_for_slug, visitor_context
from backend.portal.refill_requests import open_note, record_request
from backend.portal.service import match_prescription
from backend.portal.statuses import RefillRequestSource, RefillRequestStatus
from tenants.session import run_in_tenant
from tests.backend.prescriptions.test_fills import receive
from tests.backend.prescriptions.test_refills import filled_and_checked


def _ask(pharmacy, rx_number: str, note: str = "", branch: str | None = None):
    visitor = visitor_context(chain_for_slug(pharmacy.chain.slug))

    def ask(session, ctx):
        found = match_prescription(session, ctx, rx_number, date(1960, 5, 1), "Example")
        assert found is not None
        return record_request(session, ctx, found, branch, note, RefillRequestSource.PORTAL_FORM)

    return run_in_tenant(visitor, ask)


def _row(db, request_id):
    db.execute(text("RESET ROLE"))
    return db.execute(text("SELECT * FROM portal_refill_requests WHERE id = :r"), {"r": request_id}).one()


def test_a_refillable_prescription_waits_in_the_queue_and_a_second_ask_adds_its_note(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    rx, _ = filled_and_checked(pharmacy, db, refills_authorized="2")
    first = _ask(pharmacy, rx.rx_number, "Running low, pick up Friday", pharmacy.other_branch)
    row = _row(db, first)
    assert (row.status, row.source, str(row.branch_id)) == (
        RefillRequestStatus.PENDING, RefillRequestSource.PORTAL_FORM, pharmacy.other_branch,
    )  # fmt: skip
    assert b"Friday" not in bytes(row.note_enc)  # sealed
    again = _ask(pharmacy, rx.rx_number, "Or Saturday")
    assert again == first
    note = run_in_tenant(pharmacy.owner, lambda s, c: open_note(s, c, first, _row(db, first).note_enc))
    assert note == "Running low, pick up Friday\nOr Saturday"


def test_a_prescription_without_refills_asks_staff_to_call(pharmacy, db):
    receive(pharmacy, "lisinopril", "L1", 100)
    rx, _ = filled_and_checked(pharmacy, db, refills_authorized="0")
    row = _row(db, _ask(pharmacy, rx.rx_number, branch="not-a-branch"))
    assert row.status == RefillRequestStatus.CALL_CUSTOMER and "No refills left" in row.why_call
    assert str(row.branch_id) == pharmacy.branch  # a branch that is not one of the chain's: the prescription's
