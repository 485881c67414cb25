"""What the assistant will not do, decided before any tool runs.

The real guarantee against reaching other chains is structural (tools only run under the member's
TenantContext); these rules are about honesty and scope: no dosing advice beyond citing the label, no
diagnosis, nothing about its own instructions or other people's conversations, no patient contact
details or records (a patient's medicines and a lot's recipients go through the prescription tools,
which check the role and write the patient access log), and a plain refusal for things a pharmacy
assistant is not for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from backend.assistant.druginfo import DrugInfoAnswer
from backend.interactions.knowledge import Source

ASK_PHARMACIST = "For advice about a particular patient, ask a pharmacist."


@dataclass(frozen=True)
class Refusal:
    kind: str  # instructions, conversations, other_chain, patient_data, diagnosis, out_of_scope
    text: str


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_INSTRUCTIONS = _any(
    r"\b(system|hidden|initial|original|developer)\s+(prompt|message|instructions?)",
    r"\bignore\s+(all\s+|any\s+|the\s+|your\s+)*(previous|prior|above|earlier|your|other)\b",
    r"\b(disregard|forget|override)\s+(all\s+|any\s+|the\s+|your\s+)*(previous|prior|rules|instructions)",
    r"\b(jailbreak|developer mode|act as (an? )?(admin|root|super ?admin|developer))\b",
    r"\b(reveal|show|print|repeat|tell me)\b.{0,30}\b(your|the)\s+(instructions|rules|prompt|configuration)",
)
_CONVERSATIONS = _any(
    r"\b(other|another|everyone'?s?|all)\s+(users?|staff|people|members?|colleagues?)'?s?\s+"
    r"(conversations?|chats?|questions?|messages?|history)",
    r"\b(chat|conversation)\s+(history|log)s?\s+of\b",
)
_OTHER_CHAIN = _any(
    r"\b(other|another|all|every|different)\s+(chains?|tenants?|pharmac(y|ies)|compan(y|ies)|stores? chains?)\b",
    r"\btenants?\b",
)
_PATIENT = _any(
    r"\b(patient|customer|client)s?'?s?\b.{0,40}\b(address|phone|e-?mail|date of birth|dob|"
    r"history|records?|details|conditions?|diagnos\w*)\b",
    r"\b(address|phone|e-?mail|date of birth|dob|records?|history)\b.{0,40}\b(patient|customer|client)s?\b",
    r"\bwho (purchased|is taking|takes)\b",  # by medicine, across patients: not a recall of a lot
)
_DIAGNOSIS = _any(
    r"\bdiagnos\w*\b", r"\bdo i have\b", r"\bwhat'?s wrong with (me|him|her)\b", r"\bam i (sick|pregnant)\b"
)
_OUT_OF_SCOPE = _any(
    r"\b(weather|joke|poem|song|recipe|football|election|politics|bitcoin|crypto|horoscope|lottery)\b",
    r"\b(write|generate)\s+(me\s+)?(a|an|some)?\s*(code|essay|story|script|program)\b",
)
_DOSING = _any(
    r"\b(dose|doses|dosage|dosing|overdose|mg/kg)\b",
    r"\bhow (much|many(\s+\w+)?)\s+(should|can|could|may|to take|to give|a day|per day|do i|does (he|she))\b",
    r"\b(can|should|may|could)\s+(i|he|she|they|my \w+|a child|the child|a patient|the patient|kids?)\s+"
    r"(take|give|have)\b.{0,40}\b(how much|how many|mg|ml|tablets?|times)\b",
    r"\bhow (much|many)\b.{0,40}\b(can|should|may|could|do)\s+(i|he|she|they|we|you)\s+(give|take|use)\b",
    r"\b(give|take)\b.{0,30}\bmy\s+(child|baby|son|daughter|kid|wife|husband|mother|father)\b",
    r"\bhow often\s+(should|can|do|does|to)\b",
)


_KINDS = (
    ("instructions", _INSTRUCTIONS),
    ("conversations", _CONVERSATIONS),
    ("other_chain", _OTHER_CHAIN),
    ("patient_data", _PATIENT),
    ("diagnosis", _DIAGNOSIS),
    ("out_of_scope", _OUT_OF_SCOPE),
)


def refusal_kind(question: str) -> str | None:
    """Which of the refusals below a question falls under (the portal's assistant words its own), else None."""
    return next((kind for kind, rule in _KINDS if rule.search(question)), None)


def screen(question: str, chain_name: str) -> Refusal | None:
    """A refusal for questions the assistant must not answer at all, else None."""
    if _INSTRUCTIONS.search(question):
        return Refusal(
            "instructions",
            "I can't change how I work or show my instructions. I answer questions about "
            f"{chain_name}'s stock, bills and medicines, with your role's permissions.",
        )
    if _CONVERSATIONS.search(question):
        return Refusal("conversations", "I can't show other people's conversations with the assistant.")
    if _OTHER_CHAIN.search(question):
        return Refusal(
            "other_chain", f"I only see {chain_name}'s data, in the branches you may see; I can't look at other chains."
        )
    if _PATIENT.search(question):
        return Refusal(
            "patient_data",
            "I can't look up patients or customers. Use the prescriptions and bills pages, which check what "
            "your role may see.",
        )
    if _DIAGNOSIS.search(question):
        return Refusal("diagnosis", f"I can't diagnose. {ASK_PHARMACIST} or a doctor.")
    if _OUT_OF_SCOPE.search(question):
        return Refusal(
            "out_of_scope",
            "That's outside what I'm for: I answer questions about the pharmacy's stock, expiry, bills, "
            "medicines and interactions.",
        )
    return None


def is_dosing_question(question: str) -> bool:
    return bool(_DOSING.search(question))


def dosing_reply(answer: DrugInfoAnswer | None) -> tuple[str, tuple[Source, ...]]:
    """No dose of our own: the dose depends on the patient and the product, so point to the label's dosage
    section (the only text we could cite) and to a pharmacist."""
    if answer is None:
        return (
            "I don't give dosing advice. The dose is in the product's label (Directions or Dosage and "
            f"Administration). {ASK_PHARMACIST}",
            (),
        )
    source = answer.info.dosage_source
    return (
        f"I don't give dosing advice for {answer.read_as}: the right dose depends on the patient and the "
        f"product. The label's dosage section is cited below. {ASK_PHARMACIST}",
        (source,),
    )
