"""Recall trace (issue 14, section 6): the patient access log says why a record was seen.

A recall trace lists every patient who received a lot; each one listed is written to the patient
access log as 'viewed' with the reason "recall trace", and the assistant's medication list as
"assistant: medication list", so the owner reading the log knows which look-up showed the record.
Existing rows keep an empty reason (an ordinary opening of the record).

Revision ID: 0034_recall
Revises: 0033_controlled
"""

from alembic import op

revision = "0034_recall"
down_revision = "0033_controlled"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE patient_access_log ADD COLUMN reason text NOT NULL DEFAULT '' "
        "CONSTRAINT patient_access_log_reason_check CHECK (length(reason) <= 100)"
    )
    # The trace finds a lot's batches by its number (then fills and bills by batch, both indexed).
    op.execute("CREATE INDEX batches_lot_idx ON batches (tenant_id, lot_number)")
    op.execute("CREATE INDEX bill_picks_batch_idx ON bill_picks (tenant_id, batch_id)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS bill_picks_batch_idx")
    op.execute("DROP INDEX IF EXISTS batches_lot_idx")
    op.execute("ALTER TABLE patient_access_log DROP COLUMN IF EXISTS reason")
