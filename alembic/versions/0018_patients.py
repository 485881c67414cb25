"""Patients: chain-wide records with a home branch, an append-only access log, and bills linked to a patient.

Revision ID: 0018_patients
Revises: 0017_assistant_documents
Create Date: 2026-11-29
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0018_patients"
down_revision = "0017_assistant_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    # The service normalizes and checks every field first (clear messages); these checks are the floor
    # that holds whatever code path writes.
    op.execute("""
        CREATE TABLE patients (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            full_name text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 120),
            date_of_birth date NOT NULL CHECK (date_of_birth >= DATE '1900-01-01'),
            phone text NOT NULL DEFAULT '' CHECK (phone ~ '^(\\+?[0-9]{6,15})?$'),
            email text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
            address text NOT NULL DEFAULT '' CHECK (length(address) <= 500),
            allergies text NOT NULL DEFAULT '' CHECK (length(allergies) <= 2000),
            notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 4000),
            contact_consent boolean NOT NULL DEFAULT false,
            consent_at timestamptz,
            -- Branch scope: a member limited to some branches sees the patients whose home branch is
            -- one of them (or who bought at one of them, through bills.patient_id).
            home_branch_id uuid NOT NULL,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, home_branch_id) REFERENCES branches (tenant_id, id),
            CHECK (contact_consent = (consent_at IS NOT NULL))
        )""")
    op.execute("CREATE INDEX patients_name_idx ON patients (tenant_id, lower(full_name))")
    op.execute("CREATE INDEX patients_birth_idx ON patients (tenant_id, date_of_birth)")
    op.execute("CREATE INDEX patients_home_branch_idx ON patients (tenant_id, home_branch_id)")
    enable_tenant_rls(op.execute, "patients")
    # Prescriptions will point at these records: a patient is never deleted by the app.
    op.execute(f"REVOKE DELETE ON patients FROM {app}")

    # Who opened, created, changed or searched patient records: evidence, so the app may only append.
    op.execute("""
        CREATE TABLE patient_access_log (
            tenant_id uuid NOT NULL,
            id bigint GENERATED ALWAYS AS IDENTITY,
            patient_id uuid,  -- NULL for a search: one row per search, not per patient listed
            user_id uuid,  -- NULL when an API token without a creator acted
            action text NOT NULL CHECK (action IN ('viewed', 'created', 'updated', 'searched')),
            occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
            CHECK ((action = 'searched') = (patient_id IS NULL))
        )""")
    op.execute("CREATE INDEX patient_access_log_patient_idx ON patient_access_log (tenant_id, patient_id, id)")
    enable_tenant_rls(op.execute, "patient_access_log")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON patient_access_log FROM {app}")

    # A bill sold to a known patient (NULL: a walk-in customer). The composite key keeps it in the chain.
    op.execute("ALTER TABLE bills ADD COLUMN patient_id uuid")
    op.execute(
        "ALTER TABLE bills ADD CONSTRAINT bills_patient_fk "
        "FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id)"
    )
    op.execute(
        "CREATE INDEX bills_patient_idx ON bills (tenant_id, patient_id, branch_id) WHERE patient_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS bills_patient_idx")
    op.execute("ALTER TABLE bills DROP CONSTRAINT IF EXISTS bills_patient_fk")
    op.execute("ALTER TABLE bills DROP COLUMN IF EXISTS patient_id")
    op.execute("DROP TABLE IF EXISTS patient_access_log, patients")
