"""Row-level security, run as the restricted app role.

Each leak test has a sabotaged twin: inside the test's transaction the owner switches RLS off
(or adds a permissive policy), and the same query then shows the other tenant's rows. That proves
the test can fail; the transaction is rolled back afterwards.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from backend.core import database
from backend.core.database import open_session
from backend.core.settings import get_settings
from tenants.context import TenantContext
from tenants.session import platform_session, run_in_tenant, tenant_session
from tests.conftest import TEST_PASSWORD

APP_ROLE = get_settings().APP_DB_ROLE


def tenant_tables(conn: Connection) -> list[str]:
    """Every table or partition in public that has a tenant_id column."""
    rows = conn.execute(
        text("""
        SELECT c.relname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'p') ORDER BY c.relname""")
    )
    return [r[0] for r in rows]


def tables_missing_rls(conn: Connection) -> list[str]:
    """Tenant tables without RLS enabled and forced, or without the fail-closed policy."""
    rows = conn.execute(
        text("""
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = 'public'
                       AND p.tablename = c.relname
                       AND p.qual LIKE '%NULLIF(current_setting(''app.tenant_id''::text, true)%'
                       AND p.with_check LIKE '%NULLIF(current_setting(''app.tenant_id''::text, true)%')
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'p')""")
    )
    return sorted(name for name, enabled, forced, policy in rows if not (enabled and forced and policy))


def as_owner(conn: Connection) -> None:
    conn.execute(text("RESET ROLE"))


def as_app(conn: Connection, tenant_id: uuid.UUID | None, user_id: uuid.UUID | None = None) -> None:
    """Become the app role with only this tenant (and user, if any) set for the transaction."""
    conn.execute(text(f'SET LOCAL ROLE "{APP_ROLE}"'))
    conn.execute(
        text("SELECT set_config('app.tenant_id', :t, true), set_config('app.user_id', :u, true)"),
        {"t": str(tenant_id or ""), "u": str(user_id or "")},
    )


@pytest.fixture
def two_chains(db, make_tenant):
    """Chains A and B, each with a row in every tenant table."""
    from backend.accounts.api_tokens import create_token
    from backend.accounts.signatures import sign
    from backend.accounts.staff import invite
    from backend.assistant.conversations import ask, rate_answer
    from backend.billing.bills.service import create_draft, finalize_bill
    from backend.billing.claims import service as claims
    from backend.billing.credit_notes.service import issue_credit_note
    from backend.billing.payments.service import record_payment
    from backend.idempotency.service import run_once
    from backend.inventory.purchasing import create_supplier, draft_order
    from backend.inventory.reorder import set_reorder_level
    from backend.inventory.service import create_medicine, recall_lot, receive_stock
    from backend.jobs.service import enqueue_job
    from backend.notifications.disclosure import set_disclosure
    from backend.patient_copy.service import produce_copy
    from backend.patients.allergies import record_allergies
    from backend.patients.message_consent import record_message_consent
    from backend.patients.service import create_patient

    a, b = make_tenant("alpha", branches=2), make_tenant("bravo", branches=2)
    for chain in (a, b):
        ctx = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
        with tenant_session(ctx) as session:
            membership_id = session.execute(text("SELECT id FROM memberships LIMIT 1")).scalar_one()
            session.execute(
                text("INSERT INTO membership_branches VALUES (:t, :m, :b)"),
                {"t": chain.tenant_id, "m": membership_id, "b": chain.branch_ids[0]},
            )
            enqueue_job(session, ctx, "system.heartbeat", note="seed")
            session.execute(
                text("INSERT INTO catalog_imports (tenant_id, id, kind, content) VALUES (:t, :i, 'catalog', '')"),
                {"t": chain.tenant_id, "i": uuid.uuid4()},
            )
            session.execute(  # the row of record only: the search index is not what RLS protects
                text("INSERT INTO assistant_documents (tenant_id, id, title, body) VALUES (:t, :i, 'SOP', 'text')"),
                {"t": chain.tenant_id, "i": uuid.uuid4()},
            )
        create_token(ctx, "seed token", ["read"])
        invite(ctx, f"seed-{chain.slug}@example.com", "cashier")
        medicine = run_in_tenant(ctx, create_medicine, generic_name="Ibuprofen", default_sell_price="1.00")
        run_in_tenant(
            ctx,
            receive_stock,
            branch_id=str(chain.branch_ids[0]),
            medicine_id=medicine,
            lot_number="L1",
            expiry_date="2099-01-01",
            quantity=10,
        )
        run_in_tenant(ctx, recall_lot, medicine, "L0", "seeded recall notice")
        run_in_tenant(
            ctx,
            set_reorder_level,
            branch_id=str(chain.branch_ids[0]),
            medicine_id=medicine,
            reorder_point=5,
            reorder_quantity=20,
        )
        supplier = run_in_tenant(ctx, create_supplier, name=f"Supplier of {chain.slug}")
        run_in_tenant(
            ctx, draft_order, supplier_id=supplier, branch_id=str(chain.branch_ids[0]), lines=[(medicine, 5, "1.00")]
        )
        run_in_tenant(ctx, run_once, f"seed-key-{chain.slug}", {"n": 1}, lambda session: (200, {"ok": True}))
        _, exchange = ask(ctx, "Does Zocor interact with clarithromycin?")
        rate_answer(ctx, exchange[1].id, True)
        patient = run_in_tenant(  # patients, and its 'created' row in patient_access_log
            ctx,
            create_patient,
            full_name="Seeded Patient",
            date_of_birth="1970-01-01",
            home_branch_id=str(chain.branch_ids[0]),
        )
        sale = run_in_tenant(
            ctx,
            create_draft,
            branch_id=str(chain.branch_ids[0]),
            lines=[{"medicine_id": medicine, "quantity": 1}],
            patient_id=patient.id,
        )
        run_in_tenant(ctx, finalize_bill, sale.id)  # bills, bill_lines, bill_picks, bill_counters
        # payers, patient_coverages, claims, claim_events
        payer = run_in_tenant(ctx, claims.create_payer, name="Seeded Insurer", payer_code="SEED")
        coverage = run_in_tenant(ctx, claims.add_coverage, patient_id=patient.id, payer_id=payer.id, member_id="SEED-1")
        run_in_tenant(ctx, claims.draft_claim, sale.id, coverage.id, "0.50")
        run_in_tenant(ctx, record_payment, bill_id=sale.id, tendered="1.00")  # bill_payments
        # credit_notes, credit_note_lines, credit_note_lots, credit_note_counters, bill_refunds
        run_in_tenant(ctx, issue_credit_note, sale.id, [(1, 1, True)], reason="seeded refund")
        # financial_audit_events and financial_audit_heads come with the sale and the payment
        sign(ctx, password=TEST_PASSWORD, meaning="verified the seeded sale", entity_type="bill", entity_id=sale.id)
        _seed_prescriptions(chain, ctx, patient.id, medicine)
        _seed_controlled(chain, ctx)
        _seed_retention(ctx, patient.id)
        run_in_tenant(ctx, record_allergies, patient.id, "penicillin (rash)")  # patient_allergies
        # message_disclosure and patient_message_consents (the minimum necessary in patient messages)
        run_in_tenant(ctx, set_disclosure, "ready_for_pickup", True)
        run_in_tenant(ctx, record_message_consent, patient.id, "in_person")
        run_in_tenant(ctx, produce_copy, patient.id)  # patient_copy_requests (issue 16: a patient's own copy)
        _seed_portal(chain, patient.id)
        _seed_feedback(chain, patient.id)
        _seed_notifications(chain, patient.id)
        _seed_schedules(chain)
        _seed_recall_broadcast(chain, ctx)
        _seed_channels(ctx)
        _seed_message_settings(ctx)
    as_owner(db)
    for chain in (a, b):  # support grants are written by the platform path; seed them as the owner
        db.execute(
            text(
                "INSERT INTO support_grants (tenant_id, id, admin_user_id, reason, expires_at) "
                "VALUES (:t, gen_random_uuid(), :u, 'seeded for the isolation test', now())"
            ),
            {"t": chain.tenant_id, "u": chain.owner_user_id},
        )
        db.execute(
            text(
                "INSERT INTO sso_configs (tenant_id, issuer, client_id, client_secret_encrypted) "
                "VALUES (:t, 'https://login.example.com', 'pharmacy', 'sealed')"
            ),
            {"t": chain.tenant_id},
        )
        _seed_card_payment(db, chain.tenant_id)  # card_payments, card_refunds
        db.execute(  # push_subscriptions: the owner's browser (the sealed values are never opened here)
            text(
                "INSERT INTO push_subscriptions (tenant_id, id, user_id, endpoint_hash, endpoint_enc, p256dh_enc, "
                "auth_enc) VALUES (:t, gen_random_uuid(), :u, md5(CAST(:t AS text)), 'x', 'x', 'x')"
            ),
            {"t": chain.tenant_id, "u": chain.owner_user_id},
        )
        db.execute(  # notification_optouts: a patient who pressed "stop" in a message's link (the portal's job)
            text(
                "INSERT INTO notification_optouts (tenant_id, patient_id, channel) "
                "SELECT tenant_id, id, 'sms' FROM patients WHERE tenant_id = :t LIMIT 1"
            ),
            {"t": chain.tenant_id},
        )
    for table in tenant_tables(db):
        count = db.execute(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :b"), {"b": b.tenant_id})
        assert count.scalar_one() > 0, f"seed data has no row of B in {table}: the test would be vacuous"
    return a, b


def _seed_portal(chain, patient_id: str) -> None:
    """portal_refill_requests: the seeded patient's first prescription asked for on the chain's portal."""
    from datetime import date

    from backend.portal.chains import chain_for_slug, visitor_context
    from backend.portal.refill_requests import record_request
    from backend.portal.service import match_prescription
    from backend.portal.statuses import RefillRequestSource

    visitor = visitor_context(chain_for_slug(chain.slug))

    def ask(session, ctx):
        number = session.execute(
            text("SELECT rx_number FROM prescriptions WHERE patient_id = :p ORDER BY rx_seq LIMIT 1"), {"p": patient_id}
        ).scalar_one()
        found = match_prescription(session, ctx, number, date(1970, 1, 1), "Patient")
        record_request(session, ctx, found, None, "seeded", RefillRequestSource.PORTAL_FORM)
        # customer_codes and customer_sessions (issue 17 §3): a code asked for, and a verified customer
        from backend.portal.codes import new_challenge, request_code
        from backend.portal.customers import start_customer_session

        request_code(session, ctx, new_challenge(), number, date(1970, 1, 1), "Patient")
        start_customer_session(session, ctx, found.patient_id)

    run_in_tenant(visitor, ask)


def _seed_feedback(chain, patient_id: str) -> None:
    """customer_feedback: the seeded patient rates the visit of their picked-up fill."""
    from backend.feedback.service import leave_feedback

    def rate(session, ctx):
        fill = session.execute(
            text("SELECT id FROM prescription_fills WHERE status = 'picked_up' LIMIT 1")
        ).scalar_one()
        leave_feedback(session, ctx, patient_id, fill, 5, "seeded: quick and friendly")

    run_in_tenant(TenantContext(tenant_id=chain.tenant_id, role="customer"), rate)


def _seed_notifications(chain, patient_id: str) -> None:
    """notification_messages: an e-mail to the seeded patient, queued by a business event."""
    from backend.notifications.delivery import queue_patient_message
    from backend.notifications.disclosure import MessageKind, render
    from backend.notifications.notify import Channel

    message = render(MessageKind.READY_FOR_PICKUP, {"branch": "Main", "chain": "Seeded"}, chain_allows=False,
                     patient_consented=False)  # fmt: skip
    run_in_tenant(
        TenantContext.system(chain.tenant_id), queue_patient_message, patient_id=patient_id, message=message,
        channel=Channel.EMAIL, address="seeded@example.com", consented=True, dedupe_key=f"seeded:{patient_id}",
    )  # fmt: skip


def _seed_channels(owner: TenantContext) -> None:
    """notification_channels: the owner switches the chain's text messages off."""
    from backend.notifications.channels import save_sms

    run_in_tenant(owner, save_sms, {"sms_mode": "off"})


def _seed_message_settings(owner: TenantContext) -> None:
    """message_templates and notification_settings: the owner's wording of one message and quiet hours."""
    from backend.notifications.quiet_hours import set_quiet_hours
    from backend.notifications.templates import save_template

    run_in_tenant(owner, save_template, "ready_for_pickup", "minimum", "Ready", "Ready at {{ branch }}.",
                  "{{ chain }}: ready at {{ branch }}.")  # fmt: skip
    run_in_tenant(owner, set_quiet_hours, enabled=True, start="21:00", end="08:00")


def _seed_schedules(chain) -> None:
    """scheduled_runs: the tick, two days on, writes the chain's due digests (and their outbox jobs)."""
    from datetime import timedelta

    from backend.core.models import utc_now
    from backend.schedules.service import write_due_runs

    written = run_in_tenant(TenantContext.system(chain.tenant_id), write_due_runs, utc_now() + timedelta(days=2))
    assert written


def _seed_recall_broadcast(chain, owner: TenantContext) -> None:
    """recall_broadcasts: "notify everyone who received this lot" for a lot a seeded fill was taken from."""
    from backend.prescriptions.recall_broadcast import start_broadcast

    def lot(session, ctx):
        return session.execute(
            text("SELECT b.lot_number, b.medicine_id FROM prescription_fill_lots fl "
                 "JOIN batches b ON b.id = fl.batch_id LIMIT 1")
        ).one()  # fmt: skip

    found = run_in_tenant(TenantContext.system(chain.tenant_id), lot)
    pharmacist = TenantContext(tenant_id=chain.tenant_id, user_id=owner.user_id, role="pharmacist")
    run_in_tenant(pharmacist, start_broadcast, found.lot_number, str(found.medicine_id))


def _seed_prescriptions(chain, owner: TenantContext, patient_id: str, ibuprofen: str) -> None:
    """prescription_settings, prescribers, rx_number_counters, prescriptions, prescription_images,
    prescription_events, prescription_verifications, prescription_dur_overrides, prescription_fills,
    prescription_fill_lots, prescription_transfers, prescription_renewals and prescription_refill_requests."""
    from datetime import date

    from backend.accounts.signatures import sign
    from backend.inventory.service import create_medicine
    from backend.jobs.registry import handler_for
    from backend.prescriptions import prescribers, service, verification
    from backend.prescriptions.originals import OCR_JOB

    run_in_tenant(owner, service.update_rx_settings, early_refill_threshold="0.80")
    prescriber = run_in_tenant(owner, prescribers.create_prescriber, full_name="Seeded Prescriber", npi="1234567893")
    warfarin = run_in_tenant(owner, create_medicine, generic_name="Warfarin", strength="5 mg", schedule="prescription")
    technician = TenantContext(tenant_id=chain.tenant_id, user_id=uuid.uuid4(), role="technician")
    pharmacist = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="pharmacist")
    overrides: dict[str, str] = {}
    verified = []
    for medicine in (warfarin, ibuprofen):
        rx = run_in_tenant(
            technician,
            service.create_prescription,
            branch_id=str(chain.branch_ids[0]),
            patient_id=patient_id,
            source="fax",
            image=_blank_pdf(),
            prescriber_id=prescriber.id,
            medicine_id=medicine,
            sig_written="1 tab po daily",
            quantity="30",
            date_written=date.today().isoformat(),
        )
        # The original's OCR reading (a blank page: every field stored, none read).
        run_in_tenant(TenantContext.system(chain.tenant_id), handler_for(OCR_JOB), prescription_id=rx.id)
        run_in_tenant(technician, service.submit_for_verification, rx.id)
        review = run_in_tenant(pharmacist, verification.review, rx.id)
        overrides = {a.code: "seeded override with a reason" for a in review.alerts if a.needs_resolution}
        signature = sign(
            pharmacist,
            password=TEST_PASSWORD,
            meaning="verified the seeded prescription",
            entity_type="prescription",
            entity_id=rx.id,
        )
        run_in_tenant(pharmacist, verification.verify, rx.id, signature_id=signature, overrides=overrides)
        verified.append(rx.id)
    assert overrides, "the seeded NSAID after warfarin should need an override"
    # prescription_fills and prescription_fill_lots: the NSAID filled from a received lot.
    from backend.inventory.service import receive_stock
    from backend.prescriptions import fills

    run_in_tenant(
        owner,
        receive_stock,
        branch_id=str(chain.branch_ids[0]),
        medicine_id=ibuprofen,
        lot_number="SEED-RX",
        expiry_date=date.fromordinal(date.today().toordinal() + 365).isoformat(),
        quantity=30,
    )
    filled = run_in_tenant(technician, fills.fill_prescription, rx.id)
    # prescription_transfers: the warfarin prescription (verified, never filled) transferred to another pharmacy.
    from backend.inventory.service import update_medicine
    from backend.prescriptions import refills, transfers, unclaimed

    run_in_tenant(
        pharmacist,
        transfers.transfer_out,
        verified[0],
        pharmacy_name="Seeded Other Pharmacy",
        pharmacy_address="1 Seed St",
        pharmacy_phone="555-0199",
        other_pharmacist="Seeded Pharmacist",
    )
    # prescription_renewals and prescription_refill_requests: the NSAID, checked, has no refills left, so a
    # refill request asks the prescriber; then it is returned to stock unclaimed (an rx_return movement).
    run_in_tenant(owner, update_medicine, ibuprofen, barcode="00093711101")
    run_in_tenant(pharmacist, fills.final_check, filled.id, "00093711101")
    run_in_tenant(technician, refills.request_refill, rx.id, "phone")
    run_in_tenant(pharmacist, unclaimed.return_to_stock, filled.id)
    # prescription_pickups: the NSAID filled again from the returned units and handed over.
    done = run_in_tenant(technician, fills.fill_prescription, rx.id)
    _seed_pickup(chain, owner, ibuprofen, done.id)


def _seed_pickup(chain, owner: TenantContext, medicine: str, fill_id: str) -> None:
    """prescription_pickups: the filled NSAID checked, scanned onto a bill and handed over."""
    from backend.accounts.signatures import sign
    from backend.accounts.staff import accept_invitation, invite
    from backend.billing.bills.counter import save_draft
    from backend.billing.bills.service import finalize_bill
    from backend.prescriptions import fills
    from tests.backend.prescriptions.test_pickup import PASSWORD, png

    def barcode(session, ctx):
        session.execute(text("UPDATE medicines SET barcode = '00093711101' WHERE id = :m"), {"m": medicine})

    run_in_tenant(owner, barcode)
    pharmacist = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="pharmacist")
    run_in_tenant(pharmacist, fills.final_check, fill_id, "00093711101")
    email = f"rph-{uuid.uuid4().hex[:6]}@example.com"
    token = invite(owner, email, "pharmacist", send_email=False).link.split("token=")[1]
    user_id, _ = accept_invitation(token, full_name="Seeded Pharmacist", password=PASSWORD)
    counsellor = TenantContext(tenant_id=chain.tenant_id, user_id=user_id, role="pharmacist")
    draft = run_in_tenant(
        owner, save_draft, branch_id=str(chain.branch_ids[0]), bill_id=None, lines=[{"fill_id": fill_id}]
    )
    signature = sign(
        counsellor, password=PASSWORD, meaning="offered to counsel", entity_type="bill", entity_id=draft.bill.id
    )
    pickup = {
        "picked_up_by": "patient",
        "picked_up_by_name": "Seeded Patient",
        "counselling": "declined",
        "counsel_signature_id": signature,
        "signature_png": png(),
    }
    run_in_tenant(owner, finalize_bill, draft.bill.id, pickup=pickup)


def _seed_controlled(chain, owner: TenantContext) -> None:
    """controlled_registrations, controlled_inventories and _lines, cii_orders, cii_order_lines,
    cii_order_receipts, controlled_loss_reports and controlled_loss_lines."""
    from datetime import date

    from backend.accounts.signatures import sign
    from backend.controlled import asap, biennial, losses, orders
    from backend.inventory.service import create_medicine

    branch = str(chain.branch_ids[0])
    morphine = run_in_tenant(
        owner, create_medicine, generic_name="Morphine", strength="15 mg", schedule="controlled", controlled_class="CII"
    )
    run_in_tenant(owner, asap.save_registration, branch, dea_number="BP1234563", npi="1234567893", state="OH")
    order = run_in_tenant(
        owner, orders.create_order, branch_id=branch, form="dea_222", order_number="123456789", supplier="Seed",
        lines=[(morphine, 10)],
    )  # fmt: skip
    run_in_tenant(
        owner, orders.receive_against_order, order.id, medicine_id=morphine, lot_number="SEED-CII",
        expiry_date=date.fromordinal(date.today().toordinal() + 365).isoformat(), quantity=10,
    )  # fmt: skip
    run_in_tenant(
        owner, losses.report_loss, branch_id=branch, discovered_on=date.today().isoformat(), loss_type="other",
        details="seeded loss", lines=[(morphine, 1)],
    )  # fmt: skip
    sheet = run_in_tenant(owner, biennial.start_inventory, branch)
    counts = {line.medicine_id: biennial.Count(line.expected) for line in sheet.lines}
    run_in_tenant(owner, biennial.record_counts, sheet.id, counts)
    pharmacist = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="pharmacist")
    signature = sign(
        pharmacist,
        password=TEST_PASSWORD,
        meaning="certify the seeded inventory",
        entity_type="controlled_inventory",
        entity_id=sheet.id,
    )
    run_in_tenant(pharmacist, biennial.sign_inventory, sheet.id, signature_id=signature)


def _seed_retention(owner: TenantContext, patient_id: str) -> None:
    """retention_settings, legal_holds, disposal_batches and disposal_items (a review far in the future
    finds every patient due)."""
    from datetime import date

    from backend.retention import service as retention

    run_in_tenant(owner, retention.update_retention_settings, prescription_years=8)
    run_in_tenant(owner, retention.review_disposals, as_of=date(2200, 1, 1))
    run_in_tenant(owner, retention.place_hold, reason="seeded legal hold", patient_id=patient_id)


def _blank_pdf() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(out, format="PDF", resolution=72)
    return out.getvalue()


def _seed_card_payment(conn: Connection, tenant_id: uuid.UUID) -> None:
    """A card payment and its refund, as the owner (the Stripe side is not what RLS protects)."""
    payment_id, account = uuid.uuid4(), f"acct_{uuid.uuid4().hex[:16]}"
    conn.execute(
        text(
            "INSERT INTO card_payments (tenant_id, id, bill_id, payment_intent_id, stripe_account_id, amount, "
            "currency, status, amount_captured, amount_refunded) SELECT :t, :p, id, :pi, :acct, 1, currency, "
            "'partially_refunded', 1, 0.5 FROM bills WHERE tenant_id = :t LIMIT 1"
        ),
        {"t": tenant_id, "p": payment_id, "pi": f"pi_{payment_id.hex}", "acct": account},
    )
    conn.execute(
        text(
            "INSERT INTO card_refunds (tenant_id, id, card_payment_id, refund_id, idempotency_key, amount, status) "
            "VALUES (:t, :id, :p, :r, :k, 0.5, 'succeeded')"
        ),
        {"t": tenant_id, "id": uuid.uuid4(), "p": payment_id, "r": f"re_{payment_id.hex}", "k": f"seed-{payment_id}"},
    )


def rows_of(conn: Connection, table: str, tenant_id: uuid.UUID) -> int:
    return int(conn.execute(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": tenant_id}).scalar_one())


@pytest.mark.parametrize("sabotage", [None, "disable", "permissive_policy"])
def test_tenant_cannot_read_another_tenants_rows(db, two_chains, sabotage):
    a, b = two_chains
    tables = tenant_tables(db)
    assert {"branches", "memberships", "membership_branches", "audit_events", "outbox"} <= set(tables)
    leaks = {}
    for table in tables:
        as_owner(db)
        if sabotage == "disable":
            db.execute(text(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"))
        elif sabotage == "permissive_policy":
            db.execute(text(f"CREATE POLICY leak ON {table} USING (true)"))
            # A member-only table's restrictive policy would still hide B's rows: take it away too,
            # so the check shows what the tenant policy alone protects.
            db.execute(text(f"DROP POLICY IF EXISTS own_rows ON {table}"))
        as_app(db, a.tenant_id, a.owner_user_id)
        assert rows_of(db, table, a.tenant_id) > 0  # A sees its own rows
        leaks[table] = rows_of(db, table, b.tenant_id)
    if sabotage is None:
        assert leaks == {t: 0 for t in tables}
    else:
        assert all(count > 0 for count in leaks.values()), leaks  # the same check catches a leak


@pytest.mark.parametrize("sabotage", [False, True])
def test_tenant_cannot_update_or_delete_another_tenants_rows(db, two_chains, sabotage):
    a, b = two_chains
    as_owner(db)
    if sabotage:
        db.execute(text("ALTER TABLE branches DISABLE ROW LEVEL SECURITY"))
    jobs_before = rows_of(db, "outbox", b.tenant_id)
    before = (
        db.execute(text("SELECT name FROM branches WHERE tenant_id = :b ORDER BY id"), {"b": b.tenant_id})
        .scalars()
        .all()
    )
    as_app(db, a.tenant_id)
    updated = db.execute(
        text("UPDATE branches SET name = name || ' (hijacked)' WHERE tenant_id = :b"), {"b": b.tenant_id}
    ).rowcount
    deleted = db.execute(text("DELETE FROM outbox WHERE tenant_id = :b"), {"b": b.tenant_id}).rowcount
    as_owner(db)
    after = (
        db.execute(text("SELECT name FROM branches WHERE tenant_id = :b ORDER BY id"), {"b": b.tenant_id})
        .scalars()
        .all()
    )
    if sabotage:
        assert updated == len(before) and after != before
    else:
        assert (updated, deleted) == (0, 0)
        assert after == before
        assert rows_of(db, "outbox", b.tenant_id) == jobs_before


def test_insert_or_move_rows_into_another_tenant_is_refused(db, two_chains):
    a, b = two_chains
    ctx = TenantContext(tenant_id=a.tenant_id, user_id=a.owner_user_id, role="owner")
    with pytest.raises(DBAPIError, match="row-level security"):
        with tenant_session(ctx) as session:
            session.execute(
                text("INSERT INTO branches (tenant_id, id, name, code) VALUES (:b, :id, 'Trojan', 'TRJ')"),
                {"b": b.tenant_id, "id": uuid.uuid4()},
            )
    with pytest.raises(DBAPIError, match="row-level security"):
        with tenant_session(ctx) as session:
            session.execute(text("UPDATE branches SET tenant_id = :b"), {"b": b.tenant_id})
    as_owner(db)
    assert db.execute(text("SELECT count(*) FROM branches WHERE name = 'Trojan'")).scalar_one() == 0


@pytest.mark.parametrize("sabotage", [False, True])
def test_no_tenant_set_sees_zero_rows(db, two_chains, sabotage):
    as_owner(db)
    if sabotage:
        db.execute(text("ALTER TABLE branches DISABLE ROW LEVEL SECURITY"))
    as_app(db, None)
    visible = {
        t: int(db.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in ["tenants", *tenant_tables(db)]
    }
    if sabotage:
        assert visible["branches"] >= 4
    else:
        assert visible == {t: 0 for t in visible}


def test_foreign_key_cannot_point_at_another_tenants_row(db, two_chains):
    a, b = two_chains
    ctx = TenantContext(tenant_id=a.tenant_id, user_id=a.owner_user_id, role="owner")
    with pytest.raises(DBAPIError, match="foreign key"):
        with tenant_session(ctx) as session:
            membership_id = session.execute(text("SELECT id FROM memberships LIMIT 1")).scalar_one()
            session.execute(
                text("INSERT INTO membership_branches VALUES (:a, :m, :foreign_branch)"),
                {"a": a.tenant_id, "m": membership_id, "foreign_branch": b.branch_ids[1]},
            )


def test_every_tenant_table_has_rls_enabled_forced_and_fail_closed_policy(db):
    assert tables_missing_rls(db) == []
    assert "tenants" not in tenant_tables(db)  # the tenants table is keyed on id; checked below
    row = db.execute(text("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'tenants'")).one()
    assert tuple(row) == (True, True)


def test_rls_catalog_check_catches_a_new_unprotected_table(db):
    db.execute(text("CREATE TABLE stock_counts (tenant_id uuid NOT NULL, qty integer)"))
    db.execute(text("CREATE TABLE shelf_labels (tenant_id uuid NOT NULL, text text)"))
    db.execute(text("ALTER TABLE shelf_labels ENABLE ROW LEVEL SECURITY"))  # enabled, not forced
    assert tables_missing_rls(db) == ["shelf_labels", "stock_counts"]


def test_no_materialized_views_and_views_are_security_invoker(db):
    kinds = db.execute(
        text("""
        SELECT c.relname, c.relkind, coalesce(c.reloptions::text, '') FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        WHERE c.relkind IN ('v', 'm')""")
    ).all()
    assert [name for name, kind, _ in kinds if kind == "m"] == []
    assert [name for name, kind, opts in kinds if kind == "v" and "security_invoker=true" not in opts] == []


def test_app_role_is_restricted_and_owns_nothing(db):
    row = db.execute(
        text("SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = :r"),
        {"r": APP_ROLE},
    ).one()
    assert tuple(row) == (False, False, False, False)
    owned = db.execute(
        text("""
        SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid)
             + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)
             + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid)
             + (SELECT count(*) FROM pg_type WHERE typowner = r.oid)
        FROM pg_roles r WHERE r.rolname = :r"""),
        {"r": APP_ROLE},
    ).scalar_one()
    assert owned == 0
    platform = db.execute(
        text("SELECT rolbypassrls FROM pg_roles WHERE rolname = :r"), {"r": get_settings().PLATFORM_DB_ROLE}
    ).scalar_one()
    assert platform is True


@pytest.mark.parametrize("sabotage", [False, True])
def test_app_role_cannot_read_password_hashes_in_bulk(db, two_chains, sabotage):
    a, _ = two_chains
    as_owner(db)
    if sabotage:
        db.execute(text(f'GRANT SELECT ON users TO "{APP_ROLE}"'))
        db.execute(text("ALTER TABLE users DISABLE ROW LEVEL SECURITY"))
    as_app(db, a.tenant_id)
    db.execute(text("SAVEPOINT probe"))
    try:
        hashes = db.execute(text("SELECT password_hash FROM users")).scalars().all()
    except DBAPIError as exc:
        assert "permission denied" in str(exc)
        assert not sabotage
        db.execute(text("ROLLBACK TO SAVEPOINT probe"))
    else:
        assert sabotage and len(hashes) >= 2  # every chain's owners, the leak the test guards
    # Without the column, a tenant sees only its own members, never every user.
    emails = db.execute(text("SELECT email FROM users")).scalars().all()
    if not sabotage:  # its owner and the pharmacist seeded for the pickup; each chain has two
        assert len(emails) == 2 and sum(e.startswith("owner-") and "alpha" in e for e in emails) == 1


def test_login_lookup_returns_one_user_for_one_exact_email(db, two_chains):
    a, _ = two_chains
    as_app(db, None)
    email = db.execute(text("SELECT email FROM users WHERE id = :u"), {"u": a.owner_user_id}).scalar()
    assert email is None  # the app role cannot even read the row without a session for it
    as_owner(db)
    email = db.execute(text("SELECT email FROM users WHERE id = :u"), {"u": a.owner_user_id}).scalar_one()
    db.execute(text(f'SET LOCAL ROLE "{get_settings().AUTH_DB_ROLE}"'))  # the lookup is the auth role's
    found = db.execute(text("SELECT user_id FROM auth_login_lookup(:e)"), {"e": email.upper()}).all()
    assert [r[0] for r in found] == [a.owner_user_id]
    assert db.execute(text("SELECT count(*) FROM auth_login_lookup('%')")).scalar_one() == 0
    as_app(db, None)
    # Memberships are listed only for the user the session signed in.
    assert db.execute(text("SELECT count(*) FROM auth_user_memberships(:u)"), {"u": a.owner_user_id}).scalar_one() == 0
    db.execute(text("SELECT set_config('app.user_id', :u, true)"), {"u": str(a.owner_user_id)})
    assert db.execute(text("SELECT count(*) FROM auth_user_memberships(:u)"), {"u": a.owner_user_id}).scalar_one() == 1


def test_pooled_connection_never_carries_the_previous_tenant(committed_tenant):
    """Real commits through a one-connection pool: the next transaction sees no tenant."""
    from sqlalchemy import create_engine

    chain, _ = committed_tenant("pool")
    ctx = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    database.app_engine.cache_clear()
    engine = create_engine(get_settings().app_database_url(), pool_size=1, max_overflow=0)
    database.app_engine.cache_clear()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(database, "app_engine", lambda: engine)
            with tenant_session(ctx) as session:
                first_pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
                assert session.execute(text("SELECT count(*) FROM branches")).scalar_one() == 1
            with open_session("app") as session:
                assert session.execute(text("SELECT pg_backend_pid()")).scalar_one() == first_pid
                leftover = session.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar()
                assert leftover in (None, "")
                assert session.execute(text("SELECT count(*) FROM branches")).scalar_one() == 0
    finally:
        engine.dispose()


def test_platform_session_is_audited(db):
    with platform_session(reason="support ticket 123", actor="admin@platform") as session:
        session.execute(text("SELECT count(*) FROM tenants"))
    as_owner(db)
    row = db.execute(
        text("SELECT actor, reason, details->>'caller' FROM platform_audit_events ORDER BY id DESC LIMIT 1")
    ).one()
    assert row[0] == "admin@platform" and row[1] == "support ticket 123"
    assert row[2] == "test_rls:test_platform_session_is_audited"
