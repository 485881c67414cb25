"""Input checks every domain shares: amounts, quantities and ids typed by people or sent by APIs.

Each raises ValidationFailed (or NotFound for an id that cannot exist) naming the field, before
anything is written."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from backend.core.errors import NotFound, ValidationFailed

MAX_AMOUNT = Decimal(10) ** 10  # numeric(14, 4)


def money(value: str, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip() or "0")
    except InvalidOperation:
        raise ValidationFailed("Enter an amount such as 4.50.", field=field) from None
    if not amount.is_finite():
        raise ValidationFailed("Enter an amount such as 4.50.", field=field)
    if amount >= MAX_AMOUNT:
        raise ValidationFailed("That amount is too large.", field=field)
    if amount < 0 or amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValidationFailed("Amounts are positive with at most 4 decimals.", field=field)
    return amount


def as_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"No such {what}.") from None


def quantity(value: object, field: str = "quantity") -> int:
    try:
        quantity = int(str(value).strip())
    except ValueError:
        raise ValidationFailed("Quantities are whole numbers of the dispensing unit.", field=field) from None
    if quantity <= 0:
        raise ValidationFailed("The quantity must be more than zero.", field=field)
    return quantity
