"""Patients in bulk (the demo chain): records checked as the registration form checks them, sealed and
indexed as `create_patient` stores them, written with COPY in the caller's transaction, each with its
'created' access-log row (who registered it, when), as `create_patient` writes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from backend.core.bulk import copy_rows
from backend.core.errors import ValidationFailed
from backend.patients import identity
from backend.patients.service import _birth_date, _email, _free_text, _full_name, _phone
from backend.protection.keys import chain_keys

PATIENT_COLUMNS = (
    "tenant_id",
    "id",
    *identity.SEALED.values(),
    *identity.INDEXES,
    "contact_consent",
    "consent_at",
    "home_branch_id",
    "created_by",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class NewPatient:
    id: str
    full_name: str
    date_of_birth: date
    home_branch_id: str
    created_by: str | None
    created_at: datetime
    phone: str = ""
    email: str = ""
    address: str = ""
    allergies: str = ""
    notes: str = ""
    contact_consent: bool = False


def load_patients(session: Session, tenant_id: str, patients: list[NewPatient], *, today: date) -> int:
    """Write `patients` (checked first: a bad field raises ValidationFailed and nothing is written)."""
    keys = chain_keys(session, tenant_id)
    rows = []
    for p in patients:
        phone, email = _phone(p.phone), _email(p.email)
        if p.contact_consent and not (phone or email):
            raise ValidationFailed("Consent to be contacted needs a phone number or an e-mail address to contact.")
        rows.append(
            (
                tenant_id,
                p.id,
                *identity.stored(
                    keys,
                    p.id,
                    {
                        "full_name": _full_name(p.full_name),
                        "date_of_birth": _birth_date(p.date_of_birth, today),
                        "phone": phone,
                        "email": email,
                        "address": _free_text(p.address, "address"),
                        "allergies": _free_text(p.allergies, "allergies"),
                        "notes": _free_text(p.notes, "notes"),
                    },
                ).values(),
                p.contact_consent,
                p.created_at if p.contact_consent else None,
                p.home_branch_id,
                p.created_by,
                p.created_at,
                p.created_at,
            )
        )
    count = copy_rows(session, "patients", PATIENT_COLUMNS, rows)
    copy_rows(
        session,
        "patient_access_log",
        ("tenant_id", "patient_id", "user_id", "action", "occurred_at"),
        ((tenant_id, p.id, p.created_by, "created", p.created_at) for p in patients),
    )
    return count
