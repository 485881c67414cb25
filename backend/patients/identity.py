"""How a patient's identifiers are stored: sealed per field, and the blind indexes that find them.

What can be searched (exact match of a keyed hash, per chain; docs/patient-data.md says why):
- the last name (the name's last word), normalised: accents and case folded, letters only;
- its first three letters (the candidates are decrypted and filtered in the app);
- the phone number's digits, whole, and its last four digits;
- the date of birth.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from backend.protection.keys import ChainKeys

TABLE = "patients"
# Record field -> its sealed column. The date of birth is sealed as YYYY-MM-DD.
SEALED = {
    "full_name": "full_name_enc",
    "date_of_birth": "date_of_birth_enc",
    "phone": "phone_enc",
    "email": "email_enc",
    "address": "address_enc",
    "allergies": "allergies_enc",
    "notes": "notes_enc",
}
INDEXES = ("name_bidx", "name3_bidx", "phone_bidx", "phone4_bidx", "dob_bidx")
PREFIX_LETTERS = 3
_NOT_LETTER = re.compile(r"[^a-z]")


def folded(value: str) -> str:
    """Lower case without accents (José → jose), for comparing names typed any way."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_word(word: str) -> str:
    """A name word as indexed: folded, letters only (O'Brien → obrien)."""
    return _NOT_LETTER.sub("", folded(word))


def name_words(full_name: str) -> str:
    """The name's words as indexed, space-separated ("Zoë O'Brien" → "zoe obrien"): what a search filters."""
    return " ".join(w for w in (name_word(w) for w in full_name.split()) if w)


def last_name(full_name: str) -> str:
    words = [w for w in (name_word(w) for w in full_name.split()) if w]
    return words[-1] if words else ""


def phone_digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def tokens(keys: ChainKeys, full_name: str, phone: str, born: date) -> dict[str, bytes | None]:
    """The blind-index columns of a record."""
    surname, digits = last_name(full_name), phone_digits(phone)
    return {
        "name_bidx": keys.token("last_name", surname),
        "name3_bidx": keys.token("last_name_prefix", surname[:PREFIX_LETTERS]),
        "phone_bidx": keys.token("phone", digits),
        "phone4_bidx": keys.token("phone_last4", digits[-4:] if len(digits) >= 4 else ""),
        "dob_bidx": keys.token("date_of_birth", born),
    }


def sealed(keys: ChainKeys, row_id: object, fields: dict[str, Any]) -> dict[str, bytes]:
    """The sealed columns of a record from its plain fields (each bound to its row and column)."""
    out = {}
    for field, column in SEALED.items():
        value = fields[field]
        plain = value.isoformat() if isinstance(value, date) else str(value or "")
        out[column] = keys.seal(TABLE, column, row_id, plain)
    return out


def opened(keys: ChainKeys, row: Any, fields: tuple[str, ...] = tuple(SEALED)) -> dict[str, Any]:
    """Plain fields from a row holding the sealed columns (the date of birth as a date)."""
    out: dict[str, Any] = {}
    for field in fields:
        column = SEALED[field]
        plain = keys.open(TABLE, column, row.id, getattr(row, column))
        out[field] = date.fromisoformat(plain) if field == "date_of_birth" else plain
    return out


def stored(keys: ChainKeys, row_id: object, fields: dict[str, Any]) -> dict[str, bytes | None]:
    """Every encrypted and index column of a record, ready to bind into INSERT or UPDATE."""
    return {
        **sealed(keys, row_id, fields),
        **tokens(keys, fields["full_name"], fields["phone"], fields["date_of_birth"]),
    }
