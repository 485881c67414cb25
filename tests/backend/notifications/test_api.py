"""/api/v1/notifications with real API tokens: an admin token reads the delivery log (masked, no body) and
resends a failed message once per Idempotency-Key; read and write tokens are refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backend.accounts.api_tokens import create_token
from backend.api import create_api
from backend.notifications.delivery import deliver_message
from tenants.context import TenantContext
from tests.backend.notifications.test_delivery import PHONE, queue


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def test_the_log_and_resend_over_rest(client, committed_tenant, sms_gateway):
    chain, _ = committed_tenant("notify-api")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    tokens = {
        scope: {"Authorization": f"Bearer {create_token(owner, scope, [scope]).token}"}
        for scope in ("read", "write", "admin")
    }
    sms_gateway.refuse = True
    failed = queue(chain)
    deliver_message(str(chain.tenant_id), str(failed.id))
    for scope in ("read", "write"):
        assert client.get("/api/v1/notifications", headers=tokens[scope]).status_code == 403
    listed = client.get("/api/v1/notifications", params={"status": "failed"}, headers=tokens["admin"])
    assert listed.status_code == 200, listed.json()
    [entry] = listed.json()
    assert (entry["channel"], entry["recipient"], entry["status"]) == ("sms", "***0100", "failed")
    assert "Invalid number" in entry["reason"] and "Main Street" not in listed.text and PHONE not in listed.text
    bad = client.get("/api/v1/notifications", params={"channel": "fax"}, headers=tokens["admin"])
    assert bad.status_code == 422
    url = f"/api/v1/notifications/{failed.id}/resend"
    assert client.post(url, headers={**tokens["write"], "Idempotency-Key": "resend-0001"}).status_code == 403
    headers = {**tokens["admin"], "Idempotency-Key": "resend-0001"}
    again = client.post(url, headers=headers)
    assert again.status_code == 200, again.json()
    assert again.json()["status"] == "queued"
    assert client.post(url, headers=headers).json() == again.json()  # the same key: the same answer, once
    assert client.post(url, headers={**tokens["admin"], "Idempotency-Key": "resend-0002"}).status_code == 409
