"""Browser journey (issue 18 §5): staff screens update without a reload.

Two pharmacists of chain A have the branch's "Portal requests" page open; a customer asks for a refill
through the portal's real endpoint; both pages show it within 2 s, no reload. A pharmacist of chain B on
the same page sees nothing, and what was published names no patient. Then a sale at another till: the
inventory page open at chain A shows the new stock on hand within 2 s. Leaving the page ends its
subscription (one per open page, none left behind)."""

from __future__ import annotations

import json
import random
import string
import time
import urllib.request

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import text

from backend.billing.bills.counter import save_draft, sell_for_cash
from backend.core import database
from backend.core.live import channel
from backend.core.queue import redis_connection
from backend.inventory.service import create_medicine, receive_stock
from backend.patients.service import create_patient
from backend.prescriptions import fills
from tenants.context import TenantContext
from tests.backend.prescriptions.conftest import stock
from tests.backend.prescriptions.test_fills import receive
from tests.e2e.test_accounts import sign_in
from tests.e2e.test_prescriptions import member
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e

LIVE_MS = 2000  # the "within 2 s"


def subscribers(tenant_id: object) -> int:
    return int(redis_connection().pubsub_numsub(channel(tenant_id))[0][1])


def listening(path: str) -> int:
    """How many open pages at `path` hold a live subscription (each names its Redis connection)."""
    return sum(1 for c in redis_connection().client_list() if c.get("name") == f"live:{path}")


def staff_page(browser: Browser, app_url: str, email: str, password: str, path: str) -> Page:
    page = browser.new_context().new_page()
    sign_in(page, app_url, email, password)
    page.goto(f"{app_url}{path}")
    return page


def ask_on_portal(app_url: str, slug: str, rx_number: str, surname: str) -> None:
    body = json.dumps(
        {"rx_number": rx_number, "date_of_birth": "1971-03-04", "last_name": surname, "note": "Secret note"}
    ).encode()
    request = urllib.request.Request(
        f"{app_url}/api/v1/portal/{slug}/refill-requests",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 202


def test_a_portal_request_and_a_sale_show_live_in_the_right_chain_only(browser: Browser, app_url, committed_tenant):
    chain, spec = committed_tenant("live-a", branches=2)
    other, _ = committed_tenant("live-b")
    pharmacy = stock(chain)
    receive(pharmacy, "lisinopril", "LIS-LIVE", 100)
    surname = "Live" + "".join(random.choices(string.ascii_lowercase, k=6))  # letters: the portal form's rule
    patient = pharmacy.run(
        pharmacy.owner, create_patient, full_name=f"Lena {surname}", date_of_birth="1971-03-04",
        home_branch_id=pharmacy.branch,
    ).id  # fmt: skip
    rx = pharmacy.on_profile(patient, "lisinopril", days_supply="30", refills_authorized="2")
    done = pharmacy.run(pharmacy.technician, fills.fill_prescription, rx.id)
    with database.owner_engine().begin() as owner:
        owner.execute(
            text(
                "UPDATE prescription_fills SET status = 'checked', scanned_barcode = '00000000', "
                "filled_at = now() - interval '28 days', checked_at = now() - interval '28 days' WHERE id = :f"
            ),
            {"f": done.id},
        )
        owner.execute(text("UPDATE prescriptions SET status = 'ready_for_pickup' WHERE id = :p"), {"p": rx.id})
    first = member(pharmacy.owner, "pharmacist", "Ada First")
    second = member(pharmacy.owner, "pharmacist", "Ben Second")
    outsider = member(
        TenantContext(tenant_id=other.tenant_id, user_id=other.owner_user_id, role="owner"), "pharmacist", "Cy Other"
    )

    path = "/prescriptions/requests"
    pages = [staff_page(browser, app_url, *who, path) for who in (first, second, outsider)]
    for page in pages:
        expect(page.locator("#portal-requests-none")).to_be_visible(timeout=15000)
    # Each open page holds one subscription to its own chain's channel (what a published event reaches).
    wait_until(lambda: subscribers(chain.tenant_id) == 2 and subscribers(other.tenant_id) == 1, timeout=15)

    published = redis_connection().pubsub(ignore_subscribe_messages=True)
    published.psubscribe("events:*")
    ask_on_portal(app_url, spec.slug, rx.rx_number, surname)
    started = time.monotonic()
    for page in pages[:2]:
        rows = page.locator("#portal-open .portal-request")
        expect(rows).to_have_count(1, timeout=max(1, LIVE_MS - (time.monotonic() - started) * 1000))
        expect(rows.first).to_contain_text(rx.rx_number)
    time.sleep(max(0.0, 2.5 - (time.monotonic() - started)))
    expect(pages[2].locator("#portal-open .portal-request")).to_have_count(0)  # chain B: nothing
    expect(pages[2].locator("#portal-requests-none")).to_be_visible()

    heard = []
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:  # (get_message answers None for the subscription's confirmation too)
        message = published.get_message(timeout=0.1)
        if message and message["type"] == "pmessage":
            heard.append((message["channel"].decode(), message["data"].decode()))
    published.close()
    assert [c for c, _ in heard if '"refill_requested"' in _] == [channel(chain.tenant_id)]
    assert not any(surname.lower() in d.lower() or "secret" in d.lower() or "lisinopril" in d.lower() for _, d in heard)

    # A sale at another till: the inventory page shows the stock that is left, without a reload.
    owner = pharmacy.owner
    tablets = pharmacy.run(owner, create_medicine, generic_name=f"Livetab {surname}", strength="1 mg", schedule="otc")
    pharmacy.run(
        owner, receive_stock, branch_id=pharmacy.branch, medicine_id=tablets, lot_number="LT1",
        expiry_date="2099-01-01", quantity=50,
    )  # fmt: skip
    stock_page = pages[0]
    stock_page.goto(f"{app_url}/inventory")
    stock_page.locator("#catalog-search").fill(f"Livetab {surname}")
    stock_page.locator("#catalog-search").press("Enter")
    row = stock_page.locator(".medicine-row", has_text=f"Livetab {surname}")
    expect(row.locator(".on-hand")).to_have_text("50", timeout=15000)
    # The requests page's subscription ended when the tab left it; the inventory page holds one.
    seen: list[object] = []

    def one_per_page() -> bool:
        seen[:] = [listening("/inventory"), subscribers(chain.tenant_id)]
        return seen == [1, 2]

    try:
        wait_until(one_per_page, timeout=20, message="one subscription per open page")
    except AssertionError:
        names = [c.get("name") for c in redis_connection().client_list()]
        raise AssertionError(f"(inventory page, chain channel) subscriptions {seen}; connections {names}") from None

    draft = pharmacy.run(
        pharmacy.cashier, save_draft, branch_id=pharmacy.branch, bill_id=None,
        lines=[{"medicine_id": tablets, "quantity": 3}],
    )  # fmt: skip
    pharmacy.run(pharmacy.cashier, sell_for_cash, draft.bill.id, "100")
    expect(row.locator(".on-hand")).to_have_text("47", timeout=LIVE_MS)

    for page in pages:
        page.context.close()
    wait_until(
        lambda: subscribers(chain.tenant_id) == 0 and subscribers(other.tenant_id) == 0,
        timeout=20,
        message="closed tabs to drop their subscriptions",
    )
