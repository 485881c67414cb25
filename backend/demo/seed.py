"""The demo pharmacy chain that `make run` creates on an empty database, and sign-up's sample data.

`seed_demo` builds a chain a visitor can explore for ten minutes: three branches in three time zones,
staff of every role who can sign in (`demo_sign_ins`), about 300 medicines, lots with expiry (some
expiring, a few expired on the shelf, one recalled), reorder points, suppliers and open purchase
orders, patients with allergies and coverage, payers, and 400 days of trading per branch (bills,
payments, voids, refunds, claims in every state) for reports, charts and forecasts.

How: one audited platform transaction (`platform_session`; COPY is refused under row-level
security) provisions the chain and its staff, replays the history through each domain's bulk book
(backend/inventory/bulk.py, backend/billing/bulk.py, backend/billing/claims/bulk.py,
backend/patients/bulk.py; backend/demo/history.py decides what happens) and lets each domain write
its own tables, including the branches' financial hash chains and the tenant's audit log. So the
chain is there whole or not at all, and this module writes no table itself. Suppliers and purchase
orders then go through the purchasing service, as staff would create them.
"""

from __future__ import annotations

import functools
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from backend.accounts.staff import invite
from backend.billing.audit_chain import NewFinancialEvent
from backend.billing.bills.totals import TaxSettings
from backend.billing.bulk import BulkBill, BulkBranch, SalesBook
from backend.billing.claims.bulk import ClaimsBook
from backend.branches.service import create_branch, get_branch, list_branches, update_branch
from backend.core import database
from backend.core.bulk import BulkWriter, SequentialIds
from backend.core.errors import PharmacyError
from backend.core.passwords import hash_password
from backend.core.settings import get_settings
from backend.demo import catalog, people
from backend.demo.history import SETTLED_AFTER, SUPPLIERS, BranchHistory, BranchLine, PatientCard, Staff
from backend.inventory.bulk import StockBook
from backend.patients.bulk import NewPatient, load_patients
from tenants.audit import append_audit_events, record_audit
from tenants.context import TenantContext
from tenants.models import Tenant
from tenants.provisioning import NewBranch, NewChain, NewMember, ProvisionedTenant, provision_in
from tenants.roles import OWNER, require
from tenants.session import platform_session, run_in_tenant, tenant_session

log = logging.getLogger(__name__)
DEMO_SLUG = "demo-pharmacy"
HAND_OVER_DAYS = 30  # how often a branch's settled bills go to the writer during its replay


@dataclass(frozen=True)
class DemoSpec:
    """How much demo chain: the defaults are what `make run` seeds."""

    slug: str = DEMO_SLUG
    name: str = "Demo Pharmacy"
    history_days: int = 400  # local days of trading before today, per branch (today as far as now)
    patients: int = 900
    random_seed: int = 2026
    owner_email: str | None = None  # None: DEMO_OWNER_EMAIL


@dataclass(frozen=True)
class SignIn:
    role: str
    email: str
    password: str
    name: str
    branches: str  # "all" or branch codes


@dataclass
class DemoResult:
    tenant: ProvisionedTenant
    sign_ins: list[SignIn]
    now: datetime  # the present the history runs up to
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step, for the timing report


def _staff_email(spec: DemoSpec, local_part: str) -> str:
    return f"{local_part}@{spec.slug}.example"


def demo_sign_ins(spec: DemoSpec | None = None, *, everyone: bool = False) -> list[SignIn]:
    """The demo chain's sign-ins (one per role, or every member): known passwords, for `make run` and the README."""
    spec = spec or DemoSpec()
    settings = get_settings()
    owner_email = spec.owner_email or settings.DEMO_OWNER_EMAIL
    owner = SignIn("owner", owner_email, settings.DEMO_OWNER_PASSWORD, "Dana Demo", "all")
    return [owner] + [
        SignIn(
            person.role,
            _staff_email(spec, person.local_part),
            settings.DEMO_OWNER_PASSWORD,
            person.full_name,
            ", ".join(person.branch_codes) or "all",
        )
        for person in people.STAFF
        if everyone or person.shown
    ]


def demo_chain(spec: DemoSpec, owner_email: str, password_hash: str, started: datetime) -> NewChain:
    # One argon2 hash for every demo member: hashing is deliberately slow (about 0.7 s here), and they
    # share the one published demo password anyway.
    return NewChain(
        name=spec.name,
        slug=spec.slug,
        owner_email=owner_email,
        owner_name="Dana Demo",
        owner_password_hash=password_hash,
        currency="USD",
        branches=tuple(b.branch for b in people.BRANCHES),
        members=tuple(
            NewMember(_staff_email(spec, p.local_part), p.full_name, p.role, password_hash, p.branch_codes)
            for p in people.STAFF
        ),
        created_at=started,
    )


def seed_demo(
    *, only_if_empty: bool = True, spec: DemoSpec | None = None, now: datetime | None = None, actor: str = "cli"
) -> DemoResult | None:
    """Create the demo chain; with only_if_empty, do nothing (None) when any chain exists.

    Without only_if_empty it still needs its slug and e-mail addresses free (tests seed beside other
    chains). `now` fixes the present for a reproducible chain: the same seed and `now` give the same data.
    """
    spec = spec or DemoSpec()
    started_clock = time.perf_counter()
    settings = get_settings()
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    first_day_utc = now - timedelta(days=spec.history_days + 1)
    password_hash = hash_password(settings.DEMO_OWNER_PASSWORD)
    owner_email = spec.owner_email or settings.DEMO_OWNER_EMAIL
    chain = demo_chain(spec, owner_email, password_hash, first_day_utc - timedelta(days=30))
    steps: dict[str, float] = {"hash password": time.perf_counter() - started_clock}
    with platform_session(reason="demo seed: the demo chain and its history (COPY)", actor=actor) as session:
        if only_if_empty and session.exec(select(func.count()).select_from(Tenant)).one():
            return None
        provisioned = provision_in(session, chain, actor=actor)
        world = _DemoWorld(spec, provisioned, now, steps)
        writer = BulkWriter(session)
        try:
            world.load(session, writer)
        finally:
            counts = writer.close()  # waits for the writes (and raises their error) before the session ends
            steps.update({f"write {name}": seconds for name, seconds in writer.seconds.items()})
        mark = time.perf_counter()
    steps["commit"] = time.perf_counter() - mark
    mark = time.perf_counter()
    database.analyze_tables(counts)  # the dispensary below plans its queries on these tables
    steps["statistics"] = time.perf_counter() - mark
    mark = time.perf_counter()
    _branch_details(provisioned)
    _purchasing(provisioned)
    steps["branch details and purchasing"] = time.perf_counter() - mark
    mark = time.perf_counter()
    _prescriptions(provisioned, world)
    steps["prescriptions and dispensing"] = time.perf_counter() - mark
    counts.update({f"rx {what}": n for what, n in world.rx_counts.items()})
    return DemoResult(provisioned, demo_sign_ins(spec), now, counts, time.perf_counter() - started_clock, steps)


class _DemoWorld:
    """The chain's books and the replay of its history."""

    def __init__(self, spec: DemoSpec, chain: ProvisionedTenant, now: datetime, steps: dict[str, float]) -> None:
        self.spec, self.chain, self.now, self.steps = spec, chain, now, steps
        self.rng = random.Random(spec.random_seed)
        ids = SequentialIds(self.rng.getrandbits(128))
        self.tenant_id = str(chain.tenant_id)
        self.stock = StockBook(self.tenant_id, ids)
        self.sales = SalesBook(self.tenant_id, "USD", self.stock, ids)
        self.claims = ClaimsBook(self.tenant_id, self.sales, ids)
        self.ids = ids
        members = dict(zip((p.local_part for p in people.STAFF), (str(u) for u in chain.member_user_ids), strict=True))
        self.members = members
        self.owner = str(chain.owner_user_id)
        self.branches = [
            BulkBranch(str(branch_id), demo.branch.code, demo.branch.time_zone, _tax(demo.branch))
            for branch_id, demo in zip(chain.branch_ids, people.BRANCHES, strict=True)
        ]
        self.created = now - timedelta(days=spec.history_days + 31)
        self.patients: list[NewPatient] = []
        self.cards: list[PatientCard] = []
        self.histories: list[BranchHistory] = []
        self.rx_counts: dict[str, int] = {}  # what the dispensary made (prescriptions, fills, pickups...)

    def staff(self, code: str) -> Staff:
        suffix = {"MAIN": "", "LAKE": ".lakeside", "HARB": ".harbour"}[code]
        m = self.members
        pharmacist, technician, cashier = (m[f"{role}{suffix}"] for role in ("pharmacist", "technician", "cashier"))
        return Staff([cashier, cashier, technician, pharmacist], pharmacist, technician, m["manager"])

    # --- the catalog, people and payers ----------------------------------------------------------

    def make_catalog(self) -> list[tuple[catalog.Product, str]]:
        made = []
        for product in catalog.products(self.rng):
            medicine = self.stock.add_medicine(product.catalog_fields(), created_at=self.created)
            made.append((product, medicine.id))
        return made

    def make_people(self) -> None:
        rng, spec = self.rng, self.spec
        payers = [
            (
                self.claims.add_payer(name=name, payer_code=code, contact=contact, created_at=self.created),
                code,
                plans,
            )
            for code, name, contact, plans in people.PAYERS
        ]
        today = self.now.date()
        for n in range(spec.patients):
            first, last = rng.choice(people.FIRST_NAMES), rng.choice(people.LAST_NAMES)
            branch = self.branches[n % len(self.branches)]
            registered = self.created + timedelta(days=rng.randint(0, spec.history_days), seconds=rng.randint(0, 86399))
            registered = min(registered, self.now - timedelta(days=1))
            patient = NewPatient(
                id=self.ids(),
                full_name=f"{first} {last}",
                date_of_birth=today - timedelta(days=rng.randint(3 * 365, 92 * 365)),
                home_branch_id=branch.id,
                created_by=self.staff(branch.code).pharmacist,
                created_at=registered,
                phone=f"+1{rng.choice(('212', '312', '619', '646', '773', '858'))}555{rng.randint(100, 199):04d}"
                if rng.random() < 0.85
                else "",
                email=f"{first}.{last}{n}@mail.example".lower() if rng.random() < 0.6 else "",
                address=f"{rng.randint(1, 999)} {rng.choice(people.STREETS)}",
                allergies=", ".join(rng.sample(people.ALLERGIES, rng.choice((1, 1, 2)))) if rng.random() < 0.3 else "",
                notes=rng.choice(people.NOTES),
            )
            if patient.phone or patient.email:
                patient = NewPatient(**{**patient.__dict__, "contact_consent": rng.random() < 0.7})
            self.patients.append(patient)
            coverage = None
            if rng.random() < 0.55:
                payer_id, code, plans = rng.choice(payers)
                coverage = self.claims.add_coverage(
                    patient_id=patient.id,
                    payer_id=payer_id,
                    member_id=f"{code}{rng.randint(10_000_000, 99_999_999)}",
                    plan=rng.choice(plans),
                    group_number=f"GRP-{rng.randint(1000, 9999)}",
                    created_at=registered,
                    active=rng.random() < 0.95,
                )
            active = coverage if coverage is not None and coverage.active else None
            self.cards.append(PatientCard(patient.id, branch.id, active))

    # --- the history, written branch by branch as it is replayed ---------------------------------

    def load(self, session: Session, writer: BulkWriter) -> None:
        """Replay each branch and hand its rows to the writer, which inserts them while the next
        branch is replayed; the audit log (every branch's voids and refunds, in time order) comes last."""
        products = self.prepare()
        writer.submit("catalog", lambda: self.stock.write_catalog(session))
        writer.submit(
            "patients",
            lambda: {"patients": load_patients(session, self.tenant_id, self.patients, today=self.now.date())},
        )
        writer.submit("payers", lambda: self.claims.write_payers_and_coverages(session))
        for branch, demo in zip(self.branches, people.BRANCHES, strict=True):
            mark = time.perf_counter()
            self.replay(branch, demo, products, session=session, writer=writer)
            self.steps[f"replay {branch.code}"] = time.perf_counter() - mark
        self.reorder_points()
        writer.submit("reorder levels", lambda: {"reorder_levels": self.stock.write_reorder_levels(session)})
        writer.submit("audit log", lambda: {"audit_events": self._write_audit_log(session)})

    def prepare(self) -> list[tuple[catalog.Product, str]]:
        """The catalog, patients and payers, and the coming recall; returns the products with their ids."""
        mark = time.perf_counter()
        products = self.make_catalog()
        self.make_people()
        self.recall(products)
        self.steps["catalog and people"] = time.perf_counter() - mark
        return products

    def replay_all(self) -> None:
        """The whole history without writing it (determinism checks, profiling)."""
        products = self.prepare()
        for branch, demo in zip(self.branches, people.BRANCHES, strict=True):
            self.replay(branch, demo, products)
        self.reorder_points()

    def recall(self, products: list[tuple[catalog.Product, str]]) -> None:
        """A metformin lot every branch received ~75 days ago is recalled nine days ago."""
        product, medicine_id = max(
            (pair for pair in products if pair[0].generic == "Metformin" and pair[0].strength == "500 mg"),
            key=lambda pair: pair[0].weight,
        )
        self.recalled_medicine = medicine_id
        self.recalled_lot = f"MET{(self.now - timedelta(days=75)):%y%m}R117"
        recalled_at = self.now - timedelta(days=9, hours=3)
        self.stock.recall(medicine_id, self.recalled_lot, reason=people.RECALL_REASON, at=recalled_at)

    def replay(
        self,
        branch: BulkBranch,
        demo: people.DemoBranch,
        products: list[tuple[catalog.Product, str]],
        *,
        session: Session | None = None,
        writer: BulkWriter | None = None,
    ) -> None:
        """One branch's history. With a writer, every month the bills that nothing can change any more
        (sold SETTLED_AFTER ago) go to it with the chain's events up to then, so the database inserts
        while the replay goes on; the rest, the lots, picks and ledger follow when the branch is done."""
        rng = random.Random(f"{self.spec.random_seed}-{branch.code}")
        lines = [
            BranchLine(
                self.stock.medicines[medicine_id], product, product.weight * rng.uniform(0.6, 1.4), _mean(product)
            )
            for product, medicine_id in products
        ]
        history = BranchHistory(
            branch=branch,
            demo=demo,
            lines=lines,
            staff=self.staff(branch.code),
            patients=[card for card in self.cards if card.home_branch_id == branch.id],
            everyone=self.cards,
            stock=self.stock,
            sales=self.sales,
            claims=self.claims,
            rng=rng,
            now=self.now,
            first_day=history_start(self.now, branch.time_zone, self.spec.history_days),
        )
        recalled = next(line for line in lines if line.medicine.id == self.recalled_medicine)
        delivered = max(history.first_day, history.today - timedelta(days=75))
        history.recalled_delivery(recalled, delivered, self.recalled_lot, history.today + timedelta(days=700))

        def hand_over(day: date) -> None:
            if writer is None or session is None or (day - history.first_day).days % HAND_OVER_DAYS:
                return
            before = history.at(day, 0) - SETTLED_AFTER
            bills, events = self.sales.settled(branch.id, before), self.sales.events_before(branch.id, before)
            writer.submit(branch.code, functools.partial(self.write_settled, session, branch.id, bills, events))

        history.run(after_day=hand_over)
        self.histories.append(history)
        if writer is not None and session is not None:
            bills = self.sales.settled(branch.id, self.now + timedelta(days=1))  # the history is over
            events = self.sales.events_before(branch.id)
            writer.submit(branch.code, functools.partial(self.write_branch, session, branch.id, bills, events))

    def reorder_points(self) -> None:
        """Manual reorder points on the busier lines of each branch (about a week of demand, order
        three); on a few, the point staff set is above what is on the shelf now: low-stock alerts."""
        for history in self.histories:
            busy = [line for line in history.lines if line.product.demand in ("A", "B")]
            chosen = history.rng.sample(busy, 30)
            for n, line in enumerate(chosen):
                week = history.daily_demand(line, history.today) * 7
                on_hand = sum(lot.quantity for lot in self.stock.shelf(history.branch.id, line.medicine.id))
                pack = line.product.pack
                point = max(pack, round(week / pack) * pack)
                if n < 4:  # staff raised these after last week's shortages
                    point = max(point, on_hand + pack)
                self.stock.set_reorder_level(
                    history.branch.id, line.medicine.id, reorder_point=point, reorder_quantity=max(pack, point * 3)
                )

    def write_settled(
        self, session: Session, branch_id: str, bills: list[BulkBill], events: list[NewFinancialEvent]
    ) -> dict[str, int]:
        """Settled bills of a branch and the chain's events up to then."""
        counts = self.sales.write_bills(session, bills)
        counts["financial_audit_events"] = self.sales.write_chain(session, branch_id, events)
        return counts

    def write_branch(
        self, session: Session, branch_id: str, bills: list[BulkBill], events: list[NewFinancialEvent]
    ) -> dict[str, int]:
        """The branch's last bills and events, its claims, then its lots, the picks and credit-note lots
        that point at them, its ledger and its number counters: each domain writes its own tables."""
        counts = self.write_settled(session, branch_id, bills, events)
        # Claims once per branch, not with each batch of bills: the foreign-key check of their events
        # plans its lookup the first time it runs, and on a claims table of a few hundred rows it
        # planned one that grew slower with every batch (about 20 us a row this way, 500 the other).
        counts.update(self.claims.write_claims(session, self.sales.bills[branch_id]))
        counts["batches"] = self.stock.write_lots(session, branch_id)
        counts.update(self.sales.write_picks(session, branch_id))
        counts["stock_movements"] = self.stock.write_movements(session, branch_id)
        counts.update(self.sales.write_counters(session, branch_id))
        return counts

    def _write_audit_log(self, session: Session) -> int:
        events = sorted(self.sales.audit_events, key=lambda event: event.occurred_at)
        return append_audit_events(session, self.chain.tenant_id, events)


def history_start(now: datetime, time_zone: str, days: int) -> date:
    """The branch's first local day of trading: `days` before its local today."""
    return now.astimezone(ZoneInfo(time_zone)).date() - timedelta(days=days)


def _tax(branch: NewBranch) -> TaxSettings:
    return TaxSettings(prices_include_tax=branch.prices_include_tax, standard_rate=Decimal(branch.default_tax_rate))


def _mean(product: catalog.Product) -> float:
    if product.pack == 1:
        return 1.08
    if product.schedule == "otc":
        return product.pack * 1.12
    return product.pack * (1.5 if product.chronic else 1.0)


def _owner(chain: ProvisionedTenant) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=chain.owner_user_id, role="owner")


def _branch_details(chain: ProvisionedTenant) -> None:
    """Each branch's phone and opening hours (the hours its history traded in), stated by the owner
    through the branches service, as Settings would."""
    ctx = _owner(chain)
    for branch_id, demo in zip(chain.branch_ids, people.BRANCHES, strict=True):
        branch = run_in_tenant(ctx, get_branch, str(branch_id))
        run_in_tenant(
            ctx,
            update_branch,
            branch.id,
            name=branch.name,
            code=branch.code,
            address=branch.address,
            phone=demo.phone,
            time_zone=branch.time_zone,
            default_tax_rate=str(branch.default_tax_rate),
            reduced_tax_rate=str(branch.reduced_tax_rate),
            prices_include_tax=branch.prices_include_tax,
            opening_hours=demo.hours_by_weekday(),
        )


def _purchasing(chain: ProvisionedTenant) -> None:
    """Suppliers and open purchase orders, through the purchasing service as the owner: the nightly
    orders of the history came from these wholesalers; today's suggestion from the reorder points is
    sent to one, and another branch's waits as a draft."""
    from backend.inventory.purchasing import create_supplier, send_order, suggest_order

    ctx = _owner(chain)
    suppliers = [
        run_in_tenant(
            ctx,
            create_supplier,
            name=name,
            contact_name="Order desk",
            email=f"orders@{name.split()[0].lower()}.example",
            lead_time_days=1,
        )
        for name in SUPPLIERS
    ]
    first = run_in_tenant(ctx, suggest_order, supplier_id=suppliers[0], branch_id=str(chain.branch_ids[0]))
    if first is not None:
        run_in_tenant(ctx, send_order, first)
    run_in_tenant(ctx, suggest_order, supplier_id=suppliers[1], branch_id=str(chain.branch_ids[1]))


PRESCRIBERS = (
    ("Dana Rivera", "MD", "1234567893", "AB1234563"),
    ("Samuel Okafor", "DO", "1245319599", "BO2468026"),
    ("Priya Natarajan", "NP", "1679576722", ""),
)
# (medicine, strength, sig, quantity, where it ends): every state of the queue in every branch
DEMO_PRESCRIPTIONS = (
    ("Lisinopril", "10 mg", "1 tab po daily", 90, "fill"),
    ("Warfarin", "5 mg", "1 tab po daily", 30, "fill"),
    ("Ibuprofen", "800 mg", "1 tab po tid prn pain", 30, "verification"),  # major interaction with the warfarin
    ("Amoxicillin", "500 mg", "1 cap po tid x 10 days", 30, "verification"),
    ("Atorvastatin", "20 mg", "1 tab po qhs", 30, "data_entry"),
    ("Oxycodone", "5 mg", "1 tab po q6h prn pain", 20, "on_hold"),
    ("Alprazolam", "0.5 mg", "1 tab po bid prn anxiety", 60, "waiting_prescriber"),
    ("Amoxicillin", "875 mg", "1 tab po bid", 20, "cancelled"),
    ("", "", "", 0, "intake"),
)


def _prescriptions(chain: ProvisionedTenant, world: _DemoWorld) -> None:
    """Prescribers, and prescriptions in every state of the queue at each branch, through the prescription
    services as the branch's technician and pharmacist would (the pharmacist signs with the demo password).
    A patient of each branch is on warfarin and has a new NSAID waiting for verification."""
    from backend.accounts.signatures import sign
    from backend.demo import dispensing
    from backend.inventory.service import search_medicines
    from backend.prescriptions import prescribers, service, verification

    owner = _owner(chain)
    written = [
        run_in_tenant(owner, prescribers.create_prescriber, full_name=name, credentials=cred, npi=npi, dea_number=dea)
        for name, cred, npi, dea in PRESCRIBERS
    ]
    makers: dict[tuple[str, str], list[tuple[str, str]]] = {}  # every maker's (id, barcode) of a generic and strength
    for name in {m for m, *_ in DEMO_PRESCRIPTIONS if m} | {m for m, _ in dispensing.DRUGS}:
        for medicine in run_in_tenant(owner, search_medicines, name)[0]:
            makers.setdefault((medicine.generic_name, medicine.strength), []).append(
                (medicine.id, medicine.barcode or "")
            )
    password = get_settings().DEMO_OWNER_PASSWORD
    for branch, history in zip(world.branches, world.histories, strict=True):
        staff = world.staff(branch.code)
        technician = TenantContext(tenant_id=chain.tenant_id, user_id=uuid.UUID(staff.technician), role="technician")
        pharmacist = TenantContext(tenant_id=chain.tenant_id, user_id=uuid.UUID(staff.pharmacist), role="pharmacist")
        adult = history.today - timedelta(days=40 * 365)  # an adult: no paediatric dose alerts
        adults = [
            p for p in world.patients if p.home_branch_id == branch.id and not p.allergies and p.date_of_birth < adult
        ]
        patient = adults[0]
        covered = {card.id for card in world.cards if card.coverage is not None}
        regulars = sorted(adults[1:], key=lambda p: p.id not in covered)  # insured first: their fills are claimed
        waiting: dict[str, Any] = {}
        # Each branch's prescriptions name the maker it has most of (the history decided what it stocks).
        day = history.today.toordinal()
        stocked = {
            key: max(found, key=lambda pair: world.stock.sellable(branch.id, pair[0], day, world.now))
            for key, found in makers.items()
        }
        for index, (name, strength, sig, quantity, state) in enumerate(DEMO_PRESCRIPTIONS):
            entry: dict[str, Any] = {}
            if name:
                entry = {
                    "prescriber_id": written[index % len(written)].id,
                    "drug_written": f"{name} {strength}",
                    "medicine_id": stocked[(name, strength)][0],
                    "sig_written": sig,
                    "quantity": str(quantity),
                    "date_written": (history.today - timedelta(days=index)).isoformat(),
                }
            rx = run_in_tenant(
                technician,
                service.create_prescription,
                branch_id=branch.id,
                patient_id=patient.id,
                source=("walk_in", "fax", "phone", "portal")[index % 4],
                **entry,
            )
            if state in ("intake", "data_entry"):
                continue
            run_in_tenant(technician, service.submit_for_verification, rx.id)
            if state == "fill":
                review = run_in_tenant(pharmacist, verification.review, rx.id)
                overrides = {
                    a.code: "reviewed with the patient and prescriber" for a in review.alerts if a.needs_resolution
                }
                signature = sign(
                    pharmacist,
                    password=password,
                    meaning=verification.signature_meaning(rx.rx_number, len(overrides)),
                    entity_type="prescription",
                    entity_id=rx.id,
                )
                waiting[name] = run_in_tenant(
                    pharmacist, verification.verify, rx.id, signature_id=signature, overrides=overrides
                )
            elif state in ("on_hold", "waiting_prescriber"):
                reason = "prior authorization pending" if state == "on_hold" else "called about the quantity"
                run_in_tenant(technician, service.hold, rx.id, reason, waiting_prescriber=state == "waiting_prescriber")
            elif state == "cancelled":
                run_in_tenant(pharmacist, service.cancel, rx.id, "prescriber sent a new one with another strength")
        cashier = TenantContext(tenant_id=chain.tenant_id, user_id=uuid.UUID(staff.sellers[0]), role="cashier")
        relief = TenantContext(
            tenant_id=chain.tenant_id, user_id=uuid.UUID(world.members["pharmacist.relief"]), role="pharmacist"
        )
        here = dispensing.Branch(
            branch.id, branch.code, history.today, technician, pharmacist, cashier, relief, regulars
        )
        desk = dispensing.Dispensary(
            here,
            [p.id for p in written],
            {key: pair[0] for key, pair in stocked.items()},
            {key: pair[1] for key, pair in stocked.items()},
        )
        desk.dispense(waiting)
        for what, n in desk.counts.items():
            world.rx_counts[what] = world.rx_counts.get(what, 0) + n


DEMO_BRANCH = NewBranch(name="Riverside (demo)", code="DEMO", address="7 River Walk", time_zone="UTC")
DEMO_STAFF = (
    ("pharmacist", "demo-pharmacist"),
    ("technician", "demo-technician"),
    ("cashier", "demo-cashier"),
)


def load_demo_data(ctx: TenantContext) -> None:
    """The sign-up page's "load demo data" box: a second branch and sample staff invitations to try
    the staff and branch features with (not e-mailed: the addresses are placeholders)."""
    require(ctx, "tenant.settings")
    time_zone = next((branch.time_zone for branch in run_in_tenant(ctx, list_branches)), "UTC")
    run_in_tenant(
        ctx,
        create_branch,
        name=DEMO_BRANCH.name,
        code=DEMO_BRANCH.code,
        address=DEMO_BRANCH.address,
        time_zone=time_zone,
    )
    with tenant_session(ctx) as session:
        record_audit(session, ctx.tenant_id, "demo.loaded", actor_user_id=ctx.user_id)
    for role, name in DEMO_STAFF:
        invite(ctx, f"{name}@{ctx.tenant_id.hex[:8]}.example.invalid", role, send_email=False)


def load_demo_data_for_new_chain(user_id: str, tenant_id: str) -> None:
    """`load_demo_data` as the owner of a chain sign-up has just created (the sign-up adapter calls it
    after `accounts.service.sign_up`, when the box was ticked). A failure is logged, not raised: the
    chain is ready, and missing samples are not worth failing a sign-up for."""
    ctx = TenantContext(tenant_id=uuid.UUID(tenant_id), user_id=uuid.UUID(user_id), role=OWNER)
    try:
        load_demo_data(ctx)
    except PharmacyError:
        log.exception("demo data could not be loaded")
