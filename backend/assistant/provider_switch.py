"""Whether a chain's assistant may use the configured AI provider.

Two keys must both turn: the installation configures a provider (settings: model, and a key or base
URL), and the chain's owner switches it on, because questions and the chain's tool results then go to
that third party. Off by default; every change is audited.

The portal's customer assistant has its own switch (`assistant_portal_provider_enabled`): customers'
questions going to a third party is a separate decision from staff chat, so turning one on never turns
on the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import text

from backend.core.errors import ValidationFailed
from backend.core.settings import Settings, get_settings
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require
from tenants.session import tenant_session


@dataclass(frozen=True)
class ProviderSetting:
    configured: bool  # the installation has a provider
    enabled: bool  # the chain's owner switched it on
    provider: str  # where the data would go: the server's host, or "" when not configured
    model: str
    portal_enabled: bool = False  # the owner switched it on for the portal's customer assistant too


STAFF_COLUMN = "assistant_provider_enabled"
PORTAL_COLUMN = "assistant_portal_provider_enabled"
_COLUMNS = frozenset({STAFF_COLUMN, PORTAL_COLUMN})


def _enabled(ctx: TenantContext, column: str = STAFF_COLUMN) -> bool:
    assert column in _COLUMNS
    with tenant_session(ctx) as session:  # RLS: the member's own chain's row only
        found = session.execute(
            text(f"SELECT {column} FROM tenants WHERE id = :t"),  # noqa: S608 - one of two fixed names
            {"t": ctx.tenant_id},
        ).scalar()
    return bool(found)


def provider_in_use(ctx: TenantContext, settings: Settings | None = None) -> bool:
    """True when this member's questions go to the provider: configured here and switched on by the chain.
    (Any member asking reads this; only the owner changes it.)"""
    settings = settings or get_settings()
    return settings.assistant_provider_configured and _enabled(ctx)


def portal_provider_in_use(ctx: TenantContext, settings: Settings | None = None) -> bool:
    """True when the portal's customer assistant goes to the provider: configured here and switched on by
    the owner for the portal (the staff switch does not count)."""
    settings = settings or get_settings()
    return settings.assistant_provider_configured and _enabled(ctx, PORTAL_COLUMN)


def provider_setting(ctx: TenantContext, settings: Settings | None = None) -> ProviderSetting:
    """What the owner's settings page shows: whether a provider exists, where it is, and the chain's switch."""
    require(ctx, "tenant.settings")
    settings = settings or get_settings()
    host = urlsplit(settings.ASSISTANT_OPENAI_BASE_URL or "https://api.openai.com/v1").hostname or ""
    configured = settings.assistant_provider_configured
    return ProviderSetting(
        configured=configured,
        enabled=_enabled(ctx),
        provider=host if configured else "",
        model=(settings.ASSISTANT_OPENAI_MODEL or "") if configured else "",
        portal_enabled=_enabled(ctx, PORTAL_COLUMN),
    )


def set_provider_enabled(
    ctx: TenantContext, enabled: bool, settings: Settings | None = None, *, portal: bool = False
) -> None:
    """The owner switches the chain's use of the AI provider on or off (audited): for staff chat, or with
    `portal=True` for the portal's customer assistant."""
    require(ctx, "tenant.settings")
    settings = settings or get_settings()
    if enabled and not settings.assistant_provider_configured:
        raise ValidationFailed("No AI provider is configured for this installation.", field="enabled")
    column = PORTAL_COLUMN if portal else STAFF_COLUMN
    with tenant_session(ctx) as session:
        session.execute(
            text(f"UPDATE tenants SET {column} = :on WHERE id = :t"),  # noqa: S608 - one of two fixed names
            {"on": enabled, "t": ctx.tenant_id},
        )
        record_audit(
            session,  # type: ignore[arg-type]
            ctx.tenant_id,
            "tenant.assistant_portal_provider_changed" if portal else "tenant.assistant_provider_changed",
            actor_user_id=ctx.user_id,
            entity_type="tenant",
            entity_id=str(ctx.tenant_id),
            details={"enabled": enabled, "model": settings.ASSISTANT_OPENAI_MODEL if enabled else None},
        )
