"""Structured allergies on the patient record: each allergen matched to an ingredient or an allergy class
(the text kept beside it), and whether the patient was asked ("no known allergies" is a recorded answer,
distinct from "not asked").

Revision ID: 0028_patient_allergies
Revises: 0027_prescriptions
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0028_patient_allergies"
down_revision = "0027_prescriptions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    op.execute(
        "ALTER TABLE patients ADD COLUMN allergy_status text NOT NULL DEFAULT 'not_asked' "
        "CHECK (allergy_status IN ('not_asked', 'none_known', 'recorded'))"
    )
    op.execute("ALTER TABLE patients ADD COLUMN allergies_checked_at timestamptz")
    op.execute("""
        CREATE TABLE patient_allergies (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            patient_id uuid NOT NULL,
            position integer NOT NULL CHECK (position >= 0),  -- the order staff typed them in
            written text NOT NULL CHECK (length(written) BETWEEN 1 AND 200),
            reaction text NOT NULL DEFAULT '' CHECK (length(reaction) <= 200),
            kind text NOT NULL CHECK (kind IN ('class', 'ingredient', 'non_drug', 'unmatched')),
            matched text NOT NULL DEFAULT '' CHECK (length(matched) <= 200),
            recorded_by uuid,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id)
        )""")
    op.execute("CREATE INDEX patient_allergies_patient_idx ON patient_allergies (tenant_id, patient_id)")
    enable_tenant_rls(op.execute, "patient_allergies")
    op.execute(f"REVOKE TRUNCATE ON patient_allergies FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS patient_allergies")
    op.execute("ALTER TABLE patients DROP COLUMN IF EXISTS allergies_checked_at")
    op.execute("ALTER TABLE patients DROP COLUMN IF EXISTS allergy_status")
