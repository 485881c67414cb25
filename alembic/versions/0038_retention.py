"""Records retention (issue 16, section 3): how long a chain keeps each kind of record, legal holds, and the
disposal batches the owner approves.

- `retention_settings`: one row per chain (absent = the documented defaults, docs/retention.md), years per
  kind of record; the service refuses a value below the federal minimum, the checks here are the floor.
- `legal_holds`: a hold on one patient's records, or on the whole chain (patient_id NULL), with who placed
  it, when and why; released (never deleted) with who, when and why.
- `disposal_batches` / `disposal_items`: the monthly review lists the patients whose records are past every
  retention period that applies to them and under no hold; the owner approves a batch with an electronic
  signature, and each item records what happened to it (disposed, held since the review, no longer due).

Revision ID: 0038_retention
Revises: 0036_renewals
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0038_retention"
down_revision = "0037_field_encryption"
branch_labels = None
depends_on = None

TABLES = ("disposal_items", "disposal_batches", "legal_holds", "retention_settings")


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    op.execute("""
        CREATE TABLE retention_settings (
            tenant_id uuid NOT NULL PRIMARY KEY,
            prescription_years integer NOT NULL CHECK (prescription_years BETWEEN 2 AND 50),
            controlled_years integer NOT NULL CHECK (controlled_years BETWEEN 2 AND 50),
            claims_years integer NOT NULL CHECK (claims_years BETWEEN 10 AND 50),
            audit_years integer NOT NULL CHECK (audit_years BETWEEN 6 AND 50),
            updated_by uuid,
            updated_at timestamptz NOT NULL DEFAULT now()
        )""")
    enable_tenant_rls(op.execute, "retention_settings")
    op.execute(f"REVOKE DELETE, TRUNCATE ON retention_settings FROM {app}")

    op.execute("""
        CREATE TABLE legal_holds (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            patient_id uuid,  -- NULL: the whole chain
            reason text NOT NULL CHECK (length(reason) BETWEEN 5 AND 500),
            placed_by uuid,
            placed_at timestamptz NOT NULL DEFAULT now(),
            released_by uuid,
            released_at timestamptz,
            release_reason text NOT NULL DEFAULT '' CHECK (length(release_reason) <= 500),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
            CHECK ((released_at IS NULL) = (release_reason = '')),
            CHECK (released_at IS NULL OR length(release_reason) >= 5)
        )""")
    op.execute("CREATE INDEX legal_holds_active_idx ON legal_holds (tenant_id, patient_id) WHERE released_at IS NULL")
    enable_tenant_rls(op.execute, "legal_holds")
    op.execute(f"REVOKE DELETE, TRUNCATE ON legal_holds FROM {app}")

    op.execute("""
        CREATE TABLE disposal_batches (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            status text NOT NULL CHECK (status IN ('awaiting_approval', 'disposed', 'superseded')),
            as_of date NOT NULL,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            approved_by uuid,
            approved_at timestamptz,
            signature_id uuid,
            disposed integer NOT NULL DEFAULT 0 CHECK (disposed >= 0),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, signature_id) REFERENCES electronic_signatures (tenant_id, id),
            CHECK ((status = 'disposed') = (signature_id IS NOT NULL AND approved_at IS NOT NULL))
        )""")
    # One batch waits for the owner at a time: a new review supersedes the last.
    op.execute(
        "CREATE UNIQUE INDEX disposal_batches_waiting_key ON disposal_batches (tenant_id) "
        "WHERE status = 'awaiting_approval'"
    )
    enable_tenant_rls(op.execute, "disposal_batches")
    op.execute(f"REVOKE DELETE, TRUNCATE ON disposal_batches FROM {app}")

    op.execute("""
        CREATE TABLE disposal_items (
            tenant_id uuid NOT NULL,
            batch_id uuid NOT NULL,
            patient_id uuid NOT NULL,
            due_on date NOT NULL,
            basis text NOT NULL CHECK (length(basis) BETWEEN 1 AND 200),
            outcome text CHECK (outcome IN ('disposed', 'held', 'no_longer_due')),
            PRIMARY KEY (tenant_id, batch_id, patient_id),
            FOREIGN KEY (tenant_id, batch_id) REFERENCES disposal_batches (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id)
        )""")
    op.execute(
        "CREATE INDEX disposal_items_disposed_idx ON disposal_items (tenant_id, patient_id) WHERE outcome = 'disposed'"
    )
    enable_tenant_rls(op.execute, "disposal_items")
    op.execute(f"REVOKE DELETE, TRUNCATE ON disposal_items FROM {app}")


def downgrade() -> None:
    op.execute(f"DROP TABLE IF EXISTS {', '.join(TABLES)}")
