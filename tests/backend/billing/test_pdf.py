"""Invoice and receipt PDFs: the text a customer reads is in them (number, lots, tax, total, change)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import text

from backend.accounts.api_tokens import create_token
from backend.billing.bills.pdf import invoice_pdf, money, printable, receipt_pdf
from backend.billing.bills.service import create_draft
from backend.billing.payments.service import record_payment
from backend.core.errors import Conflict, NotFound
from tenants.session import run_in_tenant, tenant_session
from tests.backend.billing.conftest import as_role, stock_up, supply_without_a_fill_allowed
from tests.backend.billing.reporting import api_with_reports, sell

SOLD_AT = datetime(2026, 2, 10, 23, 30, tzinfo=UTC)  # 18:30 in New York (EST)


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def a_paid_bill(counter):
    supply_without_a_fill_allowed(counter.owner)  # a prescription line sold with its typed reference
    with tenant_session(counter.owner) as session:
        session.execute(
            text("UPDATE branches SET time_zone = 'America/New_York', address = :a WHERE id = :b"),
            {"a": "12 Market Street, Springfield", "b": counter.branch},
        )
    cashier = counter.ctx("cashier")
    bill = sell(
        cashier,
        counter.branch,
        [
            {"medicine_id": counter.ibuprofen, "quantity": 2, "line_discount": "0.50"},
            {"medicine_id": counter.amoxicillin, "quantity": 10, "prescription_ref": "RX-9"},
            {"medicine_id": counter.vitamin_d, "quantity": 1},
        ],
        customer="Zoë Müller — 東京",
        at=SOLD_AT,
    )
    run_in_tenant(cashier, record_payment, bill_id=bill.id, tendered="50")
    return bill


def test_the_invoice_has_the_chain_lines_lots_tax_and_total(counter):
    bill = a_paid_bill(counter)
    number, content = invoice_pdf(counter.ctx("cashier"), bill.id)
    assert number == bill.number and content.startswith(b"%PDF")
    words = pdf_text(content)
    for expected in (
        f"{counter.chain.slug.split('-')[0].title()} Pharmacy {counter.chain.slug.split('-')[-1]}",  # the chain
        "Branch 1",
        "12 Market Street, Springfield",
        f"Invoice {bill.number}",
        "2026-02-10 18:30 (America/New_York)",  # the branch's local time, not UTC
        "Lot IBU-1 exp",
        "Lot AMO-1 exp",
        "8.875%",  # the standard band
        money(bill.tax_total, "USD"),
        money(bill.total_due, "USD"),
        "50.00",  # tendered
        money(Decimal(50) - bill.total_due, "USD"),  # change
        "Zoë Müller — ??",  # Windows-1252 has the accents and the dash; the kanji become "?"
    ):
        assert expected in words, expected


def test_the_receipt_is_80_mm_wide_and_as_long_as_its_content(counter):
    bill = a_paid_bill(counter)
    _, content = receipt_pdf(counter.ctx("cashier"), bill.id)
    page = PdfReader(io.BytesIO(content)).pages[0]
    width_mm, height_mm = (float(v) * 25.4 / 72 for v in (page.mediabox.width, page.mediabox.height))
    assert round(width_mm) == 80 and 60 < height_mm < 300
    words = pdf_text(content)
    assert f"Receipt {bill.number}" in words and "Lot AMO-1" in words and money(bill.total_due, "USD") in words
    assert "Change" in words


def test_no_pdf_for_a_draft_another_branch_or_another_chain(counter, make_tenant):
    draft = run_in_tenant(
        counter.owner, create_draft, branch_id=counter.branch, lines=[{"medicine_id": counter.vitamin_d, "quantity": 1}]
    )
    with pytest.raises(Conflict):
        invoice_pdf(counter.owner, draft.id)
    bill = a_paid_bill(counter)
    elsewhere = counter.ctx("cashier", branch_ids=frozenset({uuid.UUID(counter.other_branch)}))
    with pytest.raises(NotFound):
        receipt_pdf(elsewhere, bill.id)
    with pytest.raises(NotFound):
        invoice_pdf(stock_up(make_tenant("other", branches=2)).owner, bill.id)


def test_text_outside_the_core_fonts_is_folded_not_refused():
    assert printable("Café €5 – “ok”") == "Café €5 – “ok”"  # all in Windows-1252
    assert printable("Łódź 東") == "Lódz ?"
    assert money(Decimal("9.9800"), "USD") == "9.98" and money(Decimal("0.8857"), "USD") == "0.8857"
    assert money(Decimal("1234.5"), "JPY") == "1,234.5" and money(Decimal("1200"), "JPY") == "1,200"


@pytest.fixture(scope="module")
def client():
    with TestClient(api_with_reports()) as test_client:
        yield test_client


def test_pdfs_over_rest(client, committed_tenant):
    chain, _ = committed_tenant("pdf-api", branches=2)
    counter = stock_up(chain)
    bill = a_paid_bill(counter)
    auth = {"Authorization": f"Bearer {create_token(as_role(chain, 'owner'), 'pdf', ['read']).token}"}
    invoice = client.get(f"/api/v1/bills/{bill.id}/invoice.pdf", headers=auth)
    assert invoice.status_code == 200 and invoice.headers["content-type"] == "application/pdf"
    assert f'filename="invoice-{bill.number}.pdf"' in invoice.headers["content-disposition"]
    assert bill.number in pdf_text(invoice.content)
    receipt = client.get(f"/api/v1/bills/{bill.id}/receipt.pdf", headers=auth)
    assert receipt.status_code == 200 and "Lot IBU-1" in pdf_text(receipt.content)
    assert client.get(f"/api/v1/bills/{bill.id}/receipt.pdf").status_code == 401
    assert client.get("/api/v1/bills/not-a-bill/invoice.pdf", headers=auth).status_code == 404
    draft = run_in_tenant(
        counter.owner, create_draft, branch_id=counter.branch, lines=[{"medicine_id": counter.vitamin_d, "quantity": 1}]
    )
    assert client.get(f"/api/v1/bills/{draft.id}/invoice.pdf", headers=auth).status_code == 409
