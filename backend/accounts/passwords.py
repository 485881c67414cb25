"""The password rules staff see at sign-up, invitation and reset."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from backend.core.errors import ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 200  # argon2 would hash more, but nobody types more; stops request-size abuse
MIN_DISTINCT = 4
# The rules below in words, shown beside every password field before anything is checked.
RULES = (
    f"At least {MIN_LENGTH} characters with {MIN_DISTINCT} or more different ones; "
    "not a common password and not containing your e-mail name."
)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip() for line in path.read_text().splitlines() if line.strip())


def check_password(password: str, *, email: str = "", field: str = "password") -> None:
    """Refuse short, very common, or e-mail-derived passwords with a message for the person."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"Use at least {MIN_LENGTH} characters.", field=field)
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(f"Use at most {MAX_LENGTH} characters.", field=field)
    lowered = password.lower()
    if lowered in _common_passwords() or lowered.rstrip("!0123456789") in _common_passwords():
        raise ValidationFailed("That password is too common; choose another.", field=field)
    local = email.split("@")[0].lower()
    if len(local) >= 4 and local in lowered:
        raise ValidationFailed("The password must not contain your e-mail name.", field=field)
    if len(set(password)) < MIN_DISTINCT:
        raise ValidationFailed("Use a less repetitive password.", field=field)
