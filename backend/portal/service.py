"""What the portal shows and the one question every portal action starts with.

`match_prescription` answers whether an Rx number, a date of birth and a last name name one prescription
of the chain. Its answer decides what happens on the staff side only: whatever it says, the customer sees
the same words, status and (with the adapter's fixed floor) the same time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlmodel import Session

from backend.branches.service import PublicBranch, public_branches
from backend.core.settings import get_settings
from backend.patients.service import patient_matches
from backend.prescriptions.service import NumberedPrescription, prescription_by_number
from tenants.context import TenantContext
from tenants.roles import require


@dataclass(frozen=True)
class PortalHome:
    branches: list[PublicBranch]


def portal_home(session: Session, ctx: TenantContext) -> PortalHome:
    """The portal's front page: the chain's open branches with address, phone and hours."""
    require(ctx, "portal.view")
    return PortalHome(public_branches(session, ctx))


def match_prescription(
    session: Session, ctx: TenantContext, rx_number: str, born: date, surname: str
) -> NumberedPrescription | None:
    """The prescription named by its number, when the date of birth and last name are its patient's; else None.

    The patient check runs (and costs the same) whether or not the number exists."""
    require(ctx, "portal.match")
    found = prescription_by_number(session, ctx, rx_number)
    proven = patient_matches(session, ctx, found.patient_id if found else None, born, surname)
    return found if found is not None and proven else None


def portal_address(session: Session, ctx: TenantContext) -> str:
    """The chain's public portal address, to print on labels and give to customers (staff see it in Settings)."""
    require(ctx, "tenant.settings")
    slug = session.execute(text("SELECT slug FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}).scalar_one()
    return f"{get_settings().APP_URL.rstrip('/')}/portal/{slug}"
