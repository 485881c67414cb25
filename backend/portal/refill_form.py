"""The portal's refill request form (issue 17 §2), the one entry both adapters (the page, the REST endpoint) call.

`ask_for_refill` checks the form, asks `match_prescription` whether it names one of the chain's prescriptions
and, only when it does, puts the request in the staff queue (`record_request`). What it returns never depends
on the match: every well-formed request gets `confirmation(chain)`, and the adapters send it no earlier than
the response floor (`backend.portal.abuse`), after the per-IP and per-Rx-number limits let it through.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import ValidationFailed
from backend.portal import abuse
from backend.portal.refill_requests import NOTE_LIMIT, record_request
from backend.portal.service import match_prescription
from backend.portal.statuses import RefillRequestSource
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

KIND = "refill"  # the abuse limits' name for these tries
OLDEST_BIRTH = date(1900, 1, 1)
_RX_NUMBER = re.compile(r"[A-Z0-9][A-Z0-9-]{0,39}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NAME = re.compile(r"[^\W\d_]+(?:[ '’.-]+[^\W\d_]+)*\.?")  # letters, with spaces, hyphens, apostrophes


@dataclass(frozen=True)
class RefillForm:
    """The form as typed or sent: every field a string (branch_id and note may be empty)."""

    rx_number: str
    date_of_birth: str
    last_name: str
    branch_id: str = ""
    note: str = ""


@dataclass(frozen=True)
class RefillAsk:
    """A well-formed form."""

    rx_number: str
    born: date
    last_name: str
    branch_id: str | None
    note: str


def confirmation(chain_name: str) -> str:
    """The one answer to every well-formed request, matched or not."""
    return (
        f"If these details match a prescription at {chain_name}, "
        "the pharmacy will contact you at the phone or e-mail on file."
    )


def normalized_rx_number(value: str) -> str:
    return "".join(str(value or "").split()).upper()


def form_errors(form: RefillForm, today: date | None = None) -> dict[str, str]:
    """What is wrong with each field, by field name (empty: the form is well formed)."""
    errors: dict[str, str] = {}
    number = normalized_rx_number(form.rx_number)
    if not number:
        errors["rx_number"] = "Enter the Rx number printed on your label."
    elif not _RX_NUMBER.fullmatch(number):
        errors["rx_number"] = "The Rx number has only letters, digits and hyphens, as on your label."
    born = _birth_date(form.date_of_birth, today or datetime.now(UTC).date())
    if isinstance(born, str):
        errors["date_of_birth"] = born
    name = " ".join(str(form.last_name or "").split())
    if not name:
        errors["last_name"] = "Enter your last name as on your label."
    elif len(name) > 100 or not _NAME.fullmatch(name):
        errors["last_name"] = "Enter your last name in letters, as on your label."
    if (form.branch_id or "").strip():
        try:
            uuid.UUID(form.branch_id.strip())
        except ValueError:
            errors["branch_id"] = "Choose one of the pharmacies in the list."
    if len((form.note or "").strip()) > NOTE_LIMIT:
        errors["note"] = f"Keep the note to {NOTE_LIMIT} characters."
    return errors


def _birth_date(value: str, today: date) -> date | str:
    text = str(value or "").strip()
    if not text:
        return "Enter your date of birth."
    if not _DATE.fullmatch(text):
        return "Enter your date of birth as YYYY-MM-DD, e.g. 1960-05-01."
    try:
        born = date.fromisoformat(text)
    except ValueError:
        return "That date does not exist: check the day and month."
    if not OLDEST_BIRTH <= born <= today:
        return "Check the year of your date of birth."
    return born


def parse_refill_form(form: RefillForm) -> RefillAsk:
    """The form as checked values; ValidationFailed naming the first wrong field (nothing is written)."""
    errors = form_errors(form)
    if errors:
        field, message = next(iter(errors.items()))
        raise ValidationFailed(message, field=field)
    born = _birth_date(form.date_of_birth, datetime.now(UTC).date())
    assert isinstance(born, date)
    return RefillAsk(
        rx_number=normalized_rx_number(form.rx_number),
        born=born,
        last_name=" ".join(form.last_name.split()),
        branch_id=form.branch_id.strip() or None,
        note=(form.note or "").strip(),
    )


def ask_for_refill(session: Session, ctx: TenantContext, form: RefillForm, source: RefillRequestSource) -> None:
    """A visitor's refill request: a row in the staff queue when the details name a prescription, else nothing.

    Returns nothing, on purpose: the caller answers `confirmation(...)` whatever happened. Counts the try in
    the chain's hourly volume; the first try past the soft threshold each hour leaves an audit event for the
    owner's dashboard (the request is still answered: there is no per-chain limit)."""
    require(ctx, "portal.request")
    ask = parse_refill_form(form)
    if abuse.chain_volume_alert(ctx.tenant_id):
        record_audit(session, ctx.tenant_id, abuse.CHAIN_ALERT_ACTION, details={"kind": KIND})
    found = match_prescription(session, ctx, ask.rx_number, ask.born, ask.last_name)
    if found is not None:
        record_request(session, ctx, found, ask.branch_id, ask.note, source)


@dataclass(frozen=True)
class VolumeAlert:
    occurred_at: datetime
    kind: str


def volume_alerts(session: Session, ctx: TenantContext, hours: int = 24) -> list[VolumeAlert]:
    """The owner's soft alerts of the last `hours`: hours in which the portal got more tries than usual."""
    require(ctx, "portal.alerts")
    rows = session.execute(
        text(
            "SELECT occurred_at, coalesce(details->>'kind', '') AS kind FROM audit_events WHERE tenant_id = :t "
            "AND occurred_at > now() - make_interval(hours => :h) AND action = :a ORDER BY occurred_at DESC LIMIT 24"
        ),
        {"t": ctx.tenant_id, "a": abuse.CHAIN_ALERT_ACTION, "h": hours},
    ).all()
    return [VolumeAlert(r.occurred_at, r.kind) for r in rows]
