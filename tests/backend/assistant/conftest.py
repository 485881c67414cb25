"""A chain with stock in two branches, and a second chain whose data must never appear."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from backend.inventory.reorder import set_reorder_level
from backend.inventory.service import create_medicine, receive_stock
from tenants.context import TenantContext
from tenants.session import run_in_tenant


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


@dataclass
class Pharmacy:
    tenant_id: object
    owner_id: object
    branch_1: str
    branch_2: str
    amoxicillin: str
    acetaminophen: str

    def ctx(self, role: str = "owner", branches: tuple[str, ...] = ()) -> TenantContext:
        return TenantContext(
            tenant_id=self.tenant_id,  # type: ignore[arg-type]
            user_id=self.owner_id,  # type: ignore[arg-type]
            role=role,
            branch_ids=frozenset(uuid.UUID(b) for b in branches),
        )


def _medicine(owner: TenantContext, name: str, strength: str, barcode: str, unit: str = "tablet") -> str:
    return run_in_tenant(
        owner,
        create_medicine,
        generic_name=name,
        strength=strength,
        dosage_form=unit,
        dispensing_unit=unit,
        barcode=barcode,
        schedule="otc",
        default_sell_price="0.50",
    )


def _receive(owner: TenantContext, branch: str, medicine: str, lot: str, days: int, quantity: int) -> None:
    run_in_tenant(
        owner,
        receive_stock,
        branch_id=branch,
        medicine_id=medicine,
        lot_number=lot,
        expiry_date=in_days(days),
        quantity=quantity,
        cost_price="0.1000",
    )


@pytest.fixture
def pharmacy(db, make_tenant) -> Pharmacy:
    chain = make_tenant("assist", branches=2)
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    b1, b2 = (str(b) for b in chain.branch_ids)
    amox = _medicine(owner, "Amoxicillin", "500 mg", "5012345000011", "capsule")
    para = _medicine(owner, "Acetaminophen", "500 mg", "5012345000028")
    _receive(owner, b1, amox, "AMX-LATE", 300, 50)
    _receive(owner, b1, amox, "AMX-SOON", 10, 20)
    _receive(owner, b2, amox, "AMX-B2", 75, 30)
    _receive(owner, b1, para, "PARA-1", 5, 12)
    run_in_tenant(owner, set_reorder_level, branch_id=b1, medicine_id=para, reorder_point=40, reorder_quantity=100)
    return Pharmacy(chain.tenant_id, chain.owner_user_id, b1, b2, amox, para)


@pytest.fixture
def rival(db, make_tenant) -> TenantContext:
    """Another chain stocking a medicine the first one does not have (metformin) and a private name."""
    chain = make_tenant("rival")
    owner = TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")
    branch = str(chain.branch_ids[0])
    for name, barcode in (("Metformin", "5012345000035"), ("Rivalcillin", "5012345000042")):
        _receive(owner, branch, _medicine(owner, name, "500 mg", barcode), f"{name[:3].upper()}-1", 200, 999)
    return owner
