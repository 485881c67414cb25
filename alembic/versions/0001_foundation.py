"""Foundation: tenants, branches, users, memberships, audit trails and the job outbox.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-25
"""

from alembic import op

from backend.core.migration_helpers import CURRENT_TENANT, CURRENT_USER_ID, enable_tenant_rls
from backend.core.settings import get_settings

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    settings = get_settings()
    app, platform = settings.APP_DB_ROLE, settings.PLATFORM_DB_ROLE

    # --- tenants: global table; a tenant session sees only its own row -------------------
    op.execute("""
        CREATE TABLE tenants (
            id uuid PRIMARY KEY,
            slug text NOT NULL,
            name text NOT NULL,
            status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
            plan text NOT NULL DEFAULT 'trial',
            currency char(3) NOT NULL DEFAULT 'USD',
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$')
        )""")
    op.execute("CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug)")
    enable_tenant_rls(op.execute, "tenants", column="id")
    op.execute(f"REVOKE INSERT, DELETE ON tenants FROM {app}")

    # --- branches -----------------------------------------------------------------------
    op.execute("""
        CREATE TABLE branches (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            name text NOT NULL,
            code text NOT NULL,
            address text NOT NULL DEFAULT '',
            time_zone text NOT NULL DEFAULT 'UTC',
            prices_include_tax boolean NOT NULL DEFAULT false,
            default_tax_rate numeric(7, 4) NOT NULL DEFAULT 0 CHECK (default_tax_rate >= 0),
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, code),
            UNIQUE (tenant_id, name)
        )""")
    enable_tenant_rls(op.execute, "branches")

    # --- users: global identities; the app role never reads password hashes --------------
    op.execute("""
        CREATE TABLE users (
            id uuid PRIMARY KEY,
            email text NOT NULL,
            full_name text NOT NULL,
            password_hash text,
            is_platform_admin boolean NOT NULL DEFAULT false,
            is_active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT users_email_lower CHECK (email = lower(email))
        )""")
    op.execute("CREATE UNIQUE INDEX users_email_key ON users (email)")

    # --- memberships: user x tenant x role, optional branch scope --------------------------
    op.execute("""
        CREATE TABLE memberships (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            user_id uuid NOT NULL REFERENCES users (id),
            role text NOT NULL CHECK (role IN ('owner', 'manager', 'pharmacist', 'technician', 'cashier')),
            is_active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, id),
            UNIQUE (tenant_id, user_id)
        )""")
    op.execute("CREATE INDEX memberships_user_idx ON memberships (user_id)")
    enable_tenant_rls(op.execute, "memberships")
    op.execute("""
        CREATE TABLE membership_branches (
            tenant_id uuid NOT NULL,
            membership_id uuid NOT NULL,
            branch_id uuid NOT NULL,
            PRIMARY KEY (tenant_id, membership_id, branch_id),
            FOREIGN KEY (tenant_id, membership_id) REFERENCES memberships (tenant_id, id) ON DELETE CASCADE,
            FOREIGN KEY (tenant_id, branch_id) REFERENCES branches (tenant_id, id)
        )""")
    enable_tenant_rls(op.execute, "membership_branches")

    # Users: a session sees its own row and the members of its current tenant, and only the
    # columns granted below. Sign-in looks a user up through auth_login_lookup().
    op.execute("ALTER TABLE users ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE users FORCE ROW LEVEL SECURITY")
    op.execute(f"""
        CREATE POLICY users_visible ON users USING (
            id = {CURRENT_USER_ID}
            OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id
                       AND m.tenant_id = {CURRENT_TENANT})
        ) WITH CHECK (id = {CURRENT_USER_ID})""")
    op.execute(f"REVOKE ALL ON users FROM {app}")
    op.execute(f"GRANT SELECT (id, email, full_name, is_active, created_at) ON users TO {app}")
    op.execute(f"GRANT UPDATE (full_name) ON users TO {app}")

    # --- audit trails -----------------------------------------------------------------
    op.execute("""
        CREATE TABLE audit_events (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            seq bigint NOT NULL CHECK (seq > 0),
            occurred_at timestamptz NOT NULL DEFAULT now(),
            actor_user_id uuid,
            action text NOT NULL,
            entity_type text,
            entity_id text,
            details jsonb NOT NULL DEFAULT '{}'::jsonb,
            prev_hash text NOT NULL,
            hash text NOT NULL,
            PRIMARY KEY (tenant_id, seq)
        )""")
    op.execute("CREATE INDEX audit_events_time_idx ON audit_events (tenant_id, occurred_at)")
    enable_tenant_rls(op.execute, "audit_events")
    # Append-only for everyone but the owner.
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {app}, {platform}")

    op.execute("""
        CREATE TABLE platform_audit_events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            occurred_at timestamptz NOT NULL DEFAULT now(),
            actor text NOT NULL,
            reason text NOT NULL,
            action text NOT NULL,
            subject_tenant_id uuid,  -- the chain acted on, if any (not an owner: no RLS here)
            details jsonb NOT NULL DEFAULT '{}'::jsonb
        )""")
    op.execute(f"REVOKE ALL ON platform_audit_events FROM {app}")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON platform_audit_events FROM {platform}")

    # --- outbox: jobs written in the business transaction, relayed to RQ after commit ----------
    op.execute("""
        CREATE TABLE outbox (
            tenant_id uuid NOT NULL REFERENCES tenants (id),
            id uuid NOT NULL,
            job_name text NOT NULL,
            payload jsonb NOT NULL DEFAULT '{}'::jsonb,
            queue text NOT NULL DEFAULT 'default',
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'relayed', 'done', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            last_error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            relayed_at timestamptz,
            done_at timestamptz,
            PRIMARY KEY (tenant_id, id)
        )""")
    op.execute("CREATE INDEX outbox_pending_idx ON outbox (created_at) WHERE status = 'pending'")
    enable_tenant_rls(op.execute, "outbox")

    # --- narrow lookups that run before a tenant is known -----------------------------------
    # SECURITY DEFINER with a fixed search_path; each returns one row for one exact key.
    op.execute("""
        CREATE FUNCTION auth_login_lookup(p_email text)
        RETURNS TABLE (user_id uuid, password_hash text, is_active boolean, full_name text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT id, password_hash, is_active, full_name FROM public.users WHERE email = lower(p_email)
        $$""")
    op.execute(f"""
        CREATE FUNCTION auth_user_memberships(p_user_id uuid)
        RETURNS TABLE (tenant_id uuid, tenant_slug text, tenant_name text, tenant_status text,
                       membership_id uuid, role text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT t.id, t.slug, t.name, t.status, m.id, m.role
            FROM public.memberships m JOIN public.tenants t ON t.id = m.tenant_id
            WHERE m.user_id = p_user_id AND m.is_active
              AND p_user_id = {CURRENT_USER_ID}  -- only for the user the session signed in
            ORDER BY t.name
        $$""")
    # The relay claims pending jobs of every tenant without a bypass role: rows stay locked by the
    # caller's transaction until it marks them relayed (or rolls back, leaving them pending).
    op.execute("""
        CREATE FUNCTION outbox_claim(p_limit integer)
        RETURNS TABLE (tenant_id uuid, id uuid, job_name text, queue text)
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT o.tenant_id, o.id, o.job_name, o.queue FROM public.outbox o
            WHERE o.status = 'pending' ORDER BY o.created_at
            LIMIT least(p_limit, 1000) FOR UPDATE SKIP LOCKED
        $$""")
    op.execute("""
        CREATE FUNCTION outbox_mark_relayed(p_ids uuid[])
        RETURNS integer
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            WITH done AS (
                UPDATE public.outbox SET status = 'relayed', relayed_at = now(), attempts = attempts + 1
                WHERE id = ANY(p_ids) AND status = 'pending' RETURNING 1
            ) SELECT count(*)::integer FROM done
        $$""")
    for fn in (
        "auth_login_lookup(text)",
        "auth_user_memberships(uuid)",
        "outbox_claim(integer)",
        "outbox_mark_relayed(uuid[])",
    ):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {app}")


def downgrade() -> None:
    for fn in (
        "outbox_mark_relayed(uuid[])",
        "outbox_claim(integer)",
        "auth_user_memberships(uuid)",
        "auth_login_lookup(text)",
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
    for table in (
        "outbox",
        "platform_audit_events",
        "audit_events",
        "membership_branches",
        "memberships",
        "users",
        "branches",
        "tenants",
    ):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
