"""The chain's own documents for the assistant (SOPs, FAQs, policies): the text of record, under RLS.
The chromadb index is built from these rows and can be rebuilt from them.

Revision ID: 0017_assistant_documents
Revises: 0016_assistant_provider
Create Date: 2026-11-28
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls

revision = "0017_assistant_documents"
down_revision = "0016_assistant_provider"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE assistant_documents (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
            filename text NOT NULL DEFAULT '',
            body text NOT NULL CHECK (length(body) BETWEEN 1 AND 500000),
            snippets integer NOT NULL DEFAULT 0,
            uploaded_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "assistant_documents")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS assistant_documents")
