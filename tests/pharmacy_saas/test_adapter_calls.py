"""Adapters call a session-first service through their unit of work, never around it.

A service whose first parameter is the session (`fn(session, ctx, ...)`) must be called by a Reflex
handler through `transact` and by a REST endpoint through `in_tenant` / `idempotent_json`: handing it
to `run_service` or `run_in_threadpool` would pass the TenantContext where the session goes, and the
call would only fail when someone clicks. mypy cannot see it (the helpers take `Callable[..., T]`), so
this walks the adapters' calls and resolves each service they pass in the module's own namespace.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
# helper -> what to use instead for a session-first service
OUTSIDE_THE_UNIT_OF_WORK = {"run_service": "transact", "run_in_threadpool": "in_tenant"}


def adapter_modules() -> list[Path]:
    return sorted((ROOT / "pharmacy_saas" / "state").glob("*.py")) + sorted(
        p for p in (ROOT / "backend").rglob("*.py") if p.stem == "api" or p.stem.endswith("_api")
    )


def _takes_session_first(fn: object) -> bool:
    if not callable(fn):
        return False
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0] == "session"


def _resolve(module: ModuleType, node: ast.expr) -> object:
    """What a name (`create_patient`) or a dotted name (`claims.list_payers`) means in `module`."""
    if isinstance(node, ast.Name):
        return getattr(module, node.id, None)
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(module, node.value), node.attr, None)
    return None


def calls_around_the_unit_of_work(source: str, module: ModuleType, where: str) -> list[str]:
    """`run_service(fn, ...)` / `run_in_threadpool(fn, ...)` calls in `source` whose `fn` (looked up
    in `module`) takes the session first."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
            continue
        instead = OUTSIDE_THE_UNIT_OF_WORK.get(node.func.id)
        service = node.args[0]
        if instead and _takes_session_first(_resolve(module, service)):
            bad.append(f"{where}:{node.lineno} {node.func.id}({ast.unparse(service)}, ...): use {instead}")
    return bad


def test_session_first_services_go_through_the_unit_of_work():
    bad = []
    for path in adapter_modules():
        where = str(path.relative_to(ROOT))
        module = importlib.import_module(where.removesuffix(".py").replace("/", "."))
        bad += calls_around_the_unit_of_work(path.read_text(), module, where)
    assert bad == []


def test_the_check_catches_one():
    from pharmacy_saas.state import patients  # imports create_patient (session first) and find_patients

    source = (
        "async def save(self, ctx):\n"
        "    await transact(ctx, create_patient, full_name='A')\n"
        "    await run_service(claims.list_payers, ctx)\n"  # takes the context first: fine
        "    return await run_service(create_patient, ctx, full_name='A')\n"
    )
    assert calls_around_the_unit_of_work(source, patients, "state/patients.py") == [
        "state/patients.py:4 run_service(create_patient, ...): use transact"
    ]
