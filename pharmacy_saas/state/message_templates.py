"""Settings > Message templates (issue 18 §2, owner): the wording of each kind of patient message (e-mail
subject and text, SMS), a preview from demo values, save (refused with a message when the template is not
allowed), reset to the default; and the chain's quiet hours."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from backend.core.errors import PharmacyError
from backend.notifications.optout import sms_stop_length
from backend.notifications.quiet_hours import QuietHours, quiet_hours_setting, set_quiet_hours
from backend.notifications.templates import (
    SMS_SEGMENT,
    TemplateView,
    get_template,
    list_templates,
    preview,
    reset_template,
    save_template,
)
from pharmacy_saas.state.base import guarded, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext

VARIANT_LABELS = {"minimum": "Every patient (no medicine)", "detailed": "Detailed (patient consented)"}


@dataclasses.dataclass
class TemplateRow:
    key: str  # kind:variant, the row's id
    kind: str
    variant: str
    label: str
    variant_label: str
    sms: str
    customised: bool


def _row(view: TemplateView) -> TemplateRow:
    return TemplateRow(
        f"{view.kind.value}-{view.variant.value}", view.kind.value, view.variant.value, view.kind.label,
        VARIANT_LABELS[view.variant.value], view.template.sms, view.customised,
    )  # fmt: skip


def _quiet(hours: QuietHours | None) -> tuple[bool, str, str]:
    if hours is None:
        return False, "21:00", "08:00"  # what the form suggests while quiet hours are off
    return True, f"{hours.start:%H:%M}", f"{hours.end:%H:%M}"


class MessageTemplatesState(ShellState):
    rows: list[TemplateRow] = []
    kind: str = ""  # the template being edited ("" : none)
    variant: str = ""
    title: str = ""
    subject: str = ""
    body: str = ""
    sms: str = ""
    allowed_values: str = ""
    customised: bool = False
    error: str = ""
    preview_subject: str = ""
    preview_body: str = ""
    preview_sms: str = ""
    stop_chars: int = 0
    quiet_enabled: bool = False
    quiet_start: str = "21:00"
    quiet_end: str = "08:00"
    quiet_error: str = ""

    @rx.var
    def sms_length(self) -> int:
        return len(self.sms) + self.stop_chars

    @rx.var
    def sms_too_long(self) -> bool:
        return len(self.sms) + self.stop_chars > SMS_SEGMENT

    async def _reload(self, ctx: TenantContext) -> None:
        self.rows = [_row(v) for v in await transact(ctx, list_templates)]

    def _show(self, view: TemplateView) -> None:
        self.kind, self.variant = view.kind.value, view.variant.value
        self.title = f"{view.kind.label} · {VARIANT_LABELS[view.variant.value]}"
        self.subject, self.body, self.sms = view.template.subject, view.template.body, view.template.sms
        self.allowed_values = ", ".join("{{ " + v + " }}" for v in view.values)
        self.customised = view.customised
        self.preview_subject = self.preview_body = self.preview_sms = ""

    @rx.event
    @guarded("messages.templates", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        await self._reload(ctx)
        self.kind, self.error, self.quiet_error = "", "", ""
        self.quiet_enabled, self.quiet_start, self.quiet_end = _quiet(await transact(ctx, quiet_hours_setting))
        self.stop_chars = await transact(ctx, sms_stop_length)

    @rx.event
    @guarded("messages.templates")
    async def edit(self, ctx: TenantContext, kind: str, variant: str) -> None:
        self.error = ""
        try:
            self._show(await transact(ctx, get_template, kind, variant))
        except PharmacyError as exc:
            self.error = exc.message

    @rx.event
    @guarded("messages.templates")
    async def set_subject(self, ctx: TenantContext, value: str) -> None:
        self.subject = str(value)

    @rx.event
    @guarded("messages.templates")
    async def set_body(self, ctx: TenantContext, value: str) -> None:
        self.body = str(value)

    @rx.event
    @guarded("messages.templates")
    async def set_sms(self, ctx: TenantContext, value: str) -> None:
        self.sms = str(value)

    @rx.event
    @guarded("messages.templates")
    async def show_preview(self, ctx: TenantContext) -> None:
        """Fill the (unsaved) texts with demo values; the same checks as Save, so errors show here too."""
        try:
            shown = await transact(ctx, preview, self.kind, self.variant, self.subject, self.body, self.sms)
        except PharmacyError as exc:
            self.error = exc.message
            self.preview_subject = self.preview_body = self.preview_sms = ""
            return
        self.error = ""
        self.preview_subject, self.preview_body, self.preview_sms = shown.subject, shown.body, shown.sms

    @rx.event
    @guarded("messages.templates")
    async def save(self, ctx: TenantContext) -> Any:
        try:
            view = await transact(ctx, save_template, self.kind, self.variant, self.subject, self.body, self.sms)
        except PharmacyError as exc:
            self.error = exc.message  # nothing was saved
            return None
        self.error = ""
        self._show(view)
        await self._reload(ctx)
        return rx.toast.success("Template saved: patients get this wording from now on.")

    @rx.event
    @guarded("messages.templates")
    async def reset_to_default(self, ctx: TenantContext) -> Any:
        try:
            view = await transact(ctx, reset_template, self.kind, self.variant)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        self._show(view)
        await self._reload(ctx)
        return rx.toast.success("Back to the default wording.")

    @rx.event
    @guarded("messages.templates")
    async def close(self, ctx: TenantContext) -> None:
        self.kind, self.error = "", ""

    @rx.event
    @guarded("messages.templates")
    async def save_quiet(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        enabled = str(form.get("quiet_enabled", "")).lower() in {"on", "true", "1"}
        try:
            await transact(ctx, set_quiet_hours, enabled=enabled, start=form.get("quiet_start", ""),
                           end=form.get("quiet_end", ""))  # fmt: skip
        except PharmacyError as exc:
            self.quiet_error = exc.message
            return None
        self.quiet_error = ""
        self.quiet_enabled, self.quiet_start, self.quiet_end = _quiet(await transact(ctx, quiet_hours_setting))
        if self.quiet_enabled:
            return rx.toast.success(f"Quiet hours {self.quiet_start}–{self.quiet_end}, in each branch's time zone.")
        return rx.toast.success("Quiet hours off.")
