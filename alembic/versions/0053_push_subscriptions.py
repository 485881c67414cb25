"""Web push subscriptions (issue 18 §5): a staff member's or a portal customer's browser that opted into push.

One row per browser subscription, for exactly one user (staff) or one patient (a verified portal customer),
under RLS like every tenant table. The push service's endpoint and the browser's keys are sealed with the
chain key (the endpoint is a capability: whoever holds it with the keys can message that device);
`endpoint_hash` (SHA-256) keeps one row per endpoint per chain. Rows are deleted when the browser
unsubscribes or the push service answers 404/410. `notification_messages` accepts the channel 'push'.

Revision ID: 0053_push_subscriptions
Revises: 0050_scheduled_runs
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls

revision = "0053_push_subscriptions"
down_revision = "0052_message_templates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE push_subscriptions (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            user_id uuid REFERENCES users (id),
            patient_id uuid,
            endpoint_hash text NOT NULL,
            endpoint_enc bytea NOT NULL,
            p256dh_enc bytea NOT NULL,
            auth_enc bytea NOT NULL,
            device text NOT NULL DEFAULT '',  -- "Chrome on Android": what the person sees in their list
            created_at timestamptz NOT NULL DEFAULT now(),
            last_used_at timestamptz,
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, endpoint_hash),
            CHECK ((user_id IS NULL) <> (patient_id IS NULL)),  -- a staff member's or a patient's, never both
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id)
        )""")
    op.execute("CREATE INDEX push_subscriptions_user ON push_subscriptions (tenant_id, user_id)")
    op.execute("CREATE INDEX push_subscriptions_patient ON push_subscriptions (tenant_id, patient_id)")
    enable_tenant_rls(op.execute, "push_subscriptions")
    op.execute("ALTER TABLE notification_messages DROP CONSTRAINT IF EXISTS notification_messages_channel_check")
    op.execute(
        "ALTER TABLE notification_messages ADD CONSTRAINT notification_messages_channel_check "
        "CHECK (channel IN ('email', 'sms', 'webhook', 'push'))"
    )


def downgrade() -> None:
    op.execute("DELETE FROM notification_messages WHERE channel = 'push'")
    op.execute("ALTER TABLE notification_messages DROP CONSTRAINT IF EXISTS notification_messages_channel_check")
    op.execute(
        "ALTER TABLE notification_messages ADD CONSTRAINT notification_messages_channel_check "
        "CHECK (channel IN ('email', 'sms', 'webhook'))"
    )
    op.execute("DROP TABLE IF EXISTS push_subscriptions")
