"""A chain's own channels (issue 18 §1): its SMTP server (a local SMTP sink here) carries its messages while
another chain's still go through the platform's; secrets sealed, never shown or logged; a webhook signed
with HMAC that the receiver verifies; no redirects; private hosts refused when connecting unless allowed
(the tests allow 127.0.0.1 to reach their stand-ins and prove both sides); owners only; bad input refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from backend.core.errors import PermissionDenied, ValidationFailed
from backend.core.logging import install_redaction
from backend.core.settings import reset_settings_cache
from backend.notifications import channels
from backend.notifications.delivery import deliver_message, queue_patient_message
from backend.notifications.disclosure import MessageKind, render
from backend.notifications.notify import Channel
from backend.notifications.outbound import SIGNATURE_HEADER, post_webhook
from devtools.services import free_port
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session
from tests.backend.notifications.conftest import message_row
from tests.conftest import MailSink

SMTP_PASSWORD = "S3cret-smtp-Passw0rd!"
SMS_TOKEN = "smstokenSECRET0123456789"


@pytest.fixture
def settings(monkeypatch):
    def configure(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        reset_settings_cache()

    yield configure
    monkeypatch.undo()
    reset_settings_cache()


@pytest.fixture
def chain_smtp() -> Iterator[tuple[MailSink, int]]:
    """The chain's own SMTP server: a second real SMTP sink, apart from the platform's (MAIL_URL)."""
    sink, port = MailSink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


class Receiver:
    """The chain's webhook endpoint: verifies each request's HMAC signature with the secret it was given."""

    def __init__(self) -> None:
        self.port = free_port()
        self.secret = ""
        self.redirect = False
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append(
                    {"path": self.path, "host": self.headers.get("Host"), "body": body,
                     "verified": server.verify(self.headers.get(SIGNATURE_HEADER, ""), body)}
                )  # fmt: skip
                if server.redirect:
                    self.send_response(302)
                    self.send_header("Location", f"http://127.0.0.1:{server.port}/elsewhere")
                else:
                    self.send_response(204 if server.requests[-1]["verified"] else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = HTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/hooks/pharmacy"

    def verify(self, header: str, body: bytes) -> bool:
        """What a chain's server does: recompute HMAC-SHA256 over '<t>.<body>', compare, check freshness."""
        fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        if not self.secret or "t" not in fields or "v1" not in fields:
            return False
        expected = hmac.new(self.secret.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, fields["v1"]) and abs(time.time() - int(fields["t"])) < 300

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.stop()


def owner(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def own_smtp(port: int, **extra: str) -> dict[str, str]:
    return {"email_mode": "own", "smtp_host": "127.0.0.1", "smtp_port": str(port), "smtp_security": "none",
            "smtp_from_address": "rx@corner.example", "smtp_from_name": "Corner Pharmacy", **extra}  # fmt: skip


def ready_message():
    return render(
        MessageKind.READY_FOR_PICKUP, {"branch": "Main Street", "chain": "Corner"}, chain_allows=False,
        patient_consented=False,
    )  # fmt: skip


def queue_email(chain, address: str, key: str):
    return run_in_tenant(
        TenantContext.system(chain.tenant_id), queue_patient_message, patient_id=None, message=ready_message(),
        channel=Channel.EMAIL, address=address, consented=True, dedupe_key=key,
    )  # fmt: skip


def test_the_owners_smtp_server_gets_the_test_and_the_chains_messages_while_another_chain_uses_the_platforms(
    committed_tenant, chain_smtp, mail_sink
):
    sink, port = chain_smtp
    chain, _ = committed_tenant("channels-own")
    other, _ = committed_tenant("channels-platform")
    saved = run_in_tenant(owner(chain), channels.save_email, own_smtp(port))
    assert saved.mode == "own" and saved.config["host"] == "127.0.0.1" and not saved.secret_set

    outcome = run_in_tenant(owner(chain), channels.send_test, "email", "owner.test@corner.example")
    assert outcome.sent, outcome.reason
    [test_mail] = sink.to("owner.test@corner.example")
    assert "Corner Pharmacy" in str(test_mail["From"]) and "rx@corner.example" in str(test_mail["From"])
    assert "this channel works" in MailSink.text(test_mail)

    mine = queue_email(chain, "pat.own@example.com", "own-1")
    theirs = queue_email(other, "pat.platform@example.com", "platform-1")
    assert deliver_message(str(chain.tenant_id), str(mine.id)) == "sent"
    assert deliver_message(str(other.tenant_id), str(theirs.id)) == "sent"
    assert len(sink.to("pat.own@example.com")) == 1 and not mail_sink.to("pat.own@example.com")
    assert len(mail_sink.to("pat.platform@example.com")) == 1 and not sink.to("pat.platform@example.com")
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        audited = session.execute(
            text("SELECT action FROM audit_events WHERE action LIKE 'notifications.channel%' ORDER BY occurred_at")
        ).scalars().all()  # fmt: skip
    assert audited == ["notifications.channel_saved", "notifications.channel_tested"]


def test_secrets_are_sealed_never_shown_and_never_logged(committed_tenant, chain_smtp, receiver, caplog):
    install_redaction()  # as every process of the product does at start (backend.core.logging)
    _, port = chain_smtp
    chain, _ = committed_tenant("channels-secrets")
    caplog.set_level(logging.DEBUG)
    form = own_smtp(port, smtp_security="starttls", smtp_username="mailer", smtp_password=SMTP_PASSWORD)
    run_in_tenant(owner(chain), channels.save_email, form)
    sms_url = f"smseagle://{SMS_TOKEN}@127.0.0.1:{free_port()}"
    run_in_tenant(owner(chain), channels.save_sms, {"sms_mode": "own", "sms_url": sms_url})
    _, webhook_secret = run_in_tenant(owner(chain), channels.save_webhook,
                                      {"webhook_mode": "own", "webhook_url": receiver.url()})  # fmt: skip
    assert webhook_secret.startswith("whsec_")
    # The test sends go out and fail (the sink offers no STARTTLS; no SMS gateway listens): reasons, no secrets.
    email = run_in_tenant(owner(chain), channels.send_test, "email", "owner@corner.example")
    sms = run_in_tenant(owner(chain), channels.send_test, "sms", "+15555550100")
    assert not email.sent and "STARTTLS" in email.reason
    assert not sms.sent and sms.reason

    shown = run_in_tenant(owner(chain), channels.channel_settings)
    assert shown[Channel.EMAIL].secret_set and shown[Channel.SMS].secret_hint == "smseagle://…"
    assert shown[Channel.WEBHOOK].secret_hint == f"whsec_…{webhook_secret[-4:]}"
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        stored = session.execute(
            text("SELECT channel, config::text AS config, secret_enc, secret_hint FROM notification_channels")
        ).all()
        audit = " ".join(session.execute(text("SELECT details::text FROM audit_events")).scalars().all())
    assert {r.channel for r in stored} == {"email", "sms", "webhook"}
    everything_shown = repr(shown) + audit + email.reason + sms.reason + caplog.text
    everything_stored = b"".join(bytes(r.secret_enc) + (r.config + r.secret_hint).encode() for r in stored)
    for secret in (SMTP_PASSWORD, SMS_TOKEN, webhook_secret):
        assert secret not in everything_shown
        assert secret.encode() not in everything_stored
    # ...and the chain key opens them: the chain's own providers are what delivery uses.
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        assert channels.chain_target(session, chain.tenant_id, Channel.EMAIL).smtp.password == SMTP_PASSWORD
        assert channels.chain_target(session, chain.tenant_id, Channel.SMS).url == sms_url


def test_a_webhook_event_is_signed_and_the_receiver_verifies_it(committed_tenant, receiver):
    chain, _ = committed_tenant("channels-webhook")
    settings_shown, secret = run_in_tenant(owner(chain), channels.save_webhook,
                                           {"webhook_mode": "own", "webhook_url": receiver.url()})  # fmt: skip
    assert settings_shown.mode == "own" and secret
    receiver.secret = secret
    assert run_in_tenant(owner(chain), channels.send_test, "webhook").sent
    [test_event] = receiver.requests
    assert test_event["verified"] and test_event["path"] == "/hooks/pharmacy"
    assert json.loads(test_event["body"])["event"] == "test"

    # Another domain queues an event through the outbox: delivered, logged, signed.
    queued = run_in_tenant(
        TenantContext.system(chain.tenant_id), channels.queue_webhook_event, event="digest.daily",
        data={"branch": "Main", "expiring": 3}, dedupe_key="digest-1",
    )  # fmt: skip
    assert deliver_message(str(chain.tenant_id), str(queued.id)) == "sent"
    event = receiver.requests[-1]
    assert event["verified"] and json.loads(event["body"])["data"] == {"branch": "Main", "expiring": 3}
    row = message_row(chain.tenant_id, queued.id)
    assert (row.channel, row.kind, row.recipient_hint, row.status) == ("webhook", "webhook.digest.daily", "127.0.0.1",
                                                                        "sent")  # fmt: skip
    assert receiver.url().encode() not in bytes(row.recipient_enc)

    # A new secret: events signed with it, the old one no longer verifies.
    receiver_old = receiver.secret
    fresh = run_in_tenant(owner(chain), channels.rotate_webhook_secret)
    assert fresh != receiver_old
    assert not run_in_tenant(owner(chain), channels.send_test, "webhook").sent  # the receiver still has the old
    receiver.secret = fresh
    assert run_in_tenant(owner(chain), channels.send_test, "webhook").sent


def test_a_redirect_is_a_failure_and_is_not_followed(committed_tenant, receiver):
    chain, _ = committed_tenant("channels-redirect")
    _, receiver.secret = run_in_tenant(owner(chain), channels.save_webhook,
                                       {"webhook_mode": "own", "webhook_url": receiver.url()})  # fmt: skip
    receiver.redirect = True
    outcome = run_in_tenant(owner(chain), channels.send_test, "webhook")
    assert not outcome.sent and "302" in outcome.reason and "not followed" in outcome.reason
    assert [r["path"] for r in receiver.requests] == ["/hooks/pharmacy"]  # nothing went to /elsewhere


def test_a_private_host_is_refused_on_save_and_when_connecting_unless_allowed(
    committed_tenant, receiver, chain_smtp, settings
):
    sink, port = chain_smtp
    chain, _ = committed_tenant("channels-ssrf")
    settings(NOTIFY_ALLOW_PRIVATE_HOSTS="")
    for form, service in (({"webhook_mode": "own", "webhook_url": receiver.url("localhost")}, channels.save_webhook),
                          (own_smtp(port), channels.save_email)):  # fmt: skip
        with pytest.raises(ValidationFailed, match="private or local address"):
            run_in_tenant(owner(chain), service, form)
    # Allowed by the installation, saved; then no longer allowed: refused when connecting, nothing sent.
    settings(NOTIFY_ALLOW_PRIVATE_HOSTS="localhost,127.0.0.1")
    _, receiver.secret = run_in_tenant(owner(chain), channels.save_webhook,
                                       {"webhook_mode": "own", "webhook_url": receiver.url("localhost")})  # fmt: skip
    run_in_tenant(owner(chain), channels.save_email, own_smtp(port))
    assert run_in_tenant(owner(chain), channels.send_test, "webhook").sent
    assert run_in_tenant(owner(chain), channels.send_test, "email", "a@corner.example").sent
    settings(NOTIFY_ALLOW_PRIVATE_HOSTS="")
    hook = run_in_tenant(owner(chain), channels.send_test, "webhook")
    mail = run_in_tenant(owner(chain), channels.send_test, "email", "b@corner.example")
    assert not hook.sent and "private or local address" in hook.reason
    assert not mail.sent and "private or local address" in mail.reason
    assert len(receiver.requests) == 1 and not sink.to("b@corner.example")


def test_the_connection_goes_to_the_address_checked_not_a_second_answer(receiver, settings, monkeypatch):
    """DNS rebinding: a name that answers an allowed address to the check and another one later. The
    connection goes to the first answer (pinned), with the name in the Host header."""
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "192.0.2.1"])  # then TEST-NET-1: never reachable

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == "hooks.rebind.test":
            return real(next(answers), *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    receiver.secret = "whsec_test"
    sent, reason = post_webhook(receiver.url("hooks.rebind.test"), "whsec_test", "test", b"{}", 3)
    assert sent, reason
    assert receiver.requests[0]["host"] == f"hooks.rebind.test:{receiver.port}" and receiver.requests[0]["verified"]


@pytest.mark.parametrize("role", ["manager", "pharmacist", "cashier"])
def test_only_the_owner_configures_or_tests_channels(make_tenant, role):
    chain = make_tenant("channels-roles")
    ctx = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role=role)
    calls = [
        (channels.channel_settings, ()), (channels.save_email, (own_smtp(25),)),
        (channels.save_sms, ({"sms_mode": "off"},)), (channels.save_webhook, ({"webhook_mode": "off"},)),
        (channels.rotate_webhook_secret, ()), (channels.send_test, ("email", "a@corner.example")),
    ]  # fmt: skip
    for service, args in calls:
        with pytest.raises(PermissionDenied):
            run_in_tenant(ctx, service, *args)


@pytest.mark.parametrize(
    ("service", "form", "message"),
    [
        (channels.save_email, own_smtp(25, smtp_port="abc"), "port must be a whole number"),
        (channels.save_email, own_smtp(25, smtp_host="smtp example.com"), "host name"),
        (channels.save_email, own_smtp(25, smtp_from_address="nobody"), "sender's e-mail address"),
        (channels.save_email, own_smtp(25, smtp_username="u", smtp_password="p"), "only over SSL or STARTTLS"),
        (channels.save_webhook, {"webhook_mode": "own", "webhook_url": "ftp://127.0.0.1/x"}, "http:// or https://"),
        (channels.save_webhook, {"webhook_mode": "own", "webhook_url": "javascript:alert(1)"}, "http:// or https://"),
        (channels.save_sms, {"sms_mode": "own", "sms_url": "smseagle://"}, "apprise cannot read"),
        (channels.save_sms, {"sms_mode": "own", "sms_url": "mailto://u:p@127.0.0.1"}, "not an SMS service"),
        (channels.save_sms, {"sms_mode": "own", "sms_url": ""}, "Paste your SMS provider"),
        (channels.save_sms, {"sms_mode": "sometimes"}, "Choose one of"),
    ],
)
def test_bad_input_gets_a_clear_message_and_saves_nothing(make_tenant, service, form, message):
    chain = make_tenant("channels-bad")
    with pytest.raises(ValidationFailed, match=message):
        run_in_tenant(owner(chain), service, form)
    with tenant_session(TenantContext.system(chain.tenant_id)) as session:
        assert session.execute(text("SELECT count(*) FROM notification_channels")).scalar_one() == 0
    shown = run_in_tenant(owner(chain), channels.channel_settings)
    assert [s.mode for s in shown.values()] == ["platform", "platform", "off"]


def test_a_bad_test_address_is_refused_before_anything_is_sent(make_tenant):
    chain = make_tenant("channels-testto")
    with pytest.raises(ValidationFailed, match="e-mail address"):
        run_in_tenant(owner(chain), channels.send_test, "email", "not-an-address")
    with pytest.raises(ValidationFailed, match="country code"):
        run_in_tenant(owner(chain), channels.send_test, "sms", "call me")


def test_texts_switched_off_are_suppressed_with_the_reason(committed_tenant):
    chain, _ = committed_tenant("channels-off")
    run_in_tenant(owner(chain), channels.save_sms, {"sms_mode": "off"})
    queued = run_in_tenant(
        TenantContext.system(chain.tenant_id), queue_patient_message, patient_id=None, message=ready_message(),
        channel=Channel.SMS, address="+15555550100", consented=True, dedupe_key="off-1",
    )  # fmt: skip
    assert queued.status == "suppressed" and "switched off for this chain" in queued.reason
