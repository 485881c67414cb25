"""Input checks of the catalog's own fields: barcodes (GTIN, UPC, EAN, NDC) and pack sizes.

Amounts, quantities and ids are checked by backend/core/validation.py, which every domain shares.
"""

from __future__ import annotations

import re

from backend.core.errors import ValidationFailed

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
