"""Insurance claims: payers, patients' coverage, one claim per bill and its append-only history.

Revision ID: 0022_insurance_claims
Revises: 0021_card_payments
Create Date: 2026-11-28
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0022_insurance_claims"
down_revision = "0021_card_payments"
branch_labels = None
depends_on = None

_CLAIM_STATUSES = "'draft', 'submitted', 'approved', 'partially_approved', 'rejected', 'paid'"


def upgrade() -> None:
    settings = get_settings()
    app, platform = settings.APP_DB_ROLE, settings.PLATFORM_DB_ROLE

    # An insurer or benefit manager the chain bills; its code is what the insurer calls itself.
    op.execute("""
        CREATE TABLE payers (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
            payer_code text NOT NULL CHECK (length(payer_code) BETWEEN 1 AND 40),
            contact text NOT NULL DEFAULT '' CHECK (length(contact) <= 300),
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id)
        )""")
    op.execute("CREATE UNIQUE INDEX payers_code_key ON payers (tenant_id, lower(payer_code))")
    enable_tenant_rls(op.execute, "payers")
    op.execute(f"REVOKE DELETE, TRUNCATE ON payers FROM {app}")

    # A patient's membership of a payer's plan; claims point at it, so it is ended (active false), never deleted.
    op.execute("""
        CREATE TABLE patient_coverages (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            patient_id uuid NOT NULL,
            payer_id uuid NOT NULL,
            member_id text NOT NULL CHECK (length(member_id) BETWEEN 1 AND 60),
            plan text NOT NULL DEFAULT '' CHECK (length(plan) <= 120),
            group_number text NOT NULL DEFAULT '' CHECK (length(group_number) <= 60),
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
            FOREIGN KEY (tenant_id, payer_id) REFERENCES payers (tenant_id, id)
        )""")
    op.execute("CREATE INDEX patient_coverages_patient_idx ON patient_coverages (tenant_id, patient_id)")
    op.execute("CREATE INDEX patient_coverages_payer_idx ON patient_coverages (tenant_id, payer_id)")
    enable_tenant_rls(op.execute, "patient_coverages")
    op.execute(f"REVOKE DELETE, TRUNCATE ON patient_coverages FROM {app}")

    # One claim per bill: claimed + copay = the bill's amount due (checked by the service, which reads the bill).
    op.execute(f"""
        CREATE TABLE claims (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            bill_id uuid NOT NULL,
            patient_id uuid NOT NULL,
            coverage_id uuid NOT NULL,
            claimed_amount numeric(14, 4) NOT NULL CHECK (claimed_amount > 0),
            copay numeric(14, 4) NOT NULL CHECK (copay >= 0),
            status text NOT NULL DEFAULT 'draft' CHECK (status IN ({_CLAIM_STATUSES})),
            approved_amount numeric(14, 4) CHECK (approved_amount >= 0 AND approved_amount <= claimed_amount),
            paid_amount numeric(14, 4) CHECK (paid_amount > 0 AND paid_amount <= approved_amount),
            rejection_reason text NOT NULL DEFAULT '' CHECK (length(rejection_reason) <= 300),
            submitted_at timestamptz,
            decided_at timestamptz,
            paid_at timestamptz,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, bill_id) REFERENCES bills (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
            FOREIGN KEY (tenant_id, coverage_id) REFERENCES patient_coverages (tenant_id, id),
            CHECK (status <> 'rejected' OR length(rejection_reason) >= 3),
            CHECK (status <> 'paid' OR paid_amount IS NOT NULL)
        )""")
    op.execute("CREATE UNIQUE INDEX claims_bill_key ON claims (tenant_id, bill_id)")
    op.execute("CREATE INDEX claims_status_idx ON claims (tenant_id, status, created_at)")
    op.execute("CREATE INDEX claims_coverage_idx ON claims (tenant_id, coverage_id)")
    op.execute("CREATE INDEX claims_patient_idx ON claims (tenant_id, patient_id)")
    enable_tenant_rls(op.execute, "claims")
    op.execute(f"REVOKE DELETE, TRUNCATE ON claims FROM {app}")

    # Every status change of a claim, who and when: history, so the app may only append.
    op.execute(f"""
        CREATE TABLE claim_events (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            claim_id uuid NOT NULL,
            from_status text CHECK (from_status IN ({_CLAIM_STATUSES})),
            to_status text NOT NULL CHECK (to_status IN ({_CLAIM_STATUSES})),
            amount numeric(14, 4),
            note text NOT NULL DEFAULT '' CHECK (length(note) <= 300),
            actor_user_id uuid,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, claim_id) REFERENCES claims (tenant_id, id)
        )""")
    op.execute("CREATE INDEX claim_events_claim_idx ON claim_events (tenant_id, claim_id, created_at)")
    enable_tenant_rls(op.execute, "claim_events")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON claim_events FROM {app}, {platform}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS claim_events, claims, patient_coverages, payers")
