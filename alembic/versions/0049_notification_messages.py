"""Notification messages (issue 18 §3): one row per e-mail or text message a business event sends.

Written in the business transaction (like the outbox), delivered by the `notifications` RQ queue with retries
at growing intervals. The recipient, subject and body are sealed with the chain key (a patient message may
carry health information). `dedupe_key` makes one business event write at most one row.

Revision ID: 0049_notification_messages
Revises: 0048_portal_feedback
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0049_notification_messages"
down_revision = "0048_portal_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = f'"{get_settings().APP_DB_ROLE}"'
    op.execute("""
        CREATE TABLE notification_messages (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            kind text NOT NULL,
            channel text NOT NULL CHECK (channel IN ('email', 'sms')),
            patient_id uuid,
            recipient_enc bytea,  -- NULL when there was no address on file (suppressed)
            recipient_hint text NOT NULL DEFAULT '',  -- masked (j***@example.com, ***0100): what staff see
            subject_enc bytea,
            body_enc bytea,
            status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'suppressed')),
            reason text NOT NULL DEFAULT '',
            attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            dedupe_key text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_attempt_at timestamptz,
            sent_at timestamptz,
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, dedupe_key),  -- one business event, at most one message
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id)
        )""")
    op.execute("CREATE INDEX notification_messages_log ON notification_messages (tenant_id, created_at DESC)")
    op.execute("CREATE INDEX notification_messages_patient ON notification_messages (tenant_id, patient_id)")
    enable_tenant_rls(op.execute, "notification_messages")
    op.execute(f"REVOKE DELETE, TRUNCATE ON notification_messages FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS notification_messages")
