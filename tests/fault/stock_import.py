"""A job worth killing: a large opening-stock import, which a worker runs in committed batches of rows.

Its effect is countable: every row of the file becomes exactly one batch (a lot) with its ledger row.
A row imported twice would show as a lot twice and as stock the ledger cannot explain.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from rq.job import Job
from sqlalchemy import text

from backend.core.queue import redis_connection
from backend.inventory.csv_import import BATCH_ROWS, import_summary, stage_import, start_import
from backend.inventory.service import create_medicine
from backend.jobs.service import JOB_RETRIES, relay_once
from tenants.context import TenantContext
from tenants.session import run_in_tenant, tenant_session

QUANTITY = 3


@dataclass
class StockImport:
    owner: TenantContext
    import_id: str
    outbox_id: str
    medicine_id: str
    rows: int

    def summary(self):
        return run_in_tenant(self.owner, import_summary, self.import_id)

    def in_the_middle(self) -> bool:
        """At least one batch committed and more to come: the job is running."""
        summary = self.summary()
        assert summary.status != "done", "the import finished before the kill: make the file bigger"
        return summary.processed_rows >= BATCH_ROWS

    def done(self) -> bool:
        """The import finished and its outbox job is marked done. The two can be seconds apart: when the
        killed worker's orphaned work-horse finishes the rows, the restarted worker's retry marks the job."""
        if self.summary().status != "done":
            return False
        with tenant_session(self.owner) as session:
            status = session.execute(
                text("SELECT status FROM outbox WHERE id = :id"), {"id": self.outbox_id}
            ).scalar_one()
        return bool(status == "done")

    def assert_took_effect_once(self) -> None:
        summary = self.summary()
        assert (summary.status, summary.processed_rows, summary.imported_rows) == ("done", self.rows, self.rows)
        with tenant_session(self.owner) as session:
            lots = session.execute(
                text("SELECT count(*), sum(quantity) FROM batches WHERE medicine_id = :m"), {"m": self.medicine_id}
            ).one()
            ledger = session.execute(
                text("SELECT count(*), sum(quantity) FROM stock_movements WHERE medicine_id = :m"),
                {"m": self.medicine_id},
            ).one()
            status = session.execute(
                text("SELECT status FROM outbox WHERE id = :id"), {"id": self.outbox_id}
            ).scalar_one()
        # Each row received once: one lot and one ledger row apiece, no row's quantity twice.
        assert tuple(lots) == tuple(ledger) == (self.rows, self.rows * QUANTITY)
        assert status == "done"

    def retries_used(self) -> int:
        job = Job.fetch(f"outbox-{self.outbox_id}", connection=redis_connection())
        return JOB_RETRIES - (job.retries_left or 0)


def start_stock_import(owner: TenantContext, branch_id: str, rows: int) -> StockImport:
    """Stage a file of `rows` lots of one medicine, start it (a background job) and relay the job."""
    barcode = f"5{uuid.uuid4().int % 10**12:012d}9"
    medicine = run_in_tenant(owner, create_medicine, generic_name="Paracetamol", strength="500 mg", barcode=barcode)
    expiry = (date.today() + timedelta(days=300)).isoformat()
    lines = [f"{barcode},LOT-{i:05d},{expiry},{QUANTITY},0.05," for i in range(rows)]
    content = ("barcode,lot_number,expiry_date,quantity,cost_price,branch_code\n" + "\n".join(lines)).encode()
    staged = run_in_tenant(owner, stage_import, "opening_stock", "opening-stock.csv", content, branch_id=branch_id)
    assert staged.valid_rows == rows
    queued = start_import(owner, staged.id)
    assert queued.status == "queued"
    with tenant_session(owner) as session:
        outbox_id = session.execute(
            text("SELECT id FROM outbox WHERE job_name = 'inventory.import_csv' AND payload->>'import_id' = :i"),
            {"i": staged.id},
        ).scalar_one()
    return StockImport(owner, staged.id, str(outbox_id), medicine, rows)


def relay() -> None:
    assert relay_once(redis_connection()) >= 1
