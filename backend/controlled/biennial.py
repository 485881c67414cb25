"""The biennial inventory of controlled substances (21 CFR 1304.11): a count sheet of every scheduled
medicine at the branch with what the ledger says is on hand, the counts entered against it, an
explanation for every difference, and the pharmacist's electronic signature. Once signed it never changes
(the service refuses, and a trigger refuses any other path).

Counting rule (21 CFR 1304.11(e)(3)): a CII is counted exactly; CIII to CV may be estimated, unless the
container holds more than 1,000 tablets or capsules, which are then counted exactly. The sheet applies it
to the quantity counted at the branch.

The inventory records the count; it does not move stock. A difference found is corrected with a stock
correction (or reported as theft or loss on Form 106), which then shows in the register.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.accounts.signatures import require_fresh_signature, signable
from backend.controlled.common import branch, ledger_on_hand, medicine_name
from backend.controlled.register import pdf_document, pdf_table
from backend.controlled.statuses import InventoryStatus, TakenAt
from backend.core.display import display_time
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.validation import as_uuid
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

ESTIMATE_LIMIT = 1000  # over this many units in the container, CIII-CV are counted exactly too
MIN_EXPLANATION = 5
COUNT_RULE = (
    "CII: count exactly. CIII-CV: an estimate is allowed, unless the container holds more than "
    f"{ESTIMATE_LIMIT:,} units, which are counted exactly (21 CFR 1304.11(e)(3))."
)


class InventorySigned(Conflict):
    code = "inventory_signed"


@signable("controlled_inventory")
def _inventory_exists(session: Session, entity_id: str) -> bool:
    try:
        key = uuid.UUID(str(entity_id))
    except ValueError:
        return False
    return session.execute(text("SELECT 1 FROM controlled_inventories WHERE id = :id"), {"id": key}).first() is not None


@dataclass(frozen=True)
class CountLine:
    medicine_id: str
    medicine: str
    dosage_form: str
    ndc: str
    schedule: str
    expected: int
    counted: int | None
    estimated: bool
    explanation: str

    @property
    def difference(self) -> int | None:
        return None if self.counted is None else self.counted - self.expected

    @property
    def needs_explanation(self) -> bool:
        return bool(self.difference) and len(self.explanation.strip()) < MIN_EXPLANATION


@dataclass(frozen=True)
class Inventory:
    id: str
    branch_id: str
    branch: str
    time_zone: str
    taken_at: TakenAt
    status: InventoryStatus
    started_at: datetime
    started_by: str
    signed_at: datetime | None
    signed_by: str
    signature_meaning: str
    lines: list[CountLine] = field(default_factory=list)

    @property
    def counted(self) -> int:
        return sum(1 for line in self.lines if line.counted is not None)

    @property
    def ready_to_sign(self) -> bool:
        return self.status == InventoryStatus.COUNTING and all(
            line.counted is not None and not line.needs_explanation for line in self.lines
        )


def start_inventory(session: Session, ctx: TenantContext, branch_id: str, taken_at: str = "opening") -> Inventory:
    """Start the branch's biennial inventory: the count sheet lists every scheduled medicine of the catalog
    (active, or still on hand at the branch) with its on-hand by the ledger now. One count at a time."""
    require(ctx, "controlled.record")
    where = branch(session, ctx, branch_id)
    try:
        moment = TakenAt(str(taken_at))
    except ValueError:
        raise ValidationFailed(
            "Say whether it is taken at the opening or the close of business.", field="taken_at"
        ) from None
    # One count in progress per branch: lock the branch row so two people starting at once do not race.
    session.execute(text("SELECT 1 FROM branches WHERE id = :b FOR UPDATE"), {"b": uuid.UUID(where.id)})
    open_one = session.execute(
        text("SELECT id FROM controlled_inventories WHERE branch_id = :b AND status = 'counting'"),
        {"b": uuid.UUID(where.id)},
    ).first()
    if open_one is not None:
        raise Conflict("An inventory of this branch is being counted; finish and sign it first.")
    on_hand = ledger_on_hand(session, where.id)
    medicines = session.execute(
        text(
            "SELECT id, controlled_class FROM medicines WHERE schedule = 'controlled' "
            "AND (is_active OR id = ANY(CAST(:held AS uuid[]))) ORDER BY lower(generic_name), strength, id"
        ),
        {"held": [uuid.UUID(m) for m, n in on_hand.items() if n]},
    ).all()
    if not medicines:
        raise ValidationFailed("The catalog has no controlled medicine to count.")
    key = uuid.uuid4()
    session.execute(
        text(
            "INSERT INTO controlled_inventories (tenant_id, id, branch_id, taken_at, status, started_by) "
            "VALUES (:t, :id, :b, :at, 'counting', :u)"
        ),
        {"t": ctx.tenant_id, "id": key, "b": uuid.UUID(where.id), "at": moment, "u": ctx.user_id},
    )
    session.execute(
        text(
            "INSERT INTO controlled_inventory_lines (tenant_id, inventory_id, medicine_id, controlled_class, expected) "
            "VALUES (:t, :i, :m, :c, :e)"
        ),
        [
            {"t": ctx.tenant_id, "i": key, "m": m.id, "c": m.controlled_class, "e": on_hand.get(str(m.id), 0)}
            for m in medicines
        ],
    )
    record_audit(
        session,
        ctx.tenant_id,
        "controlled.inventory_started",
        actor_user_id=ctx.user_id,
        entity_type="controlled_inventory",
        entity_id=str(key),
    )
    return get_inventory(session, ctx, str(key))


_HEAD = text(
    "SELECT i.*, br.name AS branch, br.time_zone, coalesce(u.full_name, '') AS starter, "
    "coalesce(s.full_name, '') AS signer, coalesce(sig.meaning, '') AS meaning FROM controlled_inventories i "
    "JOIN branches br ON br.tenant_id = i.tenant_id AND br.id = i.branch_id "
    "LEFT JOIN users u ON u.id = i.started_by LEFT JOIN users s ON s.id = i.signed_by "
    "LEFT JOIN electronic_signatures sig ON sig.tenant_id = i.tenant_id AND sig.id = i.signature_id WHERE i.id = :id"
)


def _head(session: Session, ctx: TenantContext, inventory_id: str, *, lock: bool = False) -> Any:
    key = as_uuid(inventory_id, "inventory")
    row = session.execute(text(_HEAD.text + (" FOR UPDATE OF i" if lock else "")), {"id": key}).first()
    if row is None or not ctx.can_see_branch(row.branch_id):
        raise NotFound("No such inventory.")
    return row


def get_inventory(session: Session, ctx: TenantContext, inventory_id: str) -> Inventory:
    """One inventory with its count sheet, in the order of the catalog."""
    require(ctx, "controlled.view")
    row = _head(session, ctx, inventory_id)
    lines = session.execute(
        text(
            "SELECT l.*, m.generic_name, m.strength, m.dosage_form, coalesce(m.barcode, '') AS ndc "
            "FROM controlled_inventory_lines l JOIN medicines m ON m.tenant_id = l.tenant_id AND m.id = l.medicine_id "
            "WHERE l.inventory_id = :i ORDER BY lower(m.generic_name), m.strength, m.id"
        ),
        {"i": row.id},
    ).all()
    return Inventory(
        id=str(row.id),
        branch_id=str(row.branch_id),
        branch=row.branch,
        time_zone=row.time_zone,
        taken_at=TakenAt(row.taken_at),
        status=InventoryStatus(row.status),
        started_at=row.started_at,
        started_by=row.starter,
        signed_at=row.signed_at,
        signed_by=row.signer,
        signature_meaning=row.meaning,
        lines=[
            CountLine(
                str(r.medicine_id),
                medicine_name(r),
                r.dosage_form,
                r.ndc,
                r.controlled_class,
                r.expected,
                r.counted,
                r.estimated,
                r.explanation,
            )
            for r in lines
        ],
    )


def list_inventories(session: Session, ctx: TenantContext, branch_id: str) -> list[Inventory]:
    """The branch's inventories, newest first (without their lines)."""
    require(ctx, "controlled.view")
    where = branch(session, ctx, branch_id)
    ids = session.execute(
        text("SELECT id FROM controlled_inventories WHERE branch_id = :b ORDER BY started_at DESC LIMIT 20"),
        {"b": uuid.UUID(where.id)},
    ).scalars()
    return [get_inventory(session, ctx, str(i)) for i in ids]


@dataclass(frozen=True)
class Count:
    """One line as entered: the counted quantity (blank: not counted yet), whether it is an estimate, why
    it differs from the ledger."""

    counted: object = None
    estimated: bool = False
    explanation: str = ""


def _checked(line: Any, count: Count, name: str) -> dict[str, Any]:
    raw = "" if count.counted is None else str(count.counted).strip()
    explanation = " ".join(str(count.explanation or "").split())[:500]
    if raw == "":
        return {"counted": None, "estimated": False, "explanation": explanation}
    try:
        counted = int(raw)
    except ValueError:
        raise ValidationFailed(f"{name}: the count is a whole number.", field=str(line.medicine_id)) from None
    if counted < 0:
        raise ValidationFailed(f"{name}: the count cannot be negative.", field=str(line.medicine_id))
    if count.estimated and line.controlled_class == "CII":
        raise ValidationFailed(f"{name} is a CII: count it exactly, no estimate.", field=str(line.medicine_id))
    if count.estimated and counted > ESTIMATE_LIMIT:
        raise ValidationFailed(
            f"{name}: more than {ESTIMATE_LIMIT:,} units are counted exactly, not estimated.",
            field=str(line.medicine_id),
        )
    if counted != line.expected and len(explanation) < MIN_EXPLANATION:
        raise ValidationFailed(
            f"{name}: counted {counted}, the ledger says {line.expected}. Explain the difference.",
            field=str(line.medicine_id),
        )
    return {"counted": counted, "estimated": bool(count.estimated), "explanation": explanation}


def record_counts(session: Session, ctx: TenantContext, inventory_id: str, counts: dict[str, Count]) -> Inventory:
    """Enter counts (by medicine id) on the sheet; every line is checked before anything is written, and a
    bad one is refused naming the medicine. A count that differs from the ledger needs an explanation."""
    require(ctx, "controlled.record")
    head = _head(session, ctx, inventory_id, lock=True)
    if head.status == InventoryStatus.SIGNED:
        raise InventorySigned("This inventory is signed; it cannot change.")
    lines = {
        str(r.medicine_id): r
        for r in session.execute(
            text(
                "SELECT l.medicine_id, l.controlled_class, l.expected, m.generic_name, m.strength "
                "FROM controlled_inventory_lines l JOIN medicines m ON m.tenant_id = l.tenant_id "
                "AND m.id = l.medicine_id WHERE l.inventory_id = :i"
            ),
            {"i": head.id},
        ).all()
    }
    unknown = sorted(set(counts) - set(lines))
    if unknown:
        raise NotFound("A counted medicine is not on this inventory's count sheet.")
    values = {m: _checked(lines[m], count, medicine_name(lines[m])) for m, count in counts.items()}
    for medicine, value in values.items():
        session.execute(
            text(
                "UPDATE controlled_inventory_lines SET counted = :c, estimated = :e, explanation = :x "
                "WHERE inventory_id = :i AND medicine_id = :m"
            ),
            {"c": value["counted"], "e": value["estimated"], "x": value["explanation"], "i": head.id, "m": medicine},
        )
    return get_inventory(session, ctx, inventory_id)


def signature_meaning(inventory: Inventory) -> str:
    """The words the pharmacist signs (the screen shows them before asking for the password)."""
    when = display_time(inventory.started_at, inventory.time_zone)
    return (
        f"took and certify the biennial controlled-substance inventory of {inventory.branch}, "
        f"{inventory.taken_at.label.lower()}, started {when}: {len(inventory.lines)} medicines counted"
    )


def sign_inventory(session: Session, ctx: TenantContext, inventory_id: str, *, signature_id: str) -> Inventory:
    """The pharmacist signs the inventory with a fresh electronic signature of it; refused while a line is
    not counted or a difference is not explained. After this nothing on it changes."""
    require(ctx, "controlled.sign")
    head = _head(session, ctx, inventory_id, lock=True)
    if head.status == InventoryStatus.SIGNED:
        raise InventorySigned("This inventory is already signed.")
    current = get_inventory(session, ctx, inventory_id)
    missing = [line.medicine for line in current.lines if line.counted is None]
    if missing:
        raise ValidationFailed(f"Count every line before signing; not counted: {', '.join(missing[:5])}.")
    unexplained = [line.medicine for line in current.lines if line.needs_explanation]
    if unexplained:
        raise ValidationFailed(f"Explain every difference before signing: {', '.join(unexplained[:5])}.")
    signature = require_fresh_signature(
        session, ctx, signature_id, entity_type="controlled_inventory", entity_id=head.id
    )
    session.execute(
        text(
            "UPDATE controlled_inventories SET status = 'signed', signed_by = :u, signature_id = :s, "
            "signed_at = :at WHERE id = :id"
        ),
        {"u": ctx.user_id, "s": uuid.UUID(signature.id), "at": signature.signed_at, "id": head.id},
    )
    record_audit(
        session,
        ctx.tenant_id,
        "controlled.inventory_signed",
        actor_user_id=ctx.user_id,
        entity_type="controlled_inventory",
        entity_id=str(head.id),
        details={"differences": sum(1 for line in current.lines if line.difference)},
    )
    return get_inventory(session, ctx, inventory_id)


INVENTORY_WIDTHS = (62.0, 28.0, 24.0, 14.0, 20.0, 20.0, 16.0, 75.0)
INVENTORY_HEADER = ("Medicine", "Form", "NDC", "Sched.", "Ledger", "Counted", "Diff.", "Explanation")


def inventory_pdf(session: Session, ctx: TenantContext, inventory_id: str) -> tuple[str, bytes]:
    """The count sheet (blank counts while counting) or the signed inventory, as a PDF."""
    found = get_inventory(session, ctx, inventory_id)
    title = f"Biennial controlled-substance inventory - {found.branch}"
    pdf = pdf_document(title)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for said in (
        f"Started {display_time(found.started_at, found.time_zone)} by {found.started_by or 'staff'}; taken at the "
        f"{found.taken_at.label.lower()}. Status: {found.status.label}.",
        COUNT_RULE,
    ):
        pdf.multi_cell(0, 5, said, new_x="LMARGIN", new_y="NEXT")
    rows: list[tuple[object, ...]] = [
        (
            line.medicine,
            line.dosage_form,
            line.ndc,
            line.schedule,
            line.expected,
            "" if line.counted is None else f"{line.counted}{' (est.)' if line.estimated else ''}",
            "" if line.difference is None else f"{line.difference:+d}" if line.difference else "0",
            line.explanation,
        )
        for line in found.lines
    ]
    pdf_table(pdf, INVENTORY_WIDTHS, INVENTORY_HEADER, rows)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 9)
    if found.status == InventoryStatus.SIGNED:
        signed = display_time(found.signed_at, found.time_zone)
        pdf.multi_cell(
            0, 5, f"Signed electronically by {found.signed_by} at {signed}: {found.signature_meaning}", new_x="LMARGIN"
        )
    else:
        pdf.cell(0, 5, "Not signed yet: counts may still change.")
    return f"biennial-inventory-{found.started_at:%Y-%m-%d}-{found.id[:8]}.pdf", bytes(pdf.output())
