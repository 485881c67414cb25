"""Indexes for finding a bill: a branch's (or the chain's) bills by date, and bill numbers by prefix.

Revision ID: 0025_bills_list
Revises: 0024_branches_reorder
Create Date: 2026-12-05
"""

from alembic import op

revision = "0025_bills_list"
down_revision = "0024_branches_reorder"
branch_labels = None
depends_on = None

_ISSUED_AT = "CASE WHEN finalized_at IS NULL THEN created_at ELSE finalized_at END"


def upgrade() -> None:
    # The bills list pages through a branch's bills newest first, keyset on (date, id). A bill's date
    # is when it was finalized, a draft's when it was opened. It is a CASE rather than coalesce():
    # under row-level security only conditions Postgres knows cannot leak bound an index scan, and
    # coalesce is not on that list. The expression must match backend/billing/bills/search.py exactly.
    op.execute(f"CREATE INDEX bills_list_branch_idx ON bills (tenant_id, branch_id, ({_ISSUED_AT}), id)")
    # The same order over every branch of the chain (the REST list without a branch, a chain-wide
    # owner): without it, the first page would sort every bill the chain ever issued.
    op.execute(f"CREATE INDEX bills_list_chain_idx ON bills (tenant_id, ({_ISSUED_AT}), id)")
    # "Dearest first": the order comes from the index. (An amount range cannot bound the scan under
    # row-level security, numeric comparison not being leakproof; it filters the rows read.)
    op.execute("CREATE INDEX bills_list_amount_idx ON bills (tenant_id, branch_id, total_due, id)")
    # A number typed in part ("B1-2026-0001") is a range in the "C" collation: LIKE cannot use an index
    # under row-level security (its operator is not leakproof) and a range in another collation is not
    # a prefix. bills_number_idx (0013) stays for exact look-ups in the database's own collation.
    op.execute('CREATE INDEX bills_number_prefix_idx ON bills (tenant_id, number COLLATE "C") WHERE number IS NOT NULL')


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS bills_number_prefix_idx")
    op.execute("DROP INDEX IF EXISTS bills_list_amount_idx")
    op.execute("DROP INDEX IF EXISTS bills_list_chain_idx")
    op.execute("DROP INDEX IF EXISTS bills_list_branch_idx")
