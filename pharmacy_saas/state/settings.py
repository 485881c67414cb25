"""Chain settings (owner only): API tokens, sign-in rules, the assistant's provider, the chain's Stripe account."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.accounts.api_tokens import SCOPES, create_token, list_tokens, revoke_token
from backend.accounts.sso import save_config as save_sso_config
from backend.assistant.provider_switch import provider_setting, set_provider_enabled
from backend.billing.payments.cards import card_setup, set_stripe_account
from backend.core.errors import PharmacyError
from backend.prescriptions.enums import CounterRule
from backend.prescriptions.service import ID_SCHEDULES, SETTING_LIMITS, rx_settings, update_rx_settings
from pharmacy_saas.state.base import guarded, run_service, transact
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext
from tenants.directory import set_require_mfa, tenant_profile

# How a prescription-only medicine reaches a bill, as the owner chooses it for the chain's jurisdiction.
COUNTER_RULES = [(rule.value, rule.label) for rule in CounterRule]


class SettingsState(ShellState):
    tokens: list[dict[str, str]] = []
    require_mfa: bool = False
    sso_error: str = ""
    new_token: str = ""  # shown once, right after creation
    token_error: str = ""
    provider_configured: bool = False  # the installation has an AI provider for the assistant
    provider_enabled: bool = False  # this chain lets the assistant use it
    portal_provider_enabled: bool = False  # ... and, separately, the portal's customer assistant
    provider_name: str = ""  # "gpt-4o-mini at api.openai.com": where the chain's data would go
    cards_configured: bool = False  # this server has a Stripe key: card payments can be taken
    stripe_account_id: str = ""  # the chain's connected Stripe account (acct_...), "" when none
    stripe_error: str = ""
    rx_rules: dict[str, str] = {}  # the chain's prescription rules (US defaults until changed)
    rx_rules_error: str = ""

    async def _reload(self, ctx: TenantContext) -> None:
        self.require_mfa = (await run_service(tenant_profile, ctx)).require_mfa
        provider = await run_service(provider_setting, ctx)
        self.provider_configured, self.provider_enabled = provider.configured, provider.enabled
        self.portal_provider_enabled = provider.portal_enabled
        self.provider_name = f"{provider.model} at {provider.provider}" if provider.configured else ""
        rules = await transact(ctx, rx_settings)
        self.rx_rules = {
            "two_person_verification": "yes" if rules.two_person_verification else "",
            "early_refill_threshold": str(rules.early_refill_threshold),
            "expiry_months": str(rules.expiry_months),
            "controlled_expiry_months": str(rules.controlled_expiry_months),
            "controlled_max_refills": str(rules.controlled_max_refills),
            "cii_max_days_supply": str(rules.cii_max_days_supply),
            "unclaimed_days": str(rules.unclaimed_days),
            "emergency_max_days": str(rules.emergency_max_days),
            "counter_rule": rules.counter_rule.value,
        }
        # One checkbox per schedule: "yes" where whoever collects its fills shows an ID at pickup.
        self.rx_rules |= {f"id_{s}": "yes" if s in rules.pickup_id_schedules else "" for s in ID_SCHEDULES}
        cards = await run_service(card_setup, ctx)
        self.cards_configured, self.stripe_account_id = cards.configured, cards.account_id
        self.tokens = [
            {
                "id": t.id,
                "name": t.name,
                "prefix": t.prefix,
                "scopes": ", ".join(t.scopes),
                "created": t.created_at.strftime("%Y-%m-%d"),
                "last_used": t.last_used_at.strftime("%Y-%m-%d %H:%M UTC") if t.last_used_at else "never",
                "status": "revoked" if t.revoked else "active",
            }
            for t in await run_service(list_tokens, ctx)
        ]

    @rx.event
    @guarded("tenant.settings", page_load=True)
    async def load(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        self.new_token = self.token_error = self.stripe_error = ""
        await self._reload(ctx)

    @rx.event
    @guarded("tokens.manage")
    async def create(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        scopes = [scope for scope in SCOPES if form.get(f"scope_{scope}")]
        try:
            created = await run_service(create_token, ctx, str(form.get("name", "")), scopes)
        except PharmacyError as exc:
            self.token_error, self.new_token = exc.message, ""
            return None
        self.token_error, self.new_token = "", created.token
        await self._reload(ctx)
        return None

    @rx.event
    @guarded("tenant.settings")
    async def save_sso(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        try:
            await run_service(
                save_sso_config,
                ctx,
                issuer=str(form.get("issuer", "")),
                client_id=str(form.get("client_id", "")),
                client_secret=str(form.get("client_secret", "")),
                label=str(form.get("label", "")),
                allow_first_sign_in=bool(form.get("allow_first_sign_in")),
                default_role=str(form.get("default_role", "cashier")),
            )
        except PharmacyError as exc:
            self.sso_error = exc.message
            return None
        self.sso_error = ""
        return rx.toast.success("Single sign-on saved.")

    @rx.event
    @guarded("tenant.settings")
    async def set_require_mfa(self, ctx: TenantContext, required: bool) -> Any:
        await run_service(set_require_mfa, ctx, bool(required))
        await self._reload(ctx)
        return rx.toast.success(
            "Two-factor sign-in is now required for all staff." if required else "Two-factor sign-in is optional."
        )

    @rx.event
    @guarded("tenant.settings")
    async def set_assistant_provider(self, ctx: TenantContext, enabled: bool) -> Any:
        try:
            await run_service(set_provider_enabled, ctx, bool(enabled))
        except PharmacyError as exc:
            return rx.toast.error(exc.message)
        await self._reload(ctx)
        return rx.toast.success(
            f"The assistant now uses {self.provider_name}." if enabled else "The assistant now answers offline only."
        )

    @rx.event
    @guarded("tenant.settings")
    async def set_portal_assistant_provider(self, ctx: TenantContext, enabled: bool) -> Any:
        """The portal's customer assistant and the provider: a switch of its own (customers' questions)."""
        try:
            await run_service(set_provider_enabled, ctx, bool(enabled), portal=True)
        except PharmacyError as exc:
            return rx.toast.error(exc.message)
        await self._reload(ctx)
        return rx.toast.success(
            f"The portal's assistant now uses {self.provider_name}."
            if enabled
            else "The portal's assistant now answers offline only."
        )

    @rx.event
    @guarded("tenant.settings")
    async def save_rx_rules(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """The chain's prescription rules: who may verify, the early-refill threshold, expiry and refills."""
        fields = {name: str(form.get(name, "")) for name in SETTING_LIMITS}
        fields["early_refill_threshold"] = str(form.get("early_refill_threshold", ""))
        fields["pickup_id_schedules"] = " ".join(s for s in ID_SCHEDULES if form.get(f"id_{s}"))
        fields["counter_rule"] = str(form.get("counter_rule", ""))
        try:
            await transact(
                ctx, update_rx_settings, two_person_verification=bool(form.get("two_person_verification")), **fields
            )
        except PharmacyError as exc:
            self.rx_rules_error = exc.message
            return None
        self.rx_rules_error = ""
        await self._reload(ctx)
        return rx.toast.success("Prescription rules saved.")

    @rx.event
    @guarded("tenant.settings")
    async def save_stripe_account(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Connect the chain's own Stripe account: its card sales settle there."""
        try:
            account = await transact(ctx, set_stripe_account, str(form.get("stripe_account_id", "")))
        except PharmacyError as exc:
            self.stripe_error = exc.message
            return None
        self.stripe_error = ""
        await self._reload(ctx)
        return rx.toast.success(f"Card sales now settle to the Stripe account {account}.")

    @rx.event
    @guarded("tokens.manage")
    async def revoke(self, ctx: TenantContext, token_id: str) -> Any:
        await run_service(revoke_token, ctx, token_id)
        await self._reload(ctx)
        return rx.toast.info("Token revoked.")
