"""The monthly retention review as an outbox job: lists what is due into a batch for the owner to approve."""

from __future__ import annotations

from sqlmodel import Session

from backend.jobs.registry import job
from backend.retention.service import REVIEW_JOB, patients_text, review_disposals
from tenants.context import TenantContext


@job(REVIEW_JOB)
def run_review(session: Session, ctx: TenantContext) -> str:
    """List the chain's records due for disposal (a new batch supersedes the one waiting). Idempotent in
    effect: running it twice leaves one batch waiting, with the same patients."""
    batch = review_disposals(session, ctx)
    return f"{patients_text(batch.item_count)} due for disposal"
