"""Input checks shared by the inventory services: amounts, quantities and ids from people and APIs."""

from __future__ import annotations

import re
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


MAX_PACK_SIZE = 100_000
# Hyphenated NDCs: 4-4-2, 5-3-2 and 5-4-1 are the ten-digit forms on labels, 5-4-2 the eleven-digit billing form.
_NDC_HYPHENATED = re.compile(r"(\d{4,5})-(\d{3,4})-(\d{1,2})")
_NDC_SHAPES = {(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)}


def barcode(value: object, field: str = "barcode") -> str | None:
    """A medicine's barcode as stored: digits only, or None when left empty.

    Accepted: 8 to 14 digits (GTIN-8, UPC-A, EAN-13, GTIN-14, and ten- or eleven-digit NDCs typed
    without hyphens); spaces are ignored. An NDC typed with hyphens is stored as the eleven-digit
    NDC (5-4-2, each part zero-padded), because the same ten digits hyphenated differently are
    different products, so simply dropping the hyphens would merge them. Check digits are not
    verified: in-house and legacy codes without one are common on the shelf.
    """
    typed = "".join(str(value or "").split())
    if not typed:
        return None
    ndc = _NDC_HYPHENATED.fullmatch(typed)
    if ndc and tuple(len(part) for part in ndc.groups()) in _NDC_SHAPES:
        labeler, product, package = ndc.groups()
        return labeler.zfill(5) + product.zfill(4) + package.zfill(2)
    if typed.isascii() and typed.isdigit() and 8 <= len(typed) <= 14:
        return typed
    raise ValidationFailed(
        "A barcode is 8 to 14 digits (GTIN, EAN, UPC or NDC); an NDC may be typed with hyphens, e.g. 0777-3105-02.",
        field=field,
    )


def pack_size(value: object, field: str = "pack_size") -> int:
    try:
        size = int(str(value).strip())
    except ValueError:
        raise ValidationFailed("The pack size is a whole number of dispensing units, e.g. 30.", field=field) from None
    if not 1 <= size <= MAX_PACK_SIZE:
        raise ValidationFailed(f"The pack size is between 1 and {MAX_PACK_SIZE:,}.", field=field)
    return size
