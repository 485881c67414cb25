"""Scheduled runs (issue 18 §4): one row per (job, branch, local date or month) the platform tick wrote.

The unique key makes a scheduled job run once however many workers or ticks there are: the tick inserts
with ON CONFLICT DO NOTHING and enqueues the outbox job only for the rows it inserted, in the same tenant
transaction. `branch_id` is NULL for chain-wide jobs (the monthly retention review): NULLS NOT DISTINCT
keeps those unique too.

Revision ID: 0050_scheduled_runs
Revises: 0049_notification_messages
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0050_scheduled_runs"
down_revision = "0049_notification_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = f'"{get_settings().APP_DB_ROLE}"'
    op.execute("""
        CREATE TABLE scheduled_runs (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            job_name text NOT NULL,
            branch_id uuid,
            period text NOT NULL,  -- the branch's local date (2026-12-05) or month (2026-12)
            due_at timestamptz NOT NULL,
            enqueued_at timestamptz NOT NULL DEFAULT now(),
            outbox_id uuid,
            PRIMARY KEY (tenant_id, id),
            CONSTRAINT scheduled_runs_once UNIQUE NULLS NOT DISTINCT (tenant_id, job_name, branch_id, period),
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    op.execute("CREATE INDEX scheduled_runs_latest ON scheduled_runs (tenant_id, job_name, branch_id, due_at DESC)")
    enable_tenant_rls(op.execute, "scheduled_runs")
    op.execute(f"REVOKE DELETE, TRUNCATE ON scheduled_runs FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS scheduled_runs")
