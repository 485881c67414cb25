"""Theft or significant loss of controlled substances (21 CFR 1301.76(b), DEA Form 106): the date of
discovery, the type of theft or loss, and per medicine the NDC, name, strength, form and quantity lost.

The stock the report says is gone leaves the shelf through inventory's count correction (`adjust`, with
the report's number as reference "DEA-106 ..."), taken from the branch's lots soonest-expiring first, so
the register shows the loss and the balance stays the ledger's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.controlled.common import branch, local_today, medicine_name, parse_day, scheduled_medicine
from backend.controlled.register import LOSS_PREFIX, pdf_document, pdf_table
from backend.controlled.statuses import LossType
from backend.core.display import display_time
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.validation import as_uuid
from backend.core.validation import quantity as whole_quantity
from backend.inventory.service import correct_stock
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require


@dataclass(frozen=True)
class LossLine:
    ndc: str
    medicine: str
    strength: str
    dosage_form: str
    schedule: str
    lot_number: str
    quantity: int


@dataclass(frozen=True)
class LossReport:
    id: str
    number: str
    branch_id: str
    branch: str
    time_zone: str
    dea_number: str
    discovered_on: date
    loss_type: LossType
    details: str
    police_notified: bool
    police_report: str
    reported_at: datetime
    reported_by: str
    lines: list[LossLine] = field(default_factory=list)


def _lots(session: Session, branch_id: str, medicine_id: str) -> list[Any]:
    return list(
        session.execute(
            text(
                "SELECT id, lot_number, quantity FROM batches WHERE branch_id = :b AND medicine_id = :m "
                "AND quantity > 0 ORDER BY expiry_date, id"
            ),
            {"b": uuid.UUID(branch_id), "m": uuid.UUID(medicine_id)},
        ).all()
    )


def report_loss(
    session: Session,
    ctx: TenantContext,
    *,
    branch_id: str,
    discovered_on: object,
    loss_type: str,
    details: str,
    lines: list[tuple[str, object]],
    police_notified: bool = False,
    police_report: str = "",
) -> LossReport:
    """Record a theft or loss and take the quantities lost out of stock (one correction per lot). Every
    line is checked first: a quantity above what the branch holds is refused and nothing is written."""
    require(ctx, "controlled.record")
    where = branch(session, ctx, branch_id)
    day = parse_day(discovered_on, "discovered_on")
    if day > local_today(where.time_zone):
        raise ValidationFailed("The date of discovery cannot be in the future.", field="discovered_on")
    try:
        kind = LossType(str(loss_type))
    except ValueError:
        raise ValidationFailed("Choose the type of theft or loss.", field="loss_type") from None
    said = " ".join(str(details or "").split())
    if not 5 <= len(said) <= 2000:
        raise ValidationFailed("Describe what happened (5 to 2,000 characters).", field="details")
    police = " ".join(str(police_report or "").split())[:120]
    if not lines:
        raise ValidationFailed("Add at least one medicine lost.", field="lines")
    plan: list[tuple[Any, int, list[tuple[Any, int]]]] = []
    seen: set[str] = set()
    for medicine_id, quantity in lines:
        medicine = scheduled_medicine(session, medicine_id)
        if str(medicine.id) in seen:
            raise ValidationFailed(f"{medicine_name(medicine)} is listed twice.", field="lines")
        seen.add(str(medicine.id))
        lost = whole_quantity(quantity)
        lots = _lots(session, where.id, str(medicine.id))
        held = sum(lot.quantity for lot in lots)
        if lost > held:
            raise Conflict(
                f"{medicine_name(medicine)}: {lost} reported lost, but the branch holds {held}.", field="lines"
            )
        taken, left = [], lost
        for lot in lots:
            if left == 0:
                break
            take = min(left, lot.quantity)
            taken.append((lot, take))
            left -= take
        plan.append((medicine, lost, taken))
    key = uuid.uuid4()
    number = f"{LOSS_PREFIX} {day:%Y%m%d}-{key.hex[:6].upper()}"
    session.execute(
        text(
            "INSERT INTO controlled_loss_reports (tenant_id, id, branch_id, number, discovered_on, loss_type, details, "
            "police_notified, police_report, reported_by) VALUES (:t, :id, :b, :n, :d, :k, :x, :p, :pr, :u)"
        ),
        {
            "t": ctx.tenant_id,
            "id": key,
            "b": uuid.UUID(where.id),
            "n": number,
            "d": day,
            "k": kind,
            "x": said,
            "p": bool(police_notified),
            "pr": police,
            "u": ctx.user_id,
        },
    )
    for medicine, _, taken in plan:
        for lot, quantity in taken:
            correct_stock(
                session,
                ctx,
                batch_id=str(lot.id),
                kind="adjust",
                change=-quantity,
                reason=f"{kind.label} discovered {day.isoformat()}",
                reference=number,
            )
            session.execute(
                text(
                    "INSERT INTO controlled_loss_lines (tenant_id, report_id, batch_id, medicine_id, quantity) "
                    "VALUES (:t, :r, :b, :m, :q)"
                ),
                {"t": ctx.tenant_id, "r": key, "b": lot.id, "m": medicine.id, "q": quantity},
            )
    record_audit(
        session,
        ctx.tenant_id,
        "controlled.loss_reported",
        actor_user_id=ctx.user_id,
        entity_type="controlled_loss_report",
        entity_id=str(key),
        details={"number": number, "type": kind.value},
    )
    return get_loss_report(session, ctx, str(key))


def get_loss_report(session: Session, ctx: TenantContext, report_id: str) -> LossReport:
    require(ctx, "controlled.view")
    key = as_uuid(report_id, "report")
    row = session.execute(
        text(
            "SELECT r.*, br.name AS branch, br.time_zone, coalesce(reg.dea_number, '') AS dea_number, "
            "coalesce(u.full_name, '') AS reporter FROM controlled_loss_reports r "
            "JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id "
            "LEFT JOIN controlled_registrations reg ON reg.tenant_id = r.tenant_id AND reg.branch_id = r.branch_id "
            "LEFT JOIN users u ON u.id = r.reported_by WHERE r.id = :id"
        ),
        {"id": key},
    ).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such theft or loss report.")
    lines = session.execute(
        text(
            "SELECT l.quantity, b.lot_number, m.generic_name, m.strength, m.dosage_form, m.controlled_class, "
            "coalesce(m.barcode, '') AS ndc FROM controlled_loss_lines l "
            "JOIN batches b ON b.tenant_id = l.tenant_id AND b.id = l.batch_id "
            "JOIN medicines m ON m.tenant_id = l.tenant_id AND m.id = l.medicine_id "
            "WHERE l.report_id = :r ORDER BY lower(m.generic_name), b.lot_number"
        ),
        {"r": key},
    ).all()
    return LossReport(
        id=str(row.id),
        number=row.number,
        branch_id=str(row.branch_id),
        branch=row.branch,
        time_zone=row.time_zone,
        dea_number=row.dea_number,
        discovered_on=row.discovered_on,
        loss_type=LossType(row.loss_type),
        details=row.details,
        police_notified=row.police_notified,
        police_report=row.police_report,
        reported_at=row.reported_at,
        reported_by=row.reporter,
        lines=[
            LossLine(r.ndc, r.generic_name, r.strength, r.dosage_form, r.controlled_class, r.lot_number, r.quantity)
            for r in lines
        ],
    )


def list_loss_reports(session: Session, ctx: TenantContext, branch_id: str) -> list[LossReport]:
    require(ctx, "controlled.view")
    where = branch(session, ctx, branch_id)
    ids = session.execute(
        text("SELECT id FROM controlled_loss_reports WHERE branch_id = :b ORDER BY reported_at DESC LIMIT 50"),
        {"b": uuid.UUID(where.id)},
    ).scalars()
    return [get_loss_report(session, ctx, str(i)) for i in ids]


LOSS_WIDTHS = (30.0, 70.0, 30.0, 45.0, 16.0, 30.0, 25.0)
LOSS_HEADER = ("NDC", "Name", "Strength", "Dosage form", "Sched.", "Lot", "Quantity lost")


def loss_report_pdf(session: Session, ctx: TenantContext, report_id: str) -> tuple[str, bytes]:
    """The report with what DEA Form 106 asks for, to copy into the DEA's online form and keep on file."""
    found = get_loss_report(session, ctx, report_id)
    title = f"Theft or loss of controlled substances (DEA Form 106 content) - {found.number}"
    pdf = pdf_document(title)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for said in (
        f"Registrant: {found.branch} - DEA registration {found.dea_number or 'not recorded'}",
        f"Date of discovery: {found.discovered_on.isoformat()}    Type of theft or loss: {found.loss_type.label}",
        f"Police notified: {'yes' if found.police_notified else 'no'}"
        + (f" (report {found.police_report})" if found.police_report else ""),
        f"What happened: {found.details}",
        f"Recorded {display_time(found.reported_at, found.time_zone)} by {found.reported_by or 'staff'}",
    ):
        pdf.multi_cell(0, 5, said, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    rows: list[tuple[object, ...]] = [
        (line.ndc, line.medicine, line.strength, line.dosage_form, line.schedule, line.lot_number, line.quantity)
        for line in found.lines
    ]
    pdf_table(pdf, LOSS_WIDTHS, LOSS_HEADER, rows)
    return f"form-106-{found.number.replace(' ', '-')}.pdf", bytes(pdf.output())
