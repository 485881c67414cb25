"""A verified portal customer's own prescriptions (issue 17 §3): only the patient of their context.

What the customer sees of each active prescription: the medicine, refills left, the last fill's date (in
the branch's zone), whether a fill is ready for pickup and where, and whether a refill can be asked for
online. A prescription of anyone else is "not found", whatever its id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import NotFound
from backend.patients.customer import customer_patient
from backend.prescriptions.enums import RxStatus
from backend.prescriptions.refills import online_refill_obstacle
from backend.prescriptions.service import NumberedPrescription, medicine_label
from tenants.context import TenantContext

# What a customer's list shows: not the ones closed for good (cancelled, transferred away).
_HIDDEN = (RxStatus.CANCELLED, RxStatus.TRANSFERRED_OUT)


@dataclass(frozen=True)
class CustomerPrescription:
    id: str
    rx_number: str
    medicine: str
    refills_left: int
    last_fill: str  # the date of the last fill in the branch's zone ("" before the first)
    status: str
    ready_at: str  # the branch where a checked fill waits for pickup ("" when none)
    refillable: bool  # a refill can be asked for online now
    picked_up_fill: str  # the last fill picked up (the spot for a "Rate your visit" link), "" when none


def customer_prescriptions(session: Session, ctx: TenantContext) -> list[CustomerPrescription]:
    """The customer's prescriptions, newest first (no cancelled or transferred ones)."""
    patient = customer_patient(ctx)
    rows = session.execute(
        text(
            "SELECT r.id, r.rx_number, r.status, r.refills_remaining, r.drug_written, br.time_zone, "
            "m.generic_name, m.brand_name, m.strength, m.dosage_form, "
            "(SELECT max(f.filled_at) FROM prescription_fills f WHERE f.prescription_id = r.id) AS last_fill, "
            "(SELECT b2.name FROM prescription_fills f JOIN branches b2 ON b2.id = f.branch_id "
            " WHERE f.prescription_id = r.id AND f.status = 'checked' ORDER BY f.filled_at DESC LIMIT 1) AS ready_at, "
            "(SELECT f.id FROM prescription_fills f WHERE f.prescription_id = r.id AND f.status = 'picked_up' "
            " ORDER BY f.filled_at DESC LIMIT 1) AS picked_up "
            "FROM prescriptions r JOIN branches br ON br.id = r.branch_id "
            "LEFT JOIN medicines m ON m.id = r.medicine_id "
            "WHERE r.patient_id = :p AND r.status <> ALL(:hidden) ORDER BY r.created_at DESC LIMIT 100"
        ),
        {"p": patient, "hidden": [str(s) for s in _HIDDEN]},
    ).all()
    return [
        CustomerPrescription(
            id=str(r.id),
            rx_number=r.rx_number,
            medicine=medicine_label(r.generic_name, r.brand_name, r.strength, r.dosage_form)
            if r.generic_name
            else (r.drug_written or "Prescription being entered"),
            refills_left=int(r.refills_remaining or 0),
            last_fill=_local_day(r.last_fill, r.time_zone),
            status=RxStatus(r.status).label,
            ready_at=r.ready_at or "",
            refillable=RxStatus(r.status) in RxStatus.verified()
            and online_refill_obstacle(session, ctx, str(r.id)) is None,
            picked_up_fill=str(r.picked_up) if r.picked_up else "",
        )
        for r in rows
    ]


def customer_prescription(session: Session, ctx: TenantContext, prescription_id: object) -> NumberedPrescription:
    """One of the customer's own prescriptions (NotFound for anyone else's, or no such id)."""
    patient = customer_patient(ctx)
    try:
        key = uuid.UUID(str(prescription_id))
    except ValueError:
        raise NotFound("No such prescription.") from None
    row = session.execute(
        text(
            "SELECT id, rx_number, patient_id, branch_id, status FROM prescriptions WHERE id = :id AND patient_id = :p"
        ),
        {"id": key, "p": patient},
    ).first()
    if row is None:
        raise NotFound("No such prescription.")
    return NumberedPrescription(
        str(row.id), row.rx_number, str(row.patient_id), str(row.branch_id), RxStatus(row.status)
    )


def _local_day(moment: datetime | None, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%b %-d, %Y") if moment else ""
