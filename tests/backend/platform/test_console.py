"""The super-admin console's services: sign-in with MFA, chains, suspension, support access."""

from __future__ import annotations

import time
import uuid

import pyotp
import pytest
from sqlalchemy import text

from backend.accounts.sessions import PlatformPrincipal, principal_for_token, redeem_login_code, start_session
from backend.accounts.staff import invite
from backend.core.errors import AuthenticationRequired, PermissionDenied, ValidationFailed
from backend.platform.service import (
    create_platform_admin,
    grant_support_access,
    list_tenants,
    platform_sign_in,
    set_tenant_status,
)
from tenants.audit import list_audit
from tenants.context import TenantContext
from tests.conftest import TEST_PASSWORD


@pytest.fixture
def admin(db):
    created = create_platform_admin(f"ops-{uuid.uuid4().hex[:6]}@platform.example", "Olive Ops", "Console-Key-2026!")
    db.execute(text("RESET ROLE"))
    user_id = db.execute(text("SELECT id FROM users WHERE email = :e"), {"e": created.email}).scalar_one()
    return created, PlatformPrincipal(str(uuid.uuid4()), str(user_id), "Olive Ops", created.email)


def owner(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def test_console_sign_in_needs_an_admin_and_a_code(db, admin, make_tenant):
    created, _ = admin
    totp = pyotp.TOTP(created.totp_secret)
    with pytest.raises(AuthenticationRequired, match="not right"):
        platform_sign_in(created.email, created.password, "000000" if totp.now() != "000000" else "111111")
    code = platform_sign_in(created.email, created.password, totp.at(time.time() + 30))
    grant = redeem_login_code(code)
    assert grant is not None and grant.platform and grant.tenant_id is None
    chain = make_tenant("notadmin")
    db.execute(text("RESET ROLE"))
    email = db.execute(text("SELECT email FROM users WHERE id = :u"), {"u": chain.owner_user_id}).scalar_one()
    with pytest.raises(AuthenticationRequired, match="E-mail or password"):
        platform_sign_in(email, TEST_PASSWORD, "123456")  # a chain owner is not platform staff


def test_suspend_blocks_staff_and_is_audited_in_the_chain(db, admin, make_tenant):
    _, principal = admin
    chain = make_tenant("suspendme")
    assert [t.slug for t in list_tenants(actor="t", reason="test", search=chain.slug)] == [chain.slug]
    staff_token = start_session(str(chain.owner_user_id), str(chain.tenant_id))
    with pytest.raises(ValidationFailed, match="reason"):
        set_tenant_status(principal, str(chain.tenant_id), "suspended", "no")
    set_tenant_status(principal, str(chain.tenant_id), "suspended", "Unpaid invoice INV-1")
    with pytest.raises(PermissionDenied, match="suspended"):
        principal_for_token(staff_token).context()  # type: ignore[union-attr]
    set_tenant_status(principal, str(chain.tenant_id), "active", "Invoice INV-1 paid")
    events = [(r.action, r.details) for r in list_audit(owner(chain), action_prefix="tenant.").rows]
    assert events[0][0] == "tenant.reactivated" and "INV-1 paid" in events[0][1]
    assert events[1][0] == "tenant.suspended"


def test_support_access_is_time_limited_read_only_and_shown_to_the_owner(db, admin, make_tenant):
    _, principal = admin
    chain = make_tenant("support")
    with pytest.raises(ValidationFailed, match="reason"):
        grant_support_access(principal, str(chain.tenant_id), "short", 30)
    code = grant_support_access(principal, str(chain.tenant_id), "Ticket 4312: stock counts look wrong", 30)
    grant = redeem_login_code(code)
    assert grant is not None and not grant.platform and grant.tenant_id == str(chain.tenant_id)
    token = start_session(grant.user_id, grant.tenant_id)
    support = principal_for_token(token)
    assert support is not None and support.role == "support"
    with pytest.raises(PermissionDenied):
        invite(support.context(), "x@example.com", "cashier")  # read-only
    shown = list_audit(owner(chain), action_prefix="support.").rows
    assert len(shown) == 1 and "Ticket 4312" in shown[0].details
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE support_grants SET expires_at = now() - interval '1 second'"))
    assert principal_for_token(token).role is None  # type: ignore[union-attr]


def test_the_suspended_page_tells_the_owner_why_and_staff_whom_to_ask(db, admin, make_tenant):
    from dataclasses import replace

    from backend.accounts.suspension import suspension_notice

    _, principal = admin
    chain = make_tenant("why")
    token = start_session(str(chain.owner_user_id), str(chain.tenant_id))
    assert suspension_notice(principal_for_token(token)) is None  # type: ignore[arg-type]  # active: nothing to say

    set_tenant_status(principal, str(chain.tenant_id), "suspended", "Unpaid invoice INV-2026-114")
    owner_principal = principal_for_token(token)
    assert owner_principal is not None and owner_principal.tenant_status == "suspended"
    notice = suspension_notice(owner_principal)
    assert notice is not None and notice.is_owner and notice.reason == "Unpaid invoice INV-2026-114"
    assert notice.chain_name == owner_principal.tenant_name and notice.suspended_at is not None
    assert "@" in notice.support_email

    cashier = suspension_notice(replace(owner_principal, role="cashier"))
    assert cashier is not None and not cashier.is_owner and cashier.reason == ""  # the reason is the owner's

    other = make_tenant("bystander")  # another chain's owner never reads this chain's reason
    other_principal = replace(owner_principal, tenant_id=str(other.tenant_id), user_id=str(other.owner_user_id))
    assert suspension_notice(other_principal).reason == ""  # type: ignore[union-attr]
