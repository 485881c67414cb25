"""Browser journey (issue 17 §2, the staff side): two refill requests made on the portal wait in the branch's
"Portal requests" page; the customer's note, a script, shows as text and runs nothing; the pharmacist
accepts one (its fill appears on the prescription) and denies the other, first without a reason (refused),
then with one; the customer receives both outcomes by e-mail, neither naming the medicine."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import text

from backend.core import database
from backend.patients.service import create_patient
from backend.portal.chains import chain_for_slug, visitor_context
from backend.portal.refill_requests import record_request
from backend.portal.service import match_prescription
from backend.portal.statuses import RefillRequestSource
from backend.prescriptions import fills
from tenants.session import run_in_tenant
from tests.backend.prescriptions.conftest import stock
from tests.backend.prescriptions.test_fills import receive
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_prescriptions import member
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

TABLET = {"width": 768, "height": 1024}
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'


def ask(chain_slug: str, rx_number: str, surname: str, note: str) -> None:
    visitor = visitor_context(chain_for_slug(chain_slug))

    def asking(session, ctx):
        found = match_prescription(session, ctx, rx_number, date(1971, 3, 4), surname)
        assert found is not None
        return record_request(session, ctx, found, None, note, RefillRequestSource.PORTAL_FORM)

    run_in_tenant(visitor, asking)


def test_staff_accept_and_deny_portal_requests(page: Page, app_url: str, committed_tenant, mail_sink):
    chain, spec = committed_tenant("portal-queue", branches=2)
    pharmacy = stock(chain)
    receive(pharmacy, "lisinopril", "LIS-PQ", 100)
    surname = f"Portal{uuid.uuid4().hex[:5]}"
    address = f"pq-{uuid.uuid4().hex[:8]}@example.com"
    patient = pharmacy.run(
        pharmacy.owner, create_patient, full_name=f"Paula {surname}", date_of_birth="1971-03-04",
        home_branch_id=pharmacy.branch, email=address, contact_consent=True,
    ).id  # fmt: skip
    accepted = pharmacy.on_profile(patient, "lisinopril", days_supply="30", refills_authorized="2")
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, accepted.id)
    with database.owner_engine().begin() as owner:
        owner.execute(
            text(
                "UPDATE prescription_fills SET status = 'checked', scanned_barcode = '00000000', "
                "filled_at = now() - interval '28 days', checked_at = now() - interval '28 days' WHERE id = :f"
            ),
            {"f": done.id},
        )
        owner.execute(text("UPDATE prescriptions SET status = 'ready_for_pickup' WHERE id = :p"), {"p": accepted.id})
    denied = pharmacy.on_profile(patient, "amoxicillin", refills_authorized="1")
    spent = pharmacy.on_profile(patient, "naproxen", refills_authorized="0")
    ask(spec.slug, accepted.rx_number, surname, XSS)
    ask(spec.slug, denied.rx_number, surname, "Please hurry")
    ask(spec.slug, spent.rx_number, surname, "")  # no refills left: staff call the customer
    email, password = member(pharmacy.owner, "pharmacist", "Pia Pharm")

    sign_in(page, app_url, email, password)
    expect(page.locator("#attention-portal-requests .attention-count")).to_have_text("3", timeout=15000)
    page.set_viewport_size(TABLET)
    page.goto(f"{app_url}/prescriptions")
    page.locator("#rx-portal-requests").click()
    expect(page.locator("#portal-requests-title")).to_be_visible(timeout=15000)
    rows = page.locator("#portal-open .portal-request")
    expect(rows).to_have_count(3, timeout=15000)
    first = rows.filter(has_text=accepted.rx_number)
    expect(first).to_contain_text(f"Paula {surname}")
    expect(first).to_contain_text("Lisinopril 10 mg")
    expect(first).to_contain_text("Portal form")
    expect(first.locator(".portal-note")).to_have_text(XSS)  # the customer's words, as text
    assert page.evaluate("typeof window.__xss") == "undefined"
    expect(page.locator("#portal-open img")).to_have_count(0)
    expect(first.locator(".portal-accept")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]  # nothing off a tablet

    first.locator(".portal-accept").click()
    decided = page.locator("#portal-decided .portal-decided")
    expect(decided.filter(has_text=accepted.rx_number)).to_contain_text(f"Fill {accepted.rx_number}-1-1", timeout=15000)
    expect(rows).to_have_count(2)

    call = rows.filter(has_text=spent.rx_number)
    expect(call.locator(".portal-why-call")).to_contain_text("No refills left")
    expect(call.locator(".portal-accept")).to_have_count(0)
    call.locator(".portal-close input[name=note]").fill("Called: she will ask her doctor")
    call.locator(".portal-close button").click()
    expect(decided.filter(has_text=spent.rx_number)).to_contain_text("Closed after a call", timeout=15000)
    expect(rows).to_have_count(1)

    second = rows.filter(has_text=denied.rx_number)
    second.locator(".portal-deny button").click()
    expect(page.locator("#portal-requests-error")).to_contain_text("reason", timeout=15000)
    expect(rows).to_have_count(1)
    second.locator(".portal-deny input[name=reason]").fill("The prescriber stopped this medicine")
    second.locator(".portal-deny button").click()
    expect(page.locator("#portal-requests-none")).to_be_visible(timeout=15000)
    expect(decided.filter(has_text=denied.rx_number)).to_contain_text("The prescriber stopped this medicine")
    assert page.evaluate("typeof window.__xss") == "undefined"

    page.goto(f"{app_url}/prescriptions/rx?id={accepted.id}")
    expect(page.locator(".fill-row")).to_have_count(2, timeout=30000)
    expect(page.locator(".fill-row").nth(1)).to_contain_text(f"{accepted.rx_number}-1-1")

    mails = wait_until(lambda: m if len(m := mail_sink.to(address)) >= 2 else None, message="both outcome e-mails")
    bodies = [mail_sink.text(m) + str(m["Subject"]) for m in mails]
    assert any("received your refill request" in b for b in bodies)
    assert any("could not fill your refill request" in b for b in bodies)
    assert not any("lisinopril" in b.lower() or "amoxicillin" in b.lower() or "stopped" in b for b in bodies)
