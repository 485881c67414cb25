"""A chain's own notification channels (issue 18 §1): its SMTP server, SMS provider and webhook.

One row per (chain, channel). `mode` says whose provider the channel uses: the platform's (MAIL_URL /
SMS_URL), the chain's own, or none (off). `config` keeps what is not secret (SMTP host, port, security, user
name and sender; the webhook URL) and is shown on the page; `secret_enc` keeps the secret (the SMTP
password, the whole SMS provider URL, which carries its credentials, or the webhook signing secret) sealed
with the chain key (AAD: table, column, row id), never shown again: the page shows `secret_hint`.

Webhook events travel as notification_messages rows, so their channel check grows 'webhook'.

Revision ID: 0051_notification_channels
Revises: 0050_scheduled_runs
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0051_notification_channels"
down_revision = "0050_scheduled_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = f'"{get_settings().APP_DB_ROLE}"'
    op.execute("""
        CREATE TABLE notification_channels (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            channel text NOT NULL CHECK (channel IN ('email', 'sms', 'webhook')),
            mode text NOT NULL CHECK (mode IN ('platform', 'own', 'off')),
            config jsonb NOT NULL DEFAULT '{}'::jsonb,
            secret_enc bytea,
            secret_hint text NOT NULL DEFAULT '',
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by uuid,
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, channel)
        )""")
    enable_tenant_rls(op.execute, "notification_channels")
    op.execute(f"REVOKE TRUNCATE ON notification_channels FROM {app}")
    op.execute("ALTER TABLE notification_messages DROP CONSTRAINT notification_messages_channel_check")
    op.execute(
        "ALTER TABLE notification_messages ADD CONSTRAINT notification_messages_channel_check "
        "CHECK (channel IN ('email', 'sms', 'webhook'))"
    )


def downgrade() -> None:
    op.execute("DELETE FROM notification_messages WHERE channel = 'webhook'")
    op.execute("ALTER TABLE notification_messages DROP CONSTRAINT notification_messages_channel_check")
    op.execute(
        "ALTER TABLE notification_messages ADD CONSTRAINT notification_messages_channel_check "
        "CHECK (channel IN ('email', 'sms'))"
    )
    op.execute("DROP TABLE IF EXISTS notification_channels")
