"""What a verified customer may learn about their own refills: their prescriptions' status (ready for
pickup at which branch, refills left, last fill) and their open portal requests.

Read for the patient the customer session proved, and for nobody else: the caller passes the session's
patient id (never one a customer typed or a model chose), and the context must be the CUSTOMER role.
The prescriptions come from the prescriptions service; this domain reads only its own requests table.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import PermissionDenied, ValidationFailed
from backend.patients.customer import log_customer_access
from backend.portal.statuses import RefillRequestStatus
from backend.prescriptions.customer_view import CustomerPrescription, customer_prescriptions
from tenants.context import TenantContext
from tenants.roles import CUSTOMER, require


@dataclass(frozen=True)
class OpenRequest:
    rx_number: str
    status: RefillRequestStatus
    asked_at: datetime


@dataclass(frozen=True)
class MyRefills:
    prescriptions: list[CustomerPrescription]
    open_requests: list[OpenRequest]


def my_refills(session: Session, ctx: TenantContext, patient_id: str) -> MyRefills:
    """The signed-in customer's prescriptions and their open refill requests from the portal."""
    require(ctx, "portal.own_refills")
    if ctx.role != CUSTOMER:
        raise PermissionDenied("Only a verified customer sees their refills.")
    try:
        key = uuid.UUID(str(patient_id))
    except ValueError:
        raise ValidationFailed("No such customer.") from None
    if ctx.patient_id is not None and ctx.patient_id != key:
        raise PermissionDenied("Only a verified customer sees their own refills.")
    own = replace(ctx, patient_id=key)
    prescriptions = customer_prescriptions(session, own)
    log_customer_access(session, own, "viewed", "portal assistant: refill status")
    numbers = {p.id: p.rx_number for p in prescriptions}
    rows = session.execute(
        text(
            "SELECT prescription_id, status, created_at FROM portal_refill_requests "
            "WHERE patient_id = :p AND status = ANY(:open) ORDER BY created_at DESC LIMIT 20"
        ),
        {"p": key, "open": [str(s) for s in RefillRequestStatus.open()]},
    ).all()
    requests = [
        OpenRequest(numbers[str(r.prescription_id)], RefillRequestStatus(r.status), r.created_at)
        for r in rows
        if str(r.prescription_id) in numbers
    ]
    return MyRefills(prescriptions, requests)
