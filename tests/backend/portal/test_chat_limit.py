"""The portal chat's per-IP question limit: a window per IP and chain, never shared with another IP."""

from __future__ import annotations

import uuid

from backend.portal import chat_limit


def test_questions_beyond_the_limit_wait_and_other_ips_do_not(db):
    chain = uuid.uuid4()
    assert [chat_limit.seconds_to_wait(chain, "203.0.113.7", limit=3) for _ in range(3)] == [0, 0, 0]
    assert 0 < chat_limit.seconds_to_wait(chain, "203.0.113.7", limit=3) <= chat_limit.WINDOW_SECONDS
    assert chat_limit.seconds_to_wait(chain, "203.0.113.8", limit=3) == 0
    assert chat_limit.seconds_to_wait(uuid.uuid4(), "203.0.113.7", limit=3) == 0
