"""The minimum necessary in patient messages (issue 16, part 2).

`message_disclosure`: per chain and message kind, whether a message may name the medicine (and the Rx
number); no row means the default, which names nothing but the branch. `patient_message_consents`: a
patient's consent to detailed messages, who recorded it, when and how it was given, and its withdrawal.
A chain's setting alone never adds detail: both must say yes.

Revision ID: 0040_message_disclosure
Revises: 0036_renewals
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0040_message_disclosure"
down_revision = "0039_patient_copy"
branch_labels = None
depends_on = None

CHANNELS = "'in_person', 'phone', 'written', 'portal'"


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    op.execute("""
        CREATE TABLE message_disclosure (
            tenant_id uuid NOT NULL,
            kind text NOT NULL CHECK (kind ~ '^[a-z_]{3,40}$'),
            allow_medicine boolean NOT NULL DEFAULT false,
            updated_by uuid,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, kind)
        )""")
    enable_tenant_rls(op.execute, "message_disclosure")
    op.execute(f"REVOKE DELETE, TRUNCATE ON message_disclosure FROM {app}")

    op.execute(f"""
        CREATE TABLE patient_message_consents (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            patient_id uuid NOT NULL,
            channel text NOT NULL CHECK (channel IN ({CHANNELS})),
            recorded_by uuid NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            withdrawn_at timestamptz,
            withdrawn_by uuid,
            withdrawn_channel text CHECK (withdrawn_channel IN ({CHANNELS})),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
            CHECK ((withdrawn_at IS NULL) = (withdrawn_by IS NULL)),
            CHECK ((withdrawn_at IS NULL) = (withdrawn_channel IS NULL))
        )""")
    # At most one consent in force per patient; withdrawn ones stay as the history.
    op.execute(
        "CREATE UNIQUE INDEX patient_message_consents_current_key ON patient_message_consents "
        "(tenant_id, patient_id) WHERE withdrawn_at IS NULL"
    )
    enable_tenant_rls(op.execute, "patient_message_consents")
    op.execute(f"REVOKE DELETE, TRUNCATE ON patient_message_consents FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS patient_message_consents")
    op.execute("DROP TABLE IF EXISTS message_disclosure")
