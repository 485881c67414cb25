"""Import directions from DESIGN.md, checked by walking every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> top-level packages it must never import
FORBIDDEN = {
    "backend": {"reflex", "pharmacy_saas", "pages", "components"},
    "tenants": {"reflex", "pharmacy_saas", "pages", "components"},
    "pages": {"backend", "tenants"},
    "components": {"backend", "tenants", "pharmacy_saas"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def violations(package: str, root: Path = ROOT) -> list[str]:
    bad = []
    for path in sorted((root / package).rglob("*.py")):
        for name in sorted(imports_of(path) & FORBIDDEN[package]):
            bad.append(f"{path.relative_to(root)} imports {name}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_import_directions(package):
    assert violations(package) == []


def test_the_checker_catches_a_violation(tmp_path):
    fake = tmp_path / "backend"
    fake.mkdir()
    (fake / "leaky.py").write_text("import reflex as rx\nfrom pages.landing import landing_page\n")
    assert violations("backend", tmp_path) == [
        "backend/leaky.py imports pages",
        "backend/leaky.py imports reflex",
    ]


# Shared plumbing every domain may use, and the assembly modules that wire the domains together
# (the REST app, the CLI, the job handler list); everything else under backend/ is a domain.
NOT_DOMAINS = {"core", "http", "api", "cli", "job_handlers", "__init__"}
# Packages under backend/ that every domain uses and that must therefore import no domain (only core):
# the outbox and job registry, idempotent writes, mail. A domain registers with them; they never
# reach back (backend/jobs importing the domains' tasks made an import loop).
PLUMBING = ("jobs", "idempotency", "notifications")
# Domain modules plumbing may use because they import only core themselves (checked below): the chain keys
# that seal a notification's recipient and text (issue 18's queue lives in backend/notifications).
PLUMBING_MAY_USE = {"backend.protection.keys"}


def _domain_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "backend" or len(parts) < 2 or parts[1] in NOT_DOMAINS:
        return None
    return parts[1]


def _is_api_module(module: str) -> bool:
    last = module.split(".")[-1]
    return last == "api" or last.endswith("_api")


def full_imports_of(path: Path, *, names: bool = True) -> set[str]:
    """Dotted modules a file imports; with `names`, also `module.name` for each `from module import name`
    (so `from backend.inventory import api` counts as importing backend.inventory.api)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if names:
                found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def cross_domain_api_imports(root: Path = ROOT) -> list[str]:
    """A domain never imports another domain's REST module: it calls that domain's service."""
    bad = []
    for path in sorted((root / "backend").rglob("*.py")):
        mine = _domain_of(".".join(path.relative_to(root).with_suffix("").parts))
        if mine is None:
            continue
        for module in sorted(full_imports_of(path)):
            theirs = _domain_of(module)
            if theirs and theirs != mine and _is_api_module(module):
                bad.append(f"{path.relative_to(root)} imports {module}")
    return bad


def core_imports_above_itself(root: Path = ROOT) -> list[str]:
    """backend/core is the bottom layer: it imports no domain, no tenancy and no adapter."""
    bad = []
    for path in sorted((root / "backend" / "core").rglob("*.py")):
        for module in sorted(full_imports_of(path, names=False)):
            top = module.split(".")
            if top[0] == "tenants" or (top[0] == "backend" and len(top) > 1 and top[1] != "core"):
                bad.append(f"{path.relative_to(root)} imports {module}")
    return bad


def plumbing_imports_of_domains(root: Path = ROOT) -> list[str]:
    """backend/jobs, backend/idempotency and backend/notifications import no domain package."""
    bad = []
    for package in PLUMBING:
        for path in sorted((root / "backend" / package).rglob("*.py")):
            for module in sorted(full_imports_of(path, names=False)):
                theirs = _domain_of(module)
                if theirs and theirs not in PLUMBING and module not in PLUMBING_MAY_USE:
                    bad.append(f"{path.relative_to(root)} imports {module}")
    return bad


def test_plumbing_imports_no_domain():
    assert plumbing_imports_of_domains() == []


def test_what_plumbing_may_use_imports_only_core():
    for module in PLUMBING_MAY_USE:
        path = ROOT / (module.replace(".", "/") + ".py")
        imported = {_domain_of(m) for m in full_imports_of(path, names=False)} - {None}
        assert imported <= {module.split(".")[1]}, f"{module} imports {imported}"


def test_the_plumbing_check_catches_one(tmp_path):
    (tmp_path / "backend" / "jobs").mkdir(parents=True)
    (tmp_path / "backend" / "jobs" / "registry.py").write_text(
        "def load():\n    import backend.accounts.tasks\n    from backend.core.queue import job_queue\n"
        "    from backend.jobs.models import OutboxJob\n"
    )
    assert plumbing_imports_of_domains(tmp_path) == ["backend/jobs/registry.py imports backend.accounts.tasks"]


def imports_of_the_demo(root: Path = ROOT) -> list[str]:
    """The demo loader sits above the domains (it calls their services and bulk books); no domain or
    tenancy module imports it: sign-up's "load demo data" is the sign-up adapter's call."""
    bad = []
    for package in ("backend", "tenants"):
        for path in sorted((root / package).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            if module.startswith("backend.demo") or module == "backend.cli":  # the CLI is an adapter
                continue
            for imported in sorted(full_imports_of(path, names=False)):
                if imported == "backend.demo" or imported.startswith("backend.demo."):
                    bad.append(f"{path.relative_to(root)} imports {imported}")
    return bad


def test_no_domain_imports_the_demo_loader():
    assert imports_of_the_demo() == []


def test_the_demo_check_catches_one(tmp_path):
    (tmp_path / "backend" / "accounts").mkdir(parents=True)
    (tmp_path / "backend" / "accounts" / "service.py").write_text(
        "def sign_up():\n    from backend.demo.seed import load_demo_data\n"
    )
    (tmp_path / "tenants").mkdir()
    assert imports_of_the_demo(tmp_path) == ["backend/accounts/service.py imports backend.demo.seed"]


def test_no_domain_imports_another_domains_api_module():
    assert cross_domain_api_imports() == []


def test_core_imports_nothing_above_it():
    assert core_imports_above_itself() == []


def test_the_api_import_check_catches_one(tmp_path):
    (tmp_path / "backend" / "billing").mkdir(parents=True)
    (tmp_path / "backend" / "billing" / "sneaky.py").write_text(
        "from backend.inventory.api import receive\nfrom backend.inventory import service\n"
        "from backend.billing.bills.api import router\nfrom backend.http import RequirePermission\n"
    )
    (tmp_path / "backend" / "core").mkdir(parents=True)
    (tmp_path / "backend" / "core" / "leaky.py").write_text("from tenants.session import tenant_session\n")
    assert cross_domain_api_imports(tmp_path) == ["backend/billing/sneaky.py imports backend.inventory.api"]
    assert core_imports_above_itself(tmp_path) == ["backend/core/leaky.py imports tenants.session"]


def test_app_module_only_assembles():
    tree = ast.parse((ROOT / "pharmacy_saas/pharmacy_saas.py").read_text())
    defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert defined == []
