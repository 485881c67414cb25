"""A verified customer's own prescriptions, as the portal shows them to that customer (issue 17).

Only a CUSTOMER context reads this, and only for the patient its session proved (the adapter passes the
session's patient id; nothing a customer types names a patient). Each line says what a customer needs to
know: the medicine, where it stands (ready for pickup at which branch), refills left and the last fill;
never directions, prescriber, notes or another patient. Cancelled and transferred prescriptions are left
out: they are nothing the customer can act on here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import PermissionDenied, ValidationFailed
from backend.prescriptions.enums import FillStatus, RxStatus
from backend.prescriptions.medication import _LAST_FILL, _MEDICINE, _local_day
from tenants.context import TenantContext
from tenants.roles import CUSTOMER, require

MAX_LISTED = 50
_LEFT_OUT = (RxStatus.CANCELLED, RxStatus.TRANSFERRED_OUT)


@dataclass(frozen=True)
class CustomerPrescription:
    id: str
    rx_number: str
    medicine: str
    status: RxStatus
    branch: str  # the prescription's branch (where a ready one is picked up)
    refills_remaining: int
    last_filled: date | None  # the branch's local date

    @property
    def ready(self) -> bool:
        return self.status is RxStatus.READY_FOR_PICKUP


def customer_prescriptions(session: Session, ctx: TenantContext, patient_id: str) -> list[CustomerPrescription]:
    """The signed-in customer's prescriptions, newest first (their session's patient only)."""
    require(ctx, "portal.own_refills")
    if ctx.role != CUSTOMER:  # the permission says so too; a second lock on health data
        raise PermissionDenied("Only a verified customer sees their prescriptions.")
    try:
        key = uuid.UUID(str(patient_id))
    except ValueError:
        raise ValidationFailed("No such customer.") from None
    rows = session.execute(
        text(
            f"SELECT r.id, r.rx_number, r.status, r.refills_remaining, {_MEDICINE} AS medicine, br.name AS branch, "  # noqa: S608
            "br.time_zone, last.filled_at FROM prescriptions r "
            "JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id "
            "LEFT JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
            + _LAST_FILL
            + "WHERE r.patient_id = :p AND r.status <> ALL(:gone) ORDER BY r.created_at DESC, r.rx_seq DESC "
            "LIMIT :n"
        ),
        {"p": key, "gone": [str(s) for s in _LEFT_OUT], "returned": FillStatus.RETURNED, "n": MAX_LISTED},
    ).all()
    return [
        CustomerPrescription(
            str(r.id),
            r.rx_number,
            r.medicine,
            RxStatus(r.status),
            r.branch,
            r.refills_remaining,
            _local_day(r.filled_at, r.time_zone),
        )
        for r in rows
    ]
