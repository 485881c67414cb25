"""Patient records: chain-wide, seen within the member's branch scope, every access logged.

- A patient belongs to the chain, not to a branch, but has a home branch. A member limited to some
  branches (`TenantContext.branch_ids`) sees a patient whose home branch is one of them, or who has a
  bill at one of them (bought there, or is being served there: `bills.patient_id`). A member with
  no branch limits sees every patient of the chain. Outside the scope a record does not exist (404),
  the same answer as for an id of another chain.
- `patients.lookup` (every staff role, the counter) finds patients by name, phone or date of birth and
  gets only their name and date of birth; the record itself (contact details, allergies, notes) needs
  `patients.view`, changing it `patients.edit`, and its access log `patients.audit`.
- Every opening, creation and change of a record, and every search, writes a `patient_access_log` row
  in the same transaction (a search is one row, whatever it lists). The app role cannot update or
  delete those rows.
- Nothing here logs a name, date of birth or contact detail: the access log in the database is the
  record of who saw what, under row-level security.
- Identifiers are stored sealed (AES-GCM with the chain's data key, backend/patients/identity.py) and
  found through blind indexes: a name search needs the first three letters of the last name, a phone
  search the whole number or its last four digits, a date of birth the exact date. Candidates are
  decrypted and filtered here, and lists sorted by name here (the database cannot read names).
  Other domains get names and dates of birth through `identities`, never by SQL into `patients`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import NotFound, ValidationFailed
from backend.patients import identity
from backend.protection.keys import ChainKeys, chain_keys, reseal_rows
from tenants.context import TenantContext
from tenants.roles import require, role_has

PAGE_SIZE = 25
ACCESS_LOG_LIMIT = 200
MIN_LOOKUP_CHARACTERS = 2
EARLIEST_BIRTH = date(1900, 1, 1)
# The record's free-text fields and their limits (the migration's checks say the same).
TEXT_LIMITS = {"address": 500, "allergies": 2000, "notes": 4000}

_PHONE_SEPARATORS = re.compile(r"[\s\-.()/]")
_PHONE = re.compile(r"^\+?\d{6,15}$")
_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s]{{1,64}}@{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Branch scope as SQL over `patients p`: bound with `_scope_params(ctx)`.
_IN_SCOPE = (
    "(CAST(:all_branches AS boolean) OR p.home_branch_id = ANY(CAST(:scope AS uuid[])) "
    "OR EXISTS (SELECT 1 FROM bills b WHERE b.tenant_id = p.tenant_id AND b.patient_id = p.id "
    "AND b.branch_id = ANY(CAST(:scope AS uuid[]))))"
)
_RECORD_SQL = (
    "SELECT p.*, br.name AS home_branch_name FROM patients p "  # noqa: S608 - fixed SQL
    "JOIN branches br ON br.tenant_id = p.tenant_id AND br.id = p.home_branch_id "
    f"WHERE p.id = :p AND {_IN_SCOPE}"
)


@dataclass(frozen=True)
class PatientSummary:
    """What a search answers, and all a cashier gets: enough to pick the right person."""

    id: str
    full_name: str
    date_of_birth: date


@dataclass(frozen=True)
class PatientPage:
    items: list[PatientSummary]
    page: int
    has_more: bool


@dataclass(frozen=True)
class Patient:
    id: str
    full_name: str
    date_of_birth: date
    phone: str
    email: str
    address: str
    allergies: str
    notes: str
    contact_consent: bool
    consent_at: datetime | None
    home_branch_id: str
    home_branch_name: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AccessEntry:
    occurred_at: datetime
    action: str
    who: str
    reason: str = ""  # why it was seen, when not an ordinary opening ("recall trace")


@dataclass(frozen=True)
class _Fields:
    """A record as typed, checked and normalized."""

    full_name: str
    date_of_birth: date
    phone: str
    email: str
    address: str
    allergies: str
    notes: str
    contact_consent: bool
    home_branch_id: uuid.UUID


# --- checking input -----------------------------------------------------------------------------


def _single_line(value: object) -> str:
    return " ".join(str(value or "").replace("\x00", "").split())


def _full_name(value: object) -> str:
    name = _single_line(value)
    if not name:
        raise ValidationFailed("Enter the patient's full name.", field="full_name")
    if len(name) > 120:
        raise ValidationFailed("A name has at most 120 characters.", field="full_name")
    return name


def _iso_date(value: object) -> date | None:
    typed = str(value or "").strip()
    if not _ISO_DATE.match(typed):
        return None
    try:
        return date.fromisoformat(typed)
    except ValueError:
        return None


def _birth_date(value: object, today: date) -> date:
    born = value.date() if isinstance(value, datetime) else value if isinstance(value, date) else _iso_date(value)
    if born is None:
        raise ValidationFailed("Enter the date of birth as YYYY-MM-DD.", field="date_of_birth")
    if born > today:
        raise ValidationFailed("The date of birth cannot be in the future.", field="date_of_birth")
    if born < EARLIEST_BIRTH:
        raise ValidationFailed("Check the date of birth: it is before 1900.", field="date_of_birth")
    return born


def _phone(value: object) -> str:
    """Digits with an optional leading +, so a search by any part of the number finds it."""
    typed = str(value or "").strip()
    if not typed:
        return ""
    phone = _PHONE_SEPARATORS.sub("", typed)
    if not _PHONE.match(phone):
        raise ValidationFailed(
            "A phone number has 6 to 15 digits, optionally starting with +; spaces, dashes and brackets are fine.",
            field="phone",
        )
    return phone


def _email(value: object) -> str:
    typed = str(value or "").strip()
    if not typed:
        return ""
    if len(typed) > 254 or not _EMAIL.match(typed):
        raise ValidationFailed("Enter an e-mail address such as name@example.com.", field="email")
    local, _, domain = typed.rpartition("@")
    return f"{local}@{domain.lower()}"


def _free_text(value: object, field: str) -> str:
    typed = str(value or "").replace("\x00", "").strip()
    if len(typed) > TEXT_LIMITS[field]:
        raise ValidationFailed(f"At most {TEXT_LIMITS[field]:,} characters here.", field=field)
    return typed


def _flag(value: object) -> bool:
    """A checkbox from a form ("on"), JSON (true) or a CLI ("yes")."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "on", "yes"}


def _checked(
    session: Session, ctx: TenantContext, typed: Mapping[str, Any], *, current_home: uuid.UUID | None = None
) -> _Fields:
    """Every field checked before anything is written: bad input changes nothing."""
    branch_id, time_zone = _home_branch(session, ctx, typed.get("home_branch_id"), current_home)
    fields = _Fields(
        full_name=_full_name(typed.get("full_name")),
        date_of_birth=_birth_date(typed.get("date_of_birth"), datetime.now(ZoneInfo(time_zone)).date()),
        phone=_phone(typed.get("phone")),
        email=_email(typed.get("email")),
        address=_free_text(typed.get("address"), "address"),
        allergies=_free_text(typed.get("allergies"), "allergies"),
        notes=_free_text(typed.get("notes"), "notes"),
        contact_consent=_flag(typed.get("contact_consent")),
        home_branch_id=branch_id,
    )
    if fields.contact_consent and not (fields.phone or fields.email):
        raise ValidationFailed(
            "Consent to be contacted needs a phone number or an e-mail address to contact.", field="contact_consent"
        )
    return fields


def _home_branch(
    session: Session, ctx: TenantContext, value: object, current_home: uuid.UUID | None
) -> tuple[uuid.UUID, str]:
    """The branch id and its time zone (whose local today bounds the date of birth).

    A member limited to some branches registers patients only in them (elsewhere they could not see
    them), but may keep the home branch of a patient they see because the patient bought at theirs.
    """
    try:
        branch_id = uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed("Choose the patient's home branch.", field="home_branch_id") from None
    time_zone = session.execute(text("SELECT time_zone FROM branches WHERE id = :b"), {"b": branch_id}).scalar()
    if time_zone is None or not (ctx.can_see_branch(branch_id) or branch_id == current_home):
        raise ValidationFailed("Choose one of your branches as the home branch.", field="home_branch_id")
    return branch_id, str(time_zone)


def _patient_key(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("No such patient.") from None


# --- scope and the access log -----------------------------------------------------------------


def _scope_params(ctx: TenantContext) -> dict[str, Any]:
    return {"all_branches": not ctx.branch_ids, "scope": sorted(ctx.branch_ids)}


def _log_access(
    session: Session, ctx: TenantContext, action: str, patient_id: uuid.UUID | None, reason: str = ""
) -> None:
    session.execute(
        text(
            "INSERT INTO patient_access_log (tenant_id, patient_id, user_id, action, reason) "
            "VALUES (:t, :p, :u, :a, :r)"
        ),
        {"t": ctx.tenant_id, "p": patient_id, "u": ctx.user_id, "a": action, "r": reason},
    )


def log_viewed(session: Session, ctx: TenantContext, patient_ids: list[str], reason: str) -> None:
    """Write one 'viewed' row per patient another domain is about to show (a recall trace lists who
    received a lot), with the reason the owner reads in the access log. Same transaction as the read."""
    require(ctx, "patients.view")
    keys = list(dict.fromkeys(_patient_key(p) for p in patient_ids))  # once each, in the order listed
    if not keys:
        return
    session.execute(
        text(
            "INSERT INTO patient_access_log (tenant_id, patient_id, user_id, action, reason) "
            "SELECT :t, p, :u, 'viewed', :r FROM unnest(CAST(:ids AS uuid[])) WITH ORDINALITY AS x(p, n) ORDER BY n"
        ),
        {"t": ctx.tenant_id, "u": ctx.user_id, "r": reason[:100], "ids": keys},
    )


def _visible(session: Session, ctx: TenantContext, patient_id: uuid.UUID) -> bool:
    found = session.execute(
        text(f"SELECT 1 FROM patients p WHERE p.id = :p AND {_IN_SCOPE}"),  # noqa: S608 - fixed SQL
        {"p": patient_id, **_scope_params(ctx)},
    ).first()
    return found is not None


def _load(session: Session, ctx: TenantContext, patient_id: uuid.UUID) -> Patient:
    row = session.execute(
        text(_RECORD_SQL),
        {"p": patient_id, **_scope_params(ctx)},
    ).first()
    if row is None:
        raise NotFound("No such patient.")
    plain = identity.opened(_keys(session, ctx), row)
    return Patient(
        id=str(row.id),
        **plain,
        contact_consent=row.contact_consent,
        consent_at=row.consent_at,
        home_branch_id=str(row.home_branch_id),
        home_branch_name=row.home_branch_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# --- searching ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Search:
    """A search as blind-index conditions (SQL) and the name words (as indexed: folded, letters only) the
    decrypted names must contain."""

    conditions: list[str]
    params: dict[str, Any]
    name_words: list[str]
    whole_names: list[bytes]  # tokens of the name words long enough to be a whole last name
    prefixes: list[bytes]  # tokens of the name words' first three letters


def _search(keys: ChainKeys, query: str) -> _Search:
    """Each word narrows the search: a YYYY-MM-DD date is the date of birth, digits the whole phone number
    or its last four digits, anything else a name word (any of them may be the last name). Names are found
    by the whole last name (words of 4+ letters) or else by its first three letters, then filtered here:
    every name word in the decrypted name."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    prefixes: list[bytes] = []
    whole_names: list[bytes] = []
    name_words: list[str] = []
    whole = _PHONE_SEPARATORS.sub("", query)
    typed_date = any(_ISO_DATE.match(word) for word in query.split())
    # A phone number typed with spaces ("+1 555 010 0100") is one number, not four words.
    words = [whole] if not typed_date and re.fullmatch(r"\+?\d{4,15}", whole) else query.split()[:8]
    for index, word in enumerate(words):
        name = f"w{index}"
        digits = _PHONE_SEPARATORS.sub("", word)
        if _ISO_DATE.match(word):
            born = _iso_date(word)
            if born is None:
                raise ValidationFailed("Search a date of birth as YYYY-MM-DD.", field="q")
            params[name] = keys.token("date_of_birth", born)
            conditions.append(f"p.dob_bidx = :{name}")
        elif re.fullmatch(r"\+?\d{3,15}", digits):
            number = identity.phone_digits(digits)
            if len(number) == 4:
                params[name] = keys.token("phone_last4", number)
                conditions.append(f"p.phone4_bidx = :{name}")
            elif len(number) >= 6:
                params[name] = keys.token("phone", number)
                conditions.append(f"p.phone_bidx = :{name}")
            else:
                raise ValidationFailed("Search a phone number by all its digits or by its last four.", field="q")
        elif letters := identity.name_word(word):
            prefixes.append(keys.token("last_name_prefix", letters[: identity.PREFIX_LETTERS]) or b"")
            if len(letters) > identity.PREFIX_LETTERS:
                whole_names.append(keys.token("last_name", letters) or b"")
            name_words.append(letters)
        else:
            conditions.append("false")  # "100%": no name, number or date can match it
    return _Search(conditions, params, name_words, whole_names, prefixes)


def _keys(session: Session, ctx: TenantContext) -> ChainKeys:
    return chain_keys(session, ctx.tenant_id)


def _matching_rows(
    session: Session, ctx: TenantContext, query: str, *, scoped: bool = True
) -> list[tuple[uuid.UUID, str]]:
    """(id, name) of the patients (in scope) a search finds, decrypted, filtered by the name words and sorted
    by name (case-insensitive; ties by id, the date of birth is decrypted only for a page: `_page`)."""
    keys = _keys(session, ctx)
    search = _search(keys, query)
    # A whole last name typed ("garcia") is looked up exactly first; when no last name is that word (it is
    # a first name, or part of a name), the first three letters of each word find the candidates.
    rows = []
    if search.whole_names:
        rows = _candidates(session, ctx, search, "p.name_bidx = ANY(:whole_names)", scoped)
    exact = bool(rows)
    if not rows:
        rows = _candidates(session, ctx, search, "p.name3_bidx = ANY(:prefixes)" if search.prefixes else "", scoped)
    # One word that was the whole last name, or its first letters: every candidate has it already.
    words = search.name_words
    filtered = len(words) > 1 or (len(words) == 1 and not exact and len(words[0]) > identity.PREFIX_LETTERS)
    named = []
    for row in rows:
        full_name = keys.open(identity.TABLE, "full_name_enc", row.id, row.full_name_enc)
        if not filtered or all(word in identity.name_words(full_name) for word in words):
            named.append((row.id, full_name))
    named.sort(key=lambda n: (n[1].lower(), n[0]))
    return named


def _candidates(session: Session, ctx: TenantContext, search: _Search, by_name: str, scoped: bool) -> list[Any]:
    where = " AND ".join(c for c in [_IN_SCOPE if scoped else "true", *search.conditions, by_name] if c)
    return list(
        session.execute(
            text(f"SELECT p.id, p.full_name_enc FROM patients p WHERE {where}"),  # noqa: S608 - fixed SQL
            {**search.params, **_scope_params(ctx), "whole_names": search.whole_names, "prefixes": search.prefixes},
        ).all()
    )


def _page(session: Session, keys: ChainKeys, named: list[tuple[uuid.UUID, str]], start: int) -> list[PatientSummary]:
    """One page of `named` (sorted by name) as summaries ordered by name, then date of birth: the dates of
    birth are decrypted for the page and for the namesakes on either side of its edges only."""
    if start >= len(named):
        return []
    first, last = start, min(start + PAGE_SIZE, len(named)) - 1
    while first > 0 and named[first - 1][1].lower() == named[first][1].lower():
        first -= 1
    while last + 1 < len(named) and named[last + 1][1].lower() == named[last][1].lower():
        last += 1
    window = named[first : last + 1]
    sealed_births = dict(
        session.execute(
            text("SELECT id, date_of_birth_enc FROM patients WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": [key for key, _ in window]},
        ).all()
    )
    born = {key: keys.open(identity.TABLE, "date_of_birth_enc", key, sealed_births[key]) for key, _ in window}
    items = [PatientSummary(str(key), full_name, date.fromisoformat(born[key])) for key, full_name in window]
    items.sort(key=lambda p: (p.full_name.lower(), p.date_of_birth, p.id))
    return items[start - first : start - first + PAGE_SIZE]


# What a search can find, said wherever a search finds nobody (names are sealed: only these are indexed).
SEARCH_HINT = (
    "Search by last name (or its first three letters), phone number or its last four digits, or date of birth."
)


def find_patients(session: Session, ctx: TenantContext, query: str = "", *, page: int = 0) -> PatientPage:
    """Patients in the member's scope matching a name, phone or date of birth, by name; one page.

    Answers name and date of birth only (`patients.lookup`, the counter too). An empty search lists
    everyone in scope, for members who may open records; others must type at least 2 characters.
    One 'searched' row goes to the access log per search.
    """
    require(ctx, "patients.lookup")
    query = _single_line(query)[:100]
    if len(query) < MIN_LOOKUP_CHARACTERS and not role_has(ctx.role, "patients.view"):
        raise ValidationFailed("Type at least 2 characters of the name, phone or date of birth.", field="q")
    page = max(0, int(page))
    found = _matching_rows(session, ctx, query)
    _log_access(session, ctx, "searched", None)
    start = page * PAGE_SIZE
    return PatientPage(_page(session, _keys(session, ctx), found, start), page, len(found) > start + PAGE_SIZE)


def patient_summary(session: Session, ctx: TenantContext, patient_id: str) -> PatientSummary:
    """Name and date of birth of one patient in scope (the counter showing who a draft is for).

    Not logged: it shows no more than the search that picked the patient did.
    """
    require(ctx, "patients.lookup")
    key = _patient_key(patient_id)
    return _summary_in_scope(session, ctx, key)


def _summary_in_scope(session: Session, ctx: TenantContext, key: uuid.UUID) -> PatientSummary:
    row = session.execute(
        text(
            "SELECT p.id, p.full_name_enc, p.date_of_birth_enc FROM patients p "  # noqa: S608 - fixed SQL
            f"WHERE p.id = :p AND {_IN_SCOPE}"
        ),
        {"p": key, **_scope_params(ctx)},
    ).first()
    if row is None:
        raise NotFound("No such patient.")
    plain = identity.opened(_keys(session, ctx), row, ("full_name", "date_of_birth"))
    return PatientSummary(str(row.id), plain["full_name"], plain["date_of_birth"])


# --- the record ---------------------------------------------------------------------------------


def get_patient(session: Session, ctx: TenantContext, patient_id: str) -> Patient:
    """The full record; opening it writes a 'viewed' access-log row in the same transaction."""
    require(ctx, "patients.view")
    key = _patient_key(patient_id)
    patient = _load(session, ctx, key)
    _log_access(session, ctx, "viewed", key)
    return patient


_STORED = (*identity.SEALED.values(), *identity.INDEXES)


def _bound(session: Session, ctx: TenantContext, patient_id: uuid.UUID, fields: _Fields) -> dict[str, Any]:
    """The statement's parameters: identifiers sealed and indexed, the rest as checked."""
    return {
        **identity.stored(_keys(session, ctx), patient_id, vars(fields)),
        "contact_consent": fields.contact_consent,
        "home_branch_id": fields.home_branch_id,
    }


def create_patient(session: Session, ctx: TenantContext, **typed: Any) -> Patient:
    """A new record from full_name, date_of_birth, home_branch_id and optionally phone, email,
    address, allergies, notes and contact_consent. Bad input raises ValidationFailed naming the
    field and writes nothing; the 'created' access-log row commits with the record."""
    require(ctx, "patients.edit")
    fields = _checked(session, ctx, typed)
    patient_id = uuid.uuid4()
    session.execute(
        text(
            f"INSERT INTO patients (tenant_id, id, {', '.join(_STORED)}, contact_consent, consent_at, "  # noqa: S608
            f"home_branch_id, created_by) VALUES (:t, :id, {', '.join(':' + c for c in _STORED)}, :contact_consent, "
            "CASE WHEN :contact_consent THEN now() END, :home_branch_id, :u)"
        ),
        {"t": ctx.tenant_id, "id": patient_id, "u": ctx.user_id, **_bound(session, ctx, patient_id, fields)},
    )
    _log_access(session, ctx, "created", patient_id)
    return _load(session, ctx, patient_id)


def update_patient(session: Session, ctx: TenantContext, patient_id: str, **typed: Any) -> Patient:
    """Replace every field of a record in scope (the same fields as creating it).

    Consent keeps the moment it was first given while it stays given; withdrawing it clears it.
    """
    require(ctx, "patients.edit")
    key = _patient_key(patient_id)
    current_home = session.execute(
        text(f"SELECT p.home_branch_id FROM patients p WHERE p.id = :p AND {_IN_SCOPE} FOR UPDATE OF p"),  # noqa: S608
        {"p": key, **_scope_params(ctx)},
    ).scalar()
    if current_home is None:
        raise NotFound("No such patient.")
    fields = _checked(session, ctx, typed, current_home=current_home)
    session.execute(
        text(
            f"UPDATE patients SET {', '.join(f'{c} = :{c}' for c in _STORED)}, "  # noqa: S608 - fixed SQL
            "contact_consent = :contact_consent, "
            "consent_at = CASE WHEN :contact_consent THEN coalesce(consent_at, now()) END, "
            "home_branch_id = :home_branch_id, updated_at = now() WHERE id = :id"
        ),
        {"id": key, **_bound(session, ctx, key, fields)},
    )
    _log_access(session, ctx, "updated", key)
    return _load(session, ctx, key)


def access_log(session: Session, ctx: TenantContext, patient_id: str) -> list[AccessEntry]:
    """Who opened, created or changed a record and when, newest first (owners and managers)."""
    require(ctx, "patients.audit")
    key = _patient_key(patient_id)
    if not _visible(session, ctx, key):
        raise NotFound("No such patient.")
    rows = session.execute(
        text(
            "SELECT l.occurred_at, l.action, l.reason, CASE WHEN l.actor = 'customer' THEN 'the patient (portal)' "
            "ELSE coalesce(u.full_name, 'an API token') END AS who "
            "FROM patient_access_log l LEFT JOIN users u ON u.id = l.user_id "
            "WHERE l.patient_id = :p ORDER BY l.id DESC LIMIT :limit"
        ),
        {"p": key, "limit": ACCESS_LOG_LIMIT},
    ).all()
    return [AccessEntry(r.occurred_at, r.action, r.who, r.reason) for r in rows]


# --- a patient's purchases ----------------------------------------------------------------------
# What a patient bought is part of their record (it says what they take), so the bills list asks here
# before it filters by patient: the same permission as opening the record, and the same access log.


def patient_for_history(
    session: Session, ctx: TenantContext, patient_id: object, *, reason: str = ""
) -> PatientSummary:
    """The patient whose bills (or medicines) are about to be listed, in the member's scope; logged as
    'viewed' with the reason, if any (the assistant's medication list says so).

    Raises NotFound outside the scope, as opening the record would. The row commits with the read.
    """
    require(ctx, "patients.view")
    key = _patient_key(patient_id)
    summary = _summary_in_scope(session, ctx, key)
    _log_access(session, ctx, "viewed", key, reason[:100])
    return summary


def patients_matching(
    session: Session, ctx: TenantContext, query: str, *, limit: int, field: str = "patient_name"
) -> list[uuid.UUID]:
    """Ids of the patients in scope a search (name, phone or date of birth, as `find_patients`) finds.

    For listing their bills, so it needs `patients.view`; one 'searched' row per search. More than
    `limit` matches is refused (type more of the name) rather than quietly cut off.
    """
    require(ctx, "patients.view")
    query = _single_line(query)[:100]
    if len(query) < MIN_LOOKUP_CHARACTERS:
        raise ValidationFailed("Type at least 2 characters of the patient's name, phone or date of birth.", field=field)
    ids = [key for key, _ in _matching_rows(session, ctx, query)]
    _log_access(session, ctx, "searched", None)
    if len(ids) > limit:
        raise ValidationFailed(
            f"More than {limit} patients match; type more of the name, or a phone number or date of birth.",
            field=field,
        )
    return list(ids)


# --- identities for other domains -----------------------------------------------------------------
# Prescriptions, claims, labels and reports show who a record is for; the names are sealed, so they ask
# here (one query, decrypted here) instead of joining `patients` in their SQL.


@dataclass(frozen=True)
class PatientIdentity:
    """Who a patient is, as another domain's screen or report shows them. Contact details only on request."""

    id: str
    full_name: str
    date_of_birth: date
    phone: str = ""
    email: str = ""
    contact_consent: bool = False

    @property
    def sort_key(self) -> tuple[str, date, str]:
        return (self.full_name.lower(), self.date_of_birth, self.id)


def identities(
    session: Session, ctx: TenantContext, patient_ids: Any, *, contact: bool = False
) -> dict[uuid.UUID, PatientIdentity]:
    """Names and dates of birth (and phone, e-mail and consent with `contact`) of the given patients,
    keyed by id. For rows the caller may already list (its own permission checked): no scope check and
    no access-log row here; the caller logs views where its screen is a view of the record."""
    require(ctx, "patients.lookup")
    keys_wanted = sorted({_patient_key(p) for p in patient_ids if p is not None})
    if not keys_wanted:
        return {}
    fields = ("full_name", "date_of_birth", *(("phone", "email") if contact else ()))
    columns = ", ".join(identity.SEALED[f] for f in fields)
    rows = session.execute(
        text(f"SELECT id, contact_consent, {columns} FROM patients WHERE id = ANY(CAST(:ids AS uuid[]))"),  # noqa: S608
        {"ids": keys_wanted},
    ).all()
    keys = _keys(session, ctx)
    return {
        row.id: PatientIdentity(
            str(row.id), **identity.opened(keys, row, fields), contact_consent=bool(row.contact_consent)
        )
        for row in rows
    }


def identity_of(session: Session, ctx: TenantContext, patient_id: Any, *, contact: bool = False) -> PatientIdentity:
    """`identities` for one patient (NotFound when there is none)."""
    found = identities(session, ctx, [patient_id], contact=contact)
    if not found:
        raise NotFound("No such patient.")
    return next(iter(found.values()))


def allergies_as_written(session: Session, ctx: TenantContext, patient_id: Any) -> str:
    """The record's free-text allergies (drug review reads them beside the structured ones)."""
    require(ctx, "patients.lookup")
    key = _patient_key(patient_id)
    sealed_text = session.execute(text("SELECT allergies_enc FROM patients WHERE id = :p"), {"p": key}).scalar()
    if sealed_text is None:
        raise NotFound("No such patient.")
    return _keys(session, ctx).open(identity.TABLE, "allergies_enc", key, sealed_text)


def ids_named(session: Session, ctx: TenantContext, query: str) -> list[uuid.UUID]:
    """Ids of the chain's patients a name, phone or date-of-birth search finds, for another domain's search
    box that also matches other things (a prescription number) and lists only its own rows the member
    may see (a branch's queue): the ids alone show nobody, so neither branch scope nor log applies."""
    require(ctx, "patients.lookup")
    query = _single_line(query)[:100]
    if len(query) < MIN_LOOKUP_CHARACTERS:
        return []
    try:
        return [key for key, _ in _matching_rows(session, ctx, query, scoped=False)]
    except ValidationFailed:
        return []  # e.g. three digits: not a phone search, maybe a prescription number


def reseal_patients(session: Session, ctx: TenantContext, after: Any, limit: int) -> tuple[Any, int]:
    """One batch of a key rotation's re-encryption of the records (`pharmacy-saas keys rotate --reencrypt`)."""
    require(ctx, "keys.rotate")
    return reseal_rows(session, _keys(session, ctx), identity.TABLE, tuple(identity.SEALED.values()), after, limit)


# --- linking a bill -----------------------------------------------------------------------------


def patient_for_bill(session: Session, ctx: TenantContext, patient_id: object) -> uuid.UUID | None:
    """The patient a bill is sold to (None: a walk-in customer), checked inside the billing transaction.

    Only a patient the member could find may be linked: linking gives the branch sight of the record.
    """
    if patient_id in (None, ""):
        return None
    require(ctx, "patients.lookup")
    try:
        key = uuid.UUID(str(patient_id))
    except ValueError:
        raise ValidationFailed("No such patient.", field="patient_id") from None
    if not _visible(session, ctx, key):
        raise ValidationFailed("No such patient.", field="patient_id")
    return key


# --- a patient's own copy (issue 16, section 4) -------------------------------------------------
# The copy is one read of the whole record: one 'viewed' row with its reason, not one per part read.

COPY_REASON = "patient's own copy"


def record_for_copy(session: Session, ctx: TenantContext, patient_id: str) -> tuple[Patient, list[AccessEntry]]:
    """The full record and its whole access log, oldest first, for the patient's own copy (owners).

    The production is written to the access log first (reason "patient's own copy"), so the copy shows
    it too. Raises NotFound outside the member's scope.
    """
    require(ctx, "patients.copy")
    key = _patient_key(patient_id)
    patient = _load(session, ctx, key)
    _log_access(session, ctx, "viewed", key, COPY_REASON)
    rows = session.execute(
        text(
            "SELECT l.occurred_at, l.action, l.reason, CASE WHEN l.actor = 'customer' THEN 'the patient (portal)' "
            "ELSE coalesce(u.full_name, 'an API token') END AS who "
            "FROM patient_access_log l LEFT JOIN users u ON u.id = l.user_id WHERE l.patient_id = :p ORDER BY l.id"
        ),
        {"p": key},
    ).all()
    return patient, [AccessEntry(r.occurred_at, r.action, r.who, r.reason) for r in rows]


# --- records retention (issue 16, section 3) ----------------------------------------------------
# The retention review reads when each record was made and last changed and the date of birth (a minor's
# records are kept longer); an approved disposal removes the patient's identity here, while the rows
# that point at the patient (prescriptions, fills, bills, claims, the access log) stay for the totals.

DISPOSED_NAME = "Disposed patient"


@dataclass(frozen=True)
class RetentionDates:
    patient_id: str
    created_at: datetime
    updated_at: datetime
    date_of_birth: date


def retention_dates(session: Session, ctx: TenantContext) -> list[RetentionDates]:
    """Every patient of the chain with the dates the retention review needs (the review leaves out those
    it already disposed of: it keeps that list)."""
    require(ctx, "retention.review")
    keys = _keys(session, ctx)
    rows = session.execute(text("SELECT id, created_at, updated_at, date_of_birth_enc FROM patients")).all()
    return [
        RetentionDates(
            str(r.id), r.created_at, r.updated_at, identity.opened(keys, r, ("date_of_birth",))["date_of_birth"]
        )
        for r in rows
    ]


def anonymise_patient(session: Session, ctx: TenantContext, patient_id: str) -> None:
    """Remove a patient's identity for an approved disposal: the name becomes "Disposed patient", the date
    of birth keeps only its year (age bands in reports), contact details, consent, free-text allergies,
    notes and the structured allergies go. The record's id stays, so what points at it still adds up.

    Written to the access log as 'updated' with the reason, in the disposal's transaction."""
    anonymise_patients(session, ctx, [patient_id])


def anonymise_patients(session: Session, ctx: TenantContext, patient_ids: list[str]) -> None:
    """`anonymise_patient` for many at once, in a few statements (a batch may hold tens of thousands)."""
    require(ctx, "retention.dispose")
    keys = [_patient_key(p) for p in patient_ids]
    params = {"ids": keys}
    _seal_disposed(session, ctx, keys)
    session.execute(text("DELETE FROM patient_allergies WHERE patient_id = ANY(CAST(:ids AS uuid[]))"), params)
    session.execute(
        text(
            "INSERT INTO patient_access_log (tenant_id, patient_id, user_id, action, reason) "
            "SELECT :t, p, :u, 'updated', 'records disposed (retention)' FROM unnest(CAST(:ids AS uuid[])) AS x(p)"
        ),
        {"t": ctx.tenant_id, "u": ctx.user_id, "ids": keys},
    )


def _seal_disposed(session: Session, ctx: TenantContext, patient_ids: list[uuid.UUID]) -> None:
    """Every disposed record's identifiers replaced, sealed and indexed like any other value (the year of
    birth kept), in one statement per thousand records."""
    chain = _keys(session, ctx)
    for start in range(0, len(patient_ids), DISPOSAL_BATCH):
        batch = patient_ids[start : start + DISPOSAL_BATCH]
        rows = session.execute(
            text("SELECT id, date_of_birth_enc FROM patients WHERE id = ANY(CAST(:ids AS uuid[])) FOR UPDATE"),
            {"ids": batch},
        ).all()
        columns: dict[str, list[Any]] = {"id": []}
        for row in rows:
            born = identity.opened(chain, row, ("date_of_birth",))["date_of_birth"]
            disposed: dict[str, Any] = {field: "" for field in identity.SEALED}
            disposed |= {"full_name": DISPOSED_NAME, "date_of_birth": date(born.year, 1, 1)}
            columns["id"].append(row.id)
            for column, value in identity.stored(chain, row.id, disposed).items():
                columns.setdefault(column, []).append(value)
        if not rows:
            continue
        assignments = ", ".join(f"{c} = d.{c}" for c in columns if c != "id")
        unnested = ", ".join(f"CAST(:{c} AS {'uuid' if c == 'id' else 'bytea'}[])" for c in columns)
        session.execute(
            text(
                f"UPDATE patients p SET {assignments}, contact_consent = false, consent_at = NULL, "  # noqa: S608
                f"updated_at = now() FROM unnest({unnested}) AS d({', '.join(columns)}) WHERE p.id = d.id"
            ),
            columns,
        )


DISPOSAL_BATCH = 1000


# --- the portal's proof -------------------------------------------------------------------------


def patient_matches(session: Session, ctx: TenantContext, patient_id: object, born: date, surname: str) -> bool:
    """Whether the patient's date of birth and last name are the ones typed on the portal, compared by their
    blind indexes (only a match's name is decrypted, to refuse a disposed record). The tokens are computed
    whether or not there is a patient; the caller never shows the answer to the person who typed."""
    require(ctx, "portal.match")
    keys = _keys(session, ctx)
    wanted_dob = keys.token("date_of_birth", born)
    wanted_name = keys.token("last_name", identity.last_name(surname))
    if patient_id is None or wanted_name is None:
        return False
    row = session.execute(
        text("SELECT id, dob_bidx, name_bidx, full_name_enc FROM patients WHERE id = :p"),
        {"p": _patient_key(patient_id)},
    ).first()
    if row is None or bytes(row.dob_bidx) != wanted_dob or bytes(row.name_bidx) != wanted_name:
        return False
    # A disposed record keeps a placeholder name and the year of birth: it proves nobody.
    return identity.opened(keys, row, ("full_name",))["full_name"] != DISPOSED_NAME
