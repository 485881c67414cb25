"""The public refill portal's front door: a chain found by its slug, before any tenant is known.

`/portal/<slug>` and `POST /api/v1/portal/{slug}/...` know only the slug. The portal needs the chain's id,
name and standing (a suspended chain's portal says it is not taking online requests); nothing else about
the chain, and never another chain's rows. Like `sso_config_by_slug`, the function runs on the auth role
(opened only by backend.accounts.auth_path): the app role cannot execute it. Every later step runs in a
tenant transaction of that chain, under row-level security, as the `portal` role.

Revision ID: 0042_portal
Revises: 0041_seal_readings_allergies
"""

from alembic import op

from backend.core.settings import get_settings

revision = "0042_portal"
down_revision = "0041_seal_readings_allergies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    settings = get_settings()
    auth = f'"{settings.AUTH_DB_ROLE}"'
    op.execute("""
        CREATE FUNCTION portal_chain_by_slug(p_slug text)
        RETURNS TABLE (tenant_id uuid, tenant_name text, status text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT t.id, t.name, t.status FROM public.tenants t WHERE t.slug = lower(p_slug)
        $$""")
    op.execute("REVOKE ALL ON FUNCTION portal_chain_by_slug(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION portal_chain_by_slug(text) TO {auth}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS portal_chain_by_slug(text)")
