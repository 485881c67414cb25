"""Bill arithmetic: worked examples a pharmacist can check by hand, then properties over random bills."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.billing.bills.totals import (
    DiscountTooLarge,
    LineInput,
    TaxSettings,
    bill_amounts,
    share_discount,
)
from backend.core.money import minor_unit, round_to_currency

D = Decimal


def test_exclusive_prices_add_tax_per_line_and_round_only_the_total():
    settings_ = TaxSettings(prices_include_tax=False, standard_rate=D("8.875"), reduced_rate=D("5"))
    lines = [
        LineInput(3, D("4.9900"), D("0.50"), "standard"),  # 14.97 - 0.50 = 14.47 net, tax 1.2842125 -> 1.2842
        LineInput(2, D("1.2500"), D("0"), "reduced"),  # 2.50 net, tax 0.125
        LineInput(1, D("3.0000"), D("0"), "exempt"),
    ]
    amounts = bill_amounts(lines, bill_discount=D("0"), settings=settings_, currency="USD")
    assert [line.tax_amount for line in amounts.lines] == [D("1.2842"), D("0.1250"), D("0")]
    assert amounts.net_total == D("19.97") and amounts.tax_total == D("1.4092")
    assert amounts.total == D("21.3792") and amounts.total_due == D("21.38") and amounts.rounding == D("0.0008")
    assert [(band.tax_category, band.tax_amount) for band in amounts.taxes] == [
        ("standard", D("1.2842")),
        ("reduced", D("0.1250")),
        ("exempt", D("0")),
    ]


def test_inclusive_prices_take_the_tax_out_of_the_shelf_price():
    settings_ = TaxSettings(prices_include_tax=True, standard_rate=D("20"))
    amounts = bill_amounts(
        [LineInput(1, D("12.00"), D("0"), "standard")], bill_discount=D("0"), settings=settings_, currency="GBP"
    )
    line = amounts.lines[0]
    assert (line.net_amount, line.tax_amount, line.gross_amount) == (D("10.0000"), D("2.0000"), D("12.00"))
    assert amounts.total_due == D("12.00")


def test_bill_discount_is_shared_by_amount_and_sums_exactly():
    assert share_discount(D("1.00"), [D("1"), D("1"), D("1")]) == [D("0.3334"), D("0.3333"), D("0.3333")]
    assert share_discount(D("0"), [D("5")]) == [D("0")]
    with pytest.raises(DiscountTooLarge):
        share_discount(D("5.0001"), [D("5")])


def test_a_line_discount_larger_than_the_line_names_the_line():
    settings_ = TaxSettings(prices_include_tax=False, standard_rate=D("0"))
    with pytest.raises(DiscountTooLarge) as refused:
        bill_amounts(
            [LineInput(1, D("1"), D("0"), "zero"), LineInput(1, D("1"), D("1.01"), "zero")],
            bill_discount=D("0"),
            settings=settings_,
            currency="USD",
        )
    assert refused.value.line == 1


def test_currency_minor_units_and_half_up():
    assert minor_unit("USD") == D("0.01") and minor_unit("JPY") == D("1") and minor_unit("KWD") == D("0.001")
    assert round_to_currency(D("0.005"), "USD") == D("0.01")
    assert round_to_currency(D("0.0049"), "USD") == D("0.00")
    assert round_to_currency(D("10.5"), "JPY") == D("11")


# --- properties -----------------------------------------------------------------------------------

prices = st.decimals(min_value=0, max_value=D("2000"), places=4, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=0, max_value=D("30"), places=4, allow_nan=False, allow_infinity=False)
categories = st.sampled_from(["standard", "reduced", "zero", "exempt"])
currencies = st.sampled_from(["USD", "EUR", "JPY", "KWD", "GBP"])


@st.composite
def bills(draw):
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        quantity = draw(st.integers(min_value=1, max_value=500))
        price = draw(prices)
        discount = draw(st.decimals(min_value=0, max_value=price * quantity, places=4))
        lines.append(LineInput(quantity, price, discount, draw(categories)))
    after_line_discounts = sum((line.unit_price * line.quantity - line.line_discount for line in lines), D(0))
    bill_discount = draw(st.decimals(min_value=0, max_value=after_line_discounts, places=4))
    tax = TaxSettings(draw(st.booleans()), draw(rates), draw(rates))
    return lines, bill_discount, tax, draw(currencies)


@settings(max_examples=300, deadline=None)
@given(bills())
def test_every_line_balances_and_the_total_is_its_lines(bill):
    lines, bill_discount, tax, currency = bill
    amounts = bill_amounts(lines, bill_discount=bill_discount, settings=tax, currency=currency)
    four = D("0.0001")
    for given_line, line in zip(lines, amounts.lines, strict=True):
        assert line.net_amount + line.tax_amount == line.gross_amount
        assert min(line.net_amount, line.tax_amount, line.gross_amount) >= 0
        for amount in (line.net_amount, line.tax_amount, line.gross_amount, line.bill_discount_share):
            assert amount == amount.quantize(four)  # kept at 4 decimals, never more
        paid_for = given_line.unit_price * given_line.quantity - given_line.line_discount - line.bill_discount_share
        assert (line.gross_amount if tax.prices_include_tax else line.net_amount) == paid_for
        assert line.tax_rate == tax.rate_for(given_line.tax_category)
    assert sum((line.bill_discount_share for line in amounts.lines), D(0)) == bill_discount
    assert amounts.total == amounts.net_total + amounts.tax_total
    assert amounts.total == sum((line.gross_amount for line in amounts.lines), D(0))
    assert amounts.tax_total == sum((band.tax_amount for band in amounts.taxes), D(0))
    assert amounts.lines_total - amounts.discount_total == sum(
        (line.gross_amount if tax.prices_include_tax else line.net_amount for line in amounts.lines), D(0)
    )


@settings(max_examples=300, deadline=None)
@given(bills())
def test_the_amount_due_is_the_total_rounded_half_up_to_the_minor_unit(bill):
    lines, bill_discount, tax, currency = bill
    amounts = bill_amounts(lines, bill_discount=bill_discount, settings=tax, currency=currency)
    unit = minor_unit(currency)
    assert amounts.total_due == amounts.total_due.quantize(unit)
    assert amounts.total_due - amounts.total == amounts.rounding
    assert -unit / 2 < amounts.rounding <= unit / 2  # half up: an exact half goes to the customer's cost


@settings(max_examples=200, deadline=None)
@given(bills())
def test_tax_follows_the_rate_within_half_a_ten_thousandth(bill):
    lines, bill_discount, tax, currency = bill
    amounts = bill_amounts(lines, bill_discount=bill_discount, settings=tax, currency=currency)
    for line in amounts.lines:
        exact = line.net_amount * line.tax_rate / 100
        # Exclusive: tax is the net's tax rounded; inclusive: net is rounded, so tax is off by at most that.
        tolerance = D("0.00005") * (1 + line.tax_rate / 100)
        assert abs(line.tax_amount - exact) <= tolerance


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(min_value=0, max_value=D("100000"), places=4),
    st.lists(st.decimals(min_value=0, max_value=D("5000"), places=4), min_size=1, max_size=20),
)
def test_shares_never_exceed_their_line_and_add_up(discount, amounts):
    base = sum(amounts, D(0))
    if discount > base:
        with pytest.raises(DiscountTooLarge):
            share_discount(discount, amounts)
        return
    shares = share_discount(discount, amounts)
    assert sum(shares, D(0)) == discount
    assert all(D(0) <= share <= amount for share, amount in zip(shares, amounts, strict=True))
