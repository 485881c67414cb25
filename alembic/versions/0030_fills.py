"""Prescriptions, part 2 (fill, label, final check): the fills of a verified prescription, the lots each
fill was taken from, the pharmacist's final check of each fill, and the prescription's "filled" (waiting
for the final check) and "ready_for_pickup" states.

A fill is a dispensing of the prescription: the original or a refill (`dispensing` 0, 1, ...), taken
whole or in parts when the shelf is short (each part a fill row; what is still owed after it is
`owed_after`). Stock moves only through inventory's dispense, whose movement's reference names the fill.

Revision ID: 0030_fills
Revises: 0029_prescription_readings
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0030_fills"
down_revision = "0029_prescription_readings"
branch_labels = None
depends_on = None

OLD = "'intake', 'data_entry', 'verification', 'fill', 'on_hold', 'waiting_prescriber', 'cancelled', 'expired'"
NEW = OLD + ", 'filled', 'ready_for_pickup'"


def _statuses(allowed: str) -> None:
    op.execute("ALTER TABLE prescriptions DROP CONSTRAINT prescriptions_status_check")
    op.execute(f"ALTER TABLE prescriptions ADD CONSTRAINT prescriptions_status_check CHECK (status IN ({allowed}))")
    for column in ("from_status", "to_status"):
        name = f"prescription_events_{column}_check"
        op.execute(f"ALTER TABLE prescription_events DROP CONSTRAINT {name}")
        op.execute(f"ALTER TABLE prescription_events ADD CONSTRAINT {name} CHECK ({column} IN ({allowed}))")


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    _statuses(NEW)
    # A filled or checked prescription was verified, like one ready to fill.
    op.execute(
        "ALTER TABLE prescriptions ADD CONSTRAINT prescriptions_filled_verified_check "
        "CHECK (status NOT IN ('filled', 'ready_for_pickup') OR verified_at IS NOT NULL)"
    )

    op.execute("""
        CREATE TABLE prescription_fills (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            prescription_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            medicine_id uuid NOT NULL,
            code text NOT NULL CHECK (code ~ '^[A-Z0-9-]{3,40}$'),  -- the label's barcode (Code 39)
            dispensing integer NOT NULL CHECK (dispensing >= 0),   -- 0 the original, n the nth refill
            part integer NOT NULL CHECK (part >= 1),               -- 1, then each completion of a partial fill
            quantity integer NOT NULL CHECK (quantity > 0),        -- taken now
            prescribed integer NOT NULL CHECK (prescribed > 0),    -- the whole dispensing
            owed_after integer NOT NULL CHECK (owed_after >= 0 AND owed_after < prescribed),
            -- a CII's remainder must be supplied within 72 hours (21 CFR 1306.13(a)), else it is forfeited
            remainder_due_by timestamptz,
            status text NOT NULL CHECK (status IN ('awaiting_check', 'checked', 'picked_up', 'returned')),
            discard_after date NOT NULL,
            filled_by uuid,
            filled_at timestamptz NOT NULL DEFAULT now(),
            -- the pharmacist's final check: the stock bottle's barcode scanned against the fill's product
            checked_by uuid,
            checked_at timestamptz,
            scanned_barcode text CHECK (scanned_barcode ~ '^[0-9]{8,14}$'),
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, code),
            UNIQUE (tenant_id, prescription_id, dispensing, part),
            FOREIGN KEY (tenant_id, prescription_id) REFERENCES prescriptions (tenant_id, id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id),
            FOREIGN KEY (tenant_id, medicine_id) REFERENCES medicines (tenant_id, id),
            CHECK (quantity + owed_after <= prescribed),
            CHECK (status <> 'checked' OR (checked_at IS NOT NULL AND scanned_barcode IS NOT NULL))
        )""")
    op.execute(
        "CREATE INDEX prescription_fills_rx_idx ON prescription_fills (tenant_id, prescription_id, dispensing, part)"
    )
    # Remainders still owed at a branch.
    op.execute(
        "CREATE INDEX prescription_fills_owed_idx ON prescription_fills (tenant_id, branch_id, filled_at) "
        "WHERE owed_after > 0"
    )
    enable_tenant_rls(op.execute, "prescription_fills")
    op.execute(f"REVOKE DELETE, TRUNCATE ON prescription_fills FROM {app}")

    # The lots a fill was taken from, as inventory's FEFO pick reported them (the recall trace reads this).
    op.execute("""
        CREATE TABLE prescription_fill_lots (
            tenant_id uuid NOT NULL,
            fill_id uuid NOT NULL,
            batch_id uuid NOT NULL,
            lot_number text NOT NULL,
            expiry_date date NOT NULL,
            quantity integer NOT NULL CHECK (quantity > 0),
            PRIMARY KEY (tenant_id, fill_id, batch_id),
            FOREIGN KEY (tenant_id, fill_id) REFERENCES prescription_fills (tenant_id, id),
            FOREIGN KEY (tenant_id, batch_id) REFERENCES batches (tenant_id, id)
        )""")
    op.execute("CREATE INDEX prescription_fill_lots_batch_idx ON prescription_fill_lots (tenant_id, batch_id)")
    enable_tenant_rls(op.execute, "prescription_fill_lots")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON prescription_fill_lots FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS prescription_fill_lots")
    op.execute("DROP TABLE IF EXISTS prescription_fills")
    op.execute("UPDATE prescriptions SET status = 'fill' WHERE status IN ('filled', 'ready_for_pickup')")
    for column in ("from_status", "to_status"):
        op.execute(f"UPDATE prescription_events SET {column} = 'fill' WHERE {column} IN ('filled', 'ready_for_pickup')")
    op.execute("ALTER TABLE prescriptions DROP CONSTRAINT IF EXISTS prescriptions_filled_verified_check")
    _statuses(OLD)
