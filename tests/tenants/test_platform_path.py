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
    "backend/demo/seed.py:seed_demo": "checks whether any chain exists before seeding",
    "backend/demo/scale.py:seed_scale": "demo seed --tenants: checks the slug prefix is free",
    "backend/demo/scale.py:load_chunk": "demo seed --tenants: COPY of synthetic chains, one transaction a chunk",
    "backend/platform/service.py:list_tenants": "operators list every chain",
    "backend/platform/service.py:set_tenant_status": "operators suspend and reactivate chains",
    "backend/platform/service.py:grant_support_access": "time-limited support access, audited in the chain",
    "backend/platform/service.py:create_platform_admin": "operator command creating a console account",
    "backend/accounts/staff.py:accept_invitation": "an invitee joins a chain they are not in yet",
    "backend/accounts/sso.py:_join_on_first_sign_in": "a verified SSO e-mail joins when the owner allows it",
    "backend/inventory/service.py:reconcile": "the operator's ledger check across chains",
    "backend/billing/audit_chain.py:verify_chains": "the operator's `audit verify` of one chain's hash chains",
    "backend/billing/cards.py:handle_webhook": "a Stripe webhook arrives before its chain is known",
    "bench/rls_overhead.py:main": "the BYPASSRLS baseline of the RLS benchmark (bench database only)",
    "bench/rls_overhead.py:raw_transaction": "the same baseline, one transaction per sample",
}


def _reaches_platform(call: ast.Call) -> bool:
    name = getattr(call.func, "id", getattr(call.func, "attr", None))
    if name in {"platform_session", "platform_engine"}:
        return True
    return name == "open_session" and any(
        isinstance(arg, ast.Constant) and arg.value == "platform" for arg in call.args
    )


def platform_callers(root: Path = ROOT) -> set[str]:
    callers = set()
    for folder in SOURCE_DIRS:
        for path in (root / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(), filename=str(path))
            for fn in ast.walk(tree):
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    isinstance(node, ast.Call) and _reaches_platform(node) for node in ast.walk(fn)
                ):
                    callers.add(f"{path.relative_to(root)}:{fn.name}")
    return callers


def test_platform_path_callers_are_the_reviewed_list():
    assert platform_callers() == set(ALLOWED_CALLERS)


def test_a_new_caller_is_caught(tmp_path):
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / "sneaky.py").write_text(
        "from tenants.session import platform_session\n"
        "def export_everything():\n"
        "    with platform_session(reason='x') as s:\n"
        "        return s\n"
    )
    assert platform_callers(tmp_path) == {"backend/sneaky.py:export_everything"}
