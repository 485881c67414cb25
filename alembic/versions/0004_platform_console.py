"""Platform console: platform sessions and time-limited support access.

Revision ID: 0004_platform_console
Revises: 0003_password_reset_mfa
Create Date: 2026-11-26
"""

from alembic import op

from backend.core.migration_helpers import enable_tenant_rls
from backend.core.settings import get_settings

revision = "0004_platform_console"
down_revision = "0003_password_reset_mfa"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE
    op.execute("ALTER TABLE user_sessions ADD COLUMN is_platform boolean NOT NULL DEFAULT false")
    op.execute(f"GRANT SELECT (is_platform_admin) ON users TO {app}")

    # Support access: a platform admin may look into one chain, for a while, for a stated reason.
    # The chain's owner sees every grant (tenant RLS) and its audit event.
    op.execute("""
        CREATE TABLE support_grants (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            admin_user_id uuid NOT NULL REFERENCES users (id),
            reason text NOT NULL CHECK (length(reason) >= 10),
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz,
            PRIMARY KEY (tenant_id, id)
        )""")
    op.execute("CREATE INDEX support_grants_admin_idx ON support_grants (tenant_id, admin_user_id, expires_at)")
    enable_tenant_rls(op.execute, "support_grants")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON support_grants FROM {app}")

    op.execute("DROP FUNCTION session_principal(text)")
    op.execute("""
        CREATE FUNCTION session_principal(p_token_hash text)
        RETURNS TABLE (session_id uuid, user_id uuid, full_name text, email text, tenant_id uuid,
                       tenant_name text, tenant_status text, role text, membership_id uuid,
                       branch_ids uuid[], mfa_enabled boolean, tenant_requires_mfa boolean)
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        #variable_conflict use_column
        DECLARE s public.user_sessions;
        BEGIN
            SELECT * INTO s FROM public.user_sessions us
            WHERE us.token_hash = p_token_hash AND us.revoked_at IS NULL AND us.expires_at > now()
              AND NOT us.is_platform;
            IF NOT FOUND THEN RETURN; END IF;
            IF s.last_seen_at < now() - interval '1 minute' THEN
                UPDATE public.user_sessions SET last_seen_at = now() WHERE id = s.id;
            END IF;
            RETURN QUERY
            SELECT s.id, u.id, u.full_name, u.email, t.id, t.name, t.status,
                   coalesce(m.role, CASE WHEN g.id IS NOT NULL THEN 'support' END), m.id,
                   coalesce((SELECT array_agg(mb.branch_id) FROM public.membership_branches mb
                             WHERE mb.tenant_id = m.tenant_id AND mb.membership_id = m.id), '{}'),
                   EXISTS (SELECT 1 FROM public.user_mfa f
                           WHERE f.user_id = u.id AND f.enabled_at IS NOT NULL),
                   coalesce(t.require_mfa, false)
            FROM public.users u
            LEFT JOIN public.memberships m
                   ON m.user_id = u.id AND m.is_active AND m.tenant_id = s.current_tenant_id
            LEFT JOIN LATERAL (
                SELECT sg.id FROM public.support_grants sg
                WHERE sg.tenant_id = s.current_tenant_id AND sg.admin_user_id = u.id AND u.is_platform_admin
                  AND sg.revoked_at IS NULL AND sg.expires_at > now()
                LIMIT 1) g ON m.id IS NULL
            LEFT JOIN public.tenants t ON t.id = coalesce(m.tenant_id, CASE WHEN g.id IS NOT NULL
                                                                       THEN s.current_tenant_id END)
            WHERE u.id = s.user_id AND u.is_active;
        END $$""")
    op.execute("""
        CREATE FUNCTION platform_principal(p_token_hash text)
        RETURNS TABLE (session_id uuid, user_id uuid, full_name text, email text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT s.id, u.id, u.full_name, u.email
            FROM public.user_sessions s JOIN public.users u ON u.id = s.user_id
            WHERE s.token_hash = p_token_hash AND s.is_platform AND s.revoked_at IS NULL
              AND s.expires_at > now() AND u.is_platform_admin AND u.is_active
              AND EXISTS (SELECT 1 FROM public.user_mfa f WHERE f.user_id = u.id AND f.enabled_at IS NOT NULL)
        $$""")
    for fn in ("session_principal(text)", "platform_principal(text)"):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {app}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS platform_principal(text)")
    op.execute("DROP TABLE IF EXISTS support_grants")
    op.execute("ALTER TABLE user_sessions DROP COLUMN is_platform")
