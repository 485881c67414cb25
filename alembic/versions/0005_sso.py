"""Per-chain single sign-on (OpenID Connect).

Revision ID: 0005_sso
Revises: 0004_platform_console
Create Date: 2026-11-26
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0005_sso"
down_revision = "0004_platform_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    op.execute("""
        CREATE TABLE sso_configs (
            tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
            issuer text NOT NULL,
            client_id text NOT NULL,
            client_secret_encrypted text NOT NULL,  -- encrypted at rest with a key from SECRET_KEY
            label text NOT NULL DEFAULT 'single sign-on',
            allow_first_sign_in boolean NOT NULL DEFAULT false,  -- unknown verified e-mails join
            default_role text NOT NULL DEFAULT 'cashier'
                CHECK (default_role IN ('manager', 'pharmacist', 'technician', 'cashier')),
            enabled boolean NOT NULL DEFAULT true,
            updated_at timestamptz NOT NULL DEFAULT now()
        )""")
    enable_tenant_rls(op.execute, "sso_configs")
    # The sign-in page knows only the chain's slug: one row for one exact slug.
    op.execute("""
        CREATE FUNCTION sso_config_by_slug(p_slug text)
        RETURNS TABLE (tenant_id uuid, tenant_name text, issuer text, client_id text,
                       client_secret_encrypted text, label text, allow_first_sign_in boolean,
                       default_role text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT t.id, t.name, c.issuer, c.client_id, c.client_secret_encrypted, c.label,
                   c.allow_first_sign_in, c.default_role
            FROM public.tenants t JOIN public.sso_configs c ON c.tenant_id = t.id
            WHERE t.slug = lower(p_slug) AND t.status = 'active' AND c.enabled
        $$""")
    op.execute("REVOKE ALL ON FUNCTION sso_config_by_slug(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION sso_config_by_slug(text) TO {app}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS sso_config_by_slug(text)")
    op.execute("DROP TABLE IF EXISTS sso_configs")
