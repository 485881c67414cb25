"""Keep `make run`'s processes running: restart what exits unexpectedly, stop everything on request.

Each program runs in its own session (`start_new_session`), so everything it starts, an RQ work-horse
or a granian worker, can be found and stopped with it: nothing is left behind, neither after a crash
(its leftovers would hold the port or the job) nor after Ctrl-C. An unexpected exit is said in one
line and the program starts again after a back-off that doubles from 0.5 s up to a cap (30 s) while it
keeps failing soon after starting, and goes back to 0.5 s once it has run for a while. A program that
keeps crashing is reported with its last output lines; the others keep running. Only `stop_all()`
(Ctrl-C or SIGTERM in `devtools.run`) stops everything.

This is the development stand-in for a process manager; docs/deployment.md says what production uses.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

TAIL_LINES = 15


@dataclass
class Program:
    """One supervised command. `tier` orders the stop: higher tiers stop first (the app before its database)."""

    name: str
    command: list[str]
    env: dict[str, str] | None = None
    cwd: Path | None = None
    tier: int = 1
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 20.0
    echo: bool = True  # copy its output to our stdout (Postgres and Redis only keep theirs in log_file)
    log_file: Path | None = None
    popen_extra: dict[str, Any] = field(default_factory=dict)  # e.g. user/group to drop root for Postgres

    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    started_at: float = field(default=0.0, init=False)
    restart_at: float | None = field(default=None, init=False)  # when a crashed program starts again
    backoff: float = field(default=0.0, init=False)
    quick_failures: int = field(default=0, init=False)  # exits in a row, each soon after starting
    restarts: int = field(default=0, init=False)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES), init=False, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(
        self,
        *,
        say: Callable[[str], None],
        backoff_start: float = 0.5,
        backoff_cap: float = 30.0,
        stable_after: float = 30.0,
        report_after: int = 3,
        output: IO[str] | None = None,
    ) -> None:
        self.say = say
        self.backoff_start = backoff_start
        self.backoff_cap = backoff_cap
        self.stable_after = stable_after  # a program that ran this long crashed once, not in a loop
        self.report_after = report_after
        self.output = output or sys.stdout
        self.programs: list[Program] = []
        self.stopping = False
        self._write_lock = threading.Lock()

    def _say(self, message: str) -> None:
        with self._write_lock:  # one line at a time with the programs' output
            self.say(message)

    # -- starting --------------------------------------------------------------------------------------

    def add(self, program: Program) -> Program:
        """Start `program` now and supervise it from here on."""
        self.programs.append(program)
        self._start(program)
        return program

    def _start(self, program: Program) -> None:
        program.process = subprocess.Popen(
            program.command,
            cwd=program.cwd,
            env=program.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **program.popen_extra,
        )
        program.started_at = time.monotonic()
        program.restart_at = None
        threading.Thread(
            target=self._pump, args=(program, program.process), name=f"output of {program.name}", daemon=True
        ).start()

    def _pump(self, program: Program, process: subprocess.Popen[bytes]) -> None:
        """Copy the program's output line by line, keeping its last lines for a crash report."""
        assert process.stdout is not None
        log = program.log_file.open("ab") if program.log_file else None
        try:
            for raw in process.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                program.tail.append(line)
                if log:
                    log.write(raw)
                    log.flush()
                if program.echo:
                    with self._write_lock:
                        self.output.write(line + "\n")
                        self.output.flush()
        except (OSError, ValueError):
            pass  # our stdout went away (the terminal closed); the program keeps running
        finally:
            if log:
                log.close()

    # -- watching --------------------------------------------------------------------------------------

    def poll(self) -> None:
        """One pass: notice unexpected exits, schedule restarts, start the ones that are due."""
        if self.stopping:
            return
        now = time.monotonic()
        for program in self.programs:
            if program.restart_at is not None:
                if now >= program.restart_at:
                    program.restarts += 1
                    try:
                        self._start(program)
                    except OSError as exc:  # e.g. its program file is gone: try again later, said once more
                        program.backoff = min(self.backoff_cap, program.backoff * 2)
                        program.restart_at = now + program.backoff
                        self._say(f"{program.name} could not start ({exc}); trying again in {program.backoff:g} s")
                continue
            if program.process is None or program.process.poll() is None:
                continue
            self._crashed(program, now)

    def _crashed(self, program: Program, now: float) -> None:
        assert program.process is not None
        code = program.process.returncode
        # Its children (an RQ work-horse, granian workers) would hold the port, the job or the lock.
        kill_session(program.process.pid, signal.SIGKILL)
        ran = now - program.started_at
        if ran >= self.stable_after:
            program.quick_failures, program.backoff = 1, self.backoff_start
        else:
            program.quick_failures += 1
            program.backoff = min(self.backoff_cap, max(self.backoff_start, program.backoff * 2))
        program.restart_at = now + program.backoff
        self._say(
            f"{program.name} exited unexpectedly ({describe_exit(code)}) after {ran:.0f} s; "
            f"restarting in {program.backoff:g} s"
        )
        if program.quick_failures >= self.report_after:
            self._report_crash_loop(program)

    def _report_crash_loop(self, program: Program) -> None:
        time.sleep(0.2)  # let the output thread catch the last lines of the dead process
        lines = "\n".join(f"    | {line}" for line in list(program.tail)[-10:]) or "    | (no output)"
        self._say(
            f"{program.name} keeps crashing ({program.quick_failures} exits in a row, each within "
            f"{self.stable_after:g} s of starting; waits grow to {self.backoff_cap:g} s, the rest keeps running). "
            f"Its last lines:\n{lines}"
        )

    def run(self, until: Callable[[], bool] | None = None, interval: float = 0.2) -> None:
        """Supervise until `until()` is true (or forever); Ctrl-C/SIGTERM end it through KeyboardInterrupt."""
        while until is None or not until():
            self.poll()
            time.sleep(interval)

    # -- stopping --------------------------------------------------------------------------------------

    def stop_all(self) -> None:
        """Stop every program, highest tier first, and whatever each one started. Never raises."""
        self.stopping = True
        for tier in sorted({p.tier for p in self.programs}, reverse=True):
            group = [p for p in self.programs if p.tier == tier]
            for program in group:
                if program.running():
                    assert program.process is not None
                    # The leader only: it stops its own children in order (granian its workers, RQ waits
                    # for the running job); the session sweep below catches whatever is left.
                    try:
                        program.process.send_signal(program.stop_signal)
                    except ProcessLookupError:
                        pass
            for program in group:
                self._wait_stopped(program)

    def _wait_stopped(self, program: Program) -> None:
        if program.process is None:
            return
        try:
            program.process.wait(program.stop_timeout)
        except subprocess.TimeoutExpired:
            self._say(f"{program.name} did not stop within {program.stop_timeout:.0f} s; killing it")
            kill_session(program.process.pid, signal.SIGKILL)
            program.process.wait()
        # Anything it started and left running (an orphaned work-horse) goes too.
        kill_session(program.process.pid, signal.SIGKILL)


def describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def session_members(sid: int) -> list[int]:
    """Every live process in session `sid` (Linux /proc); the session leader's group elsewhere."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name (which may contain spaces): state ppid pgrp session ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 3 and int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def kill_session(sid: int, signum: int) -> None:
    """Signal the session's process group and every process still in the session (children that made
    their own group, like RQ's work-horse, included)."""
    signal_group(sid, signum)
    for pid in session_members(sid):
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass
