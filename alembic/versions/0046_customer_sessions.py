"""Verified customers on the portal (issue 17 §3, §4): one-time codes, customer sessions, the customer in the
patient access log, and the patient's refill-reminder choice.

`customer_codes`: a code asked for by Rx number + date of birth + last name that named a prescription. The row
is written with the request; the outbox job mints the code (at least 6 digits), stores only its keyed hash
(the chain's index key, bound to the row) and e-mails it. It lives 10 minutes and 5 wrong tries void it.
The browser's page holds a random challenge whose hash finds the row (no row for an unmatched request).
`customer_sessions`: a verified customer's own session (never a staff session): one patient of one chain,
30 minutes idle, 2 hours at most; only the token's hash is stored.
`patient_access_log.actor`: 'staff' (a member or token) or 'customer' (the patient on the portal).
`patients.refill_reminders`/`reminder_channel`: the patient's own choice of refill reminders and their channel.

Revision ID: 0046_customer_sessions
Revises: 0045_portal_queue
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0046_customer_sessions"
down_revision = "0045_portal_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = f'"{get_settings().APP_DB_ROLE}"'
    op.execute("""
        CREATE TABLE customer_codes (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            challenge_hash text NOT NULL UNIQUE,
            patient_id uuid NOT NULL,
            prescription_id uuid NOT NULL,
            code_hash bytea,  -- NULL until the job minted and sent it
            attempts int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            sent_at timestamptz,
            used_at timestamptz,
            voided_at timestamptz,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
            FOREIGN KEY (tenant_id, prescription_id) REFERENCES prescriptions (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "customer_codes")
    op.execute(f"REVOKE DELETE, TRUNCATE ON customer_codes FROM {app}")
    op.execute("""
        CREATE TABLE customer_sessions (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            token_hash text NOT NULL UNIQUE,
            patient_id uuid NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            ended_at timestamptz,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id)
        )""")
    op.execute("CREATE INDEX customer_sessions_patient ON customer_sessions (tenant_id, patient_id)")
    enable_tenant_rls(op.execute, "customer_sessions")
    op.execute(f"REVOKE DELETE, TRUNCATE ON customer_sessions FROM {app}")
    op.execute(
        "ALTER TABLE patient_access_log ADD COLUMN actor text NOT NULL DEFAULT 'staff' "
        "CONSTRAINT patient_access_log_actor_check CHECK (actor IN ('staff', 'customer'))"
    )
    # A customer's own consent in the portal has no member who recorded it.
    op.execute("ALTER TABLE patient_message_consents ALTER COLUMN recorded_by DROP NOT NULL")
    op.execute("""
        DO $$ DECLARE c text; BEGIN
            FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'patient_message_consents'::regclass
                AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%withdrawn_by%' LOOP
                EXECUTE format('ALTER TABLE patient_message_consents DROP CONSTRAINT %I', c);
            END LOOP;
        END $$""")
    op.execute(
        "ALTER TABLE patients ADD COLUMN refill_reminders boolean NOT NULL DEFAULT false, "
        "ADD COLUMN reminder_channel text NOT NULL DEFAULT 'email' "
        "CONSTRAINT patients_reminder_channel_check CHECK (reminder_channel IN ('email', 'sms'))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE patients DROP COLUMN IF EXISTS refill_reminders, DROP COLUMN IF EXISTS reminder_channel")
    op.execute("ALTER TABLE patient_access_log DROP COLUMN IF EXISTS actor")
    op.execute("DROP TABLE IF EXISTS customer_sessions, customer_codes")
