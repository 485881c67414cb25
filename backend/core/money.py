"""Currencies: how small a step each one counts in, and the one rule for rounding money due.

Amounts are Decimal at 4 decimals inside (numeric(14,4) in the database); money that changes hands,
and what people read, is at the currency's minor unit, rounded half up.
"""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor units where they are not 2; every other currency has cents.
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


@functools.lru_cache(maxsize=256)  # a pure function of the code, called for every amount rounded
def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency` a till handles: 0.01 for USD, 1 for JPY, 0.001 for KWD."""
    return Decimal(1).scaleb(-_MINOR_UNITS.get(currency.upper(), 2))


def round_to_currency(amount: Decimal, currency: str) -> Decimal:
    """The one rounding rule for money due: half up to the currency's minor unit."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)
