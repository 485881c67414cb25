"""Message templates, quiet hours and opt-outs (issue 18 §2).

- `message_templates`: the owner's wording of one kind of patient message, per variant (`minimum`: no
  prescription detail may be named; `detailed`: used only when the chain allows detail for the kind and the
  patient consented). No row: the built-in default of `backend.notifications.disclosure`.
- `notification_settings`: one row per chain: its quiet hours (both NULL: off, the default).
- `notification_optouts`: a patient said "stop" for a channel (email / sms) through the link in a message.
- `notification_optout_codes`: the codes of those links, stored as a SHA-256 hash (the code itself is only in
  the message): a code finds its patient and channel, nothing else.
- `notification_messages.branch_id`: the branch a message is about, whose time zone quiet hours are read in.

Revision ID: 0052_message_templates
Revises: 0050_scheduled_runs
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0052_message_templates"
down_revision = "0051_notification_channels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = f'"{get_settings().APP_DB_ROLE}"'
    op.execute("""
        CREATE TABLE message_templates (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            kind text NOT NULL,
            variant text NOT NULL CHECK (variant IN ('minimum', 'detailed')),
            subject text NOT NULL,
            body text NOT NULL,
            sms text NOT NULL,
            updated_by uuid,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, kind, variant)
        )""")
    op.execute("""
        CREATE TABLE notification_settings (
            tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
            quiet_start time,
            quiet_end time,
            updated_by uuid,
            updated_at timestamptz NOT NULL DEFAULT now(),
            CHECK ((quiet_start IS NULL) = (quiet_end IS NULL)),
            CHECK (quiet_start IS NULL OR quiet_start <> quiet_end)
        )""")
    op.execute("""
        CREATE TABLE notification_optouts (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            patient_id uuid NOT NULL,
            channel text NOT NULL CHECK (channel IN ('email', 'sms')),
            opted_out_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, patient_id, channel),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id)
        )""")
    op.execute("""
        CREATE TABLE notification_optout_codes (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            code_hash text NOT NULL,
            patient_id uuid NOT NULL,
            channel text NOT NULL CHECK (channel IN ('email', 'sms')),
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, code_hash),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id)
        )""")
    op.execute("ALTER TABLE notification_messages ADD COLUMN branch_id uuid")
    for table in ("message_templates", "notification_settings", "notification_optouts", "notification_optout_codes"):
        enable_tenant_rls(op.execute, table)
    for table in ("notification_optouts", "notification_optout_codes"):
        op.execute(f"REVOKE DELETE, TRUNCATE ON {table} FROM {app}")


def downgrade() -> None:
    op.execute("ALTER TABLE notification_messages DROP COLUMN IF EXISTS branch_id")
    for table in ("notification_optout_codes", "notification_optouts", "notification_settings", "message_templates"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
