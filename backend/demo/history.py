"""The demo chain's trading history: a year and more of a pharmacy's days, replayed through the domains'
bulk books (inventory's `StockBook`, billing's `SalesBook` and `ClaimsBook`), which apply the rules.

This module only decides what happens, from one seeded random source, so the same seed and the same
"now" give the same chain:
- Each branch opens every day at its hours (short hours on public holidays) and rings up bills at a
  rate that depends on the branch, the weekday (Friday busiest, Sunday quietest), the season (a
  winter bump) and slow growth. A bill has one to four lines; what sells follows each line's
  demand class, winter (cold and flu) or spring (allergy) peaks, and each branch's own taste, so
  some lines sell daily and some a few times a month.
- Prescription lines name the patient (who may be covered by a payer); controlled lines too.
- Stock arrives the morning after the nightly review finds a line below about a week of demand;
  expired lots are written off on Mondays; a few count corrections happen. A handful of lines get a
  short-dated delivery so lots expire in the next 30/60/90 days and a few sit expired on the shelf;
  one metformin lot delivered to every branch is recalled nine days ago.
- Cash or card-terminal payments; a few bills voided before payment; refunds (credit notes) a few
  days later for some paid bills; for covered patients in the last months, the copay at the counter
  and a claim that is drafted, submitted, decided and paid as time goes by, so every claim state
  exists now.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from zoneinfo import ZoneInfo

from backend.billing.bulk import BulkBill, BulkBranch, SaleLine, SalesBook
from backend.billing.claims.bulk import BulkCoverage, ClaimsBook
from backend.billing.credit_notes.service import ReturnedLine
from backend.demo import people
from backend.demo.catalog import Product
from backend.inventory.bulk import BulkMedicine, StockBook

ZERO = Decimal(0)
CENT = Decimal("0.01")
LINES_PER_BILL = ((1, 0.7), (2, 0.21), (3, 0.065), (4, 0.025))  # most buy one thing
LINES_MEAN = sum(n * p for n, p in LINES_PER_BILL)
_BASKET_SIZES = list(itertools.accumulate(p for _, p in LINES_PER_BILL[:-1]))  # bisect over these: 1 to 4 lines
VOID_RATE = 0.0015
REFUND_RATE = 0.004
CLAIM_WINDOW_DAYS = 150  # the chain started billing insurers five months ago
SUPPLIERS = ("McKesson", "Cardinal Health", "AmerisourceBergen")
SHORT_DATED = (12, 26, 40, 52, 66, 80, -3, -5)  # days from today to the expiry of short-dated deliveries
# Nothing changes a bill this long after its sale: refunds come within 11 days, a claim is paid
# within about 31 (submitted next day, decided in 2-8 days, paid 5-20 days later).
SETTLED_AFTER = timedelta(days=45)


@dataclass
class Staff:
    """Who does what in a branch (user ids as text)."""

    sellers: list[str]
    pharmacist: str
    technician: str
    manager: str


@dataclass
class PatientCard:
    id: str
    home_branch_id: str
    coverage: BulkCoverage | None


@dataclass
class BranchLine:
    """A catalog line in one branch: its medicine, product facts and this branch's appetite for it."""

    medicine: BulkMedicine
    product: Product
    appetite: float
    mean_quantity: float
    pending: int = 0  # units ordered and not yet delivered
    lots_received: int = 0


@dataclass(order=True)
class _Scheduled:
    at: datetime
    order: int
    action: Callable[[], None] = field(compare=False)


def between(rng: random.Random, low: int, high: int) -> int:
    """`rng.randint(low, high)` at a fraction of its cost (a sale draws several): uniform enough for a demo."""
    return low + int(rng.random() * (high - low + 1))


def season_factor(product: Product, day: date) -> float:
    """How much more (or less) of a line sells on `day` than on an ordinary day."""
    return _season(product.season, day.timetuple().tm_yday)


@functools.cache
def _season(season: str, doy: int) -> float:
    if season == "winter":
        return 1 + 1.6 * max(0.0, math.cos(2 * math.pi * (doy - 20) / 365)) ** 2
    if season == "flu":
        return 0.15 + 6 * max(0.0, math.cos(2 * math.pi * (doy - 25) / 365)) ** 6
    if season == "spring":
        return 0.6 + 1.6 * max(0.0, math.cos(2 * math.pi * (doy - 125) / 365)) ** 4
    if season == "summer":
        return 0.7 + 0.9 * max(0.0, math.cos(2 * math.pi * (doy - 200) / 365)) ** 2
    return 1.0


def short_day(day: date) -> bool:
    """US holidays the branches open short: New Year, Independence Day, Thanksgiving, Christmas."""
    if (day.month, day.day) in {(1, 1), (7, 4), (12, 25)}:
        return True
    return day.month == 11 and day.weekday() == 3 and 22 <= day.day <= 28


WEEKDAY_TRADE = (1.10, 1.02, 1.0, 1.03, 1.13, 0.92, 0.80)  # Monday first


class BranchHistory:
    """One branch's days from `first_day` to today (local), as far as `now`."""

    def __init__(
        self,
        *,
        branch: BulkBranch,
        demo: people.DemoBranch,
        lines: list[BranchLine],
        staff: Staff,
        patients: list[PatientCard],
        everyone: list[PatientCard],
        stock: StockBook,
        sales: SalesBook,
        claims: ClaimsBook,
        rng: random.Random,
        now: datetime,
        first_day: date,
    ) -> None:
        self.branch, self.demo, self.lines, self.staff = branch, demo, lines, staff
        self.patients, self.everyone = patients, everyone
        self.stock, self.sales, self.claims, self.rng, self.now = stock, sales, claims, rng, now
        self.zone = ZoneInfo(branch.time_zone)
        self.today = now.astimezone(self.zone).date()
        self.first_day = first_day
        self.queue: list[_Scheduled] = []
        self._order = itertools.count()
        self._terminal = itertools.count(1)
        self.appetite_total = sum(line.appetite for line in lines)
        self.touched: set[str] = set()  # medicines sold since the last nightly review
        self._noons: dict[date, datetime] = {}
        # Deliveries booked for a morning: (line, units, expiry or None for the usual shelf life, lot or "").
        self._deliveries: dict[date, list[tuple[BranchLine, int, date | None, str]]] = {}

    # --- time ------------------------------------------------------------------------------------

    def at(self, day: date, seconds: float) -> datetime:
        """A local time of day as UTC. Offsets are taken at noon: opening hours never straddle a
        daylight-saving change (2 am), and whole seconds are what the tables keep."""
        noon = self._noons.get(day)
        if noon is None:
            noon = self._noons[day] = datetime.combine(day, time(12), self.zone).astimezone(UTC)
        return noon + timedelta(seconds=int(seconds) - 43200)

    def schedule(self, at: datetime, action: Callable[[], None]) -> None:
        if at < self.now:  # what would happen after now has not happened yet
            heapq.heappush(self.queue, _Scheduled(at, next(self._order), action))

    def advance(self, to: datetime) -> None:
        """Run what was scheduled up to `to`, in time order, before anything else happens at `to`."""
        while self.queue and self.queue[0].at <= to:
            heapq.heappop(self.queue).action()

    def hours(self, day: date) -> tuple[int, int]:
        if short_day(day):
            return 10, 15
        return self.demo.opening_hours[day.weekday()]

    # --- a day -----------------------------------------------------------------------------------

    def run(self, after_day: Callable[[date], None] | None = None) -> None:
        """Every day from the first to today; `after_day(day)` after each (a loader hands settled
        bills to its writer there)."""
        self.opening_stock()
        self.short_dated_deliveries()
        day = self.first_day
        while day <= self.today:
            self.trade(day)
            if after_day is not None:
                after_day(day)
            day += timedelta(days=1)
        self.advance(self.now)

    def bills_on(self, day: date) -> int:
        winter = max(0.0, math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365)) ** 2
        growth = 1 + 0.06 * (day - self.first_day).days / 365
        rate = self.demo.bills_per_day * WEEKDAY_TRADE[day.weekday()] * (1 + 0.1 * winter) * growth
        if short_day(day):
            rate *= 0.35
        return max(1, round(rate * (1 + 0.06 * self.rng.gauss(0, 1))))

    def trade(self, day: date) -> None:
        rng = self.rng
        opens, closes = self.hours(day)
        self.deliver(day)
        if day.weekday() == 0:
            self.write_off_expired(day)
        if rng.random() < 0.05:
            self.count_correction(day, opens)
        weights = self.weights(day)
        local_day = day.toordinal()
        for seconds in sorted(rng.uniform(opens * 3600, closes * 3600 - 60) for _ in range(self.bills_on(day))):
            at = self.at(day, seconds)
            if at >= self.now:
                break
            self.advance(at)
            self.ring_up(day, local_day, at, weights)
        self.review(day, closes)

    def weights(self, day: date) -> list[float]:
        doy = day.timetuple().tm_yday
        return list(itertools.accumulate(line.appetite * _season(line.product.season, doy) for line in self.lines))

    # --- selling ---------------------------------------------------------------------------------

    def basket(self, weights: list[float]) -> list[BranchLine]:
        rng = self.rng
        size = 1 + bisect.bisect(_BASKET_SIZES, rng.random())
        chosen: dict[str, BranchLine] = {}
        for line in rng.choices(self.lines, cum_weights=weights, k=size):
            chosen.setdefault(line.medicine.id, line)
        return list(chosen.values())

    def quantity(self, line: BranchLine) -> int:
        rng, product = self.rng, line.product
        if product.pack == 1:
            return 2 if rng.random() < 0.08 else 1
        if product.schedule == "otc":
            return product.pack * (2 if rng.random() < 0.12 else 1)
        if product.chronic:
            roll = rng.random()
            return product.pack * (1 if roll < 0.7 else 2 if roll < 0.8 else 3)  # a month, two or three
        return product.pack

    def ring_up(self, day: date, local_day: int, at: datetime, weights: list[float]) -> None:
        rng, branch = self.rng, self.branch
        wanted: list[tuple[BranchLine, int]] = []
        for line in self.basket(weights):
            quantity = self.quantity(line)
            sellable = self.stock.sellable(branch.id, line.medicine.id, local_day, at)
            if sellable < quantity and line.product.pack > 1 and sellable >= line.product.pack:
                quantity = sellable - sellable % line.product.pack  # what is left, in whole packs
            if sellable >= quantity:
                wanted.append((line, quantity))
                self.touched.add(line.medicine.id)
        if not wanted:
            return
        prescribed = any(line.product.schedule != "otc" for line, _ in wanted)
        patient = self.patient() if prescribed or rng.random() < 0.12 else None
        seller = self.staff.pharmacist if prescribed else rng.choice(self.staff.sellers)
        sale_lines = [
            SaleLine(line.medicine.id, quantity, self.prescription(line) if line.product.schedule != "otc" else "")
            for line, quantity in wanted
        ]
        discount = ZERO
        if not prescribed and rng.random() < 0.03:  # the senior-citizen discount on shop items
            gross = sum((line.medicine.price * quantity for line, quantity in wanted), ZERO)
            discount = (gross / 10).quantize(CENT)
        bill = self.sales.sell(
            branch,
            sale_lines,
            at=at,
            local_date=day,
            seller=seller,
            opened_at=at - timedelta(seconds=between(rng, 20, 240)),
            patient_id=patient.id if patient else None,
            bill_discount=discount,
        )
        if bill.status == "paid":  # discounted to nothing
            return
        if rng.random() < VOID_RATE:  # voided at the till before anyone paid
            self._void_later(bill, at, rng.choice(people.VOID_REASONS))
            return
        coverage = patient.coverage if patient is not None else None
        if coverage is not None and prescribed and (self.today - day).days <= CLAIM_WINDOW_DAYS and rng.random() < 0.8:
            self.claim(bill, coverage, day, at)
            return
        method = self.pay_in_full(bill, at)
        if rng.random() < REFUND_RATE:
            self.refund_later(bill, day, at, method)

    def _void_later(self, bill: BulkBill, at: datetime, why: str) -> None:
        when = at + timedelta(seconds=between(self.rng, 60, 400))
        self.schedule(when, lambda: self.sales.void(bill, reason=why, at=when, actor=self.staff.manager))

    def prescription(self, line: BranchLine) -> str:
        return f"RX{between(self.rng, 1_000_000, 9_999_999)}"

    def patient(self) -> PatientCard:
        if self.rng.random() < 0.9 and self.patients:
            return self.rng.choice(self.patients)
        return self.rng.choice(self.everyone)

    def pay_in_full(self, bill: BulkBill, at: datetime) -> str:
        """Cash (often a note to change) or the card terminal (recorded as `other` with its receipt
        number); returns the method."""
        rng, due = self.rng, bill.owed
        when = at + timedelta(seconds=between(rng, 5, 45))
        if rng.random() < 0.3:
            note = rng.choice((Decimal(1), Decimal(5), Decimal(10), Decimal(20)))
            tendered = due if rng.random() < 0.25 else (due / note).to_integral_value(ROUND_CEILING) * note
            self.sales.pay(bill, tendered=max(tendered, due), at=when, actor=bill.created_by, method="cash")
            return "cash"
        reference = f"POS {self.branch.code}-{next(self._terminal):06d}"
        self.sales.pay(bill, tendered=due, at=when, actor=bill.created_by, method="other", reference=reference)
        return "other"

    # --- refunds and claims ----------------------------------------------------------------------

    def later_in_opening_hours(self, day: date, after: datetime, max_days: int) -> tuple[date, datetime]:
        rng = self.rng
        for _ in range(5):
            later = day + timedelta(days=rng.randint(0, max_days))
            opens, closes = self.hours(later)
            when = self.at(later, rng.uniform(opens * 3600, closes * 3600 - 60))
            if when > after:
                return later, when
        return day, after + timedelta(minutes=30)

    def refund_later(self, bill: BulkBill, day: date, at: datetime, paid_by: str) -> None:
        rng = self.rng
        later, when = self.later_in_opening_hours(day, at + timedelta(minutes=10), 10)
        reason, resaleable = rng.choice(people.REFUND_REASONS)
        line = rng.choice(bill.lines)
        quantity = line.quantity if rng.random() < 0.6 or line.quantity == 1 else max(1, line.quantity // 2)
        restock = resaleable and line.schedule == "otc"  # a dispensed prescription never goes back on the shelf

        def refund() -> None:
            reference = f"REF {bill.number}" if paid_by == "other" else ""
            self.sales.credit(
                bill,
                [ReturnedLine(line.line_no, quantity, restock)],
                reason=reason,
                at=when,
                local_date=later,
                actor=self.staff.pharmacist,
                method=paid_by,
                reference=reference,
            )

        self.schedule(when, refund)

    def claim(self, bill: BulkBill, coverage: BulkCoverage, day: date, at: datetime) -> None:
        """Copay at the counter now; the claim drafted, submitted next morning, decided, then paid."""
        rng = self.rng
        copay = min(bill.total_due, rng.choice((Decimal(5), Decimal(10), Decimal(15), Decimal(25))))
        if copay >= bill.total_due:
            self.pay_in_full(bill, at)
            return
        when = at + timedelta(seconds=between(rng, 5, 45))
        self.sales.pay(bill, tendered=copay, at=when, actor=bill.created_by, method="cash")
        claim = self.claims.draft(
            bill, coverage, bill.total_due - copay, at=when + timedelta(seconds=30), actor=self.staff.pharmacist
        )
        next_day = day + timedelta(days=1)
        submitted = self.at(next_day, self.hours(next_day)[0] * 3600 + rng.randint(300, 3600))
        decided = submitted + timedelta(days=rng.randint(2, 8), hours=rng.randint(0, 8))
        paid = decided + timedelta(days=rng.randint(5, 20), hours=rng.randint(0, 8))
        roll = rng.random()
        decision = "approved" if roll < 0.82 else "partially_approved" if roll < 0.91 else "rejected"
        approved = (claim.claimed_amount * Decimal(str(rng.uniform(0.55, 0.9)))).quantize(CENT)
        if decision == "partially_approved" and not ZERO < approved < claim.claimed_amount:
            decision = "approved"  # a claim of a few cents is approved or not at all
        reason = rng.choice(people.REJECTIONS)

        def submit() -> None:
            self.claims.submit(claim, at=submitted, actor=self.staff.pharmacist)

        def decide() -> None:
            self.claims.decide(claim, decision, at=decided, actor=self.staff.manager, approved=approved, reason=reason)

        def pay() -> None:
            self.claims.pay(claim, claim.approved_amount or ZERO, at=paid, actor=self.staff.manager)

        self.schedule(submitted, submit)
        self.schedule(decided, decide)
        if decision != "rejected":
            self.schedule(paid, pay)

    # --- stock -----------------------------------------------------------------------------------

    def daily_demand(self, line: BranchLine, day: date) -> float:
        """Units a day this line is expected to sell in this branch around `day`."""
        share = line.appetite * season_factor(line.product, day) / self.appetite_total
        return self.demo.bills_per_day * LINES_MEAN * share * line.mean_quantity

    def lot_number(self, line: BranchLine, received: date) -> str:
        line.lots_received += 1
        return f"{line.product.generic[:3].upper()}{received:%y%m}{self.branch.code[0]}{line.lots_received:03d}"

    def expiry(self, line: BranchLine, received: date) -> date:
        if line.product.form in ("tablet", "capsule"):
            return received + timedelta(days=self.rng.randint(540, 1000))
        return received + timedelta(days=self.rng.randint(300, 700))

    def receive(self, line: BranchLine, day: date, quantity: int, *, expiry: date | None = None, lot: str = "") -> None:
        product, rng = line.product, self.rng
        at = self.at(day, 7 * 3600 + 1800 + rng.randint(0, 900))
        self.advance(at)
        self.stock.receive(
            branch_id=self.branch.id,
            medicine_id=line.medicine.id,
            lot_number=lot or self.lot_number(line, day),
            expiry_date=expiry or self.expiry(line, day),
            quantity=quantity,
            cost_price=(product.price * Decimal(str(round(rng.uniform(0.55, 0.72), 2)))).quantize(Decimal("0.0001")),
            supplier_name=SUPPLIERS[int(product.barcode[-4:-1]) % len(SUPPLIERS)],  # each line has its wholesaler
            at=at,
            actor=self.staff.technician,
            reference=f"DEL-{self.branch.code}-{day:%Y%m%d}",
        )

    def order_size(self, line: BranchLine, day: date, days: int) -> int:
        units = max(self.daily_demand(line, day) * days, line.mean_quantity)
        pack = line.product.pack
        return max(pack, math.ceil(units / pack) * pack)

    def opening_stock(self) -> None:
        """What was on the shelf the day before the history starts: three weeks of each line."""
        day = self.first_day - timedelta(days=1)
        for line in self.lines:
            self.receive(line, day, self.order_size(line, day, 21 + self.rng.randint(0, 14)))

    def short_dated_deliveries(self) -> None:
        """A few slow lines take a short-dated delivery two months ago: lots that expire within the
        alert windows (30/60/90 days) and two that expired days ago and still sit on the shelf."""
        slow = [line for line in self.lines if line.product.demand in ("C", "D") and line.product.pack > 1]
        day = max(self.first_day, self.today - timedelta(days=60))
        for line, days_left in zip(self.rng.sample(slow, len(SHORT_DATED)), SHORT_DATED, strict=True):
            units = self.order_size(line, day, 150)
            self._deliveries.setdefault(day, []).append((line, units, self.today + timedelta(days=days_left), ""))

    def deliver(self, day: date) -> None:
        if self.at(day, 7 * 3600 + 2700) >= self.now:  # today's delivery has not come yet (it comes by 7:45)
            return
        for line, units, expiry, lot in self._deliveries.pop(day, []):
            self.receive(line, day, units, expiry=expiry, lot=lot)
            line.pending = max(0, line.pending - units)

    def review(self, day: date, closes: int) -> None:
        """The nightly review: lines below about a week of usable stock are ordered for the morning."""
        at = self.at(day, closes * 3600 + 900)
        if at >= self.now:
            return
        tomorrow = day + timedelta(days=1)
        local_day = tomorrow.toordinal()
        # What sold today; every line on Sundays (lots that expired drop out of the usable stock).
        touched, self.touched = self.touched, set()
        for line in self.lines:
            if line.pending or (day.weekday() != 6 and line.medicine.id not in touched):
                continue
            demand = self.daily_demand(line, day)
            usable = self.stock.sellable(self.branch.id, line.medicine.id, local_day, at)
            if usable < demand * 7 + line.mean_quantity:
                units = self.order_size(line, day, 14 + self.rng.randint(0, 14))
                line.pending = units
                self._deliveries.setdefault(tomorrow, []).append((line, units, None, ""))

    def write_off_expired(self, day: date) -> None:
        """Monday morning: lots expired more than a week ago leave the shelf (destroyed)."""
        at = self.at(day, 7 * 3600 + 2700)
        if at >= self.now:
            return
        self.advance(at)
        cutoff = (day - timedelta(days=7)).toordinal()
        for line in self.lines:
            for lot in list(self.stock.shelf(self.branch.id, line.medicine.id)):
                if lot.expiry_day < cutoff:
                    self.stock.write_off(
                        lot.id, lot.quantity, at=at, actor=self.staff.technician, reason="expired: destroyed"
                    )

    def count_correction(self, day: date, opens: int) -> None:
        """A cycle count just before opening finds a pack short (after the morning's deliveries)."""
        rng = self.rng
        at = self.at(day, opens * 3600 - 300 + rng.randint(0, 240))
        if at >= self.now:
            return
        self.advance(at)
        line = rng.choice(self.lines)
        shelf = self.stock.shelf(self.branch.id, line.medicine.id)
        if shelf:
            lot = rng.choice(shelf)
            self.stock.adjust(lot.id, -1, at=at, actor=self.staff.technician, reason=rng.choice(people.ADJUST_REASONS))

    def recalled_delivery(self, line: BranchLine, day: date, lot_number: str, expiry: date) -> None:
        """The lot that will be recalled: a large delivery with the latest expiry, so FEFO leaves it for last."""
        self._deliveries.setdefault(day, []).append((line, self.order_size(line, day, 75), expiry, lot_number))
