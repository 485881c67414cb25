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


def test_a_bulk_append_continues_the_chain_and_verifies(db, make_tenant):
    """The demo seed's path: many events hashed in Python and written with COPY after the live ones."""
    from datetime import UTC, datetime, timedelta

    from tenants.audit import NewAuditEvent, append_audit_events, verify_chain
    from tenants.session import platform_session

    chain = make_tenant("bulkaudit")
    later = datetime.now(UTC) + timedelta(seconds=1)
    events = [
        NewAuditEvent(later, "bill.voided", chain.owner_user_id, "bill", "b-1", {"reason": 'tab\there, "quotes" \\'}),
        NewAuditEvent(later + timedelta(seconds=1), "credit_note.issued", None, "bill", "b-2", {"lines": [1, 2]}),
    ]
    with platform_session(reason="test: bulk audit append", actor="test") as session:
        assert append_audit_events(session, chain.tenant_id, events) == 2
        with pytest.raises(ValueError, match="in the order they happened"):
            append_audit_events(session, chain.tenant_id, [NewAuditEvent(later - timedelta(days=1), "x.y")])
    rows = list_audit(owner(chain)).rows
    assert [r.action for r in rows] == ["credit_note.issued", "bill.voided", "tenant.provisioned"]
    assert [r.seq for r in rows] == [3, 2, 1] and list_audit(owner(chain)).chain_intact
    with tenant_session(owner(chain)) as session:
        assert verify_chain(session, chain.tenant_id) is None
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE audit_events SET details = '{}' WHERE action = 'bill.voided'"))
    assert list_audit(owner(chain)).chain_intact is False  # the bulk rows are checked like any other
