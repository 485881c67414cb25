"""Settings > Notifications (issue 18 §1): the chain's e-mail, SMS and webhook channels, and a test send on
each (owner only). The state never holds a stored secret: only whether it is set and its hint; the webhook's
new signing secret is held once, to be shown once, and dropped on the next load."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.notifications.channels import (
    ChannelSettings,
    channel_settings,
    rotate_webhook_secret,
    save_email,
    save_sms,
    save_webhook,
    send_test,
)
from backend.notifications.notify import Channel
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext


def _when(found: ChannelSettings) -> str:
    return f"{found.updated_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if found.updated_at else ""


class ChannelsState(ShellState):
    """The three channel cards; each has its own error and its own test outcome."""

    email_mode: str = "platform"
    smtp_host: str = ""
    smtp_port: str = "587"
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password_set: bool = False
    smtp_from_address: str = ""
    smtp_from_name: str = ""
    email_updated: str = ""
    sms_mode: str = "platform"
    sms_hint: str = ""
    webhook_mode: str = "off"
    webhook_url: str = ""
    webhook_hint: str = ""
    webhook_new_secret: str = ""  # shown once, right after it was made
    loaded: bool = False  # the stored settings are on the page (tests wait for it before typing)
    form_version: int = 0  # the forms' key: a new value shows the stored settings in fresh fields
    errors: dict[str, str] = {}
    tests: dict[str, str] = {}  # channel -> "Sent" or "Not sent: <the provider's reason>"
    tested_ok: dict[str, bool] = {}

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.email_mode, self.smtp_host, self.smtp_port, self.smtp_security, self.smtp_username,
            self.smtp_from_address, self.smtp_from_name, self.sms_mode, self.webhook_mode, self.webhook_url,
        )  # fmt: skip

    def _show(self, found: dict[Channel, ChannelSettings]) -> None:
        before = self._fields()
        email, sms, webhook = found[Channel.EMAIL], found[Channel.SMS], found[Channel.WEBHOOK]
        self.email_mode = email.mode
        self.smtp_host = str(email.config.get("host", ""))
        self.smtp_port = str(email.config.get("port", "587"))
        self.smtp_security = str(email.config.get("security", "starttls"))
        self.smtp_username = str(email.config.get("username", ""))
        self.smtp_password_set = email.secret_set
        self.smtp_from_address = str(email.config.get("from_address", ""))
        self.smtp_from_name = str(email.config.get("from_name", ""))
        self.email_updated = _when(email)
        self.sms_mode = sms.mode
        self.sms_hint = sms.secret_hint if sms.secret_set else ""
        self.webhook_mode = webhook.mode
        self.webhook_url = str(webhook.config.get("url", ""))
        self.webhook_hint = webhook.secret_hint if webhook.secret_set else ""
        if self._fields() != before:
            # Fresh fields with the stored values; unchanged values keep what is being typed (a page load's
            # answer arriving after the owner started typing must not wipe it).
            self.form_version += 1

    @rx.event
    @guarded("notifications.channels", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.webhook_new_secret = ""
        self.errors, self.tests, self.tested_ok = {}, {}, {}
        self._show(await transact(ctx, channel_settings))
        self.loaded = True

    def _set_mode(self, channel: str, mode: str) -> None:
        if channel == "email":
            self.email_mode = mode
        elif channel == "sms":
            self.sms_mode = mode
        elif channel == "webhook":
            self.webhook_mode = mode

    @rx.event
    @guarded("notifications.channels")
    async def choose_mode(self, ctx: TenantContext, channel: str, mode: str) -> None:
        """The select shows or hides the channel's own fields (nothing is saved until Save)."""
        self._set_mode(channel, mode)

    async def _save(self, ctx: TenantContext, key: str, service: Any, form: dict[str, Any]) -> Any:
        try:
            answer = await transact(ctx, service, form)
        except PharmacyError as exc:
            self.errors = {**self.errors, key: exc.message}
            return None
        self.errors = {k: v for k, v in self.errors.items() if k != key}
        self._show(await transact(ctx, channel_settings))
        return answer

    @rx.event
    @guarded("notifications.channels")
    async def save_email(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        if await self._save(ctx, "email", save_email, form) is None:
            return None
        return rx.toast.success("E-mail settings saved.")

    @rx.event
    @guarded("notifications.channels")
    async def save_sms(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        if await self._save(ctx, "sms", save_sms, form) is None:
            return None
        return rx.toast.success("Text message settings saved.")

    @rx.event
    @guarded("notifications.channels")
    async def save_webhook(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        answer = await self._save(ctx, "webhook", save_webhook, form)
        if answer is None:
            return None
        self.webhook_new_secret = answer[1]
        return rx.toast.success("Webhook settings saved.")

    @rx.event
    @guarded("notifications.channels")
    async def rotate_secret(self, ctx: TenantContext) -> Any:
        try:
            self.webhook_new_secret = await transact(ctx, rotate_webhook_secret)
        except PharmacyError as exc:
            self.errors = {**self.errors, "webhook": exc.message}
            return None
        self._show(await transact(ctx, channel_settings))
        return rx.toast.success("A new signing secret is in force: the old one no longer signs events.")

    @rx.event
    @guarded("notifications.channels")
    async def send_test(self, ctx: TenantContext, form: dict[str, Any]) -> None:
        """A test message on the form's channel, to the address typed (e-mail, SMS) or the webhook."""
        channel = str(form.get("channel", ""))
        try:
            outcome = await transact(ctx, send_test, channel, form.get("to", ""))
        except PharmacyError as exc:
            self.tests = {**self.tests, channel: exc.message}
            self.tested_ok = {**self.tested_ok, channel: False}
            return
        self.tests = {**self.tests, channel: "Sent" if outcome.sent else f"Not sent: {outcome.reason}"}
        self.tested_ok = {**self.tested_ok, channel: outcome.sent}
