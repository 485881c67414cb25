"""The scheduled-jobs tick (issue 18 §4): each due job written once however many ticks run, catch-up after a
pause within the cap, the branch's local time, and the digest mail (medicines, never patients)."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from backend.core.errors import PermissionDenied
from backend.core.models import utc_now
from backend.inventory.digest import DIGEST_JOB
from backend.jobs.service import run_outbox_job
from backend.notifications.delivery import deliver_message
from backend.retention.service import REVIEW_JOB
from backend.schedules.registry import SCHEDULES
from backend.schedules.service import due_periods, list_schedules, next_due, tick
from tenants.context import TenantContext
from tenants.session import platform_session, run_in_tenant, tenant_session
from tests.backend.notifications.conftest import queued_ids

DIGEST = next(s for s in SCHEDULES if s.job_name == DIGEST_JOB)
LA, TOKYO = ZoneInfo("America/Los_Angeles"), ZoneInfo("Asia/Tokyo")


@pytest.fixture(autouse=True)
def _no_pending_scheduled_jobs_left_behind():
    """The ticks here write many outbox jobs (for every chain, in the CLI and RQ tests) that no relay runs in this
    module; marked done afterwards, they do not crowd other tests' relay batches (outbox_claim takes the oldest)."""
    yield
    names = [schedule.job_name for schedule in SCHEDULES]
    with platform_session(reason="test: scheduled jobs written by the tick tests are not left pending") as session:
        session.execute(
            text("UPDATE outbox SET status = 'done', done_at = now() WHERE status = 'pending' AND job_name = ANY(:n)"),
            {"n": names},
        )


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def later(days: int) -> date:
    """A UTC date after the test's chains were created (their branches get nothing due before that)."""
    return utc_now().date() + timedelta(days=days)


def runs(tenant_id: uuid.UUID, job: str = DIGEST_JOB) -> list[tuple[str | None, str, datetime, uuid.UUID | None]]:
    with tenant_session(TenantContext.system(tenant_id)) as session:
        rows = session.execute(
            text(
                "SELECT r.branch_id::text, r.period, r.due_at, o.id FROM scheduled_runs r "
                "LEFT JOIN outbox o ON o.id = r.outbox_id AND o.job_name = r.job_name "
                "WHERE r.job_name = :j ORDER BY r.due_at, r.branch_id"
            ),
            {"j": job},
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def outbox_count(tenant_id: uuid.UUID, job: str) -> int:
    with tenant_session(TenantContext.system(tenant_id)) as session:
        return session.execute(text("SELECT count(*) FROM outbox WHERE job_name = :j"), {"j": job}).scalar_one()


def set_zone(tenant_id: uuid.UUID, branch_id: uuid.UUID, zone: str) -> None:
    with tenant_session(TenantContext.system(tenant_id)) as session:
        session.execute(text("UPDATE branches SET time_zone = :z WHERE id = :b"), {"z": zone, "b": branch_id})


# --- the calendar, without a database ---------------------------------------------------------------------


def test_a_branch_in_los_angeles_and_one_in_tokyo_get_their_0700_at_different_utc_times():
    day = date(2026, 12, 5)
    long_ago = at(date(2026, 1, 1), 0)
    la = due_periods(DIGEST, LA, at(day, 23), long_ago)
    tokyo = due_periods(DIGEST, TOKYO, at(day, 23), long_ago)
    assert la[-1] == ("2026-12-05", at(day, 15))  # 07:00 PST = 15:00 UTC
    assert tokyo[-1] == ("2026-12-06", at(day, 22))  # 07:00 JST on the 6th = 22:00 UTC on the 5th
    assert next_due(DIGEST, LA, at(day, 15)) == at(day + timedelta(days=1), 15)
    assert next_due(DIGEST, TOKYO, at(day, 21, 59)) == at(day, 22)


def test_catch_up_is_capped_and_nothing_is_due_before_the_branch_existed():
    day = date(2026, 12, 20)
    assert len(due_periods(DIGEST, ZoneInfo("UTC"), at(day, 8), at(date(2026, 1, 1), 0))) == DIGEST.catch_up == 7
    assert due_periods(DIGEST, ZoneInfo("UTC"), at(day, 8), at(day, 7, 30)) == []  # created after today's 07:00


# --- the tick against the database -----------------------------------------------------------------------


def test_two_concurrent_ticks_and_a_second_tick_write_each_due_job_once(committed_tenant):
    chain, _ = committed_tenant("tick", branches=2)
    now = at(later(2), 8)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def worker() -> None:
        barrier.wait()
        results.append(len([r for r in tick(now, only=[chain.tenant_id]).written if r.job_name == DIGEST_JOB]))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written = runs(chain.tenant_id)
    # the chain was created yesterday-or-before in the branches' time: both of the last two days' 07:00 may be due
    assert len(written) >= 2 and len(written) == sum(results)
    assert len({(b, p) for b, p, _, _ in written}) == len(written)  # once per branch and day
    assert all(outbox_id is not None for *_, outbox_id in written)  # each with its outbox job
    assert outbox_count(chain.tenant_id, DIGEST_JOB) == len(written)
    assert tick(now, only=[chain.tenant_id]).written == []  # a second tick: nothing new
    assert outbox_count(chain.tenant_id, DIGEST_JOB) == len(written)


def test_after_a_pause_the_tick_catches_up_once_per_missed_day_within_the_cap(committed_tenant):
    chain, _ = committed_tenant("pause", branches=2)
    first = at(later(2), 8)
    tick(first, only=[chain.tenant_id])
    before = len(runs(chain.tenant_id))
    caught_up = [r for r in tick(first + timedelta(days=3), only=[chain.tenant_id]).written if r.job_name == DIGEST_JOB]
    assert len(caught_up) == 3 * 2  # three missed days, two branches
    assert sorted({r.period for r in caught_up}) == [(later(2) + timedelta(days=d)).isoformat() for d in (1, 2, 3)]
    assert tick(first + timedelta(days=3), only=[chain.tenant_id]).written == []
    # ten days down: only the last seven days are written (the cap), once each
    resumed = tick(first + timedelta(days=13), only=[chain.tenant_id]).written
    long_pause = [r for r in resumed if r.job_name == DIGEST_JOB]
    assert len(long_pause) == 7 * 2
    assert len(runs(chain.tenant_id)) == before + 6 + 14


def test_branch_time_zones_decide_when_the_digest_is_written(committed_tenant):
    chain, _ = committed_tenant("zones", branches=2)
    la_branch, tokyo_branch = chain.branch_ids
    set_zone(chain.tenant_id, la_branch, "America/Los_Angeles")
    set_zone(chain.tenant_id, tokyo_branch, "Asia/Tokyo")
    day = later(3)
    tick(at(day, 14, 59), only=[chain.tenant_id])  # catch-up since the chain was created

    def new_at(moment: datetime) -> list[tuple[str | None, str, datetime]]:
        found = tick(moment, only=[chain.tenant_id]).written
        return [(r.branch_id, r.period, r.due_at) for r in found if r.job_name == DIGEST_JOB]

    assert new_at(at(day, 15)) == [(str(la_branch), day.isoformat(), at(day, 15))]
    assert new_at(at(day, 21, 59)) == []
    assert new_at(at(day, 22)) == [(str(tokyo_branch), (day + timedelta(days=1)).isoformat(), at(day, 22))]


def test_the_monthly_retention_review_is_written_once_a_month_for_the_chain(committed_tenant):
    chain, _ = committed_tenant("monthly")
    first_of_next = later(0).replace(day=1) + timedelta(days=32)
    first_of_next = first_of_next.replace(day=1)
    early = tick(at(first_of_next, 2, 59), only=[chain.tenant_id]).written
    assert [r.period for r in early if r.job_name == REVIEW_JOB] == []
    written = [r for r in tick(at(first_of_next, 3), only=[chain.tenant_id]).written if r.job_name == REVIEW_JOB]
    assert [(r.branch_id, r.period) for r in written] == [(None, f"{first_of_next:%Y-%m}")]
    assert [r for r in tick(at(first_of_next, 9), only=[chain.tenant_id]).written if r.job_name == REVIEW_JOB] == []
    assert outbox_count(chain.tenant_id, REVIEW_JOB) == 1


def test_a_suspended_chain_gets_nothing_and_the_tick_is_audited_on_the_platform_path(committed_tenant):
    chain, _ = committed_tenant("quiet")
    with platform_session(reason="test: suspend a chain") as session:
        session.execute(text("UPDATE tenants SET status = 'suspended' WHERE id = :t"), {"t": chain.tenant_id})
    assert tick(at(later(2), 8), only=[chain.tenant_id]).chains == 0
    with platform_session(reason="test: read the platform audit") as session:
        caller = session.execute(
            text(
                "SELECT details->>'caller' FROM platform_audit_events "
                "WHERE actor = 'scheduler' ORDER BY id DESC LIMIT 1"
            )
        ).scalar_one()
    assert caller == "service:active_chains"


# --- the digest ------------------------------------------------------------------------------------------


def test_the_digest_mail_names_medicines_and_counts_and_no_patient(committed_tenant, mail_sink):
    from backend.inventory.reorder import set_reorder_level
    from backend.inventory.service import create_medicine, receive_stock
    from backend.patients.service import create_patient

    chain, new = committed_tenant("digest")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    medicine = run_in_tenant(owner, create_medicine, generic_name="Amoxicillin", strength="500 mg")
    soon = (utc_now().date() + timedelta(days=10)).isoformat()
    lot = {"lot_number": "LOT-SOON", "expiry_date": soon, "quantity": 3}
    run_in_tenant(owner, receive_stock, branch_id=branch, medicine_id=medicine, **lot)
    level = {"reorder_point": 5, "reorder_quantity": 20}
    run_in_tenant(owner, set_reorder_level, branch_id=branch, medicine_id=medicine, **level)
    run_in_tenant(owner, create_patient, full_name="Zelda Quintessa", date_of_birth="1970-01-01", home_branch_id=branch)
    written = [r for r in tick(at(later(2), 8), only=[chain.tenant_id]).written if r.job_name == DIGEST_JOB]
    assert written
    for run in written:
        assert run_outbox_job(str(chain.tenant_id), run.outbox_id) == "done"
    for message_id in queued_ids(chain.tenant_id):  # staff mails go through the notifications queue
        assert deliver_message(str(chain.tenant_id), message_id) == "sent"
    mails = mail_sink.to(new.owner_email)
    assert len(mails) == len(written)  # one per day written, each once
    body = mail_sink.text(mails[-1])
    assert "Amoxicillin 500 mg: 3 on hand" in body and "LOT-SOON" in body
    assert "Zelda" not in body and "Quintessa" not in body and "1970" not in body
    assert run_outbox_job(str(chain.tenant_id), written[-1].outbox_id) == "already done"
    assert len(mail_sink.to(new.owner_email)) == len(written)


def test_the_page_lists_each_job_per_branch_with_its_last_run(committed_tenant):
    chain, _ = committed_tenant("listing", branches=2)
    now = at(later(2), 8)
    tick(now, only=[chain.tenant_id])
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    lines = run_in_tenant(owner, list_schedules, now)
    digests = [line for line in lines if line.job_name == DIGEST_JOB]
    assert [line.branch for line in digests] == ["Branch 1", "Branch 2"]
    assert all(line.last_period == later(2).isoformat() and line.last_status == "pending" for line in digests)
    assert all(line.next_run == at(later(3), 7) for line in digests)
    review = next(line for line in lines if line.job_name == REVIEW_JOB)
    assert review.branch == "Whole chain" and review.last_period is None
    cashier = TenantContext(tenant_id=chain.tenant_id, user_id=uuid.uuid4(), role="cashier")
    with pytest.raises(PermissionDenied):
        run_in_tenant(cashier, list_schedules, now)


def test_the_cli_tick_refuses_a_time_without_offset_and_runs_with_one(committed_tenant):
    from backend.cli import app

    runner = CliRunner()
    bad = runner.invoke(app, ["schedule", "tick", "--now", "2026-12-05T08:00"])
    assert bad.exit_code != 0
    good = runner.invoke(app, ["schedule", "tick", "--now", at(later(2), 8).isoformat()])
    assert good.exit_code == 0, good.output
    assert "jobs written for" in good.output


# --- RQ's scheduler ---------------------------------------------------------------------------------------


def test_two_workers_scheduling_the_next_tick_make_one_scheduled_job():
    from rq.registry import ScheduledJobRegistry

    from backend.core.queue import job_queue, redis_connection
    from backend.schedules.runner import SLOT_SECONDS, TICK_QUEUE, schedule_next_tick, tick_slot

    connection = redis_connection()
    now = utc_now()
    first, second = schedule_next_tick(connection, now), schedule_next_tick(connection, now)
    assert first == second == f"schedule-tick-{tick_slot(now) + 1}"
    registry = ScheduledJobRegistry(queue=job_queue(TICK_QUEUE, connection))
    assert registry.get_job_ids().count(first) == 1
    due = registry.get_scheduled_time(first)
    assert 0 < (due - now).total_seconds() <= SLOT_SECONDS
    registry.remove(first, delete_job=True)


def test_an_rq_worker_runs_the_tick_and_the_tick_schedules_the_next_one(committed_tenant):
    from rq import SimpleWorker
    from rq.registry import ScheduledJobRegistry

    from backend.core.queue import job_queue, redis_connection
    from backend.schedules.runner import TICK_FUNCTION, TICK_QUEUE, tick_slot

    connection = redis_connection()
    queue = job_queue(TICK_QUEUE, connection)
    job = queue.enqueue(TICK_FUNCTION, job_id=f"schedule-tick-test-{uuid.uuid4().hex[:8]}")
    SimpleWorker([queue], connection=connection, serializer=queue.serializer).work(burst=True)
    job.refresh()
    assert job.get_status() == "finished" and "jobs written for" in job.return_value()
    following = f"schedule-tick-{tick_slot(utc_now()) + 1}"
    registry = ScheduledJobRegistry(queue=queue)
    assert following in registry.get_job_ids()
    registry.remove(following, delete_job=True)
