"""The "64 lowercase hex digits" checks on hashes, written so PostgreSQL checks them quickly.

`hash ~ '^[0-9a-f]{64}$'` makes PostgreSQL's regex engine expand the bounded repetition, about 22 us a
row here; `length(hash) = 64 AND hash !~ '[^0-9a-f]'` says the same in about 2 us. Two such checks
are most of what an insert into financial_audit_events costs: every sale pays it twice (finalize,
payment), and the demo seed's 255,000 events spent 11 s of its database time in them. The meaning is
unchanged (exactly 64 characters, each 0-9 or a-f); existing rows are validated again.

Revision ID: 0026_hash_checks
Revises: 0025_bills_list
"""

from alembic import op

revision = "0026_hash_checks"
down_revision = "0025_bills_list"
branch_labels = None
depends_on = None

# (table, column, constraint) of every "64 lowercase hex" check
CHECKS = (
    ("financial_audit_events", "hash", "financial_audit_events_hash_check"),
    ("financial_audit_events", "prev_hash", "financial_audit_events_prev_hash_check"),
    ("electronic_signatures", "signed_hash", "electronic_signatures_signed_hash_check"),
)


def _replace(expression: str) -> None:
    for table, column, name in CHECKS:
        check = expression.format(column=column)
        # NOT VALID then VALIDATE: the scan of existing rows does not hold the table's exclusive lock.
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}, ADD CONSTRAINT {name} CHECK ({check}) NOT VALID")
        op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")


def upgrade() -> None:
    _replace("length({column}) = 64 AND {column} !~ '[^0-9a-f]'")


def downgrade() -> None:
    _replace("{column} ~ '^[0-9a-f]{{64}}$'")
