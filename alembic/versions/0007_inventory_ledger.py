"""Inventory: catalog, batches with expiry, lot recalls, and the stock ledger.

Revision ID: 0007_inventory_ledger
Revises: 0006_invitation_mail
Create Date: 2026-11-26
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0007_inventory_ledger"
down_revision = "0006_invitation_mail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    op.execute("""
        CREATE TABLE medicines (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            generic_name text NOT NULL CHECK (length(generic_name) BETWEEN 1 AND 200),
            brand_name text NOT NULL DEFAULT '',
            strength text NOT NULL DEFAULT '',
            dosage_form text NOT NULL DEFAULT '',
            pack_size integer NOT NULL DEFAULT 1 CHECK (pack_size > 0),
            dispensing_unit text NOT NULL DEFAULT 'tablet',
            barcode text,
            schedule text NOT NULL DEFAULT 'otc' CHECK (schedule IN ('otc', 'prescription', 'controlled')),
            controlled_class text,
            therapeutic_class text NOT NULL DEFAULT '',
            default_sell_price numeric(14, 4) NOT NULL DEFAULT 0 CHECK (default_sell_price >= 0),
            tax_category text NOT NULL DEFAULT 'standard',
            is_active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id)
        )""")
    op.execute("CREATE UNIQUE INDEX medicines_barcode_key ON medicines (tenant_id, barcode) WHERE barcode IS NOT NULL")
    op.execute("CREATE INDEX medicines_name_idx ON medicines (tenant_id, lower(generic_name), id)")
    enable_tenant_rls(op.execute, "medicines")

    op.execute("""
        CREATE TABLE batches (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            medicine_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            lot_number text NOT NULL CHECK (length(lot_number) BETWEEN 1 AND 60),
            expiry_date date NOT NULL,
            cost_price numeric(14, 4) NOT NULL DEFAULT 0 CHECK (cost_price >= 0),
            supplier_name text NOT NULL DEFAULT '',
            received_at timestamptz NOT NULL DEFAULT now(),
            quantity integer NOT NULL CHECK (quantity >= 0),  -- never below zero, whatever races
            status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'quarantined')),
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, branch_id, medicine_id, lot_number),
            FOREIGN KEY (tenant_id, medicine_id) REFERENCES medicines (tenant_id, id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    op.execute("CREATE INDEX batches_fefo_idx ON batches (tenant_id, branch_id, medicine_id, expiry_date, id)")
    enable_tenant_rls(op.execute, "batches")

    # A recall flags a lot number of a medicine everywhere in the chain at once.
    op.execute("""
        CREATE TABLE lot_recalls (
            tenant_id uuid NOT NULL,
            medicine_id uuid NOT NULL,
            lot_number text NOT NULL,
            reason text NOT NULL,
            recalled_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, medicine_id, lot_number),
            FOREIGN KEY (tenant_id, medicine_id) REFERENCES medicines (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "lot_recalls")

    # The ledger: every change of on-hand is a row; on-hand always equals the sum of the rows.
    op.execute("""
        CREATE TABLE stock_movements (
            tenant_id uuid NOT NULL,
            id bigint GENERATED ALWAYS AS IDENTITY,
            batch_id uuid NOT NULL,
            medicine_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            kind text NOT NULL CHECK (kind IN ('receive', 'dispense', 'adjust', 'transfer_out', 'transfer_in',
                                               'customer_return', 'supplier_return', 'write_off')),
            quantity integer NOT NULL CHECK (quantity <> 0),  -- signed: + into stock, - out of stock
            reason text NOT NULL DEFAULT '',
            reference text NOT NULL DEFAULT '',
            actor_user_id uuid,
            occurred_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, batch_id) REFERENCES batches (tenant_id, id)
        )""")
    op.execute("CREATE INDEX stock_movements_batch_idx ON stock_movements (tenant_id, batch_id)")
    op.execute("CREATE INDEX stock_movements_medicine_idx ON stock_movements (tenant_id, medicine_id, occurred_at)")
    enable_tenant_rls(op.execute, "stock_movements")
    # History is append-only for the app: corrections are new movements.
    op.execute(f"REVOKE UPDATE, DELETE ON stock_movements FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS stock_movements, lot_recalls, batches, medicines")
