"""Conversations with the assistant: stored per member and chain (row-level security by tenant and
user, so not even the chain's owner reads a member's chats), reopened later, and rated.

The answer comes from `stream_reply`: the chain's AI provider when the installation configured one and
the chain's owner switched it on (`provider_switch`), else the local engine; both behind the same tool
layer. The chat streams it and then keeps it with `store_exchange`; `ask` does both in one call (REST,
CLI, tests).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from backend.assistant import local_engine, openai_provider
from backend.assistant.local_engine import Reply
from backend.assistant.openai_provider import Delta
from backend.assistant.provider_switch import provider_in_use
from backend.core import validation as check
from backend.core.errors import NotFound, ValidationFailed
from tenants.context import TenantContext
from tenants.roles import require
from tenants.session import tenant_session

MAX_QUESTION = local_engine.MAX_QUESTION  # what the engine reads
TITLE_LENGTH = 60
RECENT_CONVERSATIONS = 30
HISTORY_MESSAGES = 6  # earlier messages a provider sees, so "and at Branch 2?" makes sense


@dataclass(frozen=True)
class ChatMessage:
    id: int
    author: str  # "member" or "assistant"
    body: str
    tools_used: tuple[str, ...]  # "checked stock of Amoxicillin at Main Street"
    sources: tuple[dict[str, str], ...]  # {"title": ..., "url": ...}
    engine: str
    created_at: datetime


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    updated_at: datetime


def ask(ctx: TenantContext, question: str, conversation_id: str | None = None) -> tuple[str, list[ChatMessage]]:
    """Answer a question and keep both sides; returns the conversation id and the two new messages."""
    reply = _answer(ctx, question, conversation_id)
    return store_exchange(ctx, question, reply, conversation_id)


def stream_reply(ctx: TenantContext, question: str, conversation_id: str | None = None) -> Iterator[Delta | Reply]:
    """The answer as it is produced: text `Delta`s, then the complete `Reply` (always last).
    Nothing is stored: the caller keeps the exchange with `store_exchange`."""
    asked = _checked_question(ctx, question, conversation_id)
    if provider_in_use(ctx):
        yield from openai_provider.stream_answer(ctx, asked, _history(ctx, conversation_id))
    else:  # the history lets a short reply answer the engine's own "which one?"
        yield from openai_provider.local_stream(ctx, asked, _history(ctx, conversation_id))


def store_exchange(
    ctx: TenantContext, question: str, reply: Reply, conversation_id: str | None = None
) -> tuple[str, list[ChatMessage]]:
    """Keep a question and the reply already produced for it (a new conversation when there is no id);
    returns the conversation id and the two new messages."""
    asked = _checked_question(ctx, question, conversation_id)
    with tenant_session(ctx) as session:
        if not conversation_id:
            conversation_id = str(uuid.uuid4())
            session.execute(
                text("INSERT INTO assistant_conversations (tenant_id, id, user_id, title) VALUES (:t, :c, :u, :title)"),
                {"t": ctx.tenant_id, "c": conversation_id, "u": ctx.user_id, "title": _title(asked)},
            )
        else:
            session.execute(
                text("UPDATE assistant_conversations SET updated_at = now() WHERE id = :c"), {"c": conversation_id}
            )
        added = [
            _store(session, ctx, conversation_id, "member", asked),
            _store(
                session, ctx, conversation_id, "assistant", reply.text, reply.tools_used, reply.sources, reply.engine
            ),
        ]
    return conversation_id, added


def _checked_question(ctx: TenantContext, question: str, conversation_id: str | None) -> str:
    require(ctx, "assistant.use")
    asked = question.strip()
    if not asked:
        raise ValidationFailed("Type a question.", field="question")
    if len(asked) > MAX_QUESTION:
        raise ValidationFailed(f"Questions are limited to {MAX_QUESTION:,} characters.", field="question")
    if conversation_id:
        _conversation_title(ctx, conversation_id)  # exists and is this member's, before any work is done
    return asked


def _answer(ctx: TenantContext, question: str, conversation_id: str | None = None) -> Reply:
    reply = None
    for event in stream_reply(ctx, question, conversation_id):
        if isinstance(event, Reply):
            reply = event
    if reply is None:
        raise RuntimeError("the engine ended without a reply")
    return reply


def _history(ctx: TenantContext, conversation_id: str | None) -> list[dict[str, str]]:
    if not conversation_id:
        return []
    _, messages = conversation_messages(ctx, conversation_id)
    return [
        {"role": "user" if m.author == "member" else "assistant", "content": m.body}
        for m in messages[-HISTORY_MESSAGES:]
    ]


def _title(question: str) -> str:
    words = " ".join(question.split())
    return words if len(words) <= TITLE_LENGTH else words[: TITLE_LENGTH - 1].rstrip() + "…"


def _store(
    session: Any,
    ctx: TenantContext,
    conversation_id: str,
    author: str,
    body: str,
    tools_used: tuple[str, ...] = (),
    sources: tuple[Any, ...] = (),
    engine: str = "",
) -> ChatMessage:
    cited = tuple({"title": s.title, "url": s.url} for s in sources)
    row = session.execute(
        text(
            "INSERT INTO assistant_messages (tenant_id, conversation_id, user_id, author, body, tools_used, sources, "
            "engine) VALUES (:t, :c, :u, :a, :b, CAST(:tools AS jsonb), CAST(:sources AS jsonb), :e) "
            "RETURNING id, created_at"
        ),
        {
            "t": ctx.tenant_id,
            "c": conversation_id,
            "u": ctx.user_id,
            "a": author,
            "b": body[:20000],
            "tools": json.dumps(list(tools_used)),
            "sources": json.dumps(list(cited)),
            "e": engine,
        },
    ).one()
    return ChatMessage(row.id, author, body, tuple(tools_used), cited, engine, row.created_at)


def recent_conversations(ctx: TenantContext) -> list[Conversation]:
    """This member's latest conversations, newest first."""
    require(ctx, "assistant.use")
    with tenant_session(ctx) as session:
        rows = session.execute(
            text("SELECT id, title, updated_at FROM assistant_conversations ORDER BY updated_at DESC LIMIT :n"),
            {"n": RECENT_CONVERSATIONS},
        ).all()
    return [Conversation(str(r.id), r.title, r.updated_at) for r in rows]


def conversation_messages(ctx: TenantContext, conversation_id: str) -> tuple[str, list[ChatMessage]]:
    """A conversation's title and messages, oldest first (only its own member finds it)."""
    title = _conversation_title(ctx, conversation_id)
    with tenant_session(ctx) as session:
        rows = session.execute(
            text(
                "SELECT id, author, body, tools_used, sources, engine, created_at FROM assistant_messages "
                "WHERE conversation_id = :c ORDER BY id"
            ),
            {"c": conversation_id},
        ).all()
    return title, [
        ChatMessage(r.id, r.author, r.body, tuple(r.tools_used), tuple(r.sources), r.engine, r.created_at) for r in rows
    ]


def _conversation_title(ctx: TenantContext, conversation_id: str) -> str:
    require(ctx, "assistant.use")
    check.as_uuid(conversation_id, "conversation")
    with tenant_session(ctx) as session:
        title = session.execute(
            text("SELECT title FROM assistant_conversations WHERE id = :c"), {"c": conversation_id}
        ).scalar()
    if title is None:
        raise NotFound("No such conversation.")
    return str(title)


def rate_answer(ctx: TenantContext, message_id: int, helpful: bool, comment: str = "") -> None:
    """Thumbs up or down on one of the assistant's answers, with an optional comment, for review."""
    require(ctx, "assistant.use")
    if len(comment) > 1000:
        raise ValidationFailed("Comments are limited to 1,000 characters.", field="comment")
    with tenant_session(ctx) as session:
        answer = session.execute(
            text("SELECT conversation_id, body FROM assistant_messages WHERE id = :m AND author = 'assistant'"),
            {"m": message_id},
        ).first()
        if answer is None:
            raise NotFound("No such answer.")
        question = session.execute(
            text(
                "SELECT body FROM assistant_messages WHERE conversation_id = :c AND id < :m AND author = 'member' "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"c": answer.conversation_id, "m": message_id},
        ).scalar()
        session.execute(
            text(
                "INSERT INTO assistant_feedback (tenant_id, message_id, user_id, helpful, comment, question, answer) "
                "VALUES (:t, :m, :u, :h, :c, :q, :a) ON CONFLICT (tenant_id, message_id, user_id) "
                "DO UPDATE SET helpful = EXCLUDED.helpful, comment = EXCLUDED.comment, created_at = now()"
            ),
            {
                "t": ctx.tenant_id,
                "m": message_id,
                "u": ctx.user_id,
                "h": helpful,
                "c": comment.strip(),
                "q": question or "",
                "a": answer.body,
            },
        )
