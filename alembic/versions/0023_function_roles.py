"""The pre-tenant and cross-tenant functions move off the app role onto roles of their own.

Row-level security is only as strong as the SECURITY DEFINER functions beside it: until now the app
role (every request, so the position a SQL injection anywhere or a leaked app password gives) could
issue and apply a password reset for any user of any chain, read any user's password hash by e-mail,
learn whether an e-mail has an account, and claim or mark other chains' outbox jobs.

- `auth` (pharmacy_auth): sign-in lookup, e-mail to user id, password reset issue and apply, SSO
  configuration by slug, invitation by token. Opened only by `backend.accounts.auth_path`.
- `relay` (pharmacy_relay): `outbox_claim` and `outbox_mark_relayed`. Opened only by the relay.
Both roles own nothing and have no table privileges; `db upgrade` creates them before migrating.

The functions that stay on the app role check their caller: a token hash the caller could only have
from a cookie or an e-mail (`session_principal`, `platform_principal`, `api_token_principal`), the
signed-in user (`auth_user_memberships`), or the current tenant (`sessions_end_for_member`).

A password reset is now issued in its own transaction on the auth role (the job's tenant transaction
commits later), so a job that runs again after its e-mail failed replaces the unsent link instead of
finding it issued and sending nothing; a link already used is never replaced.

Revision ID: 0023_function_roles
Revises: 0022_insurance_claims
Create Date: 2026-12-05
"""

from alembic import op

from backend.core.settings import get_settings

revision = "0023_function_roles"
down_revision = "0022_insurance_claims"
branch_labels = None
depends_on = None

AUTH_FUNCTIONS = (
    "auth_login_lookup(text)",
    "user_id_by_email(text)",
    "password_reset_issue(uuid, text, uuid, integer)",
    "password_reset_apply(text, text)",
    "sso_config_by_slug(text)",
    "invitation_by_token(text)",
)
RELAY_FUNCTIONS = ("outbox_claim(integer)", "outbox_mark_relayed(uuid[])")


def upgrade() -> None:
    settings = get_settings()
    app, auth, relay = (
        f'"{settings.APP_DB_ROLE}"',
        f'"{settings.AUTH_DB_ROLE}"',
        f'"{settings.RELAY_DB_ROLE}"',
    )
    op.execute("""
        CREATE OR REPLACE FUNCTION password_reset_issue(p_user_id uuid, p_token_hash text, p_outbox_id uuid,
                                                        p_ttl_minutes integer)
        RETURNS boolean
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            WITH issued AS (
                INSERT INTO public.password_resets (user_id, token_hash, outbox_id, expires_at)
                VALUES (p_user_id, p_token_hash, p_outbox_id,
                        now() + make_interval(mins => least(p_ttl_minutes, 240)))
                ON CONFLICT (outbox_id) DO UPDATE
                    SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at,
                        created_at = now()
                    WHERE password_resets.used_at IS NULL AND password_resets.user_id = EXCLUDED.user_id
                RETURNING 1
            ) SELECT EXISTS (SELECT 1 FROM issued)
        $$""")
    # Nothing is executable just because it exists: upgraded databases match fresh ones, where `db upgrade`
    # sets the owner's default privileges so that a new function reaches only the roles granted it.
    op.execute("REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC")
    for fn in AUTH_FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC, {app}")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {auth}")
    for fn in RELAY_FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC, {app}")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {relay}")


def downgrade() -> None:
    settings = get_settings()
    app, auth, relay = (
        f'"{settings.APP_DB_ROLE}"',
        f'"{settings.AUTH_DB_ROLE}"',
        f'"{settings.RELAY_DB_ROLE}"',
    )
    for fn in AUTH_FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM {auth}")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {app}")
    for fn in RELAY_FUNCTIONS:
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM {relay}")
        op.execute(f"GRANT EXECUTE ON FUNCTION {fn} TO {app}")
