"""The assistant's conversations: private to the member who had them (RLS by tenant and user), and
answer feedback kept for the chain's review.

Revision ID: 0014_assistant_conversations
Revises: 0013_billing
Create Date: 2026-11-28
"""

from alembic import op

from backend.core.migration_helpers import CURRENT_USER_ID, enable_tenant_rls

revision = "0014_assistant_conversations"
down_revision = "0013_billing"
branch_labels = None
depends_on = None


def _only_its_member(table: str) -> None:
    # On top of the tenant policy (both must pass): another member of the same chain sees nothing.
    op.execute(
        f"CREATE POLICY own_rows ON {table} AS RESTRICTIVE "
        f"USING (user_id = {CURRENT_USER_ID}) WITH CHECK (user_id = {CURRENT_USER_ID})"
    )


def upgrade() -> None:
    op.execute("""
        CREATE TABLE assistant_conversations (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            user_id uuid NOT NULL,
            title text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id)
        )""")
    op.execute("CREATE INDEX assistant_conversations_user ON assistant_conversations (tenant_id, user_id, updated_at)")
    enable_tenant_rls(op.execute, "assistant_conversations")
    _only_its_member("assistant_conversations")

    op.execute("""
        CREATE TABLE assistant_messages (
            tenant_id uuid NOT NULL,
            id bigint GENERATED ALWAYS AS IDENTITY,
            conversation_id uuid NOT NULL,
            user_id uuid NOT NULL,
            author text NOT NULL CHECK (author IN ('member', 'assistant')),
            body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
            tools_used jsonb NOT NULL DEFAULT '[]',
            sources jsonb NOT NULL DEFAULT '[]',
            engine text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, conversation_id) REFERENCES assistant_conversations (tenant_id, id)
                ON DELETE CASCADE
        )""")
    op.execute("CREATE INDEX assistant_messages_thread ON assistant_messages (tenant_id, conversation_id, id)")
    enable_tenant_rls(op.execute, "assistant_messages")
    _only_its_member("assistant_messages")

    # Feedback copies the question and answer it rates: the chain reviews it without opening anyone's chats.
    op.execute("""
        CREATE TABLE assistant_feedback (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            message_id bigint NOT NULL,
            user_id uuid NOT NULL,
            helpful boolean NOT NULL,
            comment text NOT NULL DEFAULT '' CHECK (length(comment) <= 1000),
            question text NOT NULL DEFAULT '',
            answer text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, message_id, user_id)
        )""")
    enable_tenant_rls(op.execute, "assistant_feedback")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS assistant_feedback, assistant_messages, assistant_conversations")
