"""The outbox table: jobs written in the business transaction, relayed to RQ after commit."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from backend.core.models import new_id, utc_timestamp


class OutboxStatus(StrEnum):
    """Where an outbox job is: written with its business transaction (pending), handed to RQ after
    commit by the relay (relayed), then run once (done) or given up on (failed)."""

    PENDING = "pending"
    RELAYED = "relayed"
    DONE = "done"
    FAILED = "failed"


class OutboxJob(SQLModel, table=True):
    __tablename__ = "outbox"

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    job_name: str
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    queue: str = "default"
    status: str = OutboxStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = utc_timestamp()
    relayed_at: datetime | None = utc_timestamp(nullable=True, default_now=False)
    done_at: datetime | None = utc_timestamp(nullable=True, default_now=False)
