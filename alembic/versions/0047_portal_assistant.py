"""The portal's assistant may use the chain's AI provider only when the owner switched that on for the
portal, separately from staff chat (customers' questions then go to that third party too). Off by default.

Revision ID: 0047_portal_assistant
Revises: 0046_customer_sessions
"""

from alembic import op

revision = "0047_portal_assistant"
down_revision = "0046_customer_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE tenants ADD COLUMN assistant_portal_provider_enabled boolean NOT NULL DEFAULT false")


def downgrade() -> None:
    op.execute("ALTER TABLE tenants DROP COLUMN assistant_portal_provider_enabled")
