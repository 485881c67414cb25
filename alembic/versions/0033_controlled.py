"""Controlled substances (issue 14, section 5): the branch's DEA registration for reports, the biennial
inventory (count sheet, counts, explanations, the pharmacist's signature), CII orders with their DEA Form
222 or CSOS number and the receipts against them, and theft-or-loss reports (DEA Form 106).

The register itself has no table: it is read from the inventory ledger (`stock_movements`), so its
balance is the ledger's by construction. Stock moves only through inventory's services (receive,
correct); these tables record what the regulations ask on top of the movement.

Revision ID: 0033_controlled
Revises: 0032_refills
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0033_controlled"
down_revision = "0032_refills"
branch_labels = None
depends_on = None

TABLES = (
    "controlled_loss_lines",
    "controlled_loss_reports",
    "cii_order_receipts",
    "cii_order_lines",
    "cii_orders",
    "controlled_inventory_lines",
    "controlled_inventories",
    "controlled_registrations",
)


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    # What a PMP file and a Form 106 name the pharmacy by (branches carry no DEA number or NPI).
    op.execute("""
        CREATE TABLE controlled_registrations (
            tenant_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            dea_number text NOT NULL CHECK (dea_number ~ '^[A-Z][A-Z9][0-9]{7}$'),
            npi text NOT NULL CHECK (npi ~ '^[0-9]{10}$'),
            ncpdp text NOT NULL DEFAULT '' CHECK (ncpdp ~ '^([0-9]{7})?$'),
            state text NOT NULL CHECK (state ~ '^[A-Z]{2}$'),
            updated_by uuid,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, branch_id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "controlled_registrations")
    op.execute(f"REVOKE DELETE, TRUNCATE ON controlled_registrations FROM {app}")

    op.execute("""
        CREATE TABLE controlled_inventories (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            branch_id uuid NOT NULL,
            taken_at text NOT NULL CHECK (taken_at IN ('opening', 'close')),  -- of business (21 CFR 1304.11(a))
            status text NOT NULL CHECK (status IN ('counting', 'signed')),
            started_by uuid,
            started_at timestamptz NOT NULL DEFAULT now(),
            signed_by uuid,
            signature_id uuid,
            signed_at timestamptz,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id),
            FOREIGN KEY (tenant_id, signature_id) REFERENCES electronic_signatures (tenant_id, id),
            CHECK ((status = 'signed') = (signature_id IS NOT NULL AND signed_at IS NOT NULL))
        )""")
    # One count in progress per branch.
    op.execute(
        "CREATE UNIQUE INDEX controlled_inventories_counting_key ON controlled_inventories (tenant_id, branch_id) "
        "WHERE status = 'counting'"
    )
    enable_tenant_rls(op.execute, "controlled_inventories")
    op.execute(f"REVOKE DELETE, TRUNCATE ON controlled_inventories FROM {app}")
    op.execute("""
        CREATE TABLE controlled_inventory_lines (
            tenant_id uuid NOT NULL,
            inventory_id uuid NOT NULL,
            medicine_id uuid NOT NULL,
            controlled_class text NOT NULL CHECK (controlled_class IN ('CII', 'CIII', 'CIV', 'CV')),
            expected integer NOT NULL,                    -- on hand by the ledger when the sheet was made
            counted integer CHECK (counted >= 0),
            estimated boolean NOT NULL DEFAULT false,     -- CIII-CV only, never over 1,000 units
            explanation text NOT NULL DEFAULT '' CHECK (length(explanation) <= 500),
            PRIMARY KEY (tenant_id, inventory_id, medicine_id),
            FOREIGN KEY (tenant_id, inventory_id) REFERENCES controlled_inventories (tenant_id, id),
            FOREIGN KEY (tenant_id, medicine_id) REFERENCES medicines (tenant_id, id),
            CHECK (NOT estimated OR (controlled_class <> 'CII' AND counted <= 1000))
        )""")
    enable_tenant_rls(op.execute, "controlled_inventory_lines")
    op.execute(f"REVOKE DELETE, TRUNCATE ON controlled_inventory_lines FROM {app}")
    # A signed inventory is a record for the DEA: whatever code path tries, it cannot change.
    op.execute("""
        CREATE FUNCTION controlled_inventory_signed_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_TABLE_NAME = 'controlled_inventories' THEN
                IF OLD.status = 'signed' THEN
                    RAISE EXCEPTION 'inventory % is signed and cannot change', OLD.id USING ERRCODE = 'check_violation';
                END IF;
            ELSIF EXISTS (SELECT 1 FROM controlled_inventories i WHERE i.tenant_id = NEW.tenant_id
                          AND i.id = NEW.inventory_id AND i.status = 'signed') THEN
                RAISE EXCEPTION 'inventory % is signed; its lines cannot change', NEW.inventory_id
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$""")
    for table in ("controlled_inventories", "controlled_inventory_lines"):
        op.execute(
            f"CREATE TRIGGER {table}_signed_is_final BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION controlled_inventory_signed_is_final()"
        )

    op.execute("""
        CREATE TABLE cii_orders (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            branch_id uuid NOT NULL,
            form text NOT NULL CHECK (form IN ('dea_222', 'csos')),
            order_number text NOT NULL CHECK (order_number ~ '^[A-Z0-9-]{4,40}$'),
            supplier text NOT NULL CHECK (length(supplier) BETWEEN 1 AND 120),
            ordered_on date NOT NULL,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, form, order_number),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "cii_orders")
    op.execute(f"REVOKE DELETE, TRUNCATE ON cii_orders FROM {app}")
    op.execute("""
        CREATE TABLE cii_order_lines (
            tenant_id uuid NOT NULL,
            order_id uuid NOT NULL,
            medicine_id uuid NOT NULL,
            ordered integer NOT NULL CHECK (ordered > 0),
            PRIMARY KEY (tenant_id, order_id, medicine_id),
            FOREIGN KEY (tenant_id, order_id) REFERENCES cii_orders (tenant_id, id),
            FOREIGN KEY (tenant_id, medicine_id) REFERENCES medicines (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "cii_order_lines")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON cii_order_lines FROM {app}")
    op.execute("""
        CREATE TABLE cii_order_receipts (
            tenant_id uuid NOT NULL,
            id bigint GENERATED ALWAYS AS IDENTITY,
            order_id uuid NOT NULL,
            medicine_id uuid NOT NULL,
            batch_id uuid NOT NULL,
            quantity integer NOT NULL CHECK (quantity > 0),
            received_by uuid,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, order_id, medicine_id)
                REFERENCES cii_order_lines (tenant_id, order_id, medicine_id),
            FOREIGN KEY (tenant_id, batch_id) REFERENCES batches (tenant_id, id)
        )""")
    op.execute("CREATE INDEX cii_order_receipts_order_idx ON cii_order_receipts (tenant_id, order_id)")
    enable_tenant_rls(op.execute, "cii_order_receipts")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON cii_order_receipts FROM {app}")

    op.execute("""
        CREATE TABLE controlled_loss_reports (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            branch_id uuid NOT NULL,
            number text NOT NULL CHECK (length(number) BETWEEN 1 AND 40),
            discovered_on date NOT NULL,
            loss_type text NOT NULL CHECK (loss_type IN ('night_break_in', 'armed_robbery', 'employee_pilferage',
                                                         'customer_theft', 'lost_in_transit', 'other')),
            details text NOT NULL CHECK (length(details) BETWEEN 5 AND 2000),
            police_notified boolean NOT NULL DEFAULT false,
            police_report text NOT NULL DEFAULT '' CHECK (length(police_report) <= 120),
            reported_by uuid,
            reported_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, number),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "controlled_loss_reports")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON controlled_loss_reports FROM {app}")
    op.execute("""
        CREATE TABLE controlled_loss_lines (
            tenant_id uuid NOT NULL,
            report_id uuid NOT NULL,
            batch_id uuid NOT NULL,
            medicine_id uuid NOT NULL,
            quantity integer NOT NULL CHECK (quantity > 0),
            PRIMARY KEY (tenant_id, report_id, batch_id),
            FOREIGN KEY (tenant_id, report_id) REFERENCES controlled_loss_reports (tenant_id, id),
            FOREIGN KEY (tenant_id, batch_id) REFERENCES batches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "controlled_loss_lines")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON controlled_loss_lines FROM {app}")


def downgrade() -> None:
    op.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)}")
    op.execute("DROP FUNCTION IF EXISTS controlled_inventory_signed_is_final()")
