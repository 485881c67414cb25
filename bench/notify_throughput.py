"""Notification throughput: messages through the outbox, RQ and apprise to a local SMTP sink (issue 18: at least
1,000,000 an hour on this 2-core machine, or the measured ceiling with a profile of where the time goes).

One chain; each run writes MESSAGES patient e-mails with `queue_patient_message` (the business transaction's
outbox rows), then starts the relay and W workers as separate processes (`pharmacy-saas relay` and
`pharmacy-saas worker --queues notifications`, as `make run` does) and times until every row is `sent` and the
sink holds every mail. Printed in the same run, the raw baselines of each leg alone:
- apprise -> the SMTP sink, one process, one message after another (the provider leg);
- RQ: W workers running a no-op job (the queue leg: a fork per job for the forking worker);
- writing the rows (the business transaction's share).
Run: `make bench` or TEST_DATABASE_URL=... TEST_REDIS_URL=... python -m bench.notify_throughput
BENCH_NOTIFY_MESSAGES (default 1500) and BENCH_NOTIFY_WORKERS (default "2,4") size it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import bench_chain, fresh_database

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = int(os.environ.get("BENCH_NOTIFY_MESSAGES", "1500"))
WORKERS = [int(w) for w in os.environ.get("BENCH_NOTIFY_WORKERS", "2,4").split(",") if w]
NOOP = "bench.notify_throughput.noop"


def noop() -> str:
    return "ok"


class Sink:
    """A real SMTP server (aiosmtpd) in this process that only counts what it accepts."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.count += 1
        return "250 OK"


def start_sink() -> tuple[Sink, object, str]:
    from aiosmtpd.controller import Controller

    from devtools.services import free_port

    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return sink, controller, f"mailto://127.0.0.1:{port}?from=no-reply@pharmacy.test&mode=insecure"


def cli(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "pharmacy-saas"), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop_all(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def per_hour(count: int, seconds: float) -> str:
    return f"{count / seconds * 3600:,.0f}"


def raw_apprise(url: str, sink: Sink, count: int) -> float:
    from backend.notifications.notify import Channel, notify

    before = sink.count
    started = time.perf_counter()
    for n in range(count):
        outcome = notify(Channel.EMAIL, url, f"raw{n}@example.com", "Subject", "Body")
        assert outcome.sent, outcome.reason
    elapsed = time.perf_counter() - started
    assert sink.count - before == count
    return elapsed


def raw_rq(workers: int, count: int, *, simple: bool = False) -> float:
    from rq import Queue

    from backend.core.queue import job_queue, shared_redis

    redis = shared_redis()
    queue: Queue = job_queue("benchnoop", redis)
    queue.empty()
    jobs = [Queue.prepare_data(NOOP, result_ttl=60, job_id=f"noop-{n}-{time.time_ns()}") for n in range(count)]
    queue.enqueue_many(jobs)
    started = time.perf_counter()
    extra = ["--simple"] if simple else []
    processes = [cli("worker", "--queues", "benchnoop", "--no-scheduler", "--burst", *extra) for _ in range(workers)]
    for process in processes:
        process.wait(600)
    elapsed = time.perf_counter() - started
    assert queue.count == 0, "the no-op jobs were not all run"
    return elapsed


def write_messages(tenant: object, prefix: str, count: int) -> float:
    from backend.notifications.delivery import queue_patient_message
    from backend.notifications.disclosure import MessageKind, render
    from backend.notifications.notify import Channel
    from tenants.context import TenantContext
    from tenants.session import tenant_session

    message = render(
        MessageKind.READY_FOR_PICKUP,
        {"branch": "Main", "chain": "Bench Pharmacy"},
        chain_allows=False,
        patient_consented=False,
    )
    ctx = TenantContext.system(tenant)
    started = time.perf_counter()
    for start in range(0, count, 250):
        with tenant_session(ctx) as session:
            for n in range(start, min(count, start + 250)):
                queue_patient_message(
                    session, ctx, patient_id=None, message=message, channel=Channel.EMAIL,
                    address=f"patient{n}@example.com", consented=True, dedupe_key=f"{prefix}-{n}",
                )  # fmt: skip
    return time.perf_counter() - started


def sent_count(tenant: object, prefix: str) -> int:
    from sqlalchemy import text

    from backend.core.database import owner_engine

    with owner_engine().connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM notification_messages WHERE tenant_id = :t AND status = 'sent' "
                    "AND dedupe_key LIKE :p"
                ),
                {"t": tenant, "p": f"{prefix}-%"},
            ).scalar_one()
        )


def end_to_end(tenant: object, sink: Sink, workers: int, *, simple: bool) -> tuple[float, float]:
    """(seconds to write the rows, seconds from starting the processes until every message is sent)."""
    prefix = f"w{workers}{'s' if simple else 'f'}-{time.time_ns()}"
    wrote = write_messages(tenant, prefix, MESSAGES)
    before = sink.count
    extra = ["--simple"] if simple else []
    started = time.perf_counter()
    processes = [cli("relay", "--interval", "0.05")]
    processes += [cli("worker", "--queues", "notifications", "--no-scheduler", *extra) for _ in range(workers)]
    try:
        deadline = started + 1800
        while sent_count(tenant, prefix) < MESSAGES:
            if time.perf_counter() > deadline:
                raise SystemExit(f"only {sent_count(tenant, prefix)} of {MESSAGES} sent in 30 minutes")
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
    finally:
        stop_all(processes)
    assert sink.count - before == MESSAGES, f"the sink got {sink.count - before} mails for {MESSAGES} messages"
    return wrote, elapsed


def main() -> None:
    fresh_database("pharmacy_bench_notify")
    os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL") or sys.exit("set TEST_REDIS_URL (or run `make bench`)")
    sink, controller, mail_url = start_sink()
    os.environ["MAIL_URL"] = mail_url
    os.environ["LOG_LEVEL"] = "WARNING"
    from backend.core.queue import shared_redis
    from backend.core.settings import reset_settings_cache

    reset_settings_cache()
    shared_redis().flushdb()
    chain = bench_chain("bench-notify", "owner@bench-notify.example")
    rows: list[tuple[str, int, float]] = []
    try:
        raw_count = min(MESSAGES, 500)
        rows.append(("raw: apprise -> SMTP sink, 1 process", raw_count, raw_apprise(mail_url, sink, raw_count)))
        for workers in WORKERS:
            rows.append((f"raw: RQ no-op jobs, {workers} forking workers", MESSAGES, raw_rq(workers, MESSAGES)))
        rows.append(("raw: RQ no-op jobs, 2 simple workers", MESSAGES, raw_rq(2, MESSAGES, simple=True)))
        for workers in WORKERS:
            for simple in (False, True):
                wrote, elapsed = end_to_end(chain.tenant_id, sink, workers, simple=simple)
                kind = "simple (no fork)" if simple else "forking"
                rows.append(("write the outbox rows (250 per transaction)", MESSAGES, wrote))
                rows.append((f"end to end: relay + {workers} {kind} workers", MESSAGES, elapsed))
    finally:
        controller.stop()  # type: ignore[attr-defined]
    print(f"\nNotification throughput ({MESSAGES} messages per run, {os.cpu_count()} cores)")
    print(f"{'leg':<52} {'messages':>9} {'seconds':>9} {'per second':>11} {'per hour':>12}")
    for label, count, seconds in rows:
        print(f"{label:<52} {count:>9} {seconds:>9.2f} {count / seconds:>11.1f} {per_hour(count, seconds):>12}")


if __name__ == "__main__":
    main()
