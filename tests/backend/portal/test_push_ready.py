"""The portal's "ready for pickup" pushed to the customer's subscribed browsers (issue 18 §5)."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from backend.jobs.registry import handler_for
from backend.notifications import push, webpush
from backend.portal import queue
from backend.portal.customers import customer_context
from backend.prescriptions import fills
from tenants.context import TenantContext
from tests.backend.notifications.helpers import deliver_queued
from tests.backend.portal.test_queue import ask, customer, filled_for
from tests.backend.prescriptions.test_fills import receive
from tests.push_service import configured_push_service


@pytest.fixture
def push_service(monkeypatch):
    private, public = webpush.new_key_pair()
    yield from configured_push_service(monkeypatch, private, public)


def test_the_portal_tells_a_subscribed_customer_their_fill_is_ready_by_push(pharmacy, db, mail_sink, push_service):
    """The portal's "ready for pickup" job (prescriptions' final check → portal.tell_ready) pushes to each
    browser the customer subscribed, with the SMS text (no medicine without the chain's and patient's yes)."""
    db.execute(text("RESET ROLE"))
    db.execute(
        text("UPDATE medicines SET barcode = '00093711101' WHERE id = :m"), {"m": pharmacy.medicines["lisinopril"]}
    )
    receive(pharmacy, "lisinopril", "L1", 100)
    patient, _ = customer(pharmacy)
    browser = push_service.subscribe()
    pharmacy.run(customer_context(pharmacy.chain.tenant_id, uuid.UUID(patient)), push.subscribe, browser, "Phone")
    rx = filled_for(pharmacy, db, patient, refills_authorized="2")
    request = ask(pharmacy, rx.rx_number)
    made = pharmacy.run(pharmacy.technician, queue.accept_request, request).request.fill_id
    pharmacy.run(pharmacy.pharmacist, fills.final_check, made, "00093711101")
    system = TenantContext.system(pharmacy.chain.tenant_id)
    assert pharmacy.run(system, handler_for("portal.tell_ready"), fill_id=made) == "emailed"
    deliver_queued(pharmacy.chain.tenant_id)
    ready_pushes = [m for m in push_service.messages_to(browser) if "ready for pickup" in m["body"]]
    assert len(ready_pushes) == 1 and "isinopril" not in json.dumps(ready_pushes[0])
    assert ready_pushes[0]["url"] == f"/portal/{pharmacy.chain.slug}/prescriptions"
