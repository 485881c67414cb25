"""Database functions beside row-level security: what the app role may execute, and what it may not.

An attacker who holds an app-role connection (a SQL injection anywhere, or a leaked app password)
sets any tenant they like but still finds RLS on every table. SECURITY DEFINER functions run as their
owner and skip RLS, so each one the app role can execute is reviewed here with the check it makes
on its caller; the pre-tenant and cross-tenant ones belong to the auth and relay roles.

Each refusal test has a sabotaged twin that grants EXECUTE back to the app role inside the test's
rolled-back transaction and shows the leak the refusal prevents.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from backend.core.passwords import hash_password
from backend.core.settings import get_settings
from backend.core.tokens import new_token, token_hash
from backend.jobs.service import enqueue_job
from tenants.context import TenantContext
from tenants.session import tenant_session
from tests.tenants.test_rls import as_app, as_owner

SETTINGS = get_settings()
APP, AUTH, RELAY = SETTINGS.APP_DB_ROLE, SETTINGS.AUTH_DB_ROLE, SETTINGS.RELAY_DB_ROLE

# Every function the app role may execute that runs with more rights than the app role has
# (SECURITY DEFINER, or owned by a role that bypasses RLS), and the check it makes on its caller.
# Adding one is a reviewed change: say what the caller must already hold.
APP_ROLE_MAY_EXECUTE = {
    "session_principal(text)": "capability: the hash of a session cookie; answers that session's own user and role",
    "platform_principal(text)": "capability: the hash of a console cookie; answers that admin only",
    "api_token_principal(text)": "capability: the hash of an API token; answers that token's chain and scopes",
    "auth_user_memberships(uuid)": "answers only for app.user_id, the user the session signed in",
    "sessions_end_for_member(uuid)": "ends sessions only in app.tenant_id, for a member of that chain",
}


def functions_the_app_role_can_run_with_more_rights(conn: Connection) -> set[str]:
    """SECURITY DEFINER functions, or functions owned by a BYPASSRLS or superuser role, executable
    by the app role (directly or through PUBLIC); extensions' own functions are not ours to review."""
    rows = conn.execute(
        text("""
        SELECT p.oid::regprocedure::text
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        JOIN pg_roles owner ON owner.oid = p.proowner
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND (p.prosecdef OR owner.rolbypassrls OR owner.rolsuper)
          AND has_function_privilege(:app, p.oid, 'EXECUTE')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')"""),
        {"app": APP},
    )
    return {r[0] for r in rows}


def test_the_app_role_executes_only_reviewed_functions(db):
    assert functions_the_app_role_can_run_with_more_rights(db) == set(APP_ROLE_MAY_EXECUTE)


def test_a_new_function_granted_to_the_app_role_is_caught(db):
    db.execute(
        text("""
        CREATE FUNCTION all_password_hashes() RETURNS SETOF text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS
        $$ SELECT password_hash FROM public.users $$""")
    )
    db.execute(text(f'GRANT EXECUTE ON FUNCTION all_password_hashes() TO "{APP}"'))
    found = functions_the_app_role_can_run_with_more_rights(db)
    assert found - set(APP_ROLE_MAY_EXECUTE) == {"all_password_hashes()"}


def test_a_new_function_reaches_nobody_until_granted(db):
    """`db upgrade` revokes PUBLIC's default EXECUTE, so a forgotten grant fails closed."""
    db.execute(text("CREATE FUNCTION forgotten_grant() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$"))
    for role in (APP, AUTH, RELAY):
        assert not db.execute(
            text("SELECT has_function_privilege(:r, 'forgotten_grant()', 'EXECUTE')"), {"r": role}
        ).scalar_one()


@pytest.mark.parametrize("fn, role", [
    ("auth_login_lookup(text)", AUTH),
    ("user_id_by_email(text)", AUTH),
    ("password_reset_issue(uuid, text, uuid, integer)", AUTH),
    ("password_reset_apply(text, text)", AUTH),
    ("sso_config_by_slug(text)", AUTH),
    ("portal_chain_by_slug(text)", AUTH),
    ("invitation_by_token(text)", AUTH),
    ("outbox_claim(integer)", RELAY),
    ("outbox_mark_relayed(uuid[])", RELAY),
])  # fmt: skip
def test_pre_tenant_and_cross_tenant_functions_belong_to_their_own_role(db, fn, role):
    can = "SELECT has_function_privilege(:r, :f, 'EXECUTE')"
    assert db.execute(text(can), {"r": role, "f": fn}).scalar_one()
    assert not db.execute(text(can), {"r": APP, "f": fn}).scalar_one()
    other = RELAY if role == AUTH else AUTH
    assert not db.execute(text(can), {"r": other, "f": fn}).scalar_one()


def test_the_narrow_roles_own_nothing_and_read_no_table(db):
    for role in (AUTH, RELAY):
        facts = db.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": role}).one()
        assert tuple(facts) == (False, False)
        owned = db.execute(
            text("SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = :r)"),
            {"r": role},
        ).scalar_one()
        assert owned == 0
        readable = db.execute(
            text("""SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v')
                      AND has_table_privilege(:r, c.oid, 'SELECT')"""),
            {"r": role},
        ).scalar_one()
        assert readable == 0


# --- an attacker on the app role, with another chain's inputs ------------------------------------


@pytest.fixture
def victim(db, make_tenant):
    """Chain B's owner (the target) and chain A (where the attacker's connection sits)."""
    attacker, target = make_tenant("alpha"), make_tenant("beta")
    as_owner(db)
    email = db.execute(text("SELECT email FROM users WHERE id = :u"), {"u": target.owner_user_id}).scalar_one()
    return attacker, target, email


def sabotage(db: Connection, *functions: str) -> None:
    """Give the app role back what migration 0023 took away (rolled back with the test)."""
    as_owner(db)
    for fn in functions:
        db.execute(text(f'GRANT EXECUTE ON FUNCTION {fn} TO "{APP}"'))


def attempt(db: Connection, sql: str, params: dict) -> list | None:
    """Run `sql` in a savepoint; None when the database refuses it for lack of privilege."""
    db.execute(text("SAVEPOINT attempt"))
    try:
        return list(db.execute(text(sql), params).all())
    except DBAPIError as exc:
        assert "permission denied for function" in str(exc)
        db.execute(text("ROLLBACK TO SAVEPOINT attempt"))
        return None


@pytest.mark.parametrize("sabotaged", [False, True])
def test_no_password_reset_of_another_chains_owner(db, victim, sabotaged):
    attacker, target, _ = victim
    if sabotaged:
        sabotage(db, "password_reset_issue(uuid, text, uuid, integer)", "password_reset_apply(text, text)")
    token = new_token()
    as_app(db, attacker.tenant_id)
    issued = attempt(
        db,
        "SELECT password_reset_issue(:u, :h, :o, 60)",
        {"u": target.owner_user_id, "h": token_hash(token), "o": uuid.uuid4()},
    )
    applied = attempt(
        db, "SELECT password_reset_apply(:h, :p)", {"h": token_hash(token), "p": hash_password("attacker owns it now")}
    )
    if sabotaged:  # the takeover the grants would allow
        assert issued == [(True,)] and applied == [(target.owner_user_id,)]
    else:
        assert issued is None and applied is None
        as_owner(db)
        resets = text("SELECT count(*) FROM password_resets WHERE user_id = :u")
        assert db.execute(resets, {"u": target.owner_user_id}).scalar_one() == 0


@pytest.mark.parametrize("sabotaged", [False, True])
def test_no_password_hash_of_another_chains_user_by_email(db, victim, sabotaged):
    attacker, target, email = victim
    if sabotaged:
        sabotage(db, "auth_login_lookup(text)")
    as_app(db, attacker.tenant_id)
    rows = attempt(db, "SELECT user_id, password_hash FROM auth_login_lookup(:e)", {"e": email})
    if sabotaged:
        assert rows and rows[0][0] == target.owner_user_id and rows[0][1].startswith("$argon2")
    else:
        assert rows is None


@pytest.mark.parametrize("sabotaged", [False, True])
def test_no_account_test_of_another_chains_email(db, victim, sabotaged):
    attacker, target, email = victim
    if sabotaged:
        sabotage(db, "user_id_by_email(text)")
    as_app(db, attacker.tenant_id)
    rows = attempt(db, "SELECT user_id_by_email(:e)", {"e": email})
    assert rows == ([(target.owner_user_id,)] if sabotaged else None)


@pytest.mark.parametrize("sabotaged", [False, True])
def test_no_listing_or_silencing_of_another_chains_jobs(db, victim, sabotaged):
    attacker, target, _ = victim
    theirs = TenantContext.system(target.tenant_id)
    with tenant_session(theirs) as session:
        job_id = enqueue_job(session, theirs, "system.heartbeat", note="theirs")
    if sabotaged:
        sabotage(db, "outbox_claim(integer)", "outbox_mark_relayed(uuid[])")
    as_app(db, attacker.tenant_id)
    claimed = attempt(db, "SELECT tenant_id, id FROM outbox_claim(100)", {})
    silenced = attempt(db, "SELECT outbox_mark_relayed(CAST(:ids AS uuid[]))", {"ids": [str(job_id)]})
    as_owner(db)
    status = db.execute(text("SELECT status FROM outbox WHERE id = :j"), {"j": job_id}).scalar_one()
    if sabotaged:
        assert (target.tenant_id, job_id) in claimed and silenced == [(1,)] and status == "relayed"
    else:
        assert claimed is None and silenced is None and status == "pending"
