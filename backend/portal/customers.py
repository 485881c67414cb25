"""Verified customers (issue 17 §3, §4): their own session, and what they do in "My prescriptions".

A right code is swapped, over HTTP, for the customer's own HttpOnly cookie (CUSTOMER_COOKIE, never the staff
one): the page gets a one-time exchange code (Redis, one minute) and navigates to
/api/v1/portal/{slug}/session?code=..., which starts a `customer_sessions` row and sets the cookie. Every
customer event re-reads the cookie and finds a live session of the page's chain (RLS: another chain's
session is simply not there), 30 minutes idle and 2 hours at most. The context it gives has the role
CUSTOMER and the one patient: nothing here takes a patient id from the browser.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel import Session

from backend.core.queue import redis_connection
from backend.core.tokens import new_token, token_hash
from backend.patients.customer import customer_patient, log_customer_access
from backend.portal.refill_requests import record_request
from backend.portal.statuses import RefillRequestSource, RefillRequestStatus
from backend.portal.tasks import tell_received
from backend.prescriptions.customer_view import CustomerPrescription, customer_prescription, customer_prescriptions
from backend.prescriptions.service import create_prescription
from tenants.context import TenantContext
from tenants.roles import CUSTOMER, PORTAL_INTAKE, require

CUSTOMER_COOKIE = "pharmacy_customer"
IDLE_MINUTES = 30
MAX_HOURS = 2
EXCHANGE_TTL_SECONDS = 60


def customer_context(tenant_id: uuid.UUID, patient_id: uuid.UUID) -> TenantContext:
    return TenantContext(tenant_id=tenant_id, user_id=None, role=CUSTOMER, patient_id=patient_id)


# --- the exchange and the session -------------------------------------------------------------------


def issue_exchange(tenant_id: uuid.UUID, patient_id: uuid.UUID) -> str:
    """A one-time code the browser swaps (over HTTP) for the customer's HttpOnly cookie."""
    code = new_token()
    redis_connection().set(
        f"portal-exchange:{token_hash(code)}",
        json.dumps({"tenant_id": str(tenant_id), "patient_id": str(patient_id)}),
        ex=EXCHANGE_TTL_SECONDS,
    )
    return code


def redeem_exchange(code: str, tenant_id: uuid.UUID) -> uuid.UUID | None:
    """The patient an exchange code was issued for, in this chain; each code works once, for a minute."""
    if not code or len(code) > 200:
        return None
    raw = redis_connection().getdel(f"portal-exchange:{token_hash(code)}")
    if raw is None:
        return None
    data = json.loads(raw)  # type: ignore[arg-type]
    return uuid.UUID(data["patient_id"]) if data["tenant_id"] == str(tenant_id) else None


def start_customer_session(session: Session, ctx: TenantContext, patient_id: uuid.UUID) -> str:
    """Start a customer session for the patient a redeemed exchange code named; returns the cookie's token."""
    require(ctx, "portal.view")
    token = new_token()
    session.execute(
        text(
            "INSERT INTO customer_sessions (tenant_id, id, token_hash, patient_id, expires_at) "
            "VALUES (:t, :id, :h, :p, now() + make_interval(hours => :most))"
        ),
        {"t": ctx.tenant_id, "id": uuid.uuid4(), "h": token_hash(token), "p": patient_id, "most": MAX_HOURS},
    )
    return token


def customer_for_token(session: Session, ctx: TenantContext, token: str | None) -> uuid.UUID | None:
    """The patient of a live customer session of this chain (None for a missing, ended, idle or expired one);
    each use keeps it alive for another idle period, never past its end."""
    require(ctx, "portal.view")
    if not token or len(token) > 200:
        return None
    row = session.execute(
        text(
            "UPDATE customer_sessions SET last_seen_at = now() WHERE token_hash = :h AND ended_at IS NULL "
            "AND expires_at > now() AND last_seen_at > now() - make_interval(mins => :idle) RETURNING patient_id"
        ),
        {"h": token_hash(token), "idle": IDLE_MINUTES},
    ).first()
    return uuid.UUID(str(row.patient_id)) if row else None


def end_customer_session(session: Session, ctx: TenantContext, token: str | None) -> None:
    """Sign out: the session row is ended on the server, whatever the cookie does."""
    require(ctx, "portal.view")
    if token and len(token) <= 200:
        session.execute(
            text("UPDATE customer_sessions SET ended_at = now() WHERE token_hash = :h AND ended_at IS NULL"),
            {"h": token_hash(token)},
        )


# --- My prescriptions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyPrescription:
    prescription: CustomerPrescription
    request_status: str  # the last portal request's status as the customer reads it ("" when none)


def my_prescriptions(session: Session, ctx: TenantContext) -> list[MyPrescription]:
    """The customer's prescriptions with their portal requests' status; the view is access-logged."""
    require(ctx, "portal.customer")
    patient = customer_patient(ctx)
    listed = customer_prescriptions(session, ctx)
    rows = session.execute(
        text(
            "SELECT DISTINCT ON (prescription_id) prescription_id, status FROM portal_refill_requests "
            "WHERE patient_id = :p ORDER BY prescription_id, created_at DESC"
        ),
        {"p": patient},
    ).all()
    statuses = {str(r.prescription_id): RefillRequestStatus(r.status).label for r in rows}
    log_customer_access(session, ctx, "viewed", "portal: my prescriptions")
    return [MyPrescription(p, statuses.get(p.id, "")) for p in listed]


def request_my_refill(session: Session, ctx: TenantContext, prescription_id: str) -> uuid.UUID:
    """One tap: a refill request for one of the customer's own prescriptions, picked up at its branch."""
    require(ctx, "portal.customer")
    prescription = customer_prescription(session, ctx, prescription_id)
    request_id = record_request(session, ctx, prescription, None, "", RefillRequestSource.CUSTOMER)
    log_customer_access(session, ctx, "viewed", "portal: refill request")
    return request_id


def send_my_prescription(session: Session, ctx: TenantContext, branch_id: str, image: bytes) -> str:
    """A photo of a new prescription into the branch's intake queue (source portal; its OCR reading is queued
    as for a staff upload, with the same file checks). Returns the new prescription's id."""
    require(ctx, "portal.customer")
    patient = customer_patient(ctx)
    intake = TenantContext(tenant_id=ctx.tenant_id, user_id=None, role=PORTAL_INTAKE)
    received = create_prescription(
        session, intake, branch_id=branch_id, patient_id=str(patient), source="portal", image=image,
        notes="Photo sent by the patient on the portal.",
    )  # fmt: skip
    log_customer_access(session, ctx, "updated", "portal: sent a prescription photo")
    tell_received(session, TenantContext.system(ctx.tenant_id), patient, branch_id, received.id)
    return received.id
