"""Insurance claims as the app role: lifecycle, the bill following the payer, refusals, reports, CSV, REST."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend import api as rest
from backend.accounts.api_tokens import create_token
from backend.billing.bills.service import create_draft, finalize_bill, get_bill
from backend.billing.claims import service as claims
from backend.billing.claims.service import ClaimTransitionRefused
from backend.billing.payments.service import record_payment
from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.inventory.service import receive_stock
from backend.patients.service import create_patient
from tenants.session import run_in_tenant, tenant_session
from tests.backend.billing.conftest import as_role, stock_up

D = Decimal
TODAY = datetime.now(UTC).date()


def insured_sale(counter, *, quantity: int = 10, payer=None, member_id: str = "M-100"):
    """An issued, unpaid bill of `quantity` ibuprofen for a patient covered by `payer` (a new one if None)."""
    owner = counter.owner
    payer = payer or run_in_tenant(
        owner, claims.create_payer, name="Acme Health", payer_code="ACME01", contact="claims@acme.test"
    )
    patient = run_in_tenant(
        owner, create_patient, full_name="Ada Lovelace", date_of_birth="1985-12-10", home_branch_id=counter.branch
    )
    coverage = run_in_tenant(
        owner,
        claims.add_coverage,
        patient_id=patient.id,
        payer_id=payer.id,
        member_id=member_id,
        plan="Gold",
        group_number="G-7",
    )
    draft = run_in_tenant(
        owner,
        create_draft,
        branch_id=counter.branch,
        lines=[{"medicine_id": counter.ibuprofen, "quantity": quantity}],
        patient_id=patient.id,
    )
    return run_in_tenant(owner, finalize_bill, draft.id), coverage, payer


def count(counter, table: str) -> int:
    with tenant_session(counter.owner) as session:
        return session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - test tables


def test_lifecycle_and_the_bill_follows_the_insurers_payment(counter):
    bill, coverage, _ = insured_sale(counter)
    claimed = bill.total_due - D("5.00")
    assert run_in_tenant(counter.owner, claims.claim_of_bill, bill.id) is None
    claim = run_in_tenant(counter.owner, claims.draft_claim, bill.id, coverage.id, str(claimed))
    assert (claim.status, claim.claimed_amount, claim.copay) == ("draft", claimed, D("5.00"))
    assert run_in_tenant(counter.owner, claims.claim_of_bill, bill.id) == claim
    assert claim.claimed_amount + claim.copay == bill.total_due and claim.member_id == "M-100"

    run_in_tenant(counter.owner, claims.submit_claim, claim.id)
    run_in_tenant(counter.owner, claims.record_decision, claim.id, "approved")
    paid = run_in_tenant(counter.owner, claims.record_claim_payment, claim.id, str(claimed))
    assert (paid.status, paid.approved_amount, paid.paid_amount) == ("paid", claimed, claimed)
    assert [(e.from_status, e.to_status) for e in paid.events] == [
        (None, "draft"),
        ("draft", "submitted"),
        ("submitted", "approved"),
        ("approved", "paid"),
    ]
    assert all(e.actor_user_id == str(counter.chain.owner_user_id) for e in paid.events)
    assert paid.submitted_at and paid.decided_at and paid.paid_at

    after_insurer = run_in_tenant(counter.owner, get_bill, bill.id)
    assert (after_insurer.status, after_insurer.outstanding) == ("partially_paid", D("5.00"))
    [insurer] = after_insurer.payments
    assert (insurer.method, insurer.amount, insurer.reference) == ("other", claimed, f"claim:{claim.id}")

    run_in_tenant(counter.owner, record_payment, bill_id=bill.id, tendered="5.00")  # the patient's copay
    assert run_in_tenant(counter.owner, get_bill, bill.id).status == "paid"


def test_illegal_transitions_are_refused_and_write_nothing(counter):
    bill, coverage, _ = insured_sale(counter)
    claim = run_in_tenant(counter.owner, claims.draft_claim, bill.id, coverage.id, "10.00")
    before = (count(counter, "claim_events"), count(counter, "bill_payments"))
    with pytest.raises(ClaimTransitionRefused, match="is draft: only a submitted claim can be decided") as refused:
        run_in_tenant(counter.owner, claims.record_decision, claim.id, "approved")
    assert refused.value.http_status == 409
    with pytest.raises(ClaimTransitionRefused, match="only an approved or partially approved claim can be paid"):
        run_in_tenant(counter.owner, claims.record_claim_payment, claim.id, "10.00")
    run_in_tenant(counter.owner, claims.submit_claim, claim.id)
    with pytest.raises(ClaimTransitionRefused, match="is submitted: only a draft claim can be submitted"):
        run_in_tenant(counter.owner, claims.submit_claim, claim.id)
    with pytest.raises(ValidationFailed, match="approved, partially_approved or rejected"):
        run_in_tenant(counter.owner, claims.record_decision, claim.id, "paid")
    assert (count(counter, "claim_events"), count(counter, "bill_payments")) == (before[0] + 1, before[1])
    assert run_in_tenant(counter.owner, claims.get_claim, claim.id).status == "submitted"
    assert run_in_tenant(counter.owner, get_bill, bill.id).status == "finalized"


def test_a_claim_needs_an_issued_bill_of_the_patient_once_within_what_is_owed(counter):
    bill, coverage, payer = insured_sale(counter)
    with pytest.raises(ValidationFailed, match="still owed") as too_much:
        run_in_tenant(counter.owner, claims.draft_claim, bill.id, coverage.id, str(bill.total_due + D("0.01")))
    assert too_much.value.field == "claimed_amount"
    with pytest.raises(ValidationFailed, match="steps of 0.01"):
        run_in_tenant(counter.owner, claims.draft_claim, bill.id, coverage.id, "1.005")
    run_in_tenant(counter.owner, claims.draft_claim, bill.id, coverage.id, str(bill.total_due))  # copay 0
    with pytest.raises(Conflict, match="already has a claim"):
        run_in_tenant(counter.owner, claims.draft_claim, bill.id, coverage.id, "1.00")
    other_bill, other_coverage, _ = insured_sale(counter, payer=payer, member_id="M-200")
    with pytest.raises(NotFound, match="coverage for the bill's patient"):
        run_in_tenant(counter.owner, claims.draft_claim, other_bill.id, coverage.id, "1.00")
    run_in_tenant(counter.owner, claims.set_coverage_active, other_coverage.id, active=False)
    with pytest.raises(ValidationFailed, match="ended"):
        run_in_tenant(counter.owner, claims.draft_claim, other_bill.id, other_coverage.id, "1.00")
    draft = run_in_tenant(
        counter.owner, create_draft, branch_id=counter.branch, lines=[{"medicine_id": counter.ibuprofen, "quantity": 1}]
    )
    with pytest.raises(Conflict, match="only an issued bill"):
        run_in_tenant(counter.owner, claims.draft_claim, draft.id, coverage.id, "1.00")


def test_partial_approval_pays_at_most_what_was_approved(counter):
    bill, coverage, _ = insured_sale(counter)
    claim = run_in_tenant(counter.owner, claims.draft_claim, bill.id, coverage.id, "40.00")
    run_in_tenant(counter.owner, claims.submit_claim, claim.id)
    with pytest.raises(ValidationFailed, match="less than the 40.00 claimed"):
        run_in_tenant(counter.owner, claims.record_decision, claim.id, "partially_approved", approved_amount="40.00")
    decided = run_in_tenant(
        counter.owner, claims.record_decision, claim.id, "partially_approved", approved_amount="30.00"
    )
    assert (decided.status, decided.approved_amount) == ("partially_approved", D("30.00"))
    with pytest.raises(ValidationFailed, match="approved 30.00: it cannot pay more") as over:
        run_in_tenant(counter.owner, claims.record_claim_payment, claim.id, "30.01")
    assert over.value.field == "paid_amount"
    run_in_tenant(counter.owner, claims.record_claim_payment, claim.id, "30.00")
    after = run_in_tenant(counter.owner, get_bill, bill.id)
    assert (after.status, after.outstanding) == ("partially_paid", bill.total_due - D("30.00"))


def test_rejection_needs_the_payers_reason_and_ends_the_claim(counter):
    bill, coverage, _ = insured_sale(counter)
    claim = run_in_tenant(counter.owner, claims.draft_claim, bill.id, coverage.id, "20.00")
    run_in_tenant(counter.owner, claims.submit_claim, claim.id)
    with pytest.raises(ValidationFailed, match="reason") as no_reason:
        run_in_tenant(counter.owner, claims.record_decision, claim.id, "rejected", reason=" ")
    assert no_reason.value.field == "reason"
    rejected = run_in_tenant(
        counter.owner, claims.record_decision, claim.id, "rejected", reason="member not eligible on date"
    )
    assert (rejected.status, rejected.rejection_reason, rejected.approved_amount) == (
        "rejected",
        "member not eligible on date",
        D("0.00"),
    )
    assert rejected.events[-1].note == "member not eligible on date"
    with pytest.raises(ClaimTransitionRefused, match="is rejected"):
        run_in_tenant(counter.owner, claims.record_claim_payment, claim.id, "1.00")
    assert run_in_tenant(counter.owner, get_bill, bill.id).payments == []


def test_reconciliation_sums_per_payer_and_the_list_filters(counter):
    run_in_tenant(
        counter.owner,
        receive_stock,
        branch_id=counter.branch,
        medicine_id=counter.ibuprofen,
        lot_number="IBU-2",
        expiry_date=(TODAY + timedelta(days=300)).isoformat(),
        quantity=100,
    )
    acme = run_in_tenant(counter.owner, claims.create_payer, name="Acme Health", payer_code="ACME01")
    zen = run_in_tenant(counter.owner, claims.create_payer, name="Zen Mutual", payer_code="ZEN")
    with pytest.raises(Conflict, match="already exists"):
        run_in_tenant(counter.owner, claims.create_payer, name="Acme again", payer_code="acme01")

    def claim(payer, amount: str, member: str):
        bill, coverage, _ = insured_sale(counter, payer=payer, member_id=member)
        made = run_in_tenant(counter.owner, claims.draft_claim, bill.id, coverage.id, amount)
        run_in_tenant(counter.owner, claims.submit_claim, made.id)
        return made

    paid_short = claim(acme, "40.00", "A1")  # approved 40, paid 35
    run_in_tenant(counter.owner, claims.record_decision, paid_short.id, "approved")
    run_in_tenant(counter.owner, claims.record_claim_payment, paid_short.id, "35.00")
    partial = claim(acme, "30.00", "A2")  # approved 25, not paid yet
    run_in_tenant(counter.owner, claims.record_decision, partial.id, "partially_approved", approved_amount="25.00")
    claim(acme, "10.00", "A3")  # awaiting the decision
    rejected = claim(zen, "20.00", "Z1")
    run_in_tenant(counter.owner, claims.record_decision, rejected.id, "rejected", reason="duplicate claim")
    drafted, coverage, _ = insured_sale(counter, payer=zen, member_id="Z2")
    run_in_tenant(
        counter.owner, claims.draft_claim, drafted.id, coverage.id, "5.00"
    )  # never submitted: not in the period

    report = run_in_tenant(counter.owner, claims.reconciliation, TODAY - timedelta(days=1), TODAY)
    by_code = {p.payer_code: p for p in report.payers}
    acme_row = by_code["ACME01"]
    assert (acme_row.claims, acme_row.claimed, acme_row.awaiting_decision) == (3, D("80.00"), D("10.00"))
    assert (acme_row.approved, acme_row.received, acme_row.outstanding, acme_row.rejected) == (
        D("65.00"),
        D("35.00"),
        D("30.00"),
        0,
    )
    zen_row = by_code["ZEN"]
    assert (zen_row.claims, zen_row.claimed, zen_row.approved, zen_row.rejected) == (1, D("20.00"), D("0"), 1)
    assert (report.total.claims, report.total.claimed, report.total.outstanding) == (4, D("100.00"), D("30.00"))
    assert (
        run_in_tenant(counter.owner, claims.reconciliation, TODAY + timedelta(days=1), TODAY + timedelta(days=2)).payers
        == []
    )

    assert len(run_in_tenant(counter.owner, claims.list_claims).items) == 5
    assert [c.id for c in run_in_tenant(counter.owner, claims.list_claims, status="rejected").items] == [rejected.id]
    assert {c.payer_name for c in run_in_tenant(counter.owner, claims.list_claims, payer_id=zen.id).items} == {
        "Zen Mutual"
    }
    assert len(run_in_tenant(counter.owner, claims.list_claims, start=TODAY, end=TODAY).items) == 5
    assert run_in_tenant(counter.owner, claims.list_claims, start=TODAY + timedelta(days=1)).items == []
    with pytest.raises(ValidationFailed, match="status is one of"):
        run_in_tenant(counter.owner, claims.list_claims, status="lost")


def test_csv_export_has_the_documented_columns_and_import_reports_bad_rows(counter):
    first, coverage, payer = insured_sale(counter)
    second, coverage2, _ = insured_sale(counter, payer=payer, member_id="M-200")
    one = run_in_tenant(counter.owner, claims.draft_claim, first.id, coverage.id, "40.00")
    two = run_in_tenant(counter.owner, claims.draft_claim, second.id, coverage2.id, "30.00")
    for made in (one, two):
        run_in_tenant(counter.owner, claims.submit_claim, made.id)

    exported = list(
        csv.DictReader(io.StringIO(run_in_tenant(counter.owner, claims.export_claims_csv, [one.id, two.id])))
    )
    assert list(exported[0]) == list(claims.EXPORT_COLUMNS)
    row = next(r for r in exported if r["claim_id"] == one.id)
    assert row["bill_number"] == first.number and row["patient_name"] == "Ada Lovelace"
    assert (row["date_of_birth"], row["member_id"], row["plan"], row["group_number"]) == (
        "1985-12-10",
        "M-100",
        "Gold",
        "G-7",
    )
    assert (row["claimed_amount"], row["copay"], row["bill_total"]) == (
        "40.00",
        str(first.total_due - D("40.00")),
        str(first.total_due),
    )
    assert (row["payer_code"], row["status"]) == ("ACME01", "submitted")

    before = count(counter, "claim_events")
    responses = (
        "claim_id,bill_number,decision,approved_amount,reason,paid_amount\r\n"
        f"{one.id},,approved,,,40.00\r\n"  # row 2: approved and paid
        f",{second.number},partially_approved,35.00,,\r\n"  # row 3: more than claimed
        ",NOPE-1,rejected,,not covered,\r\n"  # row 4: no such bill
        "\r\n"
        f",{second.number},rejected,,not covered,\r\n"  # row 6: rejected
    )
    report = run_in_tenant(counter.owner, claims.import_responses_csv, responses)
    assert (report.rows, report.applied) == (4, 2)
    assert [(p.row, p.column) for p in report.problems] == [(3, "approved_amount"), (4, "bill_number")]
    assert "less than the 30.00 claimed" in report.problems[0].reason
    assert run_in_tenant(counter.owner, claims.get_claim, one.id).status == "paid"
    assert run_in_tenant(counter.owner, get_bill, first.id).status == "partially_paid"
    assert run_in_tenant(counter.owner, claims.get_claim, two.id).rejection_reason == "not covered"
    assert count(counter, "claim_events") == before + 3  # approved, paid, rejected: the bad rows wrote nothing

    with pytest.raises(ValidationFailed, match="claim_id or bill_number"):
        run_in_tenant(counter.owner, claims.import_responses_csv, "decision\r\napproved\r\n")
    with pytest.raises(ValidationFailed, match="Unknown columns colour"):
        run_in_tenant(counter.owner, claims.import_responses_csv, "claim_id,decision,colour\r\n")


def test_another_chain_sees_no_claim_and_a_cashier_cannot_manage(counter, make_tenant):
    bill, coverage, payer = insured_sale(counter)
    claim = run_in_tenant(counter.owner, claims.draft_claim, bill.id, coverage.id, "10.00")
    other = stock_up(make_tenant("rival", branches=2)).owner
    with pytest.raises(NotFound):
        run_in_tenant(other, claims.get_claim, claim.id)
    with pytest.raises(NotFound):
        run_in_tenant(other, claims.submit_claim, claim.id)
    with pytest.raises(NotFound):
        run_in_tenant(other, claims.export_claims_csv, [claim.id])
    assert run_in_tenant(other, claims.list_claims).items == [] and claims.list_payers(other) == []
    with pytest.raises(NotFound, match="No such bill"):
        run_in_tenant(other, claims.draft_claim, bill.id, coverage.id, "1.00")

    cashier = as_role(counter.chain, "cashier")
    assert [c.id for c in run_in_tenant(cashier, claims.list_claims).items] == [claim.id]  # billing.view reads
    for refused in (
        lambda: run_in_tenant(cashier, claims.submit_claim, claim.id),
        lambda: run_in_tenant(cashier, claims.create_payer, name="X", payer_code="X"),
        lambda: run_in_tenant(
            cashier, claims.add_coverage, patient_id=coverage.patient_id, payer_id=payer.id, member_id="1"
        ),
        lambda: run_in_tenant(cashier, claims.draft_claim, bill.id, coverage.id, "1.00"),
        lambda: run_in_tenant(cashier, claims.export_claims_csv, [claim.id]),
        lambda: run_in_tenant(cashier, claims.import_responses_csv, "claim_id,decision\r\n"),
    ):
        with pytest.raises(PermissionDenied):
            refused()
    with pytest.raises(PermissionDenied):  # a claim names the patient: not for platform support
        run_in_tenant(as_role(counter.chain, "support"), claims.get_claim, claim.id)
    assert run_in_tenant(counter.owner, claims.get_claim, claim.id).status == "draft"


def test_claim_counts_per_status_within_the_members_branches(counter, make_tenant):
    """The dashboard's "claims awaiting": every status counted, in the member's branches and chain only."""
    bill, coverage, payer = insured_sale(counter)
    run_in_tenant(
        counter.owner,
        claims.submit_claim,
        run_in_tenant(counter.owner, claims.draft_claim, bill.id, coverage.id, "10.00").id,
    )
    second, coverage_2, _ = insured_sale(counter, payer=payer, member_id="M-200")
    run_in_tenant(counter.owner, claims.draft_claim, second.id, coverage_2.id, "5.00")

    assert run_in_tenant(counter.owner, claims.claim_counts) == {
        "draft": 1,
        "submitted": 1,
        "approved": 0,
        "partially_approved": 0,
        "rejected": 0,
        "paid": 0,
        "reversed": 0,
    }
    elsewhere = counter.ctx("manager", branch_ids=frozenset({uuid.UUID(counter.other_branch)}))
    assert set(run_in_tenant(elsewhere, claims.claim_counts).values()) == {0}  # both bills are of the first branch
    assert set(run_in_tenant(stock_up(make_tenant("rival", branches=2)).owner, claims.claim_counts).values()) == {0}
    with pytest.raises(PermissionDenied):  # a claim names the patient: not for platform support
        run_in_tenant(as_role(counter.chain, "support"), claims.claim_counts)


# --- REST -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    with TestClient(rest.create_api()) as test_client:
        yield test_client


def test_the_claim_lifecycle_over_rest(client, committed_tenant):
    chain, _ = committed_tenant("claims-api", branches=2)
    counter = stock_up(chain)
    bill, coverage, payer = insured_sale(counter)
    admin, read = ({"Authorization": f"Bearer {create_token(counter.owner, s, [s]).token}"} for s in ("admin", "read"))

    def post(url: str, body: dict | None, key: str, headers=admin):
        return client.post(f"/api/v1{url}", json=body, headers={**headers, "Idempotency-Key": key})

    made = [post("/claims", {"bill_id": bill.id, "coverage_id": coverage.id, "claimed_amount": "20.00"}, "claim-0001")]
    made.append(
        post("/claims", {"bill_id": bill.id, "coverage_id": coverage.id, "claimed_amount": "20.00"}, "claim-0001")
    )
    assert [r.status_code for r in made] == [201, 201] and made[1].headers["Idempotent-Replayed"] == "true"
    claim = made[0].json()
    assert (claim["claimed_amount"], claim["status"]) == ("20.00", "draft")
    refused = post(f"/claims/{claim['id']}/payment", {"paid_amount": "20.00"}, "claim-0002")
    assert (refused.status_code, refused.json()["error"]) == (409, "claim_transition")
    assert post(f"/claims/{claim['id']}/submit", None, "claim-0003", headers=read).status_code == 403
    assert post(f"/claims/{claim['id']}/submit", None, "claim-0004").json()["status"] == "submitted"
    assert post(f"/claims/{claim['id']}/decision", {"decision": "approved"}, "claim-0005").status_code == 200
    paid = post(f"/claims/{claim['id']}/payment", {"paid_amount": "20.00"}, "claim-0006").json()
    assert (paid["status"], paid["paid_amount"]) == ("paid", "20.00")

    listed = client.get("/api/v1/claims", params={"status": "paid"}, headers=read).json()
    assert [c["id"] for c in listed["items"]] == [claim["id"]]
    recon = client.get("/api/v1/claims/reconciliation", params={"start": TODAY, "end": TODAY}, headers=read).json()
    assert recon["total"]["received"] == "20.00" and recon["payers"][0]["payer_id"] == payer.id
    exported = client.get("/api/v1/claims/export.csv", params={"ids": [claim["id"]]}, headers=admin)
    assert exported.status_code == 200 and exported.text.startswith(",".join(claims.EXPORT_COLUMNS))
    assert client.get("/api/v1/claims/export.csv", params={"ids": [claim["id"]]}, headers=read).status_code == 403
    imported = post("/claims/import", {"content": f"claim_id,decision\r\n{claim['id']},approved\r\n"}, "claim-0007")
    assert imported.json()["problems"][0]["row"] == 2  # already paid: reported, not applied
    assert run_in_tenant(counter.owner, get_bill, bill.id).payments[0].reference == f"claim:{claim['id']}"
