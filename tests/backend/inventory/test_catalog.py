"""The catalog form's services: add, edit, deactivate, barcode and schedule rules, duplicate flags."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from backend.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from backend.inventory.service import (
    PossibleDuplicate,
    create_medicine,
    medicine_details,
    receive_stock,
    search_medicines,
    set_medicine_active,
    update_medicine,
)
from tenants.context import TenantContext
from tenants.session import run_in_tenant


def as_role(chain, role: str) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role=role)


def catalog_rows(db, chain) -> list[tuple]:
    """Every catalog row of the chain, read as the owner role (so nothing hides a stray write)."""
    db.execute(text("RESET ROLE"))
    return [
        tuple(r)
        for r in db.execute(
            text(
                "SELECT generic_name, strength, barcode, schedule, controlled_class, default_sell_price, pack_size, "
                "tax_category, is_active FROM medicines WHERE tenant_id = :t ORDER BY generic_name, strength"
            ),
            {"t": chain.tenant_id},
        )
    ]


def audit_actions(db, chain) -> list[str]:
    db.execute(text("RESET ROLE"))
    return list(
        db.execute(
            text("SELECT action FROM audit_events WHERE tenant_id = :t AND entity_type = 'medicine' ORDER BY seq"),
            {"t": chain.tenant_id},
        ).scalars()
    )


@pytest.fixture
def chain(db, make_tenant):
    return make_tenant("catalog")


def test_create_with_every_field_and_read_it_back(db, chain):
    owner = as_role(chain, "owner")
    medicine = run_in_tenant(
        owner,
        create_medicine,
        generic_name="  Oxycodone  hydrochloride ",
        brand_name="OxyContin",
        strength="10 mg",
        dosage_form="tablet, extended release",
        pack_size="100",
        dispensing_unit="tablet",
        barcode="59011-410-10",  # a 5-3-2 NDC as printed on the label
        schedule="controlled",
        controlled_class="c-ii",
        therapeutic_class="Opioid analgesic",
        default_sell_price="2.7500",
        tax_category="exempt",
    )
    details = run_in_tenant(
        as_role(chain, "cashier"), medicine_details, medicine
    )  # anyone who sees stock sees the card
    assert details.generic_name == "Oxycodone hydrochloride"
    assert (details.brand_name, details.strength, details.dosage_form) == (
        "OxyContin",
        "10 mg",
        "tablet, extended release",
    )
    assert (details.pack_size, details.dispensing_unit) == (100, "tablet")
    assert details.barcode == "59011041010"  # stored as the unambiguous eleven-digit NDC (5-4-2)
    assert (details.schedule, details.controlled_class) == ("controlled", "CII")
    assert (details.therapeutic_class, details.tax_category) == ("Opioid analgesic", "exempt")
    assert details.default_sell_price == Decimal("2.75") and details.is_active
    assert [m.id for m in run_in_tenant(owner, search_medicines, "59011041010")[0]] == [medicine]
    assert audit_actions(db, chain) == ["medicine.created"]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("5012345678900", "5012345678900"),  # EAN-13
        ("036000291452", "036000291452"),  # UPC-A
        ("9638 5074", "96385074"),  # GTIN-8, spaces ignored
        ("0777-3105-02", "00777310502"),  # NDC 4-4-2
        ("50580-600-02", "50580060002"),  # NDC 5-3-2
        ("00093-7146-1", "00093714601"),  # NDC 5-4-1
        ("00093-7146-01", "00093714601"),  # NDC 5-4-2 (the same package)
        ("", None),
    ],
)
def test_barcode_rule(db, chain, typed, stored):
    medicine = run_in_tenant(as_role(chain, "owner"), create_medicine, generic_name="Loratadine", barcode=typed)
    assert run_in_tenant(as_role(chain, "owner"), medicine_details, medicine).barcode == stored


def test_bad_input_is_refused_with_the_field_named_and_nothing_written(db, chain):
    owner = as_role(chain, "owner")
    run_in_tenant(owner, create_medicine, generic_name="Cetirizine", strength="10 mg", barcode="5000000000017")
    before = catalog_rows(db, chain)
    for bad, field, message in (
        ({"generic_name": "  "}, "generic_name", "generic name"),
        ({"barcode": "5000000000017"}, "barcode", "already has that barcode"),
        ({"barcode": "ABC123456789"}, "barcode", "8 to 14 digits"),
        ({"barcode": "1234567"}, "barcode", "8 to 14 digits"),
        ({"barcode": "123456789012345"}, "barcode", "8 to 14 digits"),
        ({"barcode": "123-4567-89"}, "barcode", "8 to 14 digits"),
        ({"default_sell_price": "-1"}, "default_sell_price", "positive"),
        ({"default_sell_price": "abc"}, "default_sell_price", "amount"),
        ({"default_sell_price": "NaN"}, "default_sell_price", "amount"),
        ({"default_sell_price": "1.23456"}, "default_sell_price", "4 decimals"),
        ({"default_sell_price": "99999999999"}, "default_sell_price", "too large"),
        ({"pack_size": "0"}, "pack_size", "between 1"),
        ({"pack_size": "2.5"}, "pack_size", "whole number"),
        ({"schedule": "narcotic"}, "schedule", "OTC, prescription or controlled"),
        ({"tax_category": "luxury"}, "tax_category", "standard, reduced, zero or exempt"),
        ({"strength": "x" * 61}, "strength", "At most 60"),
    ):
        with pytest.raises((ValidationFailed, Conflict), match=message) as failure:
            run_in_tenant(owner, create_medicine, **{"generic_name": "Cetirizine", "strength": "5 mg", **bad})
        assert failure.value.field == field, bad
    assert catalog_rows(db, chain) == before


def test_controlled_class_is_required_for_controlled_medicines_and_refused_otherwise(db, chain):
    owner = as_role(chain, "owner")
    with pytest.raises(ValidationFailed, match="needs its class") as failure:
        run_in_tenant(owner, create_medicine, generic_name="Morphine sulfate", schedule="controlled")
    assert failure.value.field == "controlled_class"
    with pytest.raises(ValidationFailed, match="CII, CIII, CIV or CV"):
        run_in_tenant(
            owner, create_medicine, generic_name="Morphine sulfate", schedule="controlled", controlled_class="CI"
        )
    with pytest.raises(ValidationFailed, match="Only a controlled medicine"):
        run_in_tenant(owner, create_medicine, generic_name="Ibuprofen", schedule="otc", controlled_class="CIV")
    assert catalog_rows(db, chain) == []
    for typed, stored in (("CIII", "CIII"), ("iv", "CIV"), ("C-V", "CV")):
        medicine = run_in_tenant(
            owner, create_medicine, generic_name=f"Controlled {typed}", schedule="controlled", controlled_class=typed
        )
        assert run_in_tenant(owner, medicine_details, medicine).controlled_class == stored

    # Editing: leaving the controlled schedule drops the class; coming back needs one again.
    diazepam = run_in_tenant(
        owner, create_medicine, generic_name="Diazepam", schedule="controlled", controlled_class="CIV"
    )
    assert run_in_tenant(owner, update_medicine, diazepam, schedule="prescription").controlled_class is None
    with pytest.raises(ValidationFailed, match="needs its class"):
        run_in_tenant(owner, update_medicine, diazepam, schedule="controlled")
    with pytest.raises(ValidationFailed, match="Only a controlled medicine"):
        run_in_tenant(owner, update_medicine, diazepam, controlled_class="CIV")
    saved = run_in_tenant(owner, update_medicine, diazepam, schedule="controlled", controlled_class="CIV")
    assert (saved.schedule, saved.controlled_class) == ("controlled", "CIV")


def test_update_changes_only_what_is_given_and_refuses_bad_input_whole(db, chain):
    owner = as_role(chain, "owner")
    medicine = run_in_tenant(
        owner,
        create_medicine,
        generic_name="Amoxicillin",
        strength="500 mg",
        barcode="5012345678900",
        default_sell_price="0.35",
    )
    run_in_tenant(owner, create_medicine, generic_name="Omeprazole", barcode="5012345678917")
    saved = run_in_tenant(
        as_role(chain, "pharmacist"),
        update_medicine,
        medicine,
        brand_name="Amoxil",
        pack_size=21,
        default_sell_price="0.40",
        tax_category="reduced",
        therapeutic_class="Penicillin antibiotic",
        barcode="",
    )
    assert (saved.brand_name, saved.pack_size, saved.default_sell_price) == ("Amoxil", 21, Decimal("0.40"))
    assert (saved.tax_category, saved.therapeutic_class, saved.barcode) == (
        "reduced",
        "Penicillin antibiotic",
        None,
    )
    assert (saved.generic_name, saved.strength) == ("Amoxicillin", "500 mg")  # untouched
    assert run_in_tenant(owner, medicine_details, medicine) == saved

    before = catalog_rows(db, chain)
    with pytest.raises(Conflict, match="already has that barcode"):
        run_in_tenant(owner, update_medicine, medicine, barcode="5012345678917", default_sell_price="9.99")
    with pytest.raises(ValidationFailed, match="positive"):
        run_in_tenant(owner, update_medicine, medicine, brand_name="Changed", default_sell_price="-0.01")
    with pytest.raises(ValidationFailed, match="pack size"):
        run_in_tenant(owner, update_medicine, medicine, brand_name="Changed", pack_size=-3)
    with pytest.raises(TypeError):
        run_in_tenant(owner, update_medicine, medicine, is_active=False)
    with pytest.raises(NotFound):
        run_in_tenant(owner, update_medicine, "not-a-uuid", brand_name="x")
    assert catalog_rows(db, chain) == before
    assert run_in_tenant(owner, update_medicine, medicine, brand_name="Amoxil") == saved  # no change, nothing written
    assert audit_actions(db, chain) == ["medicine.created", "medicine.created", "medicine.updated"]


def test_a_barcode_saved_before_the_digits_rule_does_not_block_editing(db, chain):
    owner = as_role(chain, "owner")
    medicine = run_in_tenant(owner, create_medicine, generic_name="Zinc oxide")
    db.execute(text("RESET ROLE"))
    db.execute(text("UPDATE medicines SET barcode = 'LEGACY-42' WHERE id = :m"), {"m": medicine})
    saved = run_in_tenant(owner, update_medicine, medicine, barcode="LEGACY-42", default_sell_price="3.10")
    assert (saved.barcode, saved.default_sell_price) == ("LEGACY-42", Decimal("3.10"))
    with pytest.raises(ValidationFailed, match="8 to 14 digits"):
        run_in_tenant(owner, update_medicine, medicine, barcode="LEGACY-43")


def test_a_deactivated_medicine_leaves_search_and_comes_back_when_reactivated(db, chain):
    owner = as_role(chain, "owner")
    medicine = run_in_tenant(
        owner, create_medicine, generic_name="Ranitidine", strength="150 mg", barcode="5012345678924"
    )
    assert [m.id for m in run_in_tenant(owner, search_medicines, "ranit")[0]] == [medicine]
    run_in_tenant(owner, set_medicine_active, medicine, False)
    run_in_tenant(owner, set_medicine_active, medicine, False)  # idempotent
    assert run_in_tenant(owner, search_medicines, "ranit")[0] == []
    assert run_in_tenant(owner, search_medicines, "5012345678924")[0] == []
    assert not run_in_tenant(owner, medicine_details, medicine).is_active  # still editable by id
    with pytest.raises(Conflict, match="already has that barcode"):  # an inactive medicine keeps its barcode
        run_in_tenant(owner, create_medicine, generic_name="Ranitidine", barcode="5012345678924")
    with pytest.raises(ValidationFailed, match="deactivated"):  # a discontinued line takes no new stock
        run_in_tenant(
            owner,
            receive_stock,
            branch_id=str(chain.branch_ids[0]),
            medicine_id=medicine,
            lot_number="R-1",
            expiry_date="2099-01-01",
            quantity=10,
        )
    run_in_tenant(owner, set_medicine_active, medicine, True)
    assert [m.id for m in run_in_tenant(owner, search_medicines, "ranit")[0]] == [medicine]
    assert audit_actions(db, chain) == ["medicine.created", "medicine.deactivated", "medicine.reactivated"]
    with pytest.raises(NotFound):
        run_in_tenant(owner, set_medicine_active, "7d4f6f1e-0000-4000-8000-000000000000", False)


@pytest.mark.parametrize("role", ["cashier", "technician"])
def test_roles_without_the_catalog_permission_are_refused(db, chain, role):
    owner = as_role(chain, "owner")
    medicine = run_in_tenant(owner, create_medicine, generic_name="Metformin", strength="850 mg")
    before = catalog_rows(db, chain)
    other = as_role(chain, role)
    with pytest.raises(PermissionDenied):
        run_in_tenant(other, create_medicine, generic_name="Sertraline")
    with pytest.raises(PermissionDenied):
        run_in_tenant(other, update_medicine, medicine, default_sell_price="0.01")
    with pytest.raises(PermissionDenied):
        run_in_tenant(other, set_medicine_active, medicine, False)
    assert catalog_rows(db, chain) == before


def test_another_chain_cannot_see_or_edit_the_medicine(db, chain, make_tenant):
    medicine = run_in_tenant(as_role(chain, "owner"), create_medicine, generic_name="Warfarin", strength="5 mg")
    stranger = as_role(make_tenant("other-catalog"), "owner")
    with pytest.raises(NotFound):
        run_in_tenant(stranger, medicine_details, medicine)
    with pytest.raises(NotFound):
        run_in_tenant(stranger, update_medicine, medicine, default_sell_price="0")
    with pytest.raises(NotFound):
        run_in_tenant(stranger, set_medicine_active, medicine, False)
    assert run_in_tenant(as_role(chain, "owner"), medicine_details, medicine).default_sell_price == Decimal("0")


def test_a_synonym_or_brand_of_a_medicine_in_the_catalog_is_flagged_before_it_is_added(db, chain):
    owner = as_role(chain, "owner")
    existing = run_in_tenant(owner, create_medicine, generic_name="Acetaminophen", strength="500 mg")
    for name, strength in (("Paracetamol", "500mg"), ("Tylenol", "500 mg"), ("acetaminophen", "")):
        with pytest.raises(PossibleDuplicate) as flagged:
            run_in_tenant(owner, create_medicine, generic_name=name, strength=strength, check_duplicates=True)
        assert [m.id for m in flagged.value.duplicates] == [existing]
        assert "Acetaminophen 500 mg" in flagged.value.message
    assert len(catalog_rows(db, chain)) == 1  # nothing added while a person decides
    # Another strength is another product; a confirmed duplicate is added.
    run_in_tenant(owner, create_medicine, generic_name="Paracetamol", strength="1 g", check_duplicates=True)
    confirmed = run_in_tenant(owner, create_medicine, generic_name="Paracetamol", strength="500 mg")
    assert {m.id for m in run_in_tenant(owner, search_medicines, "Tylenol")[0]} >= {existing, confirmed}
    # An inactive entry still counts: reactivating it may be what the person wants.
    run_in_tenant(owner, set_medicine_active, existing, False)
    with pytest.raises(PossibleDuplicate) as flagged:
        run_in_tenant(owner, create_medicine, generic_name="Tylenol", strength="500 mg", check_duplicates=True)
    assert {(m.id, m.is_active) for m in flagged.value.duplicates} == {(existing, False), (confirmed, True)}
