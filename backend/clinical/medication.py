"""The inputs of the clinical checks: a medication as the prescription or the profile has it, and the patient."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Medication:
    """A new prescription or an active medication. Only `drug` is required; every other field lets one more
    check run (strength + sig or dose/frequency: dose checks; last_fill + days_supply: early refill)."""

    drug: str  # as written: brand, generic or combination ("Percocet", "oxycodone/acetaminophen")
    strength: str | None = None  # "500 mg", "5/325 mg", "160 mg/5 mL", "25 mcg/hr"
    sig: str | None = None  # as written: "1-2 tabs po q4-6h prn pain"
    dose: str | None = None  # instead of the sig's dose: "1000 mg", "2 tablets"
    frequency: str | None = None  # instead of the sig's frequency: "q6h", "once weekly"
    quantity: float | None = None  # dispensed, in the smallest unit (tablets, mL)
    days_supply: int | None = None
    date: dt.date | None = None  # the fill being checked (a new prescription); default: today
    last_fill: dt.date | None = None  # the last fill (an active medication)
    schedule: str | None = None  # the catalog's controlled class (CII..CV), which wins over the federal table


@dataclass(frozen=True)
class Patient:
    weight_kg: float | None = None
    age_years: float | None = None
    # True/False when the record says so; None: judged from the active opioids (FDA label definition)
    opioid_tolerant: bool | None = None
