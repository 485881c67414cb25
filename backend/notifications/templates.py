"""The chain's own wording of patient messages (issue 18 §2): Settings > Message templates (owner).

Each kind of patient message has two variants: `minimum` (what every patient gets: no medicine, Rx number or
other detail) and `detailed` (only when the chain allows detail for the kind and the patient consented; see
`disclosure`). Each variant has an e-mail subject, an e-mail text and an SMS text. A chain without a saved
row uses the built-in default (`disclosure.DEFAULT_TEMPLATES` / `DETAILED_TEMPLATES`).

Saving refuses, with a message and without writing anything: a syntax error; anything the message sandbox
does not allow (attributes, calls, loops, arithmetic: see `disclosure._MessageSandbox`); a value no message
has (unknown); a value this kind of message is not given (missing: it would fail when sent); a detail value
in a minimum template; and a template that does not render with the demo values. The values a kind is given
are those its default templates name (what the code that sends it provides).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import text
from sqlmodel import Session

from backend.core.errors import PharmacyError, ValidationFailed
from backend.notifications.disclosure import (
    DEFAULT_TEMPLATES,
    DETAIL_VALUES,
    DETAILED_TEMPLATES,
    NEVER_DETAILED,
    DisclosureRefused,
    Message,
    MessageKind,
    Template,
    check_template,
    render,
    template_values,
)
from tenants.audit import record_audit
from tenants.context import TenantContext
from tenants.roles import require

SUBJECT_LIMIT, BODY_LIMIT, SMS_LIMIT = 200, 2000, 480
SMS_SEGMENT = 160  # one text message; longer ones are split (and cost more): the page warns

# What the preview fills in (a made-up patient of a made-up pharmacy).
DEMO_VALUES = {
    "chain": "Corner Pharmacy", "branch": "Main Street", "branch_phone": "555-0100", "pickup_by": "June 30",
    "destination": "Elm Street Pharmacy", "code": "123456", "medicine": "Sertraline 50 mg", "rx_number": "B1-9",
    "due_date": "June 28", "lot": "L2409", "quantity": "30",
}  # fmt: skip


class Variant(StrEnum):
    MINIMUM = "minimum"  # every patient: where and when, never what
    DETAILED = "detailed"  # the chain allowed detail for the kind and the patient consented

    @property
    def detailed(self) -> bool:
        return self is Variant.DETAILED


def default_template(kind: MessageKind, variant: Variant) -> Template:
    return (DETAILED_TEMPLATES if variant.detailed else DEFAULT_TEMPLATES)[kind]


def kind_values(kind: MessageKind) -> frozenset[str]:
    """The values a message of `kind` is given: those its default templates name."""
    names: set[str] = set()
    for table in (DEFAULT_TEMPLATES, DETAILED_TEMPLATES):
        if kind in table:
            for part in (table[kind].subject, table[kind].body, table[kind].sms):
                names |= template_values(part)
    return frozenset(names)


def variants(kind: MessageKind) -> list[Variant]:
    return [Variant.MINIMUM] if kind in NEVER_DETAILED else [Variant.MINIMUM, Variant.DETAILED]


def saved_template(session: Session, kind: MessageKind, *, detailed: bool) -> Template | None:
    """The chain's own template for `kind` (RLS: the caller's chain), or None: use the default."""
    row = session.execute(
        text("SELECT subject, body, sms FROM message_templates WHERE kind = :k AND variant = :v"),
        {"k": kind.value, "v": (Variant.DETAILED if detailed else Variant.MINIMUM).value},
    ).first()
    return Template(row.subject, row.body, row.sms) if row else None


@dataclass(frozen=True)
class TemplateView:
    kind: MessageKind
    variant: Variant
    template: Template
    customised: bool  # the chain saved its own wording (else the default)
    values: list[str]  # the values this variant may name


def _allowed(kind: MessageKind, variant: Variant) -> list[str]:
    values = kind_values(kind)
    return sorted(values if variant.detailed else values - DETAIL_VALUES)


def _view(session: Session, kind: MessageKind, variant: Variant) -> TemplateView:
    saved = saved_template(session, kind, detailed=variant.detailed)
    chosen = saved or default_template(kind, variant)
    return TemplateView(kind, variant, chosen, saved is not None, _allowed(kind, variant))


def _choose(kind: object, variant: object) -> tuple[MessageKind, Variant]:
    try:
        chosen = MessageKind(str(kind))
        wording = Variant(str(variant or Variant.MINIMUM))
    except ValueError:
        raise ValidationFailed("No such kind of patient message.", field="kind") from None
    if wording not in variants(chosen):
        raise ValidationFailed("This kind of message has no detailed variant.", field="variant")
    return chosen, wording


def list_templates(session: Session, ctx: TenantContext) -> list[TemplateView]:
    """Every kind and variant with the wording in force (the chain's own or the default)."""
    require(ctx, "messages.templates")
    return [_view(session, kind, variant) for kind in MessageKind for variant in variants(kind)]


def get_template(session: Session, ctx: TenantContext, kind: object, variant: object) -> TemplateView:
    require(ctx, "messages.templates")
    return _view(session, *_choose(kind, variant))


def _candidate(subject: object, body: object, sms: object) -> Template:
    parts = [str(p or "").strip() for p in (subject, body, sms)]
    fields = (("subject", "e-mail subject", SUBJECT_LIMIT), ("body", "e-mail text", BODY_LIMIT),
              ("sms", "text message", SMS_LIMIT))  # fmt: skip
    for value, (name, words, limit) in zip(parts, fields, strict=True):
        if not value:
            raise ValidationFailed(f"The {words} is empty.", field=name)
        if len(value) > limit:
            raise ValidationFailed(f"The {words} is longer than {limit} characters.", field=name)
    return Template(*parts)


def check_for_save(kind: MessageKind, variant: Variant, template: Template) -> Message:
    """Everything a save refuses (see the module's docstring); answers the preview with the demo values."""
    check_template(template, detailed=variant.detailed)  # syntax, sandbox, unknown values, detail in minimum
    given = kind_values(kind)
    for part in (template.subject, template.body, template.sms):
        missing = sorted(template_values(part) - given)
        if missing:
            raise ValidationFailed(
                f"A “{kind.label}” message is not given {', '.join(missing)}: it can use "
                f"{', '.join(_allowed(kind, variant))}."
            )
    try:
        return render(kind, DEMO_VALUES, chain_allows=variant.detailed, patient_consented=variant.detailed,
                      template=template)  # fmt: skip
    except PharmacyError:
        raise
    except Exception as exc:  # noqa: BLE001 - anything else the sandbox stopped is a refusal, not a crash
        raise ValidationFailed(f"The template cannot be used: {type(exc).__name__}.") from None


def preview(
    session: Session, ctx: TenantContext, kind: object, variant: object, subject: object, body: object, sms: object
) -> Message:
    """The message a patient would get with these (unsaved) texts, filled from demo values."""
    require(ctx, "messages.templates")
    chosen, wording = _choose(kind, variant)
    return check_for_save(chosen, wording, _candidate(subject, body, sms))


def save_template(
    session: Session, ctx: TenantContext, kind: object, variant: object, subject: object, body: object, sms: object
) -> TemplateView:
    """Save the chain's wording of one kind and variant (refused with a message unless `check_for_save`
    passes); audited with the texts (they are wording, not patient data)."""
    require(ctx, "messages.templates")
    chosen, wording = _choose(kind, variant)
    template = _candidate(subject, body, sms)
    check_for_save(chosen, wording, template)
    session.execute(
        text(
            "INSERT INTO message_templates (tenant_id, kind, variant, subject, body, sms, updated_by) "
            "VALUES (:t, :k, :v, :s, :b, :m, :u) ON CONFLICT (tenant_id, kind, variant) DO UPDATE SET "
            "subject = EXCLUDED.subject, body = EXCLUDED.body, sms = EXCLUDED.sms, "
            "updated_by = EXCLUDED.updated_by, updated_at = now()"
        ),
        {"t": ctx.tenant_id, "k": chosen.value, "v": wording.value, "s": template.subject, "b": template.body,
         "m": template.sms, "u": ctx.user_id},
    )  # fmt: skip
    _audit(session, ctx, "messages.template_saved", chosen, wording,
           {"subject": template.subject, "body": template.body, "sms": template.sms})  # fmt: skip
    return _view(session, chosen, wording)


def reset_template(session: Session, ctx: TenantContext, kind: object, variant: object) -> TemplateView:
    """Back to the built-in default wording (the chain's row is removed); audited."""
    require(ctx, "messages.templates")
    chosen, wording = _choose(kind, variant)
    session.execute(
        text("DELETE FROM message_templates WHERE kind = :k AND variant = :v"),
        {"k": chosen.value, "v": wording.value},
    )
    _audit(session, ctx, "messages.template_reset", chosen, wording, {})
    return _view(session, chosen, wording)


def _audit(
    session: Session, ctx: TenantContext, action: str, kind: MessageKind, variant: Variant, extra: dict[str, str]
) -> None:
    record_audit(
        session, ctx.tenant_id, action, actor_user_id=ctx.user_id, entity_type="message_template",
        entity_id=f"{kind.value}:{variant.value}", details={"kind": kind.value, "variant": variant.value, **extra},
    )  # fmt: skip


__all__ = ["DisclosureRefused", "Variant", "save_template", "reset_template", "preview", "list_templates"]
