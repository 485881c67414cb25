"""Refill requests made on the public portal (issue 17 §2), the staff queue's rows.

Only a request whose Rx number, date of birth and last name named one of the chain's prescriptions is
stored (anything else leaves no row: there is nobody to contact). `status`: pending (in the staff queue),
call_customer (named a prescription that cannot be refilled online: staff call the customer), accepted
(a fill was made through the prescriptions service), denied (with a reason the customer is told).
The customer's note is sealed like every patient free text (AES-GCM, chain key, bound to the row).

Revision ID: 0043_portal_refill_requests
Revises: 0042_portal
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0043_portal_refill_requests"
down_revision = "0042_portal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = f'"{get_settings().APP_DB_ROLE}"'
    op.execute("""
        CREATE TABLE portal_refill_requests (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            prescription_id uuid NOT NULL,
            patient_id uuid NOT NULL,
            branch_id uuid NOT NULL,  -- where the customer will pick it up
            source text NOT NULL CHECK (source IN ('portal_form', 'portal_api', 'customer')),
            status text NOT NULL CHECK (status IN ('pending', 'call_customer', 'accepted', 'denied')),
            why_call text NOT NULL DEFAULT '' CHECK (length(why_call) <= 300),
            note_enc bytea,
            decision_reason text NOT NULL DEFAULT '' CHECK (length(decision_reason) <= 500),
            decided_by uuid,
            decided_at timestamptz,
            fill_id uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, prescription_id) REFERENCES prescriptions (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    # The queue: a branch's open requests, oldest first; one open request per prescription.
    op.execute(
        "CREATE INDEX portal_refill_requests_queue ON portal_refill_requests (tenant_id, branch_id, created_at) "
        "WHERE status IN ('pending', 'call_customer')"
    )
    op.execute(
        "CREATE UNIQUE INDEX portal_refill_requests_one_open ON portal_refill_requests (tenant_id, prescription_id) "
        "WHERE status IN ('pending', 'call_customer')"
    )
    op.execute("CREATE INDEX portal_refill_requests_patient ON portal_refill_requests (tenant_id, patient_id)")
    enable_tenant_rls(op.execute, "portal_refill_requests")
    op.execute(f"REVOKE DELETE, TRUNCATE ON portal_refill_requests FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS portal_refill_requests")
