"""The demo chain's people: branches, staff (one sign-in per role), patients' names, payers.

All names are invented; e-mail addresses use the reserved .example domain, phone numbers the
555-01xx range that US numbering keeps for fiction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tenants.provisioning import NewBranch


@dataclass(frozen=True)
class DemoBranch:
    branch: NewBranch
    bills_per_day: int  # an ordinary Wednesday; weekdays and seasons scale it
    phone: str
    opening_hours: tuple[tuple[int, int], ...]  # (open, close) local hour, Monday first: when it trades

    def hours_by_weekday(self) -> dict[str, str]:
        """The opening hours as the branches service takes them ({"mon": "08:00-21:00", ...})."""
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        return {
            day: f"{opens:02d}:00-{closes:02d}:00"
            for day, (opens, closes) in zip(days, self.opening_hours, strict=True)
        }


WEEKDAY_HOURS = ((8, 21), (8, 21), (8, 21), (8, 21), (8, 21), (9, 19), (10, 18))

BRANCHES = (
    DemoBranch(
        NewBranch(
            name="Main Street",
            code="MAIN",
            address="1 Main Street, Springfield, NY 10001",
            time_zone="America/New_York",
            default_tax_rate=Decimal("8.8750"),
        ),
        bills_per_day=100,
        phone="+12125550101",
        opening_hours=WEEKDAY_HOURS,
    ),
    DemoBranch(
        NewBranch(
            name="Lakeside",
            code="LAKE",
            address="48 Lake Shore Drive, Chicago, IL 60611",
            time_zone="America/Chicago",
            default_tax_rate=Decimal("10.2500"),
        ),
        bills_per_day=92,
        phone="+13125550102",
        opening_hours=WEEKDAY_HOURS,
    ),
    DemoBranch(
        NewBranch(
            name="Harbour",
            code="HARB",
            address="22 Harbour Road, San Diego, CA 92101",
            time_zone="America/Los_Angeles",
            default_tax_rate=Decimal("7.7500"),
        ),
        bills_per_day=85,
        phone="+16195550103",
        opening_hours=WEEKDAY_HOURS,
    ),
)


@dataclass(frozen=True)
class DemoPerson:
    local_part: str  # of the e-mail address, at the chain's demo domain
    full_name: str
    role: str
    branch_codes: tuple[str, ...] = ()  # none: every branch
    shown: bool = False  # one sign-in per role is listed by `make run` and the README


# The owner comes from settings (DEMO_OWNER_EMAIL); everyone else signs in with the same demo password.
STAFF = (
    DemoPerson("manager", "Morgan Lee", "manager", shown=True),
    DemoPerson("pharmacist", "Priya Shah", "pharmacist", ("MAIN",), shown=True),
    DemoPerson("technician", "Theo Brooks", "technician", ("MAIN",), shown=True),
    DemoPerson("cashier", "Casey Kim", "cashier", ("MAIN",), shown=True),
    DemoPerson("pharmacist.lakeside", "Daniel Okafor", "pharmacist", ("LAKE",)),
    DemoPerson("technician.lakeside", "Rosa Martinez", "technician", ("LAKE",)),
    DemoPerson("cashier.lakeside", "Sam Novak", "cashier", ("LAKE",)),
    DemoPerson("pharmacist.harbour", "Hana Sato", "pharmacist", ("HARB",)),
    DemoPerson("technician.harbour", "Luis Ortega", "technician", ("HARB",)),
    DemoPerson("cashier.harbour", "Jordan Reyes", "cashier", ("HARB",)),
    # The relief pharmacist covers every branch (takes transfer calls, fills in on days off).
    DemoPerson("pharmacist.relief", "Omar Haddad", "pharmacist"),
)

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret "
    "Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa "
    "George Deborah Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Amy Jacob "
    "Kathleen Gary Angela Nicholas Shirley Eric Brenda Jonathan Emma Aisha Wei Mei Raj Ananya Omar Fatima Diego "
    "Lucia Kenji Yuki Chidi Ngozi Ivan Olga Mateo Sofia"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
    "Campbell Mitchell Carter Roberts Chen Patel Kim Singh Cohen Murphy Okafor Ivanova Tanaka Rossi Novak Haddad"
).split()
STREETS = (
    "Oak Street",
    "Maple Avenue",
    "Cedar Lane",
    "Park Road",
    "Elm Street",
    "Pine Street",
    "Washington Avenue",
    "Lake Street",
    "Hill Road",
    "River Road",
    "Sunset Boulevard",
    "Church Street",
)
ALLERGIES = (
    "Penicillin (hives)",
    "Sulfonamides (rash)",
    "Aspirin (wheezing)",
    "Codeine (nausea, vomiting)",
    "Ibuprofen and other NSAIDs (angioedema)",
    "Latex",
    "Cephalosporins (rash)",
    "Shellfish; iodinated contrast",
    "Erythromycin (stomach upset)",
    "Lisinopril (cough)",
    "Peanuts (anaphylaxis; carries an epinephrine pen)",
)
NOTES = (
    "Prefers large-print labels.",
    "Blister packs for the weekly medicines.",
    "Call before delivering; works nights.",
    "Speaks Spanish; daughter usually translates.",
    "Uses a pill organiser; synchronise refills to the 1st.",
    "",
    "",
    "",
)
# Invented insurers and benefit managers (code, name, contact, plans).
PAYERS = (
    ("EVG", "Evergreen Health Plan", "claims@evergreen-health.example", ("Silver PPO", "Gold PPO")),
    ("NSM", "Northstar Medicare Advantage", "pharmacy@northstar-ma.example", ("Part D Basic", "Part D Plus")),
    ("UBT", "Union Benefits Trust", "rx@union-benefits.example", ("Members Rx",)),
    ("SRX", "Summit Rx Benefits", "help@summitrx.example", ("Standard", "High Deductible")),
)
REJECTIONS = (
    "Refill too soon (code 79)",
    "Prior authorization required (code 75)",
    "Product not on formulary (code 70)",
    "Member not eligible on date of service (code 65)",
    "Plan limitations exceeded (code 76)",
)
VOID_REASONS = (
    "Customer changed their mind at the till",
    "Wrong item scanned; rung up again",
    "Customer left without paying",
    "Duplicate sale rung up twice",
)
REFUND_REASONS = (
    ("Customer returned the pack unopened", True),
    ("Bought the wrong strength; exchanged", True),
    ("Duplicate purchase", True),
    ("Adverse reaction; prescriber advised to stop", False),
    ("Damaged packaging found at home", False),
)
ADJUST_REASONS = ("damaged pack found on the shelf", "count correction after cycle count", "broken bottle")
RECALL_REASON = "Manufacturer recall: NDMA above the acceptable daily intake (FDA enforcement report)"
