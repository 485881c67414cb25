"""Browser journey (issue 18 §4): the owner opens Settings > Scheduled jobs and sees, per branch, the daily
stock digest at 07:00 branch time with its next run, and the last run the tick wrote with its outcome."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from backend.inventory.digest import DIGEST_JOB
from backend.jobs.service import run_outbox_job
from backend.schedules.registry import SCHEDULES
from backend.schedules.service import tick
from tenants.session import platform_session
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e


def test_owner_sees_each_scheduled_job_per_branch_with_its_last_run(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("schedules", branches=2)
    with platform_session(reason="test: the chain opened three days ago") as session:
        for table in ("tenants", "branches"):
            column = "id" if table == "tenants" else "tenant_id"
            session.execute(
                text(f"UPDATE {table} SET created_at = now() - interval '3 days' WHERE {column} = :t"),  # noqa: S608
                {"t": chain.tenant_id},
            )
        session.execute(
            text("UPDATE branches SET time_zone = 'Asia/Tokyo' WHERE tenant_id = :t AND code = 'B2'"),
            {"t": chain.tenant_id},
        )
    written = [r for r in tick(only=[chain.tenant_id]).written if r.job_name == DIGEST_JOB]
    assert written
    latest = max((r for r in written if r.branch_id == str(chain.branch_ids[0])), key=lambda r: r.due_at)
    assert run_outbox_job(str(chain.tenant_id), latest.outbox_id) == "done"

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/settings")
    page.locator("#manage-schedules").click()
    expect(page.locator("#schedules-title")).to_be_visible(timeout=15000)
    rows = page.locator(".schedule-row")
    expect(rows).to_have_count(sum(2 if s.per_branch else 1 for s in SCHEDULES), timeout=15000)
    first = rows.filter(has_text="Branch 1").filter(has_text="Expiry and low-stock digest")
    expect(first).to_contain_text("daily at 07:00 (branch time)")
    expect(first).to_contain_text(f"{latest.period} (due")
    expect(first).to_contain_text("done")
    tokyo = rows.filter(has_text="Branch 2").filter(has_text="Expiry and low-stock digest")
    expect(tokyo).to_contain_text("07:00 Asia/Tokyo")  # the next run, in the branch's own time
    # the app's worker may have run it already (the relay hands the pending job over within a second)
    expect(tokyo).to_contain_text(re.compile(r"\(due .* Asia/Tokyo\)(waiting for a worker|running|done)"))
    expect(rows.filter(has_text="Whole chain")).to_contain_text("Records retention review")
    expect(rows.filter(has_text="Unclaimed fills reminder")).to_have_count(2)
