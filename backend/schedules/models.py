"""The scheduled_runs table: one row per (job, branch, period) the tick wrote; its unique key runs each once."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from backend.core.models import new_id, utc_timestamp


class ScheduledRun(SQLModel, table=True):
    __tablename__ = "scheduled_runs"

    tenant_id: uuid.UUID = Field(primary_key=True)
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    job_name: str
    branch_id: uuid.UUID | None = None  # None: a chain-wide job
    period: str  # local date (2026-12-05) or month (2026-12)
    due_at: datetime = utc_timestamp()
    enqueued_at: datetime = utc_timestamp()
    outbox_id: uuid.UUID | None = None
