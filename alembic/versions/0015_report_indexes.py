"""An index for the sales reports: a branch's bills by finalized time.

Revision ID: 0015_report_indexes
Revises: 0014_assistant_conversations
Create Date: 2026-11-29
"""

from alembic import op

revision = "0015_report_indexes"
down_revision = "0014_assistant_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A report reads one branch's bills of a local day by finalized time (drafts have none, so the
    # partial index skips them); without it the day is filtered out of every bill the branch has.
    op.execute(
        "CREATE INDEX bills_branch_finalized_idx ON bills (tenant_id, branch_id, finalized_at) "
        "WHERE finalized_at IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS bills_branch_finalized_idx")
