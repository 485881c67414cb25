"""What the assistant answers about prescriptions: a prescription's refill status, the prescriptions
due for a refill at a branch, and a patient's medication list.

A refill falls due when the last fill's days' supply runs out: the last fill's local date (in the
branch's zone) plus the prescription's days' supply. Only a live verified prescription with refills
left and at least one fill can fall due; one past its expiry date is not due, it needs a new one.

Each answer carries only what its question needs: the refill status names the medicine, not the
patient (no record is opened); the due list names the patient as the work queue does; the
medication list opens the patient's record, so it is written to the patient access log ('viewed',
"assistant: medication list") and gives medicine, directions, last fill and refills left, never
contact details, allergies or notes. Services take `(session, ctx, ...)`; the adapter owns the
transaction; the branch scope applies to every prescription read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session

from backend.core.display import local_time
from backend.core.errors import NotFound, ValidationFailed
from backend.patients.service import PatientSummary, find_patients, identities, patient_for_history
from backend.prescriptions.enums import FillStatus, RxStatus
from backend.prescriptions.service import local_today
from tenants.context import TenantContext
from tenants.roles import require

ACCESS_REASON = "assistant: medication list"
MAX_DUE_DAYS = 60
MAX_PATIENT_CHOICES = 5
_RX_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")


@dataclass(frozen=True)
class RefillStatus:
    rx_number: str
    medicine: str
    status: RxStatus
    branch: str
    refills_authorized: int
    refills_remaining: int
    days_supply: int | None
    last_filled: date | None  # the branch's local date of the last fill
    next_due: date | None  # last fill + days' supply
    expires_on: date | None
    earliest_fill_date: date | None
    owed: int  # still owed on a partial fill

    @property
    def refillable(self) -> bool:
        return self.status in RxStatus.verified() and self.refills_remaining > 0


@dataclass(frozen=True)
class DueRefill:
    rx_number: str
    patient: str
    medicine: str
    branch: str
    last_filled: date
    due: date
    refills_remaining: int
    status: RxStatus


@dataclass(frozen=True)
class Medication:
    rx_number: str
    medicine: str
    directions: str
    status: RxStatus
    last_filled: date | None
    refills_remaining: int


@dataclass(frozen=True)
class MedicationList:
    """The patient's medicines, or the patients a name matched when it is not one person."""

    patient: PatientSummary | None
    medications: list[Medication]
    matches: list[PatientSummary]


# The last fill of each prescription (a fill returned to stock never reached the patient).
_LAST_FILL = (
    "LEFT JOIN LATERAL (SELECT f.filled_at, f.owed_after FROM prescription_fills f "
    "WHERE f.tenant_id = r.tenant_id AND f.prescription_id = r.id AND f.status <> :returned "
    "ORDER BY f.dispensing DESC, f.part DESC LIMIT 1) last ON true "
)
_MEDICINE = "coalesce(nullif(trim(m.generic_name || ' ' || m.strength), ''), r.drug_written)"


def _local_day(moment: datetime | None, zone: str) -> date | None:
    return None if moment is None else local_time(moment, zone).date()


def _due(last: date | None, days_supply: int | None) -> date | None:
    return None if last is None or days_supply is None else last + timedelta(days=days_supply)


def refill_status(session: Session, ctx: TenantContext, rx_number: object) -> RefillStatus:
    """A prescription's refill status by its Rx number: state, refills left, last fill and when the
    next refill falls due, expiry. Names the medicine, not the patient."""
    require(ctx, "prescriptions.view")
    number = str(rx_number or "").strip().upper()
    if not _RX_NUMBER.match(number):
        raise ValidationFailed("An Rx number looks like B1-000123.", field="rx_number")
    row = session.execute(
        text(
            f"SELECT r.*, {_MEDICINE} AS medicine, br.name AS branch_name, br.time_zone, "  # noqa: S608 - fixed SQL
            "last.filled_at, coalesce(last.owed_after, 0) AS owed FROM prescriptions r "
            "JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id "
            "LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
            + _LAST_FILL
            + "WHERE upper(r.rx_number) = :n"
        ),
        {"n": number, "returned": FillStatus.RETURNED},
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound(f"No prescription {number} in your branches.")
    last = _local_day(row.filled_at, row.time_zone)
    return RefillStatus(
        rx_number=row.rx_number,
        medicine=row.medicine,
        status=RxStatus(row.status),
        branch=row.branch_name,
        refills_authorized=row.refills_authorized,
        refills_remaining=row.refills_remaining,
        days_supply=row.days_supply,
        last_filled=last,
        next_due=_due(last, row.days_supply),
        expires_on=row.expires_on,
        earliest_fill_date=row.earliest_fill_date,
        owed=row.owed,
    )


def due_for_refill(
    session: Session, ctx: TenantContext, branch_id: str | None = None, within_days: int = 7
) -> list[DueRefill]:
    """Prescriptions whose last fill runs out within `within_days` of the branch's today (or already
    has), with refills left and not expired: soonest first. One branch, or every branch in scope."""
    require(ctx, "prescriptions.view")
    if not 0 <= within_days <= MAX_DUE_DAYS:
        raise ValidationFailed(f"Look ahead 0 to {MAX_DUE_DAYS} days.", field="within_days")
    rows = session.execute(
        text(
            f"SELECT r.rx_number, r.status, r.refills_remaining, r.days_supply, r.expires_on, r.branch_id, "  # noqa: S608
            f"{_MEDICINE} AS medicine, r.patient_id, br.name AS branch_name, br.time_zone, last.filled_at "
            "FROM prescriptions r "
            "JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id "
            "LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
            + _LAST_FILL.replace("LEFT JOIN", "JOIN")
            + "WHERE r.status = ANY(:live) AND r.refills_remaining > 0 AND r.days_supply IS NOT NULL "
            "AND (CAST(:branch AS uuid) IS NULL OR r.branch_id = CAST(:branch AS uuid))"
        ),
        {
            "live": sorted(RxStatus.verified()),
            "branch": branch_id,
            "returned": FillStatus.RETURNED,
        },
    ).all()
    people = identities(session, ctx, [r.patient_id for r in rows if ctx.can_see_branch(r.branch_id)])
    due: list[DueRefill] = []
    for r in rows:
        if not ctx.can_see_branch(r.branch_id):
            continue
        today = local_today(r.time_zone)
        last = _local_day(r.filled_at, r.time_zone)
        when = _due(last, r.days_supply)
        if last is None or when is None or when > today + timedelta(days=within_days):
            continue
        if r.expires_on is not None and r.expires_on < today:
            continue  # expired: a new prescription, not a refill
        due.append(
            DueRefill(
                r.rx_number,
                people[r.patient_id].full_name,
                r.medicine,
                r.branch_name,
                last,
                when,
                r.refills_remaining,
                RxStatus(r.status),
            )
        )
    return sorted(due, key=lambda d: (d.due, d.branch, d.rx_number))


def _medications(session: Session, ctx: TenantContext, patient_id: str) -> list[Medication]:
    rows = session.execute(
        text(
            f"SELECT r.rx_number, r.status, r.sig_expanded, r.sig_written, r.refills_remaining, r.branch_id, "  # noqa: S608
            f"{_MEDICINE} AS medicine, br.time_zone, last.filled_at FROM prescriptions r "
            "JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id "
            "LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
            + _LAST_FILL
            + "WHERE r.patient_id = CAST(:p AS uuid) AND r.status = ANY(:live) ORDER BY lower("
            + _MEDICINE
            + ")"
        ),
        {"p": patient_id, "live": sorted(RxStatus.verified()), "returned": FillStatus.RETURNED},
    ).all()
    return [
        Medication(
            r.rx_number,
            r.medicine,
            r.sig_expanded or r.sig_written,
            RxStatus(r.status),
            _local_day(r.filled_at, r.time_zone),
            r.refills_remaining,
        )
        for r in rows
        if ctx.can_see_branch(r.branch_id)
    ]


def medication_list(session: Session, ctx: TenantContext, who: object) -> MedicationList:
    """A patient's current medicines (verified, live prescriptions) by name, phone or date of birth.

    The search is written to the access log like any search; when it finds exactly one patient their
    record is opened ('viewed', "assistant: medication list"); several matches are listed by name
    and date of birth to choose from, and nobody's medicines are shown.
    """
    require(ctx, "prescriptions.view")
    require(ctx, "patients.view")
    typed = " ".join(str(who or "").split())
    if len(typed) < 2:  # an empty search would list every patient in scope
        raise ValidationFailed("Name the patient (name, phone or date of birth).", field="patient")
    found = find_patients(session, ctx, typed)
    if len(found.items) != 1:
        return MedicationList(None, [], found.items[:MAX_PATIENT_CHOICES])
    patient = patient_for_history(session, ctx, found.items[0].id, reason=ACCESS_REASON)
    return MedicationList(patient, _medications(session, ctx, patient.id), [])
