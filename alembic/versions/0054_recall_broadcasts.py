"""Recall broadcasts (issue 18 §6): one row per (chain, medicine, lot) whose recall message went out.

"Notify everyone who received this lot" inserts the row with ON CONFLICT DO NOTHING on the unique key, so a
second click, or two members clicking at once, finds the first broadcast and notifies nobody again. The
messages themselves are `notification_messages` rows with the dedupe prefix `recall:<broadcast id>:`.

Revision ID: 0054_recall_broadcasts
Revises: 0050_scheduled_runs
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0054_recall_broadcasts"
down_revision = "0053_push_subscriptions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = f'"{get_settings().APP_DB_ROLE}"'
    op.execute("""
        CREATE TABLE recall_broadcasts (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            medicine_id uuid NOT NULL,
            lot_key text NOT NULL,  -- upper(lot number): the trace compares lot numbers without case
            lot_number text NOT NULL,  -- as the member typed it (shown)
            medicine_label text NOT NULL,
            started_by uuid,  -- the member (the audit event names them too)
            started_at timestamptz NOT NULL DEFAULT now(),
            patients integer NOT NULL DEFAULT 0 CHECK (patients >= 0),  -- patients traced when it started
            patients_written integer NOT NULL DEFAULT 0 CHECK (patients_written >= 0),
            staff_messages integer NOT NULL DEFAULT 0 CHECK (staff_messages >= 0),
            written_at timestamptz,  -- every patient's and staff member's message written
            PRIMARY KEY (tenant_id, id),
            CONSTRAINT recall_broadcasts_once UNIQUE (tenant_id, medicine_id, lot_key),
            FOREIGN KEY (tenant_id, medicine_id) REFERENCES medicines (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "recall_broadcasts")
    op.execute(f"REVOKE DELETE, TRUNCATE ON recall_broadcasts FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS recall_broadcasts")
