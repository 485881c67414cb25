"""The bills list as the app role: every filter, local days across time zones and daylight saving, keyset
paging and sorting, branch scope, the patient access log, and other chains' bills never appearing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from backend.billing.bills.search import STATUS_WORDS, search_bills
from backend.billing.bills.service import create_draft, finalize_bill, void_bill
from backend.billing.credit_notes.service import issue_credit_note
from backend.billing.payments.service import record_payment
from backend.core.errors import NotFound, PermissionDenied, ValidationFailed
from backend.inventory.service import receive_stock
from backend.patients.service import create_patient
from tenants.session import run_in_tenant, tenant_session
from tests.backend.billing.conftest import Counter, stock_up
from tests.backend.billing.reporting import clock_at

D = Decimal


def at(text_utc: str) -> datetime:
    return datetime.fromisoformat(text_utc).replace(tzinfo=UTC)


@dataclass
class Shop:
    counter: Counter

    def sell(
        self, quantity: int, when: str, *, branch: str | None = None, patient: str | None = None, pay: bool = True
    ):
        """A vitamin D sale (6.00 a unit, zero-rated) finalized at `when` (UTC), paid in full unless told."""
        owner = self.counter.owner
        draft = run_in_tenant(
            owner,
            create_draft,
            branch_id=branch or self.counter.branch,
            lines=[{"medicine_id": self.counter.vitamin_d, "quantity": quantity}],
            patient_id=patient,
        )
        with clock_at(at(when)):
            bill = run_in_tenant(owner, finalize_bill, draft.id)
        if pay:
            run_in_tenant(owner, record_payment, bill_id=bill.id, tendered=str(bill.total_due))
        return bill


def set_zone(counter: Counter, branch: str, zone: str) -> None:
    with tenant_session(counter.owner) as session:
        session.execute(text("UPDATE branches SET time_zone = :z WHERE id = :b"), {"z": zone, "b": branch})


@pytest.fixture
def shop(counter) -> Shop:
    for branch in (counter.branch, counter.other_branch):
        run_in_tenant(
            counter.owner,
            receive_stock,
            branch_id=branch,
            medicine_id=counter.vitamin_d,
            lot_number=f"VIT-{branch[:4]}",
            expiry_date="2030-01-01",
            quantity=500,
        )
    return Shop(counter)


def numbers(page) -> list[str | None]:
    return [item.number for item in page.items]


def test_a_number_finds_that_bill_and_its_beginning_finds_the_run(shop):
    counter = shop.counter
    for minute in range(12):
        shop.sell(1, f"2026-03-10 12:{minute:02d}:00")
    shop.sell(1, "2026-03-10 12:30:00", branch=counter.other_branch)  # B2-2026-000001: another branch's run

    exact = run_in_tenant(counter.owner, search_bills, number="B1-2026-000012")
    assert numbers(exact) == ["B1-2026-000012"] and exact.total == 1
    # Typed in lower case with a space: still the same prefix; 000010 to 000012, newest first.
    assert numbers(run_in_tenant(counter.owner, search_bills, number=" b1-2026-00001")) == [
        "B1-2026-000012",
        "B1-2026-000011",
        "B1-2026-000010",
    ]
    assert numbers(run_in_tenant(counter.owner, search_bills, number="B2")) == ["B2-2026-000001"]
    assert run_in_tenant(counter.owner, search_bills, number="B1-2026-000013").items == []
    # A branch and a number: only that branch's bills are searched.
    assert run_in_tenant(counter.owner, search_bills, branch_id=counter.other_branch, number="B1").items == []
    with pytest.raises(ValidationFailed, match="letters, digits and hyphens") as refused:
        run_in_tenant(counter.owner, search_bills, number="B1/2026")
    assert refused.value.field == "number"


def test_local_days_follow_the_branch_time_zone_and_daylight_saving(shop):
    counter = shop.counter
    set_zone(counter, counter.branch, "America/New_York")
    late_9th = shop.sell(1, "2026-03-10 03:30:00")  # 23:30 on 9 March in New York (EST, UTC-5)
    early_10th = shop.sell(2, "2026-03-10 05:30:00")  # 00:30 on 10 March
    # 8 March 2026 has 23 hours there (clocks go forward at 02:00): 9 March starts at 04:00 UTC, not 05:00.
    after_dst = shop.sell(3, "2026-03-09 04:30:00")  # 00:30 EDT on 9 March; a fixed UTC-5 would say the 8th

    def day(value: str, **kwargs) -> list[str]:
        return [
            i.id
            for i in run_in_tenant(
                counter.owner, search_bills, branch_id=counter.branch, start=value, end=value, **kwargs
            ).items
        ]

    assert day("2026-03-10") == [early_10th.id]
    assert day("2026-03-09") == [late_9th.id, after_dst.id]
    assert day("2026-03-08") == []
    both = run_in_tenant(counter.owner, search_bills, branch_id=counter.branch, start="2026-03-09", end="2026-03-10")
    assert [i.id for i in both.items] == [early_10th.id, late_9th.id, after_dst.id]
    from_10th = run_in_tenant(counter.owner, search_bills, branch_id=counter.branch, start="2026-03-10")
    until_9th = run_in_tenant(counter.owner, search_bills, branch_id=counter.branch, end="2026-03-09")
    assert [i.id for i in from_10th.items] == [early_10th.id]
    assert [i.id for i in until_9th.items] == [late_9th.id, after_dst.id]
    assert from_10th.items[0].time_zone == "America/New_York"  # the page shows times in it

    with pytest.raises(ValidationFailed, match="before the start") as refused:
        run_in_tenant(counter.owner, search_bills, start="2026-03-10", end="2026-03-09")
    assert refused.value.field == "end"
    for bad in ("2026-13-01", "10/03/2026", "yesterday"):
        with pytest.raises(ValidationFailed, match="YYYY-MM-DD"):
            run_in_tenant(counter.owner, search_bills, start=bad)
    for far in ("0001-01-01", "9999-12-31"):  # no traceback from a date at the end of the calendar
        with pytest.raises(ValidationFailed, match="between 1900-01-01 and 9998-12-31"):
            run_in_tenant(counter.owner, search_bills, end=far)


def test_every_branch_at_once_keeps_each_bill_to_its_own_branch_days(shop):
    counter = shop.counter
    set_zone(counter, counter.branch, "America/New_York")
    set_zone(counter, counter.other_branch, "Asia/Tokyo")
    new_york = shop.sell(1, "2026-03-10 20:00:00")  # 16:00 on the 10th in New York
    tokyo_next_day = shop.sell(1, "2026-03-10 16:00:00", branch=counter.other_branch)  # 01:00 on the 11th in Tokyo
    tokyo_same_day = shop.sell(1, "2026-03-10 02:00:00", branch=counter.other_branch)  # 11:00 on the 10th in Tokyo

    tenth = run_in_tenant(counter.owner, search_bills, start="2026-03-10", end="2026-03-10")
    assert [i.id for i in tenth.items] == [new_york.id, tokyo_same_day.id]
    eleventh = run_in_tenant(counter.owner, search_bills, start="2026-03-11", end="2026-03-11")
    assert [(i.id, i.branch_code, i.time_zone) for i in eleventh.items] == [(tokyo_next_day.id, "B2", "Asia/Tokyo")]


def test_patients_purchases_need_the_record_permission_and_are_logged(shop, make_tenant):
    counter = shop.counter
    maria = run_in_tenant(
        counter.owner,
        create_patient,
        full_name="Maria Example",
        date_of_birth="1961-04-12",
        home_branch_id=counter.branch,
    )
    john = run_in_tenant(
        counter.owner,
        create_patient,
        full_name="John Sample",
        date_of_birth="1970-01-01",
        home_branch_id=counter.branch,
    )
    first = shop.sell(1, "2026-03-10 10:00:00", patient=maria.id)
    second = shop.sell(2, "2026-03-11 10:00:00", patient=maria.id, branch=counter.other_branch)
    shop.sell(3, "2026-03-11 11:00:00", patient=john.id)
    walk_in = shop.sell(4, "2026-03-11 12:00:00")

    def log() -> list[tuple[str, str | None]]:
        with tenant_session(counter.owner) as session:
            rows = session.execute(text("SELECT action, patient_id FROM patient_access_log ORDER BY id")).all()
        return [(r.action, str(r.patient_id) if r.patient_id else None) for r in rows]

    before = log()
    pharmacist = counter.ctx("pharmacist")
    page = run_in_tenant(
        pharmacist, search_bills, patient_id=maria.id
    )  # every branch: her purchases wherever she bought
    assert [i.id for i in page.items] == [second.id, first.id] and page.patient_name == "Maria Example"
    assert {i.patient_name for i in page.items} == {"Maria Example"}
    assert log() == [*before, ("viewed", maria.id)]  # reading her purchases is reading her record

    found = run_in_tenant(pharmacist, search_bills, patient_name="sample")
    assert [i.patient_name for i in found.items] == ["John Sample"]
    assert log()[-1] == ("searched", None)

    # A cashier finds patients at the till, but their purchase history is the record's.
    with pytest.raises(PermissionDenied):
        run_in_tenant(counter.ctx("cashier"), search_bills, patient_id=maria.id)
    with pytest.raises(PermissionDenied):
        run_in_tenant(counter.ctx("cashier"), search_bills, patient_name="Maria")
    # Names in the rows only for roles that may look patients up: platform support sees amounts only.
    by_support = run_in_tenant(counter.ctx("support"), search_bills, branch_id=counter.branch)
    assert by_support.items and {i.patient_name for i in by_support.items} == {None}
    assert {i.patient_id for i in by_support.items} >= {maria.id, None}
    cashier_view = run_in_tenant(counter.ctx("cashier"), search_bills, branch_id=counter.branch)
    assert {i.id: i.patient_name for i in cashier_view.items}[walk_in.id] is None
    assert "Maria Example" in {i.patient_name for i in cashier_view.items}

    # A member limited to the other branch sees Maria through her purchase there, and only that bill.
    elsewhere = counter.ctx("pharmacist", branch_ids=frozenset({uuid.UUID(counter.other_branch)}))
    assert [i.id for i in run_in_tenant(elsewhere, search_bills, patient_id=maria.id).items] == [second.id]
    with pytest.raises(NotFound):  # John never bought there and lives at branch 1
        run_in_tenant(elsewhere, search_bills, patient_id=john.id)
    stranger = make_tenant("stranger", branches=2)
    outsider = run_in_tenant(
        stock_up(stranger).owner,
        create_patient,
        full_name="Other Chain",
        date_of_birth="1980-01-01",
        home_branch_id=str(stranger.branch_ids[0]),
    )
    with pytest.raises(NotFound):
        run_in_tenant(pharmacist, search_bills, patient_id=outsider.id)
    with pytest.raises(NotFound):
        run_in_tenant(pharmacist, search_bills, patient_id="not-an-id")
    with pytest.raises(ValidationFailed, match="at least 2 characters"):
        run_in_tenant(pharmacist, search_bills, patient_name="M")
    with pytest.raises(ValidationFailed, match="not both"):
        run_in_tenant(pharmacist, search_bills, patient_id=maria.id, patient_name="Maria")


def test_amounts_exact_at_least_at_most_and_between(shop):
    counter = shop.counter
    bills = {q: shop.sell(q, f"2026-03-10 1{q}:00:00") for q in (1, 2, 3, 5)}  # 6.00, 12.00, 18.00, 30.00

    def amounts(**kwargs) -> list[Decimal]:
        return [i.total_due for i in run_in_tenant(counter.owner, search_bills, **kwargs).items]

    assert amounts(amount="12") == [D("12.00")] and amounts(amount="12.00") == [D("12.00")]
    assert amounts(min_amount="12") == [D("30.00"), D("18.00"), D("12.00")]
    assert amounts(max_amount="17.99") == [D("12.00"), D("6.00")]
    assert amounts(min_amount="6.01", max_amount="18") == [D("18.00"), D("12.00")]
    assert amounts(amount="12.01") == []
    item = run_in_tenant(counter.owner, search_bills, amount="30").items[0]
    assert (item.id, item.currency, item.amount_paid, item.outstanding) == (bills[5].id, "USD", D("30.00"), D("0.00"))
    for kwargs, field in (
        ({"amount": "abc"}, "amount"),
        ({"min_amount": "-1"}, "min_amount"),
        ({"max_amount": "1.23456"}, "max_amount"),
        ({"min_amount": "20", "max_amount": "10"}, "max_amount"),
        ({"amount": "10", "min_amount": "5"}, "amount"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            run_in_tenant(counter.owner, search_bills, **kwargs)
        assert refused.value.field == field


def test_every_status_is_found_by_its_name_and_shown_in_words(shop):
    counter = shop.counter
    owner = counter.owner
    vitamin = [{"medicine_id": counter.vitamin_d, "quantity": 2}]
    draft = run_in_tenant(owner, create_draft, branch_id=counter.branch, lines=vitamin)
    discarded = run_in_tenant(owner, create_draft, branch_id=counter.branch, lines=vitamin)
    run_in_tenant(owner, void_bill, discarded.id, reason="customer left")
    unpaid = shop.sell(2, "2026-03-10 10:00:00", pay=False)
    partly = shop.sell(2, "2026-03-10 10:01:00", pay=False)
    run_in_tenant(owner, record_payment, bill_id=partly.id, tendered="5.00")
    paid = shop.sell(2, "2026-03-10 10:02:00")
    voided = shop.sell(2, "2026-03-10 10:03:00", pay=False)
    run_in_tenant(owner, void_bill, voided.id, reason="rang up twice")
    partly_refunded = shop.sell(2, "2026-03-10 10:04:00")
    run_in_tenant(owner, issue_credit_note, partly_refunded.id, [(1, 1, True)], reason="one pack back unopened")
    refunded = shop.sell(2, "2026-03-10 10:05:00")
    run_in_tenant(owner, issue_credit_note, refunded.id, [(1, 2, True)], reason="both packs back unopened")

    expected = {
        "draft": {draft.id},
        "finalized": {unpaid.id},
        "partially_paid": {partly.id},
        "paid": {paid.id},
        "voided": {discarded.id, voided.id},
        "partially_refunded": {partly_refunded.id},
        "refunded": {refunded.id},
    }
    for status, ids in expected.items():
        page = run_in_tenant(owner, search_bills, status=status)
        assert {i.id for i in page.items} == ids, status
        assert {i.status_label for i in page.items} == {STATUS_WORDS[status]}
    assert STATUS_WORDS["finalized"] == "Unpaid" and STATUS_WORDS["partially_refunded"] == "Partially refunded"
    assert {i.id for i in run_in_tenant(owner, search_bills, status="unpaid").items} == {unpaid.id}
    assert {i.id for i in run_in_tenant(owner, search_bills, status="Partially paid, paid").items} == {
        partly.id,
        paid.id,
    }
    assert {i.id for i in run_in_tenant(owner, search_bills, status=["draft", "refunded"]).items} == {
        draft.id,
        refunded.id,
    }
    assert len(run_in_tenant(owner, search_bills).items) == 8
    owed = {i.id: i.outstanding for i in run_in_tenant(owner, search_bills).items}
    assert (owed[partly.id], owed[voided.id], owed[paid.id]) == (D("7.00"), D("0.00"), D("0.00"))
    with pytest.raises(ValidationFailed, match="Unknown status 'sold'") as refused:
        run_in_tenant(owner, search_bills, status="paid,sold")
    assert refused.value.field == "status"


def test_pages_follow_each_other_without_gaps_or_repeats_in_every_order(shop):
    counter = shop.counter
    # Time and amount in different orders, so each sort is told apart from the others.
    sold = [shop.sell(q, f"2026-03-10 10:{minute:02d}:00") for minute, q in enumerate((3, 1, 4, 6, 2, 7, 5))]
    by_time = [b.id for b in sorted(sold, key=lambda b: b.finalized_at, reverse=True)]
    by_amount = [b.id for b in sorted(sold, key=lambda b: b.total_due, reverse=True)]
    # Drafts opened in one transaction share created_at to the microsecond: the id breaks the tie.
    drafts = [
        run_in_tenant(
            counter.owner,
            create_draft,
            branch_id=counter.branch,
            lines=[{"medicine_id": counter.vitamin_d, "quantity": 1}],
        )
        for _ in range(3)
    ]

    def walk(sort: str, **kwargs) -> tuple[list[str], list[int | None]]:
        ids, totals, cursor = [], [], None
        while True:
            page = run_in_tenant(counter.owner, search_bills, sort=sort, after=cursor, limit=3, status="paid", **kwargs)
            ids += [i.id for i in page.items]
            totals.append(page.total)
            cursor = page.next_cursor
            if cursor is None:
                return ids, totals

    assert walk("newest") == (by_time, [7, None, None])
    assert walk("oldest")[0] == by_time[::-1]
    assert walk("highest")[0] == by_amount
    assert walk("lowest")[0] == by_amount[::-1]
    every = []
    cursor = None
    while True:
        page = run_in_tenant(counter.owner, search_bills, after=cursor, limit=2)
        every += [i.id for i in page.items]
        if not (cursor := page.next_cursor):
            break
    assert len(every) == len(set(every)) == 10 and set(every) >= {d.id for d in drafts}
    # A page that is the only one needs no count.
    single = run_in_tenant(counter.owner, search_bills, status="paid", limit=50)
    assert (len(single.items), single.total, single.total_capped, single.next_cursor) == (7, 7, False, None)

    first = run_in_tenant(counter.owner, search_bills, limit=3, status="paid")
    with pytest.raises(ValidationFailed, match="out of date"):
        run_in_tenant(counter.owner, search_bills, sort="highest", after=first.next_cursor)  # another order's cursor
    for bad in ("garbage", "W10", "WyJuZXdlc3QiLCJ4IiwieSJd"):
        with pytest.raises(ValidationFailed, match="out of date") as refused:
            run_in_tenant(counter.owner, search_bills, after=bad)
        assert refused.value.field == "after"
    for limit in ("0", "101", "ten"):
        with pytest.raises(ValidationFailed, match="1 to 100"):
            run_in_tenant(counter.owner, search_bills, limit=limit)
    with pytest.raises(ValidationFailed, match="Sort by"):
        run_in_tenant(counter.owner, search_bills, sort="cheapest")


def test_a_member_limited_to_a_branch_sees_only_its_bills(shop):
    counter = shop.counter
    here = shop.sell(1, "2026-03-10 10:00:00")
    there = shop.sell(1, "2026-03-10 11:00:00", branch=counter.other_branch)
    everywhere = {i.id for i in run_in_tenant(counter.ctx("manager"), search_bills).items}
    assert everywhere == {here.id, there.id}
    limited = counter.ctx("manager", branch_ids=frozenset({uuid.UUID(counter.branch)}))
    assert [i.id for i in run_in_tenant(limited, search_bills).items] == [here.id]
    assert [i.id for i in run_in_tenant(limited, search_bills, number="B2").items] == []
    with pytest.raises(NotFound, match="No such branch"):
        run_in_tenant(limited, search_bills, branch_id=counter.other_branch)
    with pytest.raises(NotFound, match="No such branch"):
        run_in_tenant(limited, search_bills, branch_id="nonsense")
    assert [
        i.id for i in run_in_tenant(counter.ctx("cashier"), search_bills, branch_id=counter.other_branch).items
    ] == [there.id]


def test_another_chains_bills_never_appear(shop, make_tenant, db):
    counter = shop.counter
    mine = shop.sell(1, "2026-03-10 10:00:00")
    theirs = stock_up(make_tenant("rival", branches=2))  # the same branch codes: B1, B2
    draft = run_in_tenant(
        theirs.owner, create_draft, branch_id=theirs.branch, lines=[{"medicine_id": theirs.vitamin_d, "quantity": 1}]
    )
    with clock_at(at("2026-03-10 10:30:00")):
        rival = run_in_tenant(theirs.owner, finalize_bill, draft.id)
    assert rival.number == mine.number == "B1-2026-000001"
    # The owner role (no row-level security) sees both chains' bills: the data could leak.
    db.execute(text("RESET ROLE"))
    both = db.execute(
        text("SELECT count(*) FROM bills WHERE number = 'B1-2026-000001' AND tenant_id IN (:mine, :theirs)"),
        {"mine": counter.chain.tenant_id, "theirs": theirs.chain.tenant_id},
    )
    assert both.scalar_one() == 2

    for kwargs in ({}, {"number": "B1-2026-000001"}, {"start": "2026-03-10", "end": "2026-03-10"}, {"amount": "6"}):
        assert [i.id for i in run_in_tenant(counter.owner, search_bills, **kwargs).items] == [mine.id], kwargs
        assert [i.id for i in run_in_tenant(theirs.owner, search_bills, **kwargs).items] == [rival.id], kwargs
    with pytest.raises(NotFound, match="No such branch"):
        run_in_tenant(counter.owner, search_bills, branch_id=theirs.branch)


def test_a_role_without_billing_view_is_refused(shop):
    from tenants.context import TenantContext

    nobody = TenantContext(tenant_id=shop.counter.chain.tenant_id, user_id=None, role="platform-admin")
    with pytest.raises(PermissionDenied):
        run_in_tenant(nobody, search_bills)
