"""Invitations are e-mailed by a job: keep the link's token encrypted until it is sent.

Revision ID: 0006_invitation_mail
Revises: 0005_sso
Create Date: 2026-11-26
"""

from alembic import op

revision = "0006_invitation_mail"
down_revision = "0005_sso"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Jobs carry ids only, so the mailer reads the token from here; it is wiped once mailed.
    op.execute("ALTER TABLE invitations ADD COLUMN token_encrypted text")
    op.execute("ALTER TABLE invitations ADD COLUMN mailed_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE invitations DROP COLUMN mailed_at")
    op.execute("ALTER TABLE invitations DROP COLUMN token_encrypted")
