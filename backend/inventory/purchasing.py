"""Suppliers and purchase orders: draft, send, and receive deliveries (partly or in full) into batches."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlmodel import Session

from backend.core import validation as check
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.models import utc_now
from backend.inventory.reorder import EFFECTIVE_POINT, EFFECTIVE_QUANTITY
from backend.inventory.service import receive_stock
from backend.inventory.statuses import PurchaseOrderStatus
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.directory import require_active_branch
from tenants.roles import require


@dataclass(frozen=True)
class OrderLine:
    medicine_id: str
    medicine: str
    ordered: int
    received: int
    unit_cost: Decimal


@dataclass(frozen=True)
class PurchaseOrder:
    id: str
    number: str
    supplier: str
    branch: str
    status: str
    created_at: datetime
    lines: list[OrderLine]


def create_supplier(
    session: Session,
    ctx: TenantContext,
    *,
    name: str,
    contact_name: str = "",
    email: str = "",
    phone: str = "",
    lead_time_days: int = 2,
) -> str:
    require(ctx, "inventory.purchase")
    if not name.strip():
        raise ValidationFailed("Name the supplier.", field="name")
    supplier_id = uuid.uuid4()
    if session.execute(text("SELECT 1 FROM suppliers WHERE lower(name) = lower(:n)"), {"n": name.strip()}).first():
        raise Conflict("A supplier with this name exists.", field="name")
    session.execute(
        text(
            "INSERT INTO suppliers (tenant_id, id, name, contact_name, email, phone, lead_time_days) "
            "VALUES (:t, :id, :n, :c, :e, :p, :l)"
        ),
        {
            "t": ctx.tenant_id,
            "id": supplier_id,
            "n": name.strip(),
            "c": contact_name.strip(),
            "e": email.strip(),
            "p": phone.strip(),
            "l": lead_time_days,
        },
    )
    return str(supplier_id)


@dataclass(frozen=True)
class Supplier:
    id: str
    name: str
    lead_time_days: int


def list_suppliers(session: Session, ctx: TenantContext) -> list[Supplier]:
    require(ctx, "inventory.view")
    rows = session.execute(text("SELECT id, name, lead_time_days FROM suppliers ORDER BY lower(name)")).all()
    return [Supplier(str(r.id), r.name, r.lead_time_days) for r in rows]


def _next_number(session, ctx: TenantContext) -> str:  # type: ignore[no-untyped-def]
    session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('po:' || :t, 0))"), {"t": str(ctx.tenant_id)})
    count = session.execute(text("SELECT count(*) FROM purchase_orders")).scalar_one()
    return f"PO-{utc_now():%Y}-{count + 1:05d}"


def draft_order(
    session: Session, ctx: TenantContext, *, supplier_id: str, branch_id: str, lines: list[tuple[str, int, str]]
) -> str:
    """A draft PO; lines are (medicine id, quantity, unit cost)."""
    require(ctx, "inventory.purchase")
    if not lines:
        raise ValidationFailed("Add at least one line.", field="lines")
    order_id = uuid.uuid4()
    if not ctx.can_see_branch(check.as_uuid(branch_id, "branch")):
        raise NotFound("No such branch.")
    require_active_branch(session, branch_id, "takes no purchase orders")
    if (
        session.execute(
            text("SELECT 1 FROM suppliers WHERE id = :s"), {"s": check.as_uuid(supplier_id, "supplier")}
        ).first()
        is None
    ):
        raise NotFound("No such supplier.")
    session.execute(
        text(
            "INSERT INTO purchase_orders (tenant_id, id, number, supplier_id, branch_id, created_by) "
            "VALUES (:t, :id, :n, :s, :b, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "id": order_id,
            "n": _next_number(session, ctx),
            "s": supplier_id,
            "b": branch_id,
            "u": ctx.user_id,
        },
    )
    for medicine_id, quantity, cost in lines:
        session.execute(
            text(
                "INSERT INTO purchase_order_lines (tenant_id, purchase_order_id, medicine_id, quantity_ordered, "
                "unit_cost) VALUES (:t, :o, :m, :q, :c) ON CONFLICT (tenant_id, purchase_order_id, medicine_id) "
                "DO UPDATE SET quantity_ordered = purchase_order_lines.quantity_ordered + EXCLUDED.quantity_ordered"
            ),
            {
                "t": ctx.tenant_id,
                "o": order_id,
                "m": check.as_uuid(medicine_id, "medicine"),
                "q": check.quantity(quantity),
                "c": check.money(cost, "unit_cost"),
            },
        )
    return str(order_id)


def suggest_order(session: Session, ctx: TenantContext, *, supplier_id: str, branch_id: str) -> str | None:
    """Draft a PO from everything at or below its reorder level in force at the branch (the manual
    level, or the forecast's for an automatic one), each for its reorder quantity; None if nothing is."""
    require(ctx, "inventory.purchase")
    branch = check.as_uuid(branch_id, "branch")
    if not ctx.can_see_branch(branch):
        raise NotFound("No such branch.")
    require_active_branch(session, branch, "takes no purchase orders")
    rows = session.execute(
        text(
            f"SELECT r.medicine_id, {EFFECTIVE_QUANTITY} AS reorder_quantity FROM reorder_levels r "  # noqa: S608
            "JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id "
            "LEFT JOIN batches b ON b.tenant_id = r.tenant_id AND b.branch_id = r.branch_id "
            "AND b.medicine_id = r.medicine_id "
            f"WHERE r.branch_id = :b AND m.is_active AND {EFFECTIVE_POINT} IS NOT NULL "  # no discontinued lines
            "GROUP BY r.medicine_id, r.mode, r.reorder_point, r.reorder_quantity, r.forecast_point, "
            f"r.forecast_quantity HAVING coalesce(sum(b.quantity), 0) <= {EFFECTIVE_POINT}"
        ),
        {"b": branch},
    ).all()
    if not rows:
        return None
    return draft_order(
        session,
        ctx,
        supplier_id=supplier_id,
        branch_id=branch_id,
        lines=[(str(r.medicine_id), r.reorder_quantity, "0") for r in rows],
    )


def send_order(session: Session, ctx: TenantContext, order_id: str) -> None:
    require(ctx, "inventory.purchase")
    sent = session.execute(
        text(
            "UPDATE purchase_orders SET status = :sent, sent_at = now() WHERE id = :o AND status = :draft "
            "RETURNING number"
        ),
        {
            "o": check.as_uuid(order_id, "purchase order"),
            "sent": PurchaseOrderStatus.SENT,
            "draft": PurchaseOrderStatus.DRAFT,
        },
    ).first()
    if sent is None:
        raise Conflict("Only a draft order can be sent.")
    record_audit(
        session,
        ctx.tenant_id,
        "purchase_order.sent",
        actor_user_id=ctx.user_id,
        entity_type="purchase_order",
        entity_id=sent.number,
    )


def receive_order_line(
    session: Session,
    ctx: TenantContext,
    *,
    order_id: str,
    medicine_id: str,
    lot_number: str,
    expiry_date: str,
    quantity: object,
) -> str:
    """Book (part of) a delivery against a sent order: a batch, a movement, and the order's progress."""
    require(ctx, "inventory.receive")
    count = check.quantity(quantity)
    order = session.execute(
        text(
            "SELECT o.id, o.number, o.status, o.branch_id, s.name AS supplier FROM purchase_orders o "
            "JOIN suppliers s ON s.tenant_id = o.tenant_id AND s.id = o.supplier_id WHERE o.id = :o FOR UPDATE"
        ),
        {"o": check.as_uuid(order_id, "purchase order")},
    ).first()
    if order is None:
        raise NotFound("No such purchase order.")
    if order.status not in (PurchaseOrderStatus.SENT, PurchaseOrderStatus.PARTIALLY_RECEIVED):
        raise Conflict(f"Order {order.number} is {order.status.replace('_', ' ')}; it cannot be received into.")
    line = session.execute(
        text(
            "UPDATE purchase_order_lines SET quantity_received = quantity_received + :n "
            "WHERE purchase_order_id = :o AND medicine_id = :m RETURNING unit_cost, quantity_ordered, "
            "quantity_received"
        ),
        {"n": count, "o": order.id, "m": check.as_uuid(medicine_id, "medicine")},
    ).first()
    if line is None:
        raise ValidationFailed("That medicine is not on this order.", field="medicine_id")
    batch_id = receive_stock(
        session,
        ctx,
        branch_id=str(order.branch_id),
        medicine_id=medicine_id,
        lot_number=lot_number,
        expiry_date=expiry_date,
        quantity=count,
        cost_price=str(line.unit_cost),
        supplier_name=order.supplier,
        reference=order.number,
    )
    outstanding = session.execute(
        text(
            "SELECT count(*) FROM purchase_order_lines WHERE purchase_order_id = :o "
            "AND quantity_received < quantity_ordered"
        ),
        {"o": order.id},
    ).scalar_one()
    session.execute(
        text("UPDATE purchase_orders SET status = :s WHERE id = :o"),
        {
            "s": PurchaseOrderStatus.PARTIALLY_RECEIVED if outstanding else PurchaseOrderStatus.RECEIVED,
            "o": order.id,
        },
    )
    return batch_id


def list_orders(session: Session, ctx: TenantContext) -> list[PurchaseOrder]:
    require(ctx, "inventory.view")
    orders = session.execute(
        text(
            "SELECT o.id, o.number, s.name AS supplier, b.name AS branch, o.status, o.created_at, o.branch_id "
            "FROM purchase_orders o JOIN suppliers s ON s.tenant_id = o.tenant_id AND s.id = o.supplier_id "
            "JOIN branches b ON b.tenant_id = o.tenant_id AND b.id = o.branch_id "
            "ORDER BY o.created_at DESC LIMIT 100"
        )
    ).all()
    lines = session.execute(
        text(
            "SELECT l.purchase_order_id, l.medicine_id, m.generic_name || ' ' || m.strength AS medicine, "
            "l.quantity_ordered, l.quantity_received, l.unit_cost FROM purchase_order_lines l "
            "JOIN medicines m ON m.tenant_id = l.tenant_id AND m.id = l.medicine_id ORDER BY m.generic_name"
        )
    ).all()
    by_order: dict[str, list[OrderLine]] = {}
    for line in lines:
        by_order.setdefault(str(line.purchase_order_id), []).append(
            OrderLine(
                str(line.medicine_id),
                line.medicine.strip(),
                line.quantity_ordered,
                line.quantity_received,
                line.unit_cost,
            )
        )
    return [
        PurchaseOrder(str(o.id), o.number, o.supplier, o.branch, o.status, o.created_at, by_order.get(str(o.id), []))
        for o in orders
        if ctx.can_see_branch(o.branch_id)
    ]
