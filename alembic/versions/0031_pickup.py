"""Prescriptions, part 2 (pickup): the claim of a fill, fill lines on a bill, and the pickup record.

- Claims become "one per fill or bill": `claims.fill_id` (a fill's claim is adjudicated when the fill is
  made) beside `claims.bill_id`, exactly one of the two set; a fill's claim is reversed when the fill
  goes back to stock (status `reversed`). A coverage carries its copay per fill.
- A bill line may be a fill (`bill_lines.fill_id`): the fill already took its stock, so finalizing
  never dispenses it again and a credit note never puts it back on the shelf.
- `prescription_pickups`: one hand-over at the counter: who picked up (patient or agent), the offer to
  counsel and the answer with the pharmacist who counselled (their electronic signature), the ID seen
  for a controlled substance, and the signature drawn on the screen (a PNG). The fills handed over
  point at it. The prescription is then `dispensed`.

Revision ID: 0031_pickup
Revises: 0030_fills
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0031_pickup"
down_revision = "0030_fills"
branch_labels = None
depends_on = None

RX_OLD = (
    "'intake', 'data_entry', 'verification', 'fill', 'on_hold', 'waiting_prescriber', 'cancelled', 'expired', "
    "'filled', 'ready_for_pickup'"
)
# 'transferred_out' belongs to the transfers change (issue 14); both are allowed here so either can land first.
RX_NEW = RX_OLD + ", 'dispensed', 'transferred_out'"
CLAIM_OLD = "'draft', 'submitted', 'approved', 'partially_approved', 'rejected', 'paid'"
CLAIM_NEW = CLAIM_OLD + ", 'reversed'"
PNG_HEADER = r"'\x89504e470d0a1a0a'::bytea"


def _rx_statuses(allowed: str) -> None:
    op.execute("ALTER TABLE prescriptions DROP CONSTRAINT prescriptions_status_check")
    op.execute(f"ALTER TABLE prescriptions ADD CONSTRAINT prescriptions_status_check CHECK (status IN ({allowed}))")
    for column in ("from_status", "to_status"):
        name = f"prescription_events_{column}_check"
        op.execute(f"ALTER TABLE prescription_events DROP CONSTRAINT {name}")
        op.execute(f"ALTER TABLE prescription_events ADD CONSTRAINT {name} CHECK ({column} IN ({allowed}))")


def _claim_statuses(allowed: str) -> None:
    op.execute("ALTER TABLE claims DROP CONSTRAINT claims_status_check")
    op.execute(f"ALTER TABLE claims ADD CONSTRAINT claims_status_check CHECK (status IN ({allowed}))")
    for column in ("from_status", "to_status"):
        name = f"claim_events_{column}_check"
        op.execute(f"ALTER TABLE claim_events DROP CONSTRAINT {name}")
        op.execute(f"ALTER TABLE claim_events ADD CONSTRAINT {name} CHECK ({column} IN ({allowed}))")


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    _rx_statuses(RX_NEW)

    # Which fills need an ID at pickup: the schedules listed (US default: every scheduled medicine).
    op.execute(
        "ALTER TABLE prescription_settings ADD COLUMN pickup_id_schedules text[] NOT NULL "
        "DEFAULT '{CII,CIII,CIV,CV}' CHECK (pickup_id_schedules <@ ARRAY['CII', 'CIII', 'CIV', 'CV'])"
    )

    # The patient's copay per fill under this coverage (what the offline adjudicator leaves the patient).
    op.execute(
        "ALTER TABLE patient_coverages ADD COLUMN copay numeric(14, 4) NOT NULL DEFAULT 0 "
        "CHECK (copay >= 0 AND copay < 1000000)"
    )

    # One claim per fill or per bill.
    op.execute("ALTER TABLE claims ALTER COLUMN bill_id DROP NOT NULL")
    op.execute("ALTER TABLE claims ADD COLUMN fill_id uuid")
    op.execute(
        "ALTER TABLE claims ADD CONSTRAINT claims_fill_fkey FOREIGN KEY (tenant_id, fill_id) "
        "REFERENCES prescription_fills (tenant_id, id)"
    )
    op.execute("ALTER TABLE claims ADD CONSTRAINT claims_fill_or_bill_check CHECK (num_nonnulls(bill_id, fill_id) = 1)")
    op.execute("CREATE UNIQUE INDEX claims_fill_key ON claims (tenant_id, fill_id)")
    op.execute("ALTER TABLE claims ADD COLUMN reversed_at timestamptz")
    op.execute(
        "ALTER TABLE claims ADD COLUMN reversal_reason text NOT NULL DEFAULT '' CHECK (length(reversal_reason) <= 300)"
    )
    _claim_statuses(CLAIM_NEW)

    # A fill sold at the counter: its stock moved when it was filled.
    op.execute("ALTER TABLE bill_lines ADD COLUMN fill_id uuid")
    op.execute(
        "ALTER TABLE bill_lines ADD CONSTRAINT bill_lines_fill_fkey FOREIGN KEY (tenant_id, fill_id) "
        "REFERENCES prescription_fills (tenant_id, id)"
    )
    op.execute("CREATE INDEX bill_lines_fill_idx ON bill_lines (tenant_id, fill_id) WHERE fill_id IS NOT NULL")

    op.execute(f"""
        CREATE TABLE prescription_pickups (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            branch_id uuid NOT NULL,
            bill_id uuid NOT NULL,
            patient_id uuid NOT NULL,
            picked_up_by text NOT NULL CHECK (picked_up_by IN ('patient', 'agent')),
            picked_up_by_name text NOT NULL CHECK (length(picked_up_by_name) BETWEEN 2 AND 120),
            counselling text NOT NULL CHECK (counselling IN ('accepted', 'declined')),
            counselled_by uuid NOT NULL,
            counsel_signature_id uuid NOT NULL,
            id_type text NOT NULL DEFAULT '' CHECK (length(id_type) <= 40),
            id_number text NOT NULL DEFAULT '' CHECK (length(id_number) <= 40),
            signature_png bytea NOT NULL
                CHECK (substring(signature_png FROM 1 FOR 8) = {PNG_HEADER} AND octet_length(signature_png) <= 300000),
            recorded_by uuid,
            picked_up_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, bill_id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id),
            FOREIGN KEY (tenant_id, bill_id) REFERENCES bills (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
            FOREIGN KEY (tenant_id, counsel_signature_id) REFERENCES electronic_signatures (tenant_id, id),
            CHECK ((id_type = '') = (id_number = ''))
        )""")
    enable_tenant_rls(op.execute, "prescription_pickups")
    # A record of a hand-over: never changed or removed by the app.
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON prescription_pickups FROM {app}")

    op.execute("ALTER TABLE prescription_fills ADD COLUMN pickup_id uuid")
    op.execute(
        "ALTER TABLE prescription_fills ADD CONSTRAINT prescription_fills_pickup_fkey "
        "FOREIGN KEY (tenant_id, pickup_id) REFERENCES prescription_pickups (tenant_id, id)"
    )
    op.execute(
        "ALTER TABLE prescription_fills ADD CONSTRAINT prescription_fills_picked_up_check "
        "CHECK ((status = 'picked_up') = (pickup_id IS NOT NULL))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE prescription_fills DROP CONSTRAINT IF EXISTS prescription_fills_picked_up_check")
    op.execute("UPDATE prescription_fills SET status = 'checked' WHERE status = 'picked_up'")
    op.execute("ALTER TABLE prescription_fills DROP COLUMN IF EXISTS pickup_id")
    op.execute("DROP TABLE IF EXISTS prescription_pickups")
    op.execute("ALTER TABLE bill_lines DROP COLUMN IF EXISTS fill_id")
    op.execute("DELETE FROM claim_events WHERE claim_id IN (SELECT id FROM claims WHERE fill_id IS NOT NULL)")
    op.execute("DELETE FROM claims WHERE fill_id IS NOT NULL")
    op.execute("UPDATE claim_events SET to_status = 'rejected' WHERE to_status = 'reversed'")
    op.execute("UPDATE claim_events SET from_status = 'rejected' WHERE from_status = 'reversed'")
    _claim_statuses(CLAIM_OLD)
    op.execute("ALTER TABLE claims DROP COLUMN IF EXISTS reversal_reason")
    op.execute("ALTER TABLE claims DROP COLUMN IF EXISTS reversed_at")
    op.execute("ALTER TABLE claims DROP CONSTRAINT IF EXISTS claims_fill_or_bill_check")
    op.execute("ALTER TABLE claims DROP COLUMN IF EXISTS fill_id")
    op.execute("ALTER TABLE claims ALTER COLUMN bill_id SET NOT NULL")
    op.execute("ALTER TABLE patient_coverages DROP COLUMN IF EXISTS copay")
    op.execute("ALTER TABLE prescription_settings DROP COLUMN IF EXISTS pickup_id_schedules")
    op.execute("UPDATE prescriptions SET status = 'ready_for_pickup' WHERE status IN ('dispensed', 'transferred_out')")
    for column in ("from_status", "to_status"):
        op.execute(
            f"UPDATE prescription_events SET {column} = 'ready_for_pickup' "
            f"WHERE {column} IN ('dispensed', 'transferred_out')"
        )
    _rx_statuses(RX_OLD)
