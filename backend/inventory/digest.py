"""The daily expiry and low-stock digest of one branch, e-mailed to its managers and the chain's owners
through the notifications queue.

A scheduled job (backend/schedules): the tick writes it once per branch and local date. It names medicines,
lots and counts, never a patient: the alerts it reads (inventory/alerts.py) hold no patient data.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlmodel import Session

from backend.accounts.staff import branch_mail_recipients
from backend.inventory.alerts import AlertLine, stock_alerts
from backend.jobs.registry import job
from backend.notifications.staff import queue_staff_message
from tenants.context import TenantContext
from tenants.roles import MANAGER, OWNER

DIGEST_JOB = "inventory.daily_digest"
LINES_PER_SECTION = 50  # a long list is cut; the Alerts page has it all


def digest_recipients(session: Session, branch_id: uuid.UUID) -> list[str]:
    """The chain's owners and the managers of this branch."""
    return branch_mail_recipients(session, branch_id, (OWNER, MANAGER))


def _section(title: str, lines: list[AlertLine], describe: object) -> list[str]:
    if not lines:
        return []
    out = [f"{title} ({len(lines)}):"]
    out += [f"- {describe(line)}" for line in lines[:LINES_PER_SECTION]]  # type: ignore[operator]
    if len(lines) > LINES_PER_SECTION:
        out.append(f"- ... and {len(lines) - LINES_PER_SECTION} more (see Alerts)")
    return [*out, ""]


def digest_text(branch: str, period: str, ctx: TenantContext, session: Session) -> tuple[str, str] | None:
    """(subject, body) of the branch's digest, or None when there is nothing to report."""
    alerts = stock_alerts(session, ctx)
    body = [
        *_section("Low stock", alerts.low_stock, lambda a: f"{a.medicine}: {a.quantity} on hand ({a.detail})"),
        *_section(
            "Expiring",
            alerts.expiring,
            lambda a: f"{a.medicine}, lot {a.lot}: {a.quantity} units expire {a.expiry} ({a.detail})",
        ),
        *_section(
            "Expired, still on the shelf",
            alerts.expired_on_shelf,
            lambda a: f"{a.medicine}, lot {a.lot}: {a.quantity} units expired {a.expiry}",
        ),
        *_section(
            "Recalled, still in stock", alerts.recalled_in_stock, lambda a: f"{a.medicine}, lot {a.lot}: {a.quantity}"
        ),
    ]
    if not body:
        return None
    subject = f"{branch}: stock digest for {period}"
    return subject, "\n".join([f"Daily stock digest of {branch} for {period}.", "", *body]).rstrip() + "\n"


@job(DIGEST_JOB)
def send_daily_digest(session: Session, ctx: TenantContext, *, branch_id: str, period: str) -> str:
    """Queue one branch's digest for its managers and the owners (one message per person on the notifications
    queue, so a retried job mails nobody twice and each mail is in the delivery log). Nothing to report: no mail."""
    branch = uuid.UUID(branch_id)
    name = session.execute(text("SELECT name FROM branches WHERE id = :b"), {"b": branch}).scalar()
    if name is None:
        return "no such branch"
    scoped = TenantContext(tenant_id=ctx.tenant_id, role=ctx.role, branch_ids=frozenset({branch}))
    message = digest_text(name, period, scoped, session)
    if message is None:
        return "nothing to report"
    recipients = digest_recipients(session, branch)
    subject, body = message
    for address in recipients:
        queue_staff_message(
            session, ctx, kind=DIGEST_JOB, address=address, subject=subject, body=body,
            dedupe_key=f"{DIGEST_JOB}:{branch}:{period}:{address.lower()}",
        )  # fmt: skip
    return f"queued for {len(recipients)}"
