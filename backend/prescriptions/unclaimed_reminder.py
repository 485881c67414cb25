"""The daily unclaimed-fill reminder of one branch, e-mailed to its pharmacists, managers and the owners.

A scheduled job (backend/schedules): the tick writes it once per branch and local date. It gives the count
and the longest wait, never a patient's name, an Rx number or a fill's code (which contains the Rx number);
staff open Prescriptions → Unclaimed for the list.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlmodel import Session

from backend.accounts.staff import branch_mail_recipients
from backend.jobs.registry import job
from backend.notifications.staff import queue_staff_message
from backend.prescriptions.unclaimed import unclaimed_summary
from tenants.context import TenantContext
from tenants.roles import MANAGER, OWNER, PHARMACIST

UNCLAIMED_REMINDER_JOB = "prescriptions.unclaimed_reminder"


@job(UNCLAIMED_REMINDER_JOB)
def send_unclaimed_reminder(session: Session, ctx: TenantContext, *, branch_id: str, period: str) -> str:
    """Mail the branch's staff how many fills wait to be returned to stock. None waiting: no mail."""
    branch = uuid.UUID(branch_id)
    name = session.execute(text("SELECT name FROM branches WHERE id = :b"), {"b": branch}).scalar()
    if name is None:
        return "no such branch"
    scoped = TenantContext(tenant_id=ctx.tenant_id, role=ctx.role, branch_ids=frozenset({branch}))
    summary = unclaimed_summary(session, scoped, branch_id)
    if not summary.count:
        return "nothing unclaimed"
    fills = "fill waits" if summary.count == 1 else "fills wait"
    body = (
        f"{summary.count} {fills} at {name} for more than {summary.unclaimed_days} days after the final check "
        f"(the longest {summary.oldest_days} days): return them to stock under Prescriptions → Unclaimed.\n"
    )
    recipients = branch_mail_recipients(session, branch, (OWNER, MANAGER, PHARMACIST))
    subject = f"{name}: {summary.count} unclaimed {fills.split()[0]} for {period}"
    for address in recipients:  # one message per person on the queue: a retried job mails nobody twice
        queue_staff_message(
            session, ctx, kind=UNCLAIMED_REMINDER_JOB, address=address, subject=subject, body=body,
            dedupe_key=f"{UNCLAIMED_REMINDER_JOB}:{branch}:{period}:{address.lower()}",
        )  # fmt: skip
    return f"queued for {len(recipients)}"
