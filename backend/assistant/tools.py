"""The assistant's tools: one layer that both engines (a model provider's function calling and the local
engine) go through.

Every tool runs the same backend service a page runs, under the signed-in member's TenantContext. Nothing
a tool receives can widen that: arguments are names and numbers, never tenant ids, and the services open
their own `tenant_session(ctx)`, so row-level security and the member's branch scope decide what exists.
A prompt can therefore ask for another chain's data but can never reach it.

`call_tool` is the one way in: it checks `assistant.use` and the tool's own permission with
`tenants.roles`, validates the arguments against the tool's JSON schema, and turns expected failures
(refusals, unknown medicines, bad input) into a ToolResult a person can read instead of an exception.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text

from backend.assistant import druginfo, retrieval
from backend.assistant.products import (
    MAX_PRODUCTS_LISTED,
    Identity,
    LowLine,
    Match,
    ProductGroup,
    ProductStock,
    find_products,
    lot_products,
    low_stock_lines,
    read_product,
)
from backend.billing.bills.repository import Bill
from backend.billing.bills.service import get_bill
from backend.billing.reports.service import SalesReport, daily_report, range_report
from backend.core.display import display_money, local_time
from backend.core.errors import NotFound, PharmacyError, ValidationFailed
from backend.interactions.checker import MAX_DRUGS, check
from backend.interactions.knowledge import Source
from backend.inventory.alerts import AlertLine, stock_alerts
from backend.inventory.reorder import alert_detail, in_force
from backend.prescriptions import medication, recall
from backend.prescriptions.enums import RxStatus
from tenants.context import TenantContext
from tenants.directory import BranchSummary, tenant_profile
from tenants.roles import role_has
from tenants.session import run_in_tenant, tenant_session

ASSISTANT_PERMISSION = "assistant.use"
WHICH_ONE = "Which one do you mean?"  # a stock answer that needs the member to choose (see local_engine.follow_up)
WHICH_PATIENT = "Which patient?"  # a name matched several patients; the reply (with a date of birth) says who
MAX_LINES = 20  # alert lines listed in text (data carries all of them)
BILL_NUMBER = re.compile(r"^[A-Za-z0-9]{1,20}-\d{4}-\d{6}$")


@dataclass(frozen=True)
class ToolResult:
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # what the answer shows it did: "checked stock at Main Street"
    sources: tuple[Source, ...] = ()
    ok: bool = True
    refused: bool = False  # the role may not use this tool (text says why)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON schema of the arguments
    permission: str
    run: Callable[..., ToolResult]

    def definition(self) -> dict[str, Any]:
        """The tool as an OpenAI function definition."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def _schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


_BRANCH = {"type": "string", "maxLength": 80, "description": "Branch name or code; omit for all of the member's"}
_MEDICINE = {
    "type": "string",
    "minLength": 2,
    "maxLength": 80,
    "description": "Medicine as the member named it: generic or brand, with any strength, form, release or maker "
    "they said (e.g. 'amitriptyline 10 mg', 'Teva lorazepam 0.5 mg', 'metformin ER 500'), or a barcode",
}
_RX_NUMBER = {"type": "string", "minLength": 3, "maxLength": 40, "description": "The Rx number, e.g. B1-000123"}
_NARROWING = {
    "strength": {"type": "string", "maxLength": 40, "description": "Strength if said, e.g. '10 mg', '250 mg/5 mL'"},
    "form": {"type": "string", "maxLength": 40, "description": "Form if said: tablet, capsule, suspension, ..."},
    "maker": {"type": "string", "maxLength": 60, "description": "Maker or brand if said (Teva, Lipitor)"},
    "barcode": {"type": "string", "pattern": r"^\d{8,14}$", "description": "Barcode digits if given"},
}


# --- slots shared by the tools ---------------------------------------------------------------------


def find_branch(ctx: TenantContext, wanted: str) -> BranchSummary:
    """A branch the member may see, by name (with or without the word 'branch'), code or id."""
    key = " ".join(wanted.lower().split())
    bare = re.sub(r"\s*\bbranch\b\s*", " ", key).strip()
    for branch in tenant_profile(ctx).branches:  # only the member's branches: scope applies here
        names = {branch.name.lower(), branch.code.lower(), branch.id.lower()}
        names.add(re.sub(r"\s*\bbranch\b\s*", " ", branch.name.lower()).strip())
        if key in names or bare in names:
            return branch
    raise NotFound(f"I don't see a branch called '{wanted}' among the branches you can see.")


def _units(n: int, unit: str) -> str:
    return f"{n} {unit}{'' if n == 1 or unit.endswith('s') else 's'}"


# --- stock -----------------------------------------------------------------------------------------


def _where(p: ProductStock) -> str:
    where = ", ".join(f"{branch}: {qty}" for branch, qty in p.by_branch.items()) or "no batches"
    line = f"({where})"
    if p.sellable != p.on_hand:
        line += f"; {p.sellable} can be sold ({p.on_hand - p.sellable} expired, recalled or quarantined)"
    if p.next_expiry:
        line += f"; next expiry {p.next_expiry}"
    return line


def _group_lines(group: ProductGroup, room: int) -> list[str]:
    """The group's total first, then its products (maker and barcode tell them apart), at most `room`."""
    if len(group.products) == 1:
        p = group.products[0]
        return [f"- {group.name} ({p.label()}): {_units(p.on_hand, p.unit)} on hand {_where(p)}"]
    total = f"- {group.name}: {_units(group.on_hand, group.unit)} on hand in total, {len(group.products)} products"
    if group.sellable != group.on_hand:
        total += f" ({group.sellable} can be sold)"
    lines = [total + ":"]
    for p in group.products[:room]:
        lines.append(f"  - {p.label()}: {_units(p.on_hand, p.unit)} {_where(p)}")
    if len(group.products) > room:
        lines.append(
            f"  - and {len(group.products) - room} more products not listed here: name the maker or barcode to see one."
        )
    return lines


def _no_match_text(match: Match, place: str) -> str:
    asked = match.query.describe()
    if match.unmatched == "name":
        return f"'{asked}' is not in your catalog."
    if match.unmatched == "barcode":
        return f"No product in your catalog has barcode {match.query.barcode}."
    what = {"strength": "strengths", "form": "forms", "release": "releases", "maker": "makers"}[match.unmatched]
    return f"Your catalog has no {asked}. It has these {what}: {', '.join(match.alternatives)}. {WHICH_ONE}"


def stock_of_medicine(
    ctx: TenantContext,
    medicine: str,
    branch: str | None = None,
    strength: str = "",
    form: str = "",
    maker: str = "",
    barcode: str = "",
) -> ToolResult:
    """Stock of the products a name (with strength, form, release, maker or barcode) stands for: each
    group's total, then its products with maker and barcode; says what it leaves out and why."""
    where = find_branch(ctx, branch) if branch else None
    place = f"at {where.name}" if where else "in your branches"
    query = read_product(medicine, strength=strength, form=form, maker=maker, barcode=barcode)
    match = run_in_tenant(ctx, find_products, query, branch_id=where.id if where else None)
    data: dict[str, Any] = {"branch": where.name if where else None, "asked": query.describe()}
    if not match.groups:
        data |= {"medicines": [], "groups": [], "unmatched": match.unmatched, "choices": list(match.alternatives)}
        data["needs_choice"] = bool(match.alternatives)
        return ToolResult(
            _no_match_text(match, place), data, f"searched the catalog for '{query.describe()}'", ok=False
        )
    # Several groups are listed product by product only when that is short and the question was read
    # whole; otherwise each group's total, and the question which one is meant ("lorazepam half mg":
    # 'half' was not understood, so the 0.5 mg and 1 mg groups are offered, not answered as one).
    many_groups = len(match.groups) > 1 and (match.products_total > MAX_PRODUCTS_LISTED or bool(match.ignored_words))
    lines: list[str] = []
    room = MAX_PRODUCTS_LISTED
    for group in match.groups:
        if many_groups:
            lines.append(
                f"- {group.name}: {_units(group.on_hand, group.unit)} on hand in total, "
                f"{len(group.products)} product{'s' if len(group.products) > 1 else ''}"
            )
            continue
        lines += _group_lines(group, max(room, 1))
        room -= len(group.products)
    text_ = f"Stock {place}:\n" + "\n".join(lines)
    if many_groups:
        strengths = ", ".join(g.name for g in match.groups)
        text_ += (
            f"\n{match.products_total} products match. {WHICH_ONE} Name the strength, form or maker "
            f"to see each product ({strengths})."
        )
    if match.ignored_words:
        text_ += f"\n(I did not use '{' '.join(match.ignored_words)}': no maker or product by that name.)"
    products = [p for g in match.groups for p in g.products]
    data |= {
        "medicines": [p.as_data() for p in products],
        "groups": [g.as_data() for g in match.groups],
        "products_matched": match.products_total,
        "products_listed": 0 if many_groups else min(match.products_total, MAX_PRODUCTS_LISTED),
        "needs_choice": many_groups,
    }
    names = ", ".join(sorted({p.generic for p in products}))
    return ToolResult(text_, data, f"checked stock of {names} {place}")


# --- alerts ----------------------------------------------------------------------------------------


def _alert_row(a: AlertLine, product: Identity | None) -> dict[str, Any]:
    return {
        "branch": a.branch,
        "medicine": a.medicine,
        "maker": product.maker if product else None,
        "barcode": product.barcode if product else None,
        "medicine_id": product.medicine_id if product else None,
        "lot": a.lot,
        "quantity": a.quantity,
        "expiry": a.expiry.isoformat() if a.expiry else None,
        "days_left": a.days_left,
        "detail": a.detail,
    }


def _listing(title: str, lines: list[Any], describe: Callable[[Any], str]) -> str:
    if not lines:
        return f"{title}: none."
    shown = "\n".join(f"- {describe(a)}" for a in lines[:MAX_LINES])
    more = f"\n- ... and {len(lines) - MAX_LINES} more (see Inventory > Alerts)" if len(lines) > MAX_LINES else ""
    return f"{title} ({len(lines)}):\n{shown}{more}"


def low_stock(ctx: TenantContext, branch: str | None = None) -> ToolResult:
    where = find_branch(ctx, branch) if branch else None
    lines = run_in_tenant(ctx, low_stock_lines, branch_id=where.id if where else None)
    place = f"at {where.name}" if where else "in your branches"

    def detail(low: LowLine) -> str:
        point, quantity, source, _ = in_force(
            low.mode, low.reorder_point, low.reorder_quantity, low.forecast_point, low.forecast_quantity
        )
        return alert_detail(point or 0, quantity or 0, source)

    def line(low: LowLine) -> str:
        return f"{low.medicine} ({low.product.label()}) at {low.branch}: {low.on_hand} ({detail(low)})"

    rows = [
        {
            "branch": low.branch,
            "medicine": low.medicine,
            "maker": low.product.maker,
            "barcode": low.product.barcode,
            "medicine_id": low.product.medicine_id,
            "quantity": low.on_hand,
            "detail": detail(low),
        }
        for low in lines
    ]
    text_ = _listing(f"At or below the reorder point {place}", lines, line)
    return ToolResult(text_, {"low_stock": rows}, f"checked low stock {place}")


def expiring_stock(ctx: TenantContext, within_days: int = 30, branch: str | None = None) -> ToolResult:
    where = find_branch(ctx, branch) if branch else None
    alerts = run_in_tenant(ctx, stock_alerts)
    if within_days > max(alerts.windows):
        raise ValidationFailed(
            f"I can look ahead at most {max(alerts.windows)} days (your chain's widest expiry window).",
            field="within_days",
        )
    mine = (lambda a: a.branch == where.name) if where else (lambda a: True)
    lines = [a for a in alerts.expiring if mine(a) and a.days_left is not None and a.days_left <= within_days]
    expired = [a for a in alerts.expired_on_shelf if mine(a)]
    place = f"at {where.name}" if where else "in your branches"
    products = run_in_tenant(ctx, lot_products, [(a.branch, a.lot, a.medicine) for a in (*lines, *expired)])

    def named(a: AlertLine) -> str:
        product = products.get((a.branch, a.lot, a.medicine))
        return f"{a.medicine} ({product.label()})" if product else a.medicine

    def lot(a: AlertLine) -> str:
        return f"{named(a)}, lot {a.lot} at {a.branch}: {a.quantity} expiring {a.expiry} ({a.days_left} days)"

    parts = [_listing(f"Expiring within {within_days} days {place}", lines, lot)]
    if expired:
        parts.append(
            _listing(
                "Already expired and still on the shelf",
                expired,
                lambda a: f"{named(a)}, lot {a.lot} at {a.branch}: {a.quantity} (expired {a.expiry})",
            )
        )

    def rows(alerts_: list[AlertLine]) -> list[dict[str, Any]]:
        return [_alert_row(a, products.get((a.branch, a.lot, a.medicine))) for a in alerts_]

    return ToolResult(
        "\n".join(parts),
        {"expiring": rows(lines), "expired_on_shelf": rows(expired)},
        f"checked lots expiring within {within_days} days {place}",
    )


# --- bills -----------------------------------------------------------------------------------------


def _bill_id(ctx: TenantContext, number: str) -> str:
    # Billing reads bills by id; the number is unique per chain (it carries the branch code), and RLS
    # keeps the look-up inside the member's chain. get_bill then applies the branch scope.
    with tenant_session(ctx) as session:
        found = session.execute(text("SELECT id FROM bills WHERE number = :n"), {"n": number}).scalar()
    if found is None:
        raise NotFound(f"No bill numbered {number}.")
    return str(found)


def _bill_text(bill: Bill) -> str:
    def money(amount: Any) -> str:
        return display_money(amount, bill.currency)

    lines = "\n".join(f"- {line.quantity} x {line.description}: {money(line.gross_amount)}" for line in bill.lines)
    return (
        f"Bill {bill.number} ({bill.status.replace('_', ' ')}): total due {money(bill.total_due)}, "
        f"paid {money(bill.amount_paid)}, outstanding {money(bill.outstanding)}.\n"
        f"{lines}"
    )


def bill_by_number(ctx: TenantContext, number: str) -> ToolResult:
    number = number.strip().upper()
    if not BILL_NUMBER.match(number):
        raise ValidationFailed("A bill number looks like B1-2026-000123.", field="number")
    bill = run_in_tenant(ctx, get_bill, _bill_id(ctx, number))
    data = {
        "number": bill.number,
        "status": bill.status,
        "currency": bill.currency,
        "total_due": str(bill.total_due),
        "amount_paid": str(bill.amount_paid),
        "outstanding": str(bill.outstanding),
        "lines": [
            {"description": ln.description, "quantity": ln.quantity, "amount": str(ln.gross_amount)}
            for ln in bill.lines
        ],
    }
    return ToolResult(_bill_text(bill), data, f"looked up bill {bill.number}")


# --- drug knowledge --------------------------------------------------------------------------------


def drug_information(ctx: TenantContext, medicine: str) -> ToolResult:
    answer = druginfo.lookup(medicine)
    if answer is None:
        return ToolResult(
            f"I have no drug information for '{medicine}' yet. Ask a pharmacist, or read its label on DailyMed.",
            {"found": False},
            f"looked up drug information for '{medicine}'",
            ok=False,
        )
    info = answer.info
    return ToolResult(
        answer.text(),
        {"found": True, "generic": info.generic},
        f"looked up drug information for {info.generic}",
        (info.source,),
    )


def sales_figures(ctx: TenantContext, start: str, end: str = "", branch: str = "") -> ToolResult:
    """Sales of a local day or range per branch, from the same report the Reports page shows."""
    first = _day(start, "start")
    last = _day(end, "end") if end else first
    if last < first:
        raise ValidationFailed("The end date is before the start date.", field="end")
    branches = [find_branch(ctx, branch)] if branch else tenant_profile(ctx).branches
    reports = [
        run_in_tenant(ctx, daily_report, b.id, first)
        if first == last
        else run_in_tenant(ctx, range_report, b.id, first, last)
        for b in branches
    ]
    period = first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"
    return ToolResult(
        "\n".join(_sales_line(r, period) for r in reports),
        {
            "period": period,
            "branches": [
                {
                    "branch": r.branch_name,
                    "bills": r.bills,
                    "net_sales": str(r.net_sales),
                    "tax": str(r.tax),
                    "gross_sales": str(r.gross_sales),
                    "collected": str(r.collected),
                }
                for r in reports
            ],
        },
        f"checked sales at {', '.join(r.branch_name for r in reports) or 'no branch'} for {period}",
    )


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed("Dates are YYYY-MM-DD.", field=field) from None


def _sales_line(report: SalesReport, period: str) -> str:
    if report.bills == 0:
        return f"{report.branch_name}, {period} (local days): no sales."

    def money(amount: Any) -> str:
        return display_money(amount, report.currency)

    top = ", ".join(f"{m.description} ({m.quantity})" for m in report.top_by_quantity[:3])
    return (
        f"{report.branch_name}, {period} (local days): {report.bills} bills, net sales {money(report.net_sales)}, "
        f"tax {money(report.tax)}, gross {money(report.gross_sales)}, collected {money(report.collected)}"
        + (f"; {report.voided_bills} voided" if report.voided_bills else "")
        + (f". Top sellers: {top}." if top else ".")
    )


def chain_documents(ctx: TenantContext, question: str) -> ToolResult:
    """Snippets of the chain's own SOPs, FAQs and policies (only this chain's, by construction)."""
    snippets = retrieval.search_documents(ctx, question)
    if not snippets:
        return ToolResult(
            "None of your chain's documents answers that.",
            {"found": False},
            "searched your chain's documents",
            ok=False,
        )
    quoted = "\n\n".join(f'From "{s.title}":\n> ' + s.text.replace("\n", "\n> ") for s in snippets)
    return ToolResult(
        quoted,
        {"found": True, "documents": sorted({s.title for s in snippets})},
        "searched your chain's documents",
        tuple(dict.fromkeys(s.source for s in snippets)),
    )


def interaction_check(ctx: TenantContext, drugs: list[str]) -> ToolResult:
    result = check(drugs)
    lines = [f"- {p.a} + {p.b}: {p.severity.upper()}. {p.summary}" for p in result.pairs]
    sources: dict[str, Source] = {}
    for pair in result.pairs:
        for finding in pair.findings:
            for s in finding.sources:
                sources.setdefault(s.url + s.title, s)
    for unknown in result.unknown:
        hint = f" (did you mean {', '.join(unknown.suggestions)}?)" if unknown.suggestions else ""
        lines.append(f"- Could not identify '{unknown.name}'{hint}: not checked.")
    return ToolResult(
        "Interaction check:\n" + "\n".join(lines),
        result.as_json(),
        f"checked interactions between {', '.join(drugs)}",
        tuple(sources.values()),
    )


# --- prescriptions ---------------------------------------------------------------------------------
# The prescription services decide what exists (branch scope, RLS) and what is logged; these tools only
# put their answers in words. Patient details beyond a name are never part of an answer.


def _day_text(day: date | None) -> str:
    return day.isoformat() if day else "never"


def _refill_text(s: medication.RefillStatus) -> str:
    lines = [f"Rx {s.rx_number} ({s.medicine}, {s.branch}): {s.status.label.lower()}."]
    lines.append(f"Refills left: {s.refills_remaining} of {s.refills_authorized}.")
    if s.last_filled is None:
        lines.append("Not filled yet.")
    else:
        supply = f" ({s.days_supply} days' supply)" if s.days_supply else ""
        lines.append(f"Last filled {s.last_filled.isoformat()}{supply}.")
        if s.owed:
            lines.append(f"{s.owed} still owed on that fill.")
        if s.next_due and s.refills_remaining:
            lines.append(f"The next refill is due {s.next_due.isoformat()}.")
    if s.refills_remaining == 0 and s.status in RxStatus.verified():
        lines.append("No refills left: the prescriber must renew it.")
    if s.earliest_fill_date:
        lines.append(f"Not to be filled before {s.earliest_fill_date.isoformat()}.")
    if s.expires_on:
        lines.append(f"Expires {s.expires_on.isoformat()}.")
    return " ".join(lines)


def refill_status(ctx: TenantContext, rx_number: str) -> ToolResult:
    found = run_in_tenant(ctx, medication.refill_status, rx_number)
    data = {
        "rx_number": found.rx_number,
        "medicine": found.medicine,
        "status": found.status.value,
        "refills_remaining": found.refills_remaining,
        "refills_authorized": found.refills_authorized,
        "last_filled": found.last_filled.isoformat() if found.last_filled else None,
        "next_due": found.next_due.isoformat() if found.next_due else None,
        "expires_on": found.expires_on.isoformat() if found.expires_on else None,
    }
    return ToolResult(_refill_text(found), data, f"checked the refill status of Rx {found.rx_number}")


def refills_due(ctx: TenantContext, within_days: int = 7, branch: str | None = None) -> ToolResult:
    where = find_branch(ctx, branch) if branch else None
    due = run_in_tenant(ctx, medication.due_for_refill, where.id if where else None, within_days)
    place = f"at {where.name}" if where else "in your branches"

    def line(d: medication.DueRefill) -> str:
        return (
            f"Rx {d.rx_number}, {d.medicine} for {d.patient} at {d.branch}: due {d.due.isoformat()} "
            f"(last filled {d.last_filled.isoformat()}), {d.refills_remaining} refill"
            f"{'' if d.refills_remaining == 1 else 's'} left"
        )

    rows = [
        {
            "rx_number": d.rx_number,
            "patient": d.patient,
            "medicine": d.medicine,
            "branch": d.branch,
            "due": d.due.isoformat(),
            "last_filled": d.last_filled.isoformat(),
            "refills_remaining": d.refills_remaining,
        }
        for d in due
    ]
    text_ = _listing(f"Prescriptions due for a refill within {within_days} days {place}", due, line)
    return ToolResult(text_, {"due": rows}, f"checked prescriptions due for a refill {place}")


def medication_list(ctx: TenantContext, patient: str) -> ToolResult:
    found = run_in_tenant(ctx, medication.medication_list, patient)
    if found.patient is None:
        choices = [{"patient": p.full_name, "date_of_birth": p.date_of_birth.isoformat()} for p in found.matches]
        if not found.matches:
            text_ = f"No patient matching '{patient}' in your branches."
        else:
            named = "; ".join(f"{c['patient']} (born {c['date_of_birth']})" for c in choices)
            text_ = f"Several patients match '{patient}': {named}. {WHICH_PATIENT} Add the date of birth (YYYY-MM-DD)."
        return ToolResult(text_, {"patient": None, "choices": choices}, f"searched patients for '{patient}'", ok=False)
    who = found.patient
    meds = found.medications

    def line(m: medication.Medication) -> str:
        return (
            f"{m.medicine}: {m.directions or 'no directions recorded'}; last filled {_day_text(m.last_filled)}; "
            f"{m.refills_remaining} refill{'' if m.refills_remaining == 1 else 's'} left (Rx {m.rx_number})"
        )

    # The member picked this patient (by name, phone or date of birth): the date of birth is not repeated.
    title = f"{who.full_name}, current medicines"
    text_ = _listing(title, meds, line) + "\n(Opening this list is written to the patient access log.)"
    rows = [
        {
            "rx_number": m.rx_number,
            "medicine": m.medicine,
            "directions": m.directions,
            "last_filled": m.last_filled.isoformat() if m.last_filled else None,
            "refills_remaining": m.refills_remaining,
        }
        for m in meds
    ]
    return ToolResult(
        text_, {"patient": who.full_name, "medications": rows}, f"opened the medication list of {who.full_name}"
    )


def _chosen_product(products: list[recall.LotProduct], medicine: str) -> list[recall.LotProduct]:
    words = [w for w in re.findall(r"[a-z0-9.]+", medicine.lower()) if w not in {"mg", "the", "of"}]
    return [p for p in products if all(w in p.label().lower() for w in words)]


def recall_trace(ctx: TenantContext, lot: str, medicine: str = "") -> ToolResult:
    """Who received a lot; a lot number several makers use needs the medicine named."""
    products = run_in_tenant(ctx, recall.lot_products, lot)
    if not products:
        return ToolResult(
            f"No lot {lot} in your branches.", {"lot": lot, "recipients": []}, f"traced lot {lot}", ok=False
        )
    chosen = _chosen_product(products, medicine) if medicine else products
    if len(chosen) != 1:
        names = "; ".join(p.label() for p in (chosen or products))
        lead = f"No lot {lot} of {medicine}. " if not chosen else ""
        return ToolResult(
            f"{lead}Lot {lot} is a lot of: {names}. Which medicine was recalled?",
            {"lot": lot, "recipients": [], "choices": [p.label() for p in (chosen or products)]},
            f"traced lot {lot}",
            ok=False,
        )
    trace = run_in_tenant(ctx, recall.trace_lot, lot, chosen[0].medicine_id)
    product = trace.product.label() if trace.product else chosen[0].label()

    def day(r: recall.Recipient) -> str:
        return local_time(r.received_at, r.time_zone).date().isoformat()  # the branch's date

    def line(r: recall.Recipient) -> str:
        what = f"fill {r.reference}" if r.kind == "fill" else f"counter sale {r.reference}"
        return f"- {r.patient_name}: {what}, {r.quantity} on {day(r)} at {r.branch}"

    rows = [
        {
            "patient": r.patient_name,
            "kind": r.kind,
            "reference": r.reference,
            "quantity": r.quantity,
            "date": day(r),
            "branch": r.branch,
        }
        for r in trace.recipients
    ]
    if not trace.recipients:
        text_ = f"No patient received lot {trace.lot_number} of {product} (no fill or counter sale to a patient)."
    else:
        people = f"{trace.patients} patient{'' if trace.patients == 1 else 's'}"
        text_ = f"Lot {trace.lot_number} of {product} was received by {people}:\n" + "\n".join(
            line(r) for r in trace.recipients
        )
        text_ += "\nContact details are on Inventory > Recall trace; each patient listed is written to the access log."
    return ToolResult(
        text_,
        {"lot": trace.lot_number, "medicine": product, "patients": trace.patients, "recipients": rows},
        f"traced lot {trace.lot_number} of {product}",
    )


# --- registry --------------------------------------------------------------------------------------

TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            "medicine_stock",
            "Units on hand of the chain's products matching a medicine, per branch, with what can be sold and next "
            "expiry. Strength, form, release, maker and barcode narrow the match. Products of the same generic and "
            "strength from different makers are separate products: the result gives each group's total, then each "
            "product with its maker and barcode. Always name the maker (or barcode) with a product's number, and "
            "pass on the result's question when it asks which product is meant.",
            _schema({"medicine": _MEDICINE, "branch": _BRANCH, **_NARROWING}, ("medicine",)),
            "inventory.view",
            stock_of_medicine,
        ),
        Tool(
            "low_stock",
            "Medicines at or below their reorder point.",
            _schema({"branch": _BRANCH}),
            "inventory.view",
            low_stock,
        ),
        Tool(
            "expiring_stock",
            "Lots expiring within a number of days (by each branch's local date), and expired lots still on the shelf.",
            _schema({"within_days": {"type": "integer", "minimum": 0, "maximum": 365}, "branch": _BRANCH}),
            "inventory.view",
            expiring_stock,
        ),
        Tool(
            "bill_by_number",
            "One issued bill by its number (e.g. B1-2026-000123): status, totals and lines.",
            _schema({"number": {"type": "string", "minLength": 6, "maxLength": 40}}, ("number",)),
            "billing.view",
            bill_by_number,
        ),
        Tool(
            "drug_information",
            "What a medicine is used for, common side effects and key warnings, from its FDA label (cited). No doses.",
            _schema({"medicine": _MEDICINE}, ("medicine",)),
            ASSISTANT_PERMISSION,
            drug_information,
        ),
        Tool(
            "sales_figures",
            "Sales of one local business day or a date range per branch: bills, net, tax, gross, collected, top "
            "sellers (the Reports page's figures).",
            _schema(
                {
                    "start": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "YYYY-MM-DD"},
                    "end": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "YYYY-MM-DD"},
                    "branch": _BRANCH,
                },
                ("start",),
            ),
            "reports.view",
            sales_figures,
        ),
        Tool(
            "chain_documents",
            "Search the chain's own SOPs, FAQs and policies; returns quoted snippets with their document titles.",
            _schema({"question": {"type": "string", "minLength": 3, "maxLength": 500}}, ("question",)),
            ASSISTANT_PERMISSION,
            chain_documents,
        ),
        Tool(
            "interaction_check",
            "Drug-drug interactions between 2 to 20 medicines (brands, generics, combinations), with sources.",
            _schema(
                {
                    "drugs": {
                        "type": "array",
                        "items": {"type": "string", "minLength": 2, "maxLength": 80},
                        "minItems": 2,
                        "maxItems": MAX_DRUGS,
                    }
                },
                ("drugs",),
            ),
            "inventory.view",
            interaction_check,
        ),
        Tool(
            "refill_status",
            "A prescription's refill status by its Rx number (e.g. B1-000123): its state, refills left, last fill, "
            "when the next refill is due, expiry. Does not name the patient.",
            _schema({"rx_number": _RX_NUMBER}, ("rx_number",)),
            "prescriptions.view",
            refill_status,
        ),
        Tool(
            "refills_due",
            "Prescriptions due for a refill (the last fill's days' supply runs out) within a number of days, with "
            "refills left, at a branch or all of the member's branches: Rx number, medicine, patient, due date.",
            _schema(
                {
                    "within_days": {"type": "integer", "minimum": 0, "maximum": medication.MAX_DUE_DAYS},
                    "branch": _BRANCH,
                }
            ),
            "prescriptions.view",
            refills_due,
        ),
        Tool(
            "medication_list",
            "A patient's current medicines (verified prescriptions): medicine, directions, last fill, refills left. "
            "Find the patient by name, phone or date of birth; several matches are listed to choose from. "
            "Opening the list is written to the patient access log.",
            _schema(
                {"patient": {"type": "string", "minLength": 2, "maxLength": 100, "description": "Name, phone or DOB"}},
                ("patient",),
            ),
            "prescriptions.view",
            medication_list,
        ),
        Tool(
            "recall_trace",
            "Which patients received a lot (fills and counter sales to a patient), for a recall: patient, fill or "
            "bill, date, quantity, branch. Name the medicine when makers share the lot number. Each patient listed "
            "is written to the patient access log.",
            _schema(
                {
                    "lot": {"type": "string", "minLength": 1, "maxLength": recall.MAX_LOT, "description": "Lot number"},
                    "medicine": {"type": "string", "maxLength": 80, "description": "Medicine or maker, if said"},
                },
                ("lot",),
            ),
            recall.PERMISSION,
            recall_trace,
        ),
    )
}


# --- the minimum necessary (issue 16) ---------------------------------------------------------------
# What an answer may say about a person, per tool: a model provider (a third party) sees the data, and the
# member sees only what the question needs. A refill status needs no patient at all; a list of refills due
# or a recall names whom to call; choosing between patients of the same name needs their dates of birth.
# Contact details, addresses, allergies and notes are never part of an answer (the record page has them,
# logged). `call_tool` drops any other identity field a tool's data carries, however it got there.
IDENTITY_FIELDS = frozenset(
    {"patient", "patient_name", "full_name", "date_of_birth", "dob", "phone", "email", "address", "allergies"}
    | {"notes", "member_id", "group_number", "patient_id", "contact_consent"}
)
PATIENT_FIELDS_NEEDED: dict[str, frozenset[str]] = {
    "refill_status": frozenset(),
    "refills_due": frozenset({"patient"}),
    "medication_list": frozenset({"patient", "date_of_birth"}),  # date of birth: only among several matches
    "recall_trace": frozenset({"patient"}),
}


def minimum_necessary(tool_name: str, data: Any) -> Any:
    """`data` without the identity fields `tool_name` does not need (at any depth)."""
    needed = PATIENT_FIELDS_NEEDED.get(tool_name, frozenset())
    if isinstance(data, dict):
        return {k: minimum_necessary(tool_name, v) for k, v in data.items() if k not in IDENTITY_FIELDS or k in needed}
    if isinstance(data, list):
        return [minimum_necessary(tool_name, item) for item in data]
    return data


def tools_for(ctx: TenantContext, tools: Mapping[str, Tool] = TOOLS, *, gate: str = ASSISTANT_PERMISSION) -> list[Tool]:
    """The tools this member may use: a model is only ever offered these. (`gate`: the permission to ask
    at all; the portal's assistant passes its own tool set and "portal.assistant".)"""
    if not role_has(ctx.role, gate):
        return []
    return [t for t in tools.values() if role_has(ctx.role, t.permission)]


# --- argument validation -----------------------------------------------------------------------------

_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "array": (list,)}
_KIND_WORDS = {"string": "text", "integer": "a whole number", "array": "a list"}


def _check_value(name: str, value: Any, spec: Mapping[str, Any]) -> Any:
    kind = spec["type"]
    if isinstance(value, bool) or not isinstance(value, _TYPES[kind]):
        raise ValidationFailed(f"'{name}' must be {_KIND_WORDS[kind]}.", field=name)
    if isinstance(value, str):
        value = " ".join(value.split())
        if len(value) < spec.get("minLength", 1):
            raise ValidationFailed(f"'{name}' is too short.", field=name)
        if len(value) > spec.get("maxLength", 200):
            raise ValidationFailed(f"'{name}' is at most {spec.get('maxLength', 200)} characters.", field=name)
    if kind == "integer" and not spec.get("minimum", value) <= value <= spec.get("maximum", value):
        raise ValidationFailed(f"'{name}' must be between {spec['minimum']} and {spec['maximum']}.", field=name)
    if kind == "array":
        if not spec.get("minItems", 0) <= len(value) <= spec.get("maxItems", len(value)):
            raise ValidationFailed(f"'{name}' needs {spec['minItems']} to {spec['maxItems']} items.", field=name)
        value = [_check_value(f"{name}[{i}]", item, spec["items"]) for i, item in enumerate(value)]
    return value


def validate_arguments(tool: Tool, args: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """Arguments checked against the tool's schema; a model may send them as a JSON string."""
    if isinstance(args, str):
        try:
            args = json.loads(args or "{}")
        except json.JSONDecodeError:
            raise ValidationFailed("The arguments are not valid JSON.") from None
    if args is None:
        args = {}
    if not isinstance(args, Mapping):
        raise ValidationFailed("The arguments must be an object.")
    properties = tool.parameters["properties"]
    unknown = sorted(set(args) - set(properties))
    if unknown:
        raise ValidationFailed(
            f"{tool.name} takes no argument {', '.join(repr(u) for u in unknown)}.", field=unknown[0]
        )
    missing = [r for r in tool.parameters["required"] if args.get(r) in (None, "")]
    if missing:
        raise ValidationFailed(f"{tool.name} needs '{missing[0]}'.", field=missing[0])
    return {k: _check_value(k, v, properties[k]) for k, v in args.items() if v is not None}


def _refusal(tool_name: str, reason: str) -> ToolResult:
    return ToolResult(reason, {"tool": tool_name}, f"refused {tool_name}", ok=False, refused=True)


def call_tool(
    ctx: TenantContext,
    name: str,
    args: Mapping[str, Any] | str | None,
    *,
    tools: Mapping[str, Tool] = TOOLS,
    gate: str = ASSISTANT_PERMISSION,
) -> ToolResult:
    """Run one tool for the signed-in member. Never raises for a refusal, bad arguments or data that is
    not there: the result says why, in words the assistant can show."""
    tool = tools.get(name)
    if tool is None:
        return ToolResult(f"There is no tool called '{name}'.", {"tool": name}, f"no tool '{name}'", ok=False)
    if not role_has(ctx.role, gate):
        return _refusal(name, f"Your role ({ctx.role or 'none'}) may not use the assistant.")
    if not role_has(ctx.role, tool.permission):
        return _refusal(
            name, f"Your role ({ctx.role}) may not use {name}: it needs the '{tool.permission}' permission."
        )
    try:
        checked = validate_arguments(tool, args)
        result = tool.run(ctx, **checked)
        return dataclasses.replace(result, data=minimum_necessary(name, result.data))
    except PharmacyError as exc:  # NotFound, ValidationFailed, PermissionDenied from the services
        return ToolResult(
            exc.message, {"tool": name, "error": exc.code}, f"tried {name}", ok=False, refused=exc.http_status == 403
        )
