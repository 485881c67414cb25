"""The audit trail: append-only, hash-chained, readable by owners and managers only."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backend.accounts.staff import invite
from backend.core.errors import PermissionDenied
from tenants.audit import list_audit
from tenants.context import TenantContext
from tenants.session import tenant_session


def owner(chain) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def test_owner_reads_filtered_events_and_the_chain_is_intact(db, make_tenant):
    chain = make_tenant("audit")
    invite(owner(chain), "a@example.com", "cashier")
    everything = list_audit(owner(chain))
    assert [r.action for r in everything.rows] == ["staff.invited", "tenant.provisioned"]
    assert everything.rows[0].actor.startswith("Owner ")
    assert everything.chain_intact
    assert [r.action for r in list_audit(owner(chain), action_prefix="staff.").rows] == ["staff.invited"]
    cashier = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="cashier")
    with pytest.raises(PermissionDenied):
        list_audit(cashier)


def test_the_app_cannot_rewrite_history_and_tampering_shows(db, make_tenant):
    chain = make_tenant("tamper")
    invite(owner(chain), "b@example.com", "cashier")
    with pytest.raises(DBAPIError, match="permission denied"):
        with tenant_session(owner(chain)) as session:
            session.execute(text("UPDATE audit_events SET action = 'nothing.happened'"))
    with pytest.raises(DBAPIError, match="permission denied"):
        with tenant_session(owner(chain)) as session:
            session.execute(text("DELETE FROM audit_events"))
    db.execute(text("RESET ROLE"))  # only the table owner can; the chain then shows the edit
    db.execute(text("UPDATE audit_events SET details = '{\"role\": \"owner\"}' WHERE action = 'staff.invited'"))
    assert list_audit(owner(chain)).chain_intact is False
