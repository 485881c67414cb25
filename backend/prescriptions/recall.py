"""The recall trace: lot -> fills and counter sales -> patients.

When a maker recalls a lot, the pharmacist needs everyone who received it: the patients whose fills
were taken from the lot (`prescription_fill_lots`, as inventory's FEFO pick reported it) and the
patients a counter sale of the lot was made to (`bill_picks`: the batch each sold line was taken
from, on a bill linked to a patient). A fill returned to stock and a voided bill never reached the
patient; a fill not yet picked up is listed (it is in the will-call bin and must be pulled).

A lot number is the maker's, so two makers can use the same one: the trace is of one medicine's
lot. When the number alone names lots of several medicines, the caller chooses (`needs_choice`).

Scope: a member limited to some branches sees the fills and sales made at those branches (whoever
the patient is). Every patient listed is written to the patient access log as 'viewed' with the
reason "recall trace", in the transaction that reads them. Notifying them: recall_broadcast.py.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import NotFound, ValidationFailed
from backend.core.validation import as_uuid
from backend.patients.service import identities, log_viewed
from backend.prescriptions.enums import FillStatus
from tenants.context import TenantContext
from tenants.roles import require

PERMISSION = "prescriptions.recall_trace"
ACCESS_REASON = "recall trace"
MAX_LOT = 60  # batches.lot_number's limit


@dataclass(frozen=True)
class LotProduct:
    """A medicine that has a lot with the number asked: enough to tell two makers' lots apart."""

    medicine_id: str
    name: str  # generic and strength
    maker: str
    dosage_form: str

    def label(self) -> str:
        return ", ".join(part for part in (self.name, self.maker, self.dosage_form) if part)


@dataclass(frozen=True)
class Recipient:
    """One fill or counter sale of the lot to a patient."""

    patient_id: str
    patient_name: str
    date_of_birth: date
    phone: str
    email: str
    contact_consent: bool
    kind: str  # "fill" or "bill"
    reference: str  # the fill's code (its label's barcode) or the bill's number
    record_id: str  # the prescription (of a fill) or the bill, for a link
    received_at: datetime  # filled, or the bill finalized (UTC)
    quantity: int
    branch_id: str
    branch: str
    time_zone: str
    medicine: str
    lot_number: str
    status: str  # the fill's or the bill's state, in words

    @property
    def contact(self) -> str:
        return " · ".join(c for c in (self.phone, self.email) if c) or "no contact details"


@dataclass(frozen=True)
class LotTrace:
    lot_number: str
    products: list[LotProduct]  # every medicine with a lot of this number in the member's branches
    product: LotProduct | None  # the one traced (None: none found, or a choice is needed)
    recipients: list[Recipient] = field(default_factory=list)

    @property
    def needs_choice(self) -> bool:
        return self.product is None and len(self.products) > 1

    @property
    def patients(self) -> int:
        return len({r.patient_id for r in self.recipients})


def _lot_number(value: object) -> str:
    lot = " ".join(str(value or "").split())
    if not lot:
        raise ValidationFailed("Enter the lot number from the recall notice.", field="lot_number")
    if len(lot) > MAX_LOT:
        raise ValidationFailed(f"A lot number has at most {MAX_LOT} characters.", field="lot_number")
    return lot


def _scope(ctx: TenantContext) -> dict[str, Any]:
    return {"all_branches": not ctx.branch_ids, "scope": sorted(ctx.branch_ids)}


_IN_SCOPE = "(CAST(:all_branches AS boolean) OR {column} = ANY(CAST(:scope AS uuid[])))"


def _products(session: Session, ctx: TenantContext, lot: str) -> list[LotProduct]:
    # Lot numbers are compared without regard to case: a recall notice typed in lower case still
    # finds the lot (listing one patient too many is the safe side of a recall).
    rows = session.execute(
        text(
            "SELECT DISTINCT m.id, m.generic_name, m.strength, m.brand_name, m.dosage_form FROM batches b "  # noqa: S608 - fixed SQL
            "JOIN medicines m ON m.tenant_id = b.tenant_id AND m.id = b.medicine_id "
            f"WHERE upper(b.lot_number) = upper(:lot) AND {_IN_SCOPE.format(column='b.branch_id')} "
            "ORDER BY m.generic_name, m.strength, m.brand_name, m.id"
        ),
        {"lot": lot, **_scope(ctx)},
    ).all()
    return [LotProduct(str(r.id), f"{r.generic_name} {r.strength}".strip(), r.brand_name, r.dosage_form) for r in rows]


# Fills (not returned to stock) and issued bills to a patient that took units from the lot's batches.
_RECIPIENTS = """
WITH lot AS (
    SELECT b.id, b.lot_number FROM batches b
    WHERE b.medicine_id = :medicine AND upper(b.lot_number) = upper(:lot)
), received AS (
    SELECT 'fill' AS kind, f.code AS reference, f.prescription_id AS record_id, f.filled_at AS received_at,
           fl.quantity, f.branch_id, f.status, r.patient_id, lot.lot_number
    FROM prescription_fill_lots fl
    JOIN lot ON lot.id = fl.batch_id
    JOIN prescription_fills f ON f.tenant_id = fl.tenant_id AND f.id = fl.fill_id
    JOIN prescriptions r ON r.tenant_id = f.tenant_id AND r.id = f.prescription_id
    WHERE f.status <> :returned
    UNION ALL
    SELECT 'bill', bl.number, bl.id, bl.finalized_at, sum(p.quantity)::int, bl.branch_id, bl.status,
           bl.patient_id, lot.lot_number
    FROM bill_picks p
    JOIN lot ON lot.id = p.batch_id
    JOIN bills bl ON bl.tenant_id = p.tenant_id AND bl.id = p.bill_id
    WHERE bl.patient_id IS NOT NULL AND bl.status IN ('finalized', 'partially_paid', 'paid')
    GROUP BY bl.id, bl.number, bl.finalized_at, bl.branch_id, bl.status, bl.patient_id, lot.lot_number
)
SELECT x.*, br.name AS branch_name, br.time_zone
FROM received x
JOIN branches br ON br.id = x.branch_id
WHERE (CAST(:all_branches AS boolean) OR x.branch_id = ANY(CAST(:scope AS uuid[])))
"""


def _status(kind: str, status: str) -> str:
    if kind == "fill":
        return FillStatus(status).label
    return status.replace("_", " ")


def _recipients(session: Session, ctx: TenantContext, lot: str, product: LotProduct) -> list[Recipient]:
    rows = session.execute(
        text(_RECIPIENTS),
        {"medicine": uuid.UUID(product.medicine_id), "lot": lot, "returned": FillStatus.RETURNED, **_scope(ctx)},
    ).all()
    # Names are sealed: the order (when received, then name, then reference) is made here.
    people = identities(session, ctx, [r.patient_id for r in rows], contact=True)
    rows = sorted(rows, key=lambda r: (r.received_at, people[r.patient_id].full_name.lower(), r.reference))
    return [
        Recipient(
            patient_id=str(r.patient_id),
            patient_name=people[r.patient_id].full_name,
            date_of_birth=people[r.patient_id].date_of_birth,
            phone=people[r.patient_id].phone,
            email=people[r.patient_id].email,
            contact_consent=people[r.patient_id].contact_consent,
            kind=r.kind,
            reference=r.reference,
            record_id=str(r.record_id),
            received_at=r.received_at,
            quantity=r.quantity,
            branch_id=str(r.branch_id),
            branch=r.branch_name,
            time_zone=r.time_zone,
            medicine=product.label(),
            lot_number=r.lot_number,
            status=_status(r.kind, r.status),
        )
        for r in rows
    ]


def lot_products(session: Session, ctx: TenantContext, lot_number: object) -> list[LotProduct]:
    """The medicines with a lot of this number in the member's branches (nobody is listed or logged)."""
    require(ctx, PERMISSION)
    return _products(session, ctx, _lot_number(lot_number))


def trace_lot(session: Session, ctx: TenantContext, lot_number: object, medicine_id: object = None) -> LotTrace:
    """Who received a lot of a medicine: each fill and counter sale to a patient, oldest first.

    `medicine_id` chooses among makers that use the same lot number; without it a number that names
    lots of several medicines lists nothing and asks which (`needs_choice`). A lot number not in the
    member's branches gives an empty trace. Every patient listed is written to the access log.
    """
    require(ctx, PERMISSION)
    lot = _lot_number(lot_number)
    products = _products(session, ctx, lot)
    if medicine_id not in (None, ""):
        wanted = str(as_uuid(str(medicine_id), "medicine"))
        chosen = next((p for p in products if p.medicine_id == wanted), None)
        if chosen is None:
            raise NotFound(f"No lot {lot} of that medicine in your branches.")
    elif len(products) == 1:
        chosen = products[0]
    else:
        return LotTrace(lot, products, None)
    recipients = _recipients(session, ctx, lot, chosen)
    log_viewed(session, ctx, [r.patient_id for r in recipients], ACCESS_REASON)
    return LotTrace(lot, products, chosen, recipients)


def trace_batch(session: Session, ctx: TenantContext, batch_id: object) -> LotTrace:
    """The trace of a batch's lot (the "Who received this lot" link on a medicine's batches): the same
    lot number of the same medicine at every branch in the member's scope."""
    require(ctx, PERMISSION)
    key = as_uuid(str(batch_id), "batch")
    row = session.execute(
        text(
            "SELECT b.medicine_id, b.lot_number, b.branch_id FROM batches b WHERE b.id = :b "  # noqa: S608 - fixed SQL
            f"AND {_IN_SCOPE.format(column='b.branch_id')}"
        ),
        {"b": key, **_scope(ctx)},
    ).first()
    if row is None:
        raise NotFound("No such batch.")
    return trace_lot(session, ctx, row.lot_number, str(row.medicine_id))
