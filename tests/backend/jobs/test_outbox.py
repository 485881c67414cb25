"""The outbox with a real RQ worker process on real Redis."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from backend.core.queue import redis_connection
from backend.jobs.service import enqueue_job, job_status, relay_once, run_outbox_job
from devtools.services import Redis, free_port
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session
from tests.helpers import start_cli, stop, wait_until

pytestmark = pytest.mark.worker


def owner_ctx(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def heartbeats(ctx: TenantContext, note: str) -> int:
    with tenant_session(ctx) as session:
        return int(
            session.execute(
                text("SELECT count(*) FROM audit_events WHERE action = 'job.heartbeat' AND details->>'note' = :n"),
                {"n": note},
            ).scalar_one()
        )


def write_job(ctx: TenantContext, note: str) -> uuid.UUID:
    with tenant_session(ctx) as session:
        return enqueue_job(session, ctx, "system.heartbeat", note=note)


@pytest.fixture(scope="module")
def worker():
    process = start_cli("worker", log_name="test-worker")
    yield process
    stop(process)


def test_committed_job_runs_once_under_its_tenant(worker, committed_tenant):
    chain_a, _ = committed_tenant("jobs-a")
    chain_b, _ = committed_tenant("jobs-b")
    a, b = owner_ctx(chain_a), owner_ctx(chain_b)
    job_id = write_job(a, "hello")
    assert run_in_tenant(a, job_status, job_id) == "pending"
    assert run_in_tenant(b, job_status, job_id) is None  # B cannot even see A's job
    assert relay_once(redis_connection()) >= 1
    wait_until(lambda: run_in_tenant(a, job_status, job_id) == "done", message="the worker to run the job")
    assert heartbeats(a, "hello") == 1
    assert heartbeats(b, "hello") == 0
    # Handed over again (a relay crash between enqueue and commit): still one effect.
    assert run_outbox_job(str(a.tenant_id), str(job_id)) == "already done"
    assert heartbeats(a, "hello") == 1
    # A forged job id under another tenant finds nothing.
    assert run_outbox_job(str(b.tenant_id), str(job_id)) == "missing"


def test_job_from_rolled_back_transaction_never_runs(worker, committed_tenant):
    chain, _ = committed_tenant("jobs-rollback")
    ctx = owner_ctx(chain)
    written: list[uuid.UUID] = []
    with pytest.raises(RuntimeError, match="sale cancelled"):
        with tenant_session(ctx) as session:
            written.append(enqueue_job(session, ctx, "system.heartbeat", note="ghost"))
            raise RuntimeError("sale cancelled")
    assert run_in_tenant(ctx, job_status, written[0]) is None
    relay_once(redis_connection())
    control = write_job(ctx, "control")  # a committed job after it runs, so the worker had its chance
    relay_once(redis_connection())
    wait_until(lambda: run_in_tenant(ctx, job_status, control) == "done", message="the control job")
    assert heartbeats(ctx, "ghost") == 0


def test_job_written_while_redis_is_down_runs_after_it_returns(committed_tenant, tmp_path):
    chain, _ = committed_tenant("jobs-outage")
    ctx = owner_ctx(chain)
    server = Redis(tmp_path / "redis", free_port())
    server.start()
    server.stop()  # Redis is down while the pharmacy keeps working
    redis = redis_connection(server.url)
    job_id = write_job(ctx, "outage")
    with pytest.raises(Exception) as failure:
        relay_once(redis)
    assert "Connection" in type(failure.value).__name__
    assert run_in_tenant(ctx, job_status, job_id) == "pending"  # nothing lost
    server.start()  # Redis is back
    outage_worker = start_cli("worker", env={"REDIS_URL": server.url}, log_name="test-outage-worker")
    try:
        assert relay_once(redis) >= 1
        wait_until(lambda: run_in_tenant(ctx, job_status, job_id) == "done", message="the job after the outage")
        assert heartbeats(ctx, "outage") == 1
    finally:
        stop(outage_worker)
        server.stop()


def test_jobs_carry_ids_only(db, make_tenant):
    chain = make_tenant("jobs-args")
    ctx = owner_ctx(chain)
    with pytest.raises(TypeError, match="must be an id or scalar"):
        with tenant_session(ctx) as session:
            enqueue_job(session, ctx, "system.heartbeat", note={"patient": "Jane Doe"})
    with pytest.raises(LookupError):
        with tenant_session(ctx) as session:
            enqueue_job(session, ctx, "no.such.job")


def test_a_cashier_cannot_enqueue_jobs(db, make_tenant):
    from backend.core.errors import PermissionDenied

    chain = make_tenant("jobs-perm")
    cashier = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="cashier")
    with pytest.raises(PermissionDenied):
        with tenant_session(cashier) as session:
            enqueue_job(session, cashier, "system.heartbeat")
