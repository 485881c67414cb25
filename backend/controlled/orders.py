"""CII ordering and receipt (21 CFR 1305): a CII order is recorded with its DEA Form 222 serial number or
its CSOS electronic order number, and each delivery is received against it.

The stock comes in through inventory's `receive_stock`, with the order's number as the movement's
reference, so the register shows the receipt with the number the DEA asks for. A line cannot receive
more than was ordered (a Form 222 authorises that quantity and no more).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from backend.controlled.common import branch, local_today, medicine_name, parse_day, scheduled_medicine
from backend.controlled.statuses import OrderForm
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.validation import as_uuid
from backend.core.validation import quantity as whole_quantity
from backend.inventory.service import receive_stock
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

# The single-sheet DEA Form 222 (since 2019) carries a 9-digit serial number; a CSOS order has the
# supplier's order number (letters, digits, hyphens).
FORM_222_NUMBER = re.compile(r"^[0-9]{9}$")
CSOS_NUMBER = re.compile(r"^[A-Z0-9-]{4,40}$")
MAX_LINES = 20  # a Form 222 has 20 lines


@dataclass(frozen=True)
class OrderLine:
    medicine_id: str
    medicine: str
    ordered: int
    received: int

    @property
    def outstanding(self) -> int:
        return max(self.ordered - self.received, 0)


@dataclass(frozen=True)
class CiiOrder:
    id: str
    branch_id: str
    form: OrderForm
    order_number: str
    supplier: str
    ordered_on: date
    created_at: datetime
    lines: list[OrderLine] = field(default_factory=list)

    @property
    def reference(self) -> str:
        """What the receipt's ledger movement names: "DEA 222 123456789" or "CSOS ABC-123"."""
        return f"{'DEA 222' if self.form == OrderForm.DEA_222 else 'CSOS'} {self.order_number}"

    @property
    def complete(self) -> bool:
        return all(line.outstanding == 0 for line in self.lines)


def _number(form: OrderForm, raw: str) -> str:
    number = "".join(str(raw or "").split()).upper()
    if form == OrderForm.DEA_222 and not FORM_222_NUMBER.match(number):
        raise ValidationFailed("A DEA Form 222's serial number has 9 digits.", field="order_number")
    if form == OrderForm.CSOS and not CSOS_NUMBER.match(number):
        raise ValidationFailed(
            "Enter the CSOS order number (4 to 40 letters, digits or hyphens).", field="order_number"
        )
    return number


def create_order(
    session: Session,
    ctx: TenantContext,
    *,
    branch_id: str,
    form: str,
    order_number: str,
    supplier: str,
    lines: list[tuple[str, object]],
    ordered_on: object = None,
) -> CiiOrder:
    """Record a CII order: its form (DEA 222 or CSOS) and number, the supplier, and each CII medicine with
    the quantity ordered. Every line is checked before anything is written."""
    require(ctx, "controlled.record")
    where = branch(session, ctx, branch_id)
    try:
        kind = OrderForm(str(form))
    except ValueError:
        raise ValidationFailed("Choose DEA Form 222 or CSOS.", field="form") from None
    number = _number(kind, order_number)
    name = " ".join(str(supplier or "").split())
    if not 1 <= len(name) <= 120:
        raise ValidationFailed("Enter the supplier (at most 120 characters).", field="supplier")
    day = parse_day(ordered_on, "ordered_on") if ordered_on not in (None, "") else local_today(where.time_zone)
    if not lines:
        raise ValidationFailed("Add at least one medicine to the order.", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"A CII order has at most {MAX_LINES} lines.", field="lines")
    wanted: dict[str, int] = {}
    for medicine_id, quantity in lines:
        medicine = scheduled_medicine(session, medicine_id)
        if medicine.controlled_class != "CII":
            raise ValidationFailed(
                f"{medicine_name(medicine)} is {medicine.controlled_class}: only CII medicines are ordered on a "
                "Form 222 or CSOS order.",
                field="lines",
            )
        if str(medicine.id) in wanted:
            raise ValidationFailed(f"{medicine_name(medicine)} is on the order twice.", field="lines")
        wanted[str(medicine.id)] = whole_quantity(quantity)
    key = uuid.uuid4()
    try:
        with session.begin_nested():
            session.execute(
                text(
                    "INSERT INTO cii_orders (tenant_id, id, branch_id, form, order_number, supplier, ordered_on, "
                    "created_by) VALUES (:t, :id, :b, :f, :n, :s, :d, :u)"
                ),
                {
                    "t": ctx.tenant_id,
                    "id": key,
                    "b": uuid.UUID(where.id),
                    "f": kind,
                    "n": number,
                    "s": name,
                    "d": day,
                    "u": ctx.user_id,
                },
            )
    except IntegrityError:
        raise Conflict(f"{kind.label} {number} is already recorded.", field="order_number") from None
    session.execute(
        text("INSERT INTO cii_order_lines (tenant_id, order_id, medicine_id, ordered) VALUES (:t, :o, :m, :q)"),
        [{"t": ctx.tenant_id, "o": key, "m": uuid.UUID(m), "q": q} for m, q in wanted.items()],
    )
    record_audit(
        session,
        ctx.tenant_id,
        "controlled.cii_order_recorded",
        actor_user_id=ctx.user_id,
        entity_type="cii_order",
        entity_id=str(key),
        details={"form": kind.value, "number": number},
    )
    return get_order(session, ctx, str(key))


def _order_row(session: Session, ctx: TenantContext, order_id: str, *, lock: bool = False) -> Any:
    key = as_uuid(order_id, "order")
    row = session.execute(
        text("SELECT * FROM cii_orders WHERE id = :id" + (" FOR UPDATE" if lock else "")),  # noqa: S608 - fixed
        {"id": key},
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such CII order.")
    return row


def get_order(session: Session, ctx: TenantContext, order_id: str) -> CiiOrder:
    """One CII order with each line's quantity ordered and received so far."""
    require(ctx, "controlled.view")
    row = _order_row(session, ctx, order_id)
    lines = session.execute(
        text(
            "SELECT l.medicine_id, l.ordered, m.generic_name, m.strength, coalesce((SELECT sum(r.quantity) "
            "FROM cii_order_receipts r WHERE r.tenant_id = l.tenant_id AND r.order_id = l.order_id "
            "AND r.medicine_id = l.medicine_id), 0)::int AS received FROM cii_order_lines l "
            "JOIN medicines m ON m.tenant_id = l.tenant_id AND m.id = l.medicine_id WHERE l.order_id = :o "
            "ORDER BY lower(m.generic_name), m.strength"
        ),
        {"o": row.id},
    ).all()
    return CiiOrder(
        id=str(row.id),
        branch_id=str(row.branch_id),
        form=OrderForm(row.form),
        order_number=row.order_number,
        supplier=row.supplier,
        ordered_on=row.ordered_on,
        created_at=row.created_at,
        lines=[OrderLine(str(r.medicine_id), medicine_name(r), r.ordered, r.received) for r in lines],
    )


def list_orders(session: Session, ctx: TenantContext, branch_id: str) -> list[CiiOrder]:
    """The branch's CII orders, newest first."""
    require(ctx, "controlled.view")
    where = branch(session, ctx, branch_id)
    ids = session.execute(
        text("SELECT id FROM cii_orders WHERE branch_id = :b ORDER BY ordered_on DESC, created_at DESC LIMIT 50"),
        {"b": uuid.UUID(where.id)},
    ).scalars()
    return [get_order(session, ctx, str(i)) for i in ids]


def receive_against_order(
    session: Session,
    ctx: TenantContext,
    order_id: str,
    *,
    medicine_id: str,
    lot_number: str,
    expiry_date: str,
    quantity: object,
    cost_price: str = "0",
) -> CiiOrder:
    """Receive a delivery of one line of a CII order into stock (inventory's receive, with the order's
    number on the movement) and record it against the order. Refused beyond the quantity ordered."""
    require(ctx, "controlled.record")
    row = _order_row(session, ctx, order_id, lock=True)
    order = get_order(session, ctx, order_id)
    line = next((item for item in order.lines if item.medicine_id == str(as_uuid(medicine_id, "medicine"))), None)
    if line is None:
        raise ValidationFailed("That medicine is not on this order.", field="medicine_id")
    count = whole_quantity(quantity)
    if count > line.outstanding:
        raise ValidationFailed(
            f"{line.medicine}: {line.ordered} ordered, {line.received} already received; at most "
            f"{line.outstanding} more can be received on {order.reference}.",
            field="quantity",
        )
    batch_id = receive_stock(
        session,
        ctx,
        branch_id=str(row.branch_id),
        medicine_id=line.medicine_id,
        lot_number=lot_number,
        expiry_date=expiry_date,
        quantity=count,
        cost_price=cost_price,
        supplier_name=order.supplier,
        reference=order.reference,
    )
    session.execute(
        text(
            "INSERT INTO cii_order_receipts (tenant_id, order_id, medicine_id, batch_id, quantity, received_by) "
            "VALUES (:t, :o, :m, :b, :q, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "o": row.id,
            "m": uuid.UUID(line.medicine_id),
            "b": uuid.UUID(batch_id),
            "q": count,
            "u": ctx.user_id,
        },
    )
    return get_order(session, ctx, order_id)
