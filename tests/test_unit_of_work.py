"""The adapter owns the unit of work (issue 12): a domain's services take the session first, and no
service is a wrapper that only opens a transaction around another (the old `x_in` / `x` pairs).

Checked for the domains already converted; add a domain here once its wrappers are gone. Beyond the
pairs, no function of a converted domain opens a transaction itself (`tenant_session`,
`tenant_connection`, `platform_session`, `run_in_tenant`) unless it is on OWN_TRANSACTION with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONVERTED = [
    "backend/billing",
    "backend/inventory",
    "backend/prescriptions",
    "backend/patients",
    "backend/branches",
    "backend/jobs",
    "backend/controlled",
    "backend/retention",
    "backend/feedback",
]
OPENERS = {"tenant_session", "tenant_connection", "platform_session", "run_in_tenant"}
# Functions that open their own transaction, each with its reason. Shrink it; do not grow it lightly.
OWN_TRANSACTION = {
    "backend/billing/audit_chain.py:verify_chains": "the platform's check over every chain (no tenant)",
    "backend/billing/payments/cards.py:handle_webhook": "the provider's call names no tenant until it is read",
    "backend/inventory/service.py:reconcile": "the platform's ledger check over every chain (no tenant)",
    "backend/inventory/service.py:dispense_stock": "the sale's hot path on a bare connection (bench/sales.py)",
    "backend/inventory/csv_import.py:start_import": "an inline import commits batch by batch, with its progress",
    "backend/inventory/csv_import.py:_import_batches": "one transaction per batch, so progress shows and survives",
    "backend/inventory/csv_import.py:run_import_job": "marks the import as importing in its own transaction",
    "backend/inventory/csv_import.py:_fail": "records a failed import after the job's transaction rolled back",
    "backend/billing/bills/pdf.py:bill_document": "reads the bill in one transaction, the PDF is drawn after it",
    "backend/jobs/service.py:run_outbox_job": "the job runner is an adapter: it opens the job's transaction",
    "backend/jobs/service.py:_record_failure": "records a failed attempt after the job's transaction rolled back",
    # Not converted yet: their callers are in pages of other domains (patients, settings).
    "backend/billing/claims/service.py:list_payers": "not converted yet",
    "backend/billing/claims/service.py:coverages_of_patient": "not converted yet",
    "backend/billing/payments/cards.py:card_setup": "not converted yet",
}


def _body(node: ast.FunctionDef) -> list[ast.stmt]:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body


def _calls(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == name


def _only_opens_a_transaction(node: ast.FunctionDef) -> bool:
    """`with tenant_session(ctx) as session: return f(session, ...)` or `return run_in_tenant(ctx, f, ...)`."""
    body = _body(node)
    if len(body) != 1:
        return False
    statement = body[0]
    if isinstance(statement, ast.Return) and statement.value is not None:
        return _calls(statement.value, "run_in_tenant")
    if isinstance(statement, ast.With) and len(statement.body) == 1:
        opens = any(_calls(item.context_expr, "tenant_session") for item in statement.items)
        inner = statement.body[0]
        call = inner.value if isinstance(inner, ast.Return | ast.Expr) else None
        first = call.args[0] if isinstance(call, ast.Call) and call.args else None
        return opens and isinstance(first, ast.Name) and first.id == "session"
    return False


def wrappers(root: Path = ROOT) -> list[str]:
    found = []
    for folder in CONVERTED:
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if not isinstance(node, ast.FunctionDef):
                    continue
                where = f"{path.relative_to(root)}:{node.name}"
                first = node.args.args[0].arg if node.args.args else ""
                if first == "session" and node.name.endswith(("_in", "_into", "_in_session")):
                    found.append(f"{where} is an `x_in` form: give it the plain name")
                elif _only_opens_a_transaction(node):
                    found.append(f"{where} only opens a transaction: the adapter does that")
    return found


def own_transactions(root: Path = ROOT) -> list[str]:
    """Top-level functions of the converted domains that open a transaction themselves."""
    found = []
    for folder in CONVERTED:
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.parse(path.read_text(), filename=str(path)).body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                    _calls(call, opener) for call in ast.walk(node) for opener in OPENERS
                ):
                    found.append(f"{path.relative_to(root)}:{node.name}")
    return found


def test_converted_domains_have_no_transaction_wrappers():
    assert wrappers() == []


def test_services_leave_the_transaction_to_the_adapter():
    opened = own_transactions()
    assert [f for f in opened if f not in OWN_TRANSACTION] == [], "take the session first; the adapter opens it"
    assert sorted(set(OWN_TRANSACTION) - set(opened)) == [], "no longer opens a transaction: drop it from the list"


def test_a_wrapper_pair_is_caught(tmp_path):
    (tmp_path / "backend" / "billing").mkdir(parents=True)
    (tmp_path / "backend" / "billing" / "service.py").write_text(
        "def void_bill(ctx, bill_id):\n"
        "    with tenant_session(ctx) as session:\n"
        "        return void_in(session, ctx, bill_id)\n\n"
        "def void_in(session, ctx, bill_id):\n"
        "    return bill_id\n\n"
        "def finalize(ctx, bill_id):\n"
        '    """Docstring."""\n'
        "    return run_in_tenant(ctx, finalize_bill, bill_id)\n\n"
        "def list_bills(ctx):\n"  # not a wrapper, but it opens its own transaction
        "    with tenant_session(ctx) as session:\n"
        "        rows = session.execute(1)\n"
        "        return rows\n"
    )
    assert wrappers(tmp_path) == [
        "backend/billing/service.py:void_bill only opens a transaction: the adapter does that",
        "backend/billing/service.py:void_in is an `x_in` form: give it the plain name",
        "backend/billing/service.py:finalize only opens a transaction: the adapter does that",
    ]
    # The broader check also names the read that opens its own transaction.
    assert own_transactions(tmp_path) == [
        "backend/billing/service.py:void_bill",
        "backend/billing/service.py:finalize",
        "backend/billing/service.py:list_bills",
    ]
