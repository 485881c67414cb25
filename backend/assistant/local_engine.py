"""The local engine: answers staff questions offline, deterministically, over the same tools a model uses.

A question goes through: the safety screen, intent rules (ordered keyword patterns), slot filling
(medicines through the drug matcher and the chain's own catalog, a branch by name or code among the
member's branches, dates such as "yesterday" or "this month" in that branch's time zone), then one or
two tools through `call_tool`, so the role and RLS checks are the tools' own. Anything it does not
recognise gets an honest "I can't answer that yet" rather than a guess.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from backend.assistant import druginfo, retrieval, safety
from backend.assistant.products import read_product
from backend.assistant.tools import ASSISTANT_PERMISSION, WHICH_ONE, WHICH_PATIENT, ToolResult, call_tool
from backend.drugs.matcher import resolve
from backend.interactions.knowledge import Source
from tenants.context import TenantContext
from tenants.directory import BranchSummary, TenantProfile, tenant_profile
from tenants.roles import role_has

MAX_QUESTION = 500
MAX_FUZZY_WORDS = 2  # each fuzzy look-up costs 10-30 ms; a question rarely names more unknown drugs
DEFAULT_EXPIRY_DAYS = 30
CANT_ANSWER = (
    "I can't answer that yet. I can tell you: stock of a medicine (by branch), what is running low, what "
    "expires soon, a bill by its number, what a medicine is used for, whether medicines interact, a "
    "prescription's refill status, the refills due, a patient's medication list, and who received a lot."
)
PRESCRIPTION_HELP = (
    "About prescriptions I can tell you: the refill status of an Rx number ('refill status of B1-000123'), "
    "the prescriptions due for a refill ('which refills are due this week'), a patient's medication list "
    "('medications for Ann Archer'), and who received a lot ('who received lot A-100 of lisinopril')."
)
DEFAULT_DUE_DAYS = 7


@dataclass(frozen=True)
class Reply:
    text: str
    tools_used: tuple[str, ...] = ()  # labels: "checked stock of Amoxicillin at Downtown"
    sources: tuple[Source, ...] = ()
    engine: str = "local"
    intent: str = "unknown"
    data: tuple[dict[str, Any], ...] = field(default=())


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date
    phrase: str


@dataclass(frozen=True)
class Mention:
    typed: str
    generic: str | None  # None: not in the dictionary (may still be a catalog name)


# --- intent rules (order matters: the first that matches wins) -------------------------------------

_INTERACTION = re.compile(r"\binteract\w*|\btogether\b|\bcombine\b|\bmix\w*\b|\bwith\b.*\bsafe\b|\bsafe\b.*\bwith\b")
_BILL = re.compile(r"\b([a-z0-9]{1,20}-\d{4}-\d{6})\b", re.IGNORECASE)
_SALES = re.compile(r"\b(sell|sold|sales?|revenue|takings|turnover)\b")
_REFILL = re.compile(r"\b(refills?|prescriptions?|rx)\b")
# Prescriptions: a recall trace, an Rx number's refill status, the refills due, a patient's medicines.
_RECALL = re.compile(
    r"\brecall\w*|\btrace\b|\bwho (got|received|was given|has had|bought)\b|"
    r"\b(which )?patients? (who |that )?(got|received|were given|had)\b"
)
_LOT = re.compile(r"\b(?:lot|batch)\s*(?:number|no\.?|#)?\s*:?\s*#?([a-z0-9-]*\d[a-z0-9-]*)", re.IGNORECASE)
# Words around a recall question's lot that name no medicine or maker.
_RECALL_FILLER = frozenset(
    """recall recalled recalls recalling trace lot lots batch patient patients received got given bought
    had been has it who which list for of by from made maker number was were is the a an trace""".split()
)
_RX_NUMBER = re.compile(r"(?<![\w-])([a-z0-9]{1,20}-\d{6})(?![\w-])", re.IGNORECASE)
_DUE = re.compile(
    r"\bdue\b|\bcoming up\b|\bupcoming\b|\brun(s|ning)? out\b|\bneed(s|ing)? (a )?refills?\b|"
    r"\bready for (a )?refill\b|\brefills? (this|next)\b|\bto refill\b"
)
_MEDICATIONS = re.compile(
    r"\bmedication list\b|\bmedications?\b|\bmeds\b|\btaking\b|\bmedicines (is|does|do)\b|\bwhat does .+ take\b"
)
_PATIENT = (
    re.compile(
        r"\b(?:medications?|meds|medication list|medicines|prescriptions)\s+(?:for|of)\s+(?:patient\s+)?(.+)$", re.I
    ),
    re.compile(
        r"^(?:list\s+|show\s+(?:me\s+)?)?(?:patient\s+)?(.+?)'s\s+(?:medications?|meds|medication list|medicines)", re.I
    ),
    re.compile(r"\bwhat (?:medications?|meds|medicines) (?:is|does) (?:patient\s+)?(.+?) (?:on|taking|take)\b", re.I),
    re.compile(r"\bwhat (?:is|does|do)\s+(?:patient\s+)?(.+?)\s+(?:take|taking|on)\b", re.I),
    re.compile(r"\b(?:is|does)\s+(?:patient\s+)?(.+?)\s+(?:taking|take)\b", re.I),
    re.compile(r"^(?:patient\s+)?(.+?)\s+(?:medication list|meds|medications)$", re.I),
)
MAX_PATIENT_WORDS = 8
_EXPIRY = re.compile(r"\bexpir\w*|\bout of date\b|\bgoing off\b|\bshort[- ]dated\b|\bbest before\b")
_LOW = re.compile(
    r"\blow\b|\brunning out\b|\breorder\w*|\bre-order\w*|\bneeds? (to be )?order\w*|\bbelow\b|\bshort on\b|"
    r"\bshould (we )?order\b|\bwhat to order\b"
)
_INFO = re.compile(
    r"\bused for\b|\buse of\b|\bwhat does .+ (do|treat)\b|\btreats?\b|\bside[- ]effects?\b|\bwarnings?\b|"
    r"\btell me about\b|\binfo(rmation)?\b|\bindications?\b|\bwhat is .+ for\b|\bwhat (kind|type|class) of\b"
)
# The ways staff ask for a quantity: "what's the on-hand for", "in stock", "left", "count", "level".
_STOCK = re.compile(
    r"\bhow many\b|\bhow much\b|\bstock\w*\b|\bon[- ]?hand\b|\bon the shel(f|ves)\b|\bdo we (have|carry)\b|"
    r"\bhave we got\b|\bgot any\b|\bleft\b|\bremaining\b|\bunits?\b|\bquantit(y|ies)\b|\bqty\b|\bcount\w*\b|"
    r"\blevels?\b|\binventory\b|\bavailable\b|\bavailability\b|\bany\b|\bsupply\b|\bsoh\b|\bboxes\b|"
    r"\bpacks\b|\bin the (back|store|pharmacy)\b"
)
_WHAT_IS = re.compile(r"\bwhat(?:'s| is| are)\b")
# Drug information is for what a medicine is or does; these win over a stray stock word ("any").
_ASKS_WHAT_IT_DOES = re.compile(
    r"\bused for\b|\bwhat does .+ (do|treat)\b|\btreats?\b|\bside[- ]effects?\b|\bwarnings?\b|"
    r"\bindications?\b|\bwhat kind of\b|\bwhat type of\b"
)
_DOCUMENTS = re.compile(
    r"\b(sops?|polic(y|ies)|procedures?|protocols?|guidelines?|handbook|faqs?|our (rules?|guide|process))\b"
)

# Words that are never a medicine name: question words, the intents' own words, units, time words.
STOP_WORDS = frozenset(
    """
    a about after against all also am an and any anything are as at available be been before being best
    branch branches bill bills buy can check combine could count day days did do does doing don down
    drug drugs during each effect effects else ever every expire expired expires expiring expiry few for
    from get give go going got had has have having he her here him his how i if in info information
    interact interacting interaction interactions into is it its just know last least left let like
    list look low main many may me medicine medicines mg mix ml month months more most much must my
    need next no not now of off on one only or order other our out over please quantity reorder
    right running safe said same see sell shelf short should show side so sold some stock stocks
    street store take tablets tablet capsules capsule tell than that the their them then there these
    they this those to today together tomorrow too treat treats under unit units up us use used
    uses warning warnings was we week weeks were what whats what's when where which while who why will
    with within would year yesterday you your yours sales sale revenue there's hi hello thanks thank
    plus vs versus between both either number numbers past previous coming days' still remaining
    across chain whole entire overall
    """.split()
)
_WORD = re.compile(r"[a-z0-9][a-z0-9\-]*")


# --- slots -------------------------------------------------------------------------------------------


def medicines_in(question: str, ignore: frozenset[str] = frozenset()) -> list[Mention]:
    """Medicine names in a question, in order: exact dictionary names first (longest phrase wins), then
    up to MAX_FUZZY_WORDS longer unknown words through the matcher's typo tolerance."""
    words = [w.strip("-") for w in _WORD.findall(question.lower())]
    runs: list[list[str]] = [[]]
    for word in words:
        if word in STOP_WORDS or word in ignore or word.isdigit() or len(word) < 3:
            runs.append([])
        else:
            runs[-1].append(word)
    found: list[Mention] = []
    fuzzy_budget = MAX_FUZZY_WORDS
    for run in (r for r in runs if r):
        i = 0
        while i < len(run):
            for size in range(min(4, len(run) - i), 0, -1):
                phrase = " ".join(run[i : i + size])
                match = resolve(phrase, fuzzy=False)
                if match is not None:
                    found.append(Mention(phrase, match.generic))
                    i += size
                    break
            else:
                word = run[i]
                match = resolve(word) if fuzzy_budget > 0 and len(word) >= 5 else None
                fuzzy_budget -= len(word) >= 5
                found.append(Mention(word, match.generic if match else None))
                i += 1
    return _distinct(found)


def _distinct(mentions: list[Mention]) -> list[Mention]:
    seen: set[str] = set()
    out = []
    for m in mentions:
        key = (m.generic or m.typed).lower()
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def branch_in(question: str, branches: list[BranchSummary]) -> BranchSummary | None:
    """A branch named in the question, by full name, name without 'branch', or code (whole words)."""
    text = question.lower()
    for branch in sorted(branches, key=lambda b: -len(b.name)):
        bare = re.sub(r"\s*\bbranch\b\s*", " ", branch.name.lower()).strip()
        for name in (branch.name.lower(), bare, branch.code.lower()):
            if len(name) >= 2 and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
                return branch
    return None


_NAMED_BRANCH = re.compile(r"\b(?:at|in|for|from)\s+(?:the\s+)?([a-z0-9][\w' -]{1,40}?)\s+branch\b|\bbranch\s+([\w-]+)")


def unknown_branch(question: str) -> str | None:
    """A branch the question names that is not one of the member's (checked after branch_in failed)."""
    match = _NAMED_BRANCH.search(question.lower())
    if not match:
        return None
    name = (match.group(1) or match.group(2) or "").strip()
    return name if name and name not in {"this", "that", "my", "our", "each", "every", "any", "which"} else None


def _branch_words(branches: list[BranchSummary]) -> frozenset[str]:
    return frozenset(w for b in branches for w in _WORD.findall(f"{b.name} {b.code}".lower()))


_N_UNITS = re.compile(
    r"\b(?:next|coming|within|in|past|last)\s+(\d{1,3}|a|one|two|three|four|six)\s+(day|week|month)s?\b"
)
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "six": 6}


def dates_in(question: str, today: date) -> DateRange | None:
    """Date phrases in the branch's local calendar ('today' is the caller's local date)."""
    q = question.lower()
    if "yesterday" in q:
        day = today - timedelta(days=1)
        return DateRange(day, day, "yesterday")
    if "today" in q:
        return DateRange(today, today, "today")
    if "tomorrow" in q:
        return DateRange(today + timedelta(days=1), today + timedelta(days=1), "tomorrow")
    month = _month_phrase(q, today)
    if month:
        return month
    week = _week_phrase(q, today)
    if week:
        return week
    m = _N_UNITS.search(q)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS[m.group(1)]
        days = n * {"day": 1, "week": 7, "month": 30}[m.group(2)]
        if q[m.start() :].startswith(("past", "last")):  # "last 7 days" counts today as the 7th
            return DateRange(today - timedelta(days=days - 1), today, m.group(0))
        return DateRange(today, today + timedelta(days=days), m.group(0))
    return None


def _month_phrase(q: str, today: date) -> DateRange | None:
    first = today.replace(day=1)
    if "this month" in q or "end of the month" in q or "end of month" in q:
        start = first
    elif "next month" in q:
        start = (first + timedelta(days=32)).replace(day=1)
    elif "last month" in q:
        start = (first - timedelta(days=1)).replace(day=1)
    else:
        return None
    end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    phrase = "this month" if start == first else "next month" if start > first else "last month"
    return DateRange(start, end, phrase)


def _week_phrase(q: str, today: date) -> DateRange | None:
    monday = today - timedelta(days=today.weekday())
    if "this week" in q:
        return DateRange(monday, monday + timedelta(days=6), "this week")
    if "next week" in q:
        return DateRange(monday + timedelta(days=7), monday + timedelta(days=13), "next week")
    if "last week" in q:
        return DateRange(monday - timedelta(days=7), monday - timedelta(days=1), "last week")
    return None


def local_today(branch: BranchSummary | None, branches: list[BranchSummary]) -> date:
    """Today in the named branch's zone, else in the member's first branch's (UTC when there is none)."""
    zone = branch.time_zone if branch else (branches[0].time_zone if branches else "UTC")
    return datetime.now(ZoneInfo(zone)).date()


# --- answering ---------------------------------------------------------------------------------------


@dataclass
class _Question:
    ctx: TenantContext
    text: str  # as asked
    lower: str
    profile: TenantProfile
    branch: BranchSummary | None
    today: date


def _reply(intent: str, results: list[ToolResult], extra: str = "", sources: tuple[Source, ...] = ()) -> Reply:
    text = "\n\n".join(r.text for r in results)
    if extra:
        text = f"{text}\n\n{extra}" if text else extra
    cited = tuple(dict.fromkeys((*(s for r in results for s in r.sources), *sources)))
    return Reply(
        text=text,
        tools_used=tuple(r.label for r in results if r.label),
        sources=cited,
        intent=intent,
        data=tuple(r.data for r in results),
    )


def _branch_arg(q: _Question) -> dict[str, str]:
    return {"branch": q.branch.id} if q.branch else {}


def _interactions(q: _Question, mentions: list[Mention]) -> Reply:
    if len(mentions) < 2:
        return Reply(
            "Which medicines should I check? Name at least two, e.g. 'does warfarin interact with ibuprofen'.",
            intent="interaction",
        )
    result = call_tool(q.ctx, "interaction_check", {"drugs": [m.typed for m in mentions][:20]})
    severities = {p.get("severity") for p in result.data.get("pairs", [])}
    extra = safety.ASK_PHARMACIST if severities & {"major", "contraindicated", "unknown"} else ""
    return _reply("interaction", [result], extra)


def _drug_info(q: _Question, mentions: list[Mention]) -> Reply:
    if not mentions:
        return Reply("Which medicine? e.g. 'what is metformin used for'.", intent="drug_info")
    results = [call_tool(q.ctx, "drug_information", {"medicine": m.typed}) for m in mentions[:3]]
    extra = f"This is general label information, not advice for a particular patient. {safety.ASK_PHARMACIST}"
    return _reply("drug_info", results, extra)


def _dosing(q: _Question, mentions: list[Mention]) -> Reply:
    answer = druginfo.lookup(mentions[0].typed) if mentions else None
    text, sources = safety.dosing_reply(answer)
    return Reply(text, sources=sources, intent="dosing")


def _expiring(q: _Question) -> Reply:
    period = dates_in(q.lower, q.today)
    days = max((period.end - q.today).days, 0) if period and period.end >= q.today else DEFAULT_EXPIRY_DAYS
    result = call_tool(q.ctx, "expiring_stock", {"within_days": days, **_branch_arg(q)})
    note = (
        f"({period.phrase} ends {period.end.isoformat()} at {q.branch.name if q.branch else 'your branch'}'s date.)"
        if period and period.phrase in {"this month", "next month", "this week", "next week"}
        else ""
    )
    return _reply("expiring", [result], note)


# Words around a product's name in a stock question that name nothing: removed before the phrase goes
# to the tool, which reads the name, strength, form, release, maker and barcode from what is left.
_STOCK_FILLER = STOP_WORDS - {"mg", "ml", "tablet", "tablets", "capsule", "capsules", "one"} | frozenset(
    """
        on-hand hand qty inventory level levels remaining supply soh boxes packs carry carrying current
        currently total totals pls plz hey ok okay quick check got stocked onhand figure figures need
        amount amounts exactly exact right now status across chain whole stores store shop pharmacy back
        below above point points threshold running short
        """.split()
)
_SEPARATOR = re.compile(r"\s*(?:,|;|&|\band\b|\bplus\b|\bvs\.?|\bversus\b)\s*")
_PHRASE_WORD = re.compile(
    r"\d+(?:\.\d+)?%?|\.\d+|(?:mg|mcg|g|units?|meq)\s*/\s*\d*(?:\.\d+)?\s*ml\b|[a-z][a-z0-9\-']*|µg"
)


def product_phrases(q: _Question, mentions: list[Mention]) -> list[str]:
    """The products a stock question names, each as a phrase with what narrows it ("lorazepam 0.5 mg",
    "amitriptyline 10 mg teva"); several medicines ("amoxicillin and ibuprofen") give several phrases."""
    lower = q.lower
    if q.branch is not None:  # the branch's words are not part of a product's name
        bare = re.sub(r"\s*\bbranch\b\s*", " ", q.branch.name.lower()).strip()
        for name in sorted({q.branch.name.lower(), bare, q.branch.code.lower()}, key=len, reverse=True):
            lower = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", " ", lower)
    lower = re.sub(r"\bbranch(es)?\b", " ", lower)
    known = [m for m in mentions if m.generic]
    parts = _SEPARATOR.split(lower) if len(known) > 1 else [lower]
    phrases = [" ".join(w for w in _PHRASE_WORD.findall(part) if w not in _STOCK_FILLER) for part in parts]
    return [p for p in phrases if re.search(r"[a-z]{2}|\d{8,14}", p)][:3]


def _stock(q: _Question, mentions: list[Mention]) -> Reply:
    phrases = product_phrases(q, mentions)
    if not phrases:
        return Reply("Which medicine? e.g. 'how many amoxicillin 500 mg at Main Street'.", intent="stock")
    results = [call_tool(q.ctx, "medicine_stock", {"medicine": p[:80], **_branch_arg(q)}) for p in phrases]
    return _reply("stock", results)


def _names_only(q: _Question, known: list[Mention]) -> bool:
    """ "What is lorazepam?" asks what it is; "what's lorazepam 0.5 mg" with a strength asks for the product."""
    return not re.search(r"\d", q.lower)


def _sales(q: _Question) -> Reply:
    """Sales of the day or period asked (the branch's local calendar; today when none is named)."""
    period = dates_in(q.lower, q.today) or DateRange(q.today, q.today, "today")
    end = min(period.end, q.today)  # nothing is sold in the future
    if end < period.start:
        return Reply(f"{period.phrase.capitalize()} has not happened yet, so there are no sales.", intent="sales")
    args = {"start": period.start.isoformat(), "end": end.isoformat(), **_branch_arg(q)}
    return _reply("sales", [call_tool(q.ctx, "sales_figures", args)])


def _recall(q: _Question) -> Reply:
    """Who received a lot: the lot number as said; the other words that are not filler name the medicine
    or maker ("recall lot ROS-2401 of Crestor"), needed when makers share the lot number."""
    lot = _LOT.search(q.text)
    if lot is None:
        return Reply("Which lot number? e.g. 'who received lot A-100 of lisinopril'.", intent="recall")
    rest = f"{q.text[: lot.start()]} {q.text[lot.end() :]}".lower()
    ignore = STOP_WORDS | _RECALL_FILLER | _branch_words(q.profile.branches)
    medicine = " ".join(w for w in _WORD.findall(rest) if w not in ignore)
    args = {"lot": lot.group(1), **({"medicine": medicine[:80]} if medicine.strip() else {})}
    return _reply("recall", [call_tool(q.ctx, "recall_trace", args)])


def _refill_status(q: _Question, rx_number: str) -> Reply:
    return _reply("refill_status", [call_tool(q.ctx, "refill_status", {"rx_number": rx_number})])


def _refills_due(q: _Question) -> Reply:
    period = dates_in(q.lower, q.today)
    days = (period.end - q.today).days if period and period.end >= q.today else DEFAULT_DUE_DAYS
    args = {"within_days": min(max(days, 0), 60), **_branch_arg(q)}
    return _reply("refills_due", [call_tool(q.ctx, "refills_due", args)])


def patient_named(question: str) -> str | None:
    """The patient a medication-list question names ("medications for Ann Archer", "Ann's meds")."""
    said = question.strip().rstrip("?.! ")
    for pattern in _PATIENT:
        if found := pattern.search(said):
            name = found.group(1).strip(" ,")
            if name and name.lower() not in {"he", "she", "they", "this patient", "the patient", "we", "you"}:
                return name
    return None


def _medication_list(q: _Question, patient: str) -> Reply:
    return _reply("medication_list", [call_tool(q.ctx, "medication_list", {"patient": patient[:100]})])


def _patient_follow_up(question: str, history: Sequence[Mapping[str, str]]) -> str | None:
    """A reply to "Which patient?" (a name with the date of birth) is the patient to list."""
    if not history or history[-1].get("role") != "assistant" or WHICH_PATIENT not in history[-1].get("content", ""):
        return None
    said = question.strip().rstrip("?.!")
    return said if 0 < len(said.split()) <= MAX_PATIENT_WORDS else None


_STRENGTH_WORDS = re.compile(
    r"(?<![\w.])(?:\d+(?:\.\d+)?|\.\d+)\s*(?:mg|mcg|µg|g|ml|meq|iu|units?|%)?(?:\s*/\s*\d*\s*ml)?(?![\w.])"
)
_FORM_WORDS = re.compile(
    r"\b(tablets?|tabs?|caplets?|capsules?|caps?|suspension|liquid|syrup|solution|inhalers?|injections?|"
    r"pens?|creams?|ointments?|gels?|patch(es)?|drops|sprays?|powder)\b"
)
_RELEASE_WORDS = re.compile(
    r"\b(er|xr|xl|la|sr|cr|cd|dr|ec|ir|(extended|sustained|controlled|delayed|immediate)[- ]release)\b"
)
_CHOICE_FILLER = re.compile(r"\b(the|one|ones|i|mean|meant|please|pls|that|those|from|by|made|ok|okay|yes)\b")
MAX_CHOICE_WORDS = 6


def follow_up(question: str, history: Sequence[Mapping[str, str]]) -> str | None:
    """A short reply to the assistant's "which one?" completes the stock question it was asked about:
    "how many amitriptyline 75 mg" + "10 mg" is "how many amitriptyline 10 mg"; "how many Teva" + "the
    amitriptyline 10 mg" names both. What the reply says (strength, form, release) replaces what the
    question said; a maker or name is added. Anything longer, or a question of its own, stands alone."""
    if len(history) < 2 or history[-1].get("role") != "assistant" or WHICH_ONE not in history[-1].get("content", ""):
        return None
    asked = history[-2].get("content", "") if history[-2].get("role") == "user" else ""
    said = " ".join(question.lower().split())
    if not asked or len(said.split()) > MAX_CHOICE_WORDS or _BILL.search(said):
        return None
    rules = (_SALES, _REFILL, _RECALL, _MEDICATIONS, _EXPIRY, _LOW, _INFO, _INTERACTION, _DOCUMENTS)
    if any(rule.search(said) for rule in rules):
        return None
    choice = read_product(said)
    earlier = asked.lower()
    if choice.strength is not None:
        earlier = _STRENGTH_WORDS.sub(" ", earlier)
    if choice.form:
        earlier = _FORM_WORDS.sub(" ", earlier)
    if choice.release:
        earlier = _RELEASE_WORDS.sub(" ", earlier)
    chosen = _CHOICE_FILLER.sub(" ", said.rstrip("?.!"))
    combined = " ".join(f"{earlier.rstrip('?.! ')} {chosen}".split())
    return combined if chosen.strip() else None


def answer(ctx: TenantContext, question: str, history: Sequence[Mapping[str, str]] = ()) -> Reply:
    """Answer one staff question with the local engine, under the member's context and role.

    `history` is the conversation so far (chat messages, oldest first): a short reply to the engine's
    own "which one?" completes the question it was asked about (`follow_up`)."""
    if not role_has(ctx.role, ASSISTANT_PERMISSION):
        return Reply(f"Your role ({ctx.role or 'none'}) may not use the assistant.", intent="refused")
    text = " ".join(question.split())
    if not text:
        return Reply("Ask me about stock, expiry, bills, medicines or interactions.", intent="empty")
    if len(text) > MAX_QUESTION:
        return Reply(f"Please ask one shorter question (at most {MAX_QUESTION} characters).", intent="too_long")
    if (patient := _patient_follow_up(text, history)) is not None:
        profile = tenant_profile(ctx)
        q = _Question(ctx, text, text.lower(), profile, None, local_today(None, profile.branches))
        return _medication_list(q, patient)
    if (completed := follow_up(text, history)) is not None:
        reply = answer(ctx, completed)
        return replace(reply, text=f"(Taking that as: {completed})\n\n{reply.text}")
    profile = tenant_profile(ctx)
    refusal = safety.screen(text, profile.name)
    if refusal:
        return Reply(refusal.text, intent=f"refused:{refusal.kind}")
    branch = branch_in(text, profile.branches)
    q = _Question(ctx, text, text.lower(), profile, branch, local_today(branch, profile.branches))
    if branch is None and (missing := unknown_branch(text)):
        return Reply(
            f"I don't see a branch called '{missing}' among the branches you can see.", intent="unknown_branch"
        )
    return _route(q)


def _route(q: _Question) -> Reply:
    lower = q.lower
    if bill := _BILL.search(q.text):
        return _reply("bill", [call_tool(q.ctx, "bill_by_number", {"number": bill.group(1)})])
    if _RECALL.search(lower) or (_LOT.search(q.text) and _REFILL.search(lower)):
        return _recall(q)
    if rx := _RX_NUMBER.search(q.text):
        return _refill_status(q, rx.group(1))
    if _MEDICATIONS.search(lower) and (patient := patient_named(q.text)):
        return _medication_list(q, patient)
    if _SALES.search(lower):
        return _sales(q)
    if _REFILL.search(lower):
        if _DUE.search(lower):
            return _refills_due(q)
        return Reply(PRESCRIPTION_HELP, intent="refill")
    mentions = medicines_in(q.text, ignore=_branch_words(q.profile.branches))
    known = [m for m in mentions if m.generic]
    if _INTERACTION.search(lower):
        return _interactions(q, mentions)
    if safety.is_dosing_question(lower):
        return _dosing(q, known or mentions)
    if _EXPIRY.search(lower):
        return _expiring(q)
    if _LOW.search(lower):
        if known:  # "are we low on amoxicillin": that medicine's stock, not the whole list
            return _stock(q, mentions)
        return _reply("low_stock", [call_tool(q.ctx, "low_stock", _branch_arg(q))])
    if _DOCUMENTS.search(lower):
        return _reply("documents", [call_tool(q.ctx, "chain_documents", {"question": q.text[:500]})])
    if _STOCK.search(lower) and not _ASKS_WHAT_IT_DOES.search(lower):
        return _stock(q, mentions)
    if _INFO.search(lower):
        return _drug_info(q, known or mentions)
    if _WHAT_IS.search(lower) and known and _names_only(q, known):
        return _drug_info(q, known)
    if known:  # a bare medicine name: staff at the counter mostly want to know if it is on the shelf
        return _stock(q, known)
    return _retrieved(q)


QUOTED_DOCUMENTS = "Quoted from your chain's documents; check the full document if unsure."


def _retrieved(q: _Question) -> Reply:
    """No rule matched: the chain's own documents, then drug information, by meaning; else say so."""
    documents = call_tool(q.ctx, "chain_documents", {"question": q.text[:500]})
    if documents.ok:
        return _reply("documents", [documents], QUOTED_DOCUMENTS)
    snippets = retrieval.search_drug_information(q.text, limit=2)
    if snippets:
        quoted = "\n\n".join(f"> {s.text}" for s in snippets)
        text = f"From the drug information I have:\n\n{quoted}\n\n{safety.ASK_PHARMACIST}"
        return Reply(
            text,
            ("searched drug information",),
            tuple(dict.fromkeys(s.source for s in snippets)),
            intent="drug_info_search",
        )
    return Reply(CANT_ANSWER, intent="unknown")
