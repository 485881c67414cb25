"""`make run`'s supervisor with small real programs: restarts, back-off, crash reports, a complete stop."""

from __future__ import annotations

import io
import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from devtools.supervisor import Program, Supervisor, session_members
from tests.helpers import wait_until

STEADY = "import time; print('steady and ready', flush=True); time.sleep(600)"
CRASHER = (
    "import sys; print('reading config', flush=True); print('cannot open the frobnicator', flush=True); sys.exit(3)"
)
# Like RQ's work-horse: a child that leaves its parent's process group (but not its session).
WITH_HORSE = (
    "import os, subprocess, sys, time\n"
    "horse = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], preexec_fn=os.setpgrp)\n"
    "print(f'horse {horse.pid}', flush=True)\n"
    "time.sleep(600)\n"
)
STUBBORN = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ignoring SIGTERM', flush=True)\n"
    "time.sleep(600)\n"
)


def python(name: str, code: str, **kwargs: object) -> Program:
    return Program(name, [sys.executable, "-c", code], **kwargs)  # type: ignore[arg-type]


def alive(pid: int) -> bool:
    """Running (not a zombie waiting for whoever adopted it to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.fixture
def said() -> list[str]:
    return []


@pytest.fixture
def make_supervisor(said):
    made: list[Supervisor] = []

    def make(**kwargs: float) -> Supervisor:
        supervisor = Supervisor(say=said.append, output=io.StringIO(), **kwargs)  # type: ignore[arg-type]
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        supervisor.stop_all()


def supervise_until(supervisor: Supervisor, probe, timeout: float = 15, message: str = "the supervisor"):
    def step():
        supervisor.poll()
        return probe()

    return wait_until(step, timeout=timeout, interval=0.02, message=message)


def horse_pid(program: Program) -> int:
    found = wait_until(lambda: [line for line in program.tail if line.startswith("horse ")], message="the horse")
    return int(found[0].split()[1])


def test_a_killed_program_is_restarted_and_said_in_one_line(make_supervisor, said):
    supervisor = make_supervisor(backoff_start=0.2)
    worker = supervisor.add(python("worker", STEADY))
    first = worker.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    supervise_until(supervisor, lambda: worker.pid != first and worker.running(), message="the restart")
    assert said == ["worker exited unexpectedly (killed by SIGKILL) after 0 s; restarting in 0.2 s"]
    assert worker.restarts == 1
    wait_until(lambda: "steady and ready" in worker.tail, message="the restarted program's output")


def test_a_crashing_program_backs_off_to_a_cap_and_is_reported_while_the_rest_keeps_running(make_supervisor, said):
    supervisor = make_supervisor(backoff_start=0.05, backoff_cap=0.4, stable_after=60, report_after=3)
    steady = supervisor.add(python("relay", STEADY))
    crasher = supervisor.add(python("mail sink", CRASHER))
    steady_pid = steady.pid
    supervise_until(supervisor, lambda: crasher.restarts >= 6, message="six restarts")
    waits = [
        float(m)
        for m in re.findall(
            r"mail sink exited unexpectedly \(exit code 3\) after 0 s; restarting in ([\d.]+) s", "\n".join(said)
        )
    ]
    assert waits[:6] == [0.05, 0.1, 0.2, 0.4, 0.4, 0.4]  # doubles, then stays at the cap
    reports = [m for m in said if "keeps crashing" in m]
    assert reports, said
    assert reports[0].startswith("mail sink keeps crashing (3 exits in a row")
    assert "| cannot open the frobnicator" in reports[0]  # its last lines, so nobody has to go looking
    assert steady.running() and steady.pid == steady_pid  # one crashing program stops nothing else
    assert not any(m.startswith("relay") for m in said)


def test_the_back_off_starts_over_after_a_stable_run(make_supervisor, said):
    supervisor = make_supervisor(backoff_start=0.05, backoff_cap=5, stable_after=0.3)
    flaky = supervisor.add(python("worker", "import sys, time; time.sleep(0.4); sys.exit(1)"))
    supervise_until(supervisor, lambda: flaky.restarts >= 3, message="three restarts")
    assert all(m.endswith("restarting in 0.05 s") for m in said if "exited unexpectedly" in m), said
    assert not any("keeps crashing" in m for m in said)


def test_a_crashed_program_leaves_nothing_behind_before_it_starts_again(make_supervisor):
    # An orphaned work-horse would keep the job (or a granian worker the port) from the new process.
    supervisor = make_supervisor(backoff_start=0.2)
    worker = supervisor.add(python("worker", WITH_HORSE))
    horse, first = horse_pid(worker), worker.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    supervise_until(supervisor, lambda: worker.pid != first, message="the restart")
    wait_until(lambda: not alive(horse), timeout=5, message="the orphaned horse to be killed")


def test_stop_all_stops_everything_and_leaves_no_process_behind(make_supervisor, said):
    supervisor = make_supervisor()
    postgres = supervisor.add(python("postgres", STEADY, tier=0, stop_signal=signal.SIGINT))
    worker = supervisor.add(python("worker", WITH_HORSE))
    stubborn = supervisor.add(python("relay", STUBBORN, stop_timeout=1))
    horse = horse_pid(worker)
    wait_until(lambda: "ignoring SIGTERM" in stubborn.tail, message="the stubborn program")
    sessions = [p.pid for p in (postgres, worker, stubborn)]
    started = time.monotonic()
    supervisor.stop_all()
    assert time.monotonic() - started < 10
    assert not any(session_members(sid) for sid in sessions if sid is not None)
    assert not alive(horse)
    assert postgres.process is not None and postgres.process.returncode == -signal.SIGINT
    assert "relay did not stop within 1 s; killing it" in said
    supervisor.poll()  # nothing is restarted once stopping
    assert not any(p.running() for p in supervisor.programs)


def test_a_program_that_cannot_be_started_again_is_retried_not_fatal(make_supervisor, said, tmp_path):
    script = tmp_path / "mailsink"
    script.write_text("#!/bin/sh\nexit 1\n")
    script.chmod(0o755)
    supervisor = make_supervisor(backoff_start=0.05, backoff_cap=0.2)
    sink = supervisor.add(Program("mail sink", [str(script)]))
    supervise_until(supervisor, lambda: sink.restart_at is not None, message="the first exit")
    script.unlink()  # say, a checkout switched under it
    supervise_until(supervisor, lambda: any("could not start" in m for m in said), message="the failed start")
    script.write_text("#!/bin/sh\nexec sleep 600\n")
    script.chmod(0o755)
    supervise_until(supervisor, sink.running, message="the start once it is back")
