"""Indexes for catalog search at scale: on-hand of a page of medicines without reading every batch.

Revision ID: 0012_search_indexes
Revises: 0011_catalog_imports
Create Date: 2026-11-28
"""

from alembic import op

revision = "0012_search_indexes"
down_revision = "0011_catalog_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # search_medicines sums on-hand for the 25 medicines of a page: one index-only range per
    # medicine (branch_id and quantity are carried in the index) instead of every batch of the chain.
    # The existing batch indexes lead with branch_id, so they cannot serve "all branches of a medicine".
    op.execute("CREATE INDEX batches_medicine_idx ON batches (tenant_id, medicine_id) INCLUDE (branch_id, quantity)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS batches_medicine_idx")
