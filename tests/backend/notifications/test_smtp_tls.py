"""apprise's SMTP sender with the context built only for a TLS handshake (backend/notifications/smtp_tls.py):
plain, STARTTLS with the certificate checked, and STARTTLS with checks switched off for one server only."""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend.notifications import smtp_tls
from backend.notifications.notify import Channel, notify
from devtools.services import free_port


class Sink:
    def __init__(self) -> None:
        self.received: list[str] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.received.extend(envelope.rcpt_tos)
        return "250 OK"


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@pytest.fixture
def tls_sink(tmp_path) -> Iterator[tuple[Sink, int]]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    yield sink, port
    controller.stop()


def test_starttls_with_checks_off_for_one_server_does_not_relax_the_next(tls_sink):
    sink, port = tls_sink
    base = f"mailto://localhost:{port}?from=no-reply@pharmacy.test&mode=starttls"
    relaxed = notify(Channel.EMAIL, base + "&verify=no", "a@example.com", "Hello", "Body")
    assert relaxed.sent, relaxed.reason
    # The same self-signed server with checks on (apprise's default): refused, as it must be.
    checked = notify(Channel.EMAIL, base, "b@example.com", "Hello", "Body")
    assert not checked.sent
    assert sink.received == ["a@example.com"]


def test_a_plain_connection_builds_no_tls_context(mail_sink):
    context = smtp_tls._SslForApprise.create_default_context()
    assert isinstance(context, smtp_tls.LazyContext) and context._context is None
    sent = notify(Channel.EMAIL, __import__("os").environ["MAIL_URL"], "plain@example.com", "Hello", "Body")
    assert sent.sent and mail_sink.to("plain@example.com")


def test_the_shared_secure_context_checks_certificates():
    context = smtp_tls.LazyContext()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    relaxed = smtp_tls.LazyContext()
    relaxed.check_hostname = False
    relaxed.verify_mode = ssl.CERT_NONE
    assert relaxed._real() is not context._real()
    assert context._real().verify_mode == ssl.CERT_REQUIRED
