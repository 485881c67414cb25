"""The assistant chat: the full page (/assistant) and the side panel on every staff page share it.

An answer streams: `send` shows the question, then the background `answer` event reads the engine's
text deltas and shows them in `streaming_text`, one state update per FLUSH_SECONDS at most (not one per
token), and finally keeps the exchange and shows the stored message with its tools, sources and engine.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from backend.assistant.conversations import (
    ChatMessage,
    conversation_messages,
    rate_answer,
    recent_conversations,
    store_exchange,
    stream_reply,
)
from backend.assistant.local_engine import Reply
from backend.core.errors import PharmacyError
from pharmacy_saas.state.base import guarded, run_service, stream_service
from pharmacy_saas.state.dashboard import ShellState
from tenants.context import TenantContext

ENGINE_LABELS = {"local": "answered offline by the built-in assistant", "openai": "answered by the chain's AI provider"}
FLUSH_SECONDS = 0.05


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
    streaming_text: str = ""  # the answer so far, while it arrives
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
        if not self.thinking:  # an answer still streaming belongs to the conversation it was asked in
            await self._open(ctx, conversation_id)

    @rx.event
    @guarded("assistant.use")
    async def new_conversation(self, ctx: TenantContext) -> None:
        if not self.thinking:  # an answer still streaming belongs to the conversation it was asked in
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

    @rx.event(background=True)
    @guarded("assistant.use", background=True)
    async def answer(self, ctx: TenantContext) -> None:
        """Stream the answer into the page, then keep the exchange (state changes only under `async with`)."""
        async with self:
            question, asked_in = self.pending_question, self.conversation_id
        added: list[ChatMessage] = []
        listed, error, conversation_id = None, "", asked_in
        try:
            reply = await self._stream(ctx, question, asked_in)
            conversation_id, added = await run_service(store_exchange, ctx, question, reply, asked_in or None)
            if conversation_id != asked_in:
                listed = await run_service(recent_conversations, ctx)
        except PharmacyError as exc:
            error = exc.message
        finally:  # whatever happened, the page stops waiting
            async with self:
                self.thinking, self.pending_question, self.streaming_text, self.error = False, "", "", error
                if added and self.conversation_id == asked_in:  # still looking at the conversation it was asked in
                    self.conversation_id = conversation_id
                    self.title = self.title or question[:60]
                    self.messages = [*self.messages, *(_shown(m) for m in added)]
                if listed is not None:
                    self.conversations = [{"id": c.id, "title": c.title} for c in listed]

    async def _stream(self, ctx: TenantContext, question: str, conversation_id: str) -> Reply:
        shown, reply = "", None
        async for batch in stream_service(stream_reply, ctx, question, conversation_id or None, interval=FLUSH_SECONDS):
            for event in batch:
                if isinstance(event, Reply):
                    reply = event
                else:
                    shown = event.text if event.restart else shown + event.text
            async with self:
                self.streaming_text = shown
        if reply is None:
            raise PharmacyError("The assistant gave no answer; please ask again.")
        return reply

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
