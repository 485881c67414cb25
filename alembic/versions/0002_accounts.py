"""Accounts: server-side sessions, invitations, API tokens, MFA columns.

Revision ID: 0002_accounts
Revises: 0001_foundation
Create Date: 2026-11-26
"""

from alembic import op

from backend.core.migration_helpers import CURRENT_TENANT, CURRENT_USER_ID, enable_tenant_rls
from backend.core.settings import get_settings

revision = "0002_accounts"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

FUNCTIONS = (
    "session_principal(text)",
    "sessions_end_for_member(uuid)",
    "invitation_by_token(text)",
    "api_token_principal(text)",
    "user_id_by_email(text)",
)


def upgrade() -> None:
    app = get_settings().APP_DB_ROLE

    op.execute("ALTER TABLE tenants ADD COLUMN require_mfa boolean NOT NULL DEFAULT false")
    op.execute(
        "ALTER TABLE tenants ADD COLUMN api_rate_limit_per_hour integer NOT NULL DEFAULT 1000 "
        "CHECK (api_rate_limit_per_hour > 0)"
    )

    # --- server-side sessions: the browser holds only a random token in an HttpOnly cookie ------
    op.execute("""
        CREATE TABLE user_sessions (
            id uuid PRIMARY KEY,
            user_id uuid NOT NULL REFERENCES users (id),
            token_hash text NOT NULL,
            current_tenant_id uuid REFERENCES tenants (id),  -- the chain this session works in
            created_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz,
            ip text,
            user_agent text
        )""")
    op.execute("CREATE UNIQUE INDEX user_sessions_token_key ON user_sessions (token_hash)")
    op.execute("CREATE INDEX user_sessions_user_idx ON user_sessions (user_id)")
    # A session row is the user's own: they list and end their sessions; nobody else reads them.
    op.execute("ALTER TABLE user_sessions ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE user_sessions FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY own_sessions ON user_sessions USING (user_id = {CURRENT_USER_ID}) "
        f"WITH CHECK (user_id = {CURRENT_USER_ID})"
    )
    op.execute(f"REVOKE DELETE ON user_sessions FROM {app}")

    # --- invitations --------------------------------------------------------------------
    op.execute("""
        CREATE TABLE invitations (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            email text NOT NULL CHECK (email = lower(email)),
            role text NOT NULL CHECK (role IN ('owner', 'manager', 'pharmacist', 'technician', 'cashier')),
            branch_ids uuid[] NOT NULL DEFAULT '{}',
            token_hash text NOT NULL,
            invited_by uuid REFERENCES users (id),
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            accepted_at timestamptz,
            revoked_at timestamptz,
            PRIMARY KEY (tenant_id, id)
        )""")
    op.execute("CREATE UNIQUE INDEX invitations_token_key ON invitations (token_hash)")
    op.execute("CREATE INDEX invitations_email_idx ON invitations (tenant_id, email)")
    enable_tenant_rls(op.execute, "invitations")

    # --- API tokens ---------------------------------------------------------------------
    op.execute("""
        CREATE TABLE api_tokens (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
            token_prefix text NOT NULL,
            token_hash text NOT NULL,
            scopes text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write', 'admin']::text[]
                                          AND cardinality(scopes) > 0),
            created_by uuid REFERENCES users (id),
            created_at timestamptz NOT NULL DEFAULT now(),
            last_used_at timestamptz,
            revoked_at timestamptz,
            PRIMARY KEY (tenant_id, id)
        )""")
    op.execute("CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (token_hash)")
    enable_tenant_rls(op.execute, "api_tokens")

    # --- lookups that run before the tenant (or user) is known -----------------------------
    # One round trip per browser event: the session, its user and their role in the session's
    # tenant, refusing revoked, expired or inactive ones. last_seen_at is written at most once a minute.
    op.execute("""
        CREATE FUNCTION session_principal(p_token_hash text)
        RETURNS TABLE (session_id uuid, user_id uuid, full_name text, email text, tenant_id uuid,
                       tenant_name text, tenant_status text, role text, membership_id uuid,
                       branch_ids uuid[])
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        #variable_conflict use_column
        DECLARE s public.user_sessions;
        BEGIN
            SELECT * INTO s FROM public.user_sessions us
            WHERE us.token_hash = p_token_hash AND us.revoked_at IS NULL AND us.expires_at > now();
            IF NOT FOUND THEN RETURN; END IF;
            IF s.last_seen_at < now() - interval '1 minute' THEN
                UPDATE public.user_sessions SET last_seen_at = now() WHERE id = s.id;
            END IF;
            RETURN QUERY
            SELECT s.id, u.id, u.full_name, u.email, t.id, t.name, t.status, m.role, m.id,
                   coalesce((SELECT array_agg(mb.branch_id) FROM public.membership_branches mb
                             WHERE mb.tenant_id = m.tenant_id AND mb.membership_id = m.id), '{}')
            FROM public.users u
            LEFT JOIN public.memberships m
                   ON m.user_id = u.id AND m.is_active AND m.tenant_id = s.current_tenant_id
            LEFT JOIN public.tenants t ON t.id = m.tenant_id
            WHERE u.id = s.user_id AND u.is_active;
        END $$""")
    # A manager deactivating a member ends that member's sessions in this tenant at once.
    op.execute(f"""
        CREATE FUNCTION sessions_end_for_member(p_user_id uuid)
        RETURNS integer
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            WITH ended AS (
                UPDATE public.user_sessions SET revoked_at = now()
                WHERE user_id = p_user_id AND revoked_at IS NULL
                  AND current_tenant_id = {CURRENT_TENANT}
                  AND EXISTS (SELECT 1 FROM public.memberships m WHERE m.user_id = p_user_id
                              AND m.tenant_id = {CURRENT_TENANT})
                RETURNING 1
            ) SELECT count(*)::integer FROM ended
        $$""")
    op.execute("""
        CREATE FUNCTION invitation_by_token(p_token_hash text)
        RETURNS TABLE (tenant_id uuid, invitation_id uuid, tenant_name text, email text, role text,
                       expires_at timestamptz, accepted_at timestamptz, revoked_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT i.tenant_id, i.id, t.name, i.email, i.role, i.expires_at, i.accepted_at, i.revoked_at
            FROM public.invitations i JOIN public.tenants t ON t.id = i.tenant_id
            WHERE i.token_hash = p_token_hash
        $$""")
    op.execute("""
        CREATE FUNCTION api_token_principal(p_token_hash text)
        RETURNS TABLE (tenant_id uuid, token_id uuid, scopes text[], tenant_status text,
                       rate_limit_per_hour integer, created_by uuid)
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        #variable_conflict use_column
        DECLARE k public.api_tokens;
        BEGIN
            SELECT * INTO k FROM public.api_tokens WHERE token_hash = p_token_hash AND revoked_at IS NULL;
            IF NOT FOUND THEN RETURN; END IF;
            IF k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute' THEN
                UPDATE public.api_tokens SET last_used_at = now() WHERE tenant_id = k.tenant_id AND id = k.id;
            END IF;
            RETURN QUERY SELECT k.tenant_id, k.id, k.scopes, t.status, t.api_rate_limit_per_hour, k.created_by
                         FROM public.tenants t WHERE t.id = k.tenant_id;
        END $$""")
    # Signing up or inviting needs to know whether an e-mail already has an account (one row).
    op.execute("""
        CREATE FUNCTION user_id_by_email(p_email text)
        RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT id FROM public.users WHERE email = lower(p_email)
        $$""")
    for fn in FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {app}")


def downgrade() -> None:
    for fn in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    for table in ("api_tokens", "invitations", "user_sessions"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute("ALTER TABLE tenants DROP COLUMN api_rate_limit_per_hour")
    op.execute("ALTER TABLE tenants DROP COLUMN require_mfa")
