"""What the copy contains: every record the chain holds about the patient, read through the owning
domains' services, and the machine-readable file made of it.

One read: the patients domain writes the single access-log row ("patient's own copy") and the other
domains' readers used here write none, so the log the patient receives is not padded by its own making.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlmodel import Session

from backend.billing.bills.repository import Bill
from backend.billing.bills.service import bills_of_patient
from backend.billing.claims.service import Claim, Coverage, insurance_of_patient
from backend.patients.allergies import Allergies, allergies_with_record
from backend.patients.message_consent import MessageConsent, message_consent
from backend.patients.service import AccessEntry, Patient, record_for_copy
from backend.prescriptions.fills import Fill, fills_of
from backend.prescriptions.pickup import Pickup, pickup_of_fill
from backend.prescriptions.verification import PrescriptionHistory, prescriptions_for_copy
from tenants.context import TenantContext

FORMAT = "pharmacy-saas/patient-copy"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class FillRecord:
    fill: Fill
    pickup: Pickup | None


@dataclass(frozen=True)
class PrescriptionRecord:
    history: PrescriptionHistory
    fills: list[FillRecord]


@dataclass(frozen=True)
class PatientCopy:
    produced_at: datetime
    patient: Patient
    allergies: Allergies
    coverages: list[Coverage]
    prescriptions: list[PrescriptionRecord]
    bills: list[Bill]
    claims: list[Claim]
    access_log: list[AccessEntry]
    message_consent: MessageConsent  # whether messages may name their medicine, and its history


def read_copy(session: Session, ctx: TenantContext, patient_id: str, produced_at: datetime) -> PatientCopy:
    """Everything about the patient in the member's scope (owners see the whole chain). NotFound outside it."""
    patient, log = record_for_copy(session, ctx, patient_id)
    key = uuid.UUID(patient.id)
    coverages, claims = insurance_of_patient(session, ctx, key)
    prescriptions = [
        PrescriptionRecord(
            history,
            [
                FillRecord(f, pickup_of_fill(session, ctx, f.id))
                for f in fills_of(session, ctx, history.prescription.id)
            ],
        )
        for history in prescriptions_for_copy(session, ctx, patient.id)
    ]
    return PatientCopy(
        produced_at=produced_at,
        patient=patient,
        allergies=allergies_with_record(session, ctx, patient.id),
        coverages=coverages,
        prescriptions=prescriptions,
        bills=bills_of_patient(session, ctx, key),
        claims=claims,
        access_log=log,
        message_consent=message_consent(session, ctx, patient.id),
    )


# --- the machine-readable file ----------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """JSON-ready: dates ISO 8601 (UTC times with their offset), money as exact decimal strings, images base64."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _fields(value: Any) -> Any:
    return _plain(dataclasses.asdict(value))


def copy_json(copy: PatientCopy, request: dict[str, Any]) -> bytes:
    """The copy as one JSON document: each section is a list of records with their own fields."""
    document = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "produced_at": _plain(copy.produced_at),
        "request": _plain(request),
        "patient": _fields(copy.patient),
        "allergies": _fields(copy.allergies),
        "coverages": [_fields(c) for c in copy.coverages],
        "prescriptions": [
            {
                **_fields(p.history.prescription),
                "verifications": [_fields(v) for v in p.history.verifications],
                "fills": [{**_fields(f.fill), "pickup": _fields(f.pickup) if f.pickup else None} for f in p.fills],
            }
            for p in copy.prescriptions
        ],
        "bills": [_fields(b) for b in copy.bills],
        "claims": [_fields(c) for c in copy.claims],
        "access_log": [_fields(e) for e in copy.access_log],
        "message_consent": _fields(copy.message_consent),
    }
    return json.dumps(document, indent=2, ensure_ascii=False).encode()
