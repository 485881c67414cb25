"""Reorder levels per medicine per branch, and the chain's expiry alert windows.

Revision ID: 0009_stock_alerts
Revises: 0008_idempotency
Create Date: 2026-11-26
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls

revision = "0009_stock_alerts"
down_revision = "0008_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE reorder_levels (
            tenant_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            medicine_id uuid NOT NULL,
            reorder_point integer NOT NULL CHECK (reorder_point >= 0),
            reorder_quantity integer NOT NULL CHECK (reorder_quantity > 0),
            PRIMARY KEY (tenant_id, branch_id, medicine_id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id),
            FOREIGN KEY (tenant_id, medicine_id) REFERENCES medicines (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "reorder_levels")
    op.execute("ALTER TABLE tenants ADD COLUMN expiry_alert_days integer[] NOT NULL DEFAULT '{30,60,90}'")


def downgrade() -> None:
    op.execute("ALTER TABLE tenants DROP COLUMN expiry_alert_days")
    op.execute("DROP TABLE IF EXISTS reorder_levels")
