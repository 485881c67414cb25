"""The member's own account: two-factor sign-in, and notifications on this device (web push)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.accounts.mfa import (
    confirm_enrolment,
    disable_mfa,
    mfa_enabled,
    record_mfa_change,
    remaining_recovery_codes,
    start_enrolment,
)
from backend.core.errors import PharmacyError
from pharmacy_saas.state import push
from pharmacy_saas.state.base import guarded, run_service
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext


class AccountPageState(ShellState):
    mfa_on: bool = False
    qr_code: str = ""
    manual_key: str = ""
    recovery_codes: list[str] = []  # shown once, right after enrolment
    codes_left: int = 0
    error: str = ""
    push_devices: list[dict[str, str]] = []  # the member's browsers that receive notifications
    push_error: str = ""

    async def _reload(self, ctx: TenantContext) -> None:
        self.mfa_on = await run_service(mfa_enabled, str(ctx.user_id))
        self.codes_left = await run_service(remaining_recovery_codes, str(ctx.user_id)) if self.mfa_on else 0

    @rx.event
    @guarded("account.self", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.qr_code = self.manual_key = self.error = ""
        self.recovery_codes = []
        await self._reload(ctx)
        self.push_error = ""
        self.push_devices = await push.devices(ctx)

    @rx.event
    @guarded("account.self")
    async def begin_enrolment(self, ctx: TenantContext) -> Any:
        principal = await self._principal()
        try:
            enrolment = await run_service(start_enrolment, str(ctx.user_id), principal.email)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.qr_code, self.manual_key, self.error = enrolment.qr_svg_data_uri, enrolment.manual_key, ""
        return None

    @rx.event
    @guarded("account.self")
    async def confirm(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        try:
            self.recovery_codes = await run_service(confirm_enrolment, str(ctx.user_id), str(form.get("code", "")))
            await run_service(record_mfa_change, ctx, True)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.qr_code = self.manual_key = self.error = ""
        await self._reload(ctx)
        return rx.toast.success("Two-factor sign-in is on.")

    @rx.event
    @guarded("account.self")
    async def turn_off(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        try:
            await run_service(disable_mfa, str(ctx.user_id), str(form.get("code", "")))
            await run_service(record_mfa_change, ctx, False)
        except PharmacyError as exc:
            self.error = exc.message
            return None
        self.error = ""
        await self._reload(ctx)
        return rx.toast.info("Two-factor sign-in is off.")

    @rx.event
    @guarded("account.self")
    async def enable_push(self, ctx: TenantContext) -> Any:
        """ "Notify me on this device": the browser subscribes, then `save_push` stores it."""
        self.push_error = ""
        return await push.ask_browser(AccountPageState.save_push)

    @rx.event
    @guarded("account.self")
    async def save_push(self, ctx: TenantContext, answer: str) -> Any:
        self.push_error = await push.store(ctx, answer)
        if self.push_error:
            return None
        self.push_devices = await push.devices(ctx)
        return rx.toast.success("Notifications are on for this device.", id="push-on")

    @rx.event
    @guarded("account.self")
    async def remove_push(self, ctx: TenantContext, subscription_id: str) -> Any:
        try:
            await push.forget(ctx, subscription_id)
        except PharmacyError as exc:
            self.push_error = exc.message
        self.push_devices = await push.devices(ctx)
        return None
