"""Records retention's kinds and states, named once: the values the database stores."""

from __future__ import annotations

from enum import StrEnum


class RecordKind(StrEnum):
    """The kinds of record a chain sets a retention period for (a column of `retention_settings`)."""

    PRESCRIPTION = "prescription_years"  # prescriptions, fills, pickups, the patient record and purchases
    CONTROLLED = "controlled_years"  # the same for a controlled-substance prescription
    CLAIMS = "claims_years"  # insurance claims and the coverage they were made under
    AUDIT = "audit_years"  # the audit log, the financial audit chains and the patient access log

    @property
    def label(self) -> str:
        return {
            RecordKind.PRESCRIPTION: "Prescription and dispensing records",
            RecordKind.CONTROLLED: "Controlled-substance records",
            RecordKind.CLAIMS: "Insurance claims",
            RecordKind.AUDIT: "Audit logs",
        }[self]


class BatchStatus(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # listed by the review; the owner has not signed it yet
    DISPOSED = "disposed"  # approved and signed by the owner: its items were disposed of
    SUPERSEDED = "superseded"  # a later review listed afresh; never approved

    @property
    def label(self) -> str:
        return {
            BatchStatus.AWAITING_APPROVAL: "Awaiting the owner's approval",
            BatchStatus.DISPOSED: "Disposed",
            BatchStatus.SUPERSEDED: "Superseded by a later review",
        }[self]


class ItemOutcome(StrEnum):
    DISPOSED = "disposed"  # the patient's identity was removed from every record
    HELD = "held"  # a legal hold was placed after the review: left untouched
    NO_LONGER_DUE = "no_longer_due"  # new activity or a longer setting since the review: left untouched

    @property
    def label(self) -> str:
        return {
            ItemOutcome.DISPOSED: "Disposed",
            ItemOutcome.HELD: "Kept: under a legal hold",
            ItemOutcome.NO_LONGER_DUE: "Kept: no longer due",
        }[self]
