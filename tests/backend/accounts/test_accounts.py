"""Sign-up, sign-in, sessions and staff management against real Postgres and Redis."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from backend.accounts.service import (
    BAD_CREDENTIALS,
    SignUpForm,
    TooManyAttempts,
    authenticate,
    sign_up,
)
from backend.accounts.sessions import (
    end_all_sessions,
    end_session,
    issue_login_code,
    principal_for_token,
    redeem_login_code,
    start_session,
)
from backend.accounts.staff import accept_invitation, change_role, invite, list_members, set_active
from backend.core.errors import AuthenticationRequired, ChainSuspended, Conflict, PermissionDenied, ValidationFailed
from tenants.audit import list_audit
from tenants.context import TenantContext
from tests.conftest import TEST_PASSWORD


def form(**overrides: object) -> SignUpForm:
    suffix = uuid.uuid4().hex[:8]
    values: dict[str, object] = {
        "chain_name": f"Riverside Pharmacy {suffix}",
        "slug": f"riverside-{suffix}",
        "owner_name": "Rita River",
        "email": f"rita-{suffix}@riverside.example",
        "password": "Kingfisher-Blue-77",
        "currency": "USD",
        "branch_name": "Riverside Main",
        "branch_address": "3 Quay Street",
        "time_zone": "Europe/London",
        "tax_rate": "20",
        "prices_include_tax": True,
    }
    values.update(overrides)
    return SignUpForm(**values)  # type: ignore[arg-type]


def counts(db) -> tuple[int, int, int]:
    db.execute(text("RESET ROLE"))
    return tuple(
        db.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # type: ignore[return-value]
        for t in ("tenants", "users", "branches")
    )


def test_sign_up_creates_a_chain_its_owner_and_branch(db):
    user_id, tenant_id = sign_up(form(email="Owner.Case@Riverside.example"))
    signed_in = authenticate("owner.case@riverside.example", "Kingfisher-Blue-77")
    assert signed_in.user_id == user_id
    assert [(m.tenant_id, m.role) for m in signed_in.memberships] == [(tenant_id, "owner")]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"password": "short1"}, "password", "at least 10"),
        ({"password": "password123"}, "password", "too common"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Unknown time zone"),
        ({"slug": "Not A Slug!"}, "slug", "URL slug"),
        ({"email": "not-an-email"}, "owner_email", "valid e-mail"),
        ({"tax_rate": "eight"}, "default_tax_rate", "number"),
        ({"currency": "dollars"}, "currency", "3-letter"),
    ],
)
def test_bad_sign_up_input_names_the_field_and_writes_nothing(db, overrides, field, message):
    before = counts(db)
    with pytest.raises(ValidationFailed, match=message) as failure:
        sign_up(form(**overrides))
    assert failure.value.field == field
    assert counts(db) == before


def test_duplicate_slug_or_email_is_refused_and_nothing_half_created(db):
    first = form()
    sign_up(first)
    before = counts(db)
    with pytest.raises(Conflict) as slug_taken:
        sign_up(form(slug=first.slug))
    assert slug_taken.value.field == "slug"
    with pytest.raises(Conflict) as email_taken:
        sign_up(form(email=first.email))
    assert email_taken.value.field == "owner_email"
    assert counts(db) == before


def test_failed_sign_ins_slow_down_without_revealing_the_account(db):
    suffix = uuid.uuid4().hex[:8]
    user_id, tenant_id = sign_up(form(email=f"slow-{suffix}@example.com"))
    for _ in range(3):
        with pytest.raises(AuthenticationRequired, match=BAD_CREDENTIALS):
            authenticate(f"slow-{suffix}@example.com", "wrong password!")
    with pytest.raises(TooManyAttempts, match="Wait"):
        authenticate(f"slow-{suffix}@example.com", "Kingfisher-Blue-77")  # even the right password waits
    owner = TenantContext(tenant_id=uuid.UUID(tenant_id), user_id=uuid.UUID(user_id), role="owner")
    failures = list_audit(owner, action_prefix="auth.sign_in_failed").rows
    assert len(failures) == 3 and '"delay_seconds": 1' in failures[0].details
    # An unknown e-mail gets the same message and the same slowdown.
    for _ in range(3):
        with pytest.raises(AuthenticationRequired, match=BAD_CREDENTIALS):
            authenticate(f"nobody-{suffix}@example.com", "wrong password!")
    with pytest.raises(TooManyAttempts):
        authenticate(f"nobody-{suffix}@example.com", "wrong password!")


def test_sessions_end_on_sign_out_and_everywhere(db, make_tenant):
    chain = make_tenant("sess")
    first = start_session(str(chain.owner_user_id), str(chain.tenant_id), ip="10.0.0.1", user_agent="test")
    second = start_session(str(chain.owner_user_id), str(chain.tenant_id))
    principal = principal_for_token(first)
    assert principal is not None and principal.role == "owner"
    assert principal.context().tenant_id == chain.tenant_id
    end_session(first)
    assert principal_for_token(first) is None
    assert principal_for_token(second) is not None
    assert end_all_sessions(str(chain.owner_user_id)) == 1
    assert principal_for_token(second) is None
    assert principal_for_token("forged-token") is None


def test_expired_session_and_suspended_chain_are_refused(db, make_tenant):
    chain = make_tenant("expiry")
    token = start_session(str(chain.owner_user_id), str(chain.tenant_id))
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE tenants SET status = 'suspended' WHERE id = :t"), {"t": chain.tenant_id})
    principal = principal_for_token(token)
    assert principal is not None
    with pytest.raises(ChainSuspended, match="suspended"):  # its own type: the app sends them to /suspended
        principal.context()
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE user_sessions SET expires_at = now() - interval '1 second'"))
    assert principal_for_token(token) is None


def test_login_codes_work_once():
    code = issue_login_code(str(uuid.uuid4()), None)
    assert redeem_login_code(code) is not None
    assert redeem_login_code(code) is None
    assert redeem_login_code("made-up") is None


def owner(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def test_invite_accept_and_manage_a_pharmacist(db, make_tenant):
    chain = make_tenant("staff", branches=2)
    created = invite(owner(chain), "Phil.Pharmacist@example.com", "pharmacist", [str(chain.branch_ids[1])])
    token = created.link.split("token=")[1]
    with pytest.raises(ValidationFailed, match="at least 10"):
        accept_invitation(token, full_name="Phil", password="short")
    user_id, tenant_id = accept_invitation(token, full_name="Phil Pharmacist", password="Mortar-and-Pestle-9")
    assert tenant_id == str(chain.tenant_id)
    with pytest.raises(Conflict, match="accepted"):
        accept_invitation(token, full_name="Phil", password="Mortar-and-Pestle-9")
    members = {m.email: m for m in list_members(owner(chain))}
    phil = members["phil.pharmacist@example.com"]
    assert (phil.role, phil.branches) == ("pharmacist", ["Branch 2"])

    session_token = start_session(user_id, tenant_id)
    principal = principal_for_token(session_token)
    assert principal is not None and principal.role == "pharmacist"
    assert principal.branch_ids == (str(chain.branch_ids[1]),)

    change_role(owner(chain), phil.membership_id, "technician")
    assert principal_for_token(session_token).role == "technician"  # type: ignore[union-attr]
    set_active(owner(chain), phil.membership_id, False)
    assert principal_for_token(session_token) is None  # deactivation ended the session at once


def test_staff_rules(db, make_tenant):
    chain = make_tenant("rules")
    members = list_members(owner(chain))
    with pytest.raises(Conflict, match="at least one owner"):
        change_role(owner(chain), members[0].membership_id, "manager")
    manager = TenantContext(tenant_id=chain.tenant_id, user_id=uuid.uuid4(), role="manager")
    with pytest.raises(PermissionDenied, match="cannot give the owner role"):
        invite(manager, "new.owner@example.com", "owner")
    cashier = TenantContext(tenant_id=chain.tenant_id, user_id=uuid.uuid4(), role="cashier")
    with pytest.raises(PermissionDenied):
        invite(cashier, "friend@example.com", "cashier")
    with pytest.raises(PermissionDenied):
        list_members(cashier)
    invite(owner(chain), "dup@example.com", "cashier")
    with pytest.raises(Conflict, match="already pending"):
        invite(owner(chain), "DUP@example.com", "cashier")


def test_existing_user_joins_a_second_chain_with_their_password(db, make_tenant):
    first, second = make_tenant("first"), make_tenant("second")
    db.execute(text("RESET ROLE"))
    email = db.execute(text("SELECT email FROM users WHERE id = :u"), {"u": first.owner_user_id}).scalar_one()
    token = invite(owner(second), email, "manager").link.split("token=")[1]
    with pytest.raises(ValidationFailed, match="not the password"):
        accept_invitation(token, full_name="", password="guessing-wrong-1")
    user_id, _ = accept_invitation(token, full_name="", password=TEST_PASSWORD)
    assert user_id == str(first.owner_user_id)
    chains = authenticate(email, TEST_PASSWORD).memberships
    assert sorted(m.role for m in chains) == ["manager", "owner"]


def test_sign_up_with_demo_data_adds_a_branch_and_sample_staff(db):
    from backend.accounts.staff import list_invitations
    from backend.demo.seed import load_demo_data_for_new_chain
    from tenants.directory import tenant_profile

    user_id, tenant_id = sign_up(form())
    load_demo_data_for_new_chain(user_id, tenant_id)  # what the sign-up page does when the box is ticked
    ctx = TenantContext(tenant_id=uuid.UUID(tenant_id), user_id=uuid.UUID(user_id), role="owner")
    assert [b.name for b in tenant_profile(ctx).branches] == ["Riverside (demo)", "Riverside Main"]
    assert sorted(i.role for i in list_invitations(ctx)) == ["cashier", "pharmacist", "technician"]
    db.execute(text("RESET ROLE"))
    mails = db.execute(text("SELECT count(*) FROM outbox WHERE tenant_id = :t"), {"t": tenant_id}).scalar_one()
    assert mails == 0  # placeholder addresses are never e-mailed
