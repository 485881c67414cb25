"""One DUR alert: what kind, how bad, what it concerns, what to do, and where that comes from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from backend.interactions.knowledge import SEVERITY_RANK, Severity

AlertType = Literal["interaction", "allergy", "duplication", "early_refill", "dose", "controlled"]
ALERT_TYPES: tuple[AlertType, ...] = ("interaction", "allergy", "duplication", "early_refill", "dose", "controlled")
# Within one severity: what a pharmacist reads first (an allergy before an interaction, a refill question last).
_READING_ORDER: tuple[AlertType, ...] = ("allergy", "interaction", "dose", "duplication", "early_refill", "controlled")
# Major and contraindicated alerts need a resolution (override with a signed reason, or hold/cancel).
NEEDS_RESOLUTION = frozenset({"major", "contraindicated"})


@dataclass(frozen=True)
class Alert:
    type: AlertType
    severity: Severity  # minor | moderate | major | contraindicated
    with_: str  # the drug or allergen it concerns, as the caller wrote it
    summary: str
    source: str  # a citation: a label section, a guideline, a regulation, or the chain's own rule
    code: str  # stable: "allergy:penicillins:amoxicillin", "dose:acetaminophen-4g" (to store a resolution against)

    @property
    def needs_resolution(self) -> bool:
        return self.severity in NEEDS_RESOLUTION

    def as_dict(self) -> dict[str, str]:
        return {
            "type": self.type,
            "severity": self.severity,
            "with": self.with_,
            "summary": self.summary,
            "source": self.source,
        }

    def sort_key(self) -> tuple[int, int, str, str]:
        return (-SEVERITY_RANK[self.severity], _READING_ORDER.index(self.type), self.with_.lower(), self.code)
