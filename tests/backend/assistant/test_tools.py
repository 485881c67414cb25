"""The tool layer: every tool runs under the member's context, refuses what the role may not do, and
validates its arguments with messages a person can read."""

from __future__ import annotations

import json

import pytest

from backend.assistant.tools import TOOLS, Tool, ToolResult, call_tool, tools_for
from tenants.roles import STAFF_ROLES, role_has
from tenants.session import run_in_tenant


def test_every_tool_is_an_openai_function_definition():
    for tool in TOOLS.values():
        definition = tool.definition()
        assert definition["type"] == "function"
        function = definition["function"]
        assert function["name"] == tool.name and function["description"]
        assert function["parameters"]["type"] == "object"
        assert set(function["parameters"]["required"]) <= set(function["parameters"]["properties"])
        json.dumps(definition)  # serialisable as sent to a provider


def test_stock_tool_counts_what_the_database_holds(pharmacy):
    result = call_tool(pharmacy.ctx(), "medicine_stock", {"medicine": "amoxicillin"})
    assert result.ok, result.text
    (row,) = result.data["medicines"]
    assert row["on_hand"] == 100 and row["by_branch"] == {"Branch 1": 70, "Branch 2": 30}
    assert "checked stock of Amoxicillin in your branches" == result.label

    at_b2 = call_tool(pharmacy.ctx(), "medicine_stock", {"medicine": "Amoxicillin", "branch": "branch 2"})
    assert at_b2.data["medicines"][0]["on_hand"] == 30 and at_b2.label.endswith("at Branch 2")
    by_code = call_tool(pharmacy.ctx(), "medicine_stock", {"medicine": "Tylenol", "branch": "B1"})
    assert (
        by_code.data["medicines"][0]["name"].startswith("Acetaminophen")
        and by_code.data["medicines"][0]["on_hand"] == 12
    )


def test_a_typo_is_read_through_the_matcher(pharmacy):
    result = call_tool(pharmacy.ctx(), "medicine_stock", {"medicine": "amoxicilin"})
    assert result.ok and result.data["medicines"][0]["on_hand"] == 100


def test_another_chains_medicine_is_never_found(pharmacy, rival):
    for name in ("Metformin", "Rivalcillin", "5012345000042"):
        result = call_tool(pharmacy.ctx(), "medicine_stock", {"medicine": name})
        assert not result.ok and result.data["medicines"] == [], name
        assert "999" not in result.text
    # and the rival sees only its own: our amoxicillin is not in its catalog
    assert call_tool(rival, "medicine_stock", {"medicine": "amoxicillin"}).data["medicines"] == []


def test_branch_scope_applies_to_the_tools(pharmacy):
    scoped = pharmacy.ctx("pharmacist", branches=(pharmacy.branch_1,))
    result = call_tool(scoped, "medicine_stock", {"medicine": "amoxicillin"})
    assert result.data["medicines"][0]["by_branch"] == {"Branch 1": 70}
    refused = call_tool(scoped, "medicine_stock", {"medicine": "amoxicillin", "branch": "Branch 2"})
    assert not refused.ok and "among the branches you can see" in refused.text
    assert call_tool(scoped, "expiring_stock", {"within_days": 90}).data["expiring"] == [
        row
        for row in call_tool(pharmacy.ctx(), "expiring_stock", {"within_days": 90}).data["expiring"]
        if row["branch"] == "Branch 1"
    ]


@pytest.mark.parametrize("role", ["support", "api-read", "platform-admin", None])
def test_roles_without_the_assistant_are_refused_with_a_reason(pharmacy, role):
    result = call_tool(pharmacy.ctx(role), "medicine_stock", {"medicine": "amoxicillin"})  # type: ignore[arg-type]
    assert result.refused and not result.ok and "may not use the assistant" in result.text
    assert result.data == {"tool": "medicine_stock"}
    assert tools_for(pharmacy.ctx(role)) == []  # type: ignore[arg-type]


def test_a_tool_needing_a_permission_the_role_lacks_is_refused_not_raised(pharmacy):
    ran = []
    adjust = Tool("adjust_count", "test", {"type": "object", "properties": {}, "required": []}, "inventory.adjust",
                  lambda ctx: ran.append(ctx) or ToolResult("done"))  # fmt: skip
    registry = {**TOOLS, "adjust_count": adjust}
    refused = call_tool(pharmacy.ctx("cashier"), "adjust_count", {}, tools=registry)
    assert refused.refused and "cashier" in refused.text and "inventory.adjust" in refused.text and ran == []
    assert call_tool(pharmacy.ctx("manager"), "adjust_count", {}, tools=registry).text == "done"
    assert "adjust_count" not in {t.name for t in tools_for(pharmacy.ctx("cashier"), registry)}


def test_all_staff_roles_get_the_read_tools(pharmacy):
    prescriptions = {"refill_status", "refills_due", "medication_list"}
    for role in STAFF_ROLES:
        offered = {t.name for t in tools_for(pharmacy.ctx(role))}
        # Sales figures are the chain's business numbers: only roles that see the Reports page get them;
        # prescriptions are health data (not the till); the recall trace is the pharmacist's and owner's.
        withheld = {"sales_figures"} if not role_has(role, "reports.view") else set()
        withheld |= prescriptions if role == "cashier" else set()
        withheld |= {"recall_trace"} if role not in ("owner", "pharmacist") else set()
        assert offered == set(TOOLS) - withheld, role


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("medicine_stock", {}, "medicine_stock needs 'medicine'"),
        ("medicine_stock", {"medicine": 5}, "'medicine' must be text"),
        ("medicine_stock", {"medicine": "x" * 81}, "at most 80 characters"),
        ("medicine_stock", {"medicine": "amoxicillin", "tenant_id": "x"}, "takes no argument 'tenant_id'"),
        ("expiring_stock", {"within_days": "soon"}, "'within_days' must be a whole number"),
        ("expiring_stock", {"within_days": 400}, "between 0 and 365"),
        ("expiring_stock", {"within_days": 120}, "at most 90 days"),
        ("interaction_check", {"drugs": ["warfarin"]}, "needs 2 to 20 items"),
        ("bill_by_number", {"number": "yesterday's"}, "looks like B1-2026-000123"),
        ("medicine_stock", "{not json", "not valid JSON"),
        ("no_such_tool", {}, "no tool called 'no_such_tool'"),
    ],
)
def test_bad_arguments_get_clear_messages(pharmacy, name, args, message):
    result = call_tool(pharmacy.ctx(), name, args)
    assert not result.ok and message in result.text


def test_arguments_may_come_as_a_json_string(pharmacy):
    result = call_tool(pharmacy.ctx(), "medicine_stock", '{"medicine": "amoxicillin", "branch": "B2"}')
    assert result.data["medicines"][0]["on_hand"] == 30


def test_low_stock_and_expiring_tools(pharmacy):
    low = call_tool(pharmacy.ctx(), "low_stock", {})
    assert [(r["medicine"], r["branch"], r["quantity"]) for r in low.data["low_stock"]] == [
        ("Acetaminophen 500 mg", "Branch 1", 12)
    ]
    soon = call_tool(pharmacy.ctx(), "expiring_stock", {"within_days": 30})
    assert sorted(r["lot"] for r in soon.data["expiring"]) == ["AMX-SOON", "PARA-1"]
    assert soon.label == "checked lots expiring within 30 days in your branches"


def test_drug_information_and_interactions_cite_sources(pharmacy):
    info = call_tool(pharmacy.ctx("cashier"), "drug_information", {"medicine": "Tylenol"})
    assert info.ok and "acetaminophen" in info.text.lower() and "liver" in info.text
    assert info.sources and info.sources[0].url.startswith("https://dailymed.nlm.nih.gov/")
    missing = call_tool(pharmacy.ctx(), "drug_information", {"medicine": "zzqqxx"})
    assert not missing.ok and "no drug information" in missing.text
    pair = call_tool(pharmacy.ctx(), "interaction_check", {"drugs": ["warfarin", "Advil"]})
    assert pair.data["pairs"][0]["severity"] == "major" and pair.sources


def test_bill_by_number_stays_in_the_chain(pharmacy, rival):
    from backend.billing.bills.service import create_draft, finalize_bill

    cashier = pharmacy.ctx("cashier")
    bill = run_in_tenant(
        cashier,
        finalize_bill,
        run_in_tenant(
            cashier,
            create_draft,
            branch_id=pharmacy.branch_1,
            lines=[{"medicine_id": pharmacy.acetaminophen, "quantity": 2}],
        ).id,
    )
    found = call_tool(cashier, "bill_by_number", {"number": bill.number})
    assert found.ok and found.data["number"] == bill.number and found.data["total_due"] == str(bill.total_due)
    assert found.label == f"looked up bill {bill.number}"
    assert not call_tool(rival, "bill_by_number", {"number": bill.number}).ok  # same number, other chain: nothing
    scoped = pharmacy.ctx("cashier", branches=(pharmacy.branch_2,))
    assert "No such bill" in call_tool(scoped, "bill_by_number", {"number": bill.number}).text
