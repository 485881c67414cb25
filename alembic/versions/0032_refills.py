"""Prescriptions, part 2 (refills, transfers, unclaimed fills): refill requests and their source, renewal
requests to the prescriber, transfers between branches and to and from other pharmacies, the auto-refill
flag, the chain's "unclaimed after N days" setting, and returning an unclaimed fill to stock.

A refill is the next dispensing of a prescription (`prescription_fills.dispensing` 1, 2, ...); a fill that
used up a refill says so (`counts_refill`), so returning it to stock gives exactly that refill back. The
prescription's new 'transferred_out' status (this change) and 'dispensed' (picked up, added by the pickup
work) are both allowed by the CHECK constraints here, so the two changes merge in either order.

Revision ID: 0032_refills
Revises: 0031_pickup
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0032_refills"
down_revision = "0031_pickup"
branch_labels = None
depends_on = None

OLD = (
    "'intake', 'data_entry', 'verification', 'fill', 'on_hold', 'waiting_prescriber', 'cancelled', 'expired', "
    "'filled', 'ready_for_pickup'"
)
NEW = OLD + ", 'transferred_out', 'dispensed'"
OLD_SOURCES = "'walk_in', 'phone', 'fax', 'portal'"
NEW_SOURCES = OLD_SOURCES + ", 'electronic', 'transfer'"
OLD_KINDS = (
    "'receive', 'dispense', 'adjust', 'transfer_out', 'transfer_in', 'customer_return', 'supplier_return', 'write_off'"
)
NEW_KINDS = OLD_KINDS + ", 'rx_return'"


def _statuses(allowed: str) -> None:
    op.execute("ALTER TABLE prescriptions DROP CONSTRAINT prescriptions_status_check")
    op.execute(f"ALTER TABLE prescriptions ADD CONSTRAINT prescriptions_status_check CHECK (status IN ({allowed}))")
    for column in ("from_status", "to_status"):
        name = f"prescription_events_{column}_check"
        op.execute(f"ALTER TABLE prescription_events DROP CONSTRAINT {name}")
        op.execute(f"ALTER TABLE prescription_events ADD CONSTRAINT {name} CHECK ({column} IN ({allowed}))")


def _sources(allowed: str) -> None:
    op.execute("ALTER TABLE prescriptions DROP CONSTRAINT prescriptions_source_check")
    op.execute(f"ALTER TABLE prescriptions ADD CONSTRAINT prescriptions_source_check CHECK (source IN ({allowed}))")


def _movement_kinds(allowed: str) -> None:
    op.execute("ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_kind_check")
    op.execute(f"ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_kind_check CHECK (kind IN ({allowed}))")


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    _statuses(NEW)
    # 'electronic': an e-prescription (EPCS for controlled substances); 'transfer': received from another pharmacy.
    _sources(NEW_SOURCES)
    # An unclaimed fill's units back on their lots (its reference is the fill's code): the controlled-substance
    # register reads it as a return.
    _movement_kinds(NEW_KINDS)

    op.execute("ALTER TABLE prescriptions ADD COLUMN auto_refill boolean NOT NULL DEFAULT false")
    # Prescriptions with auto-refill on, for the auto-refill job.
    op.execute(
        "CREATE INDEX prescriptions_auto_refill_idx ON prescriptions (tenant_id, branch_id) "
        "WHERE auto_refill AND refills_remaining > 0"
    )
    op.execute(
        "ALTER TABLE prescription_settings ADD COLUMN unclaimed_days integer NOT NULL DEFAULT 14 "
        "CHECK (unclaimed_days BETWEEN 1 AND 90)"
    )

    op.execute("ALTER TABLE prescription_fills ADD COLUMN counts_refill boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE prescription_fills ADD COLUMN returned_at timestamptz")
    op.execute("ALTER TABLE prescription_fills ADD COLUMN returned_by uuid")
    op.execute(
        "ALTER TABLE prescription_fills ADD CONSTRAINT prescription_fills_returned_check "
        "CHECK (status <> 'returned' OR returned_at IS NOT NULL)"
    )
    # Checked and waiting at a branch: the unclaimed list reads the oldest first.
    op.execute(
        "CREATE INDEX prescription_fills_waiting_idx ON prescription_fills (tenant_id, branch_id, checked_at) "
        "WHERE status = 'checked'"
    )

    # A request to the prescriber for a new prescription (no refills left, expired, a CII). Sending it comes
    # with notifications; the answer is recorded here.
    op.execute("""
        CREATE TABLE prescription_renewals (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            prescription_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            prescriber_id uuid,
            reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
            status text NOT NULL CHECK (status IN ('requested', 'approved', 'denied')),
            requested_by uuid,
            requested_at timestamptz NOT NULL DEFAULT now(),
            decided_at timestamptz,
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, prescription_id) REFERENCES prescriptions (tenant_id, id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id),
            FOREIGN KEY (tenant_id, prescriber_id) REFERENCES prescribers (tenant_id, id),
            CHECK ((status = 'requested') = (decided_at IS NULL))
        )""")
    # One open request per prescription: asking again answers the one already open.
    op.execute(
        "CREATE UNIQUE INDEX prescription_renewals_open_key ON prescription_renewals (tenant_id, prescription_id) "
        "WHERE status = 'requested'"
    )
    op.execute(
        "CREATE INDEX prescription_renewals_branch_idx ON prescription_renewals (tenant_id, branch_id, requested_at)"
    )
    enable_tenant_rls(op.execute, "prescription_renewals")
    op.execute(f"REVOKE DELETE, TRUNCATE ON prescription_renewals FROM {app}")

    # Every refill request, where it came from, and what came of it (a fill, or a renewal request).
    op.execute("""
        CREATE TABLE prescription_refill_requests (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            prescription_id uuid NOT NULL,
            source text NOT NULL CHECK (source IN ('staff', 'phone', 'portal', 'auto')),
            fill_id uuid,
            renewal_id uuid,
            requested_by uuid,
            requested_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, prescription_id) REFERENCES prescriptions (tenant_id, id),
            FOREIGN KEY (tenant_id, fill_id) REFERENCES prescription_fills (tenant_id, id),
            FOREIGN KEY (tenant_id, renewal_id) REFERENCES prescription_renewals (tenant_id, id),
            CHECK ((fill_id IS NULL) <> (renewal_id IS NULL))
        )""")
    op.execute(
        "CREATE INDEX prescription_refill_requests_rx_idx ON prescription_refill_requests "
        "(tenant_id, prescription_id, requested_at)"
    )
    enable_tenant_rls(op.execute, "prescription_refill_requests")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON prescription_refill_requests FROM {app}")

    # Transfers: between branches of the chain (the record moves, its history stays), and to and from other
    # pharmacies with what 21 CFR 1306.25 and the states ask: the other pharmacy (name, address, phone, NPI,
    # DEA), its pharmacist, ours, the date, the refills transferred and the original's dates.
    op.execute("""
        CREATE TABLE prescription_transfers (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            prescription_id uuid NOT NULL,
            kind text NOT NULL CHECK (kind IN ('branch', 'outgoing', 'incoming')),
            from_branch_id uuid,
            to_branch_id uuid,
            pharmacy_name text NOT NULL DEFAULT '' CHECK (length(pharmacy_name) <= 120),
            pharmacy_address text NOT NULL DEFAULT '' CHECK (length(pharmacy_address) <= 300),
            pharmacy_phone text NOT NULL DEFAULT '' CHECK (length(pharmacy_phone) <= 20),
            pharmacy_npi text NOT NULL DEFAULT '' CHECK (pharmacy_npi = '' OR pharmacy_npi ~ '^[0-9]{10}$'),
            pharmacy_dea text NOT NULL DEFAULT '' CHECK (pharmacy_dea = '' OR pharmacy_dea ~ '^[A-Z][A-Z9][0-9]{7}$'),
            other_pharmacist text NOT NULL DEFAULT '' CHECK (length(other_pharmacist) <= 120),
            other_rx_number text NOT NULL DEFAULT '' CHECK (length(other_rx_number) <= 40),
            pharmacist_id uuid NOT NULL,
            pharmacist_name text NOT NULL CHECK (length(pharmacist_name) BETWEEN 1 AND 120),
            transferred_on date NOT NULL,
            refills_transferred integer NOT NULL CHECK (refills_transferred BETWEEN 0 AND 99),
            first_filled_on date,
            last_filled_on date,
            electronic boolean NOT NULL DEFAULT false,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, prescription_id) REFERENCES prescriptions (tenant_id, id),
            FOREIGN KEY (tenant_id, from_branch_id) REFERENCES branches (tenant_id, id),
            FOREIGN KEY (tenant_id, to_branch_id) REFERENCES branches (tenant_id, id),
            CHECK (kind <> 'branch' OR (from_branch_id IS NOT NULL AND to_branch_id IS NOT NULL
                   AND from_branch_id <> to_branch_id)),
            CHECK (kind = 'branch' OR (length(pharmacy_name) > 0 AND length(other_pharmacist) > 0))
        )""")
    op.execute(
        "CREATE INDEX prescription_transfers_rx_idx ON prescription_transfers (tenant_id, prescription_id, recorded_at)"
    )
    enable_tenant_rls(op.execute, "prescription_transfers")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON prescription_transfers FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS prescription_transfers, prescription_refill_requests, prescription_renewals")
    op.execute("DROP INDEX IF EXISTS prescription_fills_waiting_idx")
    op.execute("UPDATE prescription_fills SET status = 'checked' WHERE status = 'returned'")
    op.execute("ALTER TABLE prescription_fills DROP CONSTRAINT IF EXISTS prescription_fills_returned_check")
    op.execute("ALTER TABLE prescription_fills DROP COLUMN IF EXISTS returned_by")
    op.execute("ALTER TABLE prescription_fills DROP COLUMN IF EXISTS returned_at")
    op.execute("ALTER TABLE prescription_fills DROP COLUMN IF EXISTS counts_refill")
    op.execute("ALTER TABLE prescription_settings DROP COLUMN IF EXISTS unclaimed_days")
    op.execute("DROP INDEX IF EXISTS prescriptions_auto_refill_idx")
    op.execute("ALTER TABLE prescriptions DROP COLUMN IF EXISTS auto_refill")
    # The units went back on the shelf: keep the movement (the ledger must still add up) as a customer return.
    op.execute("UPDATE stock_movements SET kind = 'customer_return' WHERE kind = 'rx_return'")
    _movement_kinds(OLD_KINDS)
    op.execute("UPDATE prescriptions SET source = 'walk_in' WHERE source IN ('electronic', 'transfer')")
    _sources(OLD_SOURCES)
    op.execute("UPDATE prescriptions SET status = 'cancelled' WHERE status IN ('transferred_out', 'dispensed')")
    for column in ("from_status", "to_status"):
        op.execute(
            f"UPDATE prescription_events SET {column} = 'cancelled' WHERE {column} IN ('transferred_out', 'dispensed')"
        )
    _statuses(OLD)
