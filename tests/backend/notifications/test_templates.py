"""Templates the owner edits (issue 18 §2): save refuses missing/unknown values, detail in a minimum message,
syntax errors and sandbox escapes (and nothing is saved); the preview; reset; and a saved template is what the
patient receives through the real queue, worker and SMTP sink."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from backend.core.errors import PermissionDenied, ValidationFailed
from backend.core.queue import redis_connection
from backend.jobs.service import relay_once
from backend.notifications.delivery import queue_patient_message
from backend.notifications.disclosure import DisclosureRefused, MessageKind, render
from backend.notifications.notify import Channel
from backend.notifications.templates import get_template, preview, reset_template, save_template
from backend.patients.message_consent import message_for_patient
from backend.patients.service import create_patient
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session
from tests.backend.notifications.conftest import message_row
from tests.helpers import start_cli, stop, wait_until

READY = MessageKind.READY_FOR_PICKUP.value
GOOD = ("Ready: {{ branch }}", "Hello! Your order waits at {{ branch }}.", "{{ chain }}: pick up at {{ branch }}.")


def owner_of(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def saved_rows(chain) -> int:
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        return session.execute(text("SELECT count(*) FROM message_templates")).scalar_one()


@pytest.mark.parametrize(
    ("sms", "expected"),
    [
        ("{{ chain }}: your code is {{ code }}", "is not given code"),  # a value this kind does not get
        ("{{ chain }}: {{ nonsense }}", "Unknown value in the template: nonsense"),  # unknown
        ("{{ chain }}: {{ medicine }} ready", "may not include medicine"),  # detail in a minimum message
        ("{{ chain }: broken", "cannot be read"),  # syntax
        ("{{ ''.__class__.__mro__ }}", "not allowed"),  # the classic escape
        ("{{ cycler.__init__.__globals__ }}", "not allowed"),
        ("{{ branch.__class__.__init__.__globals__['os'] }}", "not allowed"),
        ("{% for x in branch %}{{ x }}{% endfor %}", "not allowed"),
        ("{{ branch|center(1000000000) }}", "cannot be read"),  # no such filter here
        ("{{ 'a' * 1000000000 }}", "not allowed"),
        ("{{ branch.upper() }}", "not allowed"),
        ("", "text message is empty"),
    ],
)
def test_save_refuses_and_saves_nothing(committed_tenant, sms, expected):
    chain, _ = committed_tenant("tpl-refuse")
    with pytest.raises((ValidationFailed, DisclosureRefused)) as refused:
        run_in_tenant(owner_of(chain), save_template, READY, "minimum", GOOD[0], GOOD[1], sms)
    assert expected in refused.value.message
    assert saved_rows(chain) == 0
    view = run_in_tenant(owner_of(chain), get_template, READY, "minimum")
    assert not view.customised and "ready for pickup" in view.template.sms


def test_the_sandbox_runs_no_code_even_when_render_is_called_directly():
    from backend.notifications.disclosure import Template

    for escape in ("{{ ''.__class__.__mro__ }}", "{{ cycler.__init__.__globals__ }}", "{{ lipsum.__globals__ }}"):
        with pytest.raises(ValidationFailed):
            render(MessageKind.READY_FOR_PICKUP, {"branch": "x", "chain": "y"}, chain_allows=False,
                   patient_consented=False, template=Template("s", "b", escape))  # fmt: skip


def test_a_detailed_variant_may_name_the_medicine_and_the_preview_fills_demo_values(committed_tenant):
    chain, _ = committed_tenant("tpl-preview")
    owner = owner_of(chain)
    shown = run_in_tenant(owner, preview, READY, "detailed", "Ready", "{{ medicine }} at {{ branch }}",
                          "{{ chain }}: {{ medicine }} (Rx {{ rx_number }}) at {{ branch }}")  # fmt: skip
    assert shown.sms == "Corner Pharmacy: Sertraline 50 mg (Rx B1-9) at Main Street" and shown.detailed
    minimum = run_in_tenant(owner, preview, READY, "minimum", *GOOD)
    assert minimum.body == "Hello! Your order waits at Main Street." and not minimum.detailed
    assert saved_rows(chain) == 0  # a preview saves nothing


def test_save_reset_audit_and_only_the_owner(committed_tenant):
    chain, _ = committed_tenant("tpl-save")
    owner = owner_of(chain)
    view = run_in_tenant(owner, save_template, READY, "minimum", *GOOD)
    assert view.customised and view.template.sms == GOOD[2]
    manager = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="manager")
    with pytest.raises(PermissionDenied):
        run_in_tenant(manager, save_template, READY, "minimum", *GOOD)
    back = run_in_tenant(owner, reset_template, READY, "minimum")
    assert not back.customised and "ready for pickup" in back.template.sms
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        actions = (
            session.execute(
                text("SELECT action FROM audit_events WHERE action LIKE 'messages.template_%' ORDER BY occurred_at")
            )
            .scalars()
            .all()
        )
    assert list(actions) == ["messages.template_saved", "messages.template_reset"]


@pytest.fixture
def worker(mail_sink):
    process = start_cli("worker", "--queues", "notifications", log_name="test-templates-worker")
    yield mail_sink
    stop(process)


def test_the_saved_template_is_what_the_patient_receives(committed_tenant, worker):
    mail_sink = worker
    chain, _ = committed_tenant("tpl-sent")
    owner = owner_of(chain)
    run_in_tenant(owner, save_template, READY, "minimum", "Come and get it",
                  "Good news from {{ chain }}: your order waits at {{ branch }}.", GOOD[2])  # fmt: skip
    patient = run_in_tenant(owner, create_patient, full_name="Tia Template", date_of_birth="1980-02-02",
                            home_branch_id=str(chain.branch_ids[0]), email="tia.template@example.com",
                            contact_consent=True)  # fmt: skip
    patient_id = str(patient.id)

    def write(session, ctx):
        values = {"branch": "Main Street", "chain": "Corner Pharmacy", "medicine": "Sertraline 50 mg",
                  "rx_number": "B1-9"}  # fmt: skip
        message = message_for_patient(session, ctx, patient_id, MessageKind.READY_FOR_PICKUP, values)
        return queue_patient_message(
            session, ctx, patient_id=patient_id, message=message, channel=Channel.EMAIL,
            address="tia.template@example.com", consented=True, dedupe_key="tpl-1",
        )  # fmt: skip

    queued = run_in_tenant(TenantContext.system(chain.tenant_id), write)
    assert relay_once(redis_connection()) >= 1
    wait_until(lambda: message_row(chain.tenant_id, queued.id).status == "sent", message="the templated e-mail")
    [mail] = mail_sink.to("tia.template@example.com")
    assert mail["Subject"] == "Come and get it"
    body = mail_sink.text(mail)
    assert "Good news from Corner Pharmacy: your order waits at Main Street." in body
    assert "ertraline" not in body and f"/portal/{chain.slug}/stop/" in body
