"""A small OpenAI-compatible chat completions server on 127.0.0.1 for tests and the bench.

POST /v1/chat/completions with `stream: true` answers in server-sent events exactly as OpenAI does:
text in small pieces, tool calls whose arguments arrive split across several chunks, then
`data: [DONE]`. What the fake model says is scripted: a list of `Step`s taken in order, or a function
of the request (`responder`) when the script is empty. A step can also fail with an HTTP status or
hang before answering, to exercise the client's timeouts and retries and the circuit breaker.
Every request is kept (`requests`, `auth_headers`) so tests can check what the product sent.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Step:
    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)  # (name, arguments)
    status: int = 200  # not 200: an error body instead of a stream
    hang: float = 0.0  # seconds to wait before the response starts
    retry_after_ms: int | None = None  # sent with an error status (the client honours it)
    piece: int = 4  # characters per streamed text chunk
    cut_after: int | None = None  # close the connection after this many chunks (a dropped stream)


def tool_call(name: str, **arguments: Any) -> Step:
    return Step(tool_calls=[(name, arguments)])


def answer(text: str) -> Step:
    return Step(text=text)


def echo_tool_results(body: dict[str, Any]) -> Step:
    """A default model: after tool results, answer by quoting them; otherwise say it has nothing."""
    tool_texts = [m["content"] for m in body["messages"] if m.get("role") == "tool"]
    if tool_texts:
        return answer("From the tools: " + " ".join(tool_texts))
    return answer("I have nothing to look up for that.")


_MEDICINES = ("amoxicillin", "acetaminophen", "ibuprofen", "metformin")
_BRANCH = re.compile(r"\bbranch \d+\b", re.IGNORECASE)


def pharmacy_model(body: dict[str, Any]) -> Step:
    """A model that looks stock up when asked about stock (medicine and branch as a model would pick them
    out of the question), quotes the tool's answer, and answers anything else in words."""
    last = body["messages"][-1]
    if last["role"] == "tool":
        return echo_tool_results(body)
    question = (last.get("content") or "").lower()
    if "stock" in question or "how many" in question:
        medicine = next((m for m in _MEDICINES if m in question), "amoxicillin")
        branch = _BRANCH.search(question)
        return tool_call("medicine_stock", medicine=medicine, **({"branch": branch.group(0)} if branch else {}))
    return answer("Amoxicillin is a penicillin antibiotic. For a particular patient, ask a pharmacist.")


@dataclass
class FakeModel:
    script: list[Step] = field(default_factory=list)
    responder: Callable[[dict[str, Any]], Step] = echo_tool_results
    requests: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    chunk_delay: float = 0.0  # seconds between streamed chunks (lets a browser test see the stream)
    server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def then(self, *steps: Step) -> FakeModel:
        self.script.extend(steps)
        return self

    def _next_step(self, body: dict[str, Any], authorization: str) -> Step:
        with self._lock:
            self.requests.append(body)
            self.auth_headers.append(authorization)
            if self.script:
                return self.script.pop(0)
        return self.responder(body)

    def start(self) -> FakeModel:
        model = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._error(404, "not found")
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                step = model._next_step(body, self.headers.get("Authorization", ""))
                if step.hang:
                    time.sleep(step.hang)
                if step.status != 200:
                    self._error(step.status, "the fake model is failing", step.retry_after_ms)
                elif body.get("stream"):
                    self._stream(body.get("model", ""), step)
                else:
                    self._error(400, "this fake server only streams")

            def _error(self, status: int, message: str, retry_after_ms: int | None = None) -> None:
                data = json.dumps({"error": {"message": message, "type": "server_error"}}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if retry_after_ms is not None:
                    self.send_header("retry-after-ms", str(retry_after_ms))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model_name: str, step: Step) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for n, (delta, finish) in enumerate(_chunks(step)):
                    if step.cut_after is not None and n >= step.cut_after:
                        return  # no [DONE], no finish_reason: the connection just closes
                    chunk = {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model_name,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    if model.chunk_delay:
                        time.sleep(model.chunk_delay)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _chunks(step: Step) -> list[tuple[dict[str, Any], str | None]]:
    """The deltas of one streamed response: role, text pieces, tool calls in fragments, finish."""
    out: list[tuple[dict[str, Any], str | None]] = [({"role": "assistant", "content": ""}, None)]
    for i in range(0, len(step.text), step.piece):
        out.append(({"content": step.text[i : i + step.piece]}, None))
    for index, (name, arguments) in enumerate(step.tool_calls):
        raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
        head = {"index": index, "id": f"call_{index}", "type": "function", "function": {"name": name, "arguments": ""}}
        out.append(({"tool_calls": [head]}, None))
        # Real providers cut arguments anywhere, even inside a key or a string: so do we.
        for i in range(0, len(raw), 5):
            out.append(({"tool_calls": [{"index": index, "function": {"arguments": raw[i : i + 5]}}]}, None))
    out.append(({}, "tool_calls" if step.tool_calls else "stop"))
    return out
