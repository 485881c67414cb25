"""Card payments through Stripe Connect: the chain's connected account, card payments and refunds, webhook events.

Revision ID: 0021_card_payments
Revises: 0020_financial_audit
Create Date: 2026-11-29
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0021_card_payments"
down_revision = "0020_financial_audit"
branch_labels = None
depends_on = None

_CARD_STATUSES = (
    "'requires_payment_method', 'requires_capture', 'succeeded', 'canceled', 'refunded', 'partially_refunded'"
)


def upgrade() -> None:
    settings = get_settings()
    app, platform = settings.APP_DB_ROLE, settings.PLATFORM_DB_ROLE

    # The chain's own Stripe account (Connect): its sales settle to the chain, not to the platform.
    # Unique, so a webhook's `account` names at most one chain.
    op.execute(
        "ALTER TABLE tenants ADD COLUMN stripe_account_id text CHECK (stripe_account_id ~ '^acct_[A-Za-z0-9]{1,64}$')"
    )
    op.execute("CREATE UNIQUE INDEX tenants_stripe_account_key ON tenants (stripe_account_id)")

    op.execute("ALTER TABLE bill_payments DROP CONSTRAINT IF EXISTS bill_payments_method_check")
    op.execute(
        "ALTER TABLE bill_payments ADD CONSTRAINT bill_payments_method_check "
        "CHECK (method IN ('cash', 'other', 'card'))"
    )

    # One PaymentIntent on the chain's account. Amounts are Decimal in the bill's currency (the minor
    # unit as an integer exists only at the Stripe boundary). Status mirrors Stripe's, plus refunds.
    op.execute(f"""
        CREATE TABLE card_payments (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            bill_id uuid NOT NULL,
            payment_intent_id text NOT NULL CHECK (payment_intent_id ~ '^pi_[A-Za-z0-9_]{{1,200}}$'),
            stripe_account_id text NOT NULL,
            amount numeric(14, 4) NOT NULL CHECK (amount > 0),
            currency text NOT NULL CHECK (currency ~ '^[A-Z]{{3}}$'),
            status text NOT NULL CHECK (status IN ({_CARD_STATUSES})),
            amount_captured numeric(14, 4) NOT NULL DEFAULT 0 CHECK (amount_captured >= 0),
            amount_refunded numeric(14, 4) NOT NULL DEFAULT 0
                CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
            bill_payment_id uuid,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, bill_id) REFERENCES bills (tenant_id, id),
            FOREIGN KEY (tenant_id, bill_payment_id) REFERENCES bill_payments (tenant_id, id)
        )""")
    # Stripe's ids are unique worldwide; the key starts with tenant_id like every tenant key (Citus).
    op.execute("CREATE UNIQUE INDEX card_payments_intent_key ON card_payments (tenant_id, payment_intent_id)")
    # Webhooks find the payment by intent (and check the account) before the chain is known.
    op.execute("CREATE INDEX card_payments_intent_idx ON card_payments (payment_intent_id)")
    op.execute("CREATE INDEX card_payments_bill_idx ON card_payments (tenant_id, bill_id)")
    op.execute("CREATE INDEX card_payments_bill_payment_idx ON card_payments (tenant_id, bill_payment_id)")
    enable_tenant_rls(op.execute, "card_payments")
    op.execute(f"REVOKE DELETE, TRUNCATE ON card_payments FROM {app}, {platform}")

    # Each Stripe refund once (by its id, and by the caller's idempotency key): a replay adds nothing.
    op.execute("""
        CREATE TABLE card_refunds (
            tenant_id uuid NOT NULL,
            id uuid NOT NULL,
            card_payment_id uuid NOT NULL,
            refund_id text NOT NULL CHECK (refund_id ~ '^(re|pyr)_[A-Za-z0-9_]{1,200}$'),
            idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 8 AND 100),
            amount numeric(14, 4) NOT NULL CHECK (amount > 0),
            status text NOT NULL,
            created_by uuid,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            FOREIGN KEY (tenant_id, card_payment_id) REFERENCES card_payments (tenant_id, id)
        )""")
    op.execute("CREATE UNIQUE INDEX card_refunds_refund_key ON card_refunds (tenant_id, refund_id)")
    op.execute("CREATE UNIQUE INDEX card_refunds_idempotency_key ON card_refunds (tenant_id, idempotency_key)")
    op.execute("CREATE INDEX card_refunds_payment_idx ON card_refunds (tenant_id, card_payment_id)")
    enable_tenant_rls(op.execute, "card_refunds")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON card_refunds FROM {app}, {platform}")

    # Webhook events seen, by Stripe's event id: a replay is dropped. They arrive before any chain is
    # known, so this is a platform table (no tenant_id): only the platform path reads or writes it.
    op.execute("""
        CREATE TABLE stripe_webhook_events (
            event_id text PRIMARY KEY CHECK (event_id ~ '^evt_[A-Za-z0-9_]{1,200}$'),
            event_type text NOT NULL,
            account text,
            received_at timestamptz NOT NULL DEFAULT now()
        )""")
    op.execute(f"REVOKE ALL ON stripe_webhook_events FROM {app}")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON stripe_webhook_events FROM {platform}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS stripe_webhook_events, card_refunds, card_payments")
    # Card payments already taken stay (money received is history): the old rule holds for new rows only.
    op.execute("ALTER TABLE bill_payments DROP CONSTRAINT IF EXISTS bill_payments_method_check")
    op.execute(
        "ALTER TABLE bill_payments ADD CONSTRAINT bill_payments_method_check "
        "CHECK (method IN ('cash', 'other')) NOT VALID"
    )
    op.execute("DROP INDEX IF EXISTS tenants_stripe_account_key")
    op.execute("ALTER TABLE tenants DROP COLUMN IF EXISTS stripe_account_id")
