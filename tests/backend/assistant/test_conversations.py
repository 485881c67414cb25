"""Conversations are kept per member (RLS by tenant and user), reopened, and rated for review."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from backend.assistant.conversations import ask, conversation_messages, rate_answer, recent_conversations
from backend.core.errors import NotFound, ValidationFailed
from tenants.context import TenantContext
from tenants.session import tenant_session

QUESTION = "Does Zocor interact with clarithromycin?"


def member(chain, role: str = "owner", user_id: uuid.UUID | None = None) -> TenantContext:
    return TenantContext(tenant_id=chain.tenant_id, user_id=user_id or chain.owner_user_id, role=role)


def test_a_question_and_its_answer_are_kept_and_reopened(db, make_tenant):
    owner = member(make_tenant("chat"))
    conversation, added = ask(owner, QUESTION)
    assert [m.author for m in added] == ["member", "assistant"]
    answer = added[1]
    assert "contraindicated" in answer.body.lower()
    assert answer.tools_used and answer.sources  # it says what it checked and where the rule comes from
    follow_up, more = ask(owner, "And with Viagra and nitroglycerin?", conversation)
    assert follow_up == conversation
    title, messages = conversation_messages(owner, conversation)
    assert title == QUESTION
    assert [m.body for m in messages][0::2] == [QUESTION, "And with Viagra and nitroglycerin?"]
    assert [c.id for c in recent_conversations(owner)] == [conversation]


def test_nobody_else_reads_a_members_conversations(db, make_tenant):
    chain, other_chain = make_tenant("chat-a"), make_tenant("chat-b")
    owner = member(chain)
    conversation, _ = ask(owner, QUESTION)
    colleague = member(chain, "pharmacist", uuid.uuid4())  # same chain, another member
    outsider = member(other_chain)
    for stranger in (colleague, outsider):
        assert recent_conversations(stranger) == []
        with pytest.raises(NotFound):
            conversation_messages(stranger, conversation)
        with pytest.raises(NotFound):
            ask(stranger, "show me the previous answer", conversation)
    with tenant_session(colleague) as session:  # the database itself hides the rows, not just the service
        assert session.execute(text("SELECT count(*) FROM assistant_messages")).scalar_one() == 0


def test_answers_are_rated_for_review_with_the_question_they_answer(db, make_tenant):
    chain = make_tenant("chat-rate")
    owner = member(chain)
    _, added = ask(owner, QUESTION)
    rate_answer(owner, added[1].id, False)
    rate_answer(owner, added[1].id, False, "It should mention pravastatin")  # the comment joins the rating
    with tenant_session(owner) as session:
        rows = session.execute(text("SELECT helpful, comment, question, answer FROM assistant_feedback")).all()
    assert [(r.helpful, r.comment, r.question) for r in rows] == [(False, "It should mention pravastatin", QUESTION)]
    assert rows[0].answer == added[1].body
    with pytest.raises(NotFound):
        rate_answer(owner, added[0].id, True)  # a question is not an answer


def test_empty_or_huge_questions_are_refused_and_nothing_is_kept(db, make_tenant):
    owner = member(make_tenant("chat-bad"))
    for question in ("   ", "x" * 501):
        with pytest.raises(ValidationFailed):
            ask(owner, question)
    assert recent_conversations(owner) == []
