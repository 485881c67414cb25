"""A chain with a counter to sell from: tax set up on branch 1, a few medicines on the shelf."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from backend.inventory.service import create_medicine, receive_stock
from backend.prescriptions.service import update_rx_settings
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session


def as_role(chain, role: str, **kwargs) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role=role, **kwargs)


@dataclass
class Counter:
    chain: object
    owner: TenantContext
    branch: str
    other_branch: str
    ibuprofen: str  # otc, standard tax, 4.99
    amoxicillin: str  # prescription-only, reduced tax, 0.35
    oxycodone: str  # controlled (CII), standard tax, 1.20
    vitamin_d: str  # otc, zero-rated, 6.00

    def ctx(self, role: str, **kwargs) -> TenantContext:
        return as_role(self.chain, role, **kwargs)


def set_tax(ctx: TenantContext, branch: str, *, standard: str, reduced: str = "0", inclusive: bool = False) -> None:
    with tenant_session(ctx) as session:
        session.execute(
            text(
                "UPDATE branches SET default_tax_rate = :s, reduced_tax_rate = :r, prices_include_tax = :i "
                "WHERE id = :b"
            ),
            {"s": standard, "r": reduced, "i": inclusive, "b": branch},
        )


def stock_up(chain, *, branches: int = 2) -> Counter:
    owner = as_role(chain, "owner")
    branch, other = (str(b) for b in chain.branch_ids[:2])
    set_tax(owner, branch, standard="8.875", reduced="5")
    meds = {
        "ibuprofen": run_in_tenant(
            owner, create_medicine, generic_name="Ibuprofen", strength="200 mg", default_sell_price="4.99"
        ),
        "amoxicillin": run_in_tenant(
            owner,
            create_medicine,
            generic_name="Amoxicillin",
            strength="500 mg",
            schedule="prescription",
            default_sell_price="0.35",
            tax_category="reduced",
        ),
        "oxycodone": run_in_tenant(
            owner,
            create_medicine,
            generic_name="Oxycodone",
            strength="5 mg",
            schedule="controlled",
            controlled_class="CII",
            default_sell_price="1.20",
        ),
        "vitamin_d": run_in_tenant(
            owner,
            create_medicine,
            generic_name="Colecalciferol",
            strength="1000 IU",
            default_sell_price="6.00",
            tax_category="zero",
        ),
    }
    expiry = (date.today() + timedelta(days=200)).isoformat()
    for name, medicine in meds.items():
        run_in_tenant(
            owner,
            receive_stock,
            branch_id=branch,
            medicine_id=medicine,
            lot_number=f"{name[:3].upper()}-1",
            expiry_date=expiry,
            quantity=20,
        )
    return Counter(chain, owner, branch, other, **meds)


def supply_without_a_fill_allowed(ctx: TenantContext) -> None:
    """The chain's jurisdiction lets a pharmacist supply a prescription-only medicine without a prescription:
    a typed reference or a signed override reaches the bill (the old counter; the US rule refuses both)."""
    run_in_tenant(as_owner(ctx), update_rx_settings, counter_rule="reference_or_override")


def as_owner(ctx: TenantContext) -> TenantContext:
    return TenantContext(tenant_id=ctx.tenant_id, user_id=ctx.user_id, role="owner")


@pytest.fixture
def counter(db, make_tenant) -> Counter:
    return stock_up(make_tenant("till", branches=2))
