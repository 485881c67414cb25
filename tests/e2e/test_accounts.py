"""Browser journeys for accounts: sign-up, sign-in/out, invitations, and server-side refusals."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from backend.accounts.staff import accept_invitation, invite
from tenants.context import TenantContext
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.e2e
DASHBOARD = re.compile(r"/dashboard/?$")


def sign_in(page: Page, app_url: str, email: str, password: str) -> None:
    page.goto(f"{app_url}/signin")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#sign-in-submit").click()
    expect(page).to_have_url(DASHBOARD, timeout=15000)


def sign_out(page: Page) -> None:
    page.locator("#sign-out").click()
    expect(page.locator("#landing-title")).to_be_visible(timeout=15000)


def test_sign_up_a_new_chain_then_sign_out_and_back_in(page: Page, app_url: str):
    suffix = uuid.uuid4().hex[:6]
    email = f"founder-{suffix}@greenleaf.example"
    page.goto(f"{app_url}/signup")
    page.locator("#chain_name").fill(f"Greenleaf Chemists {suffix}")
    expect(page.locator("#slug")).to_have_value(f"greenleaf-chemists-{suffix}")
    page.locator("#owner_name").fill("Grace Green")
    page.locator("#email").fill(email)
    page.locator("#password").fill("password123")
    page.locator("#branch_name").fill("High Street")
    page.locator("#load_demo_data").click()
    page.locator("#sign-up-submit").click()
    expect(page.locator("#password-error")).to_contain_text("too common")

    page.locator("#password").fill("Willow-Bark-Tonic-31")
    page.locator("#sign-up-submit").click()
    expect(page).to_have_url(DASHBOARD, timeout=20000)
    expect(page.locator("#header-tenant")).to_have_text(f"Greenleaf Chemists {suffix}")
    expect(page.locator("#header-user")).to_contain_text("Owner")
    expect(page.locator("#branch-select")).to_be_visible()
    page.goto(f"{app_url}/staff")  # the demo data: sample staff invitations to try things with
    expect(page.locator(".invitation-row")).to_have_count(3, timeout=15000)

    sign_out(page)
    page.goto(f"{app_url}/dashboard")
    expect(page).to_have_url(re.compile(r"/signin/?$"), timeout=15000)  # the session really ended
    sign_in(page, app_url, email, "Willow-Bark-Tonic-31")
    expect(page.locator("#header-tenant")).to_have_text(f"Greenleaf Chemists {suffix}")


def test_owner_invites_a_pharmacist_who_accepts(browser: Browser, app_url: str, committed_tenant):
    chain, spec = committed_tenant("invites")
    owner_page = browser.new_page()
    sign_in(owner_page, app_url, spec.owner_email, TEST_PASSWORD)
    owner_page.goto(f"{app_url}/staff")
    invitee = f"pia-{uuid.uuid4().hex[:6]}@example.com"
    owner_page.locator("#invite_email").fill(invitee)
    owner_page.locator("#invite-submit").click()
    link = owner_page.locator("#invite-link")
    expect(link).to_contain_text("/invite?token=", timeout=15000)
    url = link.inner_text()
    expect(owner_page.locator(".invitation-row").first).to_contain_text(invitee)
    # A pending invitation can be revoked (InvitationStatus, decided by the state, not by the page's text)
    expect(owner_page.locator(".invitation-row").first.get_by_role("button", name="Revoke")).to_be_visible()
    owner_page.goto(f"{app_url}/audit")
    expect(owner_page.locator(".audit-row").first).to_contain_text("staff.invited", timeout=15000)
    expect(owner_page.locator("#chain-status")).to_have_text("Hash chain intact")
    owner_page.close()

    context = browser.new_context()  # the colleague's own browser: no cookies shared
    page = context.new_page()
    page.goto(url)
    expect(page.locator("#invite-title")).to_contain_text(spec.name)
    expect(page.locator("#password-rules")).to_contain_text("At least 10 characters")  # said before it refuses
    page.locator("#full_name").fill("Pia Pharmacist")
    page.locator("#password").fill("Tablet-Press-Forty-2")
    page.locator("#accept-invitation").click()
    expect(page).to_have_url(DASHBOARD, timeout=20000)
    expect(page.locator("#header-user")).to_contain_text("Pharmacist")
    context.close()


def test_cashier_cannot_open_settings(page: Page, app_url: str, committed_tenant):
    chain, _ = committed_tenant("cashiers")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    email = f"cass-{uuid.uuid4().hex[:6]}@example.com"
    token = invite(owner, email, "cashier").link.split("token=")[1]
    accept_invitation(token, full_name="Cass Cashier", password="Receipt-Roll-Nine-9")

    sign_in(page, app_url, email, "Receipt-Roll-Nine-9")
    expect(page.locator("#header-user")).to_contain_text("Cashier")
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    page.goto(f"{app_url}/settings")
    expect(page.get_by_text("may not do this (tenant.settings)")).to_be_visible(timeout=15000)
    expect(page).to_have_url(DASHBOARD, timeout=15000)
    expect(page.locator("#settings-title")).to_have_count(0)


def test_staff_of_a_suspended_chain_see_a_clear_page(page: Page, app_url: str, committed_tenant):
    import psycopg

    from backend.core.settings import get_settings

    chain, spec = committed_tenant("suspend")
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    with psycopg.connect(get_settings().owner_database_url().replace("+psycopg", "")) as conn:
        conn.execute("UPDATE tenants SET status = 'suspended' WHERE id = %s", (chain.tenant_id,))
    page.reload()  # the next event re-validates the session and sees the suspension
    expect(page.locator("#suspended-title")).to_be_visible(timeout=15000)
    page.goto(f"{app_url}/staff")
    expect(page.locator("#suspended-title")).to_be_visible(timeout=15000)


def test_enrol_totp_and_sign_in_with_it(page: Page, app_url: str, committed_tenant):
    import time

    import pyotp

    chain, spec = committed_tenant("totp")
    sign_in(page, app_url, spec.owner_email, TEST_PASSWORD)
    page.goto(f"{app_url}/account")
    page.locator("#mfa-begin").click()
    key = page.locator("#mfa-key")
    expect(key).not_to_be_empty(timeout=15000)
    expect(page.locator("#mfa-qr")).to_be_visible()
    totp = pyotp.TOTP(key.inner_text().replace(" ", ""))
    enrolment_code = totp.now()
    page.locator("#mfa-confirm-code").fill(enrolment_code)
    page.locator("#mfa-confirm").click()
    expect(page.locator("#mfa-status")).to_have_text("on", timeout=15000)
    expect(page.locator("#recovery-codes")).to_contain_text("-")
    sign_out(page)

    page.goto(f"{app_url}/signin")
    page.locator("#email").fill(spec.owner_email)
    page.locator("#password").fill(TEST_PASSWORD)
    page.locator("#sign-in-submit").click()
    page.locator("#code").fill(enrolment_code)  # already used to enrol: refused as a replay
    page.locator("#code-submit").click()
    expect(page.locator("#sign-in-error")).to_contain_text("already used", timeout=15000)
    page.locator("#code").fill(totp.at(time.time() + 30))  # the next step, within the drift window
    page.locator("#code-submit").click()
    expect(page).to_have_url(DASHBOARD, timeout=20000)


def test_sign_in_with_the_chains_identity_provider(page: Page, app_url: str, committed_tenant, oidc_provider):
    from backend.accounts.sso import save_config
    from tests.oidc_provider import TestUser

    chain, spec = committed_tenant("ssoe2e")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    save_config(
        owner,
        issuer=oidc_provider.issuer,
        client_id=oidc_provider.client_id,
        client_secret=oidc_provider.client_secret,
        label="Test IdP",
        allow_first_sign_in=False,
        default_role="cashier",
    )
    oidc_provider.user = TestUser(spec.owner_email)

    page.goto(f"{app_url}/signin")
    page.locator("#sso-chain").fill(spec.slug)
    page.locator("#sso-continue").click()
    expect(page).to_have_url(DASHBOARD, timeout=20000)
    expect(page.locator("#header-tenant")).to_have_text(spec.name)

    # Someone the provider knows but the chain does not: refused with a clear message.
    sign_out(page)
    oidc_provider.user = TestUser("stranger@example.com")
    page.goto(f"{app_url}/signin")
    page.locator("#sso-chain").fill(spec.slug)
    page.locator("#sso-continue").click()
    expect(page.locator("#sign-in-error")).to_contain_text("not a member", timeout=20000)


def test_chain_requiring_mfa_sends_members_to_set_it_up(page: Page, app_url: str, committed_tenant):
    from tenants.directory import set_require_mfa

    chain, spec = committed_tenant("needsmfa")
    set_require_mfa(TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner"), True)
    page.goto(f"{app_url}/signin")
    page.locator("#email").fill(spec.owner_email)
    page.locator("#password").fill(TEST_PASSWORD)
    page.locator("#sign-in-submit").click()
    expect(page).to_have_url(re.compile(r"/account/?$"), timeout=20000)
    expect(page.get_by_text("requires two-factor sign-in")).to_be_visible()
    expect(page.locator("#mfa-begin")).to_be_visible()
    page.goto(f"{app_url}/staff")  # every other page is refused until MFA is on
    expect(page).to_have_url(re.compile(r"/account/?$"), timeout=20000)
