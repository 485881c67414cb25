"""Billing, first slice: bills (draft -> finalized -> paid / voided), lines, picks, cash payments, numbering.

Revision ID: 0013_billing
Revises: 0012_search_indexes
Create Date: 2026-11-28
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0013_billing"
down_revision = "0012_search_indexes"
branch_labels = None
depends_on = None

# Columns that may still change once a bill is issued: the payment and void bookkeeping only.
_MUTABLE_AFTER_ISSUE = "ARRAY['status', 'amount_paid', 'voided_at', 'voided_by', 'void_reason', 'updated_at']"


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    # The rate of the "reduced" tax category, per branch like the standard rate (percent, 0 until set).
    op.execute(
        "ALTER TABLE branches ADD COLUMN reduced_tax_rate numeric(7, 4) NOT NULL DEFAULT 0 "
        "CHECK (reduced_tax_rate >= 0 AND reduced_tax_rate <= 100)"
    )

    # One row per branch and local year; the finalizing transaction increments it, so a rollback
    # (an oversold bill) gives the number back and the sequence has no gaps.
    op.execute("""
        CREATE TABLE bill_counters (
            tenant_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            year integer NOT NULL CHECK (year BETWEEN 2000 AND 9999),
            last_number bigint NOT NULL CHECK (last_number > 0),
            PRIMARY KEY (tenant_id, branch_id, year),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "bill_counters")
    op.execute(f"REVOKE DELETE ON bill_counters FROM {app}")

    op.execute("""
        CREATE TABLE bills (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            branch_id uuid NOT NULL,
            status text NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'finalized', 'partially_paid', 'paid', 'voided')),
            number text,
            number_year integer,
            number_seq bigint,
            currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
            prices_include_tax boolean NOT NULL,
            customer_name text NOT NULL DEFAULT '' CHECK (length(customer_name) <= 120),
            bill_discount numeric(14, 4) NOT NULL DEFAULT 0 CHECK (bill_discount >= 0),
            lines_total numeric(14, 4) NOT NULL DEFAULT 0,
            discount_total numeric(14, 4) NOT NULL DEFAULT 0,
            net_total numeric(14, 4) NOT NULL DEFAULT 0,
            tax_total numeric(14, 4) NOT NULL DEFAULT 0,
            total numeric(14, 4) NOT NULL DEFAULT 0,
            rounding numeric(14, 4) NOT NULL DEFAULT 0,
            total_due numeric(14, 4) NOT NULL DEFAULT 0 CHECK (total_due >= 0),
            amount_paid numeric(14, 4) NOT NULL DEFAULT 0 CHECK (amount_paid >= 0 AND amount_paid <= total_due),
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            finalized_by uuid,
            finalized_at timestamptz,
            voided_by uuid,
            voided_at timestamptz,
            void_reason text NOT NULL DEFAULT '',
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, branch_id, number_year, number_seq),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id),
            -- A draft has no number; an issued bill always has one (a voided draft never had one).
            CHECK ((status = 'draft') = (number IS NULL) OR status = 'voided'),
            CHECK ((number IS NULL) = (number_seq IS NULL) AND (number IS NULL) = (number_year IS NULL))
        )""")
    op.execute("CREATE INDEX bills_branch_created_idx ON bills (tenant_id, branch_id, created_at)")
    op.execute("CREATE INDEX bills_number_idx ON bills (tenant_id, number) WHERE number IS NOT NULL")
    enable_tenant_rls(op.execute, "bills")
    # Bills are never deleted: a discarded draft is voided, an issued bill is corrected by a credit note.
    op.execute(f"REVOKE DELETE ON bills FROM {app}")

    op.execute("""
        CREATE TABLE bill_lines (
            tenant_id uuid NOT NULL,
            bill_id uuid NOT NULL,
            line_no integer NOT NULL CHECK (line_no > 0),
            medicine_id uuid NOT NULL,
            description text NOT NULL,
            schedule text NOT NULL CHECK (schedule IN ('otc', 'prescription', 'controlled')),
            quantity integer NOT NULL CHECK (quantity > 0),
            unit_price numeric(14, 4) NOT NULL CHECK (unit_price >= 0),
            line_discount numeric(14, 4) NOT NULL DEFAULT 0 CHECK (line_discount >= 0),
            bill_discount_share numeric(14, 4) NOT NULL DEFAULT 0 CHECK (bill_discount_share >= 0),
            tax_category text NOT NULL CHECK (tax_category IN ('standard', 'reduced', 'zero', 'exempt')),
            tax_rate numeric(7, 4) NOT NULL DEFAULT 0 CHECK (tax_rate >= 0),
            net_amount numeric(14, 4) NOT NULL DEFAULT 0 CHECK (net_amount >= 0),
            tax_amount numeric(14, 4) NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
            gross_amount numeric(14, 4) NOT NULL DEFAULT 0 CHECK (gross_amount >= 0),
            prescription_ref text NOT NULL DEFAULT '' CHECK (length(prescription_ref) <= 60),
            override_reason text NOT NULL DEFAULT '' CHECK (length(override_reason) <= 300),
            override_by uuid,
            PRIMARY KEY (tenant_id, bill_id, line_no),
            FOREIGN KEY (tenant_id, bill_id) REFERENCES bills (tenant_id, id),
            FOREIGN KEY (tenant_id, medicine_id) REFERENCES medicines (tenant_id, id),
            CHECK (net_amount + tax_amount = gross_amount)
        )""")
    enable_tenant_rls(op.execute, "bill_lines")

    # Which batches a finalized line was taken from, so a void puts stock back on the same lots.
    op.execute("""
        CREATE TABLE bill_picks (
            tenant_id uuid NOT NULL,
            bill_id uuid NOT NULL,
            line_no integer NOT NULL,
            batch_id uuid NOT NULL,
            quantity integer NOT NULL CHECK (quantity > 0),
            PRIMARY KEY (tenant_id, bill_id, line_no, batch_id),
            FOREIGN KEY (tenant_id, bill_id, line_no) REFERENCES bill_lines (tenant_id, bill_id, line_no),
            FOREIGN KEY (tenant_id, batch_id) REFERENCES batches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "bill_picks")
    op.execute(f"REVOKE UPDATE, DELETE ON bill_picks FROM {app}")

    # Money received is history: a wrong payment is reversed by a refund (credit notes), never edited.
    op.execute("""
        CREATE TABLE bill_payments (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            bill_id uuid NOT NULL,
            method text NOT NULL CHECK (method IN ('cash', 'other')),
            amount numeric(14, 4) NOT NULL CHECK (amount > 0),
            tendered numeric(14, 4) NOT NULL CHECK (tendered >= amount),
            change_due numeric(14, 4) NOT NULL CHECK (change_due = tendered - amount),
            reference text NOT NULL DEFAULT '' CHECK (length(reference) <= 100),
            received_by uuid,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, bill_id) REFERENCES bills (tenant_id, id)
        )""")
    op.execute("CREATE INDEX bill_payments_bill_idx ON bill_payments (tenant_id, bill_id)")
    enable_tenant_rls(op.execute, "bill_payments")
    op.execute(f"REVOKE UPDATE, DELETE ON bill_payments FROM {app}")

    # The service refuses to change an issued bill; these triggers make the database refuse too,
    # whatever code path (a future bug, a hand-written query as the app role) tries.
    op.execute(f"""
        CREATE FUNCTION bills_issued_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.status <> 'draft'
               AND (to_jsonb(NEW) - {_MUTABLE_AFTER_ISSUE}) <> (to_jsonb(OLD) - {_MUTABLE_AFTER_ISSUE}) THEN
                RAISE EXCEPTION 'bill % is issued and cannot change', OLD.id USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$""")
    op.execute(
        "CREATE TRIGGER bills_issued_are_immutable BEFORE UPDATE ON bills "
        "FOR EACH ROW EXECUTE FUNCTION bills_issued_are_immutable()"
    )
    op.execute("""
        CREATE FUNCTION bill_lines_only_on_drafts() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            row_bill uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.bill_id ELSE NEW.bill_id END;
            row_tenant uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END;
        BEGIN
            IF EXISTS (SELECT 1 FROM bills b WHERE b.tenant_id = row_tenant AND b.id = row_bill
                       AND b.status <> 'draft') THEN
                RAISE EXCEPTION 'bill % is issued; its lines cannot change', row_bill
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END $$""")
    op.execute(
        "CREATE TRIGGER bill_lines_only_on_drafts BEFORE INSERT OR UPDATE OR DELETE ON bill_lines "
        "FOR EACH ROW EXECUTE FUNCTION bill_lines_only_on_drafts()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS bill_payments, bill_picks, bill_lines, bills, bill_counters")
    op.execute("DROP FUNCTION IF EXISTS bills_issued_are_immutable(), bill_lines_only_on_drafts()")
    op.execute("ALTER TABLE branches DROP COLUMN IF EXISTS reduced_tax_rate")
