"""Opt-out that works (issue 18 §2): the link in the sent e-mail and text, confirming it (as the chain's portal
visitor) stops that channel, the next message is suppressed with the reason; a bad code changes nothing; the
portal sign-in code carries no link. The page itself (GET changes nothing, the button) is driven in
tests/e2e/test_message_templates.py."""

from __future__ import annotations

import re

from sqlalchemy import text

from backend.notifications.delivery import MessageStatus, deliver_message, queue_patient_message
from backend.notifications.disclosure import MessageKind, render
from backend.notifications.notify import Channel
from backend.notifications.optout import confirm_optout
from backend.patients.service import create_patient
from backend.portal.chains import chain_for_slug, visitor_context
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session
from tests.backend.notifications.conftest import message_row

EMAIL, PHONE = "olly.optout@example.com", "+15555550150"
LINK = re.compile(r"https?://\S+/portal/([a-z0-9-]+)/stop/([A-Za-z0-9_-]+)")


def setup(committed_tenant, prefix):
    chain, _ = committed_tenant(prefix)
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    patient = run_in_tenant(owner, create_patient, full_name="Olly Optout", date_of_birth="1975-05-05",
                            home_branch_id=str(chain.branch_ids[0]), email=EMAIL, phone=PHONE,
                            contact_consent=True)  # fmt: skip
    return chain, str(patient.id)


def send(chain, patient_id, channel, key, kind=MessageKind.READY_FOR_PICKUP):
    values = {"branch": "Main Street", "chain": "Corner Pharmacy", "code": "123456"}
    message = render(kind, values, chain_allows=False, patient_consented=False)
    return run_in_tenant(
        TenantContext.system(chain.tenant_id), queue_patient_message, patient_id=patient_id, message=message,
        channel=channel, address=EMAIL if channel is Channel.EMAIL else PHONE, consented=True, dedupe_key=key,
    )  # fmt: skip


def optouts(chain) -> list[str]:
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        return list(session.execute(text("SELECT channel FROM notification_optouts")).scalars())


def test_the_link_in_the_mail_stops_e_mails_and_the_next_one_is_suppressed(committed_tenant, mail_sink, sms_gateway):
    chain, patient_id = setup(committed_tenant, "optout-mail")
    first = send(chain, patient_id, Channel.EMAIL, "m1")
    assert deliver_message(str(chain.tenant_id), str(first.id)) == "sent"
    body = mail_sink.text(mail_sink.to(EMAIL)[-1])
    assert "To stop e-mails from" in body
    slug, code = LINK.search(body).groups()
    assert slug == chain.slug and code.startswith("e") and len(code) >= 14
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:  # stored hashed, never as sent
        stored = session.execute(text("SELECT code_hash FROM notification_optout_codes")).scalars().all()
    assert code not in stored and len(stored) == 1
    portal = visitor_context(chain_for_slug(slug))
    assert optouts(chain) == []  # the mail alone (or a scanner opening it) stopped nothing
    waiting = send(chain, patient_id, Channel.EMAIL, "m-waiting")  # queued before the opt-out, not yet sent
    assert run_in_tenant(portal, confirm_optout, code) is True
    assert optouts(chain) == ["email"]
    assert deliver_message(str(chain.tenant_id), str(waiting.id)) == "suppressed"  # not sent after all
    assert message_row(chain.tenant_id, waiting.id).reason == "The patient opted out of e-mail messages"
    after = send(chain, patient_id, Channel.EMAIL, "m2")
    assert after.status is MessageStatus.SUPPRESSED and after.reason == "The patient opted out of e-mail messages"
    texted = send(chain, patient_id, Channel.SMS, "s1")  # texts are a separate choice
    assert texted.status is MessageStatus.QUEUED
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        audited = session.execute(
            text("SELECT count(*) FROM audit_events WHERE action = 'patient.messages_opted_out'")
        ).scalar_one()
    assert audited == 1
    assert run_in_tenant(portal, confirm_optout, code) is True and len(optouts(chain)) == 1  # twice: once


def test_a_bad_code_changes_nothing_and_another_chain_cannot_use_a_code(committed_tenant, sms_gateway):
    chain, patient_id = setup(committed_tenant, "optout-bad")
    other, _ = setup(committed_tenant, "optout-other")
    sms = send(chain, patient_id, Channel.SMS, "s1")
    assert deliver_message(str(chain.tenant_id), str(sms.id)) == "sent"
    [sent] = sms_gateway.to(PHONE)
    assert " Stop: " in sent["message"]
    slug, code = LINK.search(sent["message"]).groups()
    assert code.startswith("s")
    portal = visitor_context(chain_for_slug(slug))
    for bad in ("s" + "A" * 13, "", "x" * 200, code[:-1]):
        assert run_in_tenant(portal, confirm_optout, bad) is False
    assert run_in_tenant(visitor_context(chain_for_slug(other.slug)), confirm_optout, code) is False  # RLS
    assert optouts(chain) == [] and optouts(other) == []


def test_the_sign_in_code_has_no_stop_line(committed_tenant, mail_sink):
    chain, patient_id = setup(committed_tenant, "optout-code")
    code = send(chain, patient_id, Channel.EMAIL, "c1", MessageKind.PORTAL_CODE)
    assert deliver_message(str(chain.tenant_id), str(code.id)) == "sent"
    assert "/stop/" not in mail_sink.text(mail_sink.to(EMAIL)[-1])
