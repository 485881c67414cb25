"""The assistant chat: the full page (/assistant) and the side panel on every staff page share it."""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from backend.assistant.conversations import (
    ChatMessage,
    ask,
    conversation_messages,
    rate_answer,
    recent_conversations,
)
from backend.core.errors import PharmacyError
from pharmacy_saas.state.base import guarded, run_service
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext

ENGINE_LABELS = {"local": "answered offline by the built-in assistant", "openai": "answered by the chain's AI provider"}


@dataclasses.dataclass
class Cited:
    title: str
    url: str


@dataclasses.dataclass
class ChatLine:
    """One message as the chat shows it (typed, so the page can walk its tools and sources)."""

    id: int
    author: str
    body: str
    tools: list[str]
    sources: list[Cited]
    engine: str
    rating: str = ""


def _shown(message: ChatMessage) -> ChatLine:
    return ChatLine(
        id=message.id,
        author=message.author,
        body=message.body,
        tools=list(message.tools_used),
        sources=[Cited(s.get("title", ""), s.get("url", "")) for s in message.sources],
        engine=ENGINE_LABELS.get(message.engine, message.engine),
    )


class AssistantState(ShellState):
    conversation_id: str = ""
    title: str = ""
    messages: list[ChatLine] = []
    conversations: list[dict[str, str]] = []
    pending_question: str = ""
    thinking: bool = False
    error: str = ""
    panel_open: bool = False

    @rx.event
    @guarded("assistant.use")
    async def open_panel(self, ctx: TenantContext) -> None:
        self.panel_open = True
        await self._list(ctx)

    @rx.event
    @guarded("assistant.use")
    async def close_panel(self, ctx: TenantContext) -> None:
        self.panel_open = False

    @rx.event
    @guarded("assistant.use", page_load=True)
    async def load_page(self, ctx: TenantContext) -> None:
        await self._fill_shell(ctx)
        await self._list(ctx)
        wanted = self.router.url.query_parameters.get("c", "")
        if wanted:
            await self._open(ctx, wanted)

    @rx.event
    @guarded("assistant.use")
    async def open_conversation(self, ctx: TenantContext, conversation_id: str) -> None:
        await self._open(ctx, conversation_id)

    @rx.event
    @guarded("assistant.use")
    async def new_conversation(self, ctx: TenantContext) -> None:
        self.conversation_id, self.title, self.messages, self.error = "", "", [], ""

    @rx.event
    @guarded("assistant.use")
    async def send(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        """Show the question at once; the answer follows in the next event (the page stays responsive)."""
        question = str(form.get("question", "")).strip()[:500]
        if not question or self.thinking:
            return None
        self.pending_question, self.thinking, self.error = question, True, ""
        return AssistantState.answer

    @rx.event
    @guarded("assistant.use")
    async def answer(self, ctx: TenantContext) -> None:
        question = self.pending_question
        try:
            conversation_id, added = await run_service(ask, ctx, question, self.conversation_id or None)
        except PharmacyError as exc:
            self.error = exc.message
            return
        finally:
            self.thinking, self.pending_question = False, ""
        if conversation_id != self.conversation_id:
            self.conversation_id, self.title = conversation_id, question[:60]
            await self._list(ctx)
        self.messages = [*self.messages, *(_shown(m) for m in added)]

    @rx.event
    @guarded("assistant.use")
    async def rate(self, ctx: TenantContext, message_id: int, helpful: bool) -> Any:
        try:
            await run_service(rate_answer, ctx, int(message_id), bool(helpful))
        except PharmacyError as exc:
            self.error = exc.message
            return None
        rating = "up" if helpful else "down"
        self.messages = [dataclasses.replace(m, rating=rating) if m.id == message_id else m for m in self.messages]
        return rx.toast.success("Thanks: your rating is kept for review.")

    @rx.event
    @guarded("assistant.use")
    async def comment(self, ctx: TenantContext, form: dict[str, Any]) -> Any:
        message_id = int(str(form.get("message_id", "0")) or 0)
        rating = next((m.rating for m in self.messages if m.id == message_id), "")
        try:
            await run_service(rate_answer, ctx, message_id, rating != "down", str(form.get("comment", "")))
        except PharmacyError as exc:
            self.error = exc.message
            return None
        return rx.toast.success("Comment kept for review.")

    async def _list(self, ctx: TenantContext) -> None:
        found = await run_service(recent_conversations, ctx)
        self.conversations = [{"id": c.id, "title": c.title} for c in found]

    async def _open(self, ctx: TenantContext, conversation_id: str) -> None:
        try:
            title, messages = await run_service(conversation_messages, ctx, conversation_id)
        except PharmacyError as exc:
            self.error = exc.message
            return
        self.conversation_id, self.title, self.error = conversation_id, title, ""
        self.messages = [_shown(m) for m in messages]
