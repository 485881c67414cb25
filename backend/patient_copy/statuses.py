"""The copy request's words, named once (the migration's checks say the same)."""

from __future__ import annotations

from enum import StrEnum


class CopyStatus(StrEnum):
    REQUESTED = "requested"  # the patient asked; the 30 days run from the day they asked
    PRODUCED = "produced"  # the PDF and JSON were made (and downloaded by the owner)
    DELIVERED = "delivered"  # handed over, e-mailed or posted: the request is answered

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @classmethod
    def open(cls) -> tuple[CopyStatus, ...]:
        """Not answered yet: the due date still matters."""
        return (cls.REQUESTED, cls.PRODUCED)


class AskedBy(StrEnum):
    PATIENT = "patient"
    REPRESENTATIVE = "representative"  # a personal representative (parent, guardian, power of attorney)

    @property
    def label(self) -> str:
        return {"patient": "The patient", "representative": "A personal representative"}[self.value]


class DeliveryMethod(StrEnum):
    HANDED_OVER = "handed_over"
    EMAILED = "emailed"
    POSTED = "posted"

    @property
    def label(self) -> str:
        return {"handed_over": "Handed over", "emailed": "E-mailed", "posted": "Posted"}[self.value]
