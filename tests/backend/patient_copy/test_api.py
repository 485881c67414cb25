"""GET /api/v1/patients/{id}/copy with real tokens: JSON and PDF, the request recorded, scopes, another chain."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from backend.accounts.api_tokens import create_token
from backend.api import create_api
from backend.patient_copy.service import copy_requests
from backend.patients.service import create_patient
from tenants.context import TenantContext
from tenants.session import run_in_tenant


@pytest.fixture(scope="module")
def client():
    with TestClient(create_api()) as test_client:
        yield test_client


def test_an_admin_token_fetches_the_copy_as_json_or_pdf_and_a_read_token_is_refused(client, committed_tenant):
    chain, _ = committed_tenant("copy-api")
    other, _ = committed_tenant("copy-api-other")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    patient = run_in_tenant(
        owner,
        create_patient,
        full_name="Rest Copy",
        date_of_birth="1975-05-06",
        home_branch_id=str(chain.branch_ids[0]),
    )
    admin = {"Authorization": f"Bearer {create_token(owner, 'copy admin', ['admin']).token}"}
    read = {"Authorization": f"Bearer {create_token(owner, 'copy read', ['read']).token}"}

    as_json = client.get(f"/api/v1/patients/{patient.id}/copy", headers=admin)
    assert as_json.status_code == 200, as_json.text
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.json()["patient"]["full_name"] == "Rest Copy"
    assert as_json.headers["X-Copy-Request-Id"] == as_json.json()["request"]["id"]
    assert "Rest" not in as_json.headers["content-disposition"]  # no name in the file name

    as_pdf = client.get(f"/api/v1/patients/{patient.id}/copy", params={"format": "pdf"}, headers=admin)
    assert as_pdf.status_code == 200 and as_pdf.content.startswith(b"%PDF")
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(as_pdf.content)).pages)
    assert "Rest Copy" in words and "1975-05-06" in words
    # Both answered the same open request (produced, not yet delivered).
    assert as_pdf.headers["X-Copy-Request-Id"] == as_json.headers["X-Copy-Request-Id"]
    assert [r.status for r in run_in_tenant(owner, copy_requests, patient.id)] == ["produced"]

    assert client.get(f"/api/v1/patients/{patient.id}/copy", headers=read).status_code == 403
    assert client.get(f"/api/v1/patients/{patient.id}/copy", params={"format": "xml"}, headers=admin).status_code == 422
    other_owner = TenantContext(tenant_id=other.tenant_id, user_id=other.owner_user_id, role="owner")
    other_admin = {"Authorization": f"Bearer {create_token(other_owner, 'other admin', ['admin']).token}"}
    assert client.get(f"/api/v1/patients/{patient.id}/copy", headers=other_admin).status_code == 404
