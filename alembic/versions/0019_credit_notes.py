"""Credit notes: refunds of issued, paid bills, full or partial, with the lots the returned units came from.

Revision ID: 0019_credit_notes
Revises: 0018_patients
Create Date: 2026-12-05
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0019_credit_notes"
down_revision = "0018_patients"
branch_labels = None
depends_on = None

_STATUSES = "'draft', 'finalized', 'partially_paid', 'paid', 'voided'"
_REFUNDED = "'partially_refunded', 'refunded'"


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    # A bill's status may now say it was refunded; `status` already changes after issue (0013's trigger).
    op.execute("ALTER TABLE bills DROP CONSTRAINT bills_status_check")
    op.execute(f"ALTER TABLE bills ADD CONSTRAINT bills_status_check CHECK (status IN ({_STATUSES}, {_REFUNDED}))")
    # Once refunded, a bill never goes back to paid: the credit notes say so forever.
    op.execute(f"""
        CREATE FUNCTION bills_refunds_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.status IN ({_REFUNDED}) AND NEW.status <> 'refunded' AND NEW.status <> OLD.status THEN
                RAISE EXCEPTION 'bill % is %; it cannot become %', OLD.id, OLD.status, NEW.status
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$""")
    op.execute(
        "CREATE TRIGGER bills_refunds_are_final BEFORE UPDATE OF status ON bills "
        "FOR EACH ROW EXECUTE FUNCTION bills_refunds_are_final()"
    )

    # Credit notes are numbered per branch and local year like bills, from their own counter row,
    # incremented in the issuing transaction: a rollback returns the number, so there are no gaps.
    op.execute("""
        CREATE TABLE credit_note_counters (
            tenant_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            year integer NOT NULL CHECK (year BETWEEN 2000 AND 9999),
            last_number bigint NOT NULL CHECK (last_number > 0),
            PRIMARY KEY (tenant_id, branch_id, year),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "credit_note_counters")
    op.execute(f"REVOKE DELETE ON credit_note_counters FROM {app}")

    # A credit note is history as soon as it is written: never edited, never deleted.
    op.execute("""
        CREATE TABLE credit_notes (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            bill_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            number text NOT NULL,
            number_year integer NOT NULL,
            number_seq bigint NOT NULL CHECK (number_seq > 0),
            reason text NOT NULL CHECK (length(reason) BETWEEN 3 AND 300),
            net_total numeric(14, 4) NOT NULL,
            tax_total numeric(14, 4) NOT NULL,
            total numeric(14, 4) NOT NULL CHECK (total >= 0),
            amount_refunded numeric(14, 4) NOT NULL CHECK (amount_refunded >= 0),
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, branch_id, number_year, number_seq),
            FOREIGN KEY (tenant_id, bill_id) REFERENCES bills (tenant_id, id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id),
            CHECK (net_total + tax_total = total)
        )""")
    op.execute("CREATE INDEX credit_notes_bill_idx ON credit_notes (tenant_id, bill_id)")
    op.execute("CREATE INDEX credit_notes_branch_created_idx ON credit_notes (tenant_id, branch_id, created_at)")
    enable_tenant_rls(op.execute, "credit_notes")
    op.execute(f"REVOKE UPDATE, DELETE ON credit_notes FROM {app}")

    # What each bill line gave back: its share of the line's stored amounts, and whether the units
    # went back on the shelf (restock) or were opened or damaged (they stay off stock).
    op.execute("""
        CREATE TABLE credit_note_lines (
            tenant_id uuid NOT NULL,
            credit_note_id uuid NOT NULL,
            bill_id uuid NOT NULL,
            line_no integer NOT NULL,
            quantity integer NOT NULL CHECK (quantity > 0),
            restock boolean NOT NULL,
            net_amount numeric(14, 4) NOT NULL,
            tax_amount numeric(14, 4) NOT NULL,
            gross_amount numeric(14, 4) NOT NULL CHECK (gross_amount >= 0),
            PRIMARY KEY (tenant_id, credit_note_id, line_no),
            FOREIGN KEY (tenant_id, credit_note_id) REFERENCES credit_notes (tenant_id, id),
            FOREIGN KEY (tenant_id, bill_id, line_no) REFERENCES bill_lines (tenant_id, bill_id, line_no),
            CHECK (net_amount + tax_amount = gross_amount)
        )""")
    op.execute("CREATE INDEX credit_note_lines_bill_idx ON credit_note_lines (tenant_id, bill_id, line_no)")
    enable_tenant_rls(op.execute, "credit_note_lines")
    op.execute(f"REVOKE UPDATE, DELETE ON credit_note_lines FROM {app}")

    # The lots the returned units are counted against (the bill_picks they were sold from), restocked or not,
    # so a later credit note knows which lots still have units out with the customer.
    op.execute("""
        CREATE TABLE credit_note_lots (
            tenant_id uuid NOT NULL,
            credit_note_id uuid NOT NULL,
            line_no integer NOT NULL,
            batch_id uuid NOT NULL,
            quantity integer NOT NULL CHECK (quantity > 0),
            PRIMARY KEY (tenant_id, credit_note_id, line_no, batch_id),
            FOREIGN KEY (tenant_id, credit_note_id, line_no)
                REFERENCES credit_note_lines (tenant_id, credit_note_id, line_no),
            FOREIGN KEY (tenant_id, batch_id) REFERENCES batches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "credit_note_lots")
    op.execute(f"REVOKE UPDATE, DELETE ON credit_note_lots FROM {app}")

    # Money given back, one row per tender; bill_payments stay the money received (positive, untouched).
    op.execute("""
        CREATE TABLE bill_refunds (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            bill_id uuid NOT NULL,
            credit_note_id uuid NOT NULL,
            method text NOT NULL CHECK (method IN ('cash', 'other', 'card')),
            amount numeric(14, 4) NOT NULL CHECK (amount > 0),
            reference text NOT NULL DEFAULT '' CHECK (length(reference) <= 100),
            refunded_by uuid,
            refunded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, bill_id) REFERENCES bills (tenant_id, id),
            FOREIGN KEY (tenant_id, credit_note_id) REFERENCES credit_notes (tenant_id, id)
        )""")
    op.execute("CREATE INDEX bill_refunds_bill_idx ON bill_refunds (tenant_id, bill_id)")
    op.execute("CREATE INDEX bill_refunds_credit_note_idx ON bill_refunds (tenant_id, credit_note_id)")
    enable_tenant_rls(op.execute, "bill_refunds")
    op.execute(f"REVOKE UPDATE, DELETE ON bill_refunds FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS bill_refunds, credit_note_lots, credit_note_lines, credit_notes")
    op.execute("DROP TABLE IF EXISTS credit_note_counters")
    op.execute("DROP TRIGGER IF EXISTS bills_refunds_are_final ON bills")
    op.execute("DROP FUNCTION IF EXISTS bills_refunds_are_final()")
    op.execute("UPDATE bills SET status = 'paid' WHERE status IN ('partially_refunded', 'refunded')")
    op.execute("ALTER TABLE bills DROP CONSTRAINT bills_status_check")
    op.execute(f"ALTER TABLE bills ADD CONSTRAINT bills_status_check CHECK (status IN ({_STATUSES}))")
