"""Financial audit chain (one hash chain per branch) and electronic signatures, both append-only.

Revision ID: 0020_financial_audit
Revises: 0019_credit_notes
Create Date: 2026-11-29
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0020_financial_audit"
down_revision = "0019_credit_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    settings = get_settings()
    app, platform = settings.APP_DB_ROLE, settings.PLATFORM_DB_ROLE

    # The head of each branch's chain: the writer locks this one row (SELECT ... FOR UPDATE) to take
    # the next seq, so two tills of one branch append one at a time while other branches (other rows)
    # never wait. It is a cache of the last event, not the record: verify checks the events and only
    # uses the head to notice rows cut off the end of a chain.
    op.execute("""
        CREATE TABLE financial_audit_heads (
            tenant_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            last_seq bigint NOT NULL CHECK (last_seq >= 0),
            last_hash text NOT NULL,
            PRIMARY KEY (tenant_id, branch_id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "financial_audit_heads")
    op.execute(f"REVOKE DELETE, TRUNCATE ON financial_audit_heads FROM {app}, {platform}")

    op.execute("""
        CREATE TABLE financial_audit_events (
            tenant_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            seq bigint NOT NULL CHECK (seq > 0),
            occurred_at timestamptz NOT NULL,
            actor_user_id uuid,
            action text NOT NULL CHECK (action ~ '^[a-z_]+\\.[a-z_.]+$'),
            entity_type text NOT NULL,
            entity_id text NOT NULL,
            details jsonb NOT NULL DEFAULT '{}'::jsonb,
            prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
            hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
            PRIMARY KEY (tenant_id, branch_id, seq),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    op.execute(
        "CREATE INDEX financial_audit_events_entity_idx ON financial_audit_events (tenant_id, entity_type, entity_id)"
    )
    enable_tenant_rls(op.execute, "financial_audit_events")
    # Append-only for everyone but the owner role (migrations): an edit would be a forgery.
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON financial_audit_events FROM {app}, {platform}")

    op.execute("""
        CREATE TABLE electronic_signatures (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            user_id uuid NOT NULL REFERENCES users (id),
            signed_at timestamptz NOT NULL,
            meaning text NOT NULL CHECK (length(meaning) BETWEEN 10 AND 500),
            method text NOT NULL CHECK (method IN ('password', 'totp')),
            entity_type text NOT NULL CHECK (length(entity_type) BETWEEN 1 AND 40),
            entity_id text NOT NULL CHECK (length(entity_id) BETWEEN 1 AND 100),
            signed_hash text NOT NULL CHECK (signed_hash ~ '^[0-9a-f]{64}$'),
            PRIMARY KEY (tenant_id, id)
        )""")
    op.execute(
        "CREATE INDEX electronic_signatures_entity_idx ON electronic_signatures (tenant_id, entity_type, entity_id)"
    )
    enable_tenant_rls(op.execute, "electronic_signatures")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON electronic_signatures FROM {app}, {platform}")


def downgrade() -> None:
    for table in ("electronic_signatures", "financial_audit_events", "financial_audit_heads"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
