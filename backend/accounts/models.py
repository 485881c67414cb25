"""Accounts tables: server-side sessions, invitations and API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlmodel import Field, SQLModel

from backend.core.models import new_id, utc_timestamp


class UserSession(SQLModel, table=True):
    __tablename__ = "user_sessions"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    user_id: uuid.UUID
    token_hash: str
    current_tenant_id: uuid.UUID | None = None
    created_at: datetime = utc_timestamp()
    last_seen_at: datetime = utc_timestamp()
    expires_at: datetime = utc_timestamp(default_now=False)
    revoked_at: datetime | None = utc_timestamp(nullable=True, default_now=False)
    ip: str | None = None
    user_agent: str | None = None
    is_platform: bool = False


class InvitationStatus(StrEnum):
    """What an invitation link still does. Not stored: it follows from accepted_at, revoked_at and
    expires_at (backend.accounts.staff), so it can never disagree with them."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


class Invitation(SQLModel, table=True):
    __tablename__ = "invitations"

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    email: str
    role: str
    branch_ids: list[uuid.UUID] = Field(default_factory=list, sa_column=Column(ARRAY(UUID(as_uuid=True))))
    token_hash: str
    invited_by: uuid.UUID | None = None
    created_at: datetime = utc_timestamp()
    expires_at: datetime = utc_timestamp(default_now=False)
    accepted_at: datetime | None = utc_timestamp(nullable=True, default_now=False)
    revoked_at: datetime | None = utc_timestamp(nullable=True, default_now=False)
    token_encrypted: str | None = None  # until the invitation e-mail is sent
    mailed_at: datetime | None = utc_timestamp(nullable=True, default_now=False)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_tokens"

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str
    token_prefix: str
    token_hash: str
    scopes: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String())))
    created_by: uuid.UUID | None = None
    created_at: datetime = utc_timestamp()
    last_used_at: datetime | None = utc_timestamp(nullable=True, default_now=False)
    revoked_at: datetime | None = utc_timestamp(nullable=True, default_now=False)
