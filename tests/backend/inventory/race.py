"""One process of the overselling race: N threads selling one unit at a time from the same stock.

Run by test_concurrency.py as `python -m tests.backend.inventory.race ...`; prints {"sold": n}.
`--naive` sells the way the ledger must not: read on-hand, then write the new value.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid

from sqlalchemy import text

from backend.inventory.service import OutOfStock, _record, dispense_stock
from tenants.context import TenantContext
from tenants.session import tenant_session


def naive_sale(ctx: TenantContext, branch_id: str, medicine_id: str) -> bool:
    with tenant_session(ctx) as session:
        row = session.execute(
            text(
                "SELECT id, quantity FROM batches WHERE medicine_id = :m AND branch_id = :b "
                "ORDER BY expiry_date LIMIT 1"
            ),
            {"m": medicine_id, "b": branch_id},
        ).one()
        if row.quantity < 1:
            return False
        time.sleep(0.002)  # the gap between reading and writing where another sale slips in
        session.execute(text("UPDATE batches SET quantity = :q WHERE id = :id"), {"q": row.quantity - 1, "id": row.id})
        _record(
            session,
            ctx,
            batch_id=str(row.id),
            medicine_id=medicine_id,
            branch_id=branch_id,
            kind="dispense",
            quantity=-1,
        )
        return True


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("tenant", "branch", "medicine"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--threads", type=int, default=25)
    parser.add_argument("--attempts", type=int, default=4)
    parser.add_argument("--naive", action="store_true")
    args = parser.parse_args()
    ctx = TenantContext(tenant_id=uuid.UUID(args.tenant), role="cashier")
    sold, errors = [], []
    start = threading.Barrier(args.threads)

    def seller() -> None:
        start.wait()
        for _ in range(args.attempts):
            try:
                if args.naive:
                    if naive_sale(ctx, args.branch, args.medicine):
                        sold.append(1)
                else:
                    dispense_stock(ctx, branch_id=args.branch, medicine_id=args.medicine, quantity=1)
                    sold.append(1)
            except OutOfStock:
                pass
            except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on any
                errors.append(type(exc).__name__)

    threads = [threading.Thread(target=seller) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"sold": len(sold), "errors": errors}))


if __name__ == "__main__":
    main()
