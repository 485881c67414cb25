"""Column helpers shared by every table: UTC timestamps, tenant keys, money and quantities."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime
from sqlmodel import Field


def utc_now() -> datetime:
    """The current instant, timezone-aware in UTC (the only kind of time stored)."""
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def utc_timestamp(*, nullable: bool = False, default_now: bool = True) -> Any:
    """A `timestamptz` column (never a naive timestamp)."""
    return Field(
        default_factory=utc_now if default_now else None,
        sa_column=Column(DateTime(timezone=True), nullable=nullable),
    )
