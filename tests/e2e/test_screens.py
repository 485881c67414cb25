"""Browser journeys for the everyday screens: the API reference offline, the favicon, the landing page
into sign-up with fast typing, the dashboard and the menu per role, and a build that leaves the
committed lockfiles alone."""

from __future__ import annotations

import re
import subprocess
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from backend.accounts.staff import accept_invitation, invite
from backend.billing.credit_notes.service import issue_credit_note
from backend.billing.payments.service import record_payment
from backend.core.settings import get_settings
from tenants.context import TenantContext
from tenants.session import run_in_tenant
from tests.backend.billing.conftest import stock_up
from tests.backend.billing.reporting import sell
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_accounts import DASHBOARD, sign_in
from tests.helpers import ROOT

pytestmark = pytest.mark.e2e


def test_api_reference_renders_with_nothing_from_another_host(page: Page, app_url: str):
    requested: list[str] = []
    blocked: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.goto(f"{app_url}/api/v1/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("Pharmacy SaaS API", timeout=20000)
    expect(page.locator(".opblock").first).to_be_visible(timeout=20000)
    assert page.locator(".opblock").count() > 10  # the operations are listed
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/health").first).to_be_visible()
    assert requested and all(url.startswith(app_url) for url in requested), [
        u for u in requested if not u.startswith(app_url)
    ]
    assert blocked == []


def test_favicon_is_served_by_the_app(page: Page, app_url: str):
    with urllib.request.urlopen(f"{app_url}/favicon.ico", timeout=10) as response:
        body = response.read()
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file, not the index page served for unknown paths
    page.goto(app_url)
    expect(page.locator("head link[rel=icon]")).to_have_attribute("href", "/favicon.ico")


def test_landing_leads_to_sign_up_and_the_slug_keeps_up_with_fast_typing(page: Page, app_url: str):
    page.goto(app_url)
    expect(page.locator("#landing-title")).to_be_visible(timeout=15000)
    page.locator("#landing-sign-up").click()
    expect(page).to_have_url(re.compile(r"/signup/?$"), timeout=15000)
    expect(page.get_by_text("At least 10 characters")).to_be_visible()  # the password rules, before they refuse

    suffix = uuid.uuid4().hex[:6]
    name = f"Northwind Community Chemists {suffix}"
    chain = page.locator("#chain_name")
    slug = page.locator("#slug")
    chain.press_sequentially(name, delay=10)  # faster than a round trip to the server per key
    expect(chain).to_have_value(name)  # no keystroke lost
    expect(slug).to_have_value(f"northwind-community-chemists-{suffix}")

    slug.fill("")
    slug.press_sequentially(f"nw-{suffix}", delay=10)  # the person's own slug ...
    chain.press("End")
    chain.press_sequentially(" Ltd", delay=10)
    expect(chain).to_have_value(f"{name} Ltd")
    expect(slug).to_have_value(f"nw-{suffix}")  # ... stays theirs while the name changes

    page.locator("#owner_name").fill("Nina North")
    page.locator("#email").fill(f"nina-{suffix}@northwind.example")
    page.locator("#password").fill("Willow-Bark-Tonic-31")
    page.locator("#branch_name").fill("Harbour Road")
    page.locator("#sign-up-submit").click()
    expect(page).to_have_url(DASHBOARD, timeout=20000)
    expect(page.locator("#header-tenant")).to_have_text(f"{name} Ltd")

    import psycopg

    with psycopg.connect(get_settings().owner_database_url().replace("+psycopg", "")) as conn:
        stored = conn.execute("SELECT slug FROM tenants WHERE name = %s", (f"{name} Ltd",)).fetchone()
    assert stored == (f"nw-{suffix}",)


def _sales_today_and_a_week_ago(chain) -> None:
    """In the branch's local time: 2 x 6.00 earlier today; a week ago 6.00 before this time of day and
    18.00 after it; one unit of today's sale refunded."""
    counter = stock_up(chain)
    cashier = counter.ctx("cashier")
    zone = ZoneInfo("America/Bogota")
    now = datetime.now(zone)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = now - midnight
    today = sell(
        cashier, counter.branch, [{"medicine_id": counter.vitamin_d, "quantity": 2}], at=midnight + elapsed / 2
    )
    week_ago = midnight - timedelta(days=7)
    sell(cashier, counter.branch, [{"medicine_id": counter.vitamin_d, "quantity": 1}], at=week_ago + elapsed / 4)
    later = week_ago + elapsed + (timedelta(days=1) - elapsed) / 2
    sell(cashier, counter.branch, [{"medicine_id": counter.vitamin_d, "quantity": 3}], at=later.astimezone(UTC))
    run_in_tenant(cashier, record_payment, bill_id=today.id, tendered="12.00")
    run_in_tenant(counter.owner, issue_credit_note, today.id, [(1, 1, True)], reason="unopened pack back")


def test_dashboard_and_menu_per_role(browser: Browser, app_url: str, committed_tenant):
    from backend.inventory.reorder import set_reorder_level
    from backend.inventory.service import create_medicine

    chain, spec = committed_tenant("dash", branches=2, time_zone="America/Bogota")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    _sales_today_and_a_week_ago(chain)
    scarce = run_in_tenant(owner, create_medicine, generic_name="Atorvastatin", strength="20 mg")
    run_in_tenant(
        owner,
        set_reorder_level,
        branch_id=str(chain.branch_ids[0]),
        medicine_id=scarce,
        reorder_point=10,
        reorder_quantity=60,
    )

    page = browser.new_context().new_page()
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    expect(page.locator("#sales-branch")).to_contain_text("Branch 1", timeout=20000)
    expect(page.locator("#sales-today")).to_have_text("$12.00")
    expect(page.locator("#sales-last-week")).to_have_text("$6.00")  # up to this time of day only
    expect(page.locator("#sales-today-change")).to_contain_text("+100 %")
    expect(page.locator("#sales-period")).to_have_text("$36.00")
    expect(page.locator("#sales-margin")).to_be_visible()
    expect(page.locator("#sales-chart .recharts-bar")).to_have_count(2, timeout=15000)
    expect(page.locator("#attention-refunds .attention-count")).to_have_text("1")
    expect(page.locator("#attention-refunds")).to_contain_text("$6.00")
    expect(page.locator("#attention-low .attention-count")).to_have_text("1")
    expect(page.locator("#attention-claims-submitted")).to_have_attribute("href", "/claims?status=submitted")
    expect(page.locator(".service-health")).to_have_count(3, timeout=15000)
    for link in ("Reports", "Staff", "Settings", "Audit log", "Patients"):
        expect(page.get_by_role("link", name=link, exact=True)).to_have_count(1)

    page.locator("#branch-select").click()  # the figures follow the branch picked in the shell
    page.get_by_role("option", name="Branch 2").click()
    expect(page.locator("#sales-branch")).to_contain_text("Branch 2", timeout=15000)
    expect(page.locator("#sales-today")).to_have_text("$0.00")
    page.context.close()

    email = f"cass-{uuid.uuid4().hex[:6]}@example.com"
    accept_invitation(invite(owner, email, "cashier").link.split("token=")[1], full_name="Cass", password=TEST_PASSWORD)
    page = browser.new_context().new_page()
    sign_in(page, app_url, email, TEST_PASSWORD)
    expect(page.locator("#attention-low .attention-count")).to_have_text("1", timeout=20000)  # stock: theirs too
    expect(page.get_by_role("link", name="Point of sale", exact=True)).to_have_count(1)
    for hidden in ("#sales-section", "#sales-margin", "#attention-value", "#attention-refunds", "#health-summary"):
        expect(page.locator(hidden)).to_have_count(0)
    expect(page.locator("[id^=attention-claims]")).to_have_count(0)
    expect(page.locator(".service-health")).to_have_count(0)
    for link in ("Reports", "Staff", "Settings", "Audit log", "Patients"):
        expect(page.get_by_role("link", name=link, exact=True)).to_have_count(0)
    page.goto(f"{app_url}/reports")  # a hidden link is no permission: the server still refuses
    expect(page.get_by_text("may not do this (reports.view)")).to_be_visible(timeout=15000)
    expect(page).to_have_url(DASHBOARD, timeout=15000)
    page.context.close()


def test_building_the_app_left_the_committed_lockfiles_alone(app_url: str):
    """The app fixture built the frontend (Reflex copies package.json and bun.lock back after it)."""
    inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT, capture_output=True, text=True)
    if inside.returncode != 0:
        pytest.skip("not a git checkout")
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "reflex.lock"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert changed.stdout == ""
