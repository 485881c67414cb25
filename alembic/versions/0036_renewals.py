"""Renewal answers (issue 14, part 2 gaps): the prescriber's answer to a renewal request.

Approved: the new prescription written for it (`renewed_as`), with the quantity and refills the prescriber
authorised on it. Denied: the prescriber's reason, shown on the old prescription. Who recorded the answer
(a pharmacist) and when (`decided_at`, already there).

Revision ID: 0036_renewals
Revises: 0035_emergency_supply
"""

from alembic import op

revision = "0036_renewals"
down_revision = "0035_emergency_supply"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE prescription_renewals ADD COLUMN renewed_as uuid, "
        "ADD COLUMN answer_reason text NOT NULL DEFAULT '' CHECK (length(answer_reason) <= 500), "
        "ADD COLUMN answered_by uuid, "
        "ADD CONSTRAINT prescription_renewals_renewed_as_fkey FOREIGN KEY (tenant_id, renewed_as) "
        "REFERENCES prescriptions (tenant_id, id), "
        "ADD CONSTRAINT prescription_renewals_answer_check CHECK ("
        "(status <> 'approved' OR renewed_as IS NOT NULL) AND (status <> 'denied' OR length(answer_reason) >= 5))"
    )
    op.execute(
        "CREATE INDEX prescription_renewals_renewed_as_idx ON prescription_renewals (tenant_id, renewed_as) "
        "WHERE renewed_as IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS prescription_renewals_renewed_as_idx")
    op.execute(
        "ALTER TABLE prescription_renewals DROP CONSTRAINT IF EXISTS prescription_renewals_answer_check, "
        "DROP COLUMN IF EXISTS answered_by, DROP COLUMN IF EXISTS answer_reason, DROP COLUMN IF EXISTS renewed_as"
    )
