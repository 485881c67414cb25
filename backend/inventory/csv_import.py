"""Importing the catalog and opening stock from CSV.

Two steps, so nothing is half-imported by surprise:
1. `stage_import` reads the file, checks every row and stores the file with its report (row numbers
   and reasons) in the database, where any worker can read it. Nothing is imported yet.
2. `start_import` imports: refused while problems remain unless the user chose "only the valid
   rows". Small files import at once; larger ones run as a background job that commits one batch
   of rows at a time together with its progress, so the page can show a progress bar and a retried
   job resumes where it stopped without importing a row twice.

COPY FROM is refused on tables under row-level security, so rows go in as batched inserts under
the tenant's own session (and so under its policies).
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.core import validation as check
from backend.core.errors import Conflict, NotFound, PermissionDenied, PharmacyError, ValidationFailed
from backend.inventory import reorder, service
from backend.inventory import validation as catalog_check
from backend.inventory.statuses import ImportStatus
from backend.jobs.registry import job
from backend.jobs.service import enqueue_job
from tenants.context import TenantContext
from tenants.directory import branch_inactive
from tenants.roles import require
from tenants.session import tenant_session

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
INLINE_ROWS = 200  # up to this many rows import during the request; more go to a worker
BATCH_ROWS = 500  # rows per committed transaction (and per progress step) in the worker
SHOWN_PROBLEMS = 500  # the report keeps the first problems; the count covers all of them

CATALOG = "catalog"
OPENING_STOCK = "opening_stock"
# Reorder levels are per medicine and branch, so they are a file of their own: the catalog is per
# medicine and its import only adds medicines; the stock file is per lot and its import adds stock.
REORDER_LEVELS = "reorder_levels"
KIND_LABELS = {CATALOG: "Catalog", OPENING_STOCK: "Opening stock", REORDER_LEVELS: "Reorder levels"}
PERMISSION = {CATALOG: "inventory.catalog", OPENING_STOCK: "inventory.receive", REORDER_LEVELS: "inventory.reorder"}
COLUMNS = {
    CATALOG: (
        "generic_name",
        "brand_name",
        "strength",
        "dosage_form",
        "pack_size",
        "dispensing_unit",
        "barcode",
        "schedule",
        "controlled_class",
        "therapeutic_class",
        "default_sell_price",
        "tax_category",
    ),
    OPENING_STOCK: ("barcode", "lot_number", "expiry_date", "quantity", "cost_price", "supplier_name", "branch_code"),
    REORDER_LEVELS: ("medicine_id", "barcode", "branch_code", "reorder_mode", "reorder_point", "reorder_quantity"),
}
# Columns an export adds for people to read; an import of that export skips them.
READ_ONLY = {
    CATALOG: ("active",),
    OPENING_STOCK: ("generic_name", "strength", "status"),
    REORDER_LEVELS: ("generic_name", "strength", "on_hand", "level_in_force"),
}
REQUIRED = {
    CATALOG: ("generic_name",),
    OPENING_STOCK: ("barcode", "lot_number", "expiry_date", "quantity"),
    REORDER_LEVELS: ("reorder_point", "reorder_quantity"),
}


@dataclass(frozen=True)
class Problem:
    row: int  # the line in the file, the header being row 1 (as a spreadsheet numbers it)
    column: str
    reason: str


@dataclass(frozen=True)
class ImportSummary:
    id: str
    kind: str
    filename: str
    status: str
    total_rows: int
    valid_rows: int
    processed_rows: int
    imported_rows: int
    problem_count: int
    problems: list[Problem] = field(default_factory=list)
    failure: str = ""

    @property
    def running(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.IMPORTING)


# --- reading the file ------------------------------------------------------------------------


def _rows(content: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The header (normalised) and the data rows of a CSV file; refuses what is not a CSV file."""
    try:
        decoded = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("Save the file as 'CSV UTF-8' and upload it again.", field="file") from None
    if "\x00" in decoded:
        raise ValidationFailed("That is not a CSV file.", field="file")
    reader = csv.reader(io.StringIO(decoded, newline=""))
    try:
        header = [h.strip().lower().replace(" ", "_") for h in next(reader)]
    except StopIteration:
        raise ValidationFailed("The file is empty.", field="file") from None
    except csv.Error as exc:
        raise ValidationFailed(f"The file is not valid CSV: {exc}.", field="file") from None
    rows: list[dict[str, str]] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                rows.append({})  # a blank line keeps its row number but is skipped
                continue
            rows.append({name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(header)})
            if len(rows) > MAX_ROWS:
                raise ValidationFailed(f"Files are limited to {MAX_ROWS:,} rows; split it in parts.", field="file")
    except csv.Error as exc:
        raise ValidationFailed(f"Row {reader.line_num}: not valid CSV ({exc}).", field="file") from None
    return header, rows


def _check_header(kind: str, header: list[str]) -> None:
    missing = [c for c in REQUIRED[kind] if c not in header]
    if missing:
        raise ValidationFailed(
            f"The file needs the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}. "
            f"Columns this import reads: {', '.join(COLUMNS[kind])}.",
            field="file",
        )
    unknown = [c for c in header if c and c not in COLUMNS[kind] and c not in READ_ONLY[kind]]
    if unknown:
        raise ValidationFailed(
            f"Unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}. "
            f"Columns this import reads: {', '.join(COLUMNS[kind])}.",
            field="file",
        )


def _numbered(rows: list[dict[str, str]], start: int = 0) -> Iterator[tuple[int, dict[str, str]]]:
    """Data rows with their row number in the file (header is row 1); blank lines skipped."""
    for offset, row in enumerate(rows[start:], start=start):
        if row:
            yield offset + 2, row


# --- checking rows against the catalog ---------------------------------------------------------


class _RowChecker:
    """Checks rows of one kind inside a tenant session; returns the clean rows and the problems."""

    def __init__(self, session: Session, ctx: TenantContext, default_branch_id: str | None) -> None:
        self.session, self.ctx, self.default_branch_id = session, ctx, default_branch_id

    def check(self, numbered: Iterable[tuple[int, dict[str, str]]]) -> tuple[list[tuple[int, Any]], list[Problem]]:
        clean: list[tuple[int, Any]] = []
        problems: list[Problem] = []
        items = list(numbered)
        self._prepare([row for _, row in items])
        for number, row in items:
            try:
                clean.append((number, self._one(row)))
            except PharmacyError as exc:
                problems.append(Problem(number, exc.field or "", exc.message))
        return clean, problems

    def _prepare(self, rows: list[dict[str, str]]) -> None:
        """Load what every row is checked against, in one query each."""

    def _one(self, row: dict[str, str]) -> Any:
        raise NotImplementedError


class _CatalogChecker(_RowChecker):
    def _prepare(self, rows: list[dict[str, str]]) -> None:
        codes = [r.get("barcode", "") for r in rows if r.get("barcode")]
        self.taken = set(
            self.session.execute(
                text("SELECT barcode FROM medicines WHERE barcode = ANY(:codes)"), {"codes": codes}
            ).scalars()
        )
        self.seen: dict[str, int] = {}

    def _one(self, row: dict[str, str]) -> dict[str, Any]:
        # Empty cells mean "the default", as on the catalog form.
        fields = service.catalog_values({k: v for k, v in row.items() if v and k in COLUMNS[CATALOG]})
        barcode = fields["barcode"]
        if barcode:
            if barcode in self.taken:
                raise Conflict("A medicine with this barcode is already in the catalog.", field="barcode")
            if barcode in self.seen:
                raise Conflict("The same barcode is on another row of this file.", field="barcode")
            self.seen[barcode] = 1
        return fields


class _StockChecker(_RowChecker):
    def _prepare(self, rows: list[dict[str, str]]) -> None:
        codes = sorted({r.get("barcode", "") for r in rows if r.get("barcode")})
        self.medicines = dict(
            self.session.execute(
                text("SELECT barcode, id FROM medicines WHERE barcode = ANY(:codes)"), {"codes": codes}
            ).all()
        )
        branches = self.session.execute(text("SELECT id, code FROM branches")).all()
        self.branches = {b.code.lower(): str(b.id) for b in branches if self.ctx.can_see_branch(b.id)}
        self.today = {
            branch_id: service.branch_today(self.session, self.ctx, branch_id) for branch_id in self.branches.values()
        }
        self.recalled = set(self.session.execute(text("SELECT medicine_id, lot_number FROM lot_recalls")).tuples())
        self.seen: set[tuple[str, str, str]] = set()

    def _one(self, row: dict[str, str]) -> dict[str, Any]:
        code = row.get("branch_code", "")
        branch_id = self.branches.get(code.lower()) if code else self.default_branch_id
        if branch_id is None or branch_id not in self.today:
            raise NotFound(f"No branch with code {code!r} that you may stock." if code else "Choose a branch.")
        medicine_id = self.medicines.get(row.get("barcode", ""))
        if medicine_id is None:
            raise NotFound("No medicine in the catalog has this barcode; import the catalog first.")
        lot = row.get("lot_number", "")
        if not lot or len(lot) > 60:
            raise ValidationFailed("Enter the lot number (up to 60 characters).", field="lot_number")
        try:
            expiry = date.fromisoformat(row.get("expiry_date", ""))
        except ValueError:
            raise ValidationFailed("Write the expiry date as YYYY-MM-DD.", field="expiry_date") from None
        if expiry < self.today[branch_id]:
            raise ValidationFailed("This lot has already expired; it cannot be stocked.", field="expiry_date")
        if (medicine_id, lot) in self.recalled:
            raise ValidationFailed(f"Lot {lot} is recalled; it cannot be stocked.", field="lot_number")
        key = (branch_id, str(medicine_id), lot)
        if key in self.seen:
            raise Conflict("The same lot of this medicine for this branch is on another row.", field="lot_number")
        self.seen.add(key)
        return {
            "branch_id": branch_id,
            "medicine_id": str(medicine_id),
            "lot_number": lot,
            "expiry_date": expiry.isoformat(),
            "quantity": check.quantity(row.get("quantity", "")),
            "cost_price": str(check.money(row.get("cost_price", ""), "cost_price")),
            "supplier_name": row.get("supplier_name", "")[:120],
        }


class _ReorderChecker(_RowChecker):
    """A row names a medicine (medicine_id, as the export writes it, or barcode) and a branch (branch_code,
    else the branch chosen on the page); empty numbers with the manual mode clear the level."""

    def _prepare(self, rows: list[dict[str, str]]) -> None:
        codes = sorted({r.get("barcode", "") for r in rows if r.get("barcode")})
        ids = sorted({r["medicine_id"] for r in rows if _is_uuid(r.get("medicine_id", ""))})
        found = self.session.execute(
            text(
                "SELECT id, barcode FROM medicines WHERE barcode = ANY(CAST(:codes AS text[])) "
                "OR id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"codes": codes, "ids": ids},
        ).all()
        self.by_barcode = {m.barcode: str(m.id) for m in found if m.barcode}
        self.by_id = {str(m.id) for m in found}
        branches = self.session.execute(text("SELECT id, code, name, is_active FROM branches")).all()
        self.branches = {b.code.lower(): b for b in branches if self.ctx.can_see_branch(b.id)}
        self.by_branch_id = {str(b.id): b for b in self.branches.values()}
        self.seen: set[tuple[str, str]] = set()

    def _one(self, row: dict[str, str]) -> dict[str, Any]:
        code = row.get("branch_code", "")
        branch = self.branches.get(code.lower()) if code else self.by_branch_id.get(self.default_branch_id or "")
        if branch is None:
            raise NotFound(f"No branch with code {code!r} that you may see." if code else "Choose a branch.")
        if not branch.is_active:
            raise branch_inactive(branch.name, "orders no stock, so it takes no reorder levels")
        typed_id, barcode = row.get("medicine_id", ""), row.get("barcode", "")
        if typed_id:
            medicine_id = typed_id.lower() if typed_id.lower() in self.by_id else None
            if medicine_id is None:
                raise NotFound("No medicine in the catalog has this medicine_id.")
            if barcode and self.by_barcode.get(catalog_check.barcode(barcode) or "") != medicine_id:
                raise ValidationFailed("The barcode belongs to another medicine than the medicine_id.", field="barcode")
        elif barcode:
            medicine_id = self.by_barcode.get(barcode)
            if medicine_id is None:
                raise NotFound("No medicine in the catalog has this barcode.")
        else:
            raise ValidationFailed("Give the medicine's barcode (or its medicine_id from an export).", field="barcode")
        mode, point, quantity = reorder.level_values(
            row.get("reorder_mode"), row.get("reorder_point"), row.get("reorder_quantity")
        )
        key = (str(branch.id), medicine_id)
        if key in self.seen:
            raise Conflict("This medicine at this branch is on another row too.", field="barcode")
        self.seen.add(key)
        return {
            "branch_id": str(branch.id),
            "medicine_id": medicine_id,
            "mode": mode,
            "reorder_point": point,
            "reorder_quantity": quantity,
        }


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


CHECKERS: dict[str, type[_RowChecker]] = {
    CATALOG: _CatalogChecker,
    OPENING_STOCK: _StockChecker,
    REORDER_LEVELS: _ReorderChecker,
}


# --- staging, importing, watching ---------------------------------------------------------------


def stage_import(
    session: Session, ctx: TenantContext, kind: str, filename: str, content: bytes, *, branch_id: str | None = None
) -> ImportSummary:
    """Check an uploaded file and keep it with its report; nothing is imported yet."""
    if kind not in COLUMNS:
        raise ValidationFailed("Choose what the file holds: catalog, opening stock or reorder levels.", field="kind")
    require(ctx, PERMISSION[kind])
    if len(content) > MAX_BYTES:
        raise ValidationFailed(f"Files are limited to {MAX_BYTES // (1024 * 1024)} MB.", field="file")
    header, rows = _rows(content)
    _check_header(kind, header)
    if not any(rows):
        raise ValidationFailed("The file has a header but no rows.", field="file")
    default_branch = _visible_branch(ctx, branch_id) if branch_id else None
    import_id = uuid.uuid4()
    clean, problems = CHECKERS[kind](session, ctx, default_branch).check(_numbered(rows))
    session.execute(
        text(
            "INSERT INTO catalog_imports (tenant_id, id, kind, branch_id, filename, content, total_rows, "
            "valid_rows, problems, created_by) VALUES (:t, :id, :kind, :branch, :name, :content, :total, "
            ":valid, CAST(:problems AS jsonb), :user)"
        ),
        {
            "t": ctx.tenant_id,
            "id": import_id,
            "kind": kind,
            "branch": default_branch,
            "name": filename[:200],
            "content": content,
            "total": len(clean) + len(problems),
            "valid": len(clean),
            "problems": _problems_json(problems),
            "user": ctx.user_id,
        },
    )
    return import_summary(session, ctx, str(import_id))


def _problems_json(problems: list[Problem]) -> str:
    # Every problem's row number (the import skips them); reasons for the first SHOWN_PROBLEMS.
    return json.dumps(
        [
            {"row": p.row, "column": p.column, "reason": p.reason} if i < SHOWN_PROBLEMS else {"row": p.row}
            for i, p in enumerate(problems)
        ]
    )


def _visible_branch(ctx: TenantContext, branch_id: str) -> str:
    if not ctx.can_see_branch(check.as_uuid(branch_id, "branch")):
        raise NotFound("No such branch.")
    return branch_id


def start_import(ctx: TenantContext, import_id: str, *, valid_rows_only: bool = False) -> ImportSummary:
    """Import a checked file: at once when small, else as a background job (watch `import_summary`)."""
    with tenant_session(ctx) as session:
        row = session.execute(
            text("SELECT kind, status, total_rows, valid_rows FROM catalog_imports WHERE id = :id FOR UPDATE"),
            {"id": check.as_uuid(import_id, "import")},
        ).first()
        if row is None:
            raise NotFound("No such import.")
        require(ctx, PERMISSION[row.kind])
        if row.status != ImportStatus.VALIDATED:
            raise Conflict("This file has already been imported or discarded; upload it again to re-import.")
        if row.valid_rows < row.total_rows and not valid_rows_only:
            raise ValidationFailed(
                f"{row.total_rows - row.valid_rows} rows have problems. Fix the file and upload it again, "
                "or choose to import only the valid rows.",
                field="valid_rows_only",
            )
        if row.valid_rows == 0:
            raise ValidationFailed("No row of this file can be imported.")
        inline = row.total_rows <= INLINE_ROWS
        session.execute(
            text("UPDATE catalog_imports SET status = :s WHERE id = :id"),
            {"s": ImportStatus.IMPORTING if inline else ImportStatus.QUEUED, "id": import_id},
        )
        if not inline:
            # Any staff member who may import may start the job; the job re-checks their role when it runs.
            enqueue_job(session, TenantContext.system(ctx.tenant_id), "inventory.import_csv", import_id=import_id)
    if inline:
        _import_batches(ctx, import_id)
    with tenant_session(ctx) as session:
        return import_summary(session, ctx, import_id)


def discard_import(session: Session, ctx: TenantContext, import_id: str) -> None:
    """Throw away a checked file that will not be imported (its content is deleted)."""
    kind = session.execute(
        text("SELECT kind FROM catalog_imports WHERE id = :id"), {"id": check.as_uuid(import_id, "import")}
    ).scalar()
    if kind is None:
        raise NotFound("No such import.")
    require(ctx, PERMISSION[kind])
    session.execute(
        text("UPDATE catalog_imports SET status = :discarded, content = '' WHERE id = :id AND status = :validated"),
        {"id": import_id, "discarded": ImportStatus.DISCARDED, "validated": ImportStatus.VALIDATED},
    )


def import_summary(session: Session, ctx: TenantContext, import_id: str) -> ImportSummary:
    """Where an import stands: counts, progress, the report."""
    require(ctx, "inventory.view")
    row = session.execute(
        text(
            "SELECT id, kind, filename, status, total_rows, valid_rows, processed_rows, imported_rows, "
            "problems, failure FROM catalog_imports WHERE id = :id"
        ),
        {"id": check.as_uuid(import_id, "import")},
    ).first()
    if row is None:
        raise NotFound("No such import.")
    problems = [Problem(p["row"], p["column"], p["reason"]) for p in row.problems if "reason" in p]
    return ImportSummary(
        str(row.id),
        row.kind,
        row.filename,
        row.status,
        row.total_rows,
        row.valid_rows,
        row.processed_rows,
        row.imported_rows,
        len(row.problems),
        problems,
        row.failure,
    )


def _import_batches(ctx: TenantContext, import_id: str) -> None:
    """Import the file's valid rows batch by batch; each batch commits with its progress."""
    with tenant_session(ctx) as session:
        row = session.execute(
            text("SELECT kind, branch_id, content, processed_rows, problems FROM catalog_imports WHERE id = :id"),
            {"id": import_id},
        ).one()
    require(ctx, PERMISSION[row.kind])
    _, rows = _rows(bytes(row.content))
    flagged = {p["row"] for p in row.problems}  # rows reported at upload never import
    branch = str(row.branch_id) if row.branch_id else None
    for start in range(row.processed_rows, len(rows), BATCH_ROWS):
        with tenant_session(ctx) as session:
            numbered = [(n, r) for n, r in _numbered(rows[: start + BATCH_ROWS], start) if n not in flagged]
            clean, late = CHECKERS[row.kind](session, ctx, branch).check(numbered)
            imported = WRITERS[row.kind](session, ctx, [fields for _, fields in clean], import_id)
            # Rows that became invalid since the upload (say, a barcode added meanwhile) are skipped and reported.
            session.execute(
                text(
                    "UPDATE catalog_imports SET processed_rows = :done, imported_rows = imported_rows + :n, "
                    "problems = problems || CAST(:late AS jsonb) WHERE id = :id"
                ),
                {
                    "done": min(start + BATCH_ROWS, len(rows)),
                    "n": imported,
                    "late": _problems_json(late),
                    "id": import_id,
                },
            )
    with tenant_session(ctx) as session:
        session.execute(
            text("UPDATE catalog_imports SET status = :s, finished_at = now() WHERE id = :id"),
            {"s": ImportStatus.DONE, "id": import_id},
        )


def _write_catalog(session: Session, ctx: TenantContext, rows: list[dict[str, Any]], _import_id: str) -> int:
    """One multi-row INSERT per batch; a barcode taken meanwhile by someone else is skipped."""
    if not rows:
        return 0
    columns = list(rows[0])
    params: dict[str, Any] = {"t": ctx.tenant_id, "ids": [uuid.uuid4() for _ in rows]}
    params.update({c: [r[c] for r in rows] for c in columns})
    casts = ", ".join(f"CAST(:{c} AS {CATALOG_TYPES.get(c, 'text')}[])" for c in columns)
    inserted = session.execute(
        text(
            f"INSERT INTO medicines (tenant_id, id, {', '.join(columns)}) "  # noqa: S608 - columns are our own names
            f"SELECT :t, * FROM unnest(CAST(:ids AS uuid[]), {casts}) "
            "ON CONFLICT (tenant_id, barcode) WHERE barcode IS NOT NULL DO NOTHING RETURNING id"
        ),
        params,
    ).all()
    return len(inserted)


CATALOG_TYPES = {"pack_size": "integer", "default_sell_price": "numeric"}


def _write_stock(session: Session, ctx: TenantContext, rows: list[dict[str, Any]], import_id: str) -> int:
    """Opening stock is received like a delivery: a batch and its ledger row, per line."""
    for fields in rows:
        service.receive_stock(session, ctx, **fields, reference=f"opening stock import {import_id[:8]}")
    return len(rows)


def _write_reorder_levels(session: Session, ctx: TenantContext, rows: list[dict[str, Any]], _import_id: str) -> int:
    """A batch of levels is one save (checked again, all or nothing); unchanged rows count as imported."""
    if rows:
        reorder.save_reorder_levels(session, ctx, rows)
    return len(rows)


WRITERS = {CATALOG: _write_catalog, OPENING_STOCK: _write_stock, REORDER_LEVELS: _write_reorder_levels}


@job("inventory.import_csv")
def run_import_job(session: Session, ctx: TenantContext, *, import_id: str) -> None:
    """Worker: import a large file as the member who started it, if they still may."""
    row = session.execute(
        text("SELECT kind, created_by, status FROM catalog_imports WHERE id = :id"), {"id": import_id}
    ).first()
    if row is None or row.status == ImportStatus.DONE:
        return
    try:
        actor = _member_context(session, ctx.tenant_id, row.created_by)
        with tenant_session(ctx) as progress:  # its own transaction, so the page shows "importing" at once
            progress.execute(
                text("UPDATE catalog_imports SET status = :s WHERE id = :id"),
                {"s": ImportStatus.IMPORTING, "id": import_id},
            )
        _import_batches(actor, import_id)
    except PharmacyError as exc:
        _fail(ctx, import_id, exc.message)
    except Exception:
        _fail(ctx, import_id, "The import stopped unexpectedly; the rows imported so far are kept.")
        raise


def _fail(ctx: TenantContext, import_id: str, message: str) -> None:
    with tenant_session(ctx) as session:
        session.execute(
            text("UPDATE catalog_imports SET status = :s, failure = :f, finished_at = now() WHERE id = :id"),
            {"s": ImportStatus.FAILED, "f": message[:300], "id": import_id},
        )


def _member_context(session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID | None) -> TenantContext:
    """The context of the member who uploaded the file, as it stands now (role and branch scope)."""
    member = session.execute(
        text(
            "SELECT m.role, coalesce(array_agg(mb.branch_id) FILTER (WHERE mb.branch_id IS NOT NULL), '{}') "
            "AS branch_ids FROM memberships m LEFT JOIN membership_branches mb "
            "ON mb.tenant_id = m.tenant_id AND mb.membership_id = m.id "
            "WHERE m.user_id = :u AND m.is_active GROUP BY m.role"
        ),
        {"u": user_id},
    ).first()
    if member is None:
        raise PermissionDenied("The member who uploaded this file no longer works for the chain.")
    return TenantContext(
        tenant_id=tenant_id, user_id=user_id, role=member.role, branch_ids=frozenset(member.branch_ids)
    )
