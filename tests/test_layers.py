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


def test_app_module_only_assembles():
    tree = ast.parse((ROOT / "pharmacy_saas/pharmacy_saas.py").read_text())
    defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert defined == []
