"""Prescriptions, part 1: prescribers, prescriptions with their Rx numbers, the work queue's history,
verification with its stored drug-use review, and the chain's prescription rules.

Revision ID: 0027_prescriptions
Revises: 0026_hash_checks
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0027_prescriptions"
down_revision = "0026_hash_checks"
branch_labels = None
depends_on = None

STATUSES = "'intake', 'data_entry', 'verification', 'fill', 'on_hold', 'waiting_prescriber', 'cancelled', 'expired'"


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE

    # The chain's rules (US defaults). No row means the defaults; the service writes one when changed.
    op.execute("""
        CREATE TABLE prescription_settings (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            two_person_verification boolean NOT NULL DEFAULT true,
            early_refill_threshold numeric(3, 2) NOT NULL DEFAULT 0.75
                CHECK (early_refill_threshold BETWEEN 0.50 AND 1.00),
            expiry_months integer NOT NULL DEFAULT 12 CHECK (expiry_months BETWEEN 1 AND 24),
            controlled_expiry_months integer NOT NULL DEFAULT 6 CHECK (controlled_expiry_months BETWEEN 1 AND 12),
            controlled_max_refills integer NOT NULL DEFAULT 5 CHECK (controlled_max_refills BETWEEN 0 AND 5),
            cii_max_days_supply integer NOT NULL DEFAULT 90 CHECK (cii_max_days_supply BETWEEN 1 AND 90),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id)
        )""")
    enable_tenant_rls(op.execute, "prescription_settings")
    op.execute(f"REVOKE DELETE, TRUNCATE ON prescription_settings FROM {app}")

    op.execute("""
        CREATE TABLE prescribers (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            full_name text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 120),
            credentials text NOT NULL DEFAULT '' CHECK (length(credentials) <= 40),
            license_number text NOT NULL DEFAULT '' CHECK (length(license_number) <= 40),
            npi text NOT NULL DEFAULT '' CHECK (npi = '' OR (length(npi) = 10 AND npi !~ '[^0-9]')),
            dea_number text NOT NULL DEFAULT '' CHECK (dea_number = '' OR dea_number ~ '^[A-Z][A-Z9][0-9]{7}$'),
            phone text NOT NULL DEFAULT '' CHECK (length(phone) <= 20),
            fax text NOT NULL DEFAULT '' CHECK (length(fax) <= 20),
            email text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
            address text NOT NULL DEFAULT '' CHECK (length(address) <= 500),
            is_active boolean NOT NULL DEFAULT true,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id)
        )""")
    # One record per NPI in a chain (an NPI is one person); names are only flagged as possible duplicates.
    op.execute("CREATE UNIQUE INDEX prescribers_npi_key ON prescribers (tenant_id, npi) WHERE npi <> ''")
    op.execute("CREATE INDEX prescribers_name_idx ON prescribers (tenant_id, lower(full_name))")
    enable_tenant_rls(op.execute, "prescribers")
    op.execute(f"REVOKE DELETE, TRUNCATE ON prescribers FROM {app}")

    # Rx numbers: one counter per branch, only ever incremented, so a number is never reused.
    op.execute("""
        CREATE TABLE rx_number_counters (
            tenant_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            last_number bigint NOT NULL CHECK (last_number >= 0),
            PRIMARY KEY (tenant_id, branch_id),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "rx_number_counters")
    op.execute(f"REVOKE DELETE, TRUNCATE ON rx_number_counters FROM {app}")

    op.execute(f"""
        CREATE TABLE prescriptions (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            branch_id uuid NOT NULL,
            rx_seq bigint NOT NULL CHECK (rx_seq > 0),
            rx_number text NOT NULL CHECK (length(rx_number) BETWEEN 1 AND 40),
            patient_id uuid NOT NULL,
            prescriber_id uuid,
            status text NOT NULL CHECK (status IN ({STATUSES})),
            held_from text CHECK (held_from IN ('intake', 'data_entry', 'verification')),
            status_reason text NOT NULL DEFAULT '' CHECK (length(status_reason) <= 500),
            source text NOT NULL CHECK (source IN ('walk_in', 'phone', 'fax', 'portal')),
            drug_written text NOT NULL DEFAULT '' CHECK (length(drug_written) <= 200),
            medicine_id uuid,
            strength text NOT NULL DEFAULT '' CHECK (length(strength) <= 60),
            sig_written text NOT NULL DEFAULT '' CHECK (length(sig_written) <= 500),
            sig_expanded text NOT NULL DEFAULT '' CHECK (length(sig_expanded) <= 1000),
            sig_unknown text[] NOT NULL DEFAULT '{{}}',
            quantity integer CHECK (quantity > 0),
            quantity_unit text NOT NULL DEFAULT '' CHECK (length(quantity_unit) <= 20),
            days_supply integer CHECK (days_supply BETWEEN 1 AND 400),
            refills_authorized integer NOT NULL DEFAULT 0 CHECK (refills_authorized BETWEEN 0 AND 99),
            refills_remaining integer NOT NULL DEFAULT 0 CHECK (refills_remaining BETWEEN 0 AND refills_authorized),
            schedule text CHECK (schedule IN ('CII', 'CIII', 'CIV', 'CV')),
            date_written date,
            expires_on date,
            earliest_fill_date date,
            daw boolean NOT NULL DEFAULT false,
            notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
            entered_by uuid,
            entered_at timestamptz,
            verified_by uuid,
            verified_at timestamptz,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, rx_number),
            UNIQUE (tenant_id, branch_id, rx_seq),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
            FOREIGN KEY (tenant_id, prescriber_id) REFERENCES prescribers (tenant_id, id),
            FOREIGN KEY (tenant_id, medicine_id) REFERENCES medicines (tenant_id, id),
            CHECK ((status IN ('on_hold', 'waiting_prescriber')) = (held_from IS NOT NULL)),
            CHECK (status NOT IN ('verification', 'fill') OR (prescriber_id IS NOT NULL AND medicine_id IS NOT NULL
                   AND quantity IS NOT NULL AND days_supply IS NOT NULL AND date_written IS NOT NULL
                   AND expires_on IS NOT NULL AND sig_written <> '')),
            CHECK (status <> 'fill' OR verified_at IS NOT NULL),
            CHECK (schedule IS DISTINCT FROM 'CII' OR refills_authorized = 0)
        )""")
    # The queue: a branch's open prescriptions by status, oldest first.
    op.execute(
        "CREATE INDEX prescriptions_queue_idx ON prescriptions (tenant_id, branch_id, status, created_at, rx_seq) "
        "WHERE status NOT IN ('cancelled', 'expired')"
    )
    # The live queue oldest first (every status but cancelled and expired), walked in order to the page.
    op.execute(
        "CREATE INDEX prescriptions_live_order_idx ON prescriptions (tenant_id, branch_id, created_at, rx_seq) "
        "WHERE status NOT IN ('cancelled', 'expired')"
    )
    # Recently closed ones, for the queue's counts of the last 30 days.
    op.execute(
        "CREATE INDEX prescriptions_closed_idx ON prescriptions (tenant_id, branch_id, updated_at) "
        "WHERE status IN ('cancelled', 'expired')"
    )
    # Expiry of the not-yet-verified ones (run when a branch's queue loads).
    op.execute(
        "CREATE INDEX prescriptions_expiry_idx ON prescriptions (tenant_id, branch_id, expires_on) "
        "WHERE status IN ('intake', 'data_entry', 'verification', 'on_hold', 'waiting_prescriber')"
    )
    op.execute("CREATE INDEX prescriptions_patient_idx ON prescriptions (tenant_id, patient_id, created_at)")
    enable_tenant_rls(op.execute, "prescriptions")
    # A prescription is a legal record: cancelled, never deleted.
    op.execute(f"REVOKE DELETE, TRUNCATE ON prescriptions FROM {app}")

    # The original (a scan or photo of the paper, the fax page), in the database like every upload.
    op.execute("""
        CREATE TABLE prescription_images (
            tenant_id uuid NOT NULL,
            prescription_id uuid NOT NULL,
            content_type text NOT NULL
                CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp', 'application/pdf')),
            data bytea NOT NULL CHECK (length(data) BETWEEN 1 AND 5242880),
            uploaded_by uuid,
            uploaded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, prescription_id),
            FOREIGN KEY (tenant_id, prescription_id) REFERENCES prescriptions (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "prescription_images")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON prescription_images FROM {app}")

    # Every step through the queue, with who and why: evidence, so the app may only append.
    op.execute(f"""
        CREATE TABLE prescription_events (
            tenant_id uuid NOT NULL,
            id bigint GENERATED ALWAYS AS IDENTITY,
            prescription_id uuid NOT NULL,
            action text NOT NULL CHECK (length(action) BETWEEN 1 AND 40),
            from_status text CHECK (from_status IN ({STATUSES})),
            to_status text NOT NULL CHECK (to_status IN ({STATUSES})),
            reason text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
            user_id uuid,
            occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, prescription_id) REFERENCES prescriptions (tenant_id, id)
        )""")
    op.execute("CREATE INDEX prescription_events_rx_idx ON prescription_events (tenant_id, prescription_id, id)")
    enable_tenant_rls(op.execute, "prescription_events")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON prescription_events FROM {app}")

    # A pharmacist's signed verification and the drug-use review as it stood then (what was known at the time).
    op.execute("""
        CREATE TABLE prescription_verifications (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            prescription_id uuid NOT NULL,
            verified_by uuid NOT NULL,
            signature_id uuid NOT NULL,
            dur_result jsonb NOT NULL,
            verified_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, prescription_id) REFERENCES prescriptions (tenant_id, id),
            FOREIGN KEY (tenant_id, signature_id) REFERENCES electronic_signatures (tenant_id, id)
        )""")
    op.execute(
        "CREATE INDEX prescription_verifications_rx_idx ON prescription_verifications (tenant_id, prescription_id)"
    )
    enable_tenant_rls(op.execute, "prescription_verifications")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON prescription_verifications FROM {app}")

    # Each major or contraindicated alert the pharmacist overrode, with the reason, against the alert's
    # stable code (so the next review can tell an already-resolved alert from a new one).
    op.execute("""
        CREATE TABLE prescription_dur_overrides (
            tenant_id uuid NOT NULL,
            verification_id uuid NOT NULL,
            alert_code text NOT NULL CHECK (length(alert_code) BETWEEN 1 AND 200),
            alert_type text NOT NULL,
            severity text NOT NULL CHECK (severity IN ('major', 'contraindicated')),
            summary text NOT NULL,
            reason text NOT NULL CHECK (length(reason) BETWEEN 10 AND 500),
            PRIMARY KEY (tenant_id, verification_id, alert_code),
            FOREIGN KEY (tenant_id, verification_id) REFERENCES prescription_verifications (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "prescription_dur_overrides")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON prescription_dur_overrides FROM {app}")


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS prescription_dur_overrides, prescription_verifications, prescription_events, "
        "prescription_images, prescriptions, rx_number_counters, prescribers, prescription_settings"
    )
