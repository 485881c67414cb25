"""Unclaimed fills and returning them to stock.

A fill that passed the final check and was not picked up within the chain's `unclaimed_days` (default 14) is
listed for return to stock. Returning it puts its units back on the exact lots they were taken from (an
`rx_return` movement that names the fill, written by inventory; the controlled-substance register reads it
as a return), marks the fill returned, gives the refill back when the fill used one, and reverses the fill's
insurance claim. A fill that left the pharmacy never goes back on the shelf.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from backend.billing.claims.service import reverse_claim_of_fill
from backend.core.errors import NotFound
from backend.core.validation import as_uuid
from backend.inventory.service import return_to_lots
from backend.patients.service import identities
from backend.prescriptions.enums import FillStatus, RxStatus
from backend.prescriptions.fills import Fill, get_fill
from backend.prescriptions.service import RefusedTransition, rx_settings
from tenants.context import TenantContext
from tenants.roles import require


class NotReturnable(RefusedTransition):
    code = "not_returnable"


@dataclass(frozen=True)
class UnclaimedFill:
    id: str
    code: str
    prescription_id: str
    rx_number: str
    patient_name: str
    drug: str
    quantity: int
    lots: str
    checked_at: datetime
    days_waiting: int


def _branch_and_days(session: Session, ctx: TenantContext, branch_id: str) -> tuple[uuid.UUID, int]:
    """The branch (one the member may see) and the chain's `unclaimed_days`."""
    require(ctx, "prescriptions.view")
    branch = as_uuid(branch_id, "branch")
    if not ctx.can_see_branch(branch):
        raise NotFound("No such branch.")
    return branch, rx_settings(session, ctx).unclaimed_days


def unclaimed_fills(session: Session, ctx: TenantContext, branch_id: str) -> tuple[int, list[UnclaimedFill]]:
    """The chain's `unclaimed_days` and the branch's fills checked that long ago or more and not picked up,
    oldest first."""
    branch, days = _branch_and_days(session, ctx, branch_id)
    rows = session.execute(
        text(
            "SELECT f.id, f.code, f.prescription_id, f.quantity, f.checked_at, r.rx_number, "
            "r.patient_id, m.generic_name || ' ' || m.strength AS drug, "
            "extract(day FROM now() - f.checked_at)::int AS days_waiting, "
            "(SELECT string_agg(l.lot_number || ' x' || l.quantity, ', ' ORDER BY l.lot_number) "
            " FROM prescription_fill_lots l WHERE l.tenant_id = f.tenant_id AND l.fill_id = f.id) AS lots "
            "FROM prescription_fills f JOIN prescriptions r ON r.tenant_id = f.tenant_id AND r.id = f.prescription_id "
            "JOIN medicines m ON m.tenant_id = f.tenant_id AND m.id = f.medicine_id "
            "WHERE f.tenant_id = :t AND f.branch_id = :b AND f.status = 'checked' "
            "AND f.checked_at <= now() - make_interval(days => :n) ORDER BY f.checked_at LIMIT 500"
        ),
        {"t": ctx.tenant_id, "b": branch, "n": days},
    ).all()
    people = identities(session, ctx, [r.patient_id for r in rows])
    return days, [
        UnclaimedFill(
            id=str(r.id),
            code=r.code,
            prescription_id=str(r.prescription_id),
            rx_number=r.rx_number,
            patient_name=people[r.patient_id].full_name,
            drug=r.drug,
            quantity=r.quantity,
            lots=r.lots or "",
            checked_at=r.checked_at,
            days_waiting=r.days_waiting,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class UnclaimedSummary:
    """A branch's unclaimed fills without any patient: for the daily reminder mail to staff."""

    unclaimed_days: int
    count: int
    oldest_days: int


def unclaimed_summary(session: Session, ctx: TenantContext, branch_id: str) -> UnclaimedSummary:
    """How many fills at the branch wait past `unclaimed_days` and the longest wait; reads no patient, no Rx
    number and no fill code (a fill's code contains its Rx number), so a mail about it discloses nothing."""
    branch, days = _branch_and_days(session, ctx, branch_id)
    rows = session.execute(
        text(
            "SELECT count(*) AS n, coalesce(max(extract(day FROM now() - f.checked_at)), 0)::int AS waiting "
            "FROM prescription_fills f "
            "WHERE f.tenant_id = :t AND f.branch_id = :b AND f.status = 'checked' "
            "AND f.checked_at <= now() - make_interval(days => :n)"
        ),
        {"t": ctx.tenant_id, "b": branch, "n": days},
    ).one()
    return UnclaimedSummary(days, rows.n, rows.waiting)


def return_to_stock(session: Session, ctx: TenantContext, fill_id: str) -> Fill:
    """Return a checked fill nobody picked up to stock: its units back on their lots, the fill "returned",
    the refill it used given back, its claim reversed. The prescription is ready to fill again when nothing
    else of it is waiting. A fill not yet checked, picked up or already returned is refused."""
    require(ctx, "prescriptions.return")
    key = as_uuid(fill_id, "fill")
    row = session.execute(
        text(
            "SELECT f.id, f.code, f.status, f.branch_id, f.prescription_id, f.dispensing, f.owed_after, f.quantity, "
            "r.status AS rx_status FROM prescription_fills f "
            "JOIN prescriptions r ON r.tenant_id = f.tenant_id AND r.id = f.prescription_id "
            "WHERE f.id = :id FOR UPDATE OF f, r"
        ),
        {"id": key},
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such fill.")
    status = FillStatus(row.status)
    if status is FillStatus.PICKED_UP:
        raise NotReturnable(
            f"{row.code} was picked up: medicine that left the pharmacy never goes back on the shelf "
            "(a credit note refunds the money only)."
        )
    if status is not FillStatus.CHECKED:
        raise NotReturnable(f"{row.code} is {status.label.lower()}; only a checked fill waiting for pickup returns.")
    if row.owed_after:
        raise NotReturnable(f"{row.owed_after} are still owed on {row.code}: fill the rest first, then return both.")
    # The payer is told the patient never collected it (a claim the payer already paid refuses the return).
    reverse_claim_of_fill(session, ctx, str(key), "returned to stock")
    lots = session.execute(
        text("SELECT batch_id, quantity FROM prescription_fill_lots WHERE fill_id = :f ORDER BY batch_id"),
        {"f": key},
    ).all()
    return_to_lots(
        session,
        ctx,
        branch_id=row.branch_id,
        lots=[(lot.batch_id, lot.quantity) for lot in lots],
        reason="unclaimed prescription fill returned to stock",
        reference=row.code,
        kind="rx_return",
    )
    session.execute(
        text("UPDATE prescription_fills SET status = 'returned', returned_at = now(), returned_by = :u WHERE id = :f"),
        {"u": ctx.user_id, "f": key},
    )
    given_back = _give_refill_back(session, row.prescription_id, row.dispensing)
    before = RxStatus(row.rx_status)
    after = before if _still_waiting(session, row.prescription_id) else RxStatus.FILL
    if after != before:
        session.execute(
            text("UPDATE prescriptions SET status = :s, updated_at = now() WHERE id = :p"),
            {"s": after, "p": row.prescription_id},
        )
    why = f"{row.code}: {row.quantity} back on the shelf" + ("; the refill is given back" if given_back else "")
    session.execute(
        text(
            "INSERT INTO prescription_events (tenant_id, prescription_id, action, from_status, to_status, reason, "
            "user_id) VALUES (:t, :p, 'returned_to_stock', :f, :s, :r, :u)"
        ),
        {"t": ctx.tenant_id, "p": row.prescription_id, "f": before, "s": after, "r": why, "u": ctx.user_id},
    )
    return get_fill(session, ctx, str(key))


def _give_refill_back(session: Session, prescription_id: uuid.UUID, dispensing: int) -> bool:
    """When the whole dispensing is back and it used a refill, the prescription gets the refill back."""
    state = session.execute(
        text(
            "SELECT bool_or(counts_refill) AS refill, count(*) FILTER (WHERE status <> 'returned') AS live "
            "FROM prescription_fills WHERE prescription_id = :p AND dispensing = :d"
        ),
        {"p": prescription_id, "d": dispensing},
    ).one()
    if not state.refill or state.live:
        return False
    session.execute(
        text("UPDATE prescriptions SET refills_remaining = refills_remaining + 1, updated_at = now() WHERE id = :p"),
        {"p": prescription_id},
    )
    return True


def _still_waiting(session: Session, prescription_id: uuid.UUID) -> bool:
    return (
        session.execute(
            text(
                "SELECT 1 FROM prescription_fills WHERE prescription_id = :p "
                "AND status IN ('awaiting_check', 'checked') LIMIT 1"
            ),
            {"p": prescription_id},
        ).first()
        is not None
    )
