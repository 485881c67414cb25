"""Inventory's statuses, named once: the values the database stores (changed only by a migration)."""

from __future__ import annotations

from enum import StrEnum


class BatchStatus(StrEnum):
    ACTIVE = "active"
    QUARANTINED = "quarantined"  # on the shelf but not to be sold or moved


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"


class ImportStatus(StrEnum):
    """A catalog or stock CSV import, from its check to its end."""

    VALIDATED = "validated"  # checked, waiting for the member to import it
    QUEUED = "queued"
    IMPORTING = "importing"
    DONE = "done"
    FAILED = "failed"
    DISCARDED = "discarded"
