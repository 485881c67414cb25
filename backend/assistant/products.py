"""Which products a stock question names, and how much of each is on the shelf.

A pharmacy's catalog holds the same generic at the same strength from several makers (the originator
brand and two or three generic makers, each with its own barcode), so "how many amitriptyline 10 mg"
is a question about a group of products, and "Teva amitriptyline 10 mg" about one of them. The rules:

- Strength, form and release named in the question narrow the match: 10 mg means 10 mg, never 25 mg;
  "ER" means the extended-release products only; "capsules" the capsules.
- A maker or brand ("Teva", "Lipitor") and a barcode tell products apart.
- The generic with its strength (and form and release) is a group: its total comes first, then each
  product with its maker and barcode, so two products are never shown under one name.
- Nothing is dropped silently: when more products match than an answer lists, it says how many and
  what to name to narrow them; when a named strength, form or maker matches nothing, it says what
  there is instead and gives no number.

Everything here is read in the caller's tenant transaction (`find_products(session, ctx, ...)`), so
row-level security and the member's branch scope decide what exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from backend.drugs.matcher import resolve
from tenants.context import TenantContext
from tenants.roles import require

MAX_PRODUCTS_LISTED = 12  # products listed one by one in one answer; groups are always all given

# --- reading the words of a product ------------------------------------------------------------------

_UNIT = r"mg|mcg|µg|ug|g|gm|grams?|ml|meq|iu|units?|%"
_STRENGTH = re.compile(
    rf"(?<![\w.])(\d+(?:\.\d+)?|\.\d+)\s*({_UNIT})(?:\s*/\s*(\d+(?:\.\d+)?)?\s*(ml))?(?![\w])", re.IGNORECASE
)
_BARCODE = re.compile(r"(?<!\d)(\d{8,14})(?!\d)")
_BARE_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?|\.\d+)(?![\w.%])")
# Release kinds are kept apart: bupropion SR and XL are different products, not interchangeable.
_RELEASES = {
    "extended": r"\b(?:er|xr|xl|la|extended[- ]release|long[- ]acting|ext[- ]rel)\b",
    "sustained": r"\b(?:sr|sustained[- ]release)\b",
    "controlled": r"\b(?:cr|cd|controlled[- ]release|modified[- ]release)\b",
    "delayed": r"\b(?:dr|ec|delayed[- ]release|enteric[- ]coated|gastro[- ]resistant)\b",
    "immediate": r"\b(?:ir|immediate[- ]release|regular[- ]release)\b",
}
_KINDS = ("extended", "sustained", "controlled", "delayed")
_RELEASE = {kind: re.compile(pattern, re.IGNORECASE) for kind, pattern in _RELEASES.items()}
# The words staff use for a form, and the catalog's form they mean.
_FORMS = {
    "tablet": ("tablets", "tablet", "tabs", "tab", "caplets", "caplet", "pills", "pill"),
    "capsule": ("capsules", "capsule", "caps", "cap"),
    "suspension": ("suspension", "susp", "liquid", "oral liquid", "oral solution", "solution", "syrup", "elixir"),
    "inhaler": ("inhalers", "inhaler", "puffer", "puffers", "mdi"),
    "injection": ("injections", "injection", "pens", "pen", "vials", "vial"),
    "cream": ("creams", "cream"),
    "ointment": ("ointments", "ointment"),
    "gel": ("gel", "gels"),
    "patch": ("patches", "patch"),
    "drops": ("eye drops", "drops"),
    "spray": ("nasal spray", "sprays", "spray"),
    "powder": ("powder", "sachets", "sachet"),
}
_FORM_WORDS = sorted(((w, form) for form, words in _FORMS.items() for w in words), key=lambda p: -len(p[0]))
_FORM = re.compile(r"\b(" + "|".join(re.escape(w) for w, _ in _FORM_WORDS) + r")\b", re.IGNORECASE)
_FORM_OF = dict(_FORM_WORDS)
# Words that can stand around a product's name without naming anything (the engine removes most).
_FILLER = frozenset(
    "a an the of for and or in at on to by from our we us pls please any some stock qty units unit count "
    "total level levels inventory hand on-hand left many much how what whats what's current currently".split()
)
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")

_MASS = {"mg": Decimal(1), "g": Decimal(1000), "gm": Decimal(1000), "gram": Decimal(1000), "grams": Decimal(1000)}
_MASS |= {"mcg": Decimal("0.001"), "µg": Decimal("0.001"), "ug": Decimal("0.001")}


@dataclass(frozen=True)
class Strength:
    """A strength in comparable terms: milligrams for masses, else the unit as written ("meq", "%")."""

    amount: Decimal
    unit: str  # "mg", "meq", "iu", "units", "%", or "" for a bare number ("lorazepam 0.5")
    per_ml: Decimal | None = None  # a liquid's "250 mg/5 mL"
    written: Decimal | None = None  # the number as written in its own unit (1 g: amount 1000, written 1)

    def fits(self, other: Strength) -> bool:
        """Does this strength, as asked, describe the catalog's `other`? A bare number fits the number in
        the catalog's own unit ("lorazepam 0.5" is 0.5 mg)."""
        if self.unit == "":
            return self.amount in (other.amount, other.written)
        if self.per_ml is not None and other.per_ml is not None and self.per_ml != other.per_ml:
            return False
        return self.unit == other.unit and self.amount == other.amount


def parse_strength(value: str) -> Strength | None:
    """The first strength written in `value` ("0.5 mg", "1 g", "250 mg/5 mL", "100 units/mL", "5%")."""
    m = _STRENGTH.search(value)
    if not m:
        return None
    return _strength(m)


def _strength(m: re.Match[str]) -> Strength | None:
    try:
        amount = Decimal(m.group(1))
    except InvalidOperation:
        return None
    unit = m.group(2).lower()
    per_ml = None
    if m.group(4):
        per_ml = Decimal(m.group(3) or "1")
    if unit in _MASS:
        return Strength((amount * _MASS[unit]).normalize(), "mg", per_ml, amount.normalize())
    unit = {"unit": "units"}.get(unit, unit)
    return Strength(amount.normalize(), unit, per_ml, amount.normalize())


def _bare(value: str) -> Strength | None:
    try:
        return Strength(Decimal(value.strip()).normalize(), "")
    except InvalidOperation:
        return None


def release_of(value: str) -> str:
    """The release kind written in a name or form ("extended-release tablet", "Wellbutrin XL"); "" is
    immediate release, the default."""
    for kind in _KINDS:
        if _RELEASE[kind].search(value):
            return kind
    return ""


def form_of(value: str) -> str:
    m = _FORM.search(value)
    return _FORM_OF[m.group(1).lower()] if m else ""


@dataclass(frozen=True)
class ProductQuery:
    """What a question says about the product: its name words and whatever narrows them."""

    words: tuple[str, ...]  # the name: generic, brand, maker or the start of a catalog name
    strength: Strength | None = None
    strength_text: str = ""  # as typed, for the answer ("0.5 mg")
    form: str = ""
    release: str = ""  # one of _KINDS, "immediate", or "" (not said)
    barcode: str = ""
    text: str = ""  # the whole phrase, lower case: makers are found in it ("wellbutrin xl", "sun pharma")

    def describe(self) -> str:
        parts = [" ".join(self.words), self.strength_text]
        if self.release:
            parts.append(f"{self.release}-release" if self.release != "immediate" else "immediate-release")
        parts.append(self.form)
        return " ".join(p for p in parts if p) or self.barcode


def read_product(
    phrase: str, *, strength: str = "", form: str = "", maker: str = "", barcode: str = ""
) -> ProductQuery:
    """A product as named in free text ("amitriptyline 10 mg Teva", "lorazepam 0.5", "metformin ER 500",
    "5012345000011"); the keyword arguments are the same facts given separately (a model's tool call)."""
    rest = f" {phrase} {maker} ".lower()
    code = barcode.strip() or ""
    if not code and (m := _BARCODE.search(rest)):
        code = m.group(1)
    if code:
        rest = rest.replace(code, " ")
    typed_strength = strength.strip()
    found: Strength | None = None
    if typed_strength:  # given apart (a model's call); the phrase may say it again
        found = parse_strength(typed_strength) or _bare(typed_strength)
        rest = _STRENGTH.sub(" ", rest)
    elif m := _STRENGTH.search(rest):
        found, typed_strength = _strength(m), m.group(0).strip()
        rest = rest[: m.start()] + " " + rest[m.end() :]
    release = ""
    for kind in (*_KINDS, "immediate"):
        if _RELEASE[kind].search(rest):
            release = kind
            rest = _RELEASE[kind].sub(" ", rest)
            break
    wanted_form = form_of(form) or form_of(rest)
    rest = _FORM.sub(" ", rest)
    if found is None and (m := _BARE_NUMBER.search(rest)):
        # "lorazepam 0.5": a number next to the name is its strength, in the catalog's own unit.
        found, typed_strength = _bare(m.group(1)), m.group(1)
        rest = rest[: m.start()] + " " + rest[m.end() :]
    words = tuple(w.strip("-'") for w in _WORD.findall(rest) if w.strip("-'") and w not in _FILLER)
    said = " ".join(f"{phrase} {maker}".lower().split())
    return ProductQuery(words, found, typed_strength, wanted_form, release, code, said)


# --- the catalog's products ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductStock:
    """One catalog product and its stock in the branches asked about."""

    medicine_id: str
    generic: str
    maker: str  # the brand or maker (catalog brand_name); "" when the catalog has none
    strength: str
    form: str
    release: str
    barcode: str
    unit: str
    on_hand: int
    sellable: int  # active, not expired by the branch's date, not recalled
    by_branch: dict[str, int]
    next_expiry: str | None

    @property
    def group(self) -> tuple[str, str, str, str]:
        return (self.generic.lower(), _strength_key(self.strength), self.form.lower(), self.release)

    @property
    def group_name(self) -> str:
        release = f"{self.release}-release" if self.release else ""
        form = self.form.lower()
        if release and release.split("-")[0] in form:
            release = ""  # the form already says it ("extended-release tablet")
        return " ".join(p for p in (self.generic, self.strength, release, form) if p)

    def label(self) -> str:
        """How one product is named so that two products never look the same: maker and barcode."""
        who = self.maker or "maker not recorded"
        return f"{who}, barcode {self.barcode}" if self.barcode else who

    def as_data(self) -> dict[str, Any]:
        return {
            "medicine_id": self.medicine_id,
            "name": self.group_name,
            "generic": self.generic,
            "maker": self.maker,
            "strength": self.strength,
            "form": self.form,
            "release": self.release or "immediate",
            "barcode": self.barcode,
            "on_hand": self.on_hand,
            "sellable": self.sellable,
            "by_branch": self.by_branch,
            "next_expiry": self.next_expiry,
            "unit": self.unit,
        }


def _strength_key(strength: str) -> str:
    parsed = parse_strength(strength)
    if parsed is None:
        return strength.strip().lower()
    return f"{parsed.amount}{parsed.unit}/{parsed.per_ml or ''}"


@dataclass(frozen=True)
class ProductGroup:
    """The generic at one strength, form and release: what "how many X 10 mg" asks about."""

    name: str
    products: tuple[ProductStock, ...]

    @property
    def on_hand(self) -> int:
        return sum(p.on_hand for p in self.products)

    @property
    def sellable(self) -> int:
        return sum(p.sellable for p in self.products)

    @property
    def unit(self) -> str:
        return self.products[0].unit

    def as_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "total_on_hand": self.on_hand,
            "total_sellable": self.sellable,
            "unit": self.unit,
            "products": [p.medicine_id for p in self.products],
        }


@dataclass(frozen=True)
class Match:
    """The answer to "which products?": the groups that fit, or why none does."""

    query: ProductQuery
    groups: tuple[ProductGroup, ...] = ()
    # When a narrowing word matched nothing: what it was and what the catalog has instead.
    unmatched: str = ""  # "strength" | "form" | "release" | "maker" | "barcode" | "name"
    alternatives: tuple[str, ...] = ()
    ignored_words: tuple[str, ...] = ()
    products_total: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "products_total", sum(len(g.products) for g in self.groups))


_CATALOG_SQL = """
    SELECT m.id, m.generic_name, m.brand_name, m.strength, m.dosage_form, m.barcode, m.dispensing_unit
    FROM medicines m
    WHERE m.tenant_id = :tenant AND m.is_active
      AND (lower(m.generic_name) = ANY(CAST(:names AS text[]))
           OR lower(m.generic_name) LIKE ANY(CAST(:prefixes AS text[]))
           OR lower(m.brand_name) = ANY(CAST(:words AS text[]))
           OR m.barcode = :barcode)
"""

# On hand per product and branch, in the branches the member may see. Sellable follows the counter's
# rule (inventory's dispense): an active lot, not expired by the branch's own date, not recalled.
_STOCK_SQL = """
    SELECT b.medicine_id, br.name AS branch, sum(b.quantity)::int AS on_hand,
           coalesce(sum(b.quantity) FILTER (WHERE b.status = 'active'
                AND b.expiry_date >= (now() AT TIME ZONE br.time_zone)::date
                AND NOT EXISTS (SELECT 1 FROM lot_recalls r WHERE r.tenant_id = b.tenant_id
                                AND r.medicine_id = b.medicine_id AND r.lot_number = b.lot_number)), 0)::int
                AS sellable,
           min(b.expiry_date) FILTER (WHERE b.quantity > 0 AND b.status = 'active'
                AND b.expiry_date >= (now() AT TIME ZONE br.time_zone)::date) AS next_expiry
    FROM batches b JOIN branches br ON br.tenant_id = b.tenant_id AND br.id = b.branch_id
    WHERE b.tenant_id = :tenant AND b.medicine_id = ANY(CAST(:ids AS uuid[]))
      AND (CAST(:visible AS uuid[]) IS NULL OR b.branch_id = ANY(CAST(:visible AS uuid[])))
    GROUP BY b.medicine_id, br.name
"""


def _makers(session: Session, ctx: TenantContext) -> set[str]:
    """The chain's brand and maker names, so "Mylan" is read as a maker and never fuzzily as a drug."""
    rows = session.execute(
        text("SELECT DISTINCT lower(brand_name) FROM medicines WHERE tenant_id = :t AND brand_name <> ''"),
        {"t": ctx.tenant_id},
    ).scalars()
    return {r for r in rows if r}


def _drug_names(words: tuple[str, ...], makers: list[str]) -> tuple[str | None, set[str], list[str]]:
    """The generic the words name (with every name it goes by), and the words left over (the makers'
    words are never read as a drug: the dictionary fuzzily reads "Mylan" as tylosin)."""
    maker_words = {w for m in makers for w in m.split()}
    candidates = [w for w in words if w not in maker_words]
    # Longest exact phrase first ("metoprolol succinate", "insulin glargine"), then single words,
    # then one typo-tolerant look-up of a long word ("amoxicilin").
    for size in range(min(3, len(candidates)), 0, -1):
        for i in range(len(candidates) - size + 1):
            phrase = " ".join(candidates[i : i + size])
            match = resolve(phrase, fuzzy=False)
            # The dictionary finds a drug anywhere among the words it is given: a phrase counts only
            # when it is itself one of the drug's names, so "cipla amitriptyline" leaves "cipla" over.
            if match is not None and (size == 1 or phrase in match.names()):
                rest = candidates[:i] + candidates[i + size :]
                return match.generic, match.names(), rest
    for maker in makers:  # a brand name the chain stocks ("Lipitor")
        match = resolve(maker, fuzzy=False)
        if match is not None:
            return match.generic, match.names(), candidates
    for i, word in enumerate(candidates):
        if len(word) >= 5:
            match = resolve(word)
            if match is not None:
                return match.generic, match.names(), candidates[:i] + candidates[i + 1 :]
    return None, set(), candidates


def find_products(session: Session, ctx: TenantContext, query: ProductQuery, *, branch_id: str | None = None) -> Match:
    """The products `query` names and their stock (in `branch_id`, else the member's branches)."""
    require(ctx, "inventory.view")
    makers = _makers(session, ctx)
    # Makers as whole words of what was said, so two-word ones ("sun pharma", "wellbutrin xl") count too.
    said = query.text or " ".join(query.words)
    named_makers = [m for m in makers if re.search(rf"(?<![\w-]){re.escape(m)}(?![\w-])", said)]
    generic, names, rest = _drug_names(query.words, named_makers)
    # Without a dictionary name, the words may start a catalog name ("amox", a house product).
    prefixes = [f"{w}%" for w in rest if len(w) >= 3] if generic is None else []
    rows = session.execute(
        text(_CATALOG_SQL),
        {
            "tenant": ctx.tenant_id,
            "names": sorted(names),
            "prefixes": prefixes,
            "words": named_makers,
            "barcode": query.barcode or None,
        },
    ).all()
    if query.barcode:
        rows = [r for r in rows if r.barcode == query.barcode]
        if not rows:
            return Match(query, unmatched="barcode")
    elif generic is not None:
        rows = [r for r in rows if r.generic_name.lower() in names]
    elif prefixes:
        rows = [r for r in rows if any(r.generic_name.lower().startswith(p[:-1]) for p in prefixes)]
        # Every typed word must fit a product (so "amox teva" is Teva's amoxicillin, not all of them).
    else:
        rows = [r for r in rows if r.brand_name.lower() in named_makers]
    if not rows:
        return Match(query, unmatched="name")
    rows, why, alternatives = _narrow(rows, query, named_makers)
    if why:
        return Match(query, unmatched=why, alternatives=alternatives)
    stock = _stock(session, ctx, [str(r.id) for r in rows], branch_id)
    products = [_product(r, stock.get(str(r.id), {})) for r in rows]
    groups: dict[tuple[str, str, str, str], list[ProductStock]] = {}
    for p in sorted(products, key=lambda p: (p.generic.lower(), _sort_strength(p.strength), p.form, p.release)):
        groups.setdefault(p.group, []).append(p)
    ordered = tuple(
        ProductGroup(items[0].group_name, tuple(sorted(items, key=lambda p: (-p.on_hand, p.maker.lower()))))
        for items in groups.values()
    )
    ignored = tuple(w for w in rest if generic is not None and w not in makers)
    return Match(query, ordered, ignored_words=ignored)


def _narrow(rows: list[Any], query: ProductQuery, named_makers: list[str]) -> tuple[list[Any], str, tuple[str, ...]]:
    """Strength, release, form and maker, each narrowing the rows; the first that leaves nothing is said."""
    if query.strength is not None:
        fitting = [r for r in rows if (s := parse_strength(r.strength)) is not None and query.strength.fits(s)]
        if not fitting:
            return [], "strength", _distinct(r.strength for r in rows)
        rows = fitting
    if query.release:
        fitting = [r for r in rows if (_release(r) or "immediate") == query.release]
        if not fitting:
            return [], "release", _distinct(f"{_release(r) or 'immediate'}-release" for r in rows)
        rows = fitting
    if query.form:
        fitting = [r for r in rows if form_of(r.dosage_form) == query.form]
        if not fitting:
            return [], "form", _distinct(r.dosage_form for r in rows)
        rows = fitting
    if named_makers:
        fitting = [r for r in rows if r.brand_name.lower() in named_makers]
        if not fitting:
            return [], "maker", _distinct(r.brand_name or "maker not recorded" for r in rows)
        rows = fitting
    return rows, "", ()


def _release(row: Any) -> str:
    return release_of(f"{row.generic_name} {row.dosage_form} {row.strength} {row.brand_name}")


def _distinct(values: Any) -> tuple[str, ...]:
    return tuple(sorted(dict.fromkeys(v for v in values if v), key=_sort_strength))


def _sort_strength(value: str) -> tuple[Decimal, str]:
    parsed = parse_strength(value)
    return (parsed.amount if parsed else Decimal(0), value.lower())


def _stock(
    session: Session, ctx: TenantContext, ids: list[str], branch_id: str | None
) -> dict[str, dict[str, tuple[int, int, Any]]]:
    visible = [branch_id] if branch_id else sorted(str(b) for b in ctx.branch_ids) or None
    rows = session.execute(text(_STOCK_SQL), {"tenant": ctx.tenant_id, "ids": ids, "visible": visible}).all()
    out: dict[str, dict[str, tuple[int, int, Any]]] = {}
    for r in rows:
        out.setdefault(str(r.medicine_id), {})[r.branch] = (r.on_hand, r.sellable, r.next_expiry)
    return out


def _product(row: Any, per_branch: dict[str, tuple[int, int, Any]]) -> ProductStock:
    expiries = [e for _, _, e in per_branch.values() if e is not None]
    return ProductStock(
        medicine_id=str(row.id),
        generic=row.generic_name,
        maker=row.brand_name or "",
        strength=row.strength or "",
        form=row.dosage_form or "",
        release=_release(row),
        barcode=row.barcode or "",
        unit=row.dispensing_unit or "unit",
        on_hand=sum(q for q, _, _ in per_branch.values()),
        sellable=sum(s for _, s, _ in per_branch.values()),
        by_branch={branch: q for branch, (q, _, _) in sorted(per_branch.items())},
        next_expiry=min(expiries).isoformat() if expiries else None,
    )


# --- alerts, with the product each line is about -------------------------------------------------------

# Inventory's alert lines name a product by generic and strength ("Amitriptyline 10 mg"), which two
# makers' products share. The assistant gives each line its maker and barcode so that neither the
# member nor a model reads two products as one.

_LOT_MAKERS_SQL = """
    SELECT br.name AS branch, b.lot_number, m.generic_name || ' ' || m.strength AS medicine,
           m.id, m.brand_name, m.barcode
    FROM batches b JOIN branches br ON br.tenant_id = b.tenant_id AND br.id = b.branch_id
    JOIN medicines m ON m.tenant_id = b.tenant_id AND m.id = b.medicine_id
    WHERE b.tenant_id = :tenant AND b.lot_number = ANY(CAST(:lots AS text[]))
"""


@dataclass(frozen=True)
class Identity:
    medicine_id: str
    maker: str
    barcode: str

    def label(self) -> str:
        who = self.maker or "maker not recorded"
        return f"{who}, barcode {self.barcode}" if self.barcode else who


def lot_products(
    session: Session, ctx: TenantContext, lots: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], Identity]:
    """(branch, lot, "generic strength") of alert lines -> the product that lot belongs to."""
    require(ctx, "inventory.view")
    if not lots:
        return {}
    rows = session.execute(
        text(_LOT_MAKERS_SQL), {"tenant": ctx.tenant_id, "lots": sorted({lot for _, lot, _ in lots})}
    ).all()
    return {
        (r.branch, r.lot_number, r.medicine.strip()): Identity(str(r.id), r.brand_name or "", r.barcode or "")
        for r in rows
    }


@dataclass(frozen=True)
class LowLine:
    branch_id: str
    branch: str
    medicine: str  # generic and strength, as inventory's alerts name it
    product: Identity
    on_hand: int
    mode: str
    reorder_point: int | None
    reorder_quantity: int | None
    forecast_point: int | None
    forecast_quantity: int | None


def _low_stock_sql() -> str:
    # Inventory's rule for the level in force, as inventory states it (EFFECTIVE_POINT); this query
    # only adds the product's id, maker and barcode to what inventory's low-stock alert selects.
    from backend.inventory.reorder import EFFECTIVE_POINT

    return f"""
        SELECT br.id AS branch_id, br.name AS branch, m.generic_name || ' ' || m.strength AS medicine,
               m.id AS medicine_id, m.brand_name, m.barcode,
               r.mode, r.reorder_point, r.reorder_quantity, r.forecast_point, r.forecast_quantity,
               coalesce(sum(b.quantity), 0)::int AS on_hand
        FROM reorder_levels r JOIN branches br ON br.tenant_id = r.tenant_id AND br.id = r.branch_id
        JOIN medicines m ON m.tenant_id = r.tenant_id AND m.id = r.medicine_id
        LEFT JOIN batches b ON b.tenant_id = r.tenant_id AND b.branch_id = r.branch_id
             AND b.medicine_id = r.medicine_id
        WHERE r.tenant_id = :tenant AND br.is_active AND {EFFECTIVE_POINT} IS NOT NULL
          AND (CAST(:visible AS uuid[]) IS NULL OR r.branch_id = ANY(CAST(:visible AS uuid[])))
        GROUP BY br.id, br.name, m.id, m.generic_name, m.strength, m.brand_name, m.barcode, r.mode,
                 r.reorder_point, r.reorder_quantity, r.forecast_point, r.forecast_quantity
        HAVING coalesce(sum(b.quantity), 0) <= {EFFECTIVE_POINT}
        ORDER BY br.name, lower(m.generic_name), m.strength, m.brand_name
    """  # noqa: S608 - EFFECTIVE_POINT is inventory's own SQL text, not input


def low_stock_lines(session: Session, ctx: TenantContext, *, branch_id: str | None = None) -> list[LowLine]:
    """Products at or below the reorder level in force, in the member's branches (or `branch_id`)."""
    require(ctx, "inventory.view")
    visible = [branch_id] if branch_id else sorted(str(b) for b in ctx.branch_ids) or None
    rows = session.execute(text(_low_stock_sql()), {"tenant": ctx.tenant_id, "visible": visible}).all()
    return [
        LowLine(
            str(r.branch_id),
            r.branch,
            r.medicine.strip(),
            Identity(str(r.medicine_id), r.brand_name or "", r.barcode or ""),
            r.on_hand,
            r.mode,
            r.reorder_point,
            r.reorder_quantity,
            r.forecast_point,
            r.forecast_quantity,
        )
        for r in rows
    ]
