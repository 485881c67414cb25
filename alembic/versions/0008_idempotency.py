"""Idempotency keys for REST writes: a replay returns the first response and moves nothing twice.

Revision ID: 0008_idempotency
Revises: 0007_inventory_ledger
Create Date: 2026-11-26
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls

revision = "0008_idempotency"
down_revision = "0007_inventory_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE idempotency_keys (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            key text NOT NULL CHECK (length(key) BETWEEN 8 AND 100),
            request_hash text NOT NULL,
            status_code integer NOT NULL,
            response jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, key)
        )""")
    enable_tenant_rls(op.execute, "idempotency_keys")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS idempotency_keys")
