"""The one display rule for money and statuses on the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pharmacy_saas.state.display import display_amount, display_money, display_status, display_time


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("1234.5"), "USD", "$1,234.50"),
        (Decimal("0.1234"), "USD", "$0.12"),  # a 4-decimal internal amount is never shown as such
        (Decimal("0.005"), "USD", "$0.01"),  # half up, as the amount due is rounded
        (Decimal("-3"), "EUR", "-€3.00"),
        (Decimal("-0.001"), "GBP", "£0.00"),  # no "minus zero"
        (Decimal("1200.4"), "JPY", "¥1,200"),  # no minor unit
        (Decimal("1.2345"), "KWD", "KWD 1.235"),  # three decimals; no symbol known: the ISO code
        (Decimal("20.1"), "KES", "KSh 20.10"),
        ("7.5", "inr", "₹7.50"),
        (None, "USD", ""),  # no figure is not zero
    ],
)
def test_money_at_the_currencys_precision_with_its_symbol(amount, currency, shown):
    assert display_money(amount, currency) == shown


def test_statuses_in_words():
    assert [display_status(s) for s in ("partially_paid", "partially_refunded", "draft", "partially_approved")] == [
        "Partially paid",
        "Partially refunded",
        "Draft",
        "Partly approved",
    ]
    assert display_status("") == display_status(None) == ""


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (Decimal("2.5"), "USD", "2.50"),
        (Decimal("1234.5"), "USD", "1234.50"),  # typed back into a field: no separator, no symbol
        (Decimal("0.1234"), "USD", "0.1234"),  # a stored price is never rounded by being shown for editing
        (Decimal("0.1230"), "USD", "0.1230"),
        (Decimal("100"), "JPY", "100"),
        (Decimal("1.5"), "", "1.50"),  # no currency known yet: two decimals
    ],
)
def test_amounts_for_editing_keep_every_stored_decimal(amount, currency, shown):
    assert display_amount(amount, currency) == shown


def test_times_in_the_branchs_zone_with_its_name():
    moment = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)
    assert display_time(moment, "America/New_York") == "2026-03-09 23:30 EDT"
    assert display_time(moment, "Not/AZone") == "2026-03-10 03:30 UTC"  # unknown zone: UTC, and says so
    assert display_time(None, "UTC") == ""
