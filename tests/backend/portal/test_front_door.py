"""The portal's front door: a chain is found by its slug (a suspended one says it is closed), its visitors see
its open branches only, and an Rx number names a prescription only with its patient's date of birth and last
name — in that chain alone."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from backend.branches.service import create_branch, public_branches, set_branch_active
from backend.core.errors import PermissionDenied
from backend.portal.chains import chain_for_slug, visitor_context
from backend.portal.service import match_prescription, portal_home
from backend.prescriptions.service import prescription_by_number
from tenants.session import run_in_tenant
from tests.backend.prescriptions.conftest import stock


def test_a_chain_is_found_by_its_slug_and_a_suspended_one_is_closed(pharmacy, db):
    chain = chain_for_slug(pharmacy.chain.slug.upper())
    assert chain is not None and (chain.tenant_id, chain.suspended) == (pharmacy.chain.tenant_id, False)
    assert chain_for_slug("no-such-chain-anywhere") is None
    assert chain_for_slug("../etc/passwd") is None and chain_for_slug("") is None
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE tenants SET status = 'suspended' WHERE id = :t"), {"t": pharmacy.chain.tenant_id})
    closed = chain_for_slug(pharmacy.chain.slug)
    assert closed is not None and closed.suspended


def test_visitors_see_the_open_branches_with_their_hours(pharmacy):
    visitor = visitor_context(chain_for_slug(pharmacy.chain.slug))
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    hours = {day: "09:00-18:00" for day in weekdays} | {"sat": "10:00-13:00", "sun": "closed"}
    late = pharmacy.run(
        pharmacy.owner, create_branch, name="Late Night", code="LN", address="1 High St", phone="+1 555 0100",
        time_zone="America/New_York", opening_hours=hours,
    )  # fmt: skip
    pharmacy.run(pharmacy.owner, set_branch_active, pharmacy.other_branch, False)
    home = run_in_tenant(visitor, portal_home)
    names = [b.name for b in home.branches]
    assert "Late Night" in names and len(names) == 2  # the deactivated branch is not listed
    shown = next(b for b in home.branches if b.id == late.id)
    assert (shown.address, shown.phone) == ("1 High St", "+1 555 0100")
    assert shown.hours[0] == ("Monday", "09:00-18:00") and shown.hours[-1] == ("Sunday", "closed")


def test_a_visitor_may_do_nothing_a_member_does(pharmacy):
    from backend.patients.service import find_patients

    visitor = visitor_context(chain_for_slug(pharmacy.chain.slug))
    with pytest.raises(PermissionDenied):
        run_in_tenant(visitor, find_patients, "Example")
    with pytest.raises(PermissionDenied):  # and a member does nothing the portal does
        run_in_tenant(pharmacy.technician, public_branches)


def test_a_prescription_is_named_only_with_its_patients_birth_date_and_last_name(pharmacy, db, make_tenant):
    patient = pharmacy.patient("Zoë O'Brien", born="1971-03-09")
    rx = pharmacy.entered(patient, "lisinopril")
    visitor = visitor_context(chain_for_slug(pharmacy.chain.slug))
    born = date(1971, 3, 9)

    def match(number: str, dob: date = born, surname: str = "O'Brien"):
        return run_in_tenant(visitor, match_prescription, number, dob, surname)

    found = match(rx.rx_number)
    assert found is not None and found.id == rx.id
    assert match(f" {rx.rx_number.lower()} ", surname="obrien") is not None  # as typed off a label
    assert match(rx.rx_number, dob=date(1971, 3, 10)) is None
    assert match(rx.rx_number, surname="Brien") is None
    assert match(rx.rx_number, surname="") is None
    assert match("NOPE-000001") is None

    other = stock(make_tenant("other", branches=2))
    other_patient = other.patient("Zoë O'Brien", born="1971-03-09")
    other_rx = other.entered(other_patient, "lisinopril")
    assert other_rx.rx_number == rx.rx_number  # both chains number from B1-000001
    seen = run_in_tenant(visitor, match_prescription, other_rx.rx_number, born, "O'Brien")
    assert seen is not None and seen.id == rx.id  # this chain's own, never the other's
    assert run_in_tenant(visitor, prescription_by_number, "B1-999999") is None
