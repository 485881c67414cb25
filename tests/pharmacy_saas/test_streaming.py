"""Streaming a service into the page: the first item at once, then one batch per interval, not one
state update per token."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from pharmacy_saas.state.base import stream_service


def run(coroutine):  # type: ignore[no-untyped-def]
    """Run on a loop of its own in a thread: after the browser tests, Playwright's loop is still running here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def tokens(n: int, every: float) -> Iterator[str]:
    for i in range(n):
        time.sleep(every)
        yield f"t{i} "


async def collect(fn, *args, interval: float = 0.05) -> list[tuple[float, list[str]]]:
    started = time.perf_counter()
    return [(time.perf_counter() - started, batch) async for batch in stream_service(fn, *args, interval=interval)]


def test_a_fast_stream_arrives_in_a_few_batches_in_order():
    batches = run(collect(tokens, 100, 0.002))  # a token every 2 ms for about 0.2-0.3 s
    assert [t for _, batch in batches for t in batch] == [f"t{i} " for i in range(100)]
    assert batches[0][1] == ["t0 "] and batches[0][0] < 0.05  # the first token is not held back
    assert 3 <= len(batches) <= 12  # about one per 50 ms instead of 100 updates


def test_a_lone_token_is_flushed_without_waiting_for_the_next():
    def slow() -> Iterator[str]:
        yield "a"
        yield "b"  # right after a: batched with it, shown when the interval ends
        time.sleep(0.4)
        yield "c"

    batches = run(collect(slow))
    assert [b for _, b in batches] == [["a"], ["b"], ["c"]]
    assert batches[1][0] < 0.2  # "b" did not wait for "c"


def test_an_error_in_the_service_reaches_the_handler():
    def failing() -> Iterator[str]:
        yield "a"
        raise ValueError("no")

    with pytest.raises(ValueError):
        run(collect(failing))
