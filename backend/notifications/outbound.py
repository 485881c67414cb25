"""Connections to hosts a chain chooses (its SMTP server, its webhook URL), guarded against SSRF.

A chain's host is resolved once, when connecting: every address it resolves to must be public
(`ipaddress.is_global`: not private, loopback, link-local, reserved, shared or multicast), unless the host
name or the address is listed in NOTIFY_ALLOW_PRIVATE_HOSTS. The connection then goes to that resolved
address (pinned), never to a second resolution of the name, so a name that answers a public address to the
check and a private one to the connection (DNS rebinding) reaches nothing. TLS still verifies the host
name: the socket is connected to the pinned address and wrapped with `server_hostname` = the name (SNI and
certificate check), and HTTP sends `Host:` with the name.

The chain's SMTP server is spoken to with smtplib directly, not through apprise: apprise's e-mail plugin
opens its own `smtplib.SMTP(host)` by name, with no hook to connect to an address already checked. The
webhook goes through `http.client` (no redirects are ever followed: a 3xx is a failure with its reason).

Each function answers `(sent, reason)`; the reason is redacted (it may name a recipient) and never carries
a secret (passwords, signing secrets are never formatted into it).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import ipaddress
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any
from urllib.parse import urlsplit

from backend.core.logging import redact
from backend.core.settings import get_settings

SIGNATURE_HEADER = "X-Pharmacy-Signature"


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying context per process, built at the first TLS connection: parsing the CA bundle costs
    70-100 ms (backend/notifications/smtp_tls.py), and an unchanged SSLContext may serve every thread."""
    return ssl.create_default_context()


class HostRefused(Exception):
    """The host cannot be resolved, or resolves to an address the server must not connect to."""


def _allowed(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    for entry in get_settings().notify_allowed_private_hosts():
        if entry == host:
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name that is not this one
    return False


def resolve_public(host: str, port: int) -> str:
    """The address to connect to for `host`: resolved once, every answer checked (raises HostRefused)."""
    host = (host or "").strip().lower().rstrip(".")
    if not host:
        raise HostRefused("No host name given.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise HostRefused(f"Cannot resolve {host}.") from None
    addresses = [str(info[4][0]).split("%")[0] for info in infos]
    if not addresses:
        raise HostRefused(f"Cannot resolve {host}.")
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not ip.is_global and not _allowed(host, ip):
            raise HostRefused(
                f"{host} points at a private or local address ({address}); refused "
                "(an installation may allow it with NOTIFY_ALLOW_PRIVATE_HOSTS)."
            )
    return addresses[0]


# --- a chain's own SMTP server ------------------------------------------------------------------------------


class SmtpSecurity:
    SSL = "ssl"  # implicit TLS (port 465)
    STARTTLS = "starttls"  # plain, then STARTTLS before anything is sent (port 587)
    NONE = "none"  # a relay on a private network (no password may be sent over it)
    ALL = (SSL, STARTTLS, NONE)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str
    username: str
    password: str
    from_address: str
    from_name: str


_HELO = socket.gethostname() or "localhost"  # smtplib's default asks DNS for our FQDN on every send


class _PinnedSMTP(smtplib.SMTP):
    """smtplib.SMTP whose socket connects to the address checked beforehand; STARTTLS verifies the name
    (`self._host`, which smtplib sets to the name given to connect())."""

    def __init__(self, pinned: str, **kwargs: Any) -> None:
        self._pinned = pinned
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self._pinned, port), timeout)


class _PinnedSMTPSSL(smtplib.SMTP_SSL):
    def __init__(self, pinned: str, **kwargs: Any) -> None:
        self._pinned = pinned
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        raw = socket.create_connection((self._pinned, port), timeout)
        return self.context.wrap_socket(raw, server_hostname=host)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        words = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return redact(f"The mail server answered {exc.smtp_code}: {words}")[:500]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "The mail server refused the recipient"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return redact(f"TLS failed: {exc}")[:500]
    if isinstance(exc, TimeoutError | socket.timeout):
        return "The mail server did not answer in time"
    return redact(f"Connection error: {type(exc).__name__}: {exc}")[:500]


def send_smtp(server: SmtpServer, to: str, subject: str, body: str, timeout: float) -> tuple[bool, str]:
    """One e-mail through the chain's own SMTP server, connected to the checked address."""
    try:
        pinned = resolve_public(server.host, server.port)
    except HostRefused as exc:
        return False, str(exc)
    message = EmailMessage()
    message["From"] = formataddr((server.from_name, server.from_address)) if server.from_name else server.from_address
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    context = _tls_context() if server.security != SmtpSecurity.NONE else None
    try:
        if server.security == SmtpSecurity.SSL:
            smtp: smtplib.SMTP = _PinnedSMTPSSL(pinned, local_hostname=_HELO, timeout=timeout, context=context)
        else:
            smtp = _PinnedSMTP(pinned, local_hostname=_HELO, timeout=timeout)
        with smtp:
            smtp.connect(server.host, server.port)
            smtp.ehlo()
            if server.security == SmtpSecurity.STARTTLS:
                smtp.starttls(context=context)
                smtp.ehlo()
            if server.username and server.security != SmtpSecurity.NONE:
                smtp.login(server.username, server.password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        return False, _reason(exc)
    return True, ""


# --- a chain's webhook ------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 of `<t>.<body>` with the chain's signing secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, pinned: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._pinned = pinned

    def connect(self) -> None:
        self.sock = socket.create_connection((self._pinned, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, pinned: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=_tls_context())
        self._pinned = pinned

    def connect(self) -> None:
        raw = socket.create_connection((self._pinned, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def post_webhook(url: str, secret: str, event: str, body: bytes, timeout: float) -> tuple[bool, str]:
    """POST one signed JSON event to the chain's URL (the checked address; no redirects followed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False, "The webhook URL must be an http:// or https:// address"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        pinned = resolve_public(parts.hostname, port)
    except (HostRefused, ValueError) as exc:
        return False, str(exc)
    cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    connection = cls(parts.hostname, port, pinned, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "pharmacy-saas-webhook/1",
        "X-Pharmacy-Event": event,
        SIGNATURE_HEADER: sign(secret, int(time.time()), body),
    }
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(300).decode(errors="replace")
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        if isinstance(exc, TimeoutError | socket.timeout):
            return False, "The webhook did not answer in time"
        return False, redact(f"Connection error: {type(exc).__name__}: {exc}")[:500]
    finally:
        connection.close()
    if 300 <= response.status < 400:
        where = response.getheader("Location") or "?"
        return False, redact(f"The webhook answered {response.status}, a redirect to {where}: not followed")[:500]
    if not 200 <= response.status < 300:
        return False, redact(f"The webhook answered {response.status} {response.reason}: {answer.strip()}")[:500]
    return True, ""
