"""The DUR request as JSON (the CLI's FILE and the REST body), checked once for both with the same messages.

{
  "new": {"drug": "ibuprofen", "strength": "800 mg", "sig": "1 tab po tid", "quantity": 90,
          "days_supply": 30, "date": "2025-03-01"},
  "active": [{"drug": "warfarin", "strength": "5 mg", "last_fill": "2025-02-10", "days_supply": 30}],
  "allergies": ["penicillin", "sulfa (rash)"],
  "patient": {"weight_kg": 70, "age_years": 54, "opioid_tolerant": false},
  "early_refill_threshold": 0.75
}

Every medication field but `drug` is optional (see `Medication`); unknown fields are refused, because a
misspelt `last_fill` would otherwise silently switch the early-refill check off.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from backend.clinical.controlled import normalise_schedule
from backend.clinical.dur import DEFAULT_EARLY_REFILL_THRESHOLD, MAX_ACTIVE, MAX_ALLERGIES, DurResult, check
from backend.clinical.medication import Medication, Patient
from backend.clinical.sig import expand
from backend.core.errors import ValidationFailed
from backend.interactions.names import NameCache


class MedicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    drug: str = Field(min_length=1, max_length=200, description="Brand, generic or combination, as written")
    strength: str | None = Field(None, max_length=100, examples=["500 mg", "5/325 mg", "160 mg/5 mL", "25 mcg/hr"])
    sig: str | None = Field(None, max_length=500, examples=["1-2 tabs po q4-6h prn pain"])
    dose: str | None = Field(
        None, max_length=100, description="Overrides the sig's dose", examples=["1000 mg", "2 tablets"]
    )
    frequency: str | None = Field(
        None, max_length=100, description="Overrides the sig's frequency", examples=["q6h", "once weekly"]
    )
    quantity: float | None = Field(None, gt=0, le=100_000)
    days_supply: int | None = Field(None, ge=1, le=400)
    date: dt.date | None = Field(None, description="New: the fill date being checked (default today)")
    last_fill: dt.date | None = Field(None, description="Active: the date it was last filled")
    schedule: str | None = Field(
        None, max_length=20, description="CII..CV from the catalog; wins over the federal table"
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return normalise_schedule(value)

    @field_validator("dose")
    @classmethod
    def _dose(cls, value: str | None) -> str | None:
        if value:
            segments = expand(value).segments
            if not segments or segments[0].dose_max is None or segments[0].unit is None:
                raise ValueError("give an amount with a unit, e.g. '1000 mg' or '2 tablets'")
        return value or None

    def to_medication(self) -> Medication:
        return Medication(**self.model_dump())


class PatientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight_kg: float | None = Field(None, gt=0, le=500)
    age_years: float | None = Field(None, ge=0, le=130)
    date_of_birth: date | None = Field(None, description="Instead of age_years: the age on the fill date is used")
    opioid_tolerant: bool | None = Field(
        None, description="When the record says so; otherwise judged from the active opioids"
    )


class DurRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new: MedicationIn
    active: list[MedicationIn] = Field(default_factory=list, max_length=MAX_ACTIVE)
    allergies: list[str] = Field(default_factory=list, max_length=MAX_ALLERGIES)
    patient: PatientIn | None = None
    early_refill_threshold: float = Field(DEFAULT_EARLY_REFILL_THRESHOLD, gt=0, le=1)

    @field_validator("allergies")
    @classmethod
    def _allergies(cls, value: list[str]) -> list[str]:
        if any(len(a) > 200 for a in value):
            raise ValueError("an allergy is at most 200 characters")
        return [a.strip() for a in value if a.strip()]


@dataclass(frozen=True)
class DurRequest:
    new: Medication
    active: tuple[Medication, ...]
    allergies: tuple[str, ...]
    patient: Patient | None
    early_refill_threshold: float


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _refuse(exc: ValidationError) -> ValidationFailed:
    first = exc.errors()[0]
    where = _where(tuple(first.get("loc", ())))
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return ValidationFailed(f"{where}: {message}{suffix}", field=where)


def medication_from(data: Mapping[str, Any]) -> Medication:
    try:
        return MedicationIn.model_validate(data).to_medication()
    except ValidationError as exc:
        raise _refuse(exc) from None


def parse_request(data: Any) -> DurRequest:
    """A request body (already decoded JSON) to typed inputs; bad input raises ValidationFailed naming the field."""
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            'the request must be a JSON object: {"new": {...}, "active": [...], "allergies": [...]}', field="body"
        )
    try:
        parsed = DurRequestIn.model_validate(data)
    except ValidationError as exc:
        raise _refuse(exc) from None
    patient = None
    if parsed.patient is not None:
        age = parsed.patient.age_years
        if age is None and parsed.patient.date_of_birth is not None:
            on = parsed.new.date or date.today()
            if parsed.patient.date_of_birth > on:
                raise ValidationFailed("patient.date_of_birth: after the fill date", field="patient.date_of_birth")
            age = (on - parsed.patient.date_of_birth).days / 365.25
        patient = Patient(parsed.patient.weight_kg, age, parsed.patient.opioid_tolerant)
    return DurRequest(
        parsed.new.to_medication(),
        tuple(m.to_medication() for m in parsed.active),
        tuple(parsed.allergies),
        patient,
        parsed.early_refill_threshold,
    )


def parse_json(text: str | bytes) -> DurRequest:
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"not valid JSON: {exc}", field="body") from None
    return parse_request(data)


def check_request(request: DurRequest, *, today: date | None = None, cache: NameCache | None = None) -> DurResult:
    """Run the DUR for a parsed request (the CLI and the REST endpoint both call this)."""
    return check(
        request.new,
        request.active,
        request.allergies,
        patient=request.patient,
        today=today,
        early_refill_threshold=request.early_refill_threshold,
        cache=cache,
    )
