"""The portal's customer assistant chat (/portal/<slug>/ask), phone first.

Anyone on an open portal may ask (the handlers are @public and check everything themselves): the chain
comes from the address on every event, the visitor acts as the chain's `portal` role, and questions are
limited per client IP. Inside a verified customer session the assistant also answers that customer's own
refill status: the customer session is read through `customer_context_or_none` (below). Conversations
are not stored: the messages live in this browser tab's state only and are gone when it closes
(docs/portal-assistant.md).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from backend.assistant.local_engine import Reply
from backend.assistant.portal import ask
from backend.core.errors import PharmacyError
from backend.portal import chat_limit
from pharmacy_saas.state.base import public, run_service
from pharmacy_saas.state.customer import verified_customer
from pharmacy_saas.state.portal import PortalState
from tenants.context import TenantContext
from tenants.roles import CUSTOMER

MAX_QUESTION = 500
HISTORY = 6  # earlier messages passed to the provider with a question


@dataclasses.dataclass
class PortalCited:
    title: str
    url: str


@dataclasses.dataclass
class PortalLine:
    author: str  # "customer" or "assistant"
    body: str
    sources: list[PortalCited]


async def customer_context_or_none(state: PortalState) -> tuple[TenantContext, str] | None:
    """The verified customer session of this browser, as (its CUSTOMER context, its patient id), or None:
    the customer session's own lookup (pharmacy_saas.state.customer.verified_customer). The caller checks
    the context's chain is the one in the page's address and its role is CUSTOMER."""
    ctx = await verified_customer(state)
    return (ctx, str(ctx.patient_id)) if ctx is not None and ctx.patient_id is not None else None


class PortalChatState(PortalState):
    chat: list[PortalLine] = []
    pending_question: str = ""
    thinking: bool = False
    chat_error: str = ""

    @rx.event
    @public
    async def load_chat(self) -> None:
        """on_load of /portal/<slug>/ask: the chain's name (the chat starts empty)."""
        await self._chain()

    @rx.event
    @public
    async def send(self, form: dict[str, Any]) -> Any:
        """Show the question at once; the answer follows in the next event."""
        return self._queue(form.get("question", ""))

    @rx.event
    @public
    async def send_example(self, question: str) -> Any:
        return self._queue(question)

    def _queue(self, typed: object) -> Any:
        question = " ".join(str(typed or "").split())[:MAX_QUESTION]
        if not question or self.thinking:
            return None
        self.chat = [*self.chat, PortalLine("customer", question, [])]
        self.pending_question, self.thinking, self.chat_error = question, True, ""
        return PortalChatState.answer

    @rx.event
    @public
    async def answer(self) -> None:
        question = self.pending_question
        try:
            if not question:
                return
            visitor = await self._visitor()
            if visitor is None:
                self.chat_error = "This pharmacy's portal is not open."
                return
            wait = await run_service(chat_limit.seconds_to_wait, visitor.tenant_id, self.router.session.client_ip)
            if wait:
                self.chat_error = f"Too many questions. Please wait {wait} seconds, or call the pharmacy."
                return
            ctx, patient_id = visitor, None
            session = await customer_context_or_none(self)
            if session is not None and session[0].role == CUSTOMER and session[0].tenant_id == visitor.tenant_id:
                ctx, patient_id = session
            history = [
                {"role": "user" if m.author == "customer" else "assistant", "content": m.body}
                for m in self.chat[:-1][-HISTORY:]
            ]
            reply: Reply = await run_service(ask, ctx, question, history, patient_id=patient_id)
            sources = [PortalCited(s.title, s.url) for s in reply.sources]
            self.chat = [*self.chat, PortalLine("assistant", reply.text, sources)]
        except PharmacyError as exc:
            self.chat_error = exc.message
        finally:
            self.thinking, self.pending_question = False, ""
