"""Customer feedback after a pickup (issue 17 §6): a rating of 1-5 and a comment per picked-up fill.

The comment is sealed like every patient free text (AES-GCM, chain key, bound to the row); its sentiment
(backend/feedback/sentiment.py: a score from -1 to 1 and a label) is stored beside it, so the owner's page
sorts and averages without opening every comment. `alert`: a very negative comment, shown to the branch's
managers and the owner until one of them marks it seen.

Revision ID: 0048_portal_feedback
Revises: 0047_portal_assistant
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0048_portal_feedback"
down_revision = "0047_portal_assistant"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = f'"{get_settings().APP_DB_ROLE}"'
    op.execute("""
        CREATE TABLE customer_feedback (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            branch_id uuid NOT NULL,  -- where the fill was handed over
            patient_id uuid NOT NULL,
            fill_id uuid NOT NULL,
            pickup_id uuid NOT NULL,
            rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
            comment_enc bytea,
            sentiment_score numeric(5, 4) NOT NULL CHECK (sentiment_score BETWEEN -1 AND 1),
            sentiment_label text NOT NULL CHECK (sentiment_label IN ('negative', 'neutral', 'positive')),
            alert boolean NOT NULL DEFAULT false,
            alert_seen_by uuid,
            alert_seen_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, fill_id),  -- one rating per picked-up fill
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id),
            FOREIGN KEY (tenant_id, patient_id) REFERENCES patients (tenant_id, id),
            FOREIGN KEY (tenant_id, fill_id) REFERENCES prescription_fills (tenant_id, id),
            FOREIGN KEY (tenant_id, pickup_id) REFERENCES prescription_pickups (tenant_id, id)
        )""")
    op.execute("CREATE INDEX customer_feedback_branch ON customer_feedback (tenant_id, branch_id, created_at)")
    op.execute(
        "CREATE INDEX customer_feedback_open_alerts ON customer_feedback (tenant_id, branch_id) "
        "WHERE alert AND alert_seen_at IS NULL"
    )
    op.execute("CREATE INDEX customer_feedback_patient ON customer_feedback (tenant_id, patient_id)")
    enable_tenant_rls(op.execute, "customer_feedback")
    op.execute(f"REVOKE DELETE, TRUNCATE ON customer_feedback FROM {app}")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS customer_feedback")
