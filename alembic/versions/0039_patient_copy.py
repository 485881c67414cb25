"""A patient's own copy (issue 16, section 4): the requests for it and their delivery.

HIPAA's right of access (45 CFR 164.524) gives a covered entity 30 days from the request to act on it:
`due_on` is the day the copy must be delivered by. A request records who asked (the patient or their
personal representative) and when; producing the copy (PDF and JSON of everything the chain holds about
the patient) and delivering it (handed over, e-mailed, posted) record who did it and when. The contents
are never stored here: they are made again from the records each time.

Revision ID: 0039_patient_copy
Revises: 0036_renewals
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0039_patient_copy"
down_revision = "0038_retention"
branch_labels = None
depends_on = None

ACCESS_DAYS = 30  # 45 CFR 164.524(b)(2)


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    op.execute(f"""
        CREATE TABLE patient_copy_requests (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            patient_id uuid NOT NULL,
            asked_by text NOT NULL CHECK (asked_by IN ('patient', 'representative')),
            requested_on date NOT NULL,
            due_on date GENERATED ALWAYS AS (requested_on + {ACCESS_DAYS}) STORED,
            note text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
            status text NOT NULL CHECK (status IN ('requested', 'produced', 'delivered')),
            recorded_by uuid,
            recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),  -- not the transaction start: orders requests
            produced_by uuid,
            produced_at timestamptz,
            delivery_method text CHECK (delivery_method IN ('handed_over', 'emailed', 'posted')),
            delivery_note text NOT NULL DEFAULT '' CHECK (length(delivery_note) <= 500),
            delivered_by uuid,
            delivered_at timestamptz,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
            CHECK ((status = 'requested') = (produced_at IS NULL)),
            CHECK ((status = 'delivered') = (delivered_at IS NOT NULL AND delivery_method IS NOT NULL))
        )""")
    op.execute(
        "CREATE INDEX patient_copy_requests_patient_idx ON patient_copy_requests (tenant_id, patient_id, recorded_at)"
    )
    enable_tenant_rls(op.execute, "patient_copy_requests")
    # A request and its delivery are evidence that the right of access was honoured: never deleted.
    op.execute(f"REVOKE DELETE, TRUNCATE ON patient_copy_requests FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS patient_copy_requests")
