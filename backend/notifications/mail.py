"""E-mail through apprise, to whatever MAIL_URL names (a local SMTP sink in development and tests)."""

from __future__ import annotations

import logging
from urllib.parse import quote

import apprise

from backend.core.errors import ConfigurationError, ServiceUnavailable
from backend.core.logging import log_event
from backend.core.settings import get_settings
from backend.notifications.disclosure import Message

log = logging.getLogger(__name__)


def send_mail(to: str, subject: str, body: str) -> None:
    """Send one plain-text e-mail; raises so the job that called it is retried or marked failed."""
    base = get_settings().MAIL_URL
    if not base:
        raise ConfigurationError("MAIL_URL is not set: point it at an SMTP server (apprise mailto:// URL)")
    joiner = "&" if "?" in base else "?"
    sender = apprise.Apprise()
    if not sender.add(f"{base}{joiner}to={quote(to, safe='@')}"):
        raise ConfigurationError("MAIL_URL is not a valid apprise e-mail URL")
    if not sender.notify(title=subject, body=body, body_format=apprise.NotifyFormat.TEXT):
        raise ServiceUnavailable("The mail server did not accept the message")
    log_event(log, "mail.sent", subject=subject)  # never the address or body: they identify people


# Who may call `send_mail` with free text: mail to staff about their account (an invitation or a password
# reset is sent while the person waits for it). Other staff mail (the digest, the unclaimed-fill reminder, a
# recall) goes through the notifications queue: `backend/notifications/staff.py`. A patient's e-mail is sent with
# `send_patient_mail`, which takes only a message written by `disclosure.render` (tests/backend/notifications
# fails on any other caller of `send_mail`).
STAFF_MAIL_CALLERS = (
    "backend/accounts/staff.py",
    "backend/accounts/password_reset.py",
)


def send_patient_mail(to: str, message: Message) -> None:
    """E-mail one patient message: its subject and body as `render` wrote them, the minimum necessary."""
    if not isinstance(message, Message):  # free text about a prescription cannot reach a patient's inbox
        raise TypeError("send_patient_mail takes a disclosure.Message written by disclosure.render")
    send_mail(to, message.subject, message.body)
