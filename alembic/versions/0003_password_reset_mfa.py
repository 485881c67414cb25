"""Password reset tokens and two-factor authentication (TOTP, recovery codes).

Revision ID: 0003_password_reset_mfa
Revises: 0002_accounts
Create Date: 2026-11-26
"""

from alembic import op

from backend.core.migration_helpers import CURRENT_USER_ID
from backend.core.settings import get_settings

revision = "0003_password_reset_mfa"
down_revision = "0002_accounts"
branch_labels = None
depends_on = None

FUNCTIONS = (
    "password_reset_issue(uuid, text, uuid, integer)",
    "password_reset_apply(text, text)",
    "session_principal(text)",
)


def own_rows_only(table: str) -> None:
    """A table of per-user secrets: each session sees and changes only its own user's rows."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY own_rows ON {table} USING (user_id = {CURRENT_USER_ID}) "
        f"WITH CHECK (user_id = {CURRENT_USER_ID})"
    )


def upgrade() -> None:
    settings = get_settings()
    app, platform = settings.APP_DB_ROLE, settings.PLATFORM_DB_ROLE

    # --- password reset: only reachable through the two functions below ---------------------
    op.execute("""
        CREATE TABLE password_resets (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            user_id uuid NOT NULL REFERENCES users (id),
            token_hash text NOT NULL UNIQUE,
            outbox_id uuid NOT NULL UNIQUE,  -- the job that sent it: a re-run sends nothing twice
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at timestamptz
        )""")
    op.execute(f"REVOKE ALL ON password_resets FROM {app}")
    op.execute("""
        CREATE FUNCTION password_reset_issue(p_user_id uuid, p_token_hash text, p_outbox_id uuid,
                                             p_ttl_minutes integer)
        RETURNS boolean
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            WITH issued AS (
                INSERT INTO public.password_resets (user_id, token_hash, outbox_id, expires_at)
                VALUES (p_user_id, p_token_hash, p_outbox_id,
                        now() + make_interval(mins => least(p_ttl_minutes, 240)))
                ON CONFLICT (outbox_id) DO NOTHING RETURNING 1
            ) SELECT EXISTS (SELECT 1 FROM issued)
        $$""")
    # One statement does it all: spend the token, set the new hash, end every session, and spend
    # the user's other outstanding links.
    op.execute("""
        CREATE FUNCTION password_reset_apply(p_token_hash text, p_password_hash text)
        RETURNS uuid
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE r public.password_resets;
        BEGIN
            SELECT * INTO r FROM public.password_resets
            WHERE token_hash = p_token_hash AND used_at IS NULL AND expires_at > now() FOR UPDATE;
            IF NOT FOUND THEN RETURN NULL; END IF;
            UPDATE public.password_resets SET used_at = now() WHERE user_id = r.user_id AND used_at IS NULL;
            UPDATE public.users SET password_hash = p_password_hash WHERE id = r.user_id AND is_active;
            IF NOT FOUND THEN RETURN NULL; END IF;
            UPDATE public.user_sessions SET revoked_at = now()
            WHERE user_id = r.user_id AND revoked_at IS NULL;
            RETURN r.user_id;
        END $$""")

    # --- two-factor authentication ---------------------------------------------------------
    op.execute("""
        CREATE TABLE user_mfa (
            user_id uuid PRIMARY KEY REFERENCES users (id),
            secret_encrypted text NOT NULL,
            enabled_at timestamptz,          -- null until the first code is verified
            last_step bigint NOT NULL DEFAULT 0,  -- the newest 30 s step used: a code works once
            created_at timestamptz NOT NULL DEFAULT now()
        )""")
    own_rows_only("user_mfa")
    op.execute("""
        CREATE TABLE recovery_codes (
            user_id uuid NOT NULL REFERENCES users (id),
            code_hash text NOT NULL,
            used_at timestamptz,
            PRIMARY KEY (user_id, code_hash)
        )""")
    own_rows_only("recovery_codes")
    op.execute(f"REVOKE ALL ON user_mfa, recovery_codes FROM {platform}")

    # The session principal now also says whether the user has MFA and whether the chain requires it.
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
            WHERE us.token_hash = p_token_hash AND us.revoked_at IS NULL AND us.expires_at > now();
            IF NOT FOUND THEN RETURN; END IF;
            IF s.last_seen_at < now() - interval '1 minute' THEN
                UPDATE public.user_sessions SET last_seen_at = now() WHERE id = s.id;
            END IF;
            RETURN QUERY
            SELECT s.id, u.id, u.full_name, u.email, t.id, t.name, t.status, m.role, m.id,
                   coalesce((SELECT array_agg(mb.branch_id) FROM public.membership_branches mb
                             WHERE mb.tenant_id = m.tenant_id AND mb.membership_id = m.id), '{}'),
                   EXISTS (SELECT 1 FROM public.user_mfa f
                           WHERE f.user_id = u.id AND f.enabled_at IS NOT NULL),
                   coalesce(t.require_mfa, false)
            FROM public.users u
            LEFT JOIN public.memberships m
                   ON m.user_id = u.id AND m.is_active AND m.tenant_id = s.current_tenant_id
            LEFT JOIN public.tenants t ON t.id = m.tenant_id
            WHERE u.id = s.user_id AND u.is_active;
        END $$""")
    for fn in FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {app}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS password_reset_apply(text, text)")
    op.execute("DROP FUNCTION IF EXISTS password_reset_issue(uuid, text, uuid, integer)")
    op.execute("DROP TABLE IF EXISTS recovery_codes, user_mfa, password_resets")
