"""How the pages show money and statuses: one rule each, so no page invents its own.

Amounts are stored at 4 decimals (unit prices, line amounts, tax); people read them at the
currency's precision with its symbol. The 4-decimal figures stay in the database, the REST API and
the CSV exports, where they are summed; rounding here is for reading only (half up, the same rule
as the amount due), so a column of displayed line amounts may differ from the total by a cent,
exactly as on a printed receipt.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from backend.billing.totals import minor_unit

# Symbols for the currencies sign-up offers (and a few neighbours); any other shows its ISO code.
# Where a symbol is shared ($), the country prefix keeps two chains' figures apart.
SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "INR": "₹",
    "NGN": "₦",
    "KES": "KSh ",
    "ZAR": "R ",
    "PKR": "Rs ",
    "BDT": "৳",
    "PHP": "₱",
    "JPY": "¥",
    "CHF": "CHF ",
}

# Statuses whose plain reading is not just the word with its underscores turned to spaces.
_STATUS_WORDS = {
    "partially_paid": "Partially paid",
    "partially_approved": "Partly approved",
    "partially_received": "Partly received",
}


def display_money(amount: Decimal | int | str | None, currency: str) -> str:
    """`amount` at `currency`'s precision with its symbol: "$1,234.50", "-$3.00", "¥1,200", "KSh 20.00".

    None (no figure) shows as an empty string, never as zero."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(amount)
    except (InvalidOperation, ValueError):
        return str(amount)
    shown = value.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)
    symbol = SYMBOLS.get(currency.upper(), f"{currency.upper()} ")
    sign = "-" if shown < 0 else ""
    return f"{sign}{symbol}{abs(shown):,}"


def display_status(status: str | None) -> str:
    """A stored status in words: "partially_paid" -> "Partially paid", "draft" -> "Draft"."""
    if not status:
        return ""
    return _STATUS_WORDS.get(status, status.replace("_", " ").capitalize())
