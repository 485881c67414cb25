"""Each domain is the only writer of its tables; another domain asks it through its service.

The walk reads every string literal in the product's code for SQL that writes a table (INSERT INTO,
UPDATE, DELETE FROM, COPY ... FROM, TRUNCATE) and fails when the table belongs to another domain.
ORM writes (`session.add(Model)`) are kept to the owning domain by review: their models live there.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ["backend", "tenants", "pharmacy_saas", "pages", "components"]

# table -> the package (path prefix) that owns it
OWNERS: dict[str, str] = {
    **dict.fromkeys(
        [
            "medicines",
            "batches",
            "lot_recalls",
            "stock_movements",
            "reorder_levels",
            "suppliers",
            "purchase_orders",
            "purchase_order_lines",
            "catalog_imports",
        ],
        "backend/inventory",
    ),
    **dict.fromkeys(
        [
            "bill_counters",
            "bills",
            "bill_lines",
            "bill_picks",
            "bill_payments",
            "credit_note_counters",
            "credit_notes",
            "credit_note_lines",
            "credit_note_lots",
            "bill_refunds",
            "financial_audit_heads",
            "financial_audit_events",
            "card_payments",
            "card_refunds",
            "stripe_webhook_events",
            "payers",
            "patient_coverages",
            "claims",
            "claim_events",
        ],
        "backend/billing",
    ),
    **dict.fromkeys(["patients", "patient_access_log", "patient_allergies"], "backend/patients"),
    "patient_copy_requests": "backend/patient_copy",  # issue 16: a patient's own copy
    **dict.fromkeys(
        [
            "prescription_settings",
            "prescribers",
            "rx_number_counters",
            "prescriptions",
            "prescription_images",
            "prescription_events",
            "prescription_verifications",
            "prescription_dur_overrides",
            "prescription_readings",
            "prescription_reading_fields",
            "prescription_fills",
            "prescription_fill_lots",
            "prescription_pickups",
            "prescription_renewals",
            "prescription_refill_requests",
            "prescription_transfers",
        ],
        "backend/prescriptions",
    ),
    **dict.fromkeys(
        ["assistant_conversations", "assistant_messages", "assistant_feedback", "assistant_documents"],
        "backend/assistant",
    ),
    **dict.fromkeys(
        [
            "controlled_registrations",
            "controlled_inventories",
            "controlled_inventory_lines",
            "cii_orders",
            "cii_order_lines",
            "cii_order_receipts",
            "controlled_loss_reports",
            "controlled_loss_lines",
        ],
        "backend/controlled",
    ),
    **dict.fromkeys(["retention_settings", "legal_holds", "disposal_batches", "disposal_items"], "backend/retention"),
    "branches": "backend/branches",
    # the minimum necessary in patient messages (issue 16): the chain's setting per kind, the patient's consent
    "message_disclosure": "backend/notifications",
    "patient_message_consents": "backend/patients",
    "chain_data_keys": "backend/protection",
    # the public refill portal (issue 17)
    "portal_refill_requests": "backend/portal",
    "customer_feedback": "backend/feedback",
    "notification_messages": "backend/notifications",
    "notification_channels": "backend/notifications",
    "push_subscriptions": "backend/notifications",
    "scheduled_runs": "backend/schedules",
    "recall_broadcasts": "backend/prescriptions",  # issue 18 §6: one broadcast per chain, medicine and lot
    **dict.fromkeys(["customer_codes", "customer_sessions"], "backend/portal"),  # issue 17 §3: verified customers
}

# (file, table): why this module may write a table it does not own. Adding one is a reviewed change.
ALLOWED: dict[tuple[str, str], str] = {}

_WRITE = re.compile(
    r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY)\s+(?:ONLY\s+)?\"?([a-z_]+)\"?",
    re.IGNORECASE,
)


def written_tables(path: Path) -> set[str]:
    """Tables a module's SQL strings write (f-string parts included), and the tables it COPYs into
    through the bulk plumbing (`copy_rows(session, "table", ...)`, backend/core/bulk.py)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found |= {m.group(1).lower() for m in _WRITE.finditer(node.value)}
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "copy_rows"
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
        ):
            found.add(str(node.args[1].value).lower())
    return found


def foreign_writes(root: Path = ROOT) -> list[str]:
    bad = []
    for folder in SOURCE_DIRS:
        for path in sorted((root / folder).rglob("*.py")):
            where = str(path.relative_to(root))
            for table in sorted(written_tables(path)):
                owner = OWNERS.get(table)
                if owner and not where.startswith(owner + "/") and (where, table) not in ALLOWED:
                    bad.append(f"{where} writes {table} (owned by {owner})")
    return bad


def test_each_domain_is_the_only_writer_of_its_tables():
    assert foreign_writes() == []


def test_a_foreign_write_is_caught(tmp_path):
    (tmp_path / "backend" / "billing").mkdir(parents=True)
    (tmp_path / "backend" / "billing" / "sneaky.py").write_text(
        'SQL = "UPDATE batches SET quantity = quantity + :q WHERE id = :b"\n'
        'MORE = f"INSERT INTO stock_movements (tenant_id) VALUES ({1})"\n'
        'FINE = "UPDATE bills SET status = :s"\n'
        'def bulk(session, rows):\n    copy_rows(session, "lot_recalls", ("tenant_id",), rows)\n'
    )
    assert foreign_writes(tmp_path) == [
        "backend/billing/sneaky.py writes batches (owned by backend/inventory)",
        "backend/billing/sneaky.py writes lot_recalls (owned by backend/inventory)",
        "backend/billing/sneaky.py writes stock_movements (owned by backend/inventory)",
    ]


def test_billing_putting_units_back_itself_is_caught(tmp_path):
    """The return to lots moved to inventory (issue 12): the same SQL back in billing fails the walk."""
    source = (ROOT / "backend" / "inventory" / "service.py").read_text()
    returning = source[source.index("def return_to_lots(") : source.index("# Stock that changes outside a sale")]
    (tmp_path / "backend" / "billing").mkdir(parents=True)
    (tmp_path / "backend" / "billing" / "service.py").write_text(returning)
    assert foreign_writes(tmp_path) == [
        "backend/billing/service.py writes batches (owned by backend/inventory)",
        "backend/billing/service.py writes stock_movements (owned by backend/inventory)",
    ]
