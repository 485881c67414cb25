"""Records retention: the documented defaults, the federal floor, what the review lists as due, legal holds,
the owner's signed approval (identity gone, rows and audit chains intact) and who may do what."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from backend.accounts.signatures import SignatureRefused, sign
from backend.billing.audit_chain import verify_chains
from backend.billing.claims.service import insurance_of_patient
from backend.core.errors import Conflict, PermissionDenied, ValidationFailed
from backend.patients.service import get_patient, update_patient
from backend.portal.refill_requests import record_request
from backend.portal.statuses import RefillRequestSource
from backend.prescriptions.service import prescription_by_number
from backend.retention import service as retention
from backend.retention.statuses import BatchStatus, ItemOutcome
from tenants.context import TenantContext
from tenants.roles import PORTAL
from tests.backend.prescriptions.conftest import Pharmacy, stock
from tests.conftest import TEST_PASSWORD


@pytest.fixture
def pharmacy(db, make_tenant) -> Pharmacy:
    return stock(make_tenant("ret", branches=2))


def as_owner_role(db) -> None:
    db.execute(text("RESET ROLE"))


def years_ago(years: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=round(365.25 * years))


def age(db, patient_id: str, years: float) -> None:
    """Make a patient's record and prescriptions look `years` old (as the database owner)."""
    as_owner_role(db)
    when = years_ago(years)
    db.execute(text("UPDATE patients SET created_at = :w, updated_at = :w WHERE id = :p"), {"w": when, "p": patient_id})
    db.execute(
        text("UPDATE prescriptions SET created_at = :w, updated_at = :w WHERE patient_id = :p"),
        {"w": when, "p": patient_id},
    )


def owner_signature(pharmacy: Pharmacy, batch_id: str) -> str:
    return sign(
        pharmacy.owner,
        password=TEST_PASSWORD,
        meaning="approve the disposal of records past their retention",
        entity_type="disposal_batch",
        entity_id=batch_id,
    )


def due_ids(batch: retention.DisposalBatch) -> set[str]:
    return {i.patient_id for i in batch.items}


def test_the_defaults_are_the_documented_ones_and_none_goes_below_the_federal_minimum(pharmacy):
    settings = pharmacy.run(pharmacy.owner, retention.get_retention_settings)
    assert settings.years == {"prescription_years": 7, "controlled_years": 5, "claims_years": 10, "audit_years": 6}
    assert settings.updated_at is None

    with pytest.raises(ValidationFailed, match="Controlled-substance records cannot be kept less than 2 years"):
        pharmacy.run(pharmacy.owner, retention.update_retention_settings, controlled_years="1")
    with pytest.raises(ValidationFailed, match=r"Insurance claims cannot be kept less than 10 years.*CMS"):
        pharmacy.run(pharmacy.owner, retention.update_retention_settings, prescription_years=9, claims_years=9)
    with pytest.raises(ValidationFailed, match="Audit logs cannot be kept less than 6 years.*HIPAA"):
        pharmacy.run(pharmacy.owner, retention.update_retention_settings, audit_years=5)
    with pytest.raises(ValidationFailed, match="whole number"):
        pharmacy.run(pharmacy.owner, retention.update_retention_settings, audit_years="six")
    # Nothing of a refused change was saved (not even its valid part).
    assert pharmacy.run(pharmacy.owner, retention.get_retention_settings).years["prescription_years"] == 7

    saved = pharmacy.run(pharmacy.owner, retention.update_retention_settings, prescription_years="10")
    assert saved.years == {"prescription_years": 10, "controlled_years": 5, "claims_years": 10, "audit_years": 6}
    assert saved.updated_at is not None


def test_the_review_lists_only_patients_past_every_period_that_applies(pharmacy, db):
    old = pharmacy.patient("Olive Old")
    pharmacy.entered(old, "lisinopril")
    recent = pharmacy.patient("Rita Recent")
    pharmacy.entered(recent, "lisinopril")
    controlled = pharmacy.patient("Carl Controlled")
    pharmacy.entered(controlled, "alprazolam")
    minor = pharmacy.patient("Mia Minor", born=(date.today() - timedelta(days=365 * 12)).isoformat())
    for patient in (old, controlled, minor):
        age(db, patient, 8)

    batch = pharmacy.run(pharmacy.owner, retention.review_disposals)
    assert batch.status == BatchStatus.AWAITING_APPROVAL
    # Past 7 years of prescription records (and 5 of controlled); a 12-year-old's records wait until 21.
    assert due_ids(batch) == {old, controlled}
    names = {i.patient_id: i.patient_name for i in batch.items}
    assert names[old] == "Olive Old"
    assert next(i.basis for i in batch.items if i.patient_id == old).startswith("last prescription")

    # A longer controlled-substance period keeps the controlled patient; a new review supersedes the last.
    pharmacy.run(pharmacy.owner, retention.update_retention_settings, controlled_years=9)
    again = pharmacy.run(pharmacy.owner, retention.review_disposals)
    assert due_ids(again) == {old}
    assert pharmacy.run(pharmacy.owner, retention.waiting_batch).id == again.id


def test_a_hold_keeps_a_patient_out_of_the_batch_and_out_of_an_approved_disposal(pharmacy, db):
    kept, listed_then_held, disposed = (pharmacy.patient(n) for n in ("Hal Held", "Lou Later", "Dee Done"))
    for patient in (kept, listed_then_held, disposed):
        pharmacy.entered(patient, "lisinopril")
        age(db, patient, 9)
    with pytest.raises(ValidationFailed, match="reason"):
        pharmacy.run(pharmacy.owner, retention.place_hold, reason="no", patient_id=kept)
    hold = pharmacy.run(pharmacy.owner, retention.place_hold, reason="subpoena 2026-114", patient_id=kept)
    assert hold.active and hold.patient_name == "Hal Held"

    batch = pharmacy.run(pharmacy.owner, retention.review_disposals)
    assert due_ids(batch) == {listed_then_held, disposed}
    # A hold placed after the review still wins at approval.
    pharmacy.run(pharmacy.owner, retention.place_hold, reason="insurer audit", patient_id=listed_then_held)
    done = pharmacy.run(
        pharmacy.owner, retention.approve_disposal, batch.id, signature_id=owner_signature(pharmacy, batch.id)
    )
    outcomes = {i.patient_id: i.outcome for i in done.items}
    assert outcomes == {listed_then_held: ItemOutcome.HELD, disposed: ItemOutcome.DISPOSED}
    assert done.disposed == 1 and done.status == BatchStatus.DISPOSED
    assert pharmacy.run(pharmacy.owner, get_patient, listed_then_held).full_name == "Lou Later"
    assert pharmacy.run(pharmacy.owner, get_patient, kept).full_name == "Hal Held"

    # Released, the held patient is listed by the next review; the disposed one never again.
    pharmacy.run(pharmacy.owner, retention.release_hold, hold.id, reason="case closed by the court")
    with pytest.raises(Conflict, match="already released"):
        pharmacy.run(pharmacy.owner, retention.release_hold, hold.id, reason="case closed by the court")
    assert due_ids(pharmacy.run(pharmacy.owner, retention.review_disposals)) == {kept}


def test_a_chain_hold_stops_the_review_and_the_approval(pharmacy, db):
    patient = pharmacy.patient("Nora Nine")
    age(db, patient, 9)
    batch = pharmacy.run(pharmacy.owner, retention.review_disposals)
    assert due_ids(batch) == {patient}
    chain_hold = pharmacy.run(pharmacy.owner, retention.place_hold, reason="litigation hold on the whole chain")
    assert chain_hold.patient_id is None
    with pytest.raises(retention.LegalHoldActive, match="legal hold"):
        pharmacy.run(
            pharmacy.owner, retention.approve_disposal, batch.id, signature_id=owner_signature(pharmacy, batch.id)
        )
    assert pharmacy.run(pharmacy.owner, get_patient, patient).full_name == "Nora Nine"
    assert pharmacy.run(pharmacy.owner, retention.review_disposals).item_count == 0


def test_approval_anonymises_keeps_the_rows_and_the_audit_chains_intact(pharmacy, db):
    patient = pharmacy.patient("Gina Gone")
    pharmacy.run(
        pharmacy.owner,
        update_patient,
        patient,
        full_name="Gina Gone",
        date_of_birth="1958-07-14",
        home_branch_id=pharmacy.branch,
        phone="+15550100",
        email="gina@example.com",
        address="1 Elm St",
        notes="prefers mornings",
        contact_consent=True,
    )
    rx = pharmacy.entered(patient, "lisinopril")
    visitor = TenantContext(tenant_id=pharmacy.chain.tenant_id, role=PORTAL)  # she once asked on the portal
    asked = pharmacy.run(visitor, prescription_by_number, rx.rx_number)
    pharmacy.run(visitor, record_request, asked, None, "call me on my mobile", RefillRequestSource.PORTAL_FORM)
    age(db, patient, 8)
    batch = pharmacy.run(pharmacy.owner, retention.review_disposals)
    assert due_ids(batch) == {patient}

    # Only the owner approves, only with their own fresh signature of this batch.
    with pytest.raises(PermissionDenied):
        pharmacy.run(pharmacy.pharmacist, retention.approve_disposal, batch.id, signature_id="x")
    with pytest.raises(SignatureRefused):
        pharmacy.run(pharmacy.owner, retention.approve_disposal, batch.id, signature_id=str(uuid.uuid4()))
    done = pharmacy.run(
        pharmacy.owner, retention.approve_disposal, batch.id, signature_id=owner_signature(pharmacy, batch.id)
    )
    assert done.disposed == 1
    with pytest.raises(Conflict, match="only a batch awaiting approval"):
        pharmacy.run(
            pharmacy.owner, retention.approve_disposal, batch.id, signature_id=owner_signature(pharmacy, batch.id)
        )

    record = pharmacy.run(pharmacy.owner, get_patient, patient)
    assert record.full_name == "Disposed patient"
    assert record.date_of_birth == date(1958, 1, 1)
    assert (record.phone, record.email, record.address, record.notes, record.contact_consent) == ("", "", "", "", False)
    as_owner_role(db)
    # Her words on the portal go; the request stays, as the prescription does.
    assert db.execute(
        text("SELECT note_enc FROM portal_refill_requests WHERE prescription_id = :r"), {"r": rx.id}
    ).one() == (None,)
    # The prescription stays (its quantities count in reports), pointing at the anonymised record.
    assert db.execute(
        text("SELECT patient_id FROM prescriptions WHERE id = :r"), {"r": rx.id}
    ).scalar_one() == uuid.UUID(patient)
    event = db.execute(
        text("SELECT actor_user_id, details FROM audit_events WHERE tenant_id = :t AND action = 'retention.disposed'"),
        {"t": pharmacy.chain.tenant_id},
    ).one()
    assert event.actor_user_id == pharmacy.chain.owner_user_id
    assert event.details["disposed"] == 1
    assert event.details["disposed_ids_sha256"] == retention.disposed_digest([patient])
    assert "Gina" not in str(event.details)
    report = verify_chains(pharmacy.chain.slug)
    assert report.intact and report.audit_log_events > 0
    history = pharmacy.run(pharmacy.owner, retention.disposal_history)
    assert [b.id for b in history] == [batch.id]
    # Disposed of once: the next review does not list the patient again.
    assert pharmacy.run(pharmacy.owner, retention.review_disposals).item_count == 0


@pytest.mark.parametrize("role", ["manager", "pharmacist", "technician", "cashier", "support"])
def test_retention_is_the_owners(pharmacy, role):
    ctx = TenantContext(tenant_id=pharmacy.chain.tenant_id, user_id=uuid.uuid4(), role=role)
    for call, args in (
        (retention.get_retention_settings, ()),
        (retention.list_holds, ()),
        (retention.waiting_batch, ()),
        (retention.disposal_history, ()),
        (retention.review_disposals, ()),
        (retention.approve_disposal, (str(uuid.uuid4()),)),
    ):
        with pytest.raises(PermissionDenied):
            pharmacy.run(ctx, call, *args, **({"signature_id": "x"} if call is retention.approve_disposal else {}))
    with pytest.raises(PermissionDenied):
        pharmacy.run(ctx, retention.update_retention_settings, prescription_years=8)
    with pytest.raises(PermissionDenied):
        pharmacy.run(ctx, retention.place_hold, reason="a reason long enough")


def test_the_monthly_job_and_the_command_list_what_is_due(pharmacy, db):
    from backend.cli import app as cli
    from backend.job_handlers import register_job_handlers
    from backend.jobs.registry import handler_for

    register_job_handlers()
    patient = pharmacy.patient("Jon Job")
    age(db, patient, 8)
    system = TenantContext.system(pharmacy.chain.tenant_id)
    message = pharmacy.run(system, handler_for(retention.REVIEW_JOB))
    assert message == "1 patient due for disposal"
    waiting = pharmacy.run(pharmacy.owner, retention.waiting_batch)
    assert due_ids(waiting) == {patient} and waiting.created_by == "the monthly review"
    # The system lists; it never disposes.
    with pytest.raises(PermissionDenied):
        pharmacy.run(system, retention.approve_disposal, waiting.id, signature_id="x")

    result = CliRunner().invoke(cli, ["retention", "review", "--tenant", pharmacy.chain.slug, "--now"])
    assert result.exit_code == 0, result.output
    assert f"{pharmacy.chain.slug}: 1 patient due for disposal" in result.output


def test_a_claim_keeps_the_patient_ten_years_and_disposal_keeps_the_sales_totals(pharmacy, db):
    from backend.billing.bills.service import create_draft, finalize_bill
    from backend.billing.claims import service as claims
    from backend.inventory.service import create_medicine, receive_stock

    vitamins = pharmacy.run(
        pharmacy.owner, create_medicine, generic_name="Vitamin D", strength="1000 IU", default_sell_price="6.00"
    )
    pharmacy.run(
        pharmacy.owner, receive_stock, branch_id=pharmacy.branch, medicine_id=vitamins, lot_number="VD-1",
        expiry_date=(date.today() + timedelta(days=400)).isoformat(), quantity=10,
    )  # fmt: skip
    patient = pharmacy.patient("Clara Claim")
    draft = pharmacy.run(
        pharmacy.owner,
        create_draft,
        branch_id=pharmacy.branch,
        lines=[{"medicine_id": vitamins, "quantity": 2}],
        patient_id=patient,
    )
    bill = pharmacy.run(pharmacy.owner, finalize_bill, draft.id)
    payer = pharmacy.run(pharmacy.owner, claims.create_payer, name="Acme Health", payer_code="ACME")
    coverage = pharmacy.run(
        pharmacy.owner, claims.add_coverage, patient_id=patient, payer_id=payer.id, member_id="ACM-778812"
    )
    pharmacy.run(pharmacy.owner, claims.draft_claim, bill.id, coverage.id, "5.00")

    def aged(years: int) -> None:
        age(db, patient, years)
        when = years_ago(years)
        db.execute(
            text("UPDATE claims SET created_at = :w, updated_at = :w WHERE patient_id = :p"), {"w": when, "p": patient}
        )
        db.execute(text("ALTER TABLE bills DISABLE TRIGGER USER"))  # issued bills are final: only to age it
        db.execute(text("UPDATE bills SET created_at = :w WHERE patient_id = :p"), {"w": when, "p": patient})
        db.execute(text("ALTER TABLE bills ENABLE TRIGGER USER"))

    aged(8)  # past the seven-year prescription period, not the ten years of a claim
    assert patient not in due_ids(pharmacy.run(pharmacy.owner, retention.review_disposals))
    aged(11)
    batch = pharmacy.run(pharmacy.owner, retention.review_disposals)
    assert next(i.basis for i in batch.items if i.patient_id == patient).startswith("last claim")
    as_owner_role(db)
    total = "SELECT sum(total) FROM bills WHERE tenant_id = :t AND status <> 'draft'"
    before = db.execute(text(total), {"t": pharmacy.chain.tenant_id}).scalar_one()
    pharmacy.run(pharmacy.owner, retention.approve_disposal, batch.id, signature_id=owner_signature(pharmacy, batch.id))

    as_owner_role(db)
    assert db.execute(text(total), {"t": pharmacy.chain.tenant_id}).scalar_one() == before
    coverages, _ = pharmacy.run(pharmacy.owner, insurance_of_patient, uuid.UUID(patient))
    assert [(c.id, c.member_id, c.active) for c in coverages] == [(coverage.id, "DISPOSED", False)]
    claim = db.execute(text("SELECT claimed_amount, patient_id FROM claims WHERE bill_id = :b"), {"b": bill.id}).one()
    assert (str(claim.claimed_amount), str(claim.patient_id)) == ("5.0000", patient)
    assert verify_chains(pharmacy.chain.slug).intact
