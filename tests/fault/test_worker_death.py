"""A work-horse killed in the middle of a job, on real Redis and Postgres: the job is retried and takes effect once.

The horse alone is what the out-of-memory killer picks (it holds the job's memory); its worker lives,
notices and retries the job at once. The whole worker killed in the middle of a job, and taken over by
its restart under the same `--name`, is in test_kill_processes.py, under `make run`'s supervisor.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid

import pytest

from tests.fault.processes import children
from tests.fault.stock_import import relay, start_stock_import
from tests.helpers import start_cli, stop, wait_until

pytestmark = pytest.mark.worker

ROWS = 700  # two committed batches (500 + 200): killed after the first, in the second


def owner_of(chain):
    from tenants.context import TenantContext

    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def named_worker(name: str) -> subprocess.Popen:
    # No scheduler child: the worker's only child is then the work-horse this test kills.
    return start_cli("worker", "--name", name, "--no-scheduler", log_name=f"test-fault-{name}")


def the_horse(worker: subprocess.Popen) -> int:
    """The forked process running the job (RQ forks one per job)."""
    found = wait_until(lambda: children(worker.pid), timeout=20, message="the worker to fork a work-horse")
    return found[0].pid


def test_a_job_whose_work_horse_is_killed_is_retried_and_takes_effect_once(committed_tenant):
    chain, _ = committed_tenant("fault-horse")
    job = start_stock_import(owner_of(chain), str(chain.branch_ids[0]), ROWS)
    worker = named_worker(f"horse-{uuid.uuid4().hex[:8]}")
    try:
        relay()
        horse = the_horse(worker)
        wait_until(job.in_the_middle, timeout=60, interval=0.02, message="the import to be under way")
        os.kill(horse, signal.SIGKILL)
        wait_until(job.done, timeout=60, interval=0.2, message="the retried import to finish")
        assert worker.poll() is None  # the worker itself lived on and ran the retry
        job.assert_took_effect_once()
        assert job.retries_used() == 1
    finally:
        stop(worker)
