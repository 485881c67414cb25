"""How people read money, statuses and times: one rule each, for pages, PDFs, CSVs shown on screen
and the assistant alike.

Amounts are stored at 4 decimals (unit prices, line amounts, tax); people read them at the currency's
precision with its symbol. The 4-decimal figures stay in the database, the REST API and the CSV
exports, where they are summed; rounding here is for reading only (half up, the same rule as the
amount due), so a column of displayed line amounts may differ from the total by a cent, exactly as on
a printed receipt. Times are stored in UTC and read in the branch's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.core.money import minor_unit, round_to_currency

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
    "BRL": "R$",
    "MXN": "MX$",
    "CNY": "CN¥",
    "KRW": "₩",
    "ILS": "₪",
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
    shown = round_to_currency(value, currency)
    symbol = SYMBOLS.get(currency.upper(), f"{currency.upper()} ")
    sign = "-" if shown < 0 else ""
    return f"{sign}{symbol}{abs(shown):,}"


def display_amount(amount: Decimal, currency: str) -> str:
    """An amount as people type and edit it (the counter's prices and discounts, a catalog price field):
    no symbol and no thousands separator, at the currency's precision, or with all four stored decimals
    when it has more ("0.1234"): saving or charging what is shown must never round a stored price."""
    at_precision = amount.quantize(minor_unit(currency))
    return str(at_precision if at_precision == amount else amount.quantize(Decimal("0.0001")))


def display_status(status: str | None) -> str:
    """A stored status in words: "partially_paid" -> "Partially paid", "draft" -> "Draft"."""
    if not status:
        return ""
    return _STATUS_WORDS.get(str(status), str(status).replace("_", " ").capitalize())


def local_time(moment: datetime, time_zone: str) -> datetime:
    """A stored UTC instant in the branch's zone (UTC when the zone is unknown, said by the label)."""
    try:
        return moment.astimezone(ZoneInfo(time_zone or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return moment.astimezone(ZoneInfo("UTC"))


def display_time(moment: datetime | None, time_zone: str, *, seconds: bool = False) -> str:
    """A stored UTC instant as the branch reads it: "2026-12-05 09:03 EST" (None shows as "")."""
    if moment is None:
        return ""
    local = local_time(moment, time_zone)
    return f"{local:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {local.tzname()}"


def display_date(day: date | None) -> str:
    """A calendar date (expiry, date of birth, a business day) as people here read it: 2026-12-05."""
    return "" if day is None else day.isoformat()
