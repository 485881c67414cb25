"""Browser journey: the owner opens Settings → Records retention, sees the documented defaults, is refused a
claims period below the federal minimum, puts one patient under a legal hold, runs the review, and approves the
disposal with their password: the patient past retention is anonymised, the held one is untouched, the history
lists the disposal and the audit chains still verify."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from backend.billing.audit_chain import verify_chains
from backend.core import database
from backend.patients.service import get_patient
from tests.backend.prescriptions.conftest import stock
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import sign_in

pytestmark = pytest.mark.e2e


def name_of(pharmacy: Any, patient_id: str) -> str:
    """The name on the record as the chain's owner reads it (names are sealed in the table)."""
    return str(pharmacy.run(pharmacy.owner, get_patient, patient_id).full_name)


def test_hold_review_and_a_signed_disposal(page: Page, app_url: str, committed_tenant):
    chain, spec = committed_tenant("ret-ui", branches=2)
    pharmacy = stock(chain)
    suffix = uuid.uuid4().hex[:5]
    aged = pharmacy.patient(f"Agnes Aged{suffix}")
    held = pharmacy.patient(f"Harold Held{suffix}")
    for patient in (aged, held):
        pharmacy.entered(patient, "lisinopril")
    with database.owner_engine().begin() as owner:  # nine years ago: past the seven-year default
        for table, column in (("patients", "id"), ("prescriptions", "patient_id")):
            owner.execute(
                text(
                    f"UPDATE {table} SET created_at = now() - interval '9 years', "  # noqa: S608 - fixed names
                    f"updated_at = now() - interval '9 years' WHERE {column} = ANY(CAST(:p AS uuid[]))"
                ),
                {"p": [aged, held]},
            )

    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/settings")
    page.locator("#manage-retention").click()
    expect(page.locator("#retention-title")).to_be_visible(timeout=30000)
    expect(page.locator("input#prescription_years")).to_have_value("7", timeout=15000)
    expect(page.locator("input#claims_years")).to_have_value("10")
    expect(page.get_by_text("Federal minimum 10 years: CMS's ten years")).to_be_visible()

    # Below the federal minimum: refused with the rule, nothing saved.
    page.locator("input#claims_years").fill("8")
    page.locator("#retention-save").click()
    expect(page.locator("#retention-error")).to_contain_text("cannot be kept less than 10 years", timeout=15000)

    # A legal hold on Harold.
    page.locator("input#hold-search, #hold-search input").first.fill(f"Held{suffix}")
    page.locator("#hold-find").click()
    page.locator(".hold-candidate").first.get_by_role("button", name="Choose").click()
    expect(page.locator("#hold-patient")).to_contain_text(f"Harold Held{suffix}", timeout=15000)
    page.locator("input#hold-reason, #hold-reason input").first.fill("subpoena 2026-114")
    page.locator("#hold-place").click()
    hold = page.locator(".hold-row").first
    expect(hold).to_contain_text(f"Harold Held{suffix}", timeout=15000)
    expect(hold).to_contain_text("In force")

    # The review lists Agnes only.
    expect(page.locator("#batch-none")).to_be_visible()
    page.locator("#retention-review").click()
    expect(page.locator("#batch-title")).to_contain_text("1 patient due for disposal", timeout=15000)
    items = page.locator(".disposal-item")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(f"Agnes Aged{suffix}")

    # A wrong password disposes of nothing; the owner's password does.
    page.locator("input#disposal-password, #disposal-password input").first.fill("not-my-password")
    page.locator("#disposal-approve").click()
    expect(page.locator("#retention-error")).to_contain_text("not right", timeout=15000)
    assert name_of(pharmacy, aged) == f"Agnes Aged{suffix}"
    page.locator("input#disposal-password, #disposal-password input").first.fill(TEST_PASSWORD)
    page.locator("#disposal-approve").click()
    expect(page.locator("#batch-none")).to_be_visible(timeout=15000)
    row = page.locator(".disposal-row").first
    expect(row).to_contain_text(spec.owner_name)
    expect(row.locator("td").nth(3)).to_have_text("1")

    assert name_of(pharmacy, aged) == "Disposed patient"
    assert name_of(pharmacy, held) == f"Harold Held{suffix}"
    assert verify_chains(chain.slug).intact
