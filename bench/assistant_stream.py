"""Time to first streamed token through the OpenAI-compatible provider path, against the local test server.

The server (tests/assistant_llm_server.py) answers at once, so what is measured is our own overhead:
the chain's switch and the conversation check, the openai client (request, SSE parsing), and for a tool
question one whole tool round (streamed tool-call fragments, call_tool under RLS, the second request).
Three paths: `conversations.stream_reply` for a plain answer and for a stock question (tool round first),
and the same stock question through `stream_service`, the thread-and-batch pump the chat page uses.
Target: p95 <= 500 ms.

Run: python -m bench.assistant_stream [--questions 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

from bench.assistant import pct, seed
from bench.common import fresh_database
from tests.assistant_llm_server import FakeModel, pharmacy_model


def time_sync(ctx: Any, question: str) -> tuple[float, float, str]:
    from backend.assistant.conversations import stream_reply
    from backend.assistant.local_engine import Reply

    started = time.perf_counter()
    first, engine = None, ""
    for event in stream_reply(ctx, question):
        if first is None and not isinstance(event, Reply) and event.text:
            first = time.perf_counter() - started
        if isinstance(event, Reply):
            engine = event.engine
    total = time.perf_counter() - started
    return (first or total) * 1000, total * 1000, engine


async def time_pumped(ctx: Any, question: str) -> tuple[float, float, str]:
    from backend.assistant.conversations import stream_reply
    from backend.assistant.local_engine import Reply
    from pharmacy_saas.state.base import stream_service

    started = time.perf_counter()
    first, engine = None, ""
    async for batch in stream_service(stream_reply, ctx, question, interval=0.05):
        if first is None:
            first = time.perf_counter() - started
        engine = next((e.engine for e in batch if isinstance(e, Reply)), engine)
    return (first or 0) * 1000, (time.perf_counter() - started) * 1000, engine


def report(name: str, samples: list[tuple[float, float, str]]) -> float:
    firsts, totals = [s[0] for s in samples], [s[1] for s in samples]
    engines = {s[2] for s in samples}
    p95 = pct(firsts, 0.95)
    print(
        f"{name:34} {len(samples):4d} {statistics.median(firsts):8.1f} {p95:8.1f} "
        f"{statistics.median(totals):10.1f} {pct(totals, 0.95):10.1f}  {','.join(sorted(engines))}"
    )
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    fresh_database("pharmacy_bench_assistant_stream")
    model = FakeModel(responder=pharmacy_model).start()
    os.environ.update(
        ASSISTANT_OPENAI_BASE_URL=model.base_url, ASSISTANT_OPENAI_API_KEY="bench-key", ASSISTANT_OPENAI_MODEL="fake-1"
    )
    from backend.assistant.provider_switch import set_provider_enabled
    from backend.core.settings import reset_settings_cache
    from tenants.context import TenantContext

    reset_settings_cache()
    ctx: Any = seed()
    set_provider_enabled(TenantContext(tenant_id=ctx.tenant_id, user_id=ctx.user_id, role="owner"), True)
    time_sync(ctx, "what is amoxicillin stock?")  # loads the drug dictionary, opens the pools and the client

    plain = [time_sync(ctx, "what is amoxicillin?") for _ in range(args.questions)]
    tool = [time_sync(ctx, "what is amoxicillin stock?") for _ in range(args.questions)]

    async def pumped() -> list[tuple[float, float, str]]:
        return [await time_pumped(ctx, "what is amoxicillin stock?") for _ in range(args.questions)]

    through_pump = asyncio.run(pumped())
    model.stop()

    print(f"{'path':34} {'n':>4} {'ttft p50':>8} {'ttft p95':>8} {'total p50':>10} {'total p95':>10}  engine")
    report("plain answer (stream_reply)", plain)
    worst = max(report("tool round first (stream_reply)", tool), report("tool round, chat pump (50 ms)", through_pump))
    print(f"time to first token p95 <= 500 ms: {'met' if worst <= 500 else 'MISSED'} (worst p95 {worst:.1f} ms)")


if __name__ == "__main__":
    main()
