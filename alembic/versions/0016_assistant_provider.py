"""Each chain's owner decides whether the assistant may use the configured AI provider (their data goes
to that third party), so the switch is per tenant and off until they turn it on.

Revision ID: 0016_assistant_provider
Revises: 0015_report_indexes
Create Date: 2026-11-28
"""

from alembic import op

revision = "0016_assistant_provider"
down_revision = "0015_report_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE tenants ADD COLUMN assistant_provider_enabled boolean NOT NULL DEFAULT false")


def downgrade() -> None:
    op.execute("ALTER TABLE tenants DROP COLUMN assistant_provider_enabled")
