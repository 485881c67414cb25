"""Bill arithmetic in Decimal, with no database: line amounts, discounts, tax and the rounded total.

The rules (docs/architecture.md, "Billing"):

- A line's amount is `quantity x unit_price - line_discount - its share of the bill discount`, in the
  branch's price basis: tax-inclusive when the branch's prices include tax, else tax-exclusive.
- The bill discount is shared across lines in proportion to their amounts after line discounts
  (largest remainder at 4 decimals), so each line's tax is computed on what the customer really pays
  for it and the shares add up to the discount exactly.
- Tax per line, at 4 decimals, ROUND_HALF_UP:
  exclusive: net = amount, tax = net x rate / 100, gross = net + tax;
  inclusive: gross = amount, net = gross x 100 / (100 + rate), tax = gross - net.
  So net + tax = gross on every line, exactly.
- Rates by tax category: standard = the branch's default rate, reduced = the branch's reduced rate,
  zero and exempt = 0 (they differ in reporting only).
- Line, tax and total amounts stay at 4 decimals; only the amount due (the bill's total) is rounded,
  ROUND_HALF_UP, to the currency's minor unit, and the difference is shown as `rounding`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from backend.core.money import round_to_currency

FOUR_PLACES = Decimal("0.0001")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def to_four_places(amount: Decimal) -> Decimal:
    return amount.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class TaxSettings:
    """A branch's tax setup: whether shelf prices include tax, and the rates (percent) per category."""

    prices_include_tax: bool
    standard_rate: Decimal
    reduced_rate: Decimal = ZERO

    def rate_for(self, tax_category: str) -> Decimal:
        rates = {"standard": self.standard_rate, "reduced": self.reduced_rate, "zero": ZERO, "exempt": ZERO}
        return rates[tax_category]


@dataclass(frozen=True)
class LineInput:
    quantity: int
    unit_price: Decimal
    line_discount: Decimal
    tax_category: str


@dataclass(frozen=True)
class LineAmounts:
    """One priced line; `net_amount + tax_amount == gross_amount` always."""

    extended: Decimal  # quantity x unit price, before any discount
    line_discount: Decimal
    bill_discount_share: Decimal
    tax_category: str
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    gross_amount: Decimal


@dataclass(frozen=True)
class TaxBand:
    """Tax of one category and rate on the bill, as a receipt lists it."""

    tax_category: str
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True)
class BillAmounts:
    lines: list[LineAmounts]
    lines_total: Decimal  # sum of quantity x unit price
    discount_total: Decimal  # line discounts + the bill discount
    net_total: Decimal
    tax_total: Decimal
    total: Decimal  # net + tax at 4 decimals
    rounding: Decimal  # total_due - total
    total_due: Decimal  # what the customer pays, in the currency's minor unit
    taxes: list[TaxBand]


class DiscountTooLarge(ValueError):
    """A discount larger than what it applies to; `line` is the 0-based line, None for the bill discount."""

    def __init__(self, line: int | None) -> None:
        super().__init__("discount larger than the amount it applies to")
        self.line = line


def share_discount(discount: Decimal, amounts: Sequence[Decimal]) -> list[Decimal]:
    """Split `discount` across `amounts` in proportion, at 4 decimals, summing to `discount` exactly.

    Largest remainder: every share is first rounded down, then the 0.0001s left over go to the lines
    whose exact share lost the most (earlier lines first on ties). No share exceeds its amount.
    """
    base = sum(amounts, ZERO)
    if discount > base:
        raise DiscountTooLarge(None)
    if discount == ZERO or base == ZERO:
        return [ZERO for _ in amounts]
    exact = [discount * amount / base for amount in amounts]
    shares = [share.quantize(FOUR_PLACES, rounding=ROUND_DOWN) for share in exact]
    left_over = int((discount - sum(shares, ZERO)) / FOUR_PLACES)
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:left_over]:
        shares[i] += FOUR_PLACES
    return shares


def price_line(amount: Decimal, rate: Decimal, *, prices_include_tax: bool) -> tuple[Decimal, Decimal, Decimal]:
    """(net, tax, gross) of a line whose discounted amount is `amount` in the branch's price basis."""
    if prices_include_tax:
        gross = amount
        net = to_four_places(gross * HUNDRED / (HUNDRED + rate))
        return net, gross - net, gross
    tax = to_four_places(amount * rate / HUNDRED)
    return amount, tax, amount + tax


def bill_amounts(
    lines: Sequence[LineInput], *, bill_discount: Decimal, settings: TaxSettings, currency: str
) -> BillAmounts:
    """Price a whole bill; raises DiscountTooLarge when a discount exceeds what it applies to."""
    extended = [line.unit_price * line.quantity for line in lines]
    after_line_discounts = []
    for index, (line, amount) in enumerate(zip(lines, extended, strict=True)):
        if line.line_discount > amount:
            raise DiscountTooLarge(index)
        after_line_discounts.append(amount - line.line_discount)
    shares = share_discount(bill_discount, after_line_discounts)
    priced = []
    for line, amount, remaining, share in zip(lines, extended, after_line_discounts, shares, strict=True):
        rate = settings.rate_for(line.tax_category)
        net, tax, gross = price_line(remaining - share, rate, prices_include_tax=settings.prices_include_tax)
        priced.append(LineAmounts(amount, line.line_discount, share, line.tax_category, rate, net, tax, gross))
    net_total = sum((line.net_amount for line in priced), ZERO)
    tax_total = sum((line.tax_amount for line in priced), ZERO)
    total = net_total + tax_total
    total_due = round_to_currency(total, currency)
    return BillAmounts(
        lines=priced,
        lines_total=sum(extended, ZERO),
        discount_total=sum((line.line_discount for line in lines), ZERO) + bill_discount,
        net_total=net_total,
        tax_total=tax_total,
        total=total,
        rounding=total_due - total,
        total_due=total_due,
        taxes=tax_bands(priced),
    )


def tax_bands(lines: Sequence[LineAmounts]) -> list[TaxBand]:
    """Net and tax per (category, rate), in the order categories are listed on a receipt."""
    order = {"standard": 0, "reduced": 1, "zero": 2, "exempt": 3}
    bands: dict[tuple[str, Decimal], tuple[Decimal, Decimal]] = {}
    for line in lines:
        key = (line.tax_category, line.tax_rate)
        net, tax = bands.get(key, (ZERO, ZERO))
        bands[key] = (net + line.net_amount, tax + line.tax_amount)
    return [
        TaxBand(category, rate, net, tax)
        for (category, rate), (net, tax) in sorted(bands.items(), key=lambda item: (order[item[0][0]], item[0][1]))
    ]
