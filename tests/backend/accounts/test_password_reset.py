"""Password reset by e-mail, end to end: outbox -> relay -> real worker -> apprise -> SMTP sink."""

from __future__ import annotations

import re

import pytest

from backend.accounts.password_reset import SENT_MESSAGE, request_password_reset, reset_password
from backend.accounts.service import BAD_CREDENTIALS, authenticate
from backend.accounts.sessions import principal_for_token, start_session
from backend.core.errors import AuthenticationRequired, ValidationFailed
from backend.core.queue import redis_connection
from backend.core.settings import get_settings
from backend.jobs.service import relay_once
from tests.conftest import TEST_PASSWORD
from tests.helpers import start_cli, stop, wait_until

pytestmark = pytest.mark.worker


@pytest.fixture(scope="module")
def worker():
    process = start_cli("worker", log_name="test-reset-worker")
    yield process
    stop(process)


def test_reset_link_by_email_sets_a_new_password_once(worker, mail_sink, committed_tenant):
    chain, spec = committed_tenant("reset")
    session_token = start_session(str(chain.owner_user_id), str(chain.tenant_id))
    assert request_password_reset(spec.owner_email.upper()) == SENT_MESSAGE
    relay_once(redis_connection())
    mails = wait_until(lambda: mail_sink.to(spec.owner_email), message="the reset e-mail")
    assert len(mails) == 1 and mails[0]["Subject"] == "Reset your Pharmacy Cloud password"
    body = mail_sink.text(mails[0])
    link = re.search(r"(\S+/reset\?token=\S+)", body).group(1)  # type: ignore[union-attr]
    assert link.startswith(get_settings().APP_URL + "/reset?token=")  # from APP_URL, never a Host header

    token = link.split("token=")[1]
    with pytest.raises(ValidationFailed, match="too common"):
        reset_password(token, "password123")
    reset_password(token, "Brand-New-Mortar-88")
    assert principal_for_token(session_token) is None  # every session ended
    assert authenticate(spec.owner_email, "Brand-New-Mortar-88").user_id == str(chain.owner_user_id)
    with pytest.raises(AuthenticationRequired, match=BAD_CREDENTIALS):
        authenticate(spec.owner_email, TEST_PASSWORD)
    with pytest.raises(ValidationFailed, match="invalid or has expired"):
        reset_password(token, "Another-New-Pestle-99")  # one-time


def test_unknown_address_gets_the_same_answer_and_no_mail(mail_sink):
    before = len(mail_sink.messages)
    assert request_password_reset("nobody-here@example.com") == SENT_MESSAGE
    relay_once(redis_connection())
    assert len(mail_sink.messages) == before
    with pytest.raises(ValidationFailed, match="invalid or has expired"):
        reset_password("made-up-token", "Brand-New-Mortar-88")


def test_invitations_are_emailed_once_with_a_working_link(worker, mail_sink, committed_tenant):
    from backend.accounts.staff import invitation_details, invite
    from tenants.context import TenantContext

    chain, spec = committed_tenant("invite-mail")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    created = invite(owner, "Mia.Mail@example.com", "technician")
    relay_once(redis_connection())
    mails = wait_until(lambda: mail_sink.to("mia.mail@example.com"), message="the invitation e-mail")
    assert mails[0]["Subject"] == f"You are invited to {spec.name} on Pharmacy Cloud"
    body = mail_sink.text(mails[0])
    assert created.link in body and "as technician" in body
    view = invitation_details(created.link.split("token=")[1])
    assert view is not None and view.status == "pending"
    relay_once(redis_connection())
    assert len(mail_sink.to("mia.mail@example.com")) == 1
