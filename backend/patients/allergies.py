"""Structured allergies: each entry matched to an allergy class or a drug's ingredients (the text as typed
kept beside it), and the answer to "any allergies?" recorded: `none_known` (asked, none) is not
`not_asked`. The prescription DUR reads these entries when the patient was asked, else the free-text field.

Services take `(session, ctx, ...)`; each change writes an 'updated' row to the patient access log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.clinical.dur import read_allergen
from backend.core.errors import NotFound, ValidationFailed
from backend.patients.service import _IN_SCOPE, Patient, _log_access, _patient_key, _scope_params, create_patient
from backend.protection.keys import ChainKeys, chain_keys, reseal_rows
from tenants.context import TenantContext
from tenants.roles import require

MAX_ENTRIES = 30
MAX_TEXT = 200  # the allergy as written and the reaction (checked here: the sealed columns cannot be)
TABLE = "patient_allergies"
# The free text is sealed (issue 16): what was typed can name a person or a condition. `kind` and
# `matched` (an allergy class or an ingredient from the drug list) stay plain.
SEALED = ("written_enc", "reaction_enc")
STATUSES = ("not_asked", "none_known", "recorded")


@dataclass(frozen=True)
class AllergyEntry:
    written: str
    reaction: str
    kind: str  # class | ingredient | non_drug | unmatched
    matched: str  # what it was matched to ("penicillins", "cephalexin"); "" when not matched


@dataclass(frozen=True)
class Allergies:
    status: str  # not_asked | none_known | recorded
    entries: list[AllergyEntry]
    checked_at: datetime | None

    @property
    def label(self) -> str:
        if self.status == "none_known":
            return "No known allergies"
        if self.status == "not_asked":
            return "Not asked"
        return ", ".join(e.written for e in self.entries)


def _in_scope(session: Session, ctx: TenantContext, patient_id: object, *, lock: bool = False) -> uuid.UUID:
    key = _patient_key(patient_id)
    found = session.execute(
        text(f"SELECT p.id FROM patients p WHERE p.id = :p AND {_IN_SCOPE}" + (" FOR UPDATE OF p" if lock else "")),  # noqa: S608
        {"p": key, **_scope_params(ctx)},
    ).first()
    if found is None:
        raise NotFound("No such patient.")
    return key


def read_allergies(session: Session, key: uuid.UUID) -> Allergies:
    """A patient's allergies as recorded (no scope check or log: for a caller that made both)."""
    row = session.execute(
        text("SELECT tenant_id, allergy_status, allergies_checked_at FROM patients WHERE id = :p"), {"p": key}
    ).one()
    entries = session.execute(
        text(
            "SELECT id, written_enc, reaction_enc, kind, matched FROM patient_allergies WHERE patient_id = :p "
            "ORDER BY position"
        ),
        {"p": key},
    ).all()
    keys = chain_keys(session, row.tenant_id) if entries else None  # no entries: no key to unwrap
    opened = [_opened(keys, e) for e in entries] if keys is not None else []
    return Allergies(row.allergy_status, opened, row.allergies_checked_at)


def _opened(keys: ChainKeys, entry: Any) -> AllergyEntry:
    written = keys.open(TABLE, "written_enc", entry.id, entry.written_enc)
    reaction = keys.open(TABLE, "reaction_enc", entry.id, entry.reaction_enc)
    return AllergyEntry(written, reaction, entry.kind, entry.matched)


def reseal_allergies(session: Session, ctx: TenantContext, after: Any, limit: int) -> tuple[Any, int]:
    """One batch of a key rotation's re-encryption of the allergy entries."""
    require(ctx, "keys.rotate")
    return reseal_rows(session, chain_keys(session, ctx.tenant_id), TABLE, SEALED, after, limit)


def patient_allergies(session: Session, ctx: TenantContext, patient_id: str) -> Allergies:
    """The patient's structured allergies; logged as a view of the record."""
    require(ctx, "patients.view")
    key = _in_scope(session, ctx, patient_id)
    _log_access(session, ctx, "viewed", key)
    return read_allergies(session, key)


def allergies_with_record(session: Session, ctx: TenantContext, patient_id: str) -> Allergies:
    """The structured allergies shown on the record page, read right after the record's own logged opening
    (`get_patient`), so not logged a second time; the patient must be in scope."""
    require(ctx, "patients.view")
    return read_allergies(session, _in_scope(session, ctx, patient_id))


def record_allergies(
    session: Session, ctx: TenantContext, patient_id: str, entries: list[str] | str, *, none_known: bool = False
) -> Allergies:
    """Replace the patient's allergy list: one allergen per entry (a list, or text with one per line), each
    matched to a class or ingredients. `none_known` records that the patient was asked and has none (then
    there may be no entries). An empty list without `none_known` is refused: say which it is."""
    require(ctx, "patients.edit")
    key = _in_scope(session, ctx, patient_id, lock=True)
    typed = entries.splitlines() if isinstance(entries, str) else list(entries)
    written = [" ".join(str(e).split()) for e in typed if str(e).strip()]
    if len(written) > MAX_ENTRIES:
        raise ValidationFailed(f"At most {MAX_ENTRIES} allergies.", field="allergies")
    if any(len(w) > MAX_TEXT for w in written):
        raise ValidationFailed(f"One allergy has at most {MAX_TEXT} characters.", field="allergies")
    readings = [read_allergen(w) for w in written]
    if any(r.kind == "none_known" for r in readings):
        if len(readings) > 1:
            raise ValidationFailed(
                "“No known allergies” cannot stand beside allergies: remove one or the other.", field="allergies"
            )
        readings, none_known = [], True
    if none_known and readings:
        raise ValidationFailed("Either list the allergies or tick “no known allergies”, not both.", field="allergies")
    if not none_known and not readings:
        raise ValidationFailed("List the allergies, one a line, or tick “no known allergies”.", field="allergies")
    session.execute(text("DELETE FROM patient_allergies WHERE patient_id = :p"), {"p": key})
    keys = chain_keys(session, ctx.tenant_id)
    for position, reading in enumerate(readings):
        entry_id = uuid.uuid4()
        session.execute(
            text(
                "INSERT INTO patient_allergies (tenant_id, id, patient_id, position, written_enc, reaction_enc, kind, "
                "matched, recorded_by) VALUES (:t, :id, :p, :n, :w, :r, :k, :m, :u)"
            ),
            {
                "t": ctx.tenant_id,
                "id": entry_id,
                "p": key,
                "n": position,
                "w": keys.seal(TABLE, "written_enc", entry_id, reading.written[:MAX_TEXT]),
                "r": keys.seal(TABLE, "reaction_enc", entry_id, reading.reaction[:MAX_TEXT]),
                "k": reading.kind,
                "m": reading.matched[:MAX_TEXT],
                "u": ctx.user_id,
            },
        )
    status = "none_known" if none_known else "recorded"
    session.execute(
        text("UPDATE patients SET allergy_status = :s, allergies_checked_at = now(), updated_at = now() WHERE id = :p"),
        {"s": status, "p": key},
    )
    _log_access(session, ctx, "updated", key)
    return read_allergies(session, key)


def register_with_allergies(
    session: Session, ctx: TenantContext, *, allergies: str = "", none_known: bool = False, **fields: Any
) -> Patient:
    """Register a patient (the fields of `create_patient`) and record the answer to "any allergies?" in
    the same transaction: the entries typed (separated by commas or lines), "no known allergies", or, when
    neither is given, nothing (not asked). Bad input in either writes nothing."""
    entries = [p.strip() for p in allergies.replace(";", ",").replace("\n", ",").split(",") if p.strip()]
    patient = create_patient(session, ctx, allergies=", ".join(entries), **fields)
    if entries or none_known:
        record_allergies(session, ctx, patient.id, entries, none_known=none_known)
    return patient


def allergens_for_review(session: Session, key: uuid.UUID, free_text: str) -> tuple[list[str], str]:
    """What the DUR reads and how the screen states it: the structured entries when the patient was asked,
    else the free-text field (split at commas, semicolons and new lines)."""
    found = read_allergies(session, key)
    if found.status != "not_asked":
        return [e.written for e in found.entries], found.label
    pieces = [p.strip() for p in free_text.replace(";", ",").replace("\n", ",").split(",") if p.strip()]
    return pieces, ", ".join(pieces) if pieces else "Not asked"
