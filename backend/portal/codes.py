"""One-time codes that let a customer prove who they are on the portal (issue 17 §3).

1. `request_code`: Rx number + date of birth + last name. The page holds a random challenge (made by the
   adapter whatever happens); when the details name a prescription, a `customer_codes` row is written for
   the challenge's hash and an outbox job is queued; otherwise nothing is written. The customer's answer is
   the same either way (the adapter waits out a fixed floor), and the e-mail never goes from the request.
2. The job (`send_code`) mints the code (CODE_DIGITS digits from `secrets`), stores only its keyed hash
   (HMAC with the chain's index key, bound to the row) and queues it for the e-mail on file through
   `notifications.delivery.queue_patient_message` with a `disclosure` message (no medicine, no Rx number;
   the notifications queue delivers it, with retries). One message per code (its dedupe key); nothing is
   sent for a code already used, void or expired, and no e-mail on file writes a suppressed message.
3. `verify_code`: the challenge and the code typed. A code lives CODE_TTL_MINUTES; each wrong try counts,
   and the MAX_ATTEMPTS-th wrong try voids it. A right code is used once and opens a customer session.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import text
from sqlmodel import Session

from backend.core.tokens import token_hash
from backend.jobs.registry import job
from backend.jobs.service import enqueue_job
from backend.notifications.delivery import message_exists, queue_patient_message
from backend.notifications.disclosure import MessageKind, render
from backend.notifications.notify import Channel
from backend.notifications.templates import saved_template
from backend.patients.customer import code_contact
from backend.portal.service import match_prescription
from backend.protection.keys import chain_keys
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

CODE_DIGITS = 6
CODE_TTL_MINUTES = 10
MAX_ATTEMPTS = 5
SEND_JOB = "portal.send_code"
SENT_MESSAGE = "If the details match, a code was sent to the contact on file."


def new_challenge() -> str:
    """The random value the page keeps between asking for a code and typing it (made for every request)."""
    return secrets.token_urlsafe(32)


def request_code(
    session: Session, ctx: TenantContext, challenge: str, rx_number: str, born: date, surname: str
) -> None:
    """Queue a code to the contact on file when the details name a prescription; nothing otherwise.
    Returns nothing: the caller's answer must not depend on it."""
    require(ctx, "portal.match")
    found = match_prescription(session, ctx, rx_number, born, surname)
    if found is None:
        return
    code_id = uuid.uuid4()
    session.execute(
        text(
            "INSERT INTO customer_codes (tenant_id, id, challenge_hash, patient_id, prescription_id, expires_at) "
            "VALUES (:t, :id, :c, :p, :rx, now() + make_interval(mins => :ttl))"
        ),
        {
            "t": ctx.tenant_id, "id": code_id, "c": token_hash(challenge), "p": found.patient_id,
            "rx": found.id, "ttl": CODE_TTL_MINUTES,
        },
    )  # fmt: skip
    enqueue_job(session, TenantContext.system(ctx.tenant_id), SEND_JOB, code_id=str(code_id))


def _code_hash(session: Session, ctx: TenantContext, code_id: object, code: str) -> bytes:
    token = chain_keys(session, ctx.tenant_id).token("portal_code", f"{code_id}:{code}")
    assert token is not None
    return token


@job(SEND_JOB)
def send_code(session: Session, ctx: TenantContext, *, code_id: str) -> None:
    """Job: mint the code, keep its hash and queue its e-mail (nothing when the row is used, void or expired;
    a suppressed message when the patient has no e-mail on file)."""
    require(ctx, "patients.message")
    row = session.execute(
        text(
            "SELECT id, patient_id FROM customer_codes WHERE id = :id AND used_at IS NULL AND voided_at IS NULL "
            "AND expires_at > now() FOR UPDATE"
        ),
        {"id": uuid.UUID(code_id)},
    ).first()
    if row is None:
        return
    dedupe_key = f"portal.code:{row.id}"
    if message_exists(session, dedupe_key):
        return  # minted and queued already: its code stands
    to = code_contact(session, ctx, row.patient_id)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}" if to else "(not issued)"
    if to:  # no e-mail on file: no code is minted; the message is written suppressed, with the reason
        session.execute(
            text("UPDATE customer_codes SET code_hash = :h, sent_at = now() WHERE id = :id"),
            {"h": _code_hash(session, ctx, row.id, code), "id": row.id},
        )
    chain = session.execute(text("SELECT name FROM tenants WHERE id = :t"), {"t": ctx.tenant_id}).scalar_one()
    message = render(
        MessageKind.PORTAL_CODE, {"chain": chain, "code": code}, chain_allows=False, patient_consented=False,
        template=saved_template(session, MessageKind.PORTAL_CODE, detailed=False),  # the owner's wording, if any
    )  # fmt: skip
    # The customer asked for it themselves: no separate consent to be contacted is needed for their code.
    queue_patient_message(
        session, ctx, patient_id=row.patient_id, message=message, channel=Channel.EMAIL, address=to, consented=True,
        dedupe_key=dedupe_key,
    )  # fmt: skip


class CodeResult(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # not this code (or no code for this challenge: the page cannot tell which)
    VOID = "void"  # expired, used, or too many wrong tries: ask for a new code


@dataclass(frozen=True)
class Verified:
    result: CodeResult
    patient_id: uuid.UUID | None = None


def verify_code(session: Session, ctx: TenantContext, challenge: str, code: str) -> Verified:
    """Check a typed code against the challenge's row: the 5th wrong try voids it, a right one is spent."""
    require(ctx, "portal.match")
    typed = "".join(str(code or "").split())
    row = session.execute(
        text(
            "SELECT id, patient_id, code_hash, attempts, used_at, voided_at, expires_at <= now() AS expired "
            "FROM customer_codes WHERE challenge_hash = :c FOR UPDATE"
        ),
        {"c": token_hash(challenge or "")},
    ).first()
    if row is None:
        return Verified(CodeResult.WRONG)
    if row.used_at is not None or row.voided_at is not None or row.expired or row.code_hash is None:
        return Verified(CodeResult.VOID if row.code_hash is not None or row.expired else CodeResult.WRONG)
    if typed.isdigit() and len(typed) == CODE_DIGITS:
        if secrets.compare_digest(bytes(row.code_hash), _code_hash(session, ctx, row.id, typed)):
            session.execute(text("UPDATE customer_codes SET used_at = now() WHERE id = :id"), {"id": row.id})
            record_audit(session, ctx.tenant_id, "portal.customer_verified", entity_type="patient",
                         entity_id=str(row.patient_id))  # fmt: skip
            return Verified(CodeResult.OK, uuid.UUID(str(row.patient_id)))
    attempts = int(row.attempts) + 1
    session.execute(
        text(
            "UPDATE customer_codes SET attempts = :a, voided_at = CASE WHEN :a >= :most THEN now() END WHERE id = :id"
        ),
        {"a": attempts, "most": MAX_ATTEMPTS, "id": row.id},
    )
    return Verified(CodeResult.VOID if attempts >= MAX_ATTEMPTS else CodeResult.WRONG)
