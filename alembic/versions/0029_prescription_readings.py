"""Prescription images read by OCR (issue 15): the stored original is the checked, metadata-free page
(up to 20 MB once re-encoded from a 10 MB upload) with a thumbnail for lists, and what OCR read per field
(value, confidence, box) beside what the person confirmed, so the chain can see how often OCR is right.

Revision ID: 0029_prescription_readings
Revises: 0028_patient_allergies
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0029_prescription_readings"
down_revision = "0028_patient_allergies"
branch_labels = None
depends_on = None

STATUSES = "'queued', 'read', 'failed', 'confirmed'"


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    # A 10 MB phone JPEG re-encoded without its metadata can come out larger; 20 MB is the stored ceiling.
    op.execute("ALTER TABLE prescription_images DROP CONSTRAINT IF EXISTS prescription_images_data_check")
    op.execute(
        "ALTER TABLE prescription_images ADD CONSTRAINT prescription_images_data_check "
        "CHECK (length(data) BETWEEN 1 AND 20971520)"
    )
    op.execute("ALTER TABLE prescription_images ADD COLUMN thumbnail bytea CHECK (length(thumbnail) <= 1048576)")
    # The first page as PNG when the original is a PDF (the confirm screen shows it and boxes refer to it).
    op.execute("ALTER TABLE prescription_images ADD COLUMN preview bytea CHECK (length(preview) <= 20971520)")
    op.execute("ALTER TABLE prescription_images ADD COLUMN width integer CHECK (width > 0)")
    op.execute("ALTER TABLE prescription_images ADD COLUMN height integer CHECK (height > 0)")
    op.execute("ALTER TABLE prescription_images ADD COLUMN pages integer NOT NULL DEFAULT 1 CHECK (pages >= 1)")

    # One OCR reading per prescription original: queued by the upload, written by the `ocr` job,
    # confirmed by a person. No delete: it is the record of what the machine read.
    op.execute(f"""
        CREATE TABLE prescription_readings (
            tenant_id uuid NOT NULL,
            prescription_id uuid NOT NULL,
            status text NOT NULL DEFAULT 'queued' CHECK (status IN ({STATUSES})),
            job_id uuid,
            engine text NOT NULL DEFAULT '' CHECK (length(engine) <= 40),
            seconds numeric(8, 3),
            error text NOT NULL DEFAULT '' CHECK (length(error) <= 500),
            queued_at timestamptz NOT NULL DEFAULT now(),
            read_at timestamptz,
            confirmed_at timestamptz,
            confirmed_by uuid,
            PRIMARY KEY (tenant_id, prescription_id),
            FOREIGN KEY (tenant_id, prescription_id) REFERENCES prescriptions (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "prescription_readings")
    op.execute(f"REVOKE DELETE, TRUNCATE ON prescription_readings FROM {app}")

    op.execute("""
        CREATE TABLE prescription_reading_fields (
            tenant_id uuid NOT NULL,
            prescription_id uuid NOT NULL,
            field text NOT NULL CHECK (length(field) BETWEEN 1 AND 40),
            value text CHECK (length(value) <= 500),
            confidence numeric(4, 3) NOT NULL CHECK (confidence BETWEEN 0 AND 1),
            page integer CHECK (page >= 0),
            box_left integer,
            box_top integer,
            box_right integer,
            box_bottom integer,
            confirmed_value text CHECK (length(confirmed_value) <= 500),
            corrected boolean,
            PRIMARY KEY (tenant_id, prescription_id, field),
            FOREIGN KEY (tenant_id, prescription_id) REFERENCES prescription_readings (tenant_id, prescription_id)
        )""")
    enable_tenant_rls(op.execute, "prescription_reading_fields")
    op.execute(f"REVOKE DELETE, TRUNCATE ON prescription_reading_fields FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS prescription_reading_fields, prescription_readings")
    for column in ("pages", "height", "width", "preview", "thumbnail"):
        op.execute(f"ALTER TABLE prescription_images DROP COLUMN IF EXISTS {column}")
    op.execute("ALTER TABLE prescription_images DROP CONSTRAINT IF EXISTS prescription_images_data_check")
    op.execute(
        "ALTER TABLE prescription_images ADD CONSTRAINT prescription_images_data_check "
        "CHECK (length(data) BETWEEN 1 AND 5242880)"
    )
