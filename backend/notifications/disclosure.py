"""What a message to a patient may say: the minimum necessary unless the chain and the patient both allow more.

A text message or an e-mail is read on a lock screen, by whoever shares the inbox, and by the provider that
carries it. So by default a patient message names the branch and what to do, never the medicine, the Rx
number, a diagnosis or anything else about the prescription: "Your prescription is ready for pickup at Main
Street". A chain may allow the medicine's name for some message kinds (Settings > Patient messages), and a
patient may consent to such detailed messages (recorded on the patient's record); a message carries detail
only when both said yes. `render` is the one way a patient message is written, and it refuses, rather than
quietly sends, any template that would use a detail it was not allowed to.

Templates are Jinja2 in its sandbox (the notifications issue lets owners edit them): a template cannot run
code, and a variable it names but was not given is an error, not an empty string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import PharmacyError, ValidationFailed
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require


class DisclosureRefused(PharmacyError):
    """A patient message would have disclosed what it may not (a drug name without permission and consent)."""

    http_status = 422
    code = "disclosure_refused"


class MessageKind(StrEnum):
    READY_FOR_PICKUP = "ready_for_pickup"
    REFILL_DUE = "refill_due"
    REFILL_REQUEST_RECEIVED = "refill_request_received"
    REFILL_NEEDS_PRESCRIBER = "refill_needs_prescriber"
    REFILL_REQUEST_DENIED = "refill_request_denied"
    PRESCRIPTION_RECEIVED = "prescription_received"
    PRESCRIPTION_TRANSFERRED = "prescription_transferred"
    PICKUP_REMINDER = "pickup_reminder"
    LOT_RECALL = "lot_recall"
    PORTAL_CODE = "portal_code"  # the one-time code that opens a customer's "My prescriptions" (issue 17)

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    MessageKind.READY_FOR_PICKUP: "Prescription ready for pickup",
    MessageKind.REFILL_DUE: "Refill due (reminder)",
    MessageKind.REFILL_REQUEST_RECEIVED: "Refill request received",
    MessageKind.REFILL_NEEDS_PRESCRIBER: "Refill needs the prescriber",
    MessageKind.REFILL_REQUEST_DENIED: "Refill request denied",
    MessageKind.PRESCRIPTION_RECEIVED: "Prescription received",
    MessageKind.PRESCRIPTION_TRANSFERRED: "Prescription transferred",
    MessageKind.PICKUP_REMINDER: "Pickup reminder (unclaimed fill)",
    MessageKind.LOT_RECALL: "Medicine recall",
    MessageKind.PORTAL_CODE: "Online pharmacy sign-in code",
}

# Kinds that never carry detail, whatever the chain or the patient said (not listed in the owner's settings).
NEVER_DETAILED = frozenset({MessageKind.PORTAL_CODE})
# Values any patient message may carry: where, when to come, how to reach the pharmacy.
SAFE_VALUES = frozenset({"branch", "branch_phone", "chain", "pickup_by", "destination", "code"})
# Values about the prescription itself: only in a detailed message (chain allowed the kind, patient consented).
DETAIL_VALUES = frozenset({"medicine", "rx_number", "due_date", "lot", "quantity"})
# What the patient consented on: kept with the consent.
CONSENT_CHANNELS = {"in_person": "In person", "phone": "By phone", "written": "In writing", "portal": "In the portal"}


@dataclass(frozen=True)
class Template:
    subject: str
    body: str  # plain text for e-mail and push
    sms: str  # within 160 characters where possible


def _t(subject: str, body: str, sms: str) -> Template:
    return Template(subject, body, sms)


DEFAULT_TEMPLATES: dict[MessageKind, Template] = {
    MessageKind.READY_FOR_PICKUP: _t(
        "Your prescription is ready",
        "Your prescription is ready for pickup at {{ branch }}.",
        "{{ chain }}: your prescription is ready for pickup at {{ branch }}.",
    ),
    MessageKind.REFILL_DUE: _t(
        "A refill is due",
        "One of your prescriptions is due for a refill. Contact {{ branch }} to order it.",
        "{{ chain }}: a prescription of yours is due for a refill. Contact {{ branch }}.",
    ),
    MessageKind.REFILL_REQUEST_RECEIVED: _t(
        "We received your refill request",
        "We received your refill request. {{ branch }} will tell you when it is ready.",
        "{{ chain }}: refill request received. {{ branch }} will tell you when it is ready.",
    ),
    MessageKind.REFILL_NEEDS_PRESCRIBER: _t(
        "Your refill needs your prescriber",
        "Your refill request needs your prescriber's approval. {{ branch }} has asked them and will let you know.",
        "{{ chain }}: your refill needs your prescriber's approval; {{ branch }} has asked them.",
    ),
    MessageKind.REFILL_REQUEST_DENIED: _t(
        "About your refill request",
        "We could not fill your refill request. Please contact {{ branch }}.",
        "{{ chain }}: we could not fill your refill request. Please contact {{ branch }}.",
    ),
    MessageKind.PRESCRIPTION_RECEIVED: _t(
        "We received your prescription",
        "We received your prescription. {{ branch }} will tell you when it is ready.",
        "{{ chain }}: prescription received. {{ branch }} will tell you when it is ready.",
    ),
    MessageKind.PRESCRIPTION_TRANSFERRED: _t(
        "Your prescription was transferred",
        "Your prescription has been transferred to {{ destination }}.",
        "{{ chain }}: your prescription has been transferred to {{ destination }}.",
    ),
    MessageKind.PICKUP_REMINDER: _t(
        "A prescription is waiting for you",
        "A prescription is waiting for you at {{ branch }}. Please collect it by {{ pickup_by }}; after that it is "
        "returned to stock.",
        "{{ chain }}: a prescription is waiting for you at {{ branch }}. Please collect it by {{ pickup_by }}.",
    ),
    MessageKind.LOT_RECALL: _t(
        "Important: a medicine recall",
        "A medicine you received from {{ branch }} is being recalled. Please call us at {{ branch_phone }}.",
        "{{ chain }}: a medicine you received is being recalled. Please call {{ branch }} at {{ branch_phone }}.",
    ),
    MessageKind.PORTAL_CODE: _t(
        "Your code for {{ chain }}'s online pharmacy",
        "Your code for {{ chain }}'s online pharmacy is {{ code }}. It expires in 10 minutes. If you did not ask "
        "for it, ignore this message.",
        "Your code for {{ chain }}'s online pharmacy is {{ code }}. It expires in 10 minutes.",
    ),
}

DETAILED_TEMPLATES: dict[MessageKind, Template] = {
    MessageKind.READY_FOR_PICKUP: _t(
        "Your prescription is ready",
        "Your {{ medicine }} (Rx {{ rx_number }}) is ready for pickup at {{ branch }}.",
        "{{ chain }}: your {{ medicine }} (Rx {{ rx_number }}) is ready at {{ branch }}.",
    ),
    MessageKind.REFILL_DUE: _t(
        "A refill is due",
        "Your {{ medicine }} (Rx {{ rx_number }}) is due for a refill on {{ due_date }}. Contact {{ branch }}.",
        "{{ chain }}: {{ medicine }} (Rx {{ rx_number }}) is due for a refill {{ due_date }}.",
    ),
    MessageKind.REFILL_REQUEST_RECEIVED: _t(
        "We received your refill request",
        "We received your refill request for {{ medicine }} (Rx {{ rx_number }}). {{ branch }} will tell you when "
        "it is ready.",
        "{{ chain }}: refill request for {{ medicine }} received.",
    ),
    MessageKind.REFILL_NEEDS_PRESCRIBER: _t(
        "Your refill needs your prescriber",
        "Your refill of {{ medicine }} (Rx {{ rx_number }}) needs your prescriber's approval. {{ branch }} has "
        "asked them.",
        "{{ chain }}: your {{ medicine }} refill needs your prescriber's approval.",
    ),
    MessageKind.REFILL_REQUEST_DENIED: _t(
        "About your refill request",
        "We could not fill your refill request for {{ medicine }} (Rx {{ rx_number }}). Please contact {{ branch }}.",
        "{{ chain }}: we could not refill {{ medicine }}. Please contact {{ branch }}.",
    ),
    MessageKind.PRESCRIPTION_RECEIVED: _t(
        "We received your prescription",
        "We received your prescription for {{ medicine }}. {{ branch }} will tell you when it is ready.",
        "{{ chain }}: prescription for {{ medicine }} received.",
    ),
    MessageKind.PRESCRIPTION_TRANSFERRED: _t(
        "Your prescription was transferred",
        "Your prescription for {{ medicine }} (Rx {{ rx_number }}) has been transferred to {{ destination }}.",
        "{{ chain }}: your {{ medicine }} prescription was transferred to {{ destination }}.",
    ),
    MessageKind.PICKUP_REMINDER: _t(
        "A prescription is waiting for you",
        "Your {{ medicine }} (Rx {{ rx_number }}) is waiting for you at {{ branch }}. Please collect it by "
        "{{ pickup_by }}; after that it is returned to stock.",
        "{{ chain }}: your {{ medicine }} is waiting at {{ branch }} until {{ pickup_by }}.",
    ),
    MessageKind.LOT_RECALL: _t(
        "Important: a medicine recall",
        "Lot {{ lot }} of {{ medicine }}, which you received from {{ branch }}, is being recalled. Please call us "
        "at {{ branch_phone }}.",
        "{{ chain }}: lot {{ lot }} of {{ medicine }} is recalled. Call {{ branch }} at {{ branch_phone }}.",
    ),
}


@dataclass(frozen=True)
class Message:
    kind: MessageKind
    subject: str
    body: str
    sms: str
    detailed: bool  # carries the medicine: the chain allowed this kind and the patient consented


class _MessageSandbox(SandboxedEnvironment):
    """Jinja2's sandbox (no attribute starting with `_`, no unsafe callables), and more for owner-edited text:
    no arithmetic that could build a huge string or number (`'a' * 10**9`, `9**9**9`) and no globals
    (`range`, `cycler`, `lipsum`, ...), so a template names only the message's values."""

    intercepted_binops = frozenset({"*", "**", "//", "%"})

    def call_binop(self, context: object, operator: str, left: object, right: object) -> object:
        raise SecurityError("Arithmetic is not allowed in a message template.")

    def is_safe_attribute(self, obj: object, attr: str, value: object) -> bool:
        return False  # a message's values are plain text: no attribute or method of anything is needed


_ENV = _MessageSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
_ENV.globals.clear()
# Filters that only reshape the text a little (no width or repeat argument that could blow it up).
SAFE_FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "default", "d"})
_ENV.filters = {name: f for name, f in _ENV.filters.items() if name in SAFE_FILTERS}
# What a template may be made of: text, {{ value }}, filters above, and {% if %} on values. No loops, macros,
# sets, calls, attributes or includes: an owner-edited template cannot run code or loop forever.
_ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.Filter, nodes.If,
    nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.CondExpr, nodes.Concat,
)  # fmt: skip


_NODE_WORDS = {"Getattr": "attributes (a dot after a value)", "Getitem": "indexing ([...])", "Call": "calls",
               "For": "loops", "Macro": "macros", "Assign": "set"}  # fmt: skip


def _check_nodes(tree: nodes.Template) -> None:
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            what = type(node).__name__
            raise SecurityError(f"a message template may not use {_NODE_WORDS.get(what, what.lower())}.")
        if isinstance(node, nodes.Name) and node.ctx != "load":
            raise SecurityError("A message template may not set values.")


def is_detailed(kind: MessageKind, *, chain_allows: bool, patient_consented: bool) -> bool:
    """A message of `kind` may carry detail only when the chain allowed the kind AND the patient consented."""
    return chain_allows and patient_consented and kind not in NEVER_DETAILED


def template_values(source: str) -> set[str]:
    """The values a template names (refused at save time when unknown or not allowed)."""
    try:
        tree = _ENV.parse(source)
        _check_nodes(tree)
        return set(meta.find_undeclared_variables(tree))
    except SecurityError as exc:
        raise ValidationFailed(f"The template is not allowed: {exc}") from None
    except TemplateError as exc:
        raise ValidationFailed(f"The template cannot be read: {exc}") from None


def check_template(template: Template, *, detailed: bool) -> None:
    """Refuse a template that names a value it may not carry (a detail in a minimum message) or an unknown one."""
    allowed = SAFE_VALUES | DETAIL_VALUES if detailed else SAFE_VALUES
    for part in (template.subject, template.body, template.sms):
        used = template_values(part)
        leaking = sorted(used & DETAIL_VALUES - allowed)
        if leaking:
            raise DisclosureRefused(
                f"This message may not include {', '.join(leaking)}: the chain has not allowed detail for this "
                "kind of message, or the patient has not consented to detailed messages."
            )
        unknown = sorted(used - SAFE_VALUES - DETAIL_VALUES)
        if unknown:
            raise ValidationFailed(f"Unknown value in the template: {', '.join(unknown)}.")


def _detail_words(values: Mapping[str, str]) -> list[str]:
    """What must not appear in a minimum message: the medicine, Rx number and lot given, and the medicine's
    first word (its generic or brand name, which a template could otherwise spell out from a longer value).
    Dates and quantities are left out of this check: they would match a phone number or a pickup date."""
    words = [str(values.get(name) or "").strip() for name in ("medicine", "rx_number", "lot")]
    medicine = str(values.get("medicine") or "").strip()
    if medicine:
        words.append(re.split(r"[\s(/,]+", medicine)[0])
    return [w for w in words if len(w) >= 3]


def render(
    kind: MessageKind,
    values: Mapping[str, str],
    *,
    chain_allows: bool,
    patient_consented: bool,
    template: Template | None = None,
) -> Message:
    """Write one patient message of `kind`. Detailed only when the chain allowed the kind AND the patient
    consented; otherwise the minimum template, given only the safe values, and a last check that no detail
    value ended up in the text anyway."""
    detailed = is_detailed(kind, chain_allows=chain_allows, patient_consented=patient_consented)
    chosen = template or (DETAILED_TEMPLATES if detailed else DEFAULT_TEMPLATES)[kind]
    check_template(chosen, detailed=detailed)
    allowed = SAFE_VALUES | DETAIL_VALUES if detailed else SAFE_VALUES
    given = {k: str(v) for k, v in values.items() if k in allowed}
    try:
        parts = [_ENV.from_string(p).render(given).strip() for p in (chosen.subject, chosen.body, chosen.sms)]
    except TemplateError as exc:  # StrictUndefined: a value the template names was not given
        raise ValidationFailed(f"The {kind.label.lower()} message is missing a value: {exc}") from None
    if not detailed:
        written = " ".join(parts).lower()
        for word in _detail_words(values):
            if word.lower() in written:
                raise DisclosureRefused(f"The {kind.label.lower()} message would disclose a prescription detail.")
    return Message(kind, parts[0], parts[1], parts[2], detailed)


# --- the chain's settings -------------------------------------------------------------------------


@dataclass(frozen=True)
class KindSetting:
    kind: MessageKind
    label: str
    allow_medicine: bool
    example: str  # the default wording, so the owner sees what a patient gets


def _allowed_kinds(session: Session) -> set[str]:
    rows = session.execute(text("SELECT kind FROM message_disclosure WHERE allow_medicine")).scalars()
    return set(rows)


def chain_allows(session: Session, ctx: TenantContext, kind: MessageKind) -> bool:
    """Whether this chain lets `kind` messages name the medicine (RLS keeps it to the caller's chain)."""
    return kind.value in _allowed_kinds(session)


def disclosure_settings(session: Session, ctx: TenantContext) -> list[KindSetting]:
    """Every patient message kind with whether the chain allows detail in it (off unless the owner said so)."""
    require(ctx, "messages.disclosure")
    allowed = _allowed_kinds(session)
    example = {"branch": "Main Street", "branch_phone": "555-0100", "chain": "Your pharmacy"}
    example |= {"pickup_by": "June 30", "destination": "Elm Street Pharmacy", "code": "123456"}
    return [
        KindSetting(
            kind,
            kind.label,
            kind.value in allowed,
            render(kind, example, chain_allows=False, patient_consented=False).body,
        )
        for kind in MessageKind
        if kind not in NEVER_DETAILED
    ]


def set_disclosure(session: Session, ctx: TenantContext, kind: object, allow_medicine: bool) -> KindSetting:
    """Allow (or stop allowing) the medicine's name in one kind of patient message; audited."""
    require(ctx, "messages.disclosure")
    try:
        chosen = MessageKind(str(kind))
        if chosen in NEVER_DETAILED:
            raise ValueError(chosen)
    except ValueError:
        raise ValidationFailed("No such kind of patient message.", field="kind") from None
    session.execute(
        text(
            "INSERT INTO message_disclosure (tenant_id, kind, allow_medicine, updated_by) VALUES (:t, :k, :a, :u) "
            "ON CONFLICT (tenant_id, kind) DO UPDATE SET allow_medicine = EXCLUDED.allow_medicine, "
            "updated_by = EXCLUDED.updated_by, updated_at = now()"
        ),
        {"t": ctx.tenant_id, "k": chosen.value, "a": bool(allow_medicine), "u": ctx.user_id},
    )
    record_audit(
        session,
        ctx.tenant_id,
        "messages.disclosure_changed",
        actor_user_id=ctx.user_id,
        entity_type="message_kind",
        entity_id=chosen.value,
        details={"allow_medicine": bool(allow_medicine)},
    )
    return next(s for s in disclosure_settings(session, ctx) if s.kind == chosen)
