"""The platform path (BYPASSRLS) has a short, reviewed list of callers."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ["backend", "tenants", "pharmacy_saas", "pages", "components", "devtools", "bench"]

# Every function allowed to reach the BYPASSRLS role, and why. Adding one is a reviewed change.
ALLOWED_CALLERS = {
    "backend/core/database.py:open_session": "picks the platform engine for platform_session",
    "tenants/session.py:platform_session": "the one named, audited bypass",
    "tenants/provisioning.py:provision_tenant": "sign-up and seeding create a tenant",
    "backend/demo/seed.py:seed_demo": "demo seed: checks the database is empty, then provisions the demo chain and "
    "COPYs its history through the domains' bulk loaders, one transaction (COPY is refused under RLS)",
    "backend/demo/scale.py:seed_scale": "demo seed --tenants: checks the slug prefix is free",
    "backend/demo/scale.py:load_chunk": "demo seed --tenants: COPY of synthetic chains, one transaction a chunk",
    "backend/platform/service.py:list_tenants": "operators list every chain",
    "backend/platform/service.py:set_tenant_status": "operators suspend and reactivate chains",
    "backend/platform/service.py:grant_support_access": "time-limited support access, audited in the chain",
    "backend/platform/service.py:create_platform_admin": "operator command creating a console account",
    "backend/accounts/staff.py:accept_invitation": "an invitee joins a chain they are not in yet",
    "backend/accounts/sso.py:_join_on_first_sign_in": "a verified SSO e-mail joins when the owner allows it",
    "backend/schedules/service.py:active_chains": "the scheduled-jobs tick lists the active chains, then writes "
    "each chain's due jobs in that chain's own tenant transaction",
    "backend/inventory/service.py:reconcile": "the operator's ledger check across chains",
    "backend/billing/audit_chain.py:verify_chains": "the operator's `audit verify` of one chain's hash chains",
    "backend/billing/payments/cards.py:handle_webhook": "a Stripe webhook arrives before its chain is known",
    "bench/rls_overhead.py:main": "the BYPASSRLS baseline of the RLS benchmark (bench database only)",
    "bench/rls_overhead.py:raw_transaction": "the same baseline, one transaction per sample",
}


# The auth and relay roles may execute only their path's functions (migration 0023); their
# connections are opened by these functions alone.
AUTH_CALLERS = {
    "backend/core/database.py:open_session": "picks the auth engine for a session of that kind",
    "backend/accounts/auth_path.py:check_login": "sign-in: the account's hash, compared in Python (argon2)",
    "backend/core/database.py:lookup": "one statement on the app or auth role, as its caller names",
    "backend/accounts/auth_path.py:user_id_by_email": "SSO and invitations ask whether an e-mail has an account",
    "backend/accounts/auth_path.py:issue_password_reset": "the reset job stores the hash of a new link",
    "backend/accounts/auth_path.py:apply_password_reset": "the reset page spends a link",
    "backend/accounts/auth_path.py:sso_config_row": "the sign-in page finds a chain's SSO by its slug",
    "backend/accounts/auth_path.py:invitation_row": "the invitation page reads its invitation by token",
    "backend/accounts/auth_path.py:portal_chain_row": "a chain's public portal finds its chain by the slug",
}
RELAY_CALLERS = {
    "backend/core/database.py:open_session": "picks the relay engine for a session of that kind",
    "backend/jobs/service.py:relay_once": "claims committed outbox rows of every chain and marks them relayed",
}


def _role_kind_named(call: ast.Call, kind: str) -> bool:
    """open_session("kind"), engine_for("kind") or lookup(..., kind="kind")."""
    constants = [*call.args, *(k.value for k in call.keywords if k.arg == "kind")]
    return any(isinstance(arg, ast.Constant) and arg.value == kind for arg in constants)


def _reaches(kind: str):
    def reaches(call: ast.Call) -> bool:
        name = getattr(call.func, "id", getattr(call.func, "attr", None))
        if name in {f"{kind}_session", f"{kind}_engine"}:
            return True
        if name in {"open_session", "engine_for", "lookup"} and _role_kind_named(call, kind):
            return True
        # engine_for(kind) with a variable is how open_session picks any engine; it is listed above.
        return name == "engine_for" and kind != "app"

    return reaches


_reaches_platform = _reaches("platform")


def callers_of(kind: str, root: Path = ROOT) -> set[str]:
    reaches = _reaches(kind)
    callers = set()
    for folder in SOURCE_DIRS:
        for path in (root / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for fn in ast.walk(tree):
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    isinstance(node, ast.Call) and reaches(node) for node in ast.walk(fn)
                ):
                    callers.add(f"{path.relative_to(root)}:{fn.name}")
    return callers


def platform_callers(root: Path = ROOT) -> set[str]:
    return callers_of("platform", root)


def test_platform_path_callers_are_the_reviewed_list():
    assert platform_callers() == set(ALLOWED_CALLERS)


def test_auth_role_callers_are_the_reviewed_list():
    assert callers_of("auth") == set(AUTH_CALLERS)


def test_relay_role_callers_are_the_reviewed_list():
    assert callers_of("relay") == set(RELAY_CALLERS)


def test_a_new_auth_or_relay_caller_is_caught(tmp_path):
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "sneaky.py").write_text(
        "from backend.core.database import lookup, open_session\n"
        "def hashes(email):\n"
        "    return lookup('SELECT * FROM auth_login_lookup(%(e)s)', {'e': email}, kind='auth')\n"
        "def silence():\n"
        "    with open_session('relay') as s:\n"
        "        return s\n"
    )
    assert callers_of("auth", tmp_path) == {"backend/sneaky.py:hashes"}
    assert callers_of("relay", tmp_path) == {"backend/sneaky.py:silence"}


def test_a_new_caller_is_caught(tmp_path):
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "sneaky.py").write_text(
        "from tenants.session import platform_session\n"
        "def export_everything():\n"
        "    with platform_session(reason='x') as s:\n"
        "        return s\n"
    )
    assert platform_callers(tmp_path) == {"backend/sneaky.py:export_everything"}
