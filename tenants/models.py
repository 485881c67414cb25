"""Tenancy tables: tenants, branches, users, memberships and the audit trails.

The schema itself comes only from alembic migrations; these classes map it for queries.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from backend.core.models import new_id, utc_timestamp


class TenantStatus(StrEnum):
    """A chain's standing: a suspended chain's staff and API tokens are refused until it is reactivated."""

    ACTIVE = "active"
    SUSPENDED = "suspended"


class Tenant(SQLModel, table=True):
    """A pharmacy chain: the unit of isolation."""

    __tablename__ = "tenants"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    slug: str
    name: str
    status: str = TenantStatus.ACTIVE
    plan: str = "trial"
    currency: str = "USD"
    require_mfa: bool = False
    api_rate_limit_per_hour: int = 1000
    created_at: datetime = utc_timestamp()


class Branch(SQLModel, table=True):
    """One pharmacy location of a chain; owns its time zone and tax settings."""

    __tablename__ = "branches"

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str
    code: str
    address: str = ""
    time_zone: str = "UTC"
    prices_include_tax: bool = False
    default_tax_rate: Decimal = Field(default=Decimal("0"), sa_column=Column(Numeric(7, 4), nullable=False))
    reduced_tax_rate: Decimal = Field(default=Decimal("0"), sa_column=Column(Numeric(7, 4), nullable=False))
    phone: str = ""
    # {"mon": [{"opens": "09:00", "closes": "18:00"}], ..., "sun": []}; {} until the owner states them
    opening_hours: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    is_active: bool = True  # a deactivated branch keeps its history but takes no sales or stock
    deactivated_at: datetime | None = utc_timestamp(nullable=True, default_now=False)
    created_at: datetime = utc_timestamp()


class User(SQLModel, table=True):
    """A person who signs in (global: one identity may work for several chains)."""

    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    email: str
    full_name: str
    password_hash: str | None = None
    is_platform_admin: bool = False
    is_active: bool = True
    created_at: datetime = utc_timestamp()


class Membership(SQLModel, table=True):
    """A user's role in one tenant; branch scopes (if any) limit which branches they act on."""

    __tablename__ = "memberships"

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID
    role: str
    is_active: bool = True
    created_at: datetime = utc_timestamp()


class MembershipBranch(SQLModel, table=True):
    """One branch a scoped membership may act on."""

    __tablename__ = "membership_branches"

    tenant_id: uuid.UUID = Field(primary_key=True)
    membership_id: uuid.UUID = Field(primary_key=True)
    branch_id: uuid.UUID = Field(primary_key=True)


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained record of what happened in a tenant."""

    __tablename__ = "audit_events"

    tenant_id: uuid.UUID = Field(primary_key=True)
    seq: int = Field(primary_key=True)
    occurred_at: datetime = utc_timestamp()
    actor_user_id: uuid.UUID | None = None
    action: str
    entity_type: str | None = None
    entity_id: str | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    prev_hash: str
    hash: str


class PlatformAuditEvent(SQLModel, table=True):
    """A cross-tenant (platform path) action: who, why, and which tenant if any."""

    __tablename__ = "platform_audit_events"

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = utc_timestamp()
    actor: str
    reason: str
    action: str
    subject_tenant_id: uuid.UUID | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
