"""Suppliers and purchase orders (draft -> sent -> partially received -> received / closed).

Revision ID: 0010_purchase_orders
Revises: 0009_stock_alerts
Create Date: 2026-11-26
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls

revision = "0010_purchase_orders"
down_revision = "0009_stock_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE suppliers (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
            contact_name text NOT NULL DEFAULT '',
            email text NOT NULL DEFAULT '',
            phone text NOT NULL DEFAULT '',
            lead_time_days integer NOT NULL DEFAULT 2 CHECK (lead_time_days BETWEEN 0 AND 365),
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, name)
        )""")
    enable_tenant_rls(op.execute, "suppliers")
    op.execute("""
        CREATE TABLE purchase_orders (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            number text NOT NULL,
            supplier_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            status text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'sent', 'partially_received', 'received', 'closed')),
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            sent_at timestamptz,
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, number),
            FOREIGN KEY (tenant_id, supplier_id) REFERENCES suppliers (tenant_id, id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "purchase_orders")
    op.execute("""
        CREATE TABLE purchase_order_lines (
            tenant_id uuid NOT NULL,
            purchase_order_id uuid NOT NULL,
            medicine_id uuid NOT NULL,
            quantity_ordered integer NOT NULL CHECK (quantity_ordered > 0),
            quantity_received integer NOT NULL DEFAULT 0 CHECK (quantity_received >= 0),
            unit_cost numeric(14, 4) NOT NULL DEFAULT 0 CHECK (unit_cost >= 0),
            PRIMARY KEY (tenant_id, purchase_order_id, medicine_id),
            FOREIGN KEY (tenant_id, purchase_order_id) REFERENCES purchase_orders (tenant_id, id) ON DELETE CASCADE,
            FOREIGN KEY (tenant_id, medicine_id) REFERENCES medicines (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "purchase_order_lines")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS purchase_order_lines, purchase_orders, suppliers")
