"""CSV imports of the catalog and opening stock: the uploaded file, its validation report and progress.

The file itself is stored in the database (not a local folder) so any worker can read it.

Revision ID: 0011_catalog_imports
Revises: 0010_purchase_orders
Create Date: 2026-11-28
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls

revision = "0011_catalog_imports"
down_revision = "0010_purchase_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE catalog_imports (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            kind text NOT NULL CHECK (kind IN ('catalog', 'opening_stock')),
            branch_id uuid,
            filename text NOT NULL DEFAULT '',
            content bytea NOT NULL,
            status text NOT NULL DEFAULT 'validated'
                CHECK (status IN ('validated', 'queued', 'importing', 'done', 'failed', 'discarded')),
            total_rows integer NOT NULL DEFAULT 0,
            valid_rows integer NOT NULL DEFAULT 0,
            processed_rows integer NOT NULL DEFAULT 0,
            imported_rows integer NOT NULL DEFAULT 0,
            problems jsonb NOT NULL DEFAULT '[]',
            failure text NOT NULL DEFAULT '',
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "catalog_imports")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS catalog_imports")
