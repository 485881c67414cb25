"""Quiet hours (issue 18 §2): a patient message due at 22:00 in the branch's time zone is held (queued, with
the reason, a fresh delivery scheduled for 08:00 there) and delivered after; never sent inside quiet hours.
The time is injected (`deliver_message(..., now=...)`), no test sleeps for hours."""

from __future__ import annotations

import time as clock
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rq.registry import ScheduledJobRegistry

from backend.core.errors import PermissionDenied, ValidationFailed
from backend.core.queue import job_queue, redis_connection
from backend.core.settings import reset_settings_cache
from backend.notifications.delivery import NOTIFICATIONS_QUEUE, deliver_message, queue_patient_message
from backend.notifications.disclosure import MessageKind, render
from backend.notifications.notify import Channel
from backend.notifications.quiet_hours import set_quiet_hours
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.backend.notifications.conftest import message_row

CHICAGO = ZoneInfo("America/Chicago")
PHONE = "+15555550140"


def owner_of(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def queue_sms(chain, kind=MessageKind.READY_FOR_PICKUP, key="qh-1", branch=True):
    values = {"branch": "Main Street", "chain": "Corner Pharmacy", "code": "123456"}
    message = render(kind, values, chain_allows=False, patient_consented=False)
    return run_in_tenant(
        TenantContext.system(chain.tenant_id), queue_patient_message, patient_id=None, message=message,
        channel=Channel.SMS, address=PHONE, consented=True, dedupe_key=key,
        branch_id=chain.branch_ids[0] if branch else None,
    )  # fmt: skip


@pytest.fixture
def clean_redis(sms_gateway, monkeypatch):
    redis_connection().flushdb()
    monkeypatch.setenv("NOTIFY_RETRY_INTERVALS", "1,1")
    reset_settings_cache()
    yield sms_gateway
    redis_connection().flushdb()


def test_a_message_at_22_branch_time_is_held_until_08_and_delivered_after(committed_tenant, clean_redis):
    gateway = clean_redis
    chain, _ = committed_tenant("quiet-held", time_zone="America/Chicago")
    run_in_tenant(owner_of(chain), set_quiet_hours, enabled=True, start="21:00", end="08:00")
    queued = queue_sms(chain)
    at_22 = datetime(2026, 6, 10, 22, 0, tzinfo=CHICAGO)  # 03:00 UTC: outside quiet hours in UTC
    before = clock.time()
    assert deliver_message(str(chain.tenant_id), str(queued.id), now=at_22) == "held"
    row = message_row(chain.tenant_id, queued.id)
    assert (row.status, row.reason, row.attempts) == ("queued", "Held for quiet hours until 08:00", 0)
    assert gateway.to(PHONE) == []  # never sent inside quiet hours
    # A fresh delivery is scheduled for 08:00 in Chicago: ten hours after "now".
    registry = ScheduledJobRegistry(queue=job_queue(NOTIFICATIONS_QUEUE, redis_connection()))
    [job_id] = registry.get_job_ids()
    scheduled = registry.get_scheduled_time(job_id).timestamp()
    assert abs(scheduled - before - 10 * 3600) < 120
    # Still inside at 07:59 the next morning; delivered at 08:00.
    assert deliver_message(str(chain.tenant_id), str(queued.id), now=datetime(2026, 6, 11, 7, 59, tzinfo=CHICAGO)) \
        == "held"  # fmt: skip
    assert deliver_message(str(chain.tenant_id), str(queued.id), now=datetime(2026, 6, 11, 8, 0, tzinfo=CHICAGO)) \
        == "sent"  # fmt: skip
    assert len(gateway.to(PHONE)) == 1 and message_row(chain.tenant_id, queued.id).reason == ""


def test_off_by_default_exempt_kinds_and_the_chain_zone_without_a_branch(committed_tenant, clean_redis):
    chain, _ = committed_tenant("quiet-exempt", time_zone="America/Chicago")
    at_22 = datetime(2026, 6, 10, 22, 0, tzinfo=CHICAGO)
    off = queue_sms(chain, key="off")
    assert deliver_message(str(chain.tenant_id), str(off.id), now=at_22) == "sent"  # no quiet hours set
    run_in_tenant(owner_of(chain), set_quiet_hours, enabled=True, start="21:00", end="08:00")
    code = queue_sms(chain, MessageKind.PORTAL_CODE, key="code")
    assert deliver_message(str(chain.tenant_id), str(code.id), now=at_22) == "sent"  # the patient is waiting
    no_branch = queue_sms(chain, key="nobranch", branch=False)  # the chain's only branch's zone
    assert deliver_message(str(chain.tenant_id), str(no_branch.id), now=at_22) == "held"
    noon_utc_is_7_in_chicago = datetime(2026, 6, 10, 12, 0, tzinfo=ZoneInfo("UTC"))
    assert deliver_message(str(chain.tenant_id), str(no_branch.id), now=noon_utc_is_7_in_chicago) == "held"
    run_in_tenant(owner_of(chain), set_quiet_hours, enabled=False)
    assert deliver_message(str(chain.tenant_id), str(no_branch.id), now=at_22) == "sent"


def test_setting_quiet_hours_checks_input_and_role(committed_tenant):
    chain, _ = committed_tenant("quiet-set")
    with pytest.raises(ValidationFailed):
        run_in_tenant(owner_of(chain), set_quiet_hours, enabled=True, start="9pm", end="08:00")
    with pytest.raises(ValidationFailed):
        run_in_tenant(owner_of(chain), set_quiet_hours, enabled=True, start="08:00", end="08:00")
    manager = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="manager")
    with pytest.raises(PermissionDenied):
        run_in_tenant(manager, set_quiet_hours, enabled=False)
