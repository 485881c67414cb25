"""The staff side of portal refill requests (issue 17 §2): a request closed after calling the customer, and
whether (and how) the customer was told the outcome.

`status` gains `closed` (a "call the customer" request the staff closed with a note after the call: the
customer heard the outcome on the phone, so no e-mail). `customer_told` is what the outcome job did:
'' (not yet), 'emailed', 'no_email' (none on file), 'no_consent' (no consent to be contacted), 'not_sent'
(closed after a call); `told_at` when. The job reads it to run once in effect. `ready_told` is the same
for the "ready for pickup" e-mail sent when the request's fill passes the pharmacist's final check.

Revision ID: 0045_portal_queue
Revises: 0043_portal_refill_requests
"""

from alembic import op

revision = "0045_portal_queue"
down_revision = "0043_portal_refill_requests"
branch_labels = None
depends_on = None

_OLD = "('pending', 'call_customer', 'accepted', 'denied')"
_NEW = "('pending', 'call_customer', 'accepted', 'denied', 'closed')"
_CHECK = "ALTER TABLE portal_refill_requests ADD CONSTRAINT portal_refill_requests_status_check CHECK (status IN {})"


def upgrade() -> None:
    op.execute("ALTER TABLE portal_refill_requests DROP CONSTRAINT portal_refill_requests_status_check")
    op.execute(_CHECK.format(_NEW))
    op.execute(
        "ALTER TABLE portal_refill_requests ADD COLUMN customer_told text NOT NULL DEFAULT '' "
        "CHECK (customer_told IN ('', 'emailed', 'no_email', 'no_consent', 'not_sent')), "
        "ADD COLUMN told_at timestamptz, "
        "ADD COLUMN ready_told text NOT NULL DEFAULT '' "
        "CHECK (ready_told IN ('', 'emailed', 'no_email', 'no_consent'))"
    )
    op.execute("CREATE INDEX portal_refill_requests_fill ON portal_refill_requests (tenant_id, fill_id)")
    # The staff screen's recent decisions of a branch.
    op.execute(
        "CREATE INDEX portal_refill_requests_decided ON portal_refill_requests (tenant_id, branch_id, decided_at) "
        "WHERE decided_at IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS portal_refill_requests_decided")
    op.execute("DROP INDEX IF EXISTS portal_refill_requests_fill")
    op.execute(
        "ALTER TABLE portal_refill_requests DROP COLUMN ready_told, DROP COLUMN told_at, DROP COLUMN customer_told"
    )
    op.execute("UPDATE portal_refill_requests SET status = 'denied' WHERE status = 'closed'")
    op.execute("ALTER TABLE portal_refill_requests DROP CONSTRAINT portal_refill_requests_status_check")
    op.execute(_CHECK.format(_OLD))
